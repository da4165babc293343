"""The page plans of the structured filters (bench/bench_counts.py's list): a page's ids are chosen
first and its rows read after, the due filters count and choose pages from the covering pending
deadline index, and every filter still returns the same orders in the same order -- first page,
deep pages, last page, both sort directions -- as one plain ``ORDER BY`` over all its matches."""

from __future__ import annotations

import datetime as dt

import pytest
from peewee import SQL, fn

from dadan.core import db as dbmod
from dadan.core.demo import DEMO_SHOP, write_demo
from dadan.core.models import DEADLINE_INDEX_COLUMNS, DEADLINE_INDEX_NAME, Order, SchemaVersion, Shop
from dadan.core.order_indexes import NOTE_INDEXES, PENDING_DUE_COLUMNS, PENDING_DUE_INDEX_NAME
from dadan.core.orders import dialect, page_plan
from dadan.core.orders.listing import SORTABLE, count, ensure_statistics, explain, fetch_page, parse_sort
from dadan.core.orders.outside import ranges_outside
from dadan.core.orders.query import compile_query
from tests.plan_helpers import give_up_at_once

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
FORCED_LIMIT = 19  # the forced plans' pages: fewer of them (every boundary is crossed at LIMIT above)


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


def _assert_pages_as_plain(where, sort: str, limit: int = LIMIT) -> None:
    """Every page -- first, deep, last, before the last, from the middle -- holds the orders of one
    plain ORDER BY over all the matches, in its order."""
    want = _expected(where, sort)
    got, page = [], fetch_page(where, sort, limit=limit)
    while True:
        got += [r.id for r in page.rows]
        if not page.has_next:
            break
        page = fetch_page(where, sort, after=page.last_key, limit=limit)
    assert got == want
    if not want:
        return
    last = fetch_page(where, sort, last=True, limit=limit)
    assert [r.id for r in last.rows] == want[-limit:] and not last.has_next and last.has_prev == (len(want) > limit)
    if len(want) > 2 * limit:
        before = fetch_page(where, sort, before=last.first_key, limit=limit)
        assert [r.id for r in before.rows] == want[-2 * limit:-limit]
    middle = len(want) // 2  # a page from the middle, as after a jump to a row
    row = next(r for r in fetch_page(where, sort, after=None, limit=len(want)).rows if r.id == want[middle])
    deep = fetch_page(where, sort, after=(getattr(row, parse_sort(sort)[0]), row.id), limit=limit)
    assert [r.id for r in deep.rows] == want[middle + 1:middle + 1 + limit]


@pytest.mark.parametrize("query,sort", CASES)
def test_every_page_holds_the_same_orders_in_the_same_order(db, query, sort):
    where = compile_query(query, now=NOW)
    assert len(_expected(where, sort)) > 2 * LIMIT, query  # deep pages exist
    assert count(where) == len(_expected(where, sort))
    _assert_pages_as_plain(where, sort)


# filters whose pages SQLite's planner would find late at a million orders: a walk of the sort
# index that meets the orders far down (overdue, due), or none at all (an unused remark word, a
# source), or a sort of many (a courier, an order-number prefix)
PLANNED = ["courier:zto", "due<4h", "due<1d", "overdue:yes", "remark:快", "source:import", "sn:2",
           "reprint:yes", "stock:short", "status:pending courier:zto", "tag:赠品", "exception:any",
           "status:pending 杭州", "蓝",
           "-courier:zto", "-due<4h", "overdue:no"]  # (negations of terms that can be NULL: IS NOT TRUE)


@pytest.mark.parametrize("force", ["planner", "walk given up", "sorted as few", "walked as many",
                                   "covering walk walked again", "covering walk given up"])
def test_whichever_plan_finds_a_page_the_pages_are_the_same(db, monkeypatch, force):
    """core.orders.page_plan picks a page's plan by the clock and a bounded count: whichever it
    takes (forced here: every walk interrupted at once, a covering one then walked to the end or
    given up too; every filter's orders taken as few, or as many), every page is the same."""
    if force in ("walk given up", "covering walk walked again", "covering walk given up"):
        monkeypatch.setattr(page_plan, "WALK_BUDGET_S", 0.0)
        monkeypatch.setattr(page_plan, "FREE_TEXT_WALK_BUDGET_S", 0.0)
        give_up_at_once(monkeypatch)
    if force == "sorted as few":
        monkeypatch.setattr(page_plan, "FEW", 10**9)
    elif force in ("walked as many", "covering walk walked again"):
        monkeypatch.setattr(page_plan, "FEW", 0)
        monkeypatch.setattr(page_plan, "WALK_OVER_SORT", 10**9)
    elif force == "covering walk given up":
        monkeypatch.setattr(page_plan, "COVERED_WALK_BUDGET_S", 0.0)
    for query in PLANNED:
        where = compile_query(query, now=NOW)
        for sort in ("-pay_time", "pay_time", "last_ship_time", "-province", "pay_amount_fen"):
            _assert_pages_as_plain(where, sort, FORCED_LIMIT)


def _executed(monkeypatch, run) -> list[str]:
    """The SQL statements ``run()`` ran."""
    db = dbmod.database()
    executed: list[str] = []
    real = db.execute_sql
    monkeypatch.setattr(db, "execute_sql", lambda sql, params=None: executed.append(sql) or real(sql, params))
    run()
    monkeypatch.setattr(db, "execute_sql", real)
    return executed


def _page_sql(monkeypatch, where, sort: str = "-pay_time") -> list[str]:
    """The SQL statements one first page ran."""
    return _executed(monkeypatch, lambda: fetch_page(where, sort, limit=LIMIT))


