"""The bridge from orders to label fields: plain dicts that ``printers.raster.render_label``
draws (printers/ never sees a model). Field names are those of :mod:`printers.fields`.

Receiver text: the caller passes the decrypted receiver (``{"name", "phone", "address"}``) only
when printing; otherwise the order's plain fields (spreadsheet imports, demo data) or, failing
those, the masked ones are used. Nothing here decrypts, stores or logs receiver text.
Money is stored in fen and shown in yuan; times are stored in UTC and shown in ``tz``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from dadan.core.config import SenderSettings
from dadan.core.models import Order, OrderItem
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.rules import item_summary
from dadan.core.timeutil import DEFAULT_TZ, fen_to_yuan, fmt_local, to_local, utcnow

TIME_FORMAT = "%Y-%m-%d %H:%M"


def _now_text(now: dt.datetime | None, tz: str) -> str:
    """``now`` is naive UTC (or aware); default: the current time."""
    if now is None:
        now = utcnow()
    elif now.tzinfo is not None:
        now = now.astimezone(dt.UTC).replace(tzinfo=None)
    local = to_local(now, tz)
    return local.strftime(TIME_FORMAT) if local else ""


def _items(order: Order) -> list[OrderItem]:
    return list(order.items.order_by(OrderItem.position, OrderItem.id))


def _item_dict(it: OrderItem) -> dict[str, Any]:
    return {
        "outer_id": it.outer_id,
        "goods_name": it.goods_name,
        "goods_spec": it.goods_spec,
        "goods_count": it.goods_count,
    }


def sku_code(item: OrderItem) -> str:
    """The code a warehouse knows an item by: merchant code, else platform SKU id, else goods id."""
    return (item.outer_id or "").strip() or (item.sku_id or "").strip() or (item.goods_id or "").strip()


def _full_address(order: Order, address: str) -> str:
    """Decrypted addresses are sometimes the street part only: prefix the region then."""
    region = f"{order.province}{order.city}{order.town}"
    address = (address or "").strip()
    if not address or not order.province or address.startswith(order.province):
        return address
    return f"{region}{address}"


def receiver_text(order: Order, receiver: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{"name", "phone", "address"}`` for a label: decrypted (passed in), else plain, else masked."""
    if receiver is not None:
        return {
            "name": receiver.get("name", "") or "",
            "phone": receiver.get("phone", "") or "",
            "address": _full_address(order, receiver.get("address", "") or ""),
        }
    if order.receiver_name or order.receiver_address:
        return {
            "name": order.receiver_name,
            "phone": order.receiver_phone,
            "address": _full_address(order, order.receiver_address),
        }
    return {
        "name": order.receiver_name_mask,
        "phone": order.receiver_phone_mask,
        "address": _full_address(order, order.address_mask),
    }


def _order_fields(order: Order, items: list[OrderItem], receiver: Mapping[str, str] | None,
                  sender: SenderSettings | None, tz: str, now: dt.datetime | None, shop_name: str) -> dict[str, Any]:
    rcv = receiver_text(order, receiver)
    summary = item_summary([_item_dict(it) for it in items]) if items else order.items_summary
    count = sum(it.goods_count for it in items) if items else order.item_count
    return {
        "shop_name": shop_name or _shop_name(order),
        "print_time": _now_text(now, tz),
        "order_sn": order.order_sn,
        "receiver_name": rcv["name"],
        "receiver_phone": rcv["phone"],
        "receiver_address": rcv["address"],
        "province": order.province,
        "city": order.city,
        "town": order.town,
        "sender_name": sender.name if sender else "",
        "sender_phone": sender.phone if sender else "",
        "sender_address": sender.address if sender else "",
        "items_summary": summary,
        "item_count": count,
        "sku_count": len(items),
        "pay_amount": fen_to_yuan(order.pay_amount_fen),
        "goods_amount": fen_to_yuan(order.goods_amount_fen),
        "postage": fen_to_yuan(order.postage_fen),
        "remark": order.remark,
        "buyer_memo": order.buyer_memo,
        "pay_time": fmt_local(order.pay_time, tz, TIME_FORMAT),
        "tracking_number": order.tracking_number,
    }


def _shop_name(order: Order) -> str:
    try:
        return order.shop.name
    except Exception:  # noqa: BLE001 - a dangling shop reference must not stop a label
        return ""


