"""The (code, order) table behind ``sku:`` and the pending orders' deadline index: kept in step
by every writer, equal to the plain scan of ``sku_text``, and taken by the query planner."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from peewee import fn

from dadan.core import db as dbmod
from dadan.core.demo import demo_records, write_demo
from dadan.core.models import Order, SchemaVersion, Shop
from dadan.core.order_indexes import PENDING_DUE_INDEX_NAME
from dadan.core.orders import fulltext, sku_index
from dadan.core.orders.listing import count, ensure_statistics, explain, fetch_page
from dadan.core.orders.query import compile_query
from dadan.core.orders.upsert import upsert_orders
from dadan.core.orders.views import builtin_views
from tests.pg_copy import demo_on

NOW = dt.datetime(2026, 11, 21, 4, 0, 0)
N = 1000
ALPHABET = "ab12-_%*?[x红"


def _open(path) -> None:
    dbmod.open_database(f"sqlite:///{path}")


@pytest.fixture
def demo(tmp_path):
    _open(tmp_path / "sku.db")
    write_demo(N, seed=7, now=NOW)
    yield tmp_path / "sku.db"
    dbmod.close_database()


@pytest.fixture
def either(store, tmp_path):
    """The demo's orders on the store's backend (PostgreSQL: copied; its trigger keeps the pairs)."""
    demo_on(store, tmp_path / "sku.db", N, 7, NOW)
    yield store
    dbmod.close_database()


def table_pairs() -> set[tuple[str, int]]:
    return set(dbmod.database().execute_sql(f'SELECT "code", "order_id" FROM "{sku_index.TABLE}"').fetchall())


def text_pairs() -> set[tuple[str, int]]:
    """What the table must hold: every code of every order's ``sku_text``."""
    return {(code, oid) for oid, text in Order.select(Order.id, Order.sku_text).tuples()
            for code in text.strip("|").split("|") if code}


def scan_ids(value: str, exact: bool = False) -> set[int]:
    """The plain scan the table replaces, in Python: a code equal to / starting with the value."""
    v = value.lower()
    return {oid for oid, text in Order.select(Order.id, Order.sku_text).tuples()
            if any((c == v) if exact else c.startswith(v) for c in text.strip("|").split("|") if c)}


def like_ids(value: str) -> set[int]:
    """Yesterday's path: the LIKE scan of ``sku_text`` (meaningful for values without wildcards)."""
    return {r[0] for r in Order.select(Order.id).where(Order.sku_text.contains(f"|{value.lower()}")).tuples()}


def filter_ids(query: str) -> set[int]:
    return {r[0] for r in Order.select(Order.id).where(compile_query(query, now=NOW)).tuples()}


def sample_values(rng: random.Random, k: int) -> list[str]:
    codes = sorted({c for c, _ in text_pairs()})
    out = []
    while len(out) < k:
        code = rng.choice(codes)
        kind = rng.randrange(4)
        if kind == 0:
            out.append(code[: rng.randint(1, len(code))])
        elif kind == 1:
            out.append(code.upper())
        elif kind == 2:
            out.append(code)
        else:
            out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4))))
    return out


def assert_in_step(rng: random.Random, k: int = 120) -> None:
    assert table_pairs() == text_pairs()
    hits = 0
    for v in sample_values(rng, k):
        expected = scan_ids(v)
        assert filter_ids(f"sku:{v}") == expected, v
        assert filter_ids(f"sku={v}") == scan_ids(v, exact=True), v
        assert filter_ids(f"-sku:{v}") == {r[0] for r in Order.select(Order.id).tuples()} - expected, v
        assert count(compile_query(f"sku:{v}", now=NOW)) == len(expected)
        pending = filter_ids("status:pending")
        assert count(compile_query(f"status:pending sku:{v}", now=NOW)) == len(expected & pending), v
        if not any(c in v for c in "%_"):
            assert expected == like_ids(v), v
        hits += bool(expected)
    assert hits > k // 3


def test_the_table_holds_every_code_and_matches_the_scan(either):
    assert len(table_pairs()) > N
    assert_in_step(random.Random(1))