def _pages(ran: list[str]) -> list[str]:
    """Of those, the page queries (not the plan's look, the count, the rows read)."""
    return [s for s in ran if s.startswith('SELECT "t1"."id" FROM') and "ORDER BY" in s]


def test_a_filter_the_planner_would_sort_walks_the_sort_index_when_its_orders_are_many(db, monkeypatch):
    """``sn:2`` (every order's number starts so): the planner reads the order-number index and
    sorts every order; its orders counted past FEW, the page walks the pay-time index instead,
    the filter hidden from the planner. A whole order number: counted as few, sorted as planned."""
    monkeypatch.setattr(page_plan, "FEW", 100)
    many = compile_query("sn:2", now=NOW)
    assert "USE TEMP B-TREE FOR ORDER BY" in explain(many, "-pay_time")
    ran = _page_sql(monkeypatch, many)
    pages = _pages(ran)
    assert len(pages) == 1 and "+(" in pages[0] and any(s.startswith("SELECT count(*)") for s in ran), ran
    one = Order.select(Order.order_sn).where(Order.pay_time.is_null(False)).scalar()
    ran = _page_sql(monkeypatch, compile_query(f"sn:{one}", now=NOW))
    pages = _pages(ran)
    assert pages and not any("+(" in p for p in pages), ran  # (then the NULL pay times' segment)


def test_a_rare_free_text_terms_orders_are_sorted_as_planned(db, monkeypatch):
    """The free-text index counted the term as rare: its orders are read by id and sorted, never
    counted again nor walked for (here every other filter would be walked: FEW is 0)."""
    monkeypatch.setattr(page_plan, "FEW", 0)
    sn = Order.select(Order.order_sn).where(Order.pay_time.is_null(False)).order_by(Order.id).scalar()
    for query in (f'"{sn[-9:]}"', f'status:pending "{sn[-9:]}"'):
        where = compile_query(query, now=NOW)
        ran = _page_sql(monkeypatch, where)
        pages = _pages(ran)
        assert pages and not any("+(" in p for p in pages) and not any(s.startswith("SELECT count(*) FROM (") for s in ran), ran
        _assert_pages_as_plain(where, "-pay_time")


def test_a_walk_that_meets_no_order_is_given_up_for_the_filter_first(db, monkeypatch):
    """``source:import`` in a database of synced orders: the planner walks the pay-time index; the
    walk is interrupted and the filter read first, the sort terms hidden from the planner (here
    the covering walk's longer time is taken away too)."""
    where = compile_query("source:import", now=NOW)
    monkeypatch.setattr(page_plan, "WALK_BUDGET_S", 0.0)
    monkeypatch.setattr(page_plan, "COVERED_WALK_BUDGET_S", 0.0)
    give_up_at_once(monkeypatch)
    ran = _pages(_page_sql(monkeypatch, where))
    assert "+(" not in ran[0] and 'ORDER BY +("t1"."pay_time") DESC' in ran[1], ran  # (then the NULLs' segment)
    assert fetch_page(where, "-pay_time").rows == []


def test_a_covering_walk_that_meets_no_order_reads_the_index_once(db, monkeypatch):
    """``source:import`` again: the pay-time index carries the source, so the walk tests each order
    from its entry (no row read), and the filter first would read that same index and sort. So
    the walk is not given up at WALK_BUDGET_S (zero here): it reads the index to the end, once."""
    where = compile_query("source:import", now=NOW)
    assert explain(where, "-pay_time")[0].startswith("SEARCH t1 USING COVERING INDEX order_pay_time ")
    monkeypatch.setattr(page_plan, "WALK_BUDGET_S", 0.0)
    give_up_at_once(monkeypatch)
    ran = _pages(_page_sql(monkeypatch, where))
    assert not any("+(" in p for p in ran), ran
    assert len([p for p in ran if '"t1"."pay_time" IS NULL' not in p]) == 1, ran  # (and the NULLs' segment)


@pytest.mark.parametrize("few", [True, False])
def test_a_covering_walk_given_up_goes_to_the_filter_first_only_when_its_orders_are_few(db, monkeypatch, few):
    """``overdue:yes`` sorted by pay time: the planner walks the pay-time index, testing each order
    from its entry; the filter first would read the pending deadline index. The walk interrupted,
    the filter's orders are counted: few (fewer than the orders / WALK_OVER_SORT), they are read
    and sorted; many, the walk is made again, to the end."""
    where = compile_query("overdue:yes", now=NOW)
    assert explain(where, "-pay_time")[0].startswith("SEARCH t1 USING COVERING INDEX order_pay_time ")
    assert explain(where, "-pay_time", form="unsorted")[0].startswith(f"SEARCH t1 USING COVERING INDEX {PENDING_DUE_INDEX_NAME} ")
    monkeypatch.setattr(page_plan, "WALK_BUDGET_S", 0.0)
    give_up_at_once(monkeypatch)
    monkeypatch.setattr(page_plan, "FEW", 0)
    monkeypatch.setattr(page_plan, "WALK_OVER_SORT", 1 if few else 10**9)
    ran = _page_sql(monkeypatch, where)
    pages = [p for p in _pages(ran) if '"t1"."pay_time" IS NULL' not in p]  # (not the NULLs' segment)
    assert any(s.startswith("SELECT count(*) FROM (") for s in ran), ran
    if few:
        assert len(pages) == 2 and "+(" not in pages[0] and 'ORDER BY +("t1"."pay_time") DESC' in pages[1], pages
    else:
        assert len(pages) == 2 and pages[0] == pages[1] and "+(" not in pages[0], pages
    _assert_pages_as_plain(where, "-pay_time")


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


