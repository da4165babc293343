"""Enter in the filter bar hands the focus to the table together with the new rows (#16): one
repaint of the table instead of two, and a key pressed before the rows come still reaches the
table (never the filter text). The footer's keys follow the focus once it rests, and are rebuilt
only when what they show changes."""

from __future__ import annotations

import asyncio

import pytest
from textual import events

from dadan.tui.app import DadanApp
from dadan.tui.messages import FilterSubmitted, PageShown
from dadan.tui.widgets.desk_footer import DeskFooter
from tests.desk_helpers import NOW, anyio_backend, make_ctx, wait_idle  # noqa: F401
from tests.test_tui_typing_burst import FINAL, Recorder, _grow, _ready, type_burst

pytestmark = pytest.mark.anyio


def footer_labels(screen) -> list[str]:
    return [str(k.description) for k in screen.query_one(DeskFooter).query("FooterKey")]


async def _until(cond, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.001)


async def test_enter_gives_the_table_the_focus_with_its_rows(tmp_path):
    rec = Recorder()
    app = DadanApp(make_ctx(tmp_path, 300), now=NOW)
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        screen = await _ready(pilot, rec)
        assert screen.filter_bar.input.has_focus
        type_burst(app, FINAL, enter=True)
        await _until(lambda: rec.of(PageShown) or not screen.filter_bar.input.has_focus)
        await app.workers.wait_for_complete()
        assert [m.query for m in rec.of(PageShown)] == [FINAL]
        assert screen.table.has_focus and screen.filter_bar.value == FINAL


async def test_a_key_pressed_before_the_rows_come_goes_to_the_table_not_the_filter(tmp_path):
    rec = Recorder()
    ctx = make_ctx(tmp_path, 300)
    slow = _grow(150)  # a query that scans for a while: the rows come late
    app = DadanApp(ctx, now=NOW)
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        screen = await _ready(pilot, rec)
        bar = screen.filter_bar
        bar.input.insert_text_at_cursor(slow)
        type_burst(app, "", enter=True)
        await _until(lambda: rec.of(FilterSubmitted) and not bar.input.has_focus)
        assert rec.of(PageShown) == []  # still scanning
        assert screen.focused is None  # the table takes the focus with its rows...
        app.post_message(events.Key("j", "j"))  # ...or with the next key, whichever comes first
        await _until(lambda: screen.focused is not None)
        # (the screen's focus, not the widget's has_focus: that flag follows a moment later)
        assert screen.focused is screen.table and bar.value == slow  # the key was not typed into the filter
        await wait_idle(pilot, 4)
        await _until(lambda: rec.of(PageShown))
        await wait_idle(pilot, 4)
        assert [m.query for m in rec.of(PageShown)] == [slow]
        assert screen.table.has_focus and bar.value == slow


async def test_the_footer_follows_the_focus_and_is_rebuilt_only_when_its_keys_change(tmp_path):
    app = DadanApp(make_ctx(tmp_path, 30), now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_idle(pilot, 4)
        screen = app.screen
        footer = screen.query_one(DeskFooter)
        assert {"Print", "Sort", "All"} <= set(footer_labels(screen))
        keys = list(footer.children)
        screen.set_focus(None)  # the same keys (the screen's): nothing is rebuilt
        await wait_idle(pilot, 4)
        screen.set_focus(screen.table)
        await wait_idle(pilot, 4)
        assert list(footer.children) == keys
        await pilot.press("slash")  # typing a filter: the hotkeys are off, and so are their keys
        assert footer.pending  # the keys change once the focus has rested
        await wait_idle(pilot, 4)
        labels = footer_labels(screen)
        assert "Print" not in labels and "Sort" not in labels
        await pilot.press("escape")
        await wait_idle(pilot, 4)
        assert {"Print", "Sort", "All"} <= set(footer_labels(screen))
