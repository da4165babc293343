"""The managed SKUs' available stock pushed to the platform (``pdd.goods.quantity.update``)
through the stock outbox, over real HTTP to the loopback platform: the platform ends up holding
exactly on hand - reserved; newer quantities replace queued ones; lost answers, platform
refusals and crashes mid-send are retried until done."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter

from dadan.core.goods import catalogue, ledger
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.models import Goods, StockPush
from dadan.core.goods.push_sender import STALE_AFTER, process_pushes, push_counts
from dadan.core.models import Order, OrderItem, utcnow
from dadan.core.platform.loopback.world import Mall
from dadan.core.platform.pdd import RetryPolicy
from tests.test_sync_support import env_both as env  # noqa: F401 - the fixture, on both backends
from tests.test_sync_support import sync

API = "pdd.goods.quantity.update"


def _later(minutes: float = 120) -> dt.datetime:
    return utcnow() + dt.timedelta(minutes=minutes)


def _open_lines() -> Counter:
    """{(outer_id, goods_id, sku_id): pieces} over the open orders, counted here from the orders."""
    need: Counter = Counter()
    for it in OrderItem.select(OrderItem, Order).join(Order):
        o = it.order
        if o.order_status == 1 and o.state in ("new", "printed") and o.refund_status not in (3, 4):
            need[(it.outer_id, it.goods_id, it.sku_id)] += it.goods_count
    return need


def _stocked(env, *, spare: int | None = 10, on_hand: int = 0, orders: int = 40, managed: bool = True, **kw):
    """Orders synced from the platform, then the SKU most of them want in the catalogue with
    what they reserve plus ``spare`` on the shelf (``spare`` None: ``on_hand``).
    -> (goods, platform goods_id, platform sku_id, pieces reserved)."""
    env.platform.generate_orders(env.mall, orders, spread_hours=5)
    assert sync(env).ok
    (code, gid, sku), reserved = _open_lines().most_common(1)[0]
    if spare is not None:
        on_hand = reserved + spare
    catalogue.save([GoodsRecord(code=code, name="测试商品", on_hand=on_hand, managed=managed, **kw)], actor="amy")
    g = Goods.get(Goods.code == code)
    assert (g.on_hand, g.reserved) == (on_hand, reserved)
    return g, gid, sku, reserved


def _held(env, gid, sku, mall: Mall | None = None):
    return env.platform.stock_quantity(mall or env.mall, gid, sku)


def _updates(env, sku) -> list[int]:
    return [u["quantity"] for u in env.platform.stock.updates if u["sku_id"] == str(sku)]


def _row(g: Goods) -> StockPush:
    return StockPush.select().where(StockPush.goods == g.id).order_by(StockPush.id.desc()).get()


def _no_client_retries(env):
    env.factory.retry = RetryPolicy(attempts=1)


def _new_order_with(env, code: str, gid: str, sku: str, count: int) -> str:
    """A new paid order on the platform for ``count`` of one SKU, then synced."""
    sn, _ = env.platform.mutate(env.mall, "new")
    with env.platform.lock:
        o = env.mall.orders[sn]
        o["item_list"] = [dict(o["item_list"][0], goods_id=int(gid), sku_id=int(sku), outer_id=code,
                               goods_count=count)]
    env.platform.advance(600)  # past the sync's safety margin
    assert sync(env).ok
    return sn


def test_managed_sku_platform_holds_exactly_available(env):
    g, gid, sku, reserved = _stocked(env, spare=50)
    assert _row(g).state == "pending" and _row(g).quantity == 50
    rep = process_pushes(env.factory)
    assert (rep.sent, rep.done, rep.failed, rep.errors) == (1, 1, 0, [])
    assert _held(env, gid, sku) == 50
    row = _row(g)
    assert (row.state, row.attempts, row.last_error) == ("done", 1, "") and row.done_at
    assert process_pushes(env.factory, now=_later()).sent == 0  # nothing left to send
    assert push_counts() == {"pending": 0, "sending": 0, "done": 1, "failed": 0}


def test_short_sku_pushes_zero_never_negative(env):
    g, gid, sku, reserved = _stocked(env, spare=None, on_hand=0)
    assert reserved > 0 and Goods.get_by_id(g.id).available < 0
    process_pushes(env.factory)
    assert _held(env, gid, sku) == 0


def test_receipt_then_new_order_pushes_latest_and_coalesces(env):
    g, gid, sku, reserved = _stocked(env, spare=20)
    process_pushes(env.factory)
    assert _updates(env, sku) == [20]
    ledger.move(g.id, 10, "receive", actor="amy", reason="到货")
    assert _row(g).quantity == 30 and _row(g).state == "pending"
    _new_order_with(env, g.code, gid, sku, 3)
    assert Goods.get_by_id(g.id).reserved == reserved + 3
    assert StockPush.select().where(StockPush.goods == g.id, StockPush.state == "pending").count() == 1
    assert process_pushes(env.factory).done == 1
    assert _updates(env, sku) == [20, 27]  # 30 was never sent
    assert _held(env, gid, sku) == 27


def test_lost_answer_is_retried_and_ends_right(env):
    g, gid, sku, reserved = _stocked(env, spare=40)
    _no_client_retries(env)
    env.platform.faults.queue.append(("truncated", API))  # applied, but the answer is lost
    rep = process_pushes(env.factory)
    assert (rep.sent, rep.failed) == (1, 1)
    row = _row(g)
    assert row.state == "failed" and row.last_error and row.next_attempt_at > utcnow()
    assert _held(env, gid, sku) == 40  # the platform took it
    rep = process_pushes(env.factory, now=_later())
    assert (rep.done, rep.errors) == (1, [])
    row = _row(g)
    assert (row.state, row.attempts, row.last_error) == ("done", 2, "")
    assert _updates(env, sku) == [40, 40]  # the same set again
    assert _held(env, gid, sku) == 40


def test_platform_refusal_fails_with_its_message_then_done(env):
    g, gid, sku, reserved = _stocked(env, spare=15, platform_goods_id="499999999")
    now = utcnow()
    rep = process_pushes(env.factory, now=now)
    assert rep.failed == 1 and "商品不存在" in rep.errors[0]
    row = _row(g)
    assert row.state == "failed" and "商品不存在" in row.last_error and "shop-a" in row.last_error
    first_delay = row.next_attempt_at - now
    assert dt.timedelta(seconds=20) < first_delay < dt.timedelta(seconds=40)
    assert process_pushes(env.factory, now=now + dt.timedelta(seconds=5)).sent == 0  # not due yet
    later = now + dt.timedelta(minutes=5)
    process_pushes(env.factory, now=later)  # still wrong: the delay grows
    row = _row(g)
    assert row.attempts == 2 and row.next_attempt_at - later > first_delay * 1.2
    assert _held(env, gid, sku) is None
    catalogue.edit(g.id, actor="amy", platform_goods_id="")  # the wrong id is mended
    rep = process_pushes(env.factory, now=_later())
    assert (rep.done, rep.failed) == (1, 0)
    row = _row(g)
    assert (row.state, row.last_error, row.quantity) == ("done", "", 15)
    assert _held(env, gid, sku) == 15


def test_busy_platform_is_retried_later(env):
    g, gid, sku, reserved = _stocked(env, spare=9)
    _no_client_retries(env)
    env.platform.faults.queue.append(("busy", API))
    assert process_pushes(env.factory).failed == 1
    assert "繁忙" in _row(g).last_error or "busy" in _row(g).last_error
    assert process_pushes(env.factory, now=_later()).done == 1
    assert _held(env, gid, sku) == 9


def test_unmanaged_sku_is_never_pushed(env):
    g, gid, sku, _ = _stocked(env, spare=30, managed=False)
    ledger.move(g.id, 5, "receive", actor="amy")
    _new_order_with(env, g.code, gid, sku, 1)
    assert StockPush.select().count() == 0
    assert process_pushes(env.factory, now=_later()).sent == 0
    assert env.platform.requests[API] == 0
    # managed, queued, then unmanaged before it was sent: still never pushed
    catalogue.edit(g.id, actor="amy", managed=True)
    assert _row(g).state == "pending"
    catalogue.edit(g.id, actor="amy", managed=False)
    rep = process_pushes(env.factory, now=_later())
    assert rep.done == 1 and env.platform.requests[API] == 0
    assert _row(g).state == "done" and "managed" in _row(g).last_error


def test_crash_mid_send_is_recovered_and_sent_again(env):
    g, gid, sku, reserved = _stocked(env, spare=12)
    now = utcnow()
    # what a crash after the claim leaves behind
    StockPush.update(state="sending", attempts=1, next_attempt_at=now + STALE_AFTER).where(
        StockPush.goods == g.id).execute()
    assert process_pushes(env.factory, now=now).sent == 0  # maybe still being sent elsewhere
    assert _row(g).state == "sending"
    rep = process_pushes(env.factory, now=now + STALE_AFTER + dt.timedelta(seconds=1))
    assert (rep.sent, rep.done) == (1, 1)
    row = _row(g)
    assert (row.state, row.attempts, row.quantity) == ("done", 2, 12)
    assert _held(env, gid, sku) == 12


def test_change_while_sending_waits_then_sends_newest(env):
    g, gid, sku, reserved = _stocked(env, spare=12)
    now = utcnow()
    StockPush.update(state="sending", attempts=1, next_attempt_at=now + STALE_AFTER).where(
        StockPush.goods == g.id).execute()
    ledger.move(g.id, 8, "receive", actor="amy")  # a new row; the old one is still on its way
    assert StockPush.select().where(StockPush.goods == g.id).count() == 2
    assert process_pushes(env.factory, now=now).sent == 0  # not while the other one is sending
    later = now + STALE_AFTER + dt.timedelta(seconds=1)
    rep = process_pushes(env.factory, now=later)  # the stale one is replaced, not sent
    assert (rep.sent, rep.done) == (1, 1)
    assert _updates(env, sku) == [20]
    states = [(r.state, r.quantity) for r in StockPush.select().where(StockPush.goods == g.id).order_by(StockPush.id)]
    assert states == [("done", 12), ("done", 20)]


def test_every_shop_selling_the_sku_gets_it(env):
    g, gid, sku, reserved = _stocked(env, spare=25)
    mall_b, shop_b = env.add_shop("shop-b")
    env.platform.generate_orders(mall_b, 6, spread_hours=5)
    sn_b = sorted(mall_b.orders)[0]
    with env.platform.lock:
        o = mall_b.orders[sn_b]
        o.update(order_status=1, refund_status=1)
        o["item_list"] = [dict(o["item_list"][0], goods_id=int(gid), sku_id=int(sku), outer_id=g.code,
                               goods_count=2)]
        for other in [sn for sn in mall_b.orders if sn != sn_b]:  # shop b's other orders sell other things
            lines = [it for it in mall_b.orders[other]["item_list"] if str(it["sku_id"]) != str(sku)]
            if lines:
                mall_b.orders[other]["item_list"] = lines
            else:
                del mall_b.orders[other]
    assert sync(env, shop_b).ok
    g = Goods.get_by_id(g.id)
    assert g.reserved == reserved + 2
    mall_c, _shop_c = env.add_shop("shop-c")  # sells other things only: nothing pushed there
    _no_client_retries(env)
    env.platform.faults.queue.append(("busy", API))  # the first shop's update fails
    rep = process_pushes(env.factory)
    assert rep.failed == 1 and ("shop-a" in rep.errors[0]) and "shop-b" not in rep.errors[0]
    assert _held(env, gid, sku, mall_b) == g.available and _held(env, gid, sku) is None
    rep = process_pushes(env.factory, now=_later())
    assert rep.done == 1
    assert _held(env, gid, sku) == _held(env, gid, sku, mall_b) == g.available
    assert _held(env, gid, sku, mall_c) is None
    assert len(_updates(env, sku)) == 3  # retried to both shops (a set is idempotent)


def test_sku_no_shop_sells_is_done_with_a_note(env):
    env.platform.generate_orders(env.mall, 5, spread_hours=5)
    assert sync(env).ok
    catalogue.save([GoodsRecord(code="ZZ-NOT-SOLD", on_hand=7, managed=True)], actor="amy")
    rep = process_pushes(env.factory)
    assert rep.done == 1 and env.platform.requests[API] == 0
    row = StockPush.get()
    assert row.state == "done" and "sells" in row.last_error


def test_outer_id_names_the_sku_when_no_sku_id(env):
    g, gid, sku, reserved = _stocked(env, spare=6)
    OrderItem.update(sku_id="").where(OrderItem.outer_id == g.code).execute()
    process_pushes(env.factory)
    assert _held(env, gid, sku) == 6  # the platform found it by its merchant code


def test_loopback_checks_params_and_refuses_negative_subtraction(env):
    from dadan.core.platform.pdd import BadRequest, PlatformError

    gid, skus = next(iter(env.platform.stock.listed.items()))
    sku = next(iter(skus))
    with env.client() as c:
        assert c.goods_quantity_update(gid, 5, sku_id=sku) == {"is_success": True}
        assert c.goods_quantity_update(gid, -3, sku_id=sku, update_type=2) == {"is_success": True}
        assert _held(env, gid, sku) == 2
        for bad in ({"goods_id": gid, "quantity": 1},  # no sku
                    {"goods_id": gid, "sku_id": sku, "quantity": "x"},
                    {"goods_id": gid, "sku_id": sku, "quantity": 1, "update_type": 3},
                    {"goods_id": gid, "sku_id": sku, "quantity": -1, "update_type": 1}):
            try:
                c.call(API, bad, retry=False)
            except BadRequest:
                continue
            raise AssertionError(f"accepted {bad}")
        try:
            c.goods_quantity_update(gid, -3, sku_id=sku, update_type=2)
        except PlatformError as exc:
            assert "不能小于0" in exc.platform_message
        else:
            raise AssertionError("a subtraction below 0 was accepted")
    assert _held(env, gid, sku) == 2


def test_scheduler_runs_the_push_with_the_outbox(env):
    from dadan.core.config import Settings
    from dadan.core.context import Context
    from dadan.core.platform.scheduler import Scheduler

    g, gid, sku, reserved = _stocked(env, spare=33)
    settings = Settings()
    settings.sync = env.settings
    ctx = Context(paths=env.paths, settings=settings)
    events = []
    sched = Scheduler(ctx, factory=env.factory, on_event=lambda k, p: events.append((k, p)))
    sched.start()
    try:
        sched.outbox_now()
        deadline = time.time() + 10
        while not any(k == "stock_push" for k, _ in events) and time.time() < deadline:
            time.sleep(0.05)
    finally:
        sched.stop()
    [report] = [p for k, p in events if k == "stock_push"]
    assert report.done == 1 and "1" in report.summary()
    assert _held(env, gid, sku) == 33


def test_cli_sync_outbox_pushes_stock(env, capsys):
    from dadan.core.config import Settings
    from dadan.core.context import Context
    from dadan.tui.commands import sync as cmd

    g, gid, sku, reserved = _stocked(env, spare=21)
    settings = Settings()
    settings.sync = env.settings
    ctx = Context(paths=env.paths, settings=settings)
    ctx._db = True  # already open
    assert cmd.run(argparse.Namespace(shop=None, outbox=True), ctx) == 0
    assert "stock to the platform: 1 done, 0 failed now; 0 pending, 0 failed in all" in capsys.readouterr().out
    assert _held(env, gid, sku) == 21


def test_ids_come_from_the_shops_latest_order_line(env):
    g, gid, sku, reserved = _stocked(env, spare=5)
    # the older lines carry an id the listing no longer has (relisted goods); the newest is right
    OrderItem.update(goods_id="400999000").where(OrderItem.outer_id == g.code).execute()
    _new_order_with(env, g.code, gid, sku, 1)
    rep = process_pushes(env.factory)
    assert (rep.done, rep.failed) == (1, 0)
    assert _held(env, gid, sku) == 4