def _demo_at(path, n: int, seed: int, days: int | None = None) -> None:
    """A demo database at ``path``, open, its planner statistics kept."""
    dbmod.open_database(f"sqlite:///{path}")
    write_demo(n, seed=seed, now=NOW, days=days)
    ensure_statistics(force=True)


def _migrated_from(path, version: int, ddl: list[str]):
    """The open database at ``path`` made as one at schema ``version`` was (``ddl`` undoes the later
    steps), closed, and opened again: brought up by the steps after ``version``."""
    db = dbmod.database()
    with dbmod.write():
        for sql in ddl:
            db.execute_sql(sql)
        SchemaVersion.delete().where(SchemaVersion.version > version).execute()
    dbmod.close_database()
    return dbmod.open_database(f"sqlite:///{path}")


def test_a_version_8_database_gains_the_wide_deadline_index(tmp_path):
    path = tmp_path / "v8.db"
    _demo_at(path, 600, seed=4)
    where = compile_query("status:pending province:广东 due<4h", now=NOW)
    before = _expected(where, "-pay_time")
    db = _migrated_from(path, 8, [  # the narrow index, its statistics
        f'DROP INDEX "{PENDING_DUE_INDEX_NAME}"',
        f"""CREATE INDEX "{PENDING_DUE_INDEX_NAME}" ON "order" ("last_ship_time", "id")
            WHERE "order_status" = 1 AND "state" IN ('new', 'printed')""",
        f'ANALYZE "{PENDING_DUE_INDEX_NAME}"'])
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


def test_a_version_20_database_gains_the_deadline_index_with_pay_time(tmp_path):
    """Step 21: the (last_ship_time, id) index becomes (last_ship_time, id, pay_time), its statistics
    kept; a due filter sorted by pay time then reads its page from that index alone."""
    path = tmp_path / "v20.db"
    _demo_at(path, 600, seed=4)
    where = compile_query("due<1d", now=NOW)
    before = _expected(where, "-pay_time")
    db = _migrated_from(path, 20, [f'DROP INDEX "{DEADLINE_INDEX_NAME}"',
                                   'CREATE INDEX "order_last_ship_time_id" ON "order" ("last_ship_time", "id")',
                                   'ANALYZE "order_last_ship_time_id"'])
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 21
    assert [r[2] for r in db.execute_sql(f'PRAGMA index_info("{DEADLINE_INDEX_NAME}")')] == list(DEADLINE_INDEX_COLUMNS)
    assert not db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'order_last_ship_time_id'").fetchone()
    stat = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (DEADLINE_INDEX_NAME,)).fetchone()
    assert stat and len(stat[0].split()) == 1 + len(DEADLINE_INDEX_COLUMNS)
    assert f"COVERING INDEX {DEADLINE_INDEX_NAME}" in " | ".join(explain(where, "-pay_time", form="unsorted"))
    _assert_pages_as_plain(where, "-pay_time")
    assert _expected(where, "-pay_time") == before
    dbmod.close_database()


def test_a_version_26_database_gains_the_update_time_index_with_pay_time_and_status(tmp_path):
    """Step 27: the update time's partial index carries pay time, id and the pending test's
    columns, its statistics kept: a status with an update time is counted from it alone, and an
    update-time filter's first page is sorted from it alone (no row read before the page's)."""
    from dadan.core.order_indexes import UPDATE_TIME_INDEX_COLUMNS, UPDATE_TIME_INDEX_NAME

    path = tmp_path / "v26.db"
    _demo_at(path, 600, seed=4)
    queries = ("status:pending updated<1d", "-status:pending updated<1d", "updated>1d", "status:pending updated>1d")
    before = {q: _expected(compile_query(q, now=NOW), "-pay_time") for q in queries}
    db = _migrated_from(path, 26, [
        f'DROP INDEX "{UPDATE_TIME_INDEX_NAME}"',
        f'CREATE INDEX "{UPDATE_TIME_INDEX_NAME}" ON "order" ("updated_at") WHERE ("updated_at" IS NOT NULL)',
        f'ANALYZE "{UPDATE_TIME_INDEX_NAME}"'])
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 27
    assert [r[2] for r in db.execute_sql(f'PRAGMA index_info("{UPDATE_TIME_INDEX_NAME}")')] == [
        c.column_name for c in UPDATE_TIME_INDEX_COLUMNS]
    stat = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (UPDATE_TIME_INDEX_NAME,)).fetchone()
    assert stat and len(stat[0].split()) == 1 + len(UPDATE_TIME_INDEX_COLUMNS)
    for q in queries:
        where = compile_query(q, now=NOW)
        counted = " | ".join(dialect.explain(*Order.select(fn.COUNT(Order.id)).where(where).sql()))
        assert f"COVERING INDEX {UPDATE_TIME_INDEX_NAME}" in counted, (q, counted)
        assert before[q] and _expected(where, "-pay_time") == before[q], q
        assert count(where) == len(before[q]), q
        _assert_pages_as_plain(where, "-pay_time")
    where = compile_query("updated>1d", now=NOW)
    page = " | ".join(explain(where, "-pay_time", form="unsorted"))
    assert f"COVERING INDEX {UPDATE_TIME_INDEX_NAME}" in page, page
    dbmod.close_database()


