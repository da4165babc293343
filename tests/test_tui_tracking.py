"""Tracking entry: courier picked once, numbers scanned one after another; a blocked order is
refused in words and nothing changes."""

import pytest

from dadan.core.models import Order, Shipment
from dadan.tui.screens.tracking import TrackingScreen
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


async def test_tracking_entry_for_a_selection(tmp_path):
    ctx = make_ctx(tmp_path, 200)
    ok = [o.id for o in Order.select().where(Order.state == "printed", Order.exception_flags == 0,
                                             Order.order_status == 1).limit(2)]
    blocked = Order.select().where(Order.exception_flags != 0, Order.order_status == 1).first().id
    ids = ok + [blocked]
    Order.update(tracking_number="").where(Order.id.in_(ids)).execute()  # waiting for their numbers
    assert len(ok) == 2
    app = harness(ctx, lambda: TrackingScreen(ids, logistics_id=115))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        for code in ("75310000000001", "75310000000002", "75310000000003"):
            await pilot.press(*code, "enter")
            await wait_idle(pilot)
        assert scr.assigned == 2
        assert scr.query_one("#trk-status").has_class("-warn")
        assert "cannot be shipped" in str(scr.query_one("#trk-status").content)
    got = {o.id: (o.tracking_number, o.state, o.logistics_id) for o in Order.select().where(Order.id.in_(ids))}
    assert got[ok[0]] == ("75310000000001", "shipped", 115) and got[ok[1]] == ("75310000000002", "shipped", 115)
    assert got[blocked][0] == "" and Shipment.select().where(Shipment.order == blocked).count() == 0
    assert Shipment.select().where(Shipment.order.in_(ok), Shipment.state == "pending").count() == 2
