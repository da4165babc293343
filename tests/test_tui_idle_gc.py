"""Full garbage collections wait for a quiet desk (tui/idle_gc.py), and a new page of orders is
put on the terminal at once, not at the screen's next frame (OrderList._paint_now)."""

from __future__ import annotations

import gc
import shutil
import weakref

import pytest

from dadan.tui import idle_gc
from dadan.tui.idle_gc import IdleCollector
from tests.test_tui_orders import make_app, make_ctx, orders_screen, settle, small_db_template  # noqa: F401

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Node:
    def __init__(self) -> None:
        self.other = self


def _old_cycle() -> weakref.ref:
    """A reference cycle that only a full collection frees: it survived into the oldest
    generation before it became garbage."""
    node = Node()
    ref = weakref.ref(node)
    gc.collect()  # (alive: moved to the oldest generation)
    del node
    return ref


def _young_collections(n: int) -> None:
    """Until ``n`` young collections count towards the next full one (Python's own count too)."""
    while gc.get_count()[2] < n:
        gc.collect(1)


@pytest.fixture
def collector():
    clock = {"now": 1000.0, "input": 1000.0}
    c = IdleCollector(lambda: clock["input"], clock=lambda: clock["now"])
    saved = gc.get_threshold()
    c.start()
    yield c, clock
    c.stop()
    assert gc.get_threshold() == saved


def test_python_starts_no_full_collection_while_the_desk_runs(collector):
    c, _clock = collector
    assert gc.get_threshold()[2] > 10_000
    ref = _old_cycle()
    _young_collections(idle_gc.FULL_AFTER * 3)  # Python alone would have collected it by now
    assert ref() is not None


def test_a_due_collection_waits_while_keys_come_and_runs_when_quiet(collector):
    c, clock = collector
    ref = _old_cycle()
    _young_collections(idle_gc.FULL_AFTER)
    clock["now"] = clock["input"] + idle_gc.QUIET_S / 2  # a key half a second ago
    assert not c.tick()
    assert ref() is not None
    clock["now"] = clock["input"] + idle_gc.QUIET_S  # quiet
    assert c.tick()
    assert ref() is None  # the same garbage, collected
    assert gc.get_count()[2] == 0 and c.collections == 1


def test_nothing_runs_before_a_collection_is_due(collector):
    c, clock = collector
    gc.collect()
    clock["now"] = clock["input"] + 60
    _young_collections(idle_gc.FULL_AFTER - 1)
    assert not c.tick()
    assert c.collections == 0


def test_a_desk_never_quiet_still_collects(collector):
    c, clock = collector
    ref = _old_cycle()
    clock["now"] = clock["input"]  # a key right now, every time
    _young_collections(idle_gc.FORCE_AFTER - 1)
    assert not c.tick() and ref() is not None
    _young_collections(idle_gc.FORCE_AFTER)
    assert c.tick()
    assert ref() is None


def test_a_bulk_write_with_the_collector_off_is_left_alone(collector):
    c, clock = collector
    _young_collections(idle_gc.FORCE_AFTER)
    clock["now"] = clock["input"] + 60
    gc.disable()
    try:
        assert not c.tick()
    finally:
        gc.enable()
    assert c.tick()


async def test_the_desk_collects_when_quiet_and_gives_python_its_thresholds_back(tmp_path, small_db_template):
    saved = gc.get_threshold()
    db = tmp_path / "orders.db"
    shutil.copy(small_db_template, db)
    app = make_app(make_ctx(tmp_path, db))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert gc.get_threshold()[2] > 10_000
        ref = _old_cycle()
        _young_collections(idle_gc.FULL_AFTER)
        app._active_at -= 60  # nobody has touched a key for a minute
        for _ in range(40):
            await pilot.pause(idle_gc.CHECK_S / 4)
            if ref() is None:
                break
        assert ref() is None
        assert app.idle_gc.collections >= 1
    assert gc.get_threshold() == saved


async def test_a_new_page_is_painted_before_the_screen_s_next_frame(tmp_path, small_db_template):
    db = tmp_path / "orders.db"
    shutil.copy(small_db_template, db)
    app = make_app(make_ctx(tmp_path, db))
    frames: list[int] = []
    display = app._display

    def counting(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            frames.append(1)

    app._display = counting
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        table = screen.table
        painted_inside: list[bool] = []
        apply = table._apply_page

        def watched(res, anchor, cursor):
            before, keys = len(frames), list(table._keys)
            apply(res, anchor, cursor)
            if table._keys != keys:  # new rows (an answer that changes nothing has nothing to paint)
                # a frame went out, and the table's repaint went with it (nothing of it left for the next)
                painted_inside.append(len(frames) > before and not table._repaint_required
                                      and table not in screen._dirty_widgets)

        table._apply_page = watched
        screen.set_filter("status:pending")
        await settle(pilot)
        assert painted_inside and all(painted_inside)
        assert screen.current_query == "status:pending" and table.row_count > 0
