"""dadan.core.orders.listing: keyset pages walk the whole ordered result in both directions, NULLs
included, and page queries use indexes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from peewee import SQL

from dadan.core.db import database, open_database, write
from dadan.core.demo import write_demo
from dadan.core.errors import DadanError
from dadan.core.models import Order
from dadan.core.orders.listing import SORTABLE, count, ensure_statistics, explain, fetch_page, parse_sort
from dadan.core.orders.query import compile_query
from tests.pg_copy import open_on

NOW = dt.datetime(2026, 11, 20, 4, 0, 0)
N = 1200


@pytest.fixture(scope="module")
def listing_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("listing") / "l.db"
    open_database(f"sqlite:///{path}")
    write_demo(N, seed=3, now=NOW)
    with write():  # NULLs in every nullable sort column, and ties
        Order.update(pay_time=None).where(SQL("id % 17 = 0")).execute()
        Order.update(updated_at=None).where(SQL("id % 13 = 0")).execute()
        Order.update(last_ship_time=None).where(SQL("id % 11 = 0")).execute()
        Order.update(pay_amount_fen=990).where(SQL("id % 5 = 0")).execute()
    return path


@pytest.fixture
def db(listing_db, store):
    """The orders on the store's backend."""
    open_on(store, listing_db)
    return store


def _expected(where, sort: str) -> list[int]:
    name, desc = parse_sort(sort)
    col = SORTABLE[name][0]
    q = Order.select(Order.id)
    if where is not None:
        q = q.where(where)
    # SQLite's order on either backend: NULLs first ascending, last descending
    order = [col.desc(nulls="last"), Order.id.desc()] if desc else [col.asc(nulls="first"), Order.id.asc()]
    return [r[0] for r in q.order_by(*order).tuples()]


def _walk_forward(where, sort, limit):
    ids, page, pages = [], fetch_page(where, sort, limit=limit), 0
    assert not page.has_prev
    while True:
        ids += [r.id for r in page.rows]
        pages += 1
        if not page.has_next:
            break
        page = fetch_page(where, sort, after=page.last_key, limit=limit)
        assert page.has_prev
    return ids, pages


def _walk_backward(where, sort, limit):
    page = fetch_page(where, sort, last=True, limit=limit)
    assert not page.has_next
    chunks = []
    while True:
        chunks.append([r.id for r in page.rows])
        if not page.has_prev:
            break
        page = fetch_page(where, sort, before=page.first_key, limit=limit)
        assert page.has_next
    return chunks


@pytest.mark.parametrize("sort", [s for name in SORTABLE for s in (name, f"-{name}")])
def test_pages_cover_everything_in_order(db, sort):
    where = compile_query("status:pending,shipped,received", now=NOW)
    want = _expected(where, sort)
    got, pages = _walk_forward(where, sort, 97)
    assert got == want
    assert pages == -(-len(want) // 97)
    back = _walk_backward(where, sort, 97)
    # walking back from the last page: the first chunk may be a re-read first page
    flat = []
    for chunk in reversed(back):
        flat += [i for i in chunk if i not in flat]
    assert flat == want


@pytest.mark.parametrize("sort", ["pay_time", "-pay_time", "logistics_id", "-logistics_id", "-updated_at"])
def test_nullable_columns_page_across_the_null_boundary(db, sort):
    want = _expected(None, sort)
    got, _ = _walk_forward(None, sort, 50)
    assert got == want
    nulls = Order.select().where(SORTABLE[parse_sort(sort)[0]][0].is_null()).count()
    assert nulls > 0


def test_last_page_and_page_before(db):
    want = _expected(None, "-pay_time")
    last = fetch_page(None, "-pay_time", last=True, limit=50)
    assert [r.id for r in last.rows] == want[-50:]
    assert last.has_prev and not last.has_next
    prev = fetch_page(None, "-pay_time", before=last.first_key, limit=50)
    assert [r.id for r in prev.rows] == want[-100:-50]
    # before a key near the top: fewer than a page before it -> the first page
    second = fetch_page(None, "-pay_time", after=fetch_page(None, "-pay_time", limit=10).last_key, limit=10)
    again = fetch_page(None, "-pay_time", before=second.rows[3] and (second.rows[3].pay_time, second.rows[3].id), limit=50)
    assert [r.id for r in again.rows] == want[:50]
    assert not again.has_prev


def test_empty_result_and_count(db):
    where = compile_query("sn:nothing-like-this", now=NOW)
    page = fetch_page(where, "pay_time")
    assert page.rows == [] and not page.has_next and not page.has_prev
    assert count(where) == 0
    assert count(None) == N
    assert count(compile_query("status:pending", now=NOW)) == len(_expected(compile_query("status:pending", now=NOW), "pay_time"))


def test_rows_carry_masked_receiver_unless_plain(db):
    row = fetch_page(None, "pay_time", limit=1).rows[0]
    o = Order.get_by_id(row.id)
    assert row.receiver_name == o.receiver_name_mask
    plain = fetch_page(None, "pay_time", limit=1, plain=True).rows[0]
    assert plain.receiver_name == o.receiver_name
    assert not hasattr(row, "search_text")


def test_bad_sort_is_a_user_error(db):
    with pytest.raises(DadanError):
        fetch_page(None, "search_text")


def test_statistics_made_once_are_not_made_again_while_the_orders_stay(tmp_path):
    """On a database filled by sync (its indexes in the order the schema made them), the first
    statistics ANALYZE writes for the order table may be a partial index's (the orders awaiting
    shipment: here a third of them): the statistics count the table's orders all the same, so a
    desk starting next to them does not analyse again."""
    import dadan.core.demo as demo
    from dadan.core.models import Shop
    from dadan.core.orders.dialect import analysed_rows
    from dadan.core.orders.upsert import upsert_orders

    open_database(f"sqlite:///{tmp_path}/synced.db")
    recs = list(demo.demo_records(1500, seed=4, now=NOW))
    for r in recs[500:]:
        r["order_status"] = 2  # shipped by the platform
    with write():
        shop = Shop.create(name="s")
    upsert_orders(shop.id, recs)
    assert ensure_statistics() is True
    first = database().execute_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'order'").fetchall()
    assert any(int(stat.split()[0]) < 1000 for _idx, stat in first)  # partial indexes among them
    assert analysed_rows() == 1500
    assert ensure_statistics() is False


def test_page_queries_walk_an_index(db):
    ensure_statistics(force=True)
    if db.postgres:  # its planner's own choice by its statistics (a small table may be scanned)
        for sort in ("pay_time", "-pay_time", "last_ship_time", "-updated_at", "-logistics_id"):
            assert explain(None, sort)[0].startswith("Limit"), sort
        assert "using order_pay_time on" in " ".join(explain(None, "-pay_time"))  # the order list's default
        return
    for sort in ("pay_time", "-pay_time", "last_ship_time", "-updated_at", "-logistics_id"):
        plan = " ".join(explain(None, sort))
        assert re.search("USING (COVERING )?INDEX", plan) and "TEMP B-TREE" not in plan, (sort, plan)
    key = fetch_page(None, "-pay_time", limit=5).last_key
    plan = " ".join(explain(compile_query("status:pending", now=NOW), "-pay_time", after=key))
    assert "TEMP B-TREE" not in plan, plan
    # the status count reads the covering index, not the table
    sql, params = Order.select(Order.id).where(compile_query("status:pending", now=NOW)).sql()
    rows = Order._meta.database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    assert "COVERING INDEX" in " ".join(r[-1] for r in rows)
    _ = SQL
