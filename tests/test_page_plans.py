"""The page plans of the structured filters (bench/bench_counts.py's list): a page's ids are chosen
first and its rows read after, the due filters count and choose pages from the covering pending
deadline index, and every filter still returns the same orders in the same order -- first page,
deep pages, last page, both sort directions -- as one plain ``ORDER BY`` over all its matches."""

from __future__ import annotations

import datetime as dt

import pytest
from peewee import SQL

from dadan.core import db as dbmod
from dadan.core.demo import DEMO_SHOP, write_demo
from dadan.core.models import PENDING_DUE_COLUMNS, PENDING_DUE_INDEX_NAME, Order, SchemaVersion, Shop
from dadan.core.orders.listing import SORTABLE, count, ensure_statistics, explain, fetch_page, parse_sort
from dadan.core.orders.query import compile_query

NOW = dt.datetime(2026, 11, 20, 4, 0, 0)
N = 1500
FILTERS = [  # (filter, the sort the desk uses) as bench/bench_counts.py times them
    ("sku:A12", "-pay_time"),
    ("sku=a12", "-pay_time"),
    ("province:浙江", "-pay_time"),
    ("courier:zto", "-pay_time"),
    ("due<4h", "last_ship_time"),
    ("paid:today", "-pay_time"),
    ("exception:refund", "-pay_time"),
    ("tag:加急", "-pay_time"),
    (f"shop:{DEMO_SHOP}", "-pay_time"),
    ("state:printed", "-pay_time"),
    ("status:pending province:广东 due<4h", "-pay_time"),
    ("status:pending due<4h", "-pay_time"),
    ("status:pending due<4h", "last_ship_time"),
]
LIMIT = 7  # a small page: many pages, so deep ones


def _reversed(sort: str) -> str:
    return sort[1:] if sort.startswith("-") else f"-{sort}"


CASES = [(q, s) for q, sort in FILTERS for s in (sort, _reversed(sort))]


@pytest.fixture(scope="module")
def plans_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("plans") / "p.db"
    dbmod.open_database(f"sqlite:///{path}")
    write_demo(N, seed=11, now=NOW)
    with dbmod.write():  # NULLs in the nullable sort columns, and ties
        Order.update(pay_time=None).where(SQL("id % 19 = 0")).execute()
        Order.update(last_ship_time=None).where(SQL("id % 23 = 0")).execute()
    ensure_statistics(force=True)
    dbmod.close_database()
    return path


@pytest.fixture
def db(plans_db):
    dbmod.open_database(f"sqlite:///{plans_db}")
    yield
    dbmod.close_database()


def _expected(where, sort: str) -> list[int]:
    """All matches in one plain ORDER BY (SQLite: NULLs first ascending, last descending)."""
    name, desc = parse_sort(sort)
    col = SORTABLE[name][0]
    order = [col.desc(), Order.id.desc()] if desc else [col.asc(), Order.id.asc()]
    return [r[0] for r in Order.select(Order.id).where(where).order_by(*order).tuples()]


@pytest.mark.parametrize("query,sort", CASES)
def test_every_page_holds_the_same_orders_in_the_same_order(db, query, sort):
    where = compile_query(query, now=NOW)
    want = _expected(where, sort)
    assert len(want) > 2 * LIMIT, (query, len(want))  # deep pages exist
    assert count(where) == len(want)
    got, page = [], fetch_page(where, sort, limit=LIMIT)
    while True:
        got += [r.id for r in page.rows]
        if not page.has_next:
            break
        page = fetch_page(where, sort, after=page.last_key, limit=LIMIT)
    assert got == want
    last = fetch_page(where, sort, last=True, limit=LIMIT)
    assert [r.id for r in last.rows] == want[-LIMIT:] and not last.has_next and last.has_prev
    before = fetch_page(where, sort, before=last.first_key, limit=LIMIT)
    assert [r.id for r in before.rows] == want[-2 * LIMIT:-LIMIT]
    middle = len(want) // 2  # a page from the middle, as after a jump to a row
    row = next(r for r in fetch_page(where, sort, after=None, limit=len(want)).rows if r.id == want[middle])
    deep = fetch_page(where, sort, after=(getattr(row, parse_sort(sort)[0]), row.id), limit=LIMIT)
    assert [r.id for r in deep.rows] == want[middle + 1:middle + 1 + LIMIT]


def test_the_due_filters_mean_what_they_say(db):
    limit = NOW + dt.timedelta(hours=4)
    rows = Order.select(Order.id, Order.order_status, Order.state, Order.last_ship_time, Order.province).tuples()
    due = {i for i, st, s, t, _p in rows if st == 1 and s in ("new", "printed") and t is not None and t < limit}
    canton = {i for i, _st, _s, _t, p in rows if p.startswith("广东")} & due
    assert canton and due - canton
    assert set(_expected(compile_query("status:pending due<4h", now=NOW), "-pay_time")) == due
    assert set(_expected(compile_query("status:pending province:广东 due<4h", now=NOW), "-pay_time")) == canton


