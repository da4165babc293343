"""The handover screen (F10) on a real SQLite file: a scanner's burst of 10 waybills adds
exactly 10; a parcel of another courier rings, shows the red crossed banner and changes nothing;
a parcel scanned twice is refused; the missing numbers are listed; F8 closes the handover after
asking and shows where its list was written. And its snapshot at 80x24."""

from __future__ import annotations

import pytest

from dadan.core.packing.handover_models import Handover, HandoverParcel
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401
from tests.handover_helpers import printed_parcels
from tests.test_tui_goods import scanner

pytestmark = pytest.mark.anyio


def _app(ctx, factory):
    app = harness(ctx, factory)
    app.bells = []
    app.bell = lambda: app.bells.append(1)
    return app


async def _settle(pilot, s):
    await wait_idle(pilot)
    while s.scans.busy:
        await pilot.pause(0.05)
    await wait_idle(pilot)


async def test_a_burst_of_10_adds_exactly_10_wrong_courier_alarms_twice_refused_close(tmp_path):
    from dadan.tui.screens.handover import HandoverScreen
    from dadan.tui.widgets.desk_confirm import DeskConfirm

    ctx = make_ctx(tmp_path, 200)
    zto = printed_parcels(12)
    yto = printed_parcels(1, "YTO", serial0=500)
    app = _app(ctx, HandoverScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        for w in zto[:10]:
            scanner(app, w.code)
        await _settle(pilot, s)
        assert HandoverParcel.select().count() == 10 and [o.kind for o in s.outcomes] == ["added"] * 10
        assert [p.waybill_code for p in HandoverParcel.select().order_by(HandoverParcel.id)] == [w.code for w in zto[:10]]
        assert s.courier == "ZTO" and not app.bells
        zrow = next(r for r in s.rows if r.wp_code == "ZTO")
        assert (zrow.printed, zrow.scanned, zrow.missing) == (12, 10, [w.code for w in zto[10:]])
        missing = str(s.query_one("#ho-missing").render())
        assert zto[10].code in missing and zto[11].code in missing and "MISSING" in missing
        scanner(app, yto[0].code)  # another courier's parcel
        await _settle(pilot, s)
        banner = s.query_one("#ho-banner")
        assert s.outcomes[-1].kind == "wrong_courier" and app.bells == [1]
        assert banner.has_class("-warn") and "✖ ✖ ✖" in str(banner.render()) and "WRONG COURIER" in str(banner.render())
        assert HandoverParcel.select().count() == 10 and Handover.select().count() == 1
        scanner(app, zto[0].code)  # twice
        await _settle(pilot, s)
        assert s.outcomes[-1].kind == "twice" and app.bells == [1, 1] and HandoverParcel.select().count() == 10
        await pilot.press("f8")
        await wait_idle(pilot)
        assert isinstance(app.screen, DeskConfirm)
        await pilot.press("y")
        for _ in range(100):
            if s.last_close is not None:
                break
            await pilot.pause(0.05)
        await wait_idle(pilot)
        assert s.last_close is not None, str(s.query_one("#ho-banner").render())
        assert s.last_close.count == 10 and s.last_close.path.exists()
        assert s.last_close.path.parent == ctx.paths.exports_dir
        assert str(s.last_close.path.name) in str(s.query_one("#ho-banner").render()).replace("\n", "")
        assert Handover.get_by_id(s.last_close.handover_id).closed_at is not None


def test_handover_snapshot_80x24(tmp_path, snap_compare):
    from dadan.tui.screens.handover import HandoverScreen

    ctx = make_ctx(tmp_path, 60, seed=3)
    parcels = printed_parcels(6)
    printed_parcels(2, "YTO", serial0=500)
    app = harness(ctx, HandoverScreen)
    app.bell = lambda: None

    async def run_before(pilot):
        await wait_idle(pilot, 4)
        for w in parcels[:4]:
            await pilot.press(*w.code, "enter")
        await pilot.press(*"NOSUCH1", "enter")
        await wait_idle(pilot)
        while pilot.app.screen.scans.busy:
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        await wait_idle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_every_missing_number_can_be_seen_and_a_blocked_parcel_is_kept_out_not_missing(tmp_path):
    """90 printed parcels, none scanned: at 80x24 the missing numbers are more than the box
    holds; PgDn scrolls to the last of them (the scan field keeps the focus), PgUp back. A parcel
    whose order was blocked after printing (a refund) is listed to keep out, not as missing."""
    from dadan.core.db import write
    from dadan.core.models import Order, WaybillOrder
    from dadan.tui.screens.handover import HandoverScreen

    ctx = make_ctx(tmp_path, 400)
    zto = printed_parcels(90)
    with write():
        Order.update(exception_flags=1).where(  # (1: a refund)
            Order.id == WaybillOrder.get(WaybillOrder.waybill == zto[5].id).order_id).execute()
    app = _app(ctx, HandoverScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        box = s.query_one("#ho-missing-box")
        text = str(s.query_one("#ho-missing").render())
        assert "MISSING (printed, not scanned) 89:" in text and "KEEP OUT" in text
        assert zto[5].code not in text.split("KEEP OUT")[0] and zto[5].code in text.split("KEEP OUT")[1]
        assert box.max_scroll_y > 0 and box.scroll_y == 0  # more than the box holds
        for _ in range(20):
            await pilot.press("pagedown")
        await wait_idle(pilot)
        assert box.scroll_y == box.max_scroll_y and s.query_one("#ho-input").has_focus
        await pilot.press("pageup")
        await wait_idle(pilot)
        assert 0 <= box.scroll_y < box.max_scroll_y
