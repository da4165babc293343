"""Incremental sync: windows, paging, details, cursor, change detection, runs, leases."""

from __future__ import annotations

import datetime as dt

import pytest

from dadan.core import leases
from dadan.core.config import SyncSettings
from dadan.core.models import Lease, Order, OrderItem, Shop, SyncRun
from dadan.core.orders.rules import Flag
from dadan.core.platform.sync import (
    china_to_utc,
    order_record,
    plan_windows,
    sync_lease_name,
)
from tests.test_sync_support import db_orders, make_env, sync
from tests.test_sync_support import env_both as env  # noqa: F401 - the fixture, on both backends


def test_plan_windows_respect_limit_overlap_and_margin():
    s = SyncSettings(backfill_days=1, window_minutes=30, overlap_minutes=5)
    end = 1_700_000_000
    wins = list(plan_windows(None, end, s))
    assert wins[0][0] == end - 86400 and wins[-1][1] == end
    assert all(0 < b - a <= 1800 for a, b in wins)
    assert all(wins[i + 1][0] == wins[i][1] - 300 for i in range(len(wins) - 1))
    # resumed from a cursor: starts overlap before it; nothing to do when caught up
    assert list(plan_windows(end - 100, end, s)) == [(end - 400, end)]
    assert list(plan_windows(end, end, s)) == []


def test_order_record_converts_money_times_and_receiver():
    o = {"order_sn": "231114-123456789012345", "order_status": 1, "pay_amount": 29.9, "postage": "3.50",
         "updated_at": "2023-11-14 08:30:00", "receiver_name": "~abc~1~~", "receiver_phone": "$p$1$$",
         "address": "~addr~1~~", "receiver_name_mask": "王*", "remark_tag": 0, "unknown_field": 1,
         "item_list": [{"goods_id": 12, "goods_count": 2, "goods_price": 12.8, "outer_id": "A12"}]}
    r = order_record(o)
    assert r["pay_amount_fen"] == 2990 and r["postage_fen"] == 350
    assert r["updated_at"] == dt.datetime(2023, 11, 14, 0, 30)
    assert r["receiver_address_enc"] == "~addr~1~~" and r["receiver_phone_enc"] == "$p$1$$"
    assert r["remark_tag"] is None and "unknown_field" not in r
    assert r["items"][0]["goods_price_fen"] == 1280 and r["items"][0]["goods_id"] == "12"
    assert china_to_utc("") is None and china_to_utc("garbage") is None


def test_first_sync_backfills_and_matches_platform(env):
    env.platform.generate_orders(env.mall, 180, spread_hours=20)
    r = sync(env)
    assert r.ok, r.error
    truth = env.platform.truth(env.mall)
    got = db_orders(env.shop.id)
    assert set(got) == set(truth)
    o = next(iter(truth.values()))
    row = got[o["order_sn"]]
    assert row.pay_amount_fen == round(o["pay_amount"] * 100)
    assert OrderItem.select().where(OrderItem.order == row.id).count() == len(o["item_list"])
    shop = Shop.get_by_id(env.shop.id)
    assert shop.sync_cursor is not None and shop.last_sync_ok and shop.auth_state == "ok"
    run = SyncRun.get(SyncRun.shop == env.shop.id)
    assert run.ok and run.windows == r.windows > 40 and run.orders_new == 180 and run.finished_at
    # the cursor sits a safety margin behind platform time
    margin = dt.datetime.now(dt.UTC).replace(tzinfo=None) - shop.sync_cursor
    assert dt.timedelta(minutes=2) < margin < dt.timedelta(minutes=4)


def test_second_sync_is_incremental_and_idempotent(env):
    env.platform.generate_orders(env.mall, 60, spread_hours=10)
    assert sync(env).ok
    env.platform.requests.clear()
    assert sync(env).windows <= 1  # nothing new behind the safety margin yet
    env.platform.advance(120)
    env.platform.requests.clear()
    r = sync(env)
    assert r.ok and r.windows == 1 and r.orders_new == 0 and r.orders_changed == 0
    assert env.platform.requests["pdd.order.number.list.increment.get"] == 1
    assert Order.select().count() == 60


def test_window_with_many_pages_and_bare_entries_uses_details(tmp_path, store):
    e = make_env(tmp_path, list_details=False, url=store.url())
    try:
        t = e.platform.now() - 3600
        # 250 orders updated inside one 30-minute window -> 3 pages
        e.platform.generate_orders(e.mall, 250, spread_hours=0.2, end=t)
        r = sync(e)
        assert r.ok, r.error
        # every order once, plus those seen again in a window overlap (equal update time)
        assert 250 <= r.details_fetched < 300
        assert e.platform.requests["pdd.order.information.get"] == r.details_fetched
        assert set(db_orders(e.shop.id)) == set(e.platform.truth(e.mall))
    finally:
        e.server.stop()


def test_orders_changing_while_paging_are_not_lost(env):
    t = env.platform.now() - 3600
    env.platform.generate_orders(env.mall, 300, spread_hours=0.2, end=t)
    calls = {"n": 0}

    def hook(api, params):
        if api == "pdd.order.number.list.increment.get":
            calls["n"] += 1
            for _ in range(15):  # orders leave the window (updated now) between pages
                env.platform.mutate(env.mall, "remark")

    env.platform.on_request = hook
    assert sync(env).ok
    env.platform.on_request = None
    env.platform.advance(600)  # past the safety margin
    assert sync(env).ok
    truth = env.platform.truth(env.mall)
    got = db_orders(env.shop.id)
    assert set(got) == set(truth)
    assert all(got[sn].remark == o["remark"] for sn, o in truth.items())


