"""Split parcels (拆单): one order's lines or quantities in several parcels, each with its own
waybill number and label (e.g. a bulky item apart).

A split is recorded before printing (:func:`split_order`): one pending
:class:`~dadan.core.models.Waybill` per parcel, in order, each holding quantities of the order's
lines (:class:`~dadan.core.models.WaybillItem`); together they hold every line exactly. A waybill
job then prints one label per parcel and takes one number per parcel (its ``package_info``
lists only its items). The order's shipment is confirmed with the FIRST parcel's number (the
order's tracking number is that one); the others are recorded with it — shipped with the order,
shown on its detail and in its history — and never confirmed on their own.

Only an order awaiting shipment, unprinted, unblocked, without a number and not in a merged
parcel can be split; :func:`unsplit` undoes a split whose numbers were never asked for.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Sequence

from dadan.core import audit
from dadan.core.db import database, write
from dadan.core.errors import DadanError, NotFound
from dadan.core.i18n import tr
from dadan.core.models import Order, OrderItem, Waybill, WaybillItem, WaybillOrder, utcnow

OPEN = ("pending", "live", "printed")
# CODE or #LINE, then *N (or ×N, xN: an x only before the closing number, so "A12-XL" is a code)
_SPEC = re.compile(r"^\s*(?P<ref>#?[^*×]+?)\s*(?:(?:[*×]|[xX](?=\s*\d+\s*$))\s*(?P<qty>\d+))?\s*$")


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def split_parcels(order_ids: Sequence[int], states: Sequence[str] = OPEN) -> dict[int, list[Waybill]]:
    """order id -> its split parcels in ``states`` (first parcel first), for split orders."""
    ids = list(order_ids)
    out: dict[int, list[Waybill]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        rows = database().execute_sql(
            f'SELECT DISTINCT wo."order_id", w."id" FROM "waybill_order" wo JOIN "waybill" w ON w."id" = wo."waybill_id" '
            f'JOIN "waybill_item" wi ON wi."waybill_id" = w."id" WHERE wo."order_id" IN ({_marks(len(chunk))}) '
            f'AND w."state" IN ({_marks(len(states))}) ORDER BY w."id"', chunk + list(states)).fetchall()
        if not rows:
            continue
        wbs = {w.id: w for w in Waybill.select().where(Waybill.id.in_([r[1] for r in rows]))}
        for oid, wid in rows:
            out.setdefault(oid, []).append(wbs[wid])
    return out


def is_split(waybill_id: int | None) -> bool:
    return bool(waybill_id) and WaybillItem.select().where(WaybillItem.waybill == waybill_id).exists()


def first_parcel(order_id: int) -> Waybill | None:
    """The first of a split order's parcels that was not recycled (the one its shipment is
    confirmed with); None for an order that is not split."""
    found = split_parcels([order_id], ("pending", "live", "printed", "shipped")).get(order_id)
    return found[0] if found else None


def contents(waybill_id: int | None) -> list[tuple[OrderItem, int]] | None:
    """What a split parcel holds (order line, quantity) in line order; None for a parcel that
    holds all its orders' lines."""
    if not waybill_id:
        return None
    rows = list(WaybillItem.select(WaybillItem, OrderItem).join(OrderItem)
                .where(WaybillItem.waybill == waybill_id).order_by(OrderItem.position, OrderItem.id))
    return [(r.item, r.qty) for r in rows] or None


def parcel_no(w: Waybill) -> tuple[int, int]:
    """(this parcel's place, how many) among its order's split parcels, e.g. (2, 3)."""
    link = WaybillOrder.get_or_none(WaybillOrder.waybill == w.id)
    if link is None:
        return 1, 1
    found = split_parcels([link.order_id], ("pending", "live", "printed", "shipped")).get(link.order_id, [])
    ids = [p.id for p in found]
    return (ids.index(w.id) + 1 if w.id in ids else 1), max(len(ids), 1)


@dataclass
class SplitLine:
    item_id: int
    code: str
    name: str
    qty: int


def _lines(order: Order) -> list[OrderItem]:
    return list(OrderItem.select().where(OrderItem.order == order.id).order_by(OrderItem.position, OrderItem.id))


