"""The order screen tells the truth (#14): what the table shows is what the bar says and what
`p` prints; a filter that does not parse shows no rows and acts on nothing; a print job's end
refreshes rows and tab counts; the error caret sits under the bad token; help lists every key."""

from __future__ import annotations

import asyncio

import pytest
from rich.cells import cell_len

from dadan.core.models import Order, PrintJob
from dadan.core.orders.listing import count
from dadan.core.orders.query import compile_query
from dadan.tui.app import DadanApp
from dadan.tui.messages import PrintJobChanged
from dadan.tui.screens.orders import OrdersScreen
from dadan.tui.screens.print_dialog import PrintDialog
from tests.desk_helpers import NOW, anyio_backend, make_ctx, numbered  # noqa: F401
from tests.test_tui_orders import HOTKEY_HOLD, settle

pytestmark = pytest.mark.anyio


def _app(tmp_path, n=200, lang="en"):
    return DadanApp(make_ctx(tmp_path, n, lang=lang), now=NOW)


def _n(query: str) -> int:
    return count(compile_query(query, now=NOW, tz="Asia/Shanghai"))


def _info(screen) -> str:
    return str(screen.query_one("#info-line").render())


async def _hotkey(pilot, key: str) -> None:
    """A hotkey after the scanner's burst window, so it is a key and not part of a scan."""
    await pilot.pause(HOTKEY_HOLD)
    await pilot.press(key)
    await settle(pilot)


async def _type_filter(pilot, screen, text: str) -> None:
    await pilot.press("slash", "ctrl+u")
    screen.filter_bar.input.insert_text_at_cursor(text)  # pasted: no valid text in between
    await settle(pilot)
    await pilot.press("enter")  # back to the table
    await settle(pilot)


def _screen_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_the_filter_builder_filters_the_table_and_the_print_selection(tmp_path):
    app = _app(tmp_path, 300)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        await _hotkey(pilot, "5")
        assert screen.view_key == "all" and screen.listing.total == 300
        await _hotkey(pilot, "f")
        await pilot.press(*"pending")
        for _ in range(4):
            await pilot.press("down")
        await pilot.press(*"浙江", "enter")
        await settle(pilot, 6)
        assert app.screen is screen
        query = "status:pending province:浙江"
        n = _n(query)
        assert 0 < n < 300
        assert screen.filter_bar.value == query == screen.current_query
        assert screen.listing.total == n and len(screen.table.rows_shown) == min(n, 50)
        assert {r.province for r in screen.table.rows_shown} == {"浙江省"}
        assert f"of {n:,}" in _info(screen)
        await _hotkey(pilot, "p")
        assert isinstance(app.screen, PrintDialog)
        assert f"Selected: {n}\n" in str(app.screen.query_one("#pd-body").content)


@pytest.mark.parametrize("bad", ["provnce:浙江", "due<99999999h", "qty>99999999999999999999999", "amount>1e309"])
async def test_an_invalid_filter_shows_no_rows_and_acts_on_nothing(tmp_path, bad):
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        await _hotkey(pilot, "space")  # one order ticked under the good filter
        assert not screen.selection.empty
        await _type_filter(pilot, screen, bad)
        bar = screen.filter_bar

        def still_wrong() -> None:
            assert bar.has_class("-error") and "^" in str(screen.query_one("#filter-error").render())
            assert screen.table.rows_shown == [] and screen.table.row_count == 0
            assert "the filter has an error" in _info(screen)
            assert bar.value == bad and screen.listing.error is not None

        still_wrong()
        await _hotkey(pilot, "r")  # refresh re-reads the bad text: the error stays
        still_wrong()
        for key in ("p", "e", "t", "a"):
            app.clear_notifications()
            await _hotkey(pilot, key)
            assert app.screen is screen, key  # no print, export or tracking dialog
            assert any("The filter has an error" in str(n.message) for n in app._notifications), key
        assert not screen.selection.all_matching
        still_wrong()
        await _type_filter(pilot, screen, "province:浙江")
        assert not bar.has_class("-error") and screen.listing.error is None
        n = _n("province:浙江")
        assert len(screen.table.rows_shown) == min(n, 50) > 0 and f"of {n:,}" in _info(screen)