def test_dense_and_sparse_values_read_the_same_orders_and_pages(either):
    """A value matching many orders is written so a page walks its sort index (``+id``), one
    matching few reads them by id; both give the scan's orders, count and first page."""
    def dense(v: str) -> bool:
        return sku_index._dense(*sku_index.prefix_condition(v.lower()))

    values = sample_values(random.Random(9), 80)
    dense_values = [v for v in values if dense(v)]
    sparse = [v for v in values if not dense(v)]
    assert dense_values and sparse
    # SQLite is told (``+id``); PostgreSQL's planner knows from its statistics
    assert all((sku_index.matches(v).lhs is Order.id) == (either.postgres or not dense(v)) for v in values)
    dense = dense_values
    for v in dense[:10] + sparse[:10]:
        where = compile_query(f"sku:{v}", now=NOW)
        expected = sorted(Order.select().where(Order.id.in_(scan_ids(v))), key=lambda o: (o.pay_time, o.id),
                          reverse=True)
        assert [r.id for r in fetch_page(where, "-pay_time", limit=20).rows] == [o.id for o in expected[:20]], v
        assert count(where) == len(expected)


def _changed_and_fresh(rng: random.Random, tag: str, *, changed: int = 40, fresh: int = 30, fresh_seed: int = 11,
                       code=None) -> list[dict]:
    """``changed`` stored orders with new goods codes (``code(i)``; by default ``tag`` and a
    digit), and ``fresh`` orders the shop does not hold yet."""
    code = code or (lambda i: f"{tag}{i % 5}")
    recs = rng.sample(list(demo_records(N, seed=7, now=NOW)), changed)
    for i, rec in enumerate(recs):
        rec["items"] = [dict(it, outer_id=code(i)) for it in rec["items"]]
        rec["updated_at"] = rec["updated_at"] + dt.timedelta(minutes=9)
    new = list(demo_records(fresh, seed=fresh_seed, now=NOW))
    for i, rec in enumerate(new):
        rec["order_sn"] = f"{rec['order_sn']}-{tag}{i}"
    return recs + new


def test_upserts_of_new_and_changed_orders_keep_it_in_step(demo):
    rng = random.Random(2)
    shop = Shop.get()
    recs = _changed_and_fresh(rng, "n", changed=150, fresh=200, fresh_seed=8,
                              code=lambda i: f"NEW{i % 7}-{rng.choice(ALPHABET)}")
    res = upsert_orders(shop.id, recs, now=NOW)
    assert res.changed == 150 and res.new == 200
    assert filter_ids("sku:new0") and filter_ids("sku:new0") == like_ids("new0")
    # a writer that sets sku_text itself, one that empties it, one that changes other columns
    some = rng.sample(sorted(r[0] for r in Order.select(Order.id).tuples()), 60)
    with dbmod.write():
        Order.update(sku_text="|direct|x|direct2|").where(Order.id.in_(some[:20])).execute()
        Order.update(sku_text="").where(Order.id.in_(some[20:40])).execute()
        Order.update(print_count=Order.print_count + 1).where(Order.id.in_(some[40:])).execute()
    assert filter_ids("sku=direct") == set(some[:20]) == filter_ids("sku:direct2")
    assert_in_step(rng)


def test_deletes_and_a_shop_cascade_leave_the_table(either):
    rng = random.Random(3)
    gone = rng.sample(sorted(r[0] for r in Order.select(Order.id).tuples()), 250)
    with dbmod.write():
        Order.delete().where(Order.id.in_(gone)).execute()
    assert not {oid for _, oid in table_pairs()} & set(gone)
    assert_in_step(rng)
    with dbmod.write():
        Shop.delete().execute()
    assert table_pairs() == set()


def test_import_fills_the_table(demo, tmp_path):
    from dadan.core.spreadsheets.commit import commit_import
    from tests.test_import_core import csv_text, line, plan_for

    path = tmp_path / "export.csv"
    path.write_text(csv_text([line(outer="IMP-7"), line(sn="231114-123456789019999", outer="imp-8")]),
                    encoding="utf-8")
    shop = Shop.create(name="导入店")
    out = commit_import(plan_for(path, shop), actor="test")
    assert out.committed, out.message
    assert len(filter_ids("sku:imp-")) == 2 and filter_ids("sku=imp-7") == filter_ids("sku:IMP-7")
    assert_in_step(random.Random(4), k=60)


