"""Resolve an exception: pick a group, tick orders, release with a reason (audited)."""

import pytest

from dadan.core.models import AuditEvent, Order
from dadan.core.orders.exception_groups import group_counts
from dadan.core.orders.rules import Flag
from dadan.tui.screens.detail import DetailScreen
from dadan.tui.screens.exceptions import ExceptionScreen
from tests.desk_helpers import NOW, anyio_backend, harness, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


async def test_release_refund_exception_with_reason(tmp_path):
    ctx = make_ctx(tmp_path, 200)
    before = group_counts(now=NOW)
    assert before["refund"] >= 2
    app = harness(ctx, ExceptionScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        assert len(scr.orders) == before["refund"]
        first = scr.orders[0]
        await pilot.press("tab")  # groups -> orders
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("escape")  # cancelled: nothing happens
        await wait_idle(pilot)
        assert Order.get_by_id(first.id).exception_flags == first.exception_flags
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*"buyer cancelled refund", "enter")
        await wait_idle(pilot)
        assert len(scr.orders) == before["refund"] - 1
        # open an order from the list
        await pilot.press("enter")
        await wait_idle(pilot)
        assert isinstance(app.screen, DetailScreen)
    o = Order.get_by_id(first.id)
    assert not o.exception_flags & (Flag.REFUND | Flag.AFTER_SALE)
    ev = AuditEvent.get(AuditEvent.action == "release", AuditEvent.order == o.id)
    assert ev.reason == "buyer cancelled refund" and ev.actor == "tester"


async def test_hold_from_exception_screen_and_group_switch(tmp_path):
    ctx = make_ctx(tmp_path, 200)
    app = harness(ctx, lambda: ExceptionScreen("overdue"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        assert scr.orders, "demo data has overdue orders"
        target = scr.orders[0].id
        await pilot.press("tab", "space")
        assert scr.ticked == {target}
        await pilot.press("h")
        await pilot.pause()
        await pilot.press(*"wait for stock", "enter")
        await wait_idle(pilot)
        assert Order.get_by_id(target).exception_flags & Flag.HOLD
        await pilot.press("tab")  # back to groups
        await pilot.press("down")
        await wait_idle(pilot)
        assert scr.group == "hold" and target in [o.id for o in scr.orders]


async def test_releasing_an_overdue_order_without_an_exception_says_why_nothing_was_released(tmp_path):
    """An overdue order carries no exception to release: after the reason, the notice says why
    none was released, not a bare "Released 0"."""
    ctx = make_ctx(tmp_path, 200)
    app = harness(ctx, lambda: ExceptionScreen("overdue"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        plain = next(o for o in scr.orders if not o.exception_flags)
        await pilot.press("tab")
        scr.ticked = {plain.id}
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*"late", "enter")
        await wait_idle(pilot)
        notes = [n.message for n in app._notifications]
        assert any("Released 0 order(s); 1 had nothing to release by hand: an overdue order" in m for m in notes), notes
        assert AuditEvent.select().where(AuditEvent.action == "release").count() == 0