def test_a_version_27_database_gains_the_update_time_index_with_exception_bits_and_prints(tmp_path):
    """Step 28: the update time's index carries the exception bits and the print count, its
    statistics kept: the built-in views' terms with an update time are counted from it alone."""
    from dadan.core.order_indexes import UPDATE_TIME_INDEX_COLUMNS, UPDATE_TIME_INDEX_NAME

    path = tmp_path / "v27.db"
    _demo_at(path, 600, seed=4)
    queries = ("printed:no updated<1d", "exception:none updated<1d", "status:pending printed:no exception:none updated<1d",
               "state:printed exception:no updated>1h")
    before = {q: _expected(compile_query(q, now=NOW), "-pay_time") for q in queries}
    db = _migrated_from(path, 27, [
        f'DROP INDEX "{UPDATE_TIME_INDEX_NAME}"',
        f'CREATE INDEX "{UPDATE_TIME_INDEX_NAME}" ON "order" ("updated_at", "id", "pay_time", "order_status", "state") '
        'WHERE ("updated_at" IS NOT NULL)',
        f'ANALYZE "{UPDATE_TIME_INDEX_NAME}"'])
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 28
    assert [r[2] for r in db.execute_sql(f'PRAGMA index_info("{UPDATE_TIME_INDEX_NAME}")')] == [
        c.column_name for c in UPDATE_TIME_INDEX_COLUMNS][-7:] == [
        "updated_at", "id", "pay_time", "order_status", "state", "exception_flags", "print_count"]
    stat = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (UPDATE_TIME_INDEX_NAME,)).fetchone()
    assert stat and len(stat[0].split()) == 1 + len(UPDATE_TIME_INDEX_COLUMNS)
    for q in queries:
        where = compile_query(q, now=NOW)
        assert before[q] and _expected(where, "-pay_time") == before[q], q
        assert count(where) == len(before[q]), q
        _assert_pages_as_plain(where, "-pay_time")
    where = compile_query("printed:no updated<1d", now=NOW)
    counted = " | ".join(dialect.explain(*Order.select(fn.COUNT(Order.id)).where(where).sql()))
    assert f"COVERING INDEX {UPDATE_TIME_INDEX_NAME}" in counted, counted
    dbmod.close_database()


YEAR_STATISTICS = {  # (index: sqlite_stat1) of a 1,000,000-order demo
    "order_pay_time": "1000000 233 1 1 1 1 1 1 1 1 1 1 1",
    "order_status": "1000000 333334 250000 41667 41667 1 1 1 1 1 1",
    "order_updated_at_set": "1000000 171 1 1 1 1 1 1",
    "order_state_pay_time": "1000000 333334 79",
    "order_exception_flags_set": "61706 5610 5 5 4",
}


@pytest.fixture
def year_statistics_db(plans_db, tmp_path):
    """The plans database with the planner statistics a 1,000,000-order demo keeps for the status
    and the update-time index: with them SQLite's planner reads a view's orders through the
    status index, each one's row for its update time."""
    import shutil

    path = tmp_path / "stats.db"
    shutil.copy(plans_db, path)
    db = dbmod.open_database(f"sqlite:///{path}")
    with dbmod.write():
        db.execute_sql("UPDATE sqlite_stat1 SET stat = ? WHERE tbl = 'order'", (YEAR_STATISTICS["order_pay_time"],))
        for idx, stat in YEAR_STATISTICS.items():
            db.execute_sql("UPDATE sqlite_stat1 SET stat = ? WHERE idx = ?", (stat, idx))
    dbmod.close_database()
    dbmod.open_database(f"sqlite:///{path}")  # (a new connection reads the statistics)
    yield
    dbmod.close_database()


@pytest.mark.parametrize("query", ["status:pending printed:no exception:none updated<1d",
                                   "status:pending printed:no exception:none updated<3d"])
def test_a_count_one_index_holds_is_read_from_a_range_of_it_when_the_planner_would_read_rows(
        year_statistics_db, monkeypatch, query):
    """A view with an update time: the update-time index holds every column the filter tests, but
    SQLite's planner, keeping only averages, reads the status index and each order's row instead
    (at 1,000,000 orders: 377,000 rows, 0.45 s); the count is read from a range of the update-time
    index (``INDEXED BY``), no row read -- the same count."""
    from dadan.core.order_indexes import UPDATE_TIME_INDEX_NAME

    where = compile_query(query, now=NOW)
    assert "COVERING" not in _count_plan(where) and "INDEX order_status" in _count_plan(where), _count_plan(where)
    ran = [s for s in _executed(monkeypatch, lambda: count(where)) if s.startswith("SELECT COUNT(")]
    assert f'INDEXED BY "{UPDATE_TIME_INDEX_NAME}"' in ran[-1], ran
    assert f"SEARCH t1 USING COVERING INDEX {UPDATE_TIME_INDEX_NAME}" in " ".join(
        dialect.explain(ran[-1], [0] * ran[-1].count("?")))
    assert count(where) == len(_expected(where, "-pay_time")) > 0, query


@pytest.mark.parametrize("query,index", [("remark:yes", "order_remark_set"), ("memo:yes", "order_memo_set"),
                                         ("flag:yes", "order_flag_set"), ("flag:red", "order_flag_set")])
def test_remark_memo_and_flag_terms_count_and_page_from_their_partial_index(db, query, index):
    where = compile_query(query, now=NOW)
    counted = " | ".join(dialect.explain(*Order.select(fn.COUNT(Order.id)).where(where).sql()))
    assert f"INDEX {index}" in counted, counted  # (its WHERE term is the index's own: no row is read)
    assert index in " | ".join(explain(where, "-pay_time")), explain(where, "-pay_time")
    assert len(_expected(where, "-pay_time")) > LIMIT
    _assert_pages_as_plain(where, "-pay_time")


@pytest.mark.parametrize("query", ["tracking:no", "remark:no", "memo:no", "flag:no", "flag:none",
                                   "tracking:no status:pending", "province:浙江 remark:no flag:no",
                                   "-remark:no", "remark!=no", "tracking:no courier:zto", "remark:no 红"])
