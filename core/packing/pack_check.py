"""Pack check (验货) at the bench: scan a parcel's waybill (or its packing slip), then every item.

:func:`start` finds the parcel (a :class:`~dadan.core.models.Waybill` holding a number, ``live``
or ``printed``) by its waybill number, or by an order number on its packing slip, and lists
what it must hold: its orders' lines (:class:`~dadan.core.models.OrderItem`), one line per SKU
(the merchant code, else the platform's SKU id, as the stock ledger matches them), with the
catalogue's name and barcodes. Refused at once, with the reason: a parcel packed already, one
shipped or recycled, an order without a parcel, and a parcel with a blocked order (any
exception flag).

:func:`scan` counts one item per scan (``12*barcode`` counts 12): a barcode or a merchant code
that matches a SKU of the parcel. Refused, with an alarm and NOTHING changed: a wrong item (not
in this parcel), an extra item (its line is complete), and an item or a waybill of another open
parcel (named: the parcel of the same split order holding it, else the only open one; several
such parcels: none named). The check's progress lives in memory (the screen's); when the last
item is in, the parcel is packed in one transaction (:func:`finish`): a
:class:`~dadan.core.packing.models.PackRecord` (who, when, items, overrides), an audit event and,
with the setting ``packing.on_packed = "ship"``, its orders' shipments confirmed with the
waybill's number (:func:`dadan.core.waybills.shipping.ship_on_print`'s path:
:func:`dadan.core.shipping.outbox.assign_tracking`). A parcel is packed once: the record is
unique per parcel.

:func:`override` counts an item without a barcode (or whose barcode will not scan) on a
supervisor's word: a reason is required, and the override is audited at once and kept in the
pack record.

Scan first, print after (``packing.on_packed = "print"``, passed to :func:`start`): at a bench
that packs before the courier label exists, the packing slip's order number of an order with NO
numbered parcel starts a check over that order's lines — or, when the order is already in an
open parcel without a number (a ``pending`` :class:`~dadan.core.models.Waybill`, perhaps merged),
over every order of that parcel. Refused: a blocked order, a shipped one, one packed already,
one waiting in a print job, one printed without a parcel to scan (an order printed with a live
parcel takes the normal path: its waybill is checked). Such a check has no waybill yet
(``waybill_id`` None, :attr:`PackCheck.print_after`). Its last item, in one transaction,
records the pack (keyed by the first order, :class:`~dadan.core.packing.models.PackRecord`) and
queues the parcel's label with :func:`dadan.core.printing.queue.create_job` on the printer and
template the caller names (the screen: the default printer's); the print worker takes the
number, never this module. When the job is refused (:class:`~dadan.core.printing.plan.PrintRefused`:
no courier account, ...), nothing is recorded and the last scan is an alarm with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from dadan.core import audit
from dadan.core.db import database, write
from dadan.core.errors import DadanError
from dadan.core.goods import catalogue
from dadan.core.goods.catalogue import code_key
from dadan.core.goods.ledger import LINE_CODE_SQL
from dadan.core.goods.models import Goods, GoodsBarcode
from dadan.core.i18n import tr
from dadan.core.models import Order, OrderItem, Waybill, utcnow
from dadan.core.orders.rules import blocked_reason, has_shipped
from dadan.core.packing.models import PackRecord
from dadan.core.shipping.scan import normalise, shipped_by_split
from dadan.core.timeutil import DEFAULT_TZ, fmt_local
from dadan.core.waybills.parcels import NUMBERED, by_code, orders_of, parcels_by_order
from dadan.core.waybills.split import is_split

ON_PACKED = ("nothing", "ship", "print")
ALARMS = ("wrong", "extra", "other_parcel", "unknown", "blocked", "already_packed", "not_open", "no_parcel",
          "zero", "no_reason", "empty", "not_printed")


def parse_scan(text: str) -> tuple[int | None, str]:
    """:func:`dadan.core.goods.catalogue.parse_scan`, a lone code normalised as scan to ship reads
    waybill numbers (a parcel's waybill or slip may be scanned here too)."""
    qty, code = catalogue.parse_scan(text)
    return (qty, code) if qty is not None else (None, normalise(text))


@dataclass
class Line:
    """One SKU the parcel must hold."""

    key: str  # the code key (lower case): what scans match
    code: str  # the merchant code (else the SKU id) as the order line gives it
    name: str
    spec: str
    expected: int
    scanned: int = 0
    barcodes: tuple[str, ...] = ()

    @property
    def missing(self) -> int:
        return self.expected - self.scanned


@dataclass
class PackCheck:
    """A parcel being checked: its lines and what was scanned (in memory until packed). Packed
    before its label prints (:attr:`print_after`), it has no waybill yet: ``waybill_id`` is None,
    ``parcel_id`` its open parcel without a number (if any), and ``print_job`` the job that
    prints its label once packed."""

    waybill_id: int | None
    waybill_code: str
    wp_code: str
    orders: list[tuple[int, str]]  # (order id, order_sn)
    lines: list[Line]
    overrides: list[dict] = field(default_factory=list)
    packed: bool = False
    print_after: bool = False
    parcel_id: int | None = None
    print_job: int | None = None
    tz: str = DEFAULT_TZ  # the warehouse's, for the time a parcel packed meanwhile was packed

    @property
    def name(self) -> str:
        """What the bench calls this parcel: its waybill number, else its orders."""
        if self.waybill_code:
            return self.waybill_code
        return tr("order {o}", "订单 {o}", o="+".join(self.order_sns()) or "?")

    @property
    def target(self) -> str:
        """The audit target."""
        return f"waybill:{self.waybill_code}" if self.waybill_code else f"order:{'+'.join(self.order_sns())}"

    def line(self, key: str) -> Line | None:
        return next((ln for ln in self.lines if ln.key == key), None)

    def missing(self) -> list[Line]:
        return [ln for ln in self.lines if ln.missing > 0]

    @property
    def expected(self) -> int:
        return sum(ln.expected for ln in self.lines)

    @property
    def scanned(self) -> int:
        return sum(ln.scanned for ln in self.lines)

    @property
    def complete(self) -> bool:
        return all(ln.missing <= 0 for ln in self.lines)

    def order_sns(self) -> list[str]:
        return [sn for _i, sn in self.orders]


@dataclass(frozen=True)
class PackOutcome:
    ok: bool
    kind: str  # started | counted | packed | same | ALARMS
    message: str
    code: str = ""
    qty: int = 0
    shipped: int = 0  # orders whose shipment was confirmed on packing
    job: int = 0  # packed before printing: the print job queued for its label

    @property
    def alarm(self) -> bool:
        """A loud alarm (colour, crosses, bell): the item must not go in, or the parcel not on."""
        return self.kind in ALARMS


def _packed_note(rec: PackRecord, tz: str) -> str:
    what = rec.waybill_code or tr("order {o}", "订单 {o}", o=rec.order_sns.replace(" ", "+"))
    note = tr("parcel {w} was packed already by {a} at {t}", "包裹 {w} 已于 {t} 由 {a} 验货",
              w=what, a=rec.actor or "?", t=fmt_local(rec.packed_at, tz) if rec.packed_at else "?")
    if rec.print_job:
        note += tr(" (label in print job #{j})", "（面单在打印任务 #{j}）", j=rec.print_job)
    return note


def _find_parcel(code: str) -> tuple[Waybill | None, Order | None]:
    """The parcel a scanned waybill number or packing slip (order number) names, and the order
    of the slip (None for a waybill)."""
    for c in dict.fromkeys((code, code.upper())):
        w = by_code(c)
        if w is not None:
            return w, None
    for c in dict.fromkeys((code, code.upper())):
        o = Order.select().where(Order.order_sn == c).order_by(Order.id).first()
        if o is not None:
            found = parcels_by_order([o.id]).get(o.id, [])
            numbered = [w for w in found if w.state in NUMBERED]
            if len(numbered) > 1:  # a split order's slip: its first parcel not packed yet
                packed_ids = {r.waybill_id for r in PackRecord.select(PackRecord.waybill)
                              .where(PackRecord.waybill.in_([w.id for w in numbered]))}
                numbered = [w for w in numbered if w.id not in packed_ids][:1] or numbered
            return (numbered or found or [None])[-1], o
    return None, None


def _refusal(w: Waybill, tz: str) -> PackOutcome | None:
    """Why this parcel cannot be checked now, or None."""
    rec = PackRecord.get_or_none(PackRecord.waybill == w.id) or _order_record([o.id for o in orders_of(w.id)])
    if rec is not None:
        return PackOutcome(False, "already_packed", tr("ALREADY PACKED: ", "已验货：") + _packed_note(rec, tz), w.code)
    # (a split order's parcel marked shipped when another of its parcels shipped the order: still checked)
    if w.state not in NUMBERED and not (w.state == "shipped" and is_split(w.id)):
        why = {"cancelled": tr("its number was recycled (cancelled): do not pack it", "单号已回收（取消）：请勿打包"),
               "shipped": tr("it was shipped already", "已经发货"),
               "pending": tr("it has no number yet: print it first", "还没有单号：请先打印")}.get(w.state, w.state)
        return PackOutcome(False, "not_open", tr("NOT PACKABLE: parcel {w}: {why}", "不能验货：包裹 {w}：{why}",
                                                 w=w.code or w.id, why=why), w.code)
    for o in orders_of(w.id):
        why = blocked_reason(o)
        if why:
            return PackOutcome(False, "blocked", tr("DO NOT PACK {sn}: {why}", "禁止打包 {sn}：{why}", sn=o.order_sn,
                                                    why=why), w.code)
    return None


def _lines(order_ids: list[int], waybill_id: int | None = None) -> list[Line]:
    """The parcel's lines, one per SKU, in the order lines' order, with the catalogue's names
    and barcodes (a split order's parcel: only what it holds)."""
    from dadan.core.waybills.split import contents

    lines: dict[str, Line] = {}
    held = contents(waybill_id)
    if held is None:
        held = [(it, it.goods_count) for it in OrderItem.select().where(OrderItem.order.in_(order_ids))
                .order_by(OrderItem.order, OrderItem.position, OrderItem.id)]
    for it, qty in held:
        code = (it.outer_id or "").strip() or (it.sku_id or "").strip()
        key = code_key(code) if code else f"~{it.goods_name}"  # no code: only an override counts it
        if qty <= 0:
            continue
        ln = lines.get(key)
        if ln is None:
            ln = lines[key] = Line(key, code or "—", it.goods_name or "", it.goods_spec or "", 0)
        ln.expected += qty
    keys = [k for k in lines if not k.startswith("~")]
    if keys:
        goods = {g.code_key: g for g in Goods.select().where(Goods.code_key.in_(keys))}
        codes: dict[int, list[str]] = {}
        for b, gid in (GoodsBarcode.select(GoodsBarcode.barcode, GoodsBarcode.goods)
                       .where(GoodsBarcode.goods.in_([g.id for g in goods.values()])).tuples()):
            codes.setdefault(gid, []).append(b)
        for k, g in goods.items():
            ln = lines[k]
            ln.name = g.name or ln.name
            ln.spec = g.spec or ln.spec
            ln.barcodes = tuple(sorted(codes.get(g.id, [])))
    return list(lines.values())


def _order_record(order_ids: list[int]) -> PackRecord | None:
    """The pack record made before printing for one of these orders, if any."""
    return PackRecord.select().where(PackRecord.order.in_(order_ids)).first() if order_ids else None


def _print_after_refusal(orders: list[Order], parcel: Waybill | None, tz: str) -> PackOutcome | None:
    """Why these orders (one parcel without a number) cannot be packed before printing, or None."""
    from dadan.core.printing.plan import queued_in

    rec = (PackRecord.get_or_none(PackRecord.waybill == parcel.id) if parcel is not None else None) or \
        _order_record([o.id for o in orders])
    name = "+".join(o.order_sn for o in orders)
    if rec is not None:
        return PackOutcome(False, "already_packed", tr("ALREADY PACKED: ", "已验货：") + _packed_note(rec, tz), name)
    for o in orders:
        why = blocked_reason(o)
        if why:
            return PackOutcome(False, "blocked", tr("DO NOT PACK {sn}: {why}", "禁止打包 {sn}：{why}", sn=o.order_sn,
                                                    why=why), name)
        if has_shipped(o):
            return PackOutcome(False, "not_open", tr("NOT PACKABLE: order {sn} was shipped already",
                                                     "不能验货：订单 {sn} 已经发货", sn=o.order_sn), name)
        if o.print_count > 0:
            return PackOutcome(False, "no_parcel", tr(
                "NO PARCEL: order {sn} was printed without a parcel to scan; pack it by its waybill",
                "没有包裹：订单 {sn} 已打印但没有可扫描的包裹；请扫描其面单验货", sn=o.order_sn), name)
    queued = queued_in([o.id for o in orders])
    if queued:
        oid, jid = next(iter(queued.items()))
        sn = next(o.order_sn for o in orders if o.id == oid)
        return PackOutcome(False, "not_open", tr(
            "NOT PACKABLE YET: order {sn} is waiting in print job #{j}; pack it by its waybill once printed",
            "暂不能验货：订单 {sn} 仍在打印任务 #{j} 中等待；打印后请扫描面单验货", sn=sn, j=jid), name)
    return None


def _start_print_after(slip: Order, tz: str) -> tuple[PackCheck | None, PackOutcome]:
    """Scan first, print after: a check over the slip's order (or its open parcel's orders),
    which has no number yet."""
    found = parcels_by_order([slip.id], ("pending",)).get(slip.id, [])
    parcel = found[-1] if found else None
    orders = orders_of(parcel.id) if parcel is not None else [slip]
    refusal = _print_after_refusal(orders, parcel, tz)
    if refusal is not None:
        return None, refusal
    check = PackCheck(None, "", parcel.wp_code if parcel is not None else "", [(o.id, o.order_sn) for o in orders],
                      _lines([o.id for o in orders]), print_after=True,
                      parcel_id=parcel.id if parcel is not None else None, tz=tz)
    if not check.lines:
        return None, PackOutcome(False, "empty", tr("{w} lists no items to check", "{w} 没有可验的商品",
                                                    w=check.name), slip.order_sn)
    return check, PackOutcome(True, "started", tr(
        "{w} (label prints on the last scan): scan its {n} item(s)", "{w}（最后一件扫完即打印面单）：请扫描 {n} 件商品",
        w=check.name, n=check.expected), slip.order_sn)


def _check_on_packed(on_packed: str) -> None:
    if on_packed not in ON_PACKED:
        raise DadanError(tr("packing.on_packed must be one of {c}", "packing.on_packed 必须是 {c} 之一",
                            c=", ".join(ON_PACKED)))


def start(code: str, *, on_packed: str = "nothing", tz: str = DEFAULT_TZ) -> tuple[PackCheck | None, PackOutcome]:
    """Begin checking the parcel a scanned waybill number or packing slip names; (None, the
    refusal) when it cannot be checked. With ``on_packed = "print"`` a packing slip of an order
    without a numbered parcel starts a check before printing (:func:`_start_print_after`). Reads
    only. ``tz``: the warehouse's time zone (the time a parcel packed already was packed)."""
    _check_on_packed(on_packed)
    code = normalise(code)
    w, slip = _find_parcel(code)
    if on_packed == "print" and slip is not None and (w is None or w.state not in NUMBERED):
        return _start_print_after(slip, tz)
    if w is None:
        if slip is not None:
            return None, PackOutcome(False, "no_parcel", tr("NO PARCEL: order {sn} has no printed parcel",
                                                            "没有包裹：订单 {sn} 还没有打印的包裹", sn=slip.order_sn), code)
        if catalogue.find(code) is not None:
            return None, PackOutcome(False, "unknown", tr("NO PARCEL YET: {c} is an item; scan the parcel's waybill "
                                                          "or packing slip first", "还没有包裹：{c} 是商品；请先扫描包裹的"
                                                          "面单或发货单", c=code), code)
        return None, PackOutcome(False, "unknown", tr("UNKNOWN: no parcel or order has the code {c}",
                                                      "未知：没有包裹或订单的单号是 {c}", c=code or "∅"), code)
    refusal = _refusal(w, tz)
    if refusal is not None:
        return None, refusal
    orders = orders_of(w.id)
    check = PackCheck(w.id, w.code, w.wp_code, [(o.id, o.order_sn) for o in orders],
                      _lines([o.id for o in orders], w.id), tz=tz)
    if not check.lines:
        return None, PackOutcome(False, "empty", tr("parcel {w} lists no items to check", "包裹 {w} 没有可验的商品",
                                                    w=w.code), w.code)
    return check, PackOutcome(True, "started", tr("Parcel {w}: scan its {n} item(s)", "包裹 {w}：请扫描 {n} 件商品",
                                                  w=w.code, n=check.expected), w.code)


def _match(check: PackCheck, code: str) -> tuple[Line | None, str]:
    """The parcel's line a scanned barcode or merchant code names, and the code key it names
    ("" when nothing in the catalogue or the parcel has it)."""
    g = catalogue.find(code)
    keys = ([g.code_key] if g is not None else []) + [code_key(code)]
    for k in keys:
        ln = check.line(k)
        if ln is not None:
            return ln, k
    return None, keys[0] if g is not None else ""


def _sibling_parcel(check: PackCheck, key: str) -> tuple[Waybill, int, int] | None:
    """Another parcel of the checked parcel's split order (拆单) that holds this SKU: (the parcel,
    its place, how many), e.g. (parcel, 1, 2); None when no parcel of the order holds it."""
    from dadan.core.waybills.split import contents, parcel_no, split_parcels

    if not check.waybill_id:
        return None
    found = split_parcels([i for i, _sn in check.orders], ("pending", "live", "printed", "shipped"))
    for w in (w for mine in found.values() for w in mine if w.id != check.waybill_id):
        for it, qty in contents(w.id) or []:
            code = (it.outer_id or "").strip() or (it.sku_id or "").strip()
            if qty > 0 and code and code_key(code) == key:
                return (w, *parcel_no(w))
    return None


def _other_parcels(check: PackCheck, key: str) -> list[tuple[str, str]]:
    """(waybill number, order number) of the other open, unpacked parcels holding this SKU (a
    split parcel: only if it holds it, not merely its order), the first two: enough to tell one
    from several."""
    rows = database().execute_sql(
        f'SELECT w."id", w."code", MIN(o."order_sn") FROM "waybill" w '
        f'JOIN "waybill_order" wo ON wo."waybill_id" = w."id" JOIN "order" o ON o."id" = wo."order_id" '
        f'JOIN "order_item" i ON i."order_id" = o."id" '
        f'WHERE w."state" IN (?, ?) AND w."id" != ? AND {LINE_CODE_SQL} = ? '
        f'AND NOT EXISTS (SELECT 1 FROM "pack_record" p WHERE p."waybill_id" = w."id") '
        f'AND (NOT EXISTS (SELECT 1 FROM "waybill_item" x WHERE x."waybill_id" = w."id") '
        f'OR EXISTS (SELECT 1 FROM "waybill_item" x WHERE x."waybill_id" = w."id" AND x."item_id" = i."id" '
        f'AND x."qty" > 0)) '
        f'GROUP BY w."id" ORDER BY w."id" LIMIT 2', (*NUMBERED, check.waybill_id or 0, key)).fetchall()
    return [(r[1], r[2]) for r in rows]


def _not_here(check: PackCheck, code: str, key: str, qty: int) -> PackOutcome | None:
    """The alarm for an item this parcel does not hold but another parcel does: a parcel of the
    same split order (named), else the one open parcel holding it (named), else, when several
    hold it, none named. None when no parcel holds it."""
    sibling = _sibling_parcel(check, key)
    if sibling is not None:
        w, no, of = sibling
        return PackOutcome(False, "other_parcel", tr(
            "ITEM OF ANOTHER PARCEL: {c} belongs to parcel {w} of the same order ({no}/{of}), not {me}",
            "其他包裹的商品：{c} 属于同一订单的包裹 {w}（{no}/{of}），不是 {me}", c=code, w=w.code or w.id, no=no,
            of=of, me=check.name), code, qty)
    others = _other_parcels(check, key)
    if len(others) == 1:
        return PackOutcome(False, "other_parcel", tr(
            "ITEM OF ANOTHER PARCEL: {c} belongs to parcel {w} (order {sn}), not {me}",
            "其他包裹的商品：{c} 属于包裹 {w}（订单 {sn}），不是 {me}", c=code, w=others[0][0], sn=others[0][1],
            me=check.name), code, qty)
    if others:
        return PackOutcome(False, "other_parcel", tr(
            "ITEM OF ANOTHER PARCEL: {c} is not in parcel {me} (several other open parcels hold it)",
            "其他包裹的商品：{c} 不在包裹 {me} 中（另有多个包裹含此商品）", c=code, me=check.name), code, qty)
    return None


def scan(check: PackCheck, text: str, *, actor: str, on_packed: str = "nothing", printer: str = "",
         template: str = "") -> PackOutcome:
    """One scan while ``check`` is open: counts the item (or ``12*code``: 12), or refuses with
    an alarm and changes nothing; the last item packs the parcel (:func:`finish`)."""
    qty, code = parse_scan(text)
    if check.packed:
        return PackOutcome(False, "already_packed", tr("ALREADY PACKED: parcel {w}", "已验货：包裹 {w}",
                                                       w=check.name), code)
    if not code:
        return PackOutcome(False, "unknown", tr("nothing scanned", "没有扫到内容"), code)
    if qty == 0:
        return PackOutcome(False, "zero", tr("a quantity of 0 counts nothing", "数量为 0，未计数"), code)
    qty = qty or 1
    if qty == 1 and code in (check.waybill_code, *check.order_sns()):
        return PackOutcome(True, "same", tr("Parcel {w} is being checked: scan its items",
                                            "正在验包裹 {w}：请扫描商品", w=check.name), code)
    line, key = _match(check, code)
    if line is None:
        elsewhere = _not_here(check, code, key, qty) if key else None
        if elsewhere is not None:
            return elsewhere
        w, slip = _find_parcel(code)
        if w is None and slip is not None:
            return PackOutcome(False, "other_parcel", tr(
                "ANOTHER ORDER: {c} is the slip of order {sn}; finish {me} first (Esc abandons it)",
                "其他订单：{c} 是订单 {sn} 的发货单；请先验完 {me}（Esc 放弃）", c=code, sn=slip.order_sn, me=check.name),
                code, qty)
        if w is not None:
            return PackOutcome(False, "other_parcel", tr(
                "ANOTHER PARCEL: {c} is parcel {w}; finish {me} first (Esc abandons it)",
                "其他包裹：{c} 是包裹 {w}；请先验完 {me}（Esc 放弃）", c=code, w=w.code or w.id, me=check.name),
                code, qty)
        return PackOutcome(False, "wrong", tr("WRONG ITEM: {c} is not in parcel {me}", "错误商品：{c} 不在包裹 {me} 中",
                                              c=code, me=check.name), code, qty)
    if line.scanned + qty > line.expected:
        return PackOutcome(False, "extra", tr(
            "EXTRA ITEM: {c} — {e} expected, {s} scanned already", "多出商品：{c} — 应有 {e} 件，已扫 {s} 件",
            c=line.code, e=line.expected, s=line.scanned), line.code, qty)
    line.scanned += qty
    if check.complete:
        done = finish(check, actor=actor, on_packed=on_packed, printer=printer, template=template)
        if not done.ok:
            line.scanned -= qty  # nothing changes
        return done
    return PackOutcome(True, "counted", tr("✔ {c} {s}/{e} · {m} item(s) still missing",
                                           "✔ {c} {s}/{e} · 还缺 {m} 件", c=line.code, s=line.scanned,
                                           e=line.expected, m=check.expected - check.scanned), line.code, qty)


def override(check: PackCheck, code: str, reason: str, *, actor: str, qty: int = 1,
             on_packed: str = "nothing", printer: str = "", template: str = "") -> PackOutcome:
    """A supervisor counts ``qty`` of the line ``code`` (its merchant code, as listed) without a
    scan, for ``reason`` (required): audited at once, kept in the pack record; the last item
    packs the parcel. An extra or unknown line is refused, nothing changed."""
    reason = (reason or "").strip()
    if not reason:
        return PackOutcome(False, "no_reason", tr("an override needs a reason", "手工确认需要填写原因"), code)
    key = code_key(code)
    line = check.line(key) or next((ln for ln in check.lines if ln.code == code), None)
    if line is None:
        return PackOutcome(False, "wrong", tr("WRONG ITEM: {c} is not in parcel {me}", "错误商品：{c} 不在包裹 {me} 中",
                                              c=code, me=check.name), code, qty)
    if qty <= 0 or line.scanned + qty > line.expected:
        return PackOutcome(False, "extra", tr(
            "EXTRA ITEM: {c} — {e} expected, {s} scanned already", "多出商品：{c} — 应有 {e} 件，已扫 {s} 件",
            c=line.code, e=line.expected, s=line.scanned), line.code, qty)
    with write():
        audit.record("pack_override", actor=actor, target=check.target, reason=reason,
                     order_id=check.orders[0][0] if check.orders else None,
                     detail={"code": line.code, "qty": qty, "orders": check.order_sns()})
    check.overrides.append({"code": line.code, "qty": qty, "reason": reason, "actor": actor})
    line.scanned += qty
    if check.complete:
        done = finish(check, actor=actor, on_packed=on_packed, printer=printer, template=template)
        if not done.ok:
            line.scanned -= qty
            check.overrides.pop()
        return done
    return PackOutcome(True, "counted", tr("✔ {c} {s}/{e} by override ({r})", "✔ {c} {s}/{e}（手工确认：{r}）",
                                           c=line.code, s=line.scanned, e=line.expected, r=reason), line.code, qty)


def _finish_print_after(check: PackCheck, *, actor: str, printer: str, template: str) -> PackOutcome:
    """Packed before printing, in one transaction: the record (keyed by the first order) and the
    label's print job (:func:`dadan.core.printing.queue.create_job`, which may refuse: then
    nothing is written)."""
    from dadan.core.models import PrintItem
    from dadan.core.printing.plan import PrintRefused
    from dadan.core.printing.queue import create_job
    from dadan.printers.errors import TemplateError

    if not printer or not template:
        return PackOutcome(False, "not_printed", tr("NOT PACKED: no printer to print its label on",
                                                    "未验货：没有可打印面单的打印机"), check.name)
    from dadan.core.operators import PermissionDenied, require

    try:
        require(actor, "print", what=f"pack {check.name}")
    except PermissionDenied as exc:
        return PackOutcome(False, "not_printed", exc.message, check.name)
    ids = [i for i, _sn in check.orders]
    with write():
        orders = sorted((Order.get_or_none(Order.id == i) for i in ids), key=lambda o: o.id if o else 0)
        if any(o is None for o in orders):
            return PackOutcome(False, "not_open", tr("{w} is gone", "{w} 已不存在", w=check.name), check.name)
        parcel = Waybill.get_or_none(Waybill.id == check.parcel_id) if check.parcel_id else None
        if parcel is not None and parcel.state != "pending":
            return PackOutcome(False, "not_open", tr(
                "NOT PACKED: its parcel changed meanwhile ({s}): scan it again", "未验货：包裹已变化（{s}）：请重新扫描",
                s=parcel.state), check.name)
        refusal = _print_after_refusal(orders, parcel, check.tz)
        if refusal is not None:
            return refusal
        try:
            job = create_job(ids, printer=printer, template=template, actor=actor)
        except (PrintRefused, TemplateError) as exc:
            return PackOutcome(False, "not_printed", tr(
                "NOT PACKED: its label cannot print: {why}", "未验货：面单无法打印：{why}", why=exc.message), check.name)
        made = {w for (w,) in PrintItem.select(PrintItem.waybill).where(PrintItem.job == job.id).tuples() if w}
        items = [{"code": ln.code, "qty": ln.scanned} for ln in check.lines]
        PackRecord.create(waybill=next(iter(made)) if len(made) == 1 else None, order=orders[0].id, waybill_code="",
                          order_sns=" ".join(o.order_sn for o in orders), actor=actor, packed_at=utcnow(),
                          items=json.dumps(items, ensure_ascii=False), print_job=job.id,
                          overrides=json.dumps(check.overrides, ensure_ascii=False) if check.overrides else "")
        audit.record("pack", actor=actor, target=check.target, order_id=orders[0].id,
                     detail={"orders": [o.order_sn for o in orders], "items": sum(i["qty"] for i in items),
                             "overrides": len(check.overrides), "print_job": job.id, "printer": printer})
    check.packed, check.print_job = True, job.id
    return PackOutcome(True, "packed", tr("✔ PACKED {w} · {n} item(s) · label queued in job #{j}",
                                          "✔ 已验货 {w} · {n} 件 · 面单已排入打印任务 #{j}", w=check.name,
                                          n=check.scanned, j=job.id), check.name, job=job.id)


def finish(check: PackCheck, *, actor: str, on_packed: str = "nothing", printer: str = "",
           template: str = "") -> PackOutcome:
    """The parcel is complete: packed, in one transaction (record, audit, and with ``on_packed
    = "ship"`` its shipments queued with the waybill's number). Refused, nothing written, when
    it was packed meanwhile, left its printed state or an order became blocked. A check begun
    before printing (:attr:`PackCheck.print_after`) queues its label on ``printer`` with
    ``template`` instead (:func:`_finish_print_after`)."""
    from dadan.core.waybills.shipping import note_parcel_shipped, ship_parcel

    _check_on_packed(on_packed)
    if not check.complete:
        return PackOutcome(False, "not_open", tr("{n} item(s) still missing", "还缺 {n} 件",
                                                 n=check.expected - check.scanned), check.name)
    if check.print_after:
        return _finish_print_after(check, actor=actor, printer=printer, template=template)
    shipped, notes = 0, []
    with write():
        w = Waybill.get_or_none(Waybill.id == check.waybill_id)
        refusal = _refusal(w, check.tz) if w is not None else PackOutcome(False, "not_open", tr(
            "parcel {w} is gone", "包裹 {w} 已不存在", w=check.name), check.waybill_code)
        if refusal is not None:
            return refusal
        orders = orders_of(w.id)
        items = [{"code": ln.code, "qty": ln.scanned} for ln in check.lines]
        PackRecord.create(waybill=w.id, waybill_code=w.code, order_sns=" ".join(o.order_sn for o in orders),
                          actor=actor, packed_at=utcnow(), items=json.dumps(items, ensure_ascii=False),
                          overrides=json.dumps(check.overrides, ensure_ascii=False) if check.overrides else "")
        audit.record("pack", actor=actor, target=f"waybill:{w.code}", order_id=orders[0].id if orders else None,
                     detail={"orders": [o.order_sn for o in orders], "items": sum(i["qty"] for i in items),
                             "overrides": len(check.overrides)})
        if on_packed == "ship":
            for o in orders:
                if has_shipped(o):
                    if shipped_by_split(o) and w.state in NUMBERED:  # a further parcel leaves with its order
                        note_parcel_shipped(w, o.id, actor=actor)
                    continue
                try:
                    with write():  # a savepoint: a refusal leaves the pack standing
                        ship_parcel(o, w, actor=actor)
                    shipped += 1
                except DadanError as exc:
                    notes.append(f"{o.order_sn}: {exc.message}")
                    audit.order_event(o.id, "ship", tr("not confirmed on packing: {w}", "验货时未回传发货：{w}",
                                                       w=exc.message))
    check.packed = True
    msg = tr("✔ PACKED {w} · {n} item(s)", "✔ 已验货 {w} · {n} 件", w=check.waybill_code, n=check.scanned)
    if on_packed == "ship":
        msg += tr(" · shipped {s} order(s)", " · 已发货 {s} 单", s=shipped)
        if notes:
            msg += tr(" · NOT shipped: {why}", " · 未发货：{why}", why="; ".join(notes))
    return PackOutcome(True, "packed", msg, check.waybill_code, shipped=shipped)


def packed(waybill_id: int) -> PackRecord | None:
    return PackRecord.get_or_none(PackRecord.waybill == waybill_id)
