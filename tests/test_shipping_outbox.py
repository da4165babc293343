"""Tracking numbers and the ship-confirmation outbox against the loopback platform."""

from __future__ import annotations

import datetime as dt

import pytest

from dadan.core.errors import BlockedOrder, DadanError
from dadan.core.models import AuditEvent, Courier, Order, Shipment, utcnow
from dadan.core.orders.rules import Flag
from dadan.core.shipping.outbox import (
    assign_tracking,
    couriers,
    outbox_counts,
    process_outbox,
    recover_stale,
    retry_shipments,
)
from tests.test_sync_support import db_orders, sync
from tests.test_sync_support import env_both as env  # noqa: F401 - the fixture, on both backends


def _ready(env, n=3):
    sns = env.platform.generate_orders(env.mall, n + 6, spread_hours=5)
    assert sync(env).ok
    got = db_orders(env.shop.id)
    return [got[sn] for sn in sns if got[sn].order_status == 1 and not got[sn].exception_flags][:n]


def _later(minutes=120):
    return utcnow() + dt.timedelta(minutes=minutes)


def test_assign_creates_pending_shipment_in_same_transaction(env):
    [o] = _ready(env, 1)
    s = assign_tracking(o.id, " yt 1234567890123 ", 85, actor="amy")
    o = Order.get_by_id(o.id)
    assert (o.tracking_number, o.logistics_id, o.state) == ("YT1234567890123", 85, "shipped") and o.shipped_at
    assert (s.state, s.tracking_number, s.created_by) == ("pending", "YT1234567890123", "amy")
    assert AuditEvent.select().where(AuditEvent.action == "ship").count() == 1
    # the same assignment again is a no-op; counts for the UI
    assert assign_tracking(o.id, "YT1234567890123", 85, actor="amy").id == s.id
    assert outbox_counts()["pending"] == 1


def test_assign_refuses_blocked_and_invalid(env):
    [o] = _ready(env, 1)
    Order.update(exception_flags=Flag.REFUND).where(Order.id == o.id).execute()
    with pytest.raises(BlockedOrder) as ei:
        assign_tracking(o.id, "YT1234567890123", 85, actor="amy")
    assert "refund" in ei.value.message
    assert Shipment.select().count() == 0 and Order.get_by_id(o.id).state == "new"
    with pytest.raises(DadanError):
        assign_tracking(o.id, "x", 85, actor="amy")


def test_outbox_confirms_and_order_becomes_confirmed(env):
    orders = _ready(env, 3)
    for i, o in enumerate(orders):
        assign_tracking(o.id, f"YT999000000000{i}", 85, actor="amy")
    rep = process_outbox(env.factory)
    assert rep.confirmed == 3
    assert {o.state for o in Order.select().where(Order.id.in_([o.id for o in orders]))} == {"confirmed"}
    truth = env.platform.truth(env.mall)
    assert all(truth[o.order_sn]["order_status"] == 2 for o in orders)
    assert outbox_counts()["confirmed"] == 3
    # a later sync sees them shipped by us: no "shipped elsewhere" flag
    env.platform.advance(600)
    assert sync(env).ok
    assert all(not Order.get_by_id(o.id).exception_flags for o in orders)


def test_outbox_retries_with_backoff_and_error_visible(env):
    [o] = _ready(env, 1)
    s = assign_tracking(o.id, "YT5550000000001", 85, actor="amy")
    env.platform.faults.queue.extend([("busy", "pdd.logistics.online.send")] * 30)
    now = utcnow()
    rep = process_outbox(env.factory, now=now)
    assert rep.retried == 1
    s = Shipment.get_by_id(s.id)
    assert s.state == "pending" and s.attempts == 1 and s.last_error_code == 52001
    assert "busy" in s.last_error
    first_delay = s.next_attempt_at - now
    assert dt.timedelta(seconds=20) < first_delay < dt.timedelta(seconds=40)
    assert process_outbox(env.factory, now=now).sent == 0  # not due yet
    later = now + dt.timedelta(minutes=5)
    process_outbox(env.factory, now=later)
    s = Shipment.get_by_id(s.id)
    assert s.attempts == 2 and s.next_attempt_at - later > first_delay * 1.2  # grows
    env.platform.faults.queue.clear()
    assert process_outbox(env.factory, now=_later()).confirmed == 1
    assert Shipment.get_by_id(s.id).state == "confirmed"