def test_a_term_and_its_complement_count_as_the_plain_scan(db, query):
    """``tracking:no`` and the like are counted as the rest of the filter's orders less those with a
    tracking number (core.orders.selectivity.Complement): the same count as reading every row."""
    where = compile_query(query, now=NOW)
    plain = Order.select(Order.id).where(where).order_by(Order.id).tuples()
    scanned = dbmod.database().execute_sql(f"SELECT count(*) FROM ({plain.sql()[0]}) AS m", plain.sql()[1]).fetchone()[0]
    assert count(where) == scanned == len(_expected(where, "-pay_time")), query
    assert scanned > 0 or query == "tracking:no courier:zto", query


NEGATED = [  # (negated filter, its positive): terms on NOT NULL columns and on nullable ones (the
    # plans database leaves some pay and ship times NULL; most orders lack a flag, some a courier)
    ("-remark:优先", "remark:优先"), ("-courier:zto", "courier:zto"), ("courier!=zto", "courier:zto"),
    ("-flag:red", "flag:red"), ("-sku:A12", "sku:A12"), ("-tag:加急", "tag:加急"), ("-保温杯", "保温杯"),
    ("-due<4h", "due<4h"), ("-paid<7d", "paid<7d"), ("-overdue:yes", "overdue:yes"), ("-updated<1d", "updated<1d"),
    ("-tracking:no", "tracking:no"), ("-status:pending", "status:pending"), ("-exception:refund", "exception:refund"),
]


@pytest.mark.parametrize("query,positive", NEGATED)
def test_a_negated_term_holds_every_order_its_term_does_not(db, query, positive):
    """``-term`` (or ``!=``) shows every order the term is not true for, an order whose tested
    column is empty included (``-courier:zto``: the orders with another courier and those with
    none); its count and pages equal those of the plain scan."""
    everyone = {r[0] for r in Order.select(Order.id).tuples()}
    held = {r[0] for r in Order.select(Order.id).where(compile_query(positive, now=NOW)).tuples()}
    where = compile_query(query, now=NOW)
    assert held and everyone - held, positive
    assert set(_expected(where, "-pay_time")) == everyone - held, query
    assert count(where) == len(everyone - held), query
    _assert_pages_as_plain(where, "-pay_time")
    both = compile_query(f"status:pending {query}", now=NOW)
    pending = {r[0] for r in Order.select(Order.id).where(compile_query("status:pending", now=NOW)).tuples()}
    assert count(both) == len(pending - held) == len(_expected(both, "-pay_time")), query


@pytest.mark.parametrize("query", ["-remark:优先", "-courier:zto", "-flag:red", "-保温杯", "status:pending -sku:A12"])
def test_a_negated_terms_count_reads_indexes_not_its_orders_rows(db, monkeypatch, query):
    """A negated term no index holds is counted as the rest's orders less those the term is true
    for (two counts through indexes): the negation itself never goes to SQLite, which would read
    nearly every order's row for it (a free-text term is counted in its own index)."""
    where = compile_query(query, now=NOW)
    ran = [s for s in _executed(monkeypatch, lambda: count(where)) if s.startswith("SELECT COUNT(")]
    assert len(ran) == (1 if query == "-保温杯" else 2) and not any("NOT " in s for s in ran), ran


def test_a_negated_term_one_index_holds_is_counted_once(db, monkeypatch):
    """``-due<4h``: the pay-time index holds the deadline; the negation is counted in one read of it."""
    where = compile_query("-due<4h", now=NOW)
    ran = [s for s in _executed(monkeypatch, lambda: count(where)) if s.startswith("SELECT COUNT(")]
    assert len(ran) == 1 and "IS NOT TRUE" in ran[0], ran


def test_a_version_21_database_gains_the_remark_memo_and_flag_indexes(tmp_path):
    path = tmp_path / "v21.db"
    _demo_at(path, 400, seed=6)
    db = _migrated_from(path, 21, [f'DROP INDEX "{name}"' for name in NOTE_INDEXES])
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 22
    for name in NOTE_INDEXES:
        assert db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (name,)).fetchone(), name
    where = compile_query("memo:yes", now=NOW)
    assert "order_memo_set" in " | ".join(explain(where, "-pay_time"))
    dbmod.close_database()


@pytest.mark.parametrize("query,index", [("courier:zto", "order_logistics_id_set"),
                                         ("exception:refund", "")])
def test_a_courier_or_exception_page_is_sorted_from_its_index_alone(db, monkeypatch, query, index):
    """Their partial indexes carry pay time: the orders are sorted from the index (no row read,
    so up to FEW_COVERED of them), not found by a walk reading rows. (Here the exceptions'
    orders are read from the pay-time index, which holds the flags too: no row either.)"""
    monkeypatch.setattr(page_plan, "FEW", 0)  # (a sort reading rows would be given up for the walk)
    where = compile_query(query, now=NOW)
    assert f"COVERING INDEX {index}" in " | ".join(explain(where, "-pay_time"))
    pages = _pages(_page_sql(monkeypatch, where))
    assert pages and not any("+(" in p for p in pages), pages
    _assert_pages_as_plain(where, "-pay_time")


def test_a_version_22_database_gains_the_wide_courier_and_exception_indexes(tmp_path):
    path = tmp_path / "v22.db"
    _demo_at(path, 400, seed=7)
    db = _migrated_from(path, 22, [
        'DROP INDEX "order_logistics_id_set"',
        'CREATE INDEX "order_logistics_id_set" ON "order" ("logistics_id") WHERE "logistics_id" IS NOT NULL',
        'DROP INDEX "order_exception_flags_set"',
        'CREATE INDEX "order_exception_flags_set" ON "order" ("exception_flags") WHERE "exception_flags" != 0'])
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 23
    for name, columns in (("order_logistics_id_set", ["logistics_id", "id", "pay_time", "order_status", "state"]),
                          ("order_exception_flags_set", ["exception_flags", "pay_time", "order_status", "state"])):
        assert [r[2] for r in db.execute_sql(f'PRAGMA index_info("{name}")')] == columns, name
        stat = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (name,)).fetchone()
        assert stat and len(stat[0].split()) == 1 + len(columns), name
    assert "WHERE" in db.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'order_logistics_id_set'").fetchone()[0]
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


