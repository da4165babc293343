"""Scan and ship: look-up opens the order; right parcel ships; wrong and blocked parcels warn
loudly and change nothing."""

import pytest

from dadan.core.models import Order, Shipment
from dadan.tui.screens.detail import DetailScreen
from dadan.tui.screens.scan import ScanScreen
from tests.desk_helpers import (  # noqa: F401
    anyio_backend,
    blocked_order,
    give_tracking,
    harness,
    make_ctx,
    printable_order,
    wait_idle,
)

pytestmark = pytest.mark.anyio


async def _scan(pilot, code):
    for ch in code:
        await pilot.press(ch)
    await pilot.press("enter")
    await wait_idle(pilot)


async def test_scan_opens_order(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    o = printable_order()
    app = harness(ctx, ScanScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        await _scan(pilot, o.order_sn)
        assert isinstance(app.screen, DetailScreen) and app.screen.order_id == o.id
        await wait_idle(pilot)
        assert o.order_sn in str(app.screen.query_one("#detail-main").content)
        assert (o.receiver_name or "@@") not in str(app.screen.query_one("#detail-main").content)  # masked


async def test_scan_to_ship_right_wrong_blocked(tmp_path):
    ctx = make_ctx(tmp_path, 200)
    good = give_tracking(printable_order(), "75355500000001")
    bad = give_tracking(blocked_order(), "75355500000002")
    bells = []
    app = harness(ctx, lambda: ScanScreen(ship_mode=True))
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        banner = scr.query_one("#scan-banner")
        # right parcel
        await _scan(pilot, "75355500000001")
        assert scr.last_outcome.ok and banner.has_class("-ok") and not bells
        assert Order.get_by_id(good.id).state == "shipped"
        assert Shipment.select().where(Shipment.order == good.id, Shipment.state == "pending").count() == 1
        # wrong parcel: unknown code
        n_ship = Shipment.select().count()
        await _scan(pilot, "XX404")
        assert banner.has_class("-warn") and len(bells) == 1 and "WRONG PARCEL" in str(banner.content)
        # blocked parcel
        await _scan(pilot, "75355500000002")
        assert banner.has_class("-warn") and len(bells) == 2 and "DO NOT SHIP" in str(banner.content)
        assert Order.get_by_id(bad.id).state == bad.state and Shipment.select().count() == n_ship
        # the field is ready for the next scan
        assert app.focused is scr.query_one("#scan-input") and scr.query_one("#scan-input").value == ""
        # F2 is named for what it switches to: back to look-up mode, then to ship mode again
        def f2_label() -> str:
            return next(str(a.binding.description) for a in scr.active_bindings.values() if a.binding.id == "scan.mode")

        assert f2_label() == "Look-up mode"
        await pilot.press("f2")
        assert not scr.ship_mode and f2_label() == "Ship mode"


async def test_slip_then_wrong_waybill(tmp_path):
    ctx = make_ctx(tmp_path, 80)
    a, b = list(Order.select().where(Order.state == "printed", Order.exception_flags == 0).limit(2))
    give_tracking(a, "75300000000001")
    give_tracking(b, "75300000000002")
    app = harness(ctx, lambda: ScanScreen(ship_mode=True))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        await _scan(pilot, a.order_sn)
        assert scr.expect_order_id == a.id
        await _scan(pilot, "75300000000002")
        assert scr.last_outcome.kind == "mismatch" and scr.query_one("#scan-banner").has_class("-warn")
        assert Order.get_by_id(b.id).state == "printed"
        await _scan(pilot, "75300000000001")
        assert scr.last_outcome.ok and Order.get_by_id(a.id).state == "shipped"


async def test_wrong_parcel_is_unmistakable_without_colour(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    ctx = make_ctx(tmp_path, 20)
    app = harness(ctx, lambda: ScanScreen(ship_mode=True))
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await wait_idle(pilot)
        await _scan(pilot, "NOPE404")
        banner = app.screen.query_one("#scan-banner")
        text = str(banner.content)
        assert text.startswith("✖ ✖ ✖") and "WRONG PARCEL" in text and bells
        assert "reverse" in str(banner.styles.text_style)


async def test_a_scanned_code_is_shown_as_typed_never_as_markup(tmp_path):
    """A barcode can carry anything: ``[b]`` and ``[/]`` in a code are shown literally (as rich
    markup they would restyle or break the banner), and the log keeps them the same way."""
    ctx = make_ctx(tmp_path, 20)
    app = harness(ctx, ScanScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        await _scan(pilot, "[b]X1[/]")
        banner = str(app.screen.query_one("#scan-banner").render())
        log = str(app.screen.query_one("#scan-log").render())
        assert "[b]X1[/]" in banner and "[b]X1[/]" in log


async def test_two_codes_in_one_burst_arrive_as_two_scans(tmp_path):
    """A terminal may hand a scanner's burst to the app at once: each Enter ends its own code
    (the field takes Enter in turn with the characters), nothing glued or lost."""
    from textual import events

    ctx = make_ctx(tmp_path, 20)
    app = harness(ctx, lambda: ScanScreen(ship_mode=True))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        for code in ("NOPE401", "NOPE402"):
            for ch in code:
                app.post_message(events.Key(ch, ch))
            app.post_message(events.Key("enter", "\r"))
        await wait_idle(pilot)
        log = "\n".join(app.screen.history)
        assert len(app.screen.history) == 2 and "NOPE401" in log and "NOPE402" in log and "NOPE401NOPE" not in log