def test_lost_answer_then_already_shipped_counts_as_done(env):
    [o] = _ready(env, 1)
    s = assign_tracking(o.id, "YT7770000000001", 85, actor="amy")
    # the platform ships it, but the answer is lost; client retries are off for this test
    env.factory.retry.attempts, old = 1, env.factory.retry.attempts
    try:
        env.platform.faults.queue.append(("truncated", "pdd.logistics.online.send"))
        assert process_outbox(env.factory).retried == 1
        assert env.platform.truth(env.mall)[o.order_sn]["order_status"] == 2
        rep = process_outbox(env.factory, now=_later())
    finally:
        env.factory.retry.attempts = old
    assert rep.confirmed == 1
    s = Shipment.get_by_id(s.id)
    assert s.state == "confirmed" and s.attempts == 2
    assert len(env.platform.sends) == 1  # shipped once on the platform
    assert Order.get_by_id(o.id).state == "confirmed"


def test_refusal_fails_visibly_and_flags_order(env):
    [o] = _ready(env, 1)
    s = assign_tracking(o.id, "YT8880000000001", 85, actor="amy")
    env.platform.mutate(env.mall, "refund", o.order_sn)  # refund starts before we confirm
    rep = process_outbox(env.factory)
    assert rep.failed == 1
    s = Shipment.get_by_id(s.id)
    assert s.state == "failed" and "退款" in s.last_error and s.last_error_code == 30002
    assert Order.get_by_id(o.id).exception_flags & Flag.SHIP_FAILED
    assert outbox_counts()["failed"] == 1
    assert retry_shipments([s.id], actor="amy") == 1
    assert Shipment.get_by_id(s.id).state == "pending"


def test_shipped_elsewhere_with_other_number_fails(env):
    [o] = _ready(env, 1)
    s = assign_tracking(o.id, "YT1110000000001", 85, actor="amy")
    env.platform.mutate(env.mall, "shipped_elsewhere", o.order_sn)
    process_outbox(env.factory)
    s = Shipment.get_by_id(s.id)
    assert s.state == "failed" and "不一致" in s.last_error


def test_reassign_supersedes_and_clears_ship_failed(env):
    [o] = _ready(env, 1)
    s1 = assign_tracking(o.id, "YT2220000000001", 85, actor="amy")
    Shipment.update(state="failed").where(Shipment.id == s1.id).execute()
    Order.update(exception_flags=Flag.SHIP_FAILED).where(Order.id == o.id).execute()
    s2 = assign_tracking(o.id, "YT2220000000002", 85, actor="amy")
    assert Shipment.get_by_id(s1.id).state == "superseded" and s2.state == "pending"
    assert Order.get_by_id(o.id).exception_flags == 0
    assert process_outbox(env.factory).confirmed == 1


def test_crash_left_sending_is_recovered_and_sent_once(env):
    [o] = _ready(env, 1)
    s = assign_tracking(o.id, "YT3330000000001", 85, actor="amy")
    Shipment.update(state="sending", next_attempt_at=utcnow() - dt.timedelta(seconds=1)).where(
        Shipment.id == s.id).execute()
    assert recover_stale() == 1
    assert process_outbox(env.factory).confirmed == 1
    assert len(env.platform.sends) == 1


def test_couriers_cached_from_platform(env):
    assert Courier.select().count() == 0
    lst = couriers(env.factory)
    assert {c.id for c in lst} >= {1, 44, 85, 115}
    n = env.platform.requests["pdd.logistics.companies.get"]
    couriers(env.factory)
    assert env.platform.requests["pdd.logistics.companies.get"] == n  # cached
    [o] = _ready(env, 1)
    with pytest.raises(DadanError):
        assign_tracking(o.id, "YT4440000000001", 9999, actor="amy")
