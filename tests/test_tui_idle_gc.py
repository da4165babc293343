"""Full garbage collections run early at quiet moments (tui/idle_gc.py)."""

from __future__ import annotations

import gc
import shutil
import weakref

import pytest

from dadan.tui import idle_gc
from dadan.tui.idle_gc import IdleCollector
from tests.test_tui_orders import make_app, make_ctx, settle, small_db_template  # noqa: F401

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
    saved = gc.get_threshold()
    yield IdleCollector(lambda: clock["input"], clock=lambda: clock["now"]), clock
    assert gc.get_threshold() == saved  # Python's own collections are left as they are


def test_an_early_collection_waits_while_keys_come_and_runs_when_quiet(collector):
    c, clock = collector
    ref = _old_cycle()
    _young_collections(idle_gc.EARLY_AFTER)
    clock["now"] = clock["input"] + idle_gc.QUIET_S / 2  # a key a moment ago
    assert not c.tick()
    assert ref() is not None
    clock["now"] = clock["input"] + idle_gc.QUIET_S  # quiet
    assert c.tick()
    assert ref() is None  # the same garbage, collected
    assert gc.get_count()[2] == 0 and c.collections == 1


def test_nothing_runs_before_young_collections_have_passed(collector):
    c, clock = collector
    gc.collect()
    clock["now"] = clock["input"] + 60
    assert not c.tick()
    assert c.collections == 0


def test_a_bulk_write_with_the_collector_off_is_left_alone(collector):
    c, clock = collector
    _young_collections(idle_gc.EARLY_AFTER)
    clock["now"] = clock["input"] + 60
    gc.disable()
    try:
        assert not c.tick()
    finally:
        gc.enable()
    assert c.tick()


async def test_the_desk_collects_when_quiet(tmp_path, small_db_template):
    saved = gc.get_threshold()
    db = tmp_path / "orders.db"
    shutil.copy(small_db_template, db)
    app = make_app(make_ctx(tmp_path, db))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        ref = _old_cycle()
        _young_collections(idle_gc.EARLY_AFTER)
        app._active_at -= 60  # nobody has touched a key for a minute
        for _ in range(40):
            _young_collections(idle_gc.EARLY_AFTER)  # (still due, whatever Python did meanwhile)
            await pilot.pause(idle_gc.CHECK_S / 4)
            if app.idle_gc.collections:
                break
        assert app.idle_gc.collections >= 1
        assert ref() is None
    assert gc.get_threshold() == saved
