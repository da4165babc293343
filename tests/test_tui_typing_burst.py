"""Typing a filter as a burst of keys (#16): one query reaches the table, for the final text; a
superseded query's rows and count are never painted; Enter applies at once. Every message the
app handles is recorded (``run_test(message_hook=...)``), so the tests assert on what was
painted, not on how the widgets are built."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual import events
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from dadan.core.db import database, write
from dadan.core.models import Order
from dadan.core.orders.listing import count
from dadan.core.orders.query import compile_query
from dadan.tui.app import DadanApp
from dadan.tui.messages import CountShown, FilterChanged, FilterSubmitted, PageShown
from dadan.tui.widgets.filter_bar import DEBOUNCE_S
from tests.desk_helpers import NOW, anyio_backend, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio

FINAL = "province:浙江"


class Recorder:
    """Every message of interest, with the time it was handled."""

    def __init__(self) -> None:
        self.on = False
        self.seen: list[tuple[float, object]] = []

    def __call__(self, message) -> None:
        # a bubbling message arrives at every node on its way up: it is recorded once
        if self.on and isinstance(message, (PageShown, CountShown, FilterChanged, FilterSubmitted, Input.Changed,
                                            Worker.StateChanged)):
            if not any(m is message for _t, m in self.seen):
                self.seen.append((time.monotonic(), message))

    def of(self, kind) -> list:
        return [m for _t, m in self.seen if isinstance(m, kind)]

    def started(self, description: str) -> int:
        """How many workers of this kind started (each one is a query)."""
        return sum(1 for m in self.of(Worker.StateChanged)
                   if m.state == WorkerState.RUNNING and m.worker.description == description)


def _n(query: str) -> int:
    return count(compile_query(query, now=NOW, tz="Asia/Shanghai"))


def _info(screen) -> str:
    return str(screen.query_one("#info-line").render())


def type_burst(app, text: str, *, enter: bool = False) -> None:
    """Type ``text`` as the terminal driver delivers a fast typist's keys: one key event per
    character, queued back to back (a Pilot ``press`` waits for the app to idle after each)."""
    for ch in text:
        app.post_message(events.Key(ch, ch))
    if enter:
        app.post_message(events.Key("enter", "\r"))


async def _ready(pilot, rec: Recorder):
    await wait_idle(pilot, 4)
    screen = pilot.app.screen
    await pilot.press("slash", "ctrl+u")
    await wait_idle(pilot, 4)
    rec.on = True
    return screen


def _assert_shows(screen, rec: Recorder, query: str, tabs_before: dict) -> None:
    n = _n(query)
    assert screen.current_query == query and screen.listing.total == n
    assert {r.province for r in screen.table.rows_shown} == {"浙江省"}
    assert len(screen.table.rows_shown) == min(n, 50)
    assert f"1–{min(n, 50)} of {n:,}" in _info(screen)
    assert [m.total for m in rec.of(CountShown)] == [n]
    assert screen.query_one("#view-tabs").counts == tabs_before  # a filter changes no view count


async def test_a_burst_of_keys_paints_only_the_final_query(tmp_path):
    rec = Recorder()
    app = DadanApp(make_ctx(tmp_path, 300), now=NOW)
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        screen = await _ready(pilot, rec)
        tabs_before = dict(screen.query_one("#view-tabs").counts)
        assert tabs_before
        type_burst(app, FINAL)
        await pilot.pause()  # the keys are handled (the debounce has not ended)
        keys = [t for t, m in rec.seen if isinstance(m, Input.Changed)]
        gaps = [b - a for a, b in zip(keys, keys[1:])]
        assert len(keys) == len(FINAL) and max(gaps) < DEBOUNCE_S, gaps  # it was a burst
        assert screen.filter_bar.value == FINAL
        assert rec.of(PageShown) == [] and rec.of(FilterChanged) == []  # no query while typing
        await wait_idle(pilot, 4)
        assert [m.query for m in rec.of(FilterChanged)] == [FINAL]
        assert rec.started("order page") == 1 and rec.started("order count") == 1
        assert [m.query for m in rec.of(PageShown)] == [FINAL]
        assert [m.query for m in rec.of(CountShown)] == [FINAL]
        _assert_shows(screen, rec, FINAL, tabs_before)


async def test_enter_applies_at_once_without_the_debounce(tmp_path):
    rec = Recorder()
    app = DadanApp(make_ctx(tmp_path, 300), now=NOW)
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        screen = await _ready(pilot, rec)
        tabs_before = dict(screen.query_one("#view-tabs").counts)
        type_burst(app, FINAL, enter=True)
        await pilot.pause()
        await app.workers.wait_for_complete()  # the page worker only: no sleep, no debounce
        assert screen.table.has_focus
        assert [m.query for m in rec.of(PageShown)] == [FINAL]
        await pilot.pause(DEBOUNCE_S * 2)  # the dropped debounce never fires later
        await wait_idle(pilot, 4)
        assert [m.query for m in rec.of(FilterSubmitted)] == [FINAL] and rec.of(FilterChanged) == []
        assert rec.started("order page") == 1
        assert [m.query for m in rec.of(PageShown)] == [FINAL]
        _assert_shows(screen, rec, FINAL, tabs_before)


SLOW = "x" * 30 + "y"  # a remark that SQLite's LIKE matches slowly against a run of x's


def _grow(copies: int) -> str:
    """Add ``copies`` copies of every order whose remark is a thousand x's and whose search text
    holds SLOW: the query ``remark:SLOW`` (found in one order only) has every order for a
    candidate in the free-text index, and becomes a slow test of each one's remark in a real
    database (each LIKE tries thirty characters at a thousand places). Returns that query."""
    table = Order._meta.table_name
    cols = [f.column_name for f in Order._meta.sorted_fields if f.name != "id"]
    pick = {"order_sn": "order_sn || '~' || k.n", "remark": "printf('%.1000c', 'x')",
            "search_text": f"search_text || ' {SLOW}'"}
    sel = ", ".join(pick.get(c, c) for c in cols)
    with write():
        database().execute_sql(
            f"WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < {copies}) "
            f'INSERT INTO "{table}" ({", ".join(cols)}) SELECT {sel} FROM "{table}", k')
        Order.update(remark=Order.remark.concat(" " + SLOW), search_text=Order.search_text.concat(" " + SLOW)
                     ).where(Order.id == 1).execute()
        database().execute_sql("ANALYZE")
    return "remark:" + SLOW


async def test_a_slow_query_superseded_by_a_newer_one_is_never_painted(tmp_path):
    rec = Recorder()
    ctx = make_ctx(tmp_path, 300)
    slow = _grow(150)  # 45,300 orders
    t0 = time.perf_counter()
    assert _n(slow) == 1
    slow_s = time.perf_counter() - t0  # one full scan
    app = DadanApp(ctx, now=NOW)
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        screen = await _ready(pilot, rec)
        tabs_before = dict(screen.query_one("#view-tabs").counts)
        bar = screen.filter_bar
        bar.input.insert_text_at_cursor(slow)
        type_burst(app, "", enter=True)  # the slow query starts at once
        while not rec.of(FilterSubmitted):
            await asyncio.sleep(0.001)
        submitted = time.monotonic()
        # the operator goes back to the bar and types the filter they meant, then Enter: not
        # through the Pilot, which would wait for the slow query before each key
        bar.input.focus()
        bar.input.clear()
        type_burst(app, FINAL, enter=True)
        while not rec.of(FilterSubmitted)[1:]:
            await asyncio.sleep(0.001)
        newer = next(t for t, m in rec.seen if isinstance(m, FilterSubmitted) and m.query == FINAL)
        assert newer - submitted < slow_s / 2  # the slow query was still scanning when it was superseded
        await wait_idle(pilot, 4)
        await asyncio.sleep(slow_s * 2)  # the slow worker's thread has finished its scan
        await wait_idle(pilot, 4)
        assert [m.query for m in rec.of(FilterSubmitted)] == [slow, FINAL]
        assert rec.started("order page") == 2  # both queries ran...
        assert [m.query for m in rec.of(PageShown)] == [FINAL]  # ...only the newer one was painted
        assert [m.query for m in rec.of(CountShown)] == [FINAL]  # and counted
        _assert_shows(screen, rec, FINAL, tabs_before)


async def test_a_view_chosen_while_typed_text_waits_is_not_overwritten_by_it(tmp_path):
    rec = Recorder()
    app = DadanApp(make_ctx(tmp_path, 300), now=NOW)
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        screen = await _ready(pilot, rec)
        type_burst(app, FINAL)
        await pilot.pause()
        assert screen.filter_bar.pending
        view = screen.views[4]  # "all"
        screen.action_view_index(4)  # a tab clicked before the burst ended
        await pilot.pause(DEBOUNCE_S * 2)
        await wait_idle(pilot, 4)
        assert rec.of(FilterChanged) == []  # the typed text was dropped, not announced later
        assert screen.view_key == view.key and screen.current_query == view.query == screen.filter_bar.value
        assert [m.query for m in rec.of(PageShown)] == [view.query]
        assert screen.listing.total == _n(view.query)
