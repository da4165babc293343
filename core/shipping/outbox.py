"""Tracking numbers and the ship-confirmation outbox.

:func:`assign_tracking` gives an order its tracking number and courier and, **in the same
transaction**, queues a pending :class:`~core.models.Shipment`. The outbox worker
(:func:`process_outbox`, run by the scheduler) claims pending rows one by one, sends
``pdd.logistics.online.send`` and records the outcome:

- success -> ``confirmed`` (the order becomes ``confirmed``);
- busy, rate limit, timeout, unreadable answer, expired authorisation -> back to ``pending`` with
  a growing, jittered delay (``next_attempt_at``) and the error visible in ``last_error``;
- a business refusal -> the order is looked up: if the platform already shows it shipped with
  *this* tracking number (e.g. our earlier answer was lost on the way), that is success;
  otherwise ``failed`` with the platform's own message, and the order gets ``Flag.SHIP_FAILED``.

So every confirmation is either confirmed or visible as pending/failed (invariant 5). A row
left ``sending`` by a crash goes back to ``pending`` after a while: re-sending is safe because
"already shipped with this number" counts as done.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field
from typing import Callable, Iterable

from peewee import fn

from dadan.core import audit
from dadan.core.db import write
from dadan.core.errors import BlockedOrder, DadanError, NotFound
from dadan.core.goods import ledger
from dadan.core.i18n import tr
from dadan.core.models import Courier, Order, Shipment, Shop, utcnow
from dadan.core.orders.couriers import COURIERS, CourierBook
from dadan.core.orders.rules import Flag, blocked_reason
from dadan.core.shipping.tracking_rules import check_tracking, normalize_tracking
from dadan.core.waybills.parcels import note_shipped

log = logging.getLogger("dadan.shipping")

SHIPMENT_STATES = ("pending", "sending", "confirmed", "failed", "superseded")
BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3600.0
SENDING_STALE_AFTER = dt.timedelta(minutes=10)


# ------------------------------------------------------------------ assigning
def assign_tracking(order_id: int, tracking_number: str, logistics_id: int, *, actor: str,
                    now: dt.datetime | None = None) -> Shipment:
    """Give an order its tracking number and courier and queue the ship confirmation.

    One transaction: the order gets ``tracking_number``/``logistics_id``/``state='shipped'``/
    ``shipped_at`` and a pending :class:`Shipment` is created. Idempotent: the same number and
    courier again return the existing shipment. A different number supersedes a pending or
    failed one; after a confirmed one it is sent as a change (``redelivery_type=2``).

    Refuses (``BlockedOrder``) an order with any exception flag other than ``SHIP_FAILED`` (a
    corrected number is exactly how a failed confirmation is fixed), and (``TrackingRefused``,
    :func:`core.shipping.tracking_rules.check_tracking`) a number not shaped like the courier's
    or already on another order.
    """
    now = now or utcnow()
    tn = normalize_tracking(tracking_number)
    try:
        lid = int(logistics_id)
    except (TypeError, ValueError):
        raise DadanError(tr("choose a courier", "请选择快递公司")) from None
    with write():
        order = Order.get_or_none(Order.id == order_id)
        if order is None:
            raise NotFound(tr("order {i} not found", "找不到订单 {i}", i=order_id))
        if Courier.select().exists() and not Courier.select().where(Courier.id == lid).exists():
            raise DadanError(tr("unknown courier id {i}", "未知的快递公司编号 {i}", i=lid))
        blocking = order.exception_flags & ~Flag.SHIP_FAILED
        if blocking:
            raise BlockedOrder(tr("order {sn} cannot be shipped: {why}", "订单 {sn} 不能发货：{why}",
                                  sn=order.order_sn, why=blocked_reason(order)))
        shipments = list(Shipment.select().where(Shipment.order == order.id).order_by(Shipment.id))
        for s in reversed(shipments):
            if s.state != "superseded" and s.tracking_number == tn and s.logistics_id == lid:
                return s  # the same assignment again: nothing to do
        check_tracking(order, tn, lid)
        if any(s.state == "sending" for s in shipments):
            raise DadanError(tr("the confirmation of order {sn} is being sent right now; try again in a moment",
                                "订单 {sn} 正在回传发货，请稍后再试", sn=order.order_sn))
        confirmed_before = any(s.state == "confirmed" for s in shipments)
        if order.order_status in (2, 3) and not confirmed_before:
            raise BlockedOrder(tr("order {sn} is already shipped on the platform", "订单 {sn} 在平台上已发货",
                                  sn=order.order_sn))
        superseded = [s.id for s in shipments if s.state in ("pending", "failed")]
        if superseded:
            Shipment.update(state="superseded").where(Shipment.id.in_(superseded)).execute()
        flags = order.exception_flags & ~Flag.SHIP_FAILED
        Order.update(tracking_number=tn, logistics_id=lid, state="shipped", shipped_at=now,
                     exception_flags=flags, local_updated_at=now).where(Order.id == order.id).execute()
        ship = Shipment.create(order=order.id, tracking_number=tn, logistics_id=lid,
                               redelivery_type=2 if confirmed_before else None, state="pending",
                               next_attempt_at=now, created_at=now, created_by=actor)
        audit.record("ship", actor=actor, order_id=order.id, detail={
            "order_sn": order.order_sn, "tracking_number": tn, "logistics_id": lid,
            "previous": order.tracking_number or None, "superseded": superseded or None})
        audit.order_event(order.id, "ship", f"{CourierBook.from_database().official_name(lid)} {tn}")
        note_shipped(order.id, tn, actor=actor)
        ledger.settle_orders([order.id], actor=actor)
    return ship


# ------------------------------------------------------------------ status for the UI
def outbox_counts() -> dict[str, int]:
    """{state: count} for every shipment state (zeros included)."""
    counts = {s: 0 for s in SHIPMENT_STATES}
    for state, n in Shipment.select(Shipment.state, fn.COUNT(Shipment.id)).group_by(Shipment.state).tuples():
        counts[state] = n
    return counts


def open_shipments(states: Iterable[str] = ("pending", "sending", "failed"), limit: int = 500) -> list[Shipment]:
    """Shipments not yet confirmed (oldest first), with their orders, for the outbox view."""
    return list(Shipment.select(Shipment, Order).join(Order).where(Shipment.state.in_(list(states)))
                .order_by(Shipment.created_at, Shipment.id).limit(limit))


def retry_shipments(shipment_ids: Iterable[int], *, actor: str) -> int:
    """Put failed shipments back in the queue now (audited)."""
    n = 0
    now = utcnow()
    with write():
        for s in Shipment.select().where(Shipment.id.in_(list(shipment_ids)) & (Shipment.state == "failed")):
            Shipment.update(state="pending", next_attempt_at=now).where(Shipment.id == s.id).execute()
            audit.record("ship_retry", actor=actor, order_id=s.order_id,
                         detail={"tracking_number": s.tracking_number, "last_error": s.last_error})
            n += 1
    return n


# ------------------------------------------------------------------ the worker
@dataclass
class OutboxReport:
    sent: int = 0
    confirmed: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int, rng: random.Random | None = None) -> dt.timedelta:
    """Delay before attempt ``attempts + 1``: 30 s, 60 s, 120 s ... capped at an hour, +-20 %."""
    base = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=base * (rng or random).uniform(0.8, 1.2))


def recover_stale(now: dt.datetime | None = None) -> int:
    """Rows left ``sending`` by a crash -> ``pending`` (safe: a repeat counts as done)."""
    now = now or utcnow()
    with write():
        return Shipment.update(state="pending", next_attempt_at=now).where(
            (Shipment.state == "sending") & (Shipment.next_attempt_at < now)).execute()


def _claim(sid: int, now: dt.datetime) -> bool:
    with write():
        return Shipment.update(state="sending", attempts=Shipment.attempts + 1,
                               next_attempt_at=now + SENDING_STALE_AFTER).where(
            (Shipment.id == sid) & (Shipment.state == "pending")).execute() == 1


def _confirm(s: Shipment, now: dt.datetime, note: str = "") -> None:
    with write():
        Shipment.update(state="confirmed", confirmed_at=now, last_error=note, last_error_code=None).where(
            Shipment.id == s.id).execute()
        o = Order.get_by_id(s.order_id)
        changes = {"local_updated_at": now}
        if o.tracking_number == s.tracking_number and o.state in ("shipped", "printed", "new", "confirmed"):
            changes.update(state="confirmed", confirmed_at=o.confirmed_at or now)
        if o.exception_flags & Flag.SHIP_FAILED:
            changes["exception_flags"] = o.exception_flags & ~Flag.SHIP_FAILED
        Order.update(**changes).where(Order.id == o.id).execute()
        audit.order_event(o.id, "confirm", f"{CourierBook.from_database().official_name(s.logistics_id)} {s.tracking_number}")


def _retry_later(s: Shipment, now: dt.datetime, message: str, code: int | None, attempts: int) -> None:
    with write():
        Shipment.update(state="pending", next_attempt_at=now + backoff(attempts), last_error=message,
                        last_error_code=code).where(Shipment.id == s.id).execute()


def _fail(s: Shipment, now: dt.datetime, message: str, code: int | None) -> None:
    with write():
        Shipment.update(state="failed", last_error=message, last_error_code=code).where(
            Shipment.id == s.id).execute()
        o = Order.get_by_id(s.order_id)
        if not o.exception_flags & Flag.SHIP_FAILED:
            Order.update(exception_flags=o.exception_flags | Flag.SHIP_FAILED, local_updated_at=now).where(
                Order.id == o.id).execute()
        audit.order_event(o.id, "flag", tr("ship confirmation failed: {m}", "发货回传失败：{m}", m=message))


def send_one(s: Shipment, client, now: dt.datetime | None = None) -> str:
    """Send one claimed shipment; record the outcome. Returns the new state."""
    from dadan.core.platform.pdd import PlatformError, ReauthorizeRequired

    now = now or utcnow()
    order = Order.get_by_id(s.order_id)
    try:
        client.online_send(order.order_sn, s.logistics_id, s.tracking_number, s.redelivery_type)
    except ReauthorizeRequired as exc:
        with write():
            Shop.update(auth_state="reauthorize").where(Shop.id == order.shop_id).execute()
        _retry_later(s, now, exc.message, exc.error_code, s.attempts)
        return "pending"
    except PlatformError as exc:
        if exc.retryable:
            _retry_later(s, now, exc.message, exc.error_code, s.attempts)
            return "pending"
        # refused: maybe it is already shipped with this very number (a lost earlier answer)
        try:
            info = client.order_info(order.order_sn)
        except PlatformError as exc2:
            _retry_later(s, now, exc.platform_message, exc.error_code, s.attempts)
            log.info("order check after refusal failed: %r", exc2)
            return "pending"
        if _int(info.get("order_status")) in (2, 3) and \
                normalize_tracking(str(info.get("tracking_number") or "")) == s.tracking_number:
            _confirm(s, now, note=tr("already shipped with this number", "已用此单号发货"))
            return "confirmed"
        _fail(s, now, exc.platform_message, exc.error_code)
        return "failed"
    _confirm(s, now)
    return "confirmed"


def _int(v) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def process_outbox(factory: Callable[[Shop], object], *, now: dt.datetime | None = None, limit: int = 200,
                   shop_id: int | None = None) -> OutboxReport:
    """Send every due pending shipment (oldest first). Safe to run from several terminals: a row
    is claimed (pending -> sending) in its own transaction before it is sent."""
    from dadan.core.platform.shops import ShopNotConfigured

    now = now or utcnow()
    report = OutboxReport()
    recover_stale(now)
    q = (Shipment.select(Shipment, Order.shop).join(Order)
         .where((Shipment.state == "pending") & (Shipment.next_attempt_at <= now))
         .order_by(Shipment.next_attempt_at, Shipment.id).limit(limit))
    if shop_id is not None:
        q = q.where(Order.shop == shop_id)
    by_shop: dict[int, list[Shipment]] = {}
    for s in q:
        by_shop.setdefault(s.order.shop_id, []).append(s)
    for sid, rows in by_shop.items():
        shop = Shop.get_by_id(sid)
        try:
            client = factory(shop)
        except ShopNotConfigured as exc:
            for s in rows:
                _retry_later(s, now, exc.message, None, s.attempts + 1)
            report.errors.append(exc.message)
            continue
        try:
            for s in rows:
                if not _claim(s.id, now):
                    continue
                s = Shipment.get_by_id(s.id)
                report.sent += 1
                state = send_one(s, client, now)
                if state == "confirmed":
                    report.confirmed += 1
                elif state == "failed":
                    report.failed += 1
                else:
                    report.retried += 1
        finally:
            close = getattr(client, "close", None)
            if close:
                close()
    return report


# ------------------------------------------------------------------ couriers
def refresh_couriers(client) -> int:
    """``pdd.logistics.companies.get`` -> the Courier table. Returns the number listed."""
    companies = client.logistics_companies()
    now = utcnow()
    rows = []
    for c in companies:
        try:
            cid = int(c.get("id"))
        except (TypeError, ValueError):
            continue
        rows.append({"id": cid, "name": str(c.get("logistics_company") or c.get("name") or cid),
                     "code": str(c.get("code") or ""), "available": bool(_int(c.get("available", 1))),
                     "updated_at": now})
    with write():
        for i in range(0, len(rows), 200):
            Courier.insert_many(rows[i : i + 200]).on_conflict(
                conflict_target=[Courier.id],
                preserve=[Courier.name, Courier.code, Courier.available, Courier.updated_at]).execute()
    return len(rows)


def courier_list_stale(max_age: dt.timedelta = dt.timedelta(days=1)) -> bool:
    """Whether the cached courier list is empty or older than ``max_age``."""
    newest = Courier.select(Courier.updated_at).order_by(Courier.updated_at.desc()).first()
    return newest is None or newest.updated_at < utcnow() - max_age


def courier_choices() -> list[tuple[str, int]]:
    """(name, logistics id) of the couriers a tracking number may be given with: the platform's
    available ones, as :func:`assign_tracking` accepts them; the courier catalogue's until the
    platform's list was first read (then ``assign_tracking`` takes any id)."""
    if not Courier.select().exists():
        return [(c.name, c.id) for c in COURIERS if c.id is not None]
    book = CourierBook.from_database()
    return [(book.display_name(c.id), c.id)
            for c in Courier.select().where(Courier.available == True).order_by(Courier.id)]  # noqa: E712


def couriers(factory: Callable[[Shop], object] | None = None, *,
             max_age: dt.timedelta = dt.timedelta(days=1)) -> list[Courier]:
    """The cached courier list (available first); refreshed from the platform through the first
    working shop when it is empty or older than ``max_age`` and a client factory is given. A
    failed refresh keeps the cache."""
    if courier_list_stale(max_age) and factory is not None:
        for shop in Shop.select().where(Shop.auth_state == "ok").order_by(Shop.id):
            try:
                client = factory(shop)
                try:
                    refresh_couriers(client)
                finally:
                    client.close()
                break
            except DadanError as exc:
                log.info("courier refresh via %s failed: %s", shop.name, exc)
    return list(Courier.select().order_by(Courier.available.desc(), Courier.id))
