"""Recycling numbers (回收): ``pdd.waybill.cancel`` returns a number that will not ship to the
balance (e.g. a refund arrived after it was taken or printed). A cancelled number is never
printed again nor used to confirm shipment; a failed cancel stays on the parcel with the reason.

Numbers to recycle: an order that became blocked (refund, after-sale, risk, cancelled...) while
its parcel holds a live, unshipped number — or while a number asked for it never came back (the
platform may hold one: recycling asks the platform for it by the request id first) — the
exception screen's "number to recycle" group and the filter term ``waybill:recycle``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from peewee import fn

from dadan.core import audit
from dadan.core.db import write
from dadan.core.errors import DadanError, NotFound
from dadan.core.i18n import tr
from dadan.core.models import Order, Shop, Waybill, WaybillOrder, utcnow
from dadan.core.platform.waybill_api import waybill_cancel
from dadan.core.waybills import accounts
from dadan.core.waybills.parcels import NUMBERED, orders_of

ALREADY_CANCELLED = "30021"


def _to_recycle():
    """Parcels holding a live number, or asked for one that never came back."""
    return Waybill.state.in_(NUMBERED) | ((Waybill.state == "pending") & (Waybill.attempts > 0))


def recycle_condition():
    """Orders that are blocked, not shipped, and linked to a parcel with a live (or asked-for) number."""
    live = (WaybillOrder.select(WaybillOrder.order).join(Waybill, on=(WaybillOrder.waybill == Waybill.id))
            .where(_to_recycle()))
    return (Order.exception_flags != 0) & Order.state.in_(("new", "printed")) & Order.id.in_(live)


_STATE_WORDS = {"待回收": "recycle", "回收": "recycle", "无": "none", "待取号": "pending", "已取号": "live",
                "已打印": "printed", "已发货": "shipped", "已回收": "cancelled"}


def waybill_condition(word: str):
    """The filter term ``waybill:WORD`` as a condition on orders (None: an unknown word):
    ``recycle`` (numbers to recycle), ``none`` (no number held or shipped), or a parcel state."""
    state = _STATE_WORDS.get(word, word.lower())
    if state == "recycle":
        return recycle_condition()

    def holding(*states: str):
        return Order.id.in_(WaybillOrder.select(WaybillOrder.order).join(Waybill, on=(WaybillOrder.waybill == Waybill.id))
                            .where(Waybill.state.in_(list(states))))

    if state == "none":
        return ~holding("live", "printed", "shipped")
    if state in ("pending", "live", "printed", "shipped", "cancelled"):
        return holding(state)
    return None


def to_recycle(limit: int = 500) -> list[Waybill]:
    """Parcels holding a live (or asked-for) number whose order is blocked (oldest first)."""
    blocked = Order.select(Order.id).where(recycle_condition())
    return list(Waybill.select().join(WaybillOrder, on=(WaybillOrder.waybill == Waybill.id))
                .where(_to_recycle() & WaybillOrder.order.in_(blocked))
                .group_by(Waybill.id).order_by(Waybill.id).limit(limit))


def count_to_recycle() -> int:
    return Order.select(fn.COUNT(Order.id)).where(recycle_condition()).scalar() or 0


@dataclass
class CancelReport:
    cancelled: list[str] = field(default_factory=list)  # numbers returned
    failed: list[tuple[str, str]] = field(default_factory=list)  # (number or order, why)
    closed: list[str] = field(default_factory=list)  # request ids the platform allocated no number for


def parcels_of_orders(order_ids: Sequence[int]) -> list[Waybill]:
    return list(Waybill.select().join(WaybillOrder, on=(WaybillOrder.waybill == Waybill.id))
                .where(WaybillOrder.order.in_(list(order_ids)) & _to_recycle())
                .group_by(Waybill.id).order_by(Waybill.id))


def _cancelled(w: Waybill, *, reason: str, actor: str) -> None:
    now = utcnow()
    with write():
        n = Waybill.update(state="cancelled", cancelled_at=now, cancelled_by=actor, cancel_reason=reason,
                           cancel_error="").where(
            (Waybill.id == w.id) & Waybill.state.in_(NUMBERED)).execute()
        if not n:
            return
        accounts.note_taken(w.shop_id, w.wp_code, -1)
        for o in orders_of(w.id):
            Order.update(tracking_number="", logistics_id=None, local_updated_at=now).where(
                (Order.id == o.id) & (Order.tracking_number == w.code) & Order.state.in_(("new", "printed"))).execute()
            audit.record("waybill-cancel", actor=actor, order_id=o.id, target=f"waybill:{w.code}", reason=reason,
                         detail={"wp_code": w.wp_code, "object_id": w.object_id})
            audit.order_event(o.id, "waybill", tr("number {n} recycled: {r}", "单号 {n} 已回收：{r}", n=w.code, r=reason))


def _failed(w: Waybill, message: str, *, reason: str, actor: str) -> None:
    with write():
        Waybill.update(cancel_error=message).where(Waybill.id == w.id).execute()
        for o in orders_of(w.id):
            audit.record("waybill-cancel-failed", actor=actor, order_id=o.id, target=f"waybill:{w.code}",
                         reason=reason, detail={"error": message})


def _learn_number(w: Waybill, client, *, reason: str, actor: str) -> Waybill:
    """A parcel whose number was asked for but never came back: ask the platform by the request
    id. A number found is recorded (then cancelled by the caller); none found: the parcel is
    closed, for the platform allocated nothing to return."""
    from dadan.core.platform.waybill_api import waybill_query
    from dadan.core.waybills.take import record_numbers

    modules = [m for m in waybill_query(client, [{"object_id": w.object_id, "waybill_code": "", "wp_code": w.wp_code}])
               if str(m.get("object_id") or "") == w.object_id and m.get("waybill_code")]
    if modules and str(modules[0].get("status") or "live") != "cancelled":
        record_numbers([w], {w.id: orders_of(w.id)}, modules, actor)
    else:
        with write():
            Waybill.update(state="cancelled", cancelled_at=utcnow(), cancelled_by=actor, cancel_reason=reason,
                           last_error=tr("the platform allocated no number for it", "平台没有为其分配单号")).where(
                (Waybill.id == w.id) & (Waybill.state == "pending")).execute()
    return Waybill.get_by_id(w.id)


def cancel(waybill_ids: Sequence[int], *, reason: str, actor: str,
           factory: Callable[[Shop], object] | None = None) -> CancelReport:
    """Cancel these parcels' numbers on the platform. Shipped numbers are refused; a number the
    platform already shows cancelled (an earlier answer was lost) counts as cancelled."""
    from dadan.core.platform.pdd import PlatformError

    reason = (reason or "").strip()
    if not reason:
        raise DadanError(tr("recycling a number needs a reason", "回收单号需要填写原因"))
    if factory is None:
        from dadan.core.platform.shops import ClientFactory

        factory = ClientFactory()
    report = CancelReport()
    clients: dict[int, object] = {}
    try:
        for w in Waybill.select().where(Waybill.id.in_(list(waybill_ids))).order_by(Waybill.id):
            if w.state == "pending" and w.attempts > 0:
                try:
                    if w.shop_id not in clients:
                        clients[w.shop_id] = factory(Shop.get_by_id(w.shop_id))
                    w = _learn_number(w, clients[w.shop_id], reason=reason, actor=actor)
                except DadanError as exc:
                    _failed(w, exc.message, reason=reason, actor=actor)
                    report.failed.append((w.object_id, exc.message))
                    continue
                if w.state == "cancelled":
                    report.closed.append(w.object_id)  # the platform allocated nothing: nothing to return
                    continue
            if w.state not in NUMBERED:
                report.failed.append((w.code or w.object_id, tr("its number is {s}, not live", "单号状态为{s}，不可回收",
                                                                 s=w.state)))
                continue
            try:
                if w.shop_id not in clients:
                    clients[w.shop_id] = factory(Shop.get_by_id(w.shop_id))
                waybill_cancel(clients[w.shop_id], w.wp_code, w.code)
            except PlatformError as exc:
                if exc.error_code is not None and str(exc.error_code) == ALREADY_CANCELLED:
                    _cancelled(w, reason=reason, actor=actor)
                    report.cancelled.append(w.code)
                    continue
                _failed(w, exc.message, reason=reason, actor=actor)
                report.failed.append((w.code, exc.message))
                continue
            except DadanError as exc:
                _failed(w, exc.message, reason=reason, actor=actor)
                report.failed.append((w.code, exc.message))
                continue
            _cancelled(w, reason=reason, actor=actor)
            report.cancelled.append(w.code)
    finally:
        for c in clients.values():
            c.close()
    return report


def cancel_orders(order_sns: Sequence[str], *, reason: str, actor: str,
                  factory: Callable[[Shop], object] | None = None) -> CancelReport:
    """Cancel the live numbers of these orders (``dadan waybills cancel ORDER_SN...``)."""
    ids: list[int] = []
    missing = []
    for sn in dict.fromkeys(order_sns):
        found = [o.id for o in Order.select(Order.id).where(Order.order_sn == sn)]
        if not found:
            missing.append(sn)
        ids += found
    if missing:
        raise NotFound(tr("no order {sn}", "没有订单 {sn}", sn=missing[0]))
    parcels = parcels_of_orders(ids)
    report = cancel([w.id for w in parcels], reason=reason, actor=actor, factory=factory) if parcels else CancelReport()
    holding = {link.order_id for link in WaybillOrder.select(WaybillOrder.order)
               .where(WaybillOrder.waybill.in_([w.id for w in parcels]))}
    for o in Order.select(Order.order_sn, Order.id).where(Order.id.in_(ids)):
        if o.id not in holding:
            report.failed.append((o.order_sn, tr("holds no live number", "没有可回收的单号")))
    return report
