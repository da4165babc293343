"""Shipping printed parcels with their e-waybill numbers: on print (setting
``waybills.confirm_on = "print"``) and one-key ship of a view (一键发货: every printed, unshipped,
unblocked parcel). Both go through :func:`dadan.core.shipping.outbox.assign_tracking`, so the
confirmation is queued in the outbox in the same transaction and every shipping rule holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from dadan.core import audit
from dadan.core.db import write
from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.models import Order, Waybill
from dadan.core.operators import require
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.rules import blocked_reason, has_shipped
from dadan.core.waybills.parcels import orders_of, parcels_by_order


def ship_parcel(order: Order, w: Waybill, *, actor: str) -> None:
    """Confirm ``order``'s shipment with its parcel ``w``'s number now (inside the caller's
    transaction); raises :class:`~dadan.core.errors.DadanError` when refused (scan to ship, ship
    on print, the packing bench, a closed handover)."""
    from dadan.core.shipping.outbox import assign_tracking
    from dadan.core.waybills.split import first_parcel

    lid = CourierBook.from_database().lookup_id(w.wp_code)
    if lid is None:
        raise DadanError(tr("the platform lists no courier {c}: sync the courier list (dadan shops check)",
                            "平台快递列表中没有 {c}：请先同步快递列表（dadan shops check）", c=w.wp_code))
    first = first_parcel(order.id)
    if first is None or first.id == w.id:
        assign_tracking(order.id, w.code, lid, actor=actor)
        return
    # a further parcel of a split order (拆单): the order ships with its first parcel's number,
    # this one is recorded with it
    if not first.code:
        raise DadanError(tr("order {sn} ships with its first parcel's number, which it does not have yet",
                            "订单 {sn} 以第一个包裹的单号发货，该包裹还没有单号", sn=order.order_sn))
    if not (order.state in ("shipped", "confirmed") and order.tracking_number == first.code):
        assign_tracking(order.id, first.code, lid, actor=actor)
    note_parcel_shipped(w, order.id, actor=actor)


def note_parcel_shipped(w: Waybill, order_id: int, *, actor: str) -> None:
    """A split order's further parcel left with its order (inside the caller's transaction)."""
    from dadan.core.models import utcnow

    n = Waybill.update(state="shipped", shipped_at=utcnow()).where(
        (Waybill.id == w.id) & Waybill.state.in_(("live", "printed"))).execute()
    if n:
        audit.record("waybill-ship", actor=actor, order_id=order_id, target=f"waybill:{w.code}",
                     detail={"wp_code": w.wp_code, "split": True})
        audit.order_event(order_id, "ship", tr("parcel {w} shipped with the order", "包裹 {w} 随订单发出", w=w.code))


def ship_on_print(waybill_id: int, *, actor: str) -> None:
    """Inside the print's transaction: a parcel's label went out, so the shipment of every order
    in it is confirmed now. A refusal (blocked since, shipped elsewhere) changes nothing for
    that order and is noted on it."""
    w = Waybill.get_by_id(waybill_id)
    if w.state != "printed":
        return
    for order in orders_of(w.id):
        if order.state in ("shipped", "confirmed"):
            continue
        try:
            ship_parcel(order, w, actor=actor)
        except DadanError as exc:
            audit.order_event(order.id, "ship", tr("not confirmed on print: {w}", "打印时未回传发货：{w}", w=exc.message))


@dataclass
class ShipReport:
    shipped: list[tuple[str, str]] = field(default_factory=list)  # (order_sn, number)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (order_sn, why)


def ship_printed(order_ids: Sequence[int], *, actor: str, explain: bool = False) -> ShipReport:
    """One-key ship (一键发货): every parcel of ``order_ids``' orders that is printed and not
    yet shipped ships with its number — every order in it (a merged parcel's orders outside
    ``order_ids`` too), unless blocked; so does every printed order holding a number from a
    file or typed in (no e-waybill parcel: offline printing), with that number and its courier.
    The rest are listed with the reason (``explain``: also the orders given that had nothing to
    ship: not printed yet, no number). Each order is its own transaction: one refusal stops
    nothing else."""
    from dadan.core.shipping.outbox import assign_tracking

    ids = list(order_ids)
    require(actor, "ship", what=f"ship {len(ids)} order(s)")
    report = ShipReport()
    printed = parcels_by_order(ids, ("printed",))
    parcels = {w.id: w for mine in printed.values() for w in mine}
    for w in sorted(parcels.values(), key=lambda p: p.id):
        for o in orders_of(w.id):
            ship_or_skip(report, o, w, actor=actor,
                         shipped_already=has_shipped(o))
    with_parcels = parcels_by_order(ids)  # (an e-waybill order ships only with its parcel's number)
    done = {sn for sn, _ in report.shipped} | {sn for sn, _ in report.skipped}
    for o in _orders([i for i in ids if i not in with_parcels]):
        if o.order_sn in done:
            continue
        shipped_already = has_shipped(o)
        if not (o.print_count and o.tracking_number) or shipped_already:
            if explain:
                report.skipped.append((o.order_sn, tr("already shipped", "已发货") if shipped_already else
                                       tr("no tracking number: enter or import it first", "没有运单号：请先录入或导入")
                                       if o.print_count else tr("not printed yet", "尚未打印")))
            continue
        why = blocked_reason(o) or ("" if o.logistics_id else tr("no courier: enter the number with its courier",
                                                                 "没有快递公司：请连同快递公司录入运单号"))
        if why:
            report.skipped.append((o.order_sn, why))
            continue
        try:
            with write():
                assign_tracking(o.id, o.tracking_number, o.logistics_id, actor=actor)
        except DadanError as exc:
            report.skipped.append((o.order_sn, exc.message))
            continue
        report.shipped.append((o.order_sn, o.tracking_number))
    return report


def shippable(order_ids: Sequence[int]) -> list[int]:
    """The orders of ``order_ids`` one-key ship has something to confirm for: a printed e-waybill
    parcel, or (no e-waybill parcel) printed with a number from a file or typed in, not shipped
    yet. (Blocked ones included: the ship says why it skips them.)"""
    ids = list(order_ids)
    out = set(parcels_by_order(ids, ("printed",)))
    with_parcels = parcels_by_order(ids)
    out.update(o.id for o in _orders([i for i in ids if i not in with_parcels])
               if o.print_count and o.tracking_number and not has_shipped(o))
    return sorted(out)


def _orders(ids: list[int]) -> list[Order]:
    out: list[Order] = []
    for start in range(0, len(ids), 500):
        out.extend(Order.select().where(Order.id.in_(ids[start:start + 500])).order_by(Order.id))
    return out


def ship_or_skip(report, order: Order, w: Waybill, *, actor: str, shipped_already: bool) -> None:
    """Ship ``order`` with parcel ``w``'s number in a transaction of its own, noted in
    ``report``'s ``shipped``; or note in its ``skipped`` why not (blocked, ``shipped_already``,
    refused)."""
    from dadan.core.waybills.split import first_parcel

    first = first_parcel(order.id)
    if (first is not None and first.id != w.id and order.state in ("shipped", "confirmed")
            and order.tracking_number == first.code):  # a split order's further parcel follows it
        with write():
            note_parcel_shipped(w, order.id, actor=actor)
        report.shipped.append((order.order_sn, w.code))
        return
    why = blocked_reason(order) or (tr("already shipped", "已发货") if shipped_already else "")
    if why:
        report.skipped.append((order.order_sn, why))
        return
    try:
        with write():
            ship_parcel(order, w, actor=actor)
    except DadanError as exc:
        report.skipped.append((order.order_sn, exc.message))
        return
    report.shipped.append((order.order_sn, w.code))
