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


async def test_the_courier_choice_is_the_catalogue_until_the_platforms_list_is_read(tmp_path):
    """A desk whose courier list was never read from the platform still offers the couriers of
    the courier catalogue (the choice was empty: no number could be typed in); once the list is
    read, it offers the platform's available couriers."""
    from textual.widgets import Select

    from dadan.core.db import write
    from dadan.core.models import Courier, utcnow

    ctx = make_ctx(tmp_path, 60)
    ids = [Order.select().where(Order.exception_flags == 0, Order.order_status == 1).first().id]
    with write():
        Courier.delete().execute()  # (the demo lists the catalogue's, as a platform would)
    for listed in (False, True):
        if listed:
            with write():
                Courier.insert_many([{"id": 115, "name": "中通快递", "code": "ZTO", "available": True, "updated_at": utcnow()},
                                     {"id": 44, "name": "顺丰速运", "code": "SF", "available": False,
                                      "updated_at": utcnow()}]).execute()
        app = harness(ctx, lambda: TrackingScreen(ids))
        app.bell = lambda: None
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_idle(pilot)
            values = [v for _label, v in app.screen.query_one(Select)._options if isinstance(v, int)]
            assert values == ([115] if listed else [1, 3, 44, 85, 115, 118, 120, 121, 131, 132]), values