COVERED_COUNTS = [  # (filter, the index its count reads alone; "": any)
    ("created<1d", ""), ("qty>3", ""), ("source:import", ""), ("amount>500", ""), ("shop:" + DEMO_SHOP, ""),
    ("status:pending remark:yes", "order_remark_set"), ("status:pending memo:yes", "order_memo_set"),
    ("status:pending flag:red", "order_flag_set"), ("status:pending tracking:yes", "order_tracking_number_set"),
    ("status:pending exception:refund", ""),
    ("status:pending created<1d", ""), ("status:pending qty>3", ""), ("status:pending amount>500", ""),
    ("printed:yes created<1d", ""),
]


def _count_plan(where) -> str:
    return " | ".join(dialect.explain(*Order.select(fn.COUNT(Order.id)).where(where).sql()))


@pytest.mark.parametrize("query,index", COVERED_COUNTS)
def test_filters_on_the_orders_own_columns_count_from_an_index_alone(db, query, index):
    """The pay-time index carries the columns filters test that have no index of their own, and the
    partial indexes the pending test's (schema step 24): such a count reads no order's row."""
    where = compile_query(query, now=NOW)
    assert f"COVERING INDEX {index}" in _count_plan(where), (query, _count_plan(where))
    assert count(where) == len(_expected(where, "-pay_time"))


COMBINED_COUNTS = ["exception:refund updated<1d", "exception:refund created<1d", "updated<1d province:浙江",
                   "exception:refund province:浙江", "sku:A12 updated<1d", "tag:加急 province:浙江",
                   "courier:zto updated<1d", "remark:yes updated>1d", "printed:no updated<1d", "city:杭州",
                   "status:pending exception:refund updated<3d"]


@pytest.mark.parametrize("query", COMBINED_COUNTS)
def test_a_count_no_index_holds_is_read_through_its_fewest_terms_index(db, query):
    """Terms no one index holds: the count goes through the index of the term that holds for the
    fewest orders (its orders' ids from the index alone), the others tested on those rows, when
    the planner would read another's -- and equals the plain count whatever the plan."""
    where = compile_query(query, now=NOW)
    seen: list[str] = []
    dbmod.database().connection().set_trace_callback(seen.append)
    try:
        got = count(where)
    finally:
        dbmod.database().connection().set_trace_callback(None)
    assert got == len(_expected(where, "-pay_time")) == Order.select().where(where).count(), query
    driven = [q for q in seen if q.startswith("SELECT COUNT") and '"t1"."id" IN (SELECT "t1"."id"' in q]
    if query == "updated<1d province:浙江":  # 1 in 7 orders in the province, most updated within the day
        assert driven and '"province"' in driven[0].split(" IN (SELECT")[1].split("+(")[0], seen


def test_a_version_23_database_gains_the_indexes_that_carry_filter_columns(tmp_path):
    from dadan.core.migrations import REPLACED_IN_STEP_24, filter_column_indexes
    from dadan.core.order_indexes import PAY_TIME_INDEX_NAME, STATUS_INDEX_NAME
    from dadan.core.reports.figures import build_report

    path = tmp_path / "v23.db"
    _demo_at(path, 500, seed=8)
    queries = [q for q, _index in COVERED_COUNTS] + ["tracking:no status:pending", "status:pending due<4h"]
    before = {q: _expected(compile_query(q, now=NOW), "-pay_time") for q in queries}
    report_before = build_report("day", dt.date(2026, 11, 17), dt.date(2026, 11, 20), tz="Asia/Shanghai", now=NOW, include_money=True)
    old = [  # schema 23's indexes, as it made them
        f'DROP INDEX "{PAY_TIME_INDEX_NAME}"',
        'CREATE INDEX "order_pay_time_id" ON "order" ("pay_time", "id")',
        'CREATE INDEX "order_report_paid" ON "order" ("pay_time", "shop_id", "exception_flags", "pay_amount_fen")',
        f'DROP INDEX "{STATUS_INDEX_NAME}"',
        'CREATE INDEX "order_order_status_state_exception_flags_print_count" ON "order" '
        '("order_status", "state", "exception_flags", "print_count")',
        'ANALYZE "order_pay_time_id"', 'ANALYZE "order_report_paid"',
        'ANALYZE "order_order_status_state_exception_flags_print_count"']
    narrow = {"order_tracking_number_set": ("tracking_number", "\"tracking_number\" != ''"),
              "order_logistics_id_set": ("logistics_id, id, pay_time", '"logistics_id" IS NOT NULL'),
              "order_exception_flags_set": ("exception_flags, pay_time", '"exception_flags" != 0'),
              "order_remark_set": ("pay_time", "\"remark\" != ''"), "order_memo_set": ("pay_time", "\"buyer_memo\" != ''"),
              "order_flag_set": ("remark_tag, pay_time", '"remark_tag" IS NOT NULL')}
    for name, (columns, cond) in narrow.items():
        old += [f'DROP INDEX "{name}"', f'CREATE INDEX "{name}" ON "order" ({columns}) WHERE {cond}', f'ANALYZE "{name}"']
    db = _migrated_from(path, 23, old)
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 24
    remade = filter_column_indexes()
    assert {i._name for i in remade} == {PAY_TIME_INDEX_NAME, STATUS_INDEX_NAME, *narrow}
    for index in remade:
        columns = [r[2] for r in db.execute_sql(f'PRAGMA index_info("{index._name}")')]
        assert columns == [f.column_name for f in index._expressions], index._name
        stat = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (index._name,)).fetchone()
        assert stat and len(stat[0].split()) == 1 + len(columns), index._name
    for name in REPLACED_IN_STEP_24:
        assert not db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone(), name
    for query, index in COVERED_COUNTS:
        where = compile_query(query, now=NOW)
        assert f"COVERING INDEX {index}" in _count_plan(where), query
    assert {q: _expected(compile_query(q, now=NOW), "-pay_time") for q in queries} == before
    assert build_report("day", dt.date(2026, 11, 17), dt.date(2026, 11, 20), tz="Asia/Shanghai", now=NOW, include_money=True) == report_before
    dbmod.close_database()


