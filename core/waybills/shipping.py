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
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.rules import blocked_reason
from dadan.core.waybills.parcels import orders_of, parcels_by_order


def ship_parcel(order: Order, w: Waybill, *, actor: str) -> None:
    """Confirm ``order``'s shipment with its parcel ``w``'s number now (inside the caller's
    transaction); raises :class:`~dadan.core.errors.DadanError` when refused (scan to ship, ship
    on print, the packing bench, a closed handover)."""
    from dadan.core.shipping.outbox import assign_tracking

    lid = CourierBook.from_database().lookup_id(w.wp_code)
    if lid is None:
        raise DadanError(tr("the platform lists no courier {c}: sync the courier list (dadan shops check)",
                            "平台快递列表中没有 {c}：请先同步快递列表（dadan shops check）", c=w.wp_code))
    assign_tracking(order.id, w.code, lid, actor=actor)


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


def ship_printed(order_ids: Sequence[int], *, actor: str) -> ShipReport:
    """One-key ship (一键发货): every parcel of ``order_ids``' orders that is printed and not
    yet shipped ships with its number — every order in it (a merged parcel's orders outside
    ``order_ids`` too), unless blocked; the rest are listed with the reason. Each order is its
    own transaction: one refusal stops nothing else."""
    report = ShipReport()
    ids = list(order_ids)
    printed = parcels_by_order(ids, ("printed",))
    parcels = {mine[-1].id: mine[-1] for mine in printed.values() if mine}
    for w in sorted(parcels.values(), key=lambda p: p.id):
        for o in orders_of(w.id):
            ship_or_skip(report, o, w, actor=actor,
                         shipped_already=o.state in ("shipped", "confirmed") or o.order_status in (2, 3))
    return report


def ship_or_skip(report, order: Order, w: Waybill, *, actor: str, shipped_already: bool) -> None:
    """Ship ``order`` with parcel ``w``'s number in a transaction of its own, noted in
    ``report``'s ``shipped``; or note in its ``skipped`` why not (blocked, ``shipped_already``,
    refused)."""
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