def test_codes_with_quotes_backslashes_and_control_characters_round_trip(either):
    shop = Shop.get()
    rec = dict(next(iter(demo_records(1, seed=9, now=NOW))), order_sn="odd-codes-1")
    odd = ['q"uote', "back\\slash", "ctl\x01x", "tab\tx", "新编码", "a]b[c"]
    rec["items"] = [dict(rec["items"][0], outer_id=c, sku_id="", goods_id="", outer_goods_id="") for c in odd]
    if either.postgres:  # (the codes written as the upsert writes them: its PostgreSQL port is not here yet)
        with dbmod.write():
            Order.update(order_sn="odd-codes-1", sku_text="|" + "|".join(c.lower() for c in odd) + "|").where(
                Order.id == Order.select(fn.MIN(Order.id))).execute()
    else:
        upsert_orders(shop.id, [rec], now=NOW)
    assert table_pairs() == text_pairs()
    oid = Order.get(Order.order_sn == "odd-codes-1").id
    for c in odd:
        for exact in (False, True):
            ids = {r[0] for r in Order.select(Order.id).where(sku_index.matches(c.upper(), exact=exact)).tuples()}
            assert ids == {oid}, c
        if '"' not in c and not c[:3].isspace():
            assert oid in filter_ids(f"sku:{c[:2]}") == scan_ids(c[:2]), c


def _queued() -> list[tuple[int, int]]:
    return dbmod.database().execute_sql(f'SELECT "id", "new" FROM "{fulltext.QUEUE}" ORDER BY 1').fetchall()




def test_a_deferred_block_pairs_its_new_orders_at_its_end(demo):
    """Inside :func:`fulltext.deferred` new orders are queued, not paired; at the block's end
    every order's pairs are those of its codes, whatever happened to it meanwhile."""
    rng = random.Random(12)
    shop = Shop.get()
    stored = Order.select().where(Order.sku_text != "").first()
    with dbmod.write(), fulltext.deferred():
        a = Order.create(shop=shop, order_sn="d-1", sku_text="|dfa|dfb|")
        assert ("dfa", a.id) not in table_pairs() and (a.id, 1) in _queued()  # queued, not paired yet
        b = Order.create(shop=shop, order_sn="d-2", sku_text="|dfc|")
        Order.update(sku_text="|dfd|").where(Order.id == b.id).execute()  # inserted, then changed
        c = Order.create(shop=shop, order_sn="d-3", sku_text="|dfe|")
        Order.delete().where(Order.id == c.id).execute()  # inserted, then deleted
        Order.update(sku_text="|dfx|").where(Order.id == stored.id).execute()  # stored: paired at once
        assert ("dfx", stored.id) in table_pairs()
        res = upsert_orders(shop.id, _changed_and_fresh(rng, "blk"), now=NOW)  # joins the block
        assert res.changed == 40 and res.new == 30
        assert {n for _i, n in _queued()} == {0, 1}  # the changed orders are queued for the free text only
        with fulltext.deferred():  # a nested block joins the outer one
            d = Order.create(shop=shop, order_sn="d-4", sku_text="|dfn|")
        assert ("dfn", d.id) not in table_pairs()
    assert _queued() == []
    plan = " | ".join(r[-1] for r in dbmod.database().execute_sql("EXPLAIN QUERY PLAN " + sku_index.FILL))
    assert "SCAN q" in plan and "SCAN o" not in plan and "BLOOM" not in plan, plan  # the queue drives, no scan
    assert {("dfa", a.id), ("dfb", a.id), ("dfd", b.id), ("dfn", d.id), ("dfx", stored.id)} <= table_pairs()
    assert not {p for p in table_pairs() if p[0] in ("dfc", "dfe")}  # (c's id may be a fresh order's now)
    assert filter_ids("sku:blk") and filter_ids("sku:blk") == like_ids("blk")
    e = Order.create(shop=shop, order_sn="d-5", sku_text="|after|")  # outside a block: at once
    assert ("after", e.id) in table_pairs()
    assert_in_step(rng, k=60)