ROW_COUNTS = ["status:pending created<1d", "status:pending qty>3", "status:pending source:import", "printed:yes created<1d",
              "exception:refund created<1d", "status:pending amount>500", "courier:zto created<1d", "town:西湖",
              "province:浙江 qty>1", "tracking:no status:pending created<1d", "remark:快", "sku:A12 created<1d"]


@pytest.mark.parametrize("budget", [0.0, 60.0])
def test_a_count_reading_rows_is_the_same_when_made_from_an_index_alone(db, monkeypatch, budget):
    """core.orders.page_plan.count_rows: a count the planner would make reading orders' rows is made
    so within COUNT_BUDGET_S, then from the one index that holds what the filter tests. Either
    way (forced here: no time, all the time) it is the plain count."""
    monkeypatch.setattr(page_plan, "COUNT_BUDGET_S", budget)
    give_up_at_once(monkeypatch)
    for query in ROW_COUNTS:
        where = compile_query(query, now=NOW)
        assert count(where) == len(_expected(where, "-pay_time")), query


def test_a_count_the_planner_makes_from_rows_is_made_from_the_pay_time_index(db, monkeypatch):
    """``exception:any created<1d``: SQLite reads the exceptions' partial index, then each such
    order's row for its created time; given no time, the count is made from one index that holds
    both, the filter hidden from the planner (no term holds for few enough orders to go first:
    ``exception:refund created<1d`` goes through the refunds' ids first, in one count).
    ``town:`` is in no index: the plain count."""
    monkeypatch.setattr(page_plan, "COUNT_BUDGET_S", 0.0)
    give_up_at_once(monkeypatch)
    where = compile_query("exception:any created<1d", now=NOW)
    assert "COVERING" not in _count_plan(where), _count_plan(where)
    ran = [s for s in _executed(monkeypatch, lambda: count(where)) if s.startswith("SELECT COUNT(")]
    assert len(ran) == 2 and "+(" not in ran[0] and "+(" in ran[1], ran
    assert "SCAN t1 USING COVERING INDEX" in " ".join(dialect.explain(ran[1], [0] * ran[1].count("?"))), ran[1]
    assert count(where) == len(_expected(where, "-pay_time"))
    refunds = compile_query("exception:refund created<1d", now=NOW)
    ran = [s for s in _executed(monkeypatch, lambda: count(refunds)) if s.startswith("SELECT COUNT(")]
    assert len(ran) == 1 and '"t1"."id" IN (SELECT' in ran[0] and "+(" in ran[0], ran
    assert count(refunds) == len(_expected(refunds, "-pay_time"))
    executed = _executed(monkeypatch, lambda: count(compile_query("town:西湖", now=NOW)))
    ran = [s for s in executed if s.startswith("SELECT COUNT(")]
    assert len(ran) == 1 and "+(" not in ran[0], executed


def _like_count(query: str) -> int:
    """The plain count of a filter whose free-text terms are quoted: each one a LIKE scan."""
    words = [w.strip('"').lower() for w in query.split() if w.startswith('"')]
    rest = " ".join(w for w in query.split() if not w.startswith('"'))
    like = compile_query(rest, now=NOW) if rest else None
    for w in words:
        like = Order.search_text.contains(w) if like is None else like & Order.search_text.contains(w)
    return Order.select().where(like).count()


FREE_TEXT_FORMS = [  # (filter, how its count reads: "scan" the other terms' few orders' text, "list"
    # the word's orders once for the other terms' index entries, "outside" the word's orders less
    # those outside the other terms (test_a_free_text_count_beside_terms_most_orders_meet_...), or
    # "index": through the word's orders)
    ('status:pending "保温杯"', "scan"), ('status:pending "色"', "scan"), ('"8" status:pending', "scan"),
    ('status:pending printed:no exception:none "黑色,l"', "scan"), ('status:pending "保温杯" "杯"', "scan"),
    ('province:上海 "保温杯"', "list"),
    ('province:浙江 "老客户"', "index"), ('courier:zto "保温杯"', "index"), ('status:shipped "保温杯"', "outside"),
    ('status:pending "不存在的词"', "index"),
]


def test_a_free_text_count_reads_the_fewer_orders(tmp_path, monkeypatch):
    """A year of history (5,000 orders, 49 awaiting shipment, common cap 100): a count of free
    text with terms that hold for few orders searches those orders' text; with terms read from
    an index alone that hold for more, but fewer than the word (上海 371 < 保温杯 682), it looks
    their entries up in the word's list of orders; with status terms that hold for nearly every
    order (``status:shipped``), it is the word's orders less those outside them; with other terms
    that hold for more than the word, or a word in fewer orders, or in none, it goes through the
    word's orders. Either way the count is the plain LIKE scan's."""
    _demo_at(tmp_path / "year.db", 5000, seed=12, days=365)
    assert count(compile_query("status:pending", now=NOW)) < page_plan.selectivity.common_cap() == 100
    for query, form in FREE_TEXT_FORMS:
        where = compile_query(query, now=NOW)
        got: list[int] = []
        final = _executed(monkeypatch, lambda w=where, g=got: g.append(count(w)))[-1]
        scanned, listed = "LIKE" in final and "MATCH" not in final, '+"t1"."id" IN' in final
        assert (scanned, listed, "UNION ALL" in final) == (form == "scan", form == "list", form == "outside"), \
            (query, final)
        assert got == [_like_count(query)], query
    dbmod.close_database()