def _parcel(order: Order, mates: Iterable[Order], held=None, part: str = "") -> tuple[list[OrderItem], dict[str, Any]]:
    """A parcel's lines and the fields that change with it: a merged parcel's (every order's
    lines, in order; order numbers, amounts and memos of all its orders), or a split order's
    parcel's (``held``: its (line, quantity) pairs; ``part``: "2/3", after the order number)."""
    mates = list(mates)
    orders = [order] + mates
    if held is not None:
        items = []
        for it, q in held:
            it = copy.copy(it)
            it.goods_count = q
            items.append(it)
        return items, {"order_count": 1, "merged_orders": "", "order_sn": f"{order.order_sn} {part}".strip()}
    items = [it for o in orders for it in _items(o)]
    if not mates:
        return items, {"order_count": 1, "merged_orders": ""}
    extra = {
        "order_sn": f"{order.order_sn} +{len(mates)}",
        "order_count": len(orders),
        "merged_orders": f"合单 {len(orders)} 单：" + " ".join(o.order_sn for o in orders),
        "pay_amount": fen_to_yuan(sum(o.pay_amount_fen for o in orders)),
        "goods_amount": fen_to_yuan(sum(o.goods_amount_fen for o in orders)),
        "postage": fen_to_yuan(sum(o.postage_fen for o in orders)),
        "remark": " / ".join(o.remark for o in orders if o.remark),
        "buyer_memo": " / ".join(o.buyer_memo for o in orders if o.buyer_memo),
    }
    return items, extra


def parcel_text(order: Order, mates: Iterable[Order] = (), held=None, part: str = "") -> tuple[str, str]:
    """(order number text, goods summary) of a parcel for the waybill's custom area: "SN +2" and
    every order's goods for a merged parcel, "SN 2/3" and its part for a split order's parcel."""
    items, extra = _parcel(order, mates, held, part)
    summary = item_summary([_item_dict(it) for it in items]) if items else order.items_summary
    return str(extra.get("order_sn", order.order_sn)), summary


def order_label_fields(
    order: Order,
    *,
    mates: Iterable[Order] = (),
    held=None,
    part: str = "",
    receiver: Mapping[str, str] | None = None,
    sender: SenderSettings | None = None,
    courier_name: str = "",
    batch_seq: int = 1,
    batch_total: int = 1,
    reprint_no: int = 0,
    now: dt.datetime | None = None,
    tz: str = DEFAULT_TZ,
    shop_name: str = "",
    route_code: str = "",
) -> dict[str, Any]:
    """Fields of a waybill for ``order`` (see ``printers.fields.WAYBILL_FIELDS``).

    ``sender`` is a ``core.config.SenderSettings``; ``reprint_no`` 2 prints "R2" (0: first print).
    ``mates``: the other orders of its merged parcel (one label for all); ``held`` and ``part``:
    what a split order's parcel holds and which it is ("2/3").
    """
    items, extra = _parcel(order, mates, held, part)
    fields = _order_fields(order, items, receiver, sender, tz, now, shop_name)
    fields.update(extra)
    fields.update(
        courier_name=courier_name or CourierBook.from_database().official_name(order.logistics_id),
        route_code=route_code,
        batch_seq=batch_seq,
        batch_total=batch_total,
        batch_label=f"{batch_seq}/{batch_total}",
        reprint_mark=f"R{reprint_no}" if reprint_no > 0 else "",
    )
    return fields


def packing_fields(
    order: Order,
    *,
    mates: Iterable[Order] = (),
    held=None,
    part: str = "",
    receiver: Mapping[str, str] | None = None,
    sender: SenderSettings | None = None,
    courier_name: str = "",
    now: dt.datetime | None = None,
    tz: str = DEFAULT_TZ,
    shop_name: str = "",
) -> dict[str, Any]:
    """Fields of a packing slip: the order's fields plus ``items`` rows with prices; for a merged
    parcel (``mates``: its other orders) every order's lines, each row naming its order."""
    items, extra = _parcel(order, mates, held, part)
    fields = _order_fields(order, items, receiver, sender, tz, now, shop_name)
    fields.update(extra)
    sns = {o.id: o.order_sn for o in [order, *mates]}
    fields["courier_name"] = courier_name or CourierBook.from_database().official_name(order.logistics_id)
    fields["items"] = [
        {
            "seq": i,
            "sku": sku_code(it),
            "name": it.goods_name,
            "spec": it.goods_spec,
            "qty": it.goods_count,
            "price": fen_to_yuan(it.goods_price_fen),
            "amount": fen_to_yuan(it.goods_price_fen * it.goods_count),
            "order_mark": sns.get(it.order_id, "") if mates else "",
        }
        for i, it in enumerate(items, 1)
    ]
    return fields


