"""Tracking entry at 80x24, as the desk's scanner meets it: once the courier is picked the number
field has the focus (also when the courier picked is the one already shown) and the hint says
so; a number scanned before the courier is kept; a scan that lands on the courier box is not
lost and does not open its menu; a refusal naming another order shows that order number whole."""

import pytest

from dadan.core.models import Order
from dadan.tui.screens.tracking import CourierSelect, TrackingScreen
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401
from tests.test_tui_80x24 import has_token, region_lines

pytestmark = pytest.mark.anyio

YTO = 85


def waiting_orders(n: int = 2) -> list[Order]:
    """Printed orders, not blocked, waiting for their numbers and with no courier yet."""
    orders = list(Order.select().where(Order.state == "printed", Order.exception_flags == 0,
                                       Order.order_status == 1).order_by(Order.id).limit(n))
    assert len(orders) == n
    ids = [o.id for o in orders]
    Order.update(tracking_number="", logistics_id=None).where(Order.id.in_(ids)).execute()
    return [Order.get_by_id(i) for i in ids]


def status_text(app) -> str:
    """The status line(s) as the terminal shows them, wrapped lines joined."""
    status = app.screen.query_one("#trk-status")
    return " ".join(line.strip() for line in region_lines(app, status.region))


async def pick(pilot, logistics_id: int) -> None:
    """F4, Enter (the menu), arrows down to the courier, Enter: as an operator picks it."""
    sel = pilot.app.screen.query_one(CourierSelect)
    await pilot.press("f4")
    await wait_idle(pilot)
    await pilot.press("enter")
    await wait_idle(pilot)
    assert sel.expanded
    values = [value for _label, value in sel._options]
    here = values.index(sel.value) if sel.value in values else 0
    steps = values.index(logistics_id) - here
    await pilot.press(*(["down"] * steps if steps >= 0 else ["up"] * -steps), "enter")
    await wait_idle(pilot)