OUTSIDE_FORMS = [  # (filter, how its count reads: "outside" the orders the other terms leave out,
    # from one index, looked up in the word's list; "joined" the words' orders listed by one query
    # of them all, each one's row read; "index" as SQLite's planner plans it)
    ('status:pending "保温杯"', "outside"), ('status:pending "色"', "outside"), ('status:new "保温杯"', "outside"),
    ('state:printed "黑色,l"', "index"),  # (state:printed holds for few here; status:shipped too)
    ('status:pending "保温杯" "黑色"', "joined"), ('province:浙江 "保温杯" "杯"', "joined"),
    ('status:pending "8"', "index"), ('courier:zto "保温杯"', "index"), ('status:shipped "保温杯"', "index"),
    ('exception:none "保温杯"', "outside"), ('status:pending printed:no "黑色"', "outside"),
    ('status:pending "不存在的词"', "index"),
]


def test_a_free_text_count_beside_terms_most_orders_meet_reads_the_few_they_do_not(tmp_path, monkeypatch):
    """The demo's default shape, nine orders in ten awaiting shipment (and, here, orders in every
    platform status and every state, so that each range outside ``status:pending`` holds some):
    a word beside ``status:pending`` is counted as the word's orders less those of them outside
    the pending test, read as ranges of the status index (not each of the word's orders' rows);
    several words beside other terms through one query of every word. Whatever the form, the
    count is the plain LIKE scan's."""
    _demo_at(tmp_path / "busy.db", 5000, seed=13)
    with dbmod.write():  # every value below, between and above the pending test's
        for status, state, every in ((0, "new", 29), (5, "printed", 31), (2, "shipped", 37), (3, "confirmed", 41),
                                     (1, "confirmed", 43), (1, "packed", 47), (1, "shipped", 53), (4, "new", 59)):
            Order.update(order_status=status, state=state).where(SQL(f"id % {every} = 0")).execute()
    pending = count(compile_query("status:pending", now=NOW))
    assert pending > 2 * count(None) // 3
    for query, form in OUTSIDE_FORMS:
        where = compile_query(query, now=NOW)
        got: list[int] = []
        final = _executed(monkeypatch, lambda w=where, g=got: g.append(count(w)))[-1]
        joined = final.count("MATCH") == 1 and len(query.split('"')) > 4 and "+(" in final  # (the rest hidden)
        shown = ("UNION ALL" in final, joined)
        assert shown == (form == "outside", form == "joined"), (query, final)
        assert got == [_like_count(query)], query
    dbmod.close_database()


@pytest.mark.parametrize("query", ["status:pending", "status:new", "state:printed", "status:cancelled",
                                   "status:received", "status:pending exception:none", "printed:no",
                                   "status:pending printed:no exception:none", "status:shipped", "courier:zto"])
def test_the_orders_outside_terms_are_ranges_that_hold_every_other_order_once(tmp_path, query):
    """outside.ranges_outside: the ranges of one index that hold the orders a join of terms leaves
    out are every such order, once, and none it holds (orders in every platform status and
    state and with every exception bit), whether the terms lead their index (``status:pending``)
    or not (``printed:no``: fourth in the status index, the columns before it skipped through);
    a term of a column that may be NULL (``courier:zto``) has none."""
    _demo_at(tmp_path / "parts.db", 1200, seed=14)
    with dbmod.write():
        for status, state, every in ((0, "new", 7), (5, "printed", 11), (2, "shipped", 13), (3, "confirmed", 5),
                                     (1, "confirmed", 17), (1, "packed", 19), (4, "new", 23)):
            Order.update(order_status=status, state=state).where(SQL(f"id % {every} = 0")).execute()
        Order.update(exception_flags=SQL("id % 3"), print_count=SQL("id % 4")).where(SQL("id % 29 = 0")).execute()
    db = dbmod.database()
    where = compile_query(query, now=NOW)
    outside = ranges_outside(db, Order.select(), page_plan.and_terms(where))
    if query == "courier:zto":
        assert outside is None
        dbmod.close_database()
        return
    ids = [r[0] for r in db.execute_sql(*outside)]
    assert len(ids) == len(set(ids))  # (each once)
    held = {r[0] for r in Order.select(Order.id).where(where).tuples()}
    every = {r[0] for r in Order.select(Order.id).tuples()}
    assert set(ids) == every - held and held and set(ids)
    assert outside[0].count("SELECT") == outside[0].count("INDEXED BY")  # (each range read from one index)
    dbmod.close_database()


def test_a_word_among_orders_that_all_meet_the_status_term_is_counted_whole(tmp_path):
    """Every order shipped: nothing lies outside ``status:shipped`` (no range to read), and the
    count of a word beside it is the word's."""
    _demo_at(tmp_path / "all.db", 600, seed=15)
    with dbmod.write():
        Order.update(order_status=2).execute()
    where = compile_query('status:shipped "杯"', now=NOW)
    assert list(dbmod.database().execute_sql(*ranges_outside(dbmod.database(), Order.select(),
                                                                     [compile_query("status:shipped")]))) == []
    assert count(where) == _like_count('status:shipped "杯"') == _like_count('"杯"') > 0
    dbmod.close_database()