def picklist_fields(
    orders: Iterable[Order],
    *,
    now: dt.datetime | None = None,
    tz: str = DEFAULT_TZ,
    batch_label: str = "",
    shop_name: str = "",
) -> dict[str, Any]:
    """A pick list over a batch: one row per SKU (code + spec) with the total quantity and the
    orders that contain it, sorted by SKU code."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    order_count = 0
    for order in orders:
        order_count += 1
        for it in _items(order):
            key = (sku_code(it), it.goods_spec or "")
            row = rows.get(key)
            if row is None:
                row = rows[key] = {"sku": key[0], "name": it.goods_name, "spec": it.goods_spec,
                                   "qty": 0, "_orders": []}
            row["qty"] += it.goods_count
            if order.order_sn not in row["_orders"]:
                row["_orders"].append(order.order_sn)
    items = []
    for i, key in enumerate(sorted(rows), 1):
        row = rows[key]
        sns = row.pop("_orders")
        items.append({**row, "seq": i, "orders": ", ".join(sns), "order_count": len(sns), "bin": "",
                      "parcels": len(sns)})  # one order, one parcel
    return {
        "shop_name": shop_name,
        "print_time": _now_text(now, tz),
        "items": items,
        "order_count": order_count,
        "parcel_count": order_count,
        "sku_count": len(items),
        "total_qty": sum(r["qty"] for r in items),
        "batch_label": batch_label,
    }


def wave_label(job_id: int, seq: int, total: int) -> str:
    """The wave mark on a label or slip: the print job (the wave) and the parcel's place in it,
    ``W123 · 7/40`` (the same in both languages)."""
    return f"W{job_id} · {seq}/{total}"


def wave_pick_fields(wave, job_id: int, *, now: dt.datetime | None = None, tz: str = DEFAULT_TZ,
                     shop_name: str = "") -> dict[str, Any]:
    """The pick list of a wave (a ``core.packing.waves.Wave``) for the picklist template: one
    row per (bin, SKU) in walk order with its bin, total quantity and how many parcels hold it;
    ``wave_label`` (``W123``) names the wave."""
    from dadan.core.packing.waves import no_bin_label

    items = [{"seq": i, "bin": r.bin or no_bin_label(), "sku": r.code, "name": r.name, "spec": r.spec,
              "qty": r.qty, "parcels": r.parcels, "orders": "", "order_count": r.parcels}
             for i, r in enumerate(wave.picks, 1)]
    return {
        "shop_name": shop_name,
        "print_time": _now_text(now, tz),
        "items": items,
        "order_count": sum(len(p.order_ids) for p in wave.parcels),
        "parcel_count": len(wave.parcels),
        "sku_count": len(items),
        "total_qty": sum(r["qty"] for r in items),
        "batch_label": f"W{job_id}",
        "wave_label": f"W{job_id}",
    }


def sku_fields(item: OrderItem, *, now: dt.datetime | None = None, tz: str = DEFAULT_TZ,
               shop_name: str = "") -> dict[str, Any]:
    """Fields of a SKU label for one order line (its code printed as a barcode)."""
    return {
        "shop_name": shop_name,
        "print_time": _now_text(now, tz),
        "sku": sku_code(item),
        "name": item.goods_name,
        "spec": item.goods_spec,
        "price": fen_to_yuan(item.goods_price_fen),
        "goods_id": item.goods_id,
    }


def batch_fields(
    kind: str,
    orders: list[Order],
    *,
    sender: SenderSettings | None = None,
    now: dt.datetime | None = None,
    tz: str = DEFAULT_TZ,
    batch_label: str = "",
) -> list[tuple[str, dict[str, Any]]]:
    """Label fields for a batch of orders and a template kind, as ``(name, fields)`` pairs
    (``name`` identifies the label, e.g. for a file name): one waybill or packing slip per
    order, one pick list for the batch, one SKU label per distinct SKU."""
    if kind == "waybill":
        total = len(orders)
        return [
            (o.order_sn, order_label_fields(o, sender=sender, batch_seq=i, batch_total=total,
                                            reprint_no=o.print_count + 1 if o.print_count else 0,
                                            now=now, tz=tz))
            for i, o in enumerate(orders, 1)
        ]
    if kind == "packing":
        return [(o.order_sn, packing_fields(o, sender=sender, now=now, tz=tz)) for o in orders]
    if kind == "picklist":
        return [("picklist", picklist_fields(orders, now=now, tz=tz, batch_label=batch_label))]
    if kind == "sku":
        seen: dict[str, dict[str, Any]] = {}
        for o in orders:
            for it in _items(o):
                code = sku_code(it)
                if code and code not in seen:
                    seen[code] = sku_fields(it, now=now, tz=tz)
        return list(seen.items())
    raise ValueError(f"unknown template kind: {kind!r}")