def test_a_deferred_block_rolled_back_in_the_middle_leaves_the_table_as_it_was(demo):
    rng = random.Random(13)
    shop = Shop.get()
    before = table_pairs()
    with pytest.raises(RuntimeError), dbmod.write(), fulltext.deferred():
        upsert_orders(shop.id, _changed_and_fresh(rng, "gone"), now=NOW)
        Order.create(shop=shop, order_sn="r-1", sku_text="|rolled|")
        raise RuntimeError("boom")
    assert table_pairs() == before and _queued() == []
    assert filter_ids("sku:gone") == set() == filter_ids("sku:rolled")
    # an error inside a block whose transaction goes on: what was written is paired and committed
    with dbmod.write():
        with pytest.raises(RuntimeError), fulltext.deferred():
            kept = Order.create(shop=shop, order_sn="r-2", sku_text="|kept|")
            raise RuntimeError("boom")
        later = Order.create(shop=shop, order_sn="r-3", sku_text="|later|")  # deferral is off again
        assert ("later", later.id) in table_pairs()
    assert filter_ids("sku=kept") == {kept.id} and _queued() == []
    # a failing upsert of its own rolls back its block and nothing else
    with pytest.raises(AttributeError):  # (the bad record's items are no mappings)
        upsert_orders(shop.id, [*_changed_and_fresh(rng, "half"), {"order_sn": None, "items": "not items"}], now=NOW)
    assert filter_ids("sku:half") == set() and _queued() == []
    assert_in_step(rng, k=60)


_V7_INSERT_TRIGGER = f"""CREATE TRIGGER "{sku_index.TABLE}_insert" AFTER INSERT ON "order" WHEN new.sku_text != '' BEGIN
    INSERT OR IGNORE INTO "{sku_index.TABLE}" ("code", "order_id") SELECT value, new.id FROM json_each('[' ||
        replace(json_quote(trim(new.sku_text, '|')), '|', '","') || ']') WHERE value != '';
END"""


def test_a_version_7_database_defers_the_pairs_of_bulk_writes(tmp_path):
    path = tmp_path / "v7.db"
    _open(path)
    write_demo(300, seed=5, now=NOW)
    db = dbmod.database()
    with dbmod.write():  # as a version-7 database was: pairs at once, a queue without "new"
        db.execute_sql(f'DROP TRIGGER "{sku_index.TABLE}_insert"')
        db.execute_sql(_V7_INSERT_TRIGGER)
        db.execute_sql(f'DROP TABLE "{fulltext.QUEUE}"')
        db.execute_sql(f'CREATE TABLE "{fulltext.QUEUE}" ("id" INTEGER PRIMARY KEY)')
        SchemaVersion.delete().where(SchemaVersion.version > 7).execute()
    dbmod.close_database()
    db = dbmod.open_database(f"sqlite:///{path}")
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 8
    trigger = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = ?", (f"{sku_index.TABLE}_insert",)).fetchone()[0]
    assert fulltext.DEFERRING in trigger
    assert "new" in {c.name for c in db.get_columns(fulltext.QUEUE)}
    upsert_orders(Shop.get().id, _changed_and_fresh(random.Random(14), "mig"), now=NOW)
    write_demo(50, seed=6, now=NOW, shop_name="another")
    assert filter_ids("sku:mig") and _queued() == []
    assert_in_step(random.Random(15), k=60)