async def test_a_finished_print_job_refreshes_rows_and_tab_counts(tmp_path):
    from dadan.core.printing.queue import create_job

    app = _app(tmp_path, 60)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        tabs = screen.query_one("#view-tabs")
        to_print = [r.id for r in screen.table.rows_shown]
        assert screen.view_key == "to_print" and to_print and tabs.counts["to_print"] == len(to_print)
        # queued as from another terminal: nothing on this screen asked for a refresh
        printer = app.ctx.settings.printer()
        numbered(to_print)  # a waybill prints only with a number (no courier account here)
        job = create_job(to_print, printer=printer.name, template=printer.template)
        app.print_pool.wake(printer.name)
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while loop.time() < end and PrintJob.get_by_id(job.id).state != "done":
            await pilot.pause(0.2)
        assert PrintJob.get_by_id(job.id).state == "done"
        assert Order.select().where(Order.id.in_(to_print), Order.print_count == 0).count() == 0
        for _ in range(15):  # the progress line polls twice a second while a job runs
            await pilot.pause(0.2)
            await settle(pilot, 1)
            if not screen.table.rows_shown and tabs.counts.get("to_print") == 0:
                break
        assert screen.table.rows_shown == [] and screen.listing.total == 0
        assert tabs.counts["to_print"] == 0 and tabs.counts["printed"] >= len(to_print)


@pytest.mark.parametrize("text, token", [
    ("province:浙江 provnce:x", "provnce"),
    ("  city:浙江 -provnce:x", "provnce"),
    ('city:"杭 州" qty>99999999999999999999999', "99999999999999999999999"),
    ('printed:"maybe"', "maybe"),
])
async def test_the_error_caret_sits_under_the_token(tmp_path, text, token):
    app = _app(tmp_path, 20)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        await _type_filter(pilot, screen, text)
        lines = _screen_lines(app)
        row = next(i for i, line in enumerate(lines) if line.startswith("Filter /"))
        shown, under = lines[row], lines[row + 1]
        chars = shown[: shown.index(text) + text.rindex(token)]  # the screen line up to the token
        assert under.index("^") == cell_len(chars), (shown, under)
        assert under[under.index("^"):].startswith("^" + "~" * (len(token) - 1) + " ")


@pytest.mark.parametrize("lang, prev, nxt", [("en", "Prev view", "Next view"), ("zh", "上个视图", "下个视图")])
async def test_help_lists_the_view_keys(tmp_path, lang, prev, nxt):
    app = _app(tmp_path, 20, lang=lang)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)
        await pilot.press("f1")
        await settle(pilot)
        text = str(app.screen.query_one("#help-text").render())  # as shown, not as written
        lines = [line.strip() for line in text.splitlines()]
        assert any(line.startswith("[ ") and prev in line for line in lines), text
        assert any(line.startswith("] ") and nxt in line for line in lines), text


async def test_the_progress_line_tells_job_changes_not_every_label(tmp_path, monkeypatch):
    from dadan.tui.widgets import desk_printing
    from tests.desk_helpers import harness, wait_idle

    app = harness(make_ctx(tmp_path, 0))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)  # the first reading (nothing printing) is where things stand
        line = app.query_one("#progress")
        told = []
        post = line.post_message

        def spy(message):
            if isinstance(message, PrintJobChanged):
                told.append((message.job_id, message.state))
                return True
            return post(message)

        monkeypatch.setattr(line, "post_message", spy)
        for job, state, done in [(1, "queued", 0), (1, "printing", 0), (1, "printing", 5), (1, "printing", 9)]:
            line._tell(job, state, done)
        assert told == [(1, "queued"), (1, "printing")]  # labels within LABELS_REFRESH_S: no re-read
        monkeypatch.setattr(desk_printing, "LABELS_REFRESH_S", 0.0)
        line._tell(1, "printing", 12)
        line._tell(1, "printing", 12)  # nothing new printed
        assert told[2:] == [(1, "printing")]
        for job, state, done in [(1, "done", 20), (1, "done", 20), (None, "", 0), (2, "done", 3)]:
            line._tell(job, state, done)
        assert told[3:] == [(1, "done"), (2, "done")]
