"""The scan field on the home (order) screen: a scanner's fast burst + Enter opens the order of an
order or tracking number; an unknown code warns loudly and changes nothing; a person's hotkeys
(digits, S, lower-case letters, Enter) keep working."""

import datetime as dt

import pytest
from textual import events

from dadan.core.models import Order
from dadan.tui.screens.detail import DetailScreen
from dadan.tui.screens.orders import OrdersScreen
from tests.desk_helpers import NOW, anyio_backend, blocked_order, give_tracking, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio

HOLD = 0.2  # longer than the burst window (50 ms): a held hotkey has acted by then


def _app(ctx):
    from dadan.tui.app import DadanApp

    app = DadanApp(ctx, now=NOW)
    app.bells = []
    app.bell = lambda: app.bells.append(1)
    return app


def scanner(app, code: str, *, enter: bool = True) -> None:
    """What a USB scanner does: every character of the code and Enter, typed in one go (the
    terminal hands them to the app together, microseconds apart)."""
    for ch in code:
        app.post_message(events.Key(ch if ch.isalnum() else "minus", ch))
    if enter:
        app.post_message(events.Key("enter", "\r"))


async def settle(pilot):
    await wait_idle(pilot)
    await pilot.pause(HOLD)
    await wait_idle(pilot)


def _state(home):
    return (home.current_query, home.current_sort, home.view_key, home.selection.empty, home.table.cursor_row,
            [r.id for r in home.table.rows_shown])


async def test_scanning_an_order_number_opens_it(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    order = Order.select().where(Order.exception_flags == 0).order_by(Order.id.desc()).first()
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, OrdersScreen) and home.table.has_focus
        assert "scan ready" in str(home.query_one("#scan-indicator").render())
        before = _state(home)
        scanner(app, order.order_sn)  # 261119-... : digits and '-', all of them hotkeys on their own
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.order_id == order.id
        assert home.last_scan == (order.order_sn, order.id) and not app.bells
        await wait_idle(pilot)
        assert order.order_sn in str(app.screen.query_one("#detail-title").render())
        await pilot.press("escape")
        await settle(pilot)
        # no digit acted as a view key, nothing else moved
        assert app.screen is home and _state(home) == before
        assert "scan ready" in str(home.query_one("#scan-indicator").render())


async def test_scanning_a_tracking_number_opens_its_order_even_blocked(tmp_path):
    ctx = make_ctx(tmp_path, 80)
    order = give_tracking(blocked_order(), "YT7770001")
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        scanner(app, "YT7770001")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.order_id == order.id
        await wait_idle(pilot)
        assert "Exceptions: none" not in str(app.screen.query_one("#detail-main").render())  # the flags show
        assert not app.bells


async def test_unknown_code_warns_loudly_and_changes_nothing(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        home.table.move_cursor(row=2)
        await pilot.press("space")  # one order selected, cursor on row 3
        await settle(pilot)
        before = _state(home)
        scanner(app, "NOSUCH4040")
        await settle(pilot)
        assert app.screen is home and _state(home) == before
        indicator = home.query_one("#scan-indicator")
        text = str(indicator.render())
        assert indicator.has_class("-warn") and text.startswith("✖") and "NOT FOUND NOSUCH4040" in text
        assert "reverse" in str(indicator.styles.text_style)  # unmistakable without colour too
        assert app.bells == [1] and home.last_scan == ("NOSUCH4040", None)
        # the next key clears the warning and acts as usual
        await pilot.press("s")
        await settle(pilot)
        assert not indicator.has_class("-warn") and home.current_sort != before[1]


async def test_a_person_still_has_the_hotkeys(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        # lower-case hotkeys act at once (no wait)
        await pilot.press("s")
        assert home.current_sort == "last_ship_time"
        await pilot.press("a")
        assert home.selection.all_matching
        await pilot.press("escape")
        # a digit alone (a person: then a pause) switches the view
        await pilot.press("3")
        await settle(pilot)
        assert home.view_key == "exceptions" and home.current_query == "exception:any"
        # S reverses the sort
        sort = home.current_sort
        await pilot.press("S")
        await settle(pilot)
        assert home.current_sort == (sort[1:] if sort.startswith("-") else f"-{sort}")
        # a short burst (two keys, then Enter) is a person: the keys act in order, then Enter
        app.post_message(events.Key("5", "5"))
        app.post_message(events.Key("enter", "\r"))
        await settle(pilot)
        assert home.view_key == "all" and isinstance(app.screen, DetailScreen)
        assert not app.bells


async def test_a_scan_while_typing_a_filter_goes_into_the_filter(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        await pilot.press("slash", "ctrl+u")
        assert "scan off" in str(home.query_one("#scan-indicator").render())
        scanner(app, "YT123456", enter=False)
        await settle(pilot)
        assert app.screen is home and home.filter_bar.value == "YT123456" and home.last_scan is None
        await pilot.press("escape")  # back to the table: the scanner is ready again
        await settle(pilot)
        assert "scan ready" in str(home.query_one("#scan-indicator").render())


async def test_scan_without_enter_ends_with_the_pause(tmp_path):
    """Scanners set up without the Enter suffix: the pause after the code ends it."""
    ctx = make_ctx(tmp_path, 60)
    order = Order.select().order_by(Order.id).first()
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        scanner(app, order.order_sn, enter=False)
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.order_id == order.id


async def test_a_scan_typed_in_time_survives_a_starved_app(tmp_path):
    """On a busy machine the app may read a scanner's keys late: the burst timer then fires
    before the rest of the code, typed in time, is handled. It must not cut the code in two."""
    import time

    ctx = make_ctx(tmp_path, 60)
    order = Order.select().where(Order.exception_flags == 0).order_by(Order.id.desc()).first()
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        sn = order.order_sn
        keys = [events.Key(ch if ch.isalnum() else "minus", ch) for ch in sn] + [events.Key("enter", "\r")]
        for k in keys[:8]:  # the first keys are handled...
            app.post_message(k)
        await pilot.pause(0.01)
        time.sleep(0.3)  # ...then the app is starved while the rest, typed at once, waits
        await pilot.pause(0)  # the overdue burst timer gets its turn before those keys are read
        for k in keys[8:]:
            app.post_message(k)
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.order_id == order.id
        assert home.last_scan == (sn, order.id) and not app.bells


async def test_unknown_code_that_the_archive_has_says_archived_on_and_how_to_find_it(tmp_path):
    from dadan.core.archive.move import archive
    from dadan.core.db import write

    ctx = make_ctx(tmp_path, 60)
    order = give_tracking(Order.select().where(Order.exception_flags == 0).first(), "YT8880001")
    with write():
        Order.update(order_status=2, refund_status=1, shipping_time=NOW - dt.timedelta(days=400)).where(
            Order.id == order.id).execute()
    archive(180, actor="tester", now=NOW)
    app = _app(ctx)
    notes = []
    app.notify = lambda message, **kw: notes.append(message)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        scanner(app, "YT8880001")
        await settle(pilot)
        assert app.screen.query_one("#scan-indicator").has_class("-warn") and app.bells == [1]
        assert notes == [f"No order has the number YT8880001; archived on {NOW:%Y-%m-%d} — "
                         "`dadan archive find YT8880001`"]