@pytest.mark.parametrize("query", ["status:pending due<4h", "status:pending province:广东 due<4h"])
def test_a_due_filter_counts_and_pages_from_the_covering_deadline_index(db, query):
    where = compile_query(query, now=NOW)
    covering = f"COVERING INDEX {PENDING_DUE_INDEX_NAME}"
    for sort in ("-pay_time", "-last_ship_time", "last_ship_time"):  # (ascending: the first segment is NULLs')
        assert covering in " | ".join(explain(where, sort)), sort
    key = (NOW - dt.timedelta(days=400), 0)  # a deep page of the deadlines' segment
    assert covering in " | ".join(explain(where, "last_ship_time", after=key))
    sql, params = Order.select(Order.id).where(where).sql()
    counted = " | ".join(r[-1] for r in dbmod.database().execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert covering in counted, counted


def test_a_version_8_database_gains_the_wide_deadline_index(tmp_path):
    path = tmp_path / "v8.db"
    dbmod.open_database(f"sqlite:///{path}")
    write_demo(600, seed=4, now=NOW)
    ensure_statistics(force=True)
    where = compile_query("status:pending province:广东 due<4h", now=NOW)
    before = _expected(where, "-pay_time")
    db = dbmod.database()
    with dbmod.write():  # as a version-8 database was: the narrow index, its statistics
        db.execute_sql(f'DROP INDEX "{PENDING_DUE_INDEX_NAME}"')
        db.execute_sql(f"""CREATE INDEX "{PENDING_DUE_INDEX_NAME}" ON "order" ("last_ship_time", "id")
                           WHERE "order_status" = 1 AND "state" IN ('new', 'printed')""")
        db.execute_sql(f'ANALYZE "{PENDING_DUE_INDEX_NAME}"')
        SchemaVersion.delete().where(SchemaVersion.version > 8).execute()
    dbmod.close_database()
    db = dbmod.open_database(f"sqlite:///{path}")
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 9
    cols = [r[2] for r in db.execute_sql(f'PRAGMA index_info("{PENDING_DUE_INDEX_NAME}")')]
    assert cols == [f.column_name for f in PENDING_DUE_COLUMNS]
    stat = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (PENDING_DUE_INDEX_NAME,)).fetchone()
    assert stat and len(stat[0].split()) == 1 + len(PENDING_DUE_COLUMNS)
    got, page = [], fetch_page(where, "-pay_time", limit=LIMIT)
    while True:
        got += [r.id for r in page.rows]
        if not page.has_next:
            break
        page = fetch_page(where, "-pay_time", after=page.last_key, limit=LIMIT)
    assert got == before and len(before) > LIMIT
    dbmod.close_database()


def test_shop_terms_with_two_shops_and_an_unknown_name(tmp_path):
    dbmod.open_database(f"sqlite:///{tmp_path / 'shops.db'}")
    write_demo(120, seed=2, now=NOW)
    write_demo(80, seed=3, now=NOW, shop_name="另一家")
    other = Shop.get(Shop.name == "另一家").id
    ids = {r[0]: r[1] for r in Order.select(Order.id, Order.shop).tuples()}
    mine = {i for i, s in ids.items() if s != other}
    assert len(mine) == 120 and len(ids) == 200

    def matched(query: str) -> set[int]:
        return {r[0] for r in Order.select(Order.id).where(compile_query(query, now=NOW)).tuples()}

    assert matched(f"shop:{DEMO_SHOP}") == mine
    assert matched(f"-shop:{DEMO_SHOP}") == set(ids) - mine
    assert matched(f"shop:{DEMO_SHOP},另一家") == set(ids)
    assert matched("shop:没有这家") == set()
    assert matched("-shop:没有这家") == set(ids)
    assert count(compile_query(f"shop:{DEMO_SHOP}", now=NOW)) == 120
    dbmod.close_database()


def test_tag_terms_common_and_rare_count_and_page_as_the_plain_scan(tmp_path):
    from dadan.core.orders.actions import add_tag
    from dadan.core.orders.tag_terms import TagMatch

    dbmod.open_database(f"sqlite:///{tmp_path / 'tags.db'}")
    write_demo(600, seed=8, now=NOW)
    ensure_statistics(force=True)
    rare = [r[0] for r in Order.select(Order.id).order_by(Order.id).limit(5).tuples()]
    add_tag(rare, "稀有", actor="test")
    plain = dbmod.database().execute_sql(
        'SELECT ot.order_id, t.name FROM order_tag ot JOIN tag t ON t.id = ot.tag_id').fetchall()

    def tagged(*names: str) -> set[int]:
        return {o for o, n in plain if n in names}

    everyone = {r[0] for r in Order.select(Order.id).tuples()}
    common, scarce = compile_query("tag:加急", now=NOW), compile_query("tag:稀有", now=NOW)
    assert isinstance(common, TagMatch) and isinstance(scarce, TagMatch)
    def sql(where) -> str:
        return Order.select(Order.id).where(where).sql()[0]

    assert '+"t1"."id" IN' in sql(common) and "+" not in sql(scarce)  # the common one walks the sort index
    for query, want in (("tag:加急", tagged("加急")), ("tag:稀有", set(rare)), ("tag:加急,稀有", tagged("加急", "稀有")),
                        ("-tag:加急", everyone - tagged("加急")), ("tag:没有这个", set())):
        where = compile_query(query, now=NOW)
        assert count(where) == len(want), query
        for sort in ("-pay_time", "pay_time", "province"):
            got, page = [], fetch_page(where, sort, limit=LIMIT)
            while True:
                got += [r.id for r in page.rows]
                if not page.has_next:
                    break
                page = fetch_page(where, sort, after=page.last_key, limit=LIMIT)
            assert got == (_expected(where, sort) if want else []) and set(got) == want, (query, sort)
    dbmod.close_database()
