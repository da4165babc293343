"""`dadan demo` writes: the same orders as ever for a seed and clock, in one transaction, with
the order table's indexes intact and the planner's statistics gathered."""

import datetime as dt
import hashlib

import pytest

from dadan.core.db import SQLITE_PRAGMAS, database, indexes_built_after, open_database, write
from dadan.core.demo import demo_records, write_demo
from dadan.core.models import Order, Shop
from dadan.core.orders.listing import ensure_statistics, explain

NOW = dt.datetime(2026, 11, 20, 4, 0, 0)


@pytest.fixture
def db(tmp_path):
    return open_database(f"sqlite:///{tmp_path}/demo.db")


def _order_indexes() -> dict[str, str]:
    return dict(database().execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'order' AND sql IS NOT NULL"))


def _digest(*tables: str) -> str:
    h = hashlib.sha256()
    for t in tables:
        for row in database().execute_sql(f'SELECT * FROM "{t}" ORDER BY 1, 2'):
            h.update(repr(row).encode())
    return h.hexdigest()


def test_demo_records_are_the_same_as_ever():
    # digests of what the demo generated before it was made faster (same seed, same clock)
    for numbers, want in (
        (False, "a3ef81a2adf9831fd5939941c4ec5f84b1e324600297f1c27deb5f21c93f0458"),
        (True, "5aca9a35679df892b6456006e74fc567b6e1dfe28b2f9a64b9c82bdf19bd0594"),
    ):
        got = list(demo_records(2000, seed=1, now=NOW, numbers=numbers))
        assert hashlib.sha256(repr(got).encode()).hexdigest() == want


def test_demo_database_is_the_same_as_ever_and_a_rerun_changes_nothing(db):
    # several workflow batches (printed orders and tags are drawn a batch at a time)
    assert write_demo(2500, seed=2, now=NOW, chunk=1000) == 2500
    want = "d48792d0038dfcb9995f98d53bb66cfbcdb56fa1e93e676a9e00bb0a7609b632"
    assert _digest("order", "order_item", "order_tag", "tag") == want
    write_demo(2500, seed=2, now=NOW, chunk=1000)
    assert Order.select().count() == 2500
    assert _digest("order", "order_item", "order_tag", "tag") == want


def test_after_write_demo_the_planner_statistics_exist(db):
    indexes = _order_indexes()
    write_demo(1200, seed=3, now=NOW, chunk=500)
    stats = dict(database().execute_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'order'"))
    assert set(indexes) <= set(stats)  # every index of the order table, the partial ones too
    assert int(stats["order_pay_time_id"].split()[0]) == 1200
    assert ensure_statistics() is False  # the first launch has nothing to gather
    assert not any("TEMP B-TREE" in line for line in explain(None))
    # the demo's bigger page cache was for its own writing only
    assert database().execute_sql("PRAGMA cache_size").fetchone()[0] == SQLITE_PRAGMAS["cache_size"]


def test_demo_into_an_empty_table_builds_the_same_indexes(db):
    before = _order_indexes()
    write_demo(800, seed=4, now=NOW, chunk=300)
    assert _order_indexes() == before
    assert database().execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    # a second shop's demo goes into a table that has rows: the indexes stay throughout
    write_demo(300, seed=5, now=NOW, shop_name="第二家")
    assert _order_indexes() == before
    assert database().execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert Order.select().count() == 1100


def test_indexes_built_after_drops_only_inside_its_transaction(db):
    before = _order_indexes()
    with pytest.raises(RuntimeError):
        with indexes_built_after(Order):
            pass
    with write():
        with indexes_built_after(Order):
            inside = _order_indexes()
            Shop.create(name="s")
        assert _order_indexes() == before
    assert set(inside) == {"order_order_sn_shop_id"}  # only the unique key stays while loading
    with pytest.raises(ZeroDivisionError):
        with write():
            with indexes_built_after(Order):
                raise ZeroDivisionError
    assert _order_indexes() == before  # the rollback brings them back
    write_demo(10, seed=1, now=NOW)
    with write():
        with indexes_built_after(Order):  # the table has rows: nothing is dropped
            assert _order_indexes() == before


def test_a_big_demo_made_by_a_second_process_is_the_same(db, monkeypatch):
    import dadan.core.demo as demo

    monkeypatch.setattr(demo, "_MADE_ELSEWHERE_FROM", 1)  # a spawned process makes the batches
    made = []
    real = demo._made_elsewhere
    monkeypatch.setattr(demo, "_made_elsewhere", lambda *a: made.append(a) or real(*a))
    assert write_demo(2500, seed=2, now=NOW, chunk=1000) == 2500
    assert made
    assert _digest("order", "order_item", "order_tag", "tag") == \
        "d48792d0038dfcb9995f98d53bb66cfbcdb56fa1e93e676a9e00bb0a7609b632"