def _line_of(order: Order, lines: list, ref: str, left: dict[int, int]):
    """The order line a typed code names: its whole merchant code (else platform SKU id), any
    case; or, when no line has that code, the one line whose code starts with it and a "-"
    (``A12`` for ``A12-黑色-XL``). Of several such lines, the first with pieces left."""
    from dadan.core.printing.labels import sku_code

    key = ref.casefold()
    for named in ((it for it in lines if sku_code(it).casefold() == key),
                  (it for it in lines if sku_code(it).casefold().startswith(key + "-"))):
        found = list(named)
        if len({sku_code(it) for it in found}) > 1:
            raise DadanError(tr("{c} names several lines of order {sn} ({all}): write the whole code or #LINE",
                                "{c} 对应订单 {sn} 的多行（{all}）：请写完整编码或 #行号", c=ref, sn=order.order_sn,
                                all=", ".join(dict.fromkeys(sku_code(it) for it in found))))
        if found:
            return next((it for it in found if left[it.id] > 0), found[0])
    raise DadanError(tr("order {sn} has no item {c}", "订单 {sn} 没有商品 {c}", sn=order.order_sn, c=ref))


def parse_parcels(order: Order, specs: Sequence[str]) -> list[dict[int, int]]:
    """``--parcel`` texts -> parcels as {order line id: quantity}. A spec lists lines by SKU code
    (merchant code, else platform SKU id; any case) or line number (``#2``), each with ``*N``
    for part of its quantity (default: all of it), comma-separated: ``"A12*1, #3"``. What the
    specs leave of the order forms one more parcel, last."""
    from dadan.core.printing.labels import sku_code

    lines = _lines(order)
    left = {it.id: it.goods_count for it in lines}
    parcels: list[dict[int, int]] = []
    for spec in specs:
        parcel: dict[int, int] = {}
        for part in [p for p in re.split(r"[,，]", spec) if p.strip()]:
            m = _SPEC.match(part)
            if m is None:
                raise DadanError(tr("cannot read '{p}': write CODE or #LINE, with *N for part of it",
                                    "无法识别“{p}”：请写 商品编码 或 #行号，部分数量加 *N", p=part.strip()))
            ref = m.group("ref").strip()
            if ref.startswith("#"):
                try:
                    it = lines[int(ref[1:]) - 1]
                except (ValueError, IndexError):
                    raise DadanError(tr("order {sn} has no line {r} (it has {n})", "订单 {sn} 没有第 {r} 行（共 {n} 行）",
                                        sn=order.order_sn, r=ref, n=len(lines))) from None
            else:
                it = _line_of(order, lines, ref, left)
            qty = int(m.group("qty")) if m.group("qty") else left[it.id]
            if qty <= 0 or qty > left[it.id]:
                raise DadanError(tr("{c}: {q} asked, {n} left to put in a parcel", "{c}：要 {q} 件，只剩 {n} 件可分",
                                    c=sku_code(it) or ref, q=qty, n=left[it.id]))
            left[it.id] -= qty
            parcel[it.id] = parcel.get(it.id, 0) + qty
        if parcel:
            parcels.append(parcel)
    rest = {i: q for i, q in left.items() if q > 0}
    if rest:
        parcels.append(rest)
    return parcels


def parse_text(order: Order, text: str) -> list[dict[int, int]]:
    """One line typed at the desk -> parcels: :func:`parse_parcels` of its ``;``-separated specs
    (``"A12*1; #3"``: A12 ×1 in the first parcel, line 3 in the second, the rest in a third)."""
    return parse_parcels(order, [p for p in re.split(r"[;；]", text) if p.strip()])


def _refusal(order: Order) -> str:
    from dadan.core.orders.rules import blocked_reason
    from dadan.core.waybills.merge import shared_parcels
    from dadan.core.waybills.parcels import NUMBERED, parcels_by_order

    why = blocked_reason(order)
    if why:
        return why
    if order.order_status != 1 or order.state != "new":
        return tr("it is not awaiting shipment", "不是待发货订单")
    if order.print_count:
        return tr("it was printed already", "已打印过")
    if order.tracking_number:
        return tr("it has a tracking number already ({t})", "已有运单号（{t}）", t=order.tracking_number)
    if shared_parcels([order.id]):
        return tr("it rides in a merged parcel", "已在合单包裹中")
    mine = parcels_by_order([order.id], ("pending", "live", "printed")).get(order.id, [])
    if any(w.state in NUMBERED or w.attempts for w in mine):
        return tr("a number was asked for it already", "已为其取过号")
    return ""