async def test_a_number_scanned_before_the_courier_is_kept_and_the_courier_pick_moves_on(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    a, b = waiting_orders()
    app = harness(ctx, lambda: TrackingScreen([a.id, b.id]))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        number = scr.query_one("#trk-input")
        assert scr.logistics_id is None and app.focused is number
        await pilot.press(*"YT1234567890123", "enter")  # before the courier
        await wait_idle(pilot)
        text = status_text(app)
        assert "Pick the courier first (F4)" in text and has_token(text, "YT1234567890123"), text
        assert scr.query_one("#trk-status").has_class("-warn")
        assert number.value == "YT1234567890123" and scr.assigned == 0  # kept, not lost

        await pick(pilot, YTO)
        assert scr.logistics_id == YTO
        assert app.focused is number  # not left on the courier box
        text = status_text(app)
        assert "Pick the courier" not in text and not scr.query_one("#trk-status").has_class("-warn")
        assert "YTO Express" in text and has_token(text, a.order_sn) and has_token(text, "YT1234567890123"), text

        await pilot.press("enter")  # the kept number, for the highlighted order
        await wait_idle(pilot)
        assert scr.assigned == 1 and number.value == ""
        await pilot.press(*"YT1234567890124", "enter")  # the scanner's next scan: the next order
        await wait_idle(pilot)
        assert scr.assigned == 2 and app.focused is number
    got = {o.id: (o.tracking_number, o.logistics_id) for o in Order.select().where(Order.id.in_([a.id, b.id]))}
    assert got == {a.id: ("YT1234567890123", YTO), b.id: ("YT1234567890124", YTO)}


async def test_a_later_scan_after_the_pick_is_not_eaten_by_the_courier_box(tmp_path):
    """Picked first, then scanned: the scan is the number (the menu stays shut)."""
    ctx = make_ctx(tmp_path, 60)
    a, _b = waiting_orders()
    app = harness(ctx, lambda: TrackingScreen([a.id]))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        await pick(pilot, YTO)
        number = scr.query_one("#trk-input")
        assert app.focused is number
        text = status_text(app)
        assert "YTO Express" in text and has_token(text, a.order_sn) and "Pick the courier" not in text, text
        await pilot.press(*"YT1234567890123", "enter")
        await wait_idle(pilot)
        assert scr.assigned == 1 and not scr.query_one(CourierSelect).expanded
    assert Order.get_by_id(a.id).tracking_number == "YT1234567890123"


async def test_picking_the_courier_already_shown_also_moves_on(tmp_path):
    """The courier already chosen (the screen's default) picked again changes no value: the
    focus still goes to the number field (it stayed on the courier box, and the next scan's
    Enter opened the menu)."""
    ctx = make_ctx(tmp_path, 60)
    a, _b = waiting_orders()
    app = harness(ctx, lambda: TrackingScreen([a.id], logistics_id=YTO))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        assert scr.logistics_id == YTO
        await pick(pilot, YTO)
        assert app.focused is scr.query_one("#trk-input")
        await pilot.press(*"YT1234567890123", "enter")
        await wait_idle(pilot)
        assert scr.assigned == 1 and not scr.query_one(CourierSelect).expanded
    assert Order.get_by_id(a.id).tracking_number == "YT1234567890123"


async def test_a_scan_on_the_courier_box_is_the_number_not_the_menu(tmp_path):
    """The focus on the courier box (F4, nothing picked): a scan goes to the number field and is
    given with its Enter; the menu does not open."""
    ctx = make_ctx(tmp_path, 60)
    a, b = waiting_orders()
    app = harness(ctx, lambda: TrackingScreen([a.id, b.id], logistics_id=YTO))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        sel = scr.query_one(CourierSelect)
        await pilot.press("f4")
        await wait_idle(pilot)
        assert app.focused is sel
        await pilot.press("q")  # a lower-case letter first: a hotkey (the desk's q quits), not the number
        await wait_idle(pilot)
        assert sel.typed == ""
        await pilot.press(*"YT1234567890123", "enter")
        await wait_idle(pilot)
        assert not sel.expanded and scr.assigned == 1
        assert app.focused is scr.query_one("#trk-input")
        await pilot.press(*"YT1234567890124", "enter")
        await wait_idle(pilot)
        assert scr.assigned == 2
        # with the box focused and nothing typed, Enter still opens the menu
        await pilot.press("f4")
        await wait_idle(pilot)
        await pilot.press("enter")
        await wait_idle(pilot)
        assert sel.expanded
    assert [Order.get_by_id(i).tracking_number for i in (a.id, b.id)] == ["YT1234567890123", "YT1234567890124"]


async def test_a_scan_on_the_courier_box_before_any_courier_is_kept(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    a, _b = waiting_orders()
    app = harness(ctx, lambda: TrackingScreen([a.id]))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        sel = scr.query_one(CourierSelect)
        await pilot.press("f4", *"YT1234567890123", "enter")
        await wait_idle(pilot)
        assert not sel.expanded and scr.assigned == 0
        assert scr.query_one("#trk-input").value == "YT1234567890123"
        assert "Pick the courier first" in status_text(app)
        await pick(pilot, YTO)
        await pilot.press("enter")
        await wait_idle(pilot)
        assert scr.assigned == 1
    assert Order.get_by_id(a.id).tracking_number == "YT1234567890123"


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_number_used_for_another_order_names_that_order_whole_at_80x24(tmp_path, lang):
    """``tracking number YT… is already used for order 2611…``: at 80 columns the order number
    was cut off the line; the line wraps, the number stays whole."""
    from dadan.core.i18n import set_language

    ctx = make_ctx(tmp_path, 60, lang=lang)
    a, b = waiting_orders()
    app = harness(ctx, lambda: TrackingScreen([a.id, b.id], logistics_id=YTO))
    app.bell = lambda: None
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_idle(pilot)
            scr = app.screen
            await pilot.press(*"YT1234567890123", "enter")
            await wait_idle(pilot)
            assert scr.assigned == 1
            await pilot.press(*"YT1234567890123", "enter")  # the same number for b
            await wait_idle(pilot)
            status = scr.query_one("#trk-status")
            assert scr.assigned == 1 and status.has_class("-warn")
            text = status_text(app)
            assert has_token(text, a.order_sn) and has_token(text, "YT1234567890123"), text
            # the footer and the number field are still on screen
            assert scr.query_one("#trk-input").region.bottom <= status.region.y
            assert status.region.bottom <= 23
    finally:
        set_language("en")
    assert Order.get_by_id(b.id).tracking_number == ""