def test_failure_mid_sync_keeps_cursor_at_last_committed_window(env):
    env.platform.generate_orders(env.mall, 100, spread_hours=20)
    # from the 11th list call on the platform stays busy longer than the client retries
    n = {"c": 0}

    def hook(api, params):
        if api == "pdd.order.number.list.increment.get":
            n["c"] += 1
            if n["c"] >= 10:
                env.platform.faults.queue.extend(["busy"] * 20)

    env.platform.on_request = hook
    r = sync(env)
    assert not r.ok and "busy" in r.error
    shop = Shop.get_by_id(env.shop.id)
    assert r.windows == 10 and shop.sync_cursor == r.cursor and shop.last_sync_ok is False
    assert SyncRun.get(SyncRun.id == r.run_id).error
    env.platform.on_request = None
    env.platform.faults.queue.clear()
    assert sync(env).ok
    assert set(db_orders(env.shop.id)) == set(env.platform.truth(env.mall))


@pytest.mark.parametrize("kind, flag", [
    ("refund", Flag.REFUND), ("after_sale", Flag.AFTER_SALE), ("cancel", Flag.CANCELLED),
    ("risk", Flag.RISK), ("address", Flag.ADDRESS_CHANGED), ("shipped_elsewhere", Flag.SHIPPED_ELSEWHERE),
    ("stock_out", Flag.OUT_OF_STOCK),
])
def test_changes_raise_exception_flags(env, kind, flag):
    sns = env.platform.generate_orders(env.mall, 5, spread_hours=5)
    assert sync(env).ok
    sn = next(s for s in sns if env.platform.truth(env.mall)[s]["order_status"] == 1
              and env.platform.truth(env.mall)[s]["refund_status"] == 1)
    assert db_orders(env.shop.id)[sn].exception_flags == 0
    env.platform.mutate(env.mall, kind, sn)
    env.platform.advance(600)
    assert sync(env).ok
    o = db_orders(env.shop.id)[sn]
    assert o.exception_flags & flag, (kind, o.exception_flags)
    assert o.blocked


def test_remark_change_updates_without_flag(env):
    sns = env.platform.generate_orders(env.mall, 3, spread_hours=5)
    assert sync(env).ok
    sn = next(s for s in sns if db_orders(env.shop.id)[s].exception_flags == 0)
    env.platform.mutate(env.mall, "remark", sn)
    env.platform.advance(600)
    r = sync(env)
    assert r.orders_changed == 1
    o = db_orders(env.shop.id)[sn]
    assert o.remark and o.exception_flags == 0


def test_multiple_shops_sync_separately(env):
    mall_b, shop_b = env.add_shop("shop-b")
    env.platform.generate_orders(env.mall, 20, spread_hours=5)
    env.platform.generate_orders(mall_b, 30, spread_hours=5)
    from dadan.core.platform.sync import sync_shops

    reports = sync_shops(env.factory, env.settings)
    assert [r.ok for r in reports] == [True, True]
    assert len(db_orders(env.shop.id)) == 20 and len(db_orders(shop_b.id)) == 30


def test_only_the_lease_holder_syncs(env):
    env.platform.generate_orders(env.mall, 10, spread_hours=5)
    assert leases.acquire(sync_lease_name(env.shop.id), "other-terminal", dt.timedelta(seconds=60))
    r = sync(env)
    assert r.skipped and not r.ok and "other-terminal" in r.error
    assert Order.select().count() == 0
    # an expired lease is taken over
    Lease.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    assert sync(env).ok
    assert Lease.select().count() == 0  # released after the pass


def test_a_killed_syncs_lease_is_taken_over_at_once(env):
    """A sync killed mid-pass leaves its lease behind; its holder (a process on this host) is dead,
    so the next sync runs at once instead of waiting for the lease to expire (issue #14 item 12)."""
    import os
    import socket
    import subprocess
    import sys

    env.platform.generate_orders(env.mall, 10, spread_hours=5)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holder = f"{socket.gethostname()}:{dead.pid}:dead01"
    assert leases.acquire(sync_lease_name(env.shop.id), holder, dt.timedelta(minutes=5))
    assert leases.current_holder(sync_lease_name(env.shop.id)) is None
    r = sync(env)
    assert r.ok and not r.skipped, r.error
    assert len(db_orders(env.shop.id)) == 10
    # a live holder on this host (another terminal's lease in this very process) still blocks
    alive = f"{socket.gethostname()}:{os.getpid()}:alive1"
    assert leases.acquire(sync_lease_name(env.shop.id), alive, dt.timedelta(minutes=5))
    assert sync(env).skipped


def test_unconfigured_shop_reports_clearly(env):
    from dadan.core.platform.sync import sync_shops

    env.store.remove("shop-a")
    [r] = sync_shops(env.factory, env.settings)
    assert not r.ok and "dadan shops add" in r.error
    assert Shop.get_by_id(env.shop.id).auth_state == "unconfigured"