def split_order(order_id: int, parcels: Sequence[dict[int, int]], *, actor: str,
                courier: str | None = None) -> list[Waybill]:
    """Split the order into these parcels ({order line id: quantity} each, in order; together
    exactly the order's lines). Replaces an earlier split not yet numbered. ``courier``
    (wp_code): default the shop's default courier. Audited."""
    from dadan.core.waybills import accounts

    with write():
        order = Order.get_or_none(Order.id == order_id)
        if order is None:
            raise NotFound(tr("no order with id {i}", "没有 id 为 {i} 的订单", i=order_id))
        why = _refusal(order)
        if why:
            raise DadanError(tr("order {sn} cannot be split: {w}", "订单 {sn} 不能拆单：{w}", sn=order.order_sn, w=why))
        parcels = [{int(k): int(v) for k, v in p.items() if int(v) > 0} for p in parcels]
        parcels = [p for p in parcels if p]
        if len(parcels) < 2:
            raise DadanError(tr("a split needs at least two parcels", "拆单至少要两个包裹"))
        lines = {it.id: it for it in _lines(order)}
        total: dict[int, int] = {}
        for p in parcels:
            for i, q in p.items():
                if i not in lines:
                    raise DadanError(tr("line {i} is not a line of order {sn}", "第 {i} 行不属于订单 {sn}", i=i,
                                        sn=order.order_sn))
                total[i] = total.get(i, 0) + q
        wrong = [it for i, it in lines.items() if total.get(i, 0) != it.goods_count]
        if wrong:
            it = wrong[0]
            raise DadanError(tr("the parcels hold {a} of {c}, the order {b}: every piece goes in exactly one parcel",
                                "各包裹共有 {c} {a} 件，订单为 {b} 件：每件商品须恰好在一个包裹中",
                                a=total.get(it.id, 0), c=it.outer_id or it.sku_id or it.goods_name, b=it.goods_count))
        wp = (courier or "").strip().upper()
        if not wp:
            acc = accounts.default_account(order.shop_id)
            wp = acc.wp_code if acc is not None else ""
        if not wp:
            raise DadanError(tr("the shop has no e-waybill account to split the order's parcels with",
                                "店铺没有电子面单账号，无法拆单"))
        _drop_unasked(order.id, actor)
        now = utcnow()
        made = []
        for p in parcels:
            w = Waybill.create(shop=order.shop_id, wp_code=wp, object_id=f"dd{uuid.uuid4().hex}",
                               package_id=uuid.uuid4().hex[:16], state="pending", created_at=now, created_by=actor)
            WaybillOrder.insert(waybill=w.id, order=order.id).execute()
            WaybillItem.insert_many([{"waybill": w.id, "item": i, "qty": q} for i, q in p.items()]).execute()
            made.append(w)
        desc = [" + ".join(f"{lines[i].outer_id or lines[i].sku_id or lines[i].goods_name}×{q}" for i, q in p.items())
                for p in parcels]
        audit.record("split", actor=actor, order_id=order.id, detail={"parcels": desc, "wp_code": wp})
        audit.order_event(order.id, "waybill", tr("split into {n} parcels: {d}", "拆为 {n} 个包裹：{d}", n=len(made),
                                                  d=" | ".join(desc)))
        return made


def _drop_unasked(order_id: int, actor: str) -> int:
    """Close the order's parcels no number was asked for (an earlier split, a job's parcel)."""
    old = [w.id for w in Waybill.select(Waybill.id).join(WaybillOrder, on=(WaybillOrder.waybill == Waybill.id))
           .where((WaybillOrder.order == order_id) & (Waybill.state == "pending") & (Waybill.attempts == 0))]
    if old:
        Waybill.update(state="cancelled", cancelled_at=utcnow(), cancelled_by=actor,
                       cancel_reason=tr("split again", "重新拆单")).where(Waybill.id.in_(old)).execute()
    return len(old)


def unsplit(order_id: int, *, actor: str) -> int:
    """Undo a split whose numbers were never asked for (the order prints as one parcel again).
    Returns how many parcels were closed."""
    with write():
        order = Order.get_or_none(Order.id == order_id)
        if order is None:
            raise NotFound(tr("no order with id {i}", "没有 id 为 {i} 的订单", i=order_id))
        found = split_parcels([order_id]).get(order_id, [])
        if not found:
            raise DadanError(tr("order {sn} is not split", "订单 {sn} 没有拆单", sn=order.order_sn))
        if any(w.state != "pending" or w.attempts for w in found):
            raise DadanError(tr("order {sn}: its parcels have numbers; recycle them first (dadan waybills cancel)",
                                "订单 {sn} 的包裹已有单号；请先回收（dadan waybills cancel）", sn=order.order_sn))
        n = _drop_unasked(order_id, actor)
        audit.record("unsplit", actor=actor, order_id=order_id, detail={"parcels": n})
        audit.order_event(order_id, "waybill", tr("split undone", "已取消拆单"))
        return n