def test_a_version_4_database_gains_the_table_and_the_index(tmp_path):
    path = tmp_path / "old.db"
    _open(path)
    write_demo(500, seed=5, now=NOW)
    ensure_statistics(force=True)
    db = dbmod.database()
    with dbmod.write():  # as a version-4 database was
        for trigger in sku_index.TRIGGERS:
            db.execute_sql(f'DROP TRIGGER "{sku_index.TABLE}_{trigger}"')
        db.execute_sql(f'DROP TABLE "{sku_index.TABLE}"')
        db.execute_sql(f'DROP INDEX "{PENDING_DUE_INDEX_NAME}"')
        SchemaVersion.delete().where(SchemaVersion.version > 4).execute()
    dbmod.close_database()
    db = dbmod.open_database(f"sqlite:///{path}")
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 7
    assert db.execute_sql("SELECT 1 FROM sqlite_stat1 WHERE idx = ?", (PENDING_DUE_INDEX_NAME,)).fetchone()
    assert_in_step(random.Random(6), k=60)
    write_demo(50, seed=6, now=NOW, shop_name="another")  # the triggers came with it
    assert_in_step(random.Random(7), k=60)
    assert dbmod.migrate(db) == dbmod.SCHEMA_VERSION
    dbmod.close_database()


def _plan(query: str, sort: str, after: tuple | None = None) -> str:
    return " | ".join(explain(compile_query(query, now=NOW), sort, after=after))


def test_the_fixed_terms_use_their_index(demo):
    ensure_statistics(force=True)
    plan = _plan("sku:A12", "-pay_time")
    assert f"{sku_index.TABLE} USING PRIMARY KEY (code>? AND code<?)" in plan, plan
    assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan
    assert f"{sku_index.TABLE} USING PRIMARY KEY (code=?)" in _plan("sku=a12", "-pay_time")
    due = next(v for v in builtin_views() if v.key == "due_soon")
    plan = _plan(due.query, due.sort, after=(NOW - dt.timedelta(days=400), 0))  # the deadlines' segment
    assert PENDING_DUE_INDEX_NAME in plan and "SCAN" not in plan, plan
    # the view's count reads the deadline index too (not every pending order's row)
    sql, params = Order.select(Order.id).where(compile_query(due.query, now=NOW)).sql()
    counted = " | ".join(r[-1] for r in dbmod.database().execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert PENDING_DUE_INDEX_NAME in counted, counted


def test_the_due_soon_view_matches_its_meaning(either):
    due = next(v for v in builtin_views() if v.key == "due_soon")
    where = compile_query(due.query, now=NOW)
    limit = NOW + dt.timedelta(hours=4)
    expected = {oid for oid, st, s, t in Order.select(Order.id, Order.order_status, Order.state,
                                                      Order.last_ship_time).tuples()
                if st == 1 and s in ("new", "printed") and t is not None and t < limit}
    assert expected and count(where) == len(expected)
    page = fetch_page(where, due.sort, limit=50)
    assert [r.id for r in page.rows] == [r.id for r in sorted(
        Order.select().where(Order.id.in_(expected)), key=lambda o: (o.last_ship_time, o.id))][:50]


def test_a_common_province_pages_from_the_sort_index_and_counts_from_its_own(either):
    ensure_statistics(force=True)
    by_province: dict[str, set[int]] = {}
    for oid, prov in Order.select(Order.id, Order.province).tuples():
        by_province.setdefault(prov, set()).add(oid)
    common = max(by_province, key=lambda p: len(by_province[p]))
    assert len(by_province[common]) * 50 > N
    where = compile_query(f"province:{common}", now=NOW)
    if not either.postgres:  # (SQLite's plans; PostgreSQL plans by its own statistics)
        assert "order_pay_time " in _plan(f"province:{common}", "-pay_time")
        sql, params = Order.select(Order.id).where(where).sql()
        counted = " | ".join(r[-1] for r in dbmod.database().execute_sql("EXPLAIN QUERY PLAN " + sql, params))
        assert "order_province" in counted, counted
    assert filter_ids(f"province:{common}") == by_province[common] and count(where) == len(by_province[common])
    expected = sorted(Order.select().where(Order.id.in_(by_province[common])), key=lambda o: (o.pay_time, o.id),
                      reverse=True)
    assert [r.id for r in fetch_page(where, "-pay_time", limit=30).rows] == [o.id for o in expected[:30]]
    assert filter_ids(f"-province:{common}") == {i for p, ids in by_province.items() if p != common for i in ids}
    assert filter_ids("province:无此省") == set()
