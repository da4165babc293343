"""Free text through the FTS5 trigram index returns exactly the orders the LIKE scan returns:
for random Chinese and ASCII substrings of real search text and random strings, after updates
through the normal paths, after deletes, and after a migration of an existing database; text
that looks like FTS syntax is matched as characters. The tests taking ``either`` run on
PostgreSQL too (the same orders, copied): there a term is a ``LIKE`` that the ``pg_trgm`` GIN
index serves, checked against a substring test in Python."""

import datetime as dt
import random
import time

import pytest
from peewee import SQL

from dadan.core import db as dbmod
from dadan.core.demo import demo_records, write_demo
from dadan.core.models import Order, SchemaVersion, Shop
from dadan.core.orders import fulltext, page_plan
from dadan.core.orders.listing import count, explain, fetch_page
from dadan.core.orders.query import compile_query
from dadan.core.orders.upsert import upsert_orders
from dadan.core.postgres import is_postgres
from tests.pg_copy import demo_on, demo_on_postgres
from tests.plan_helpers import give_up_at_once

NOW = dt.datetime(2026, 11, 21, 4, 0, 0)
N = 1200
SYNTAX = ['"', '""', "*", "abc*", "AND", "a AND b", "or", "NOT", "NEAR(", "near(a b, 2)", "^", "^abc", ":",
          "search_text:abc", "{search_text}", "(", ")", "-", "+", "a+b", "'", "\\", "%", "_", "a_b", "%x%"]


def _open(path) -> None:
    dbmod.open_database(f"sqlite:///{path}")


@pytest.fixture
def demo(tmp_path):
    _open(tmp_path / "fts.db")
    write_demo(N, seed=11, now=NOW)
    return tmp_path / "fts.db"


@pytest.fixture
def either(store, tmp_path):
    """The demo's orders on the store's backend."""
    demo_on(store, tmp_path / "fts.db", N, 11, NOW)
    yield store
    dbmod.close_database()


def like_ids(value: str) -> set[int]:
    """Today's path: a LIKE scan of the search text (wildcards escaped)."""
    q = Order.select(Order.id).where(Order.search_text.contains(value.lower()))
    return {r[0] for r in q.tuples()}


def fts_ids(value: str) -> set[int]:
    return {r[0] for r in Order.select(Order.id).where(fulltext.contains(value)).tuples()}


def all_ids() -> set[int]:
    return {r[0] for r in Order.select(Order.id).tuples()}


def texts() -> list[str]:
    return [r[0] for r in Order.select(Order.search_text).tuples()]


def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def sample_terms(rng: random.Random, k: int) -> list[str]:
    """Substrings of real search text (any, Chinese-only, ASCII-only), their upper-case forms,
    and random strings over the corpus' own characters and a few foreign ones."""
    corpus = [t for t in texts() if t]
    chars = sorted(set("".join(corpus))) + list("ÄÖ€😀\t")
    terms: list[str] = []
    while len(terms) < k:
        t = rng.choice(corpus)
        size = rng.randint(1, 9)
        start = rng.randrange(len(t))
        piece = t[start : start + size]
        kind = rng.randrange(5)
        if kind == 1:
            piece = "".join(c for c in piece if _is_cjk(c)) or piece
        elif kind == 2:
            piece = "".join(c for c in piece if c.isascii()) or piece
        elif kind == 3:
            piece = piece.upper()
        elif kind == 4:
            piece = "".join(rng.choice(chars) for _ in range(rng.randint(1, 6)))
        terms.append(piece)
    return terms


def page_ids(where) -> list[int]:
    return [r.id for r in fetch_page(where, limit=20).rows]


def assert_same_as_like(rng: random.Random, k: int = 250) -> None:
    hits, lengths, forms = 0, set(), set()
    pending = compile_query("status:pending", now=NOW)
    for term in sample_terms(rng, k) + SYNTAX:
        expected = like_ids(term)
        assert fts_ids(term) == expected, term
        assert {i for i, t in Order.select(Order.id, Order.search_text).tuples() if term.lower() in t} == expected
        # the order list's page (walk or index) and count, alone and with a structured term
        free = fulltext.contains(term)
        like = Order.search_text.contains(term.lower())
        assert free.count() == count(free) == len(expected), term
        assert page_ids(fulltext.contains(term)) == page_ids(like), term
        assert count(pending & fulltext.contains(term)) == count(pending & like), term
        assert page_ids(pending & fulltext.contains(term)) == page_ids(pending & like), term
        hits += bool(expected)
        lengths.add(min(len(term), 3))
        forms.add("scan" if free.plan.match is None else "walk" if free.plan.common else "index")
    assert hits > k // 3  # the sample found orders, not only empty sets
    postgres = is_postgres(dbmod.database())
    assert lengths == {1, 2, 3} and (forms == {"scan"} if postgres else {"walk", "index"} <= forms), (lengths, forms)
    assert_index_consistent()


def assert_index_consistent() -> None:
    """FTS5's own check: the index holds exactly the content table's text (PostgreSQL: its
    trigram index is the table's own, nothing to check)."""
    if is_postgres(dbmod.database()):
        return
    dbmod.database().execute_sql(f"""INSERT INTO "{fulltext.TABLE}" ("{fulltext.TABLE}") VALUES ('integrity-check')""")


def test_fts_and_like_return_the_same_orders(either):
    assert_same_as_like(random.Random(1))


def test_terms_of_every_length_use_the_index(demo):
    def sql(q: str) -> str:
        return Order.select(Order.id).where(compile_query(q, now=NOW)).sql()[0]

    assert "MATCH" in sql("保温杯") and "MATCH" in sql("goods:保温杯") and "MATCH" in sql("-保温杯")
    assert "MATCH" in sql("保温") and "LIKE" not in sql("保温") and "MATCH" in sql("杯")
    # the trigrams that start with it
    assert fulltext.contains("保温").plan.match == '"保温杯"' and " OR " in fulltext.contains("色").plan.match
    plan = " ".join(r[-1] for r in dbmod.database().execute_sql(
        "EXPLAIN QUERY PLAN " + sql("保温杯"), ['"保温杯"']).fetchall())
    assert "VIRTUAL TABLE INDEX" in plan and "SCAN t1" not in plan
    # a term no order holds is known from the vocabulary alone
    assert fulltext.contains("龘").plan == fulltext.Plan("", 0, False) and fts_ids("龘") == set()


def test_a_common_terms_page_walks_the_sort_index_and_a_rare_terms_page_the_index(demo):
    common = fulltext.contains("保温杯")
    assert common.plan.common and common.count() == len(like_ids("保温杯"))
    assert any("order_pay_time " in line for line in explain(common))
    assert not any("VIRTUAL TABLE" in line for line in explain(common))
    sn = Order.select(Order.order_sn).order_by(Order.id).offset(N // 2).scalar()
    rare = fulltext.contains(sn[4:12])
    assert not rare.plan.common and rare.count() == len(like_ids(sn[4:12])) >= 1
    assert any("VIRTUAL TABLE" in line for line in explain(rare))


def test_short_terms_at_the_very_end_of_the_text_are_found(demo):
    """The sentinel: a one- or two-character term that occurs only as the text's last
    characters starts no trigram of the text itself."""
    shop = Shop.get()
    recs = list(demo_records(3, seed=77, now=NOW))
    ends = ["尾巴", "z", "q尾"]
    with dbmod.write():
        for rec, end in zip(recs, ends):
            upsert_orders(shop.id, [rec], now=NOW)
            Order.update(search_text=f"只在最后 {end}").where(Order.order_sn == rec["order_sn"]).execute()
    for term in ("尾巴", "巴", "z", "尾", "q尾", "后 ", " z", "n", "只在"):
        expected = like_ids(term)
        assert expected and fts_ids(term) == expected, term
        assert fulltext.contains(term).count() == len(expected), term
    assert_index_consistent()


def test_a_term_holding_the_sentinel_is_scanned(demo):
    term = fulltext.SENTINEL[0] + "a"
    assert fulltext.contains(term).plan.match is None and fts_ids(term) == like_ids(term) == set()


def test_filter_language_free_text_and_negation_match_the_scan(either):
    rng = random.Random(2)
    everyone = all_ids()
    for term in sample_terms(rng, 60):
        if any(c.isspace() or c in '"-:<>=!,' for c in term) or term[0].isdigit():
            continue  # (field syntax; "-1" is a value, not a negation)
        expected = like_ids(term)
        assert {r[0] for r in Order.select(Order.id).where(compile_query(term, now=NOW)).tuples()} == expected
        assert {r[0] for r in Order.select(Order.id).where(compile_query(f"-{term}", now=NOW)).tuples()} \
            == everyone - expected, term
    # a quoted phrase with a space, and a combination with an indexed field
    t = next(t for t in texts() if t.find(" ") > 3)
    phrase = t[t.index(" ") - 3 : t.index(" ") + 2]
    expr = compile_query(f'"{phrase}" status:pending', now=NOW)
    expected = like_ids(phrase) & {r[0] for r in Order.select(Order.id).where(
        compile_query("status:pending", now=NOW)).tuples()}
    assert {r[0] for r in Order.select(Order.id).where(expr).tuples()} == expected


def test_the_order_list_page_and_count_match_the_scan(either):
    term = "保温杯"
    expected = like_ids(term)
    assert expected and count(compile_query(term, now=NOW)) == len(expected)
    page = fetch_page(compile_query(term, now=NOW), limit=50)
    scan = fetch_page(Order.search_text.contains(term), limit=50)
    assert [r.id for r in page.rows] == [r.id for r in scan.rows] and len(page.rows) == min(50, len(expected))
    assert page.rows == scan.rows and isinstance(page.rows[0].pay_time, dt.datetime)  # values as the model reads them


def test_fts_syntax_in_user_text_is_matched_as_characters(demo):
    shop = Shop.get()
    recs = list(demo_records(len(SYNTAX), seed=99, now=NOW))
    for rec, text in zip(recs, SYNTAX):
        rec["remark"] = f"x{text}y"
    upsert_orders(shop.id, recs, now=NOW)
    for text in SYNTAX:
        probe = f"x{text}y"
        expected = like_ids(probe)
        assert expected and fts_ids(probe) == expected, probe
        assert fts_ids(text) == like_ids(text), text
    # through the filter language (a ':' needs quotes there, else it names a field)
    for q, value in (('"x:y"', "x:y"), ('"xnear(y"', "xnear(y"), ("x*y", "x*y"), ("x^y", "x^y"), ('"xand y"', "xand y")):
        got = {r[0] for r in Order.select(Order.id).where(compile_query(q, now=NOW)).tuples()}
        assert got == like_ids(value), q
    assert_index_consistent()


def test_updates_through_upsert_and_direct_writes_keep_the_index_in_step(demo):
    rng = random.Random(3)
    shop = Shop.get()
    recs = list(demo_records(N, seed=11, now=NOW))
    changed = rng.sample(recs, 200)
    words = ["加急顺丰", "不要发韵达", "送货上门ABC", "周末不收件", "红色换蓝色", "xl改成xxl"]
    for rec in changed:
        rec["remark"] = rng.choice(words) + str(rng.randrange(100))
        rec["updated_at"] = rec["updated_at"] + dt.timedelta(minutes=5)
    res = upsert_orders(shop.id, changed, now=NOW)
    assert res.changed == len(changed)
    assert like_ids("顺丰") and fts_ids("加急顺丰") == like_ids("加急顺丰")
    # a changed remark loses its old words from the index
    old = next(r for r in recs if r not in changed and r["remark"])
    assert fts_ids(old["remark"]) == like_ids(old["remark"])
    # a writer that sets the search text itself, and one that changes other columns only
    some = rng.sample(sorted(all_ids()), 50)
    with dbmod.write():
        Order.update(search_text="直接写入的文本 direct").where(Order.id.in_(some[:25])).execute()
        Order.update(print_count=Order.print_count + 1).where(Order.id.in_(some[25:])).execute()
    assert fts_ids("直接写入") == set(some[:25]) == like_ids("直接写入")
    assert_same_as_like(rng)


def test_deletes_leave_the_index(either):
    rng = random.Random(4)
    gone = rng.sample(sorted(all_ids()), 300)
    term = "保温杯"
    before = fts_ids(term)
    with dbmod.write():
        Order.delete().where(Order.id.in_(gone)).execute()
    assert fts_ids(term) == before - set(gone) == like_ids(term)
    assert_same_as_like(rng)
    with dbmod.write():  # a deleted shop takes its orders (a cascade) and their index rows
        Shop.delete().execute()
    assert all_ids() == set() and fts_ids(term) == set()
    assert_index_consistent()
    if not either.postgres:
        assert dbmod.database().execute_sql(f'SELECT count(*) FROM "{fulltext.TABLE}_docsize"').fetchone()[0] == 0


def test_direct_updates_and_wildcards_keep_free_text_equal_to_the_substring_check(either):
    """Texts written straight into the orders (new Chinese and ASCII words, LIKE's and FTS5's own
    characters among them) are found exactly as a substring test finds them."""
    rng = random.Random(5)
    words = ["加急顺丰", "不要发韵达", "送货上门ABC", "xl改成xxl", "50%off", "a_b\\c", "100%_真", "x*y", '"q"']
    some = rng.sample(sorted(all_ids()), 120)
    with dbmod.write():
        for oid in some:
            text = " ".join(rng.choice(words) for _ in range(3)).lower()
            Order.update(search_text=text).where(Order.id == oid).execute()
    for term in ("%", "_", "\\", "0%", "%_", "a_b", "b\\c", "50%off", "顺丰", "丰", "xl改", "*", '"q'):
        expected = {i for i, t in Order.select(Order.id, Order.search_text).tuples() if term in t}
        assert fts_ids(term) == expected and fulltext.contains(term).count() == len(expected), term
    assert fts_ids("%") and fts_ids("_") and fts_ids("\\")
    assert_same_as_like(rng, k=150)


def test_a_version_3_database_gains_the_index_for_its_orders(tmp_path):
    path = tmp_path / "old.db"
    _open(path)
    write_demo(600, seed=5, now=NOW)
    db = dbmod.database()
    with dbmod.write():  # as a version-3 database was: no index, no triggers
        for trigger in fulltext.TRIGGERS:
            db.execute_sql(f'DROP TRIGGER "{fulltext.TABLE}_{trigger}"')
        for table in ("", "_defer", "_pending"):
            db.execute_sql(f'DROP TABLE "{fulltext.TABLE}{table}"')
        SchemaVersion.delete().where(SchemaVersion.version > 3).execute()
        Order.update(remark="迁移前的备注").where(Order.id <= 20).execute()
    dbmod.close_database()
    db = dbmod.open_database(f"sqlite:///{path}")
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 4
    assert len(fts_ids("保温杯")) == len(like_ids("保温杯")) > 0
    assert_same_as_like(random.Random(5), k=150)
    # the triggers came with it: a new order is found at once
    write_demo(50, seed=6, now=NOW, shop_name="another")
    assert_same_as_like(random.Random(6), k=100)
    # and opening again changes nothing
    assert dbmod.migrate(db) == dbmod.SCHEMA_VERSION


def test_a_fresh_database_has_the_index_and_its_triggers(tmp_path):
    db = dbmod.open_database(f"sqlite:///{tmp_path}/new.db")
    names = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE name LIKE 'order_fts%'")}
    assert {fulltext.TABLE, *(f"{fulltext.TABLE}_{t}" for t in fulltext.TRIGGERS)} <= names
    assert fts_ids("保温杯") == set()


def test_a_deferred_block_settles_inserts_updates_and_deletes_of_one_order(demo):
    db = dbmod.database()
    shop = Shop.get()
    indexed = Order.select().where(Order.search_text.contains("保温杯")).first()
    with dbmod.write(), fulltext.deferred():
        a = Order.create(shop=shop, order_sn="x-1", search_text="延迟写入甲 deferred")
        b = Order.create(shop=shop, order_sn="x-2", search_text="延迟写入乙 deferred")
        c = Order.create(shop=shop, order_sn="x-3", search_text="延迟写入丙 deferred")
        Order.update(search_text="延迟改过甲").where(Order.id == a.id).execute()  # inserted, then changed
        Order.delete().where(Order.id == b.id).execute()  # inserted, then deleted
        Order.update(search_text="第一次改").where(Order.id == indexed.id).execute()  # indexed, changed twice
        Order.update(search_text="第二次改 保温杯子").where(Order.id == indexed.id).execute()
        with fulltext.deferred():  # a nested block joins the outer one
            Order.delete().where(Order.id == c.id).execute()
            d = Order.create(shop=shop, order_sn="x-4", search_text="嵌套写入")
    assert fts_ids("延迟改过") == {a.id} and fts_ids("延迟写入") == set() and fts_ids("deferred") == set()
    assert fts_ids("第二次改") == {indexed.id} and fts_ids("第一次改") == set() and fts_ids("嵌套写入") == {d.id}
    assert db.execute_sql(f'SELECT count(*) FROM "{fulltext.TABLE}_pending"').fetchone()[0] == 0
    assert_same_as_like(random.Random(7), k=80)
    # an error inside still indexes what was written (the caller goes on and commits), and
    # turns deferral off: later writes index at once
    with dbmod.write():
        with pytest.raises(RuntimeError), fulltext.deferred():
            f = Order.create(shop=shop, order_sn="x-5", search_text="出错前的订单")
            raise RuntimeError("boom")
        assert db.execute_sql(f'SELECT count(*) FROM "{fulltext.TABLE}_defer"').fetchone()[0] == 0
    e = Order.create(shop=shop, order_sn="x-6", search_text="之后的订单")
    assert fts_ids("之后的订单") == {e.id} and fts_ids("出错前的订单") == {f.id}
    with pytest.raises(RuntimeError), dbmod.write(), fulltext.deferred():  # rolled back: nothing stays
        Order.create(shop=shop, order_sn="x-7", search_text="回滚的订单")
        raise RuntimeError("boom")
    assert fts_ids("回滚的订单") == set() and like_ids("回滚的订单") == set()
    assert_index_consistent()


def fts_segments() -> int:
    """How many segments (pieces) the free-text index is in."""
    return dbmod.database().execute_sql(f'SELECT count(DISTINCT segid) FROM "{fulltext.TABLE}_idx"').fetchone()[0]


def automerge_setting() -> int:
    return int(dbmod.database().execute_sql(
        f"""SELECT v FROM "{fulltext.TABLE}_config" WHERE k = 'automerge'""").fetchone()[0])


def test_writes_leave_merging_to_tidy_which_changes_no_result(demo, tmp_path):
    """Writers only add their segment (automatic merging off); tidy merges them afterwards, a
    short transaction a step, and every search answers as the scan before and after."""
    import sqlite3

    shop = Shop.get()
    assert automerge_setting() == fulltext.MERGING == 0 and fts_segments() == 1  # (the demo ends optimized)
    recs = list(demo_records(N, seed=11, now=NOW))
    rng = random.Random(12)
    for k in range(6):  # six syncs: new orders and changed remarks, each its own transaction
        new = [{"order_sn": f"tidy-{k}-{i}", "remark": f"整理测试{k} 第{i}单", "items": [{"goods_name": "保温杯"}]}
               for i in range(40)]
        changed = [{**r, "remark": f"改备注{k}", "updated_at": r["updated_at"] + dt.timedelta(minutes=k + 1)}
                   for r in rng.sample(recs, 30)]
        res = upsert_orders(shop.id, new + changed, now=NOW)
        assert res.new == 40 and res.changed == 30
        assert fts_segments() == 3 + 2 * k  # each write adds its pieces (old entries out, new in), nothing merged
    assert_same_as_like(random.Random(13), k=60)
    other = sqlite3.connect(demo)  # another desk's connection
    version = other.execute("PRAGMA data_version").fetchone()[0]
    steps = fulltext.tidy()
    assert steps >= 1 and fts_segments() < 4
    assert other.execute("PRAGMA data_version").fetchone()[0] != version  # merged pages written
    assert_same_as_like(random.Random(13), k=60)
    for k in range(6):
        assert fts_ids(f"整理测试{k}") == like_ids(f"整理测试{k}") and len(like_ids(f"整理测试{k}")) == 40
    # nothing left to merge: no step, no page written (no desk sees a change)
    version = other.execute("PRAGMA data_version").fetchone()[0]
    assert fulltext.tidy() == 0
    assert other.execute("PRAGMA data_version").fetchone()[0] == version
    other.close()
    # a budget spent stops after one step, the rest left for the next call
    for k in range(5):
        upsert_orders(shop.id, [{"order_sn": f"more-{k}", "remark": f"再来{k}", "items": []}], now=NOW)
    assert fulltext.tidy(budget_s=0) == 1
    assert fulltext.tidy() >= 0 and fulltext.tidy() == 0
    assert_index_consistent()


def test_changed_orders_in_any_order_leave_the_index_together(demo):
    """A sync's changed orders come in the platform's order, not the table's: their old entries
    still leave in one piece of index (FTS5 writes out what it holds whenever a lower rowid
    follows a higher one: deleted batch by batch as they came, that was a piece per order)."""
    shop = Shop.get()
    recs = list(demo_records(N, seed=11, now=NOW))
    random.Random(14).shuffle(recs)
    for r in recs[:1100]:  # two upsert batches
        r["remark"] = "乱序改备注"
        r["updated_at"] = r["updated_at"] + dt.timedelta(minutes=9)
    before = fts_segments()
    assert upsert_orders(shop.id, recs[:1100], now=NOW).changed == 1100
    assert fts_segments() == before + 2  # the old entries out, the new in
    assert len(fts_ids("乱序改备注")) == 1100 and fts_ids("乱序改备注") == like_ids("乱序改备注")
    assert_index_consistent()
    assert_same_as_like(random.Random(15), k=60)


def test_a_version_25_database_leaves_merging_to_tidy(tmp_path):
    path = tmp_path / "v25.db"
    _open(path)
    write_demo(300, seed=4, now=NOW)
    db = dbmod.database()
    with dbmod.write():  # as a version-25 database was: FTS5 merging as it writes
        db.execute_sql(f"""INSERT INTO "{fulltext.TABLE}" ("{fulltext.TABLE}", rank) VALUES ('automerge', 4)""")
        SchemaVersion.delete().where(SchemaVersion.version > 25).execute()
    dbmod.close_database()
    db = dbmod.open_database(f"sqlite:///{path}")
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 26
    assert automerge_setting() == fulltext.MERGING


def test_a_version_4_index_is_rebuilt_with_the_sentinel(tmp_path):
    path = tmp_path / "v4.db"
    _open(path)
    write_demo(500, seed=8, now=NOW)
    db = dbmod.database()
    with dbmod.write():  # as a version-4 database was: the index reads the bare search text
        for trigger in fulltext.TRIGGERS:
            db.execute_sql(f'DROP TRIGGER "{fulltext.TABLE}_{trigger}"')
        db.execute_sql(f'DROP TABLE "{fulltext.VOCAB}"')
        db.execute_sql(f'DROP TABLE "{fulltext.TABLE}"')
        db.execute_sql(f'DROP VIEW "{fulltext.VIEW}"')
        db.execute_sql(f"""CREATE VIRTUAL TABLE "{fulltext.TABLE}" USING fts5(search_text, content='order',
                           content_rowid='id', tokenize='trigram case_sensitive 1')""")
        db.execute_sql(f"""INSERT INTO "{fulltext.TABLE}" ("{fulltext.TABLE}") VALUES ('rebuild')""")
        SchemaVersion.delete().where(SchemaVersion.version > 4).execute()
        Order.update(search_text="旧索引 尾巴").where(Order.id <= 5).execute()  # (no trigger: index stale for these)
    dbmod.close_database()
    db = dbmod.open_database(f"sqlite:///{path}")
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION >= 6
    sql = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = ?", (fulltext.TABLE,)).fetchone()[0]
    assert fulltext.VIEW in sql
    assert fts_ids("尾巴") == like_ids("尾巴") == set(range(1, 6)) and fts_ids("巴") == like_ids("巴")
    assert_same_as_like(random.Random(9), k=120)
    assert dbmod.migrate(db) == dbmod.SCHEMA_VERSION


def test_a_walk_that_finds_the_term_too_late_is_given_up_for_the_index(demo, monkeypatch):
    """A common term whose orders all lie at the far end of the sort order (a product sold
    only long ago): the walk is interrupted and the page read through the index's rowids."""
    oldest = [r[0] for r in Order.select(Order.id).where(Order.pay_time.is_null(False))
              .order_by(Order.pay_time, Order.id).limit(N // 10).tuples()]
    with dbmod.write():
        Order.update(search_text=Order.search_text.concat(" 春季限定")).where(Order.id.in_(oldest)).execute()
    like = Order.search_text.contains("春季限定")
    term = fulltext.contains("春季限定")
    assert term.plan.common and term.count() == len(oldest)
    db = dbmod.database()
    executed: list[str] = []
    real = db.execute_sql
    monkeypatch.setattr(db, "execute_sql", lambda sql, params=None: executed.append(sql) or real(sql, params))
    give_up_at_once(monkeypatch)
    for budget in (page_plan.FREE_TEXT_WALK_BUDGET_S, 0.0):
        monkeypatch.setattr(page_plan, "FREE_TEXT_WALK_BUDGET_S", budget)
        for sort in ("-pay_time", "pay_time"):
            executed.clear()
            page = fetch_page(fulltext.contains("春季限定"), sort, limit=20)
            pages = [sql for sql in executed if sql.startswith('SELECT "t1"."id"')]  # (not the plan's count)
            walked_first = "LIKE" in pages[0] and "MATCH" not in pages[0]
            gave_up = any("MATCH" in sql for sql in pages)
            assert walked_first and (gave_up or budget > 0 or sort == "pay_time"), pages  # (the oldest: found at once)
            assert [r.id for r in page.rows] == [r.id for r in fetch_page(like, sort, limit=20).rows]
            assert set(r.id for r in page.rows) <= set(oldest) and len(page.rows) == 20
    # the newest order holds it too: the walk's first row comes at once, the interruption while fetching the rest
    newest = Order.select(Order.id).order_by(Order.pay_time.desc(), Order.id.desc()).scalar()
    with dbmod.write():
        Order.update(search_text=Order.search_text.concat(" 春季限定")).where(Order.id == newest).execute()
    executed.clear()
    page = fetch_page(fulltext.contains("春季限定"), limit=20)
    assert any("MATCH" in sql for sql in executed if sql.startswith('SELECT "t1"."id"'))
    assert [r.id for r in page.rows] == [r.id for r in fetch_page(like, limit=20).rows] and page.rows[0].id == newest
    assert_index_consistent()


def _search_texts() -> dict[int, str]:
    return dict(Order.select(Order.id, Order.search_text).tuples())


def test_changed_orders_are_reindexed_at_the_batch_end_inside_the_transaction(demo):
    db = dbmod.database()
    shop = Shop.get()
    rng = random.Random(9)
    recs = list(demo_records(N, seed=11, now=NOW))
    changed = rng.sample(recs, 300)  # more than one upsert batch
    old_remarks = {r["remark"] for r in changed if len(r["remark"]) >= 3}
    for rec in changed:
        rec["remark"] = "批量改备注" + str(rng.randrange(50))
        rec["updated_at"] = rec["updated_at"] + dt.timedelta(minutes=5)
    ids = {i for i, in Order.select(Order.id).where(Order.order_sn.in_([r["order_sn"] for r in changed])).tuples()}
    before = _search_texts()
    # rolled back by the caller after the upsert: rows and index as before
    with pytest.raises(RuntimeError), dbmod.write():
        res = upsert_orders(shop.id, changed, now=NOW)
        assert res.changed == len(changed)
        assert fts_ids("批量改备注") == ids == like_ids("批量改备注")  # in step inside the transaction
        raise RuntimeError("boom")
    assert _search_texts() == before and fts_ids("批量改备注") == set()
    assert_index_consistent()
    # committed: the new text is found, the old one no longer
    res = upsert_orders(shop.id, changed, now=NOW)
    assert res.changed == len(changed)
    assert fts_ids("批量改备注") == ids == like_ids("批量改备注")
    assert old_remarks and all(fts_ids(r) == like_ids(r) for r in old_remarks)  # old words left the index
    assert db.execute_sql(f'SELECT count(*) FROM "{fulltext.TABLE}_pending"').fetchone()[0] == 0
    assert_same_as_like(rng)


def test_an_order_new_and_changed_within_one_upsert_is_indexed_once_with_its_last_text(demo):
    shop = Shop.get()
    first = {"order_sn": "dup-1", "remark": "第一版备注", "items": [{"goods_name": "杯子"}],
             "updated_at": NOW - dt.timedelta(hours=1)}
    filler = [{"order_sn": f"fill-{i}", "remark": "填充", "items": []} for i in range(950)]  # the next batch
    last = {**first, "remark": "第二版备注", "updated_at": NOW}
    upsert_orders(shop.id, [first, *filler, last], now=NOW)
    oid = Order.get(Order.order_sn == "dup-1").id
    assert fts_ids("第二版备注") == {oid} and fts_ids("第一版备注") == set()
    assert_index_consistent()


def test_reindexing_later_needs_a_deferred_block(demo):
    some = sorted(all_ids())[:3]
    with dbmod.write():
        with pytest.raises(RuntimeError):
            fulltext.reindex_deferred(some)
        with fulltext.deferred():
            fulltext.reindex_deferred(some)
            fulltext.reindex_deferred(some)  # twice: the entries left once
            Order.update(search_text="稍后索引的文本").where(Order.id.in_(some[:2])).execute()
    assert fts_ids("稍后索引的文本") == set(some[:2]) == like_ids("稍后索引的文本")
    assert_same_as_like(random.Random(10), k=80)


def test_a_postgres_walk_that_finds_its_orders_too_late_is_given_up(monkeypatch):
    """PostgreSQL: a page whose plan walks the sort index, filtering, and finds its orders too
    late (here: each row it tests while index scans are on takes 10 ms) is given up after the
    budget for a plan reading the matches first; the page is the scan's, and the settings are
    back as they were inside the caller's transaction."""
    demo_on_postgres(N, 11, NOW)
    try:
        oldest = [r[0] for r in Order.select(Order.id).where(Order.pay_time.is_null(False))
                  .order_by(Order.pay_time, Order.id).limit(N // 10).tuples()]
        with dbmod.write():
            Order.update(search_text=Order.search_text.concat(" 春季限定")).where(Order.id.in_(oldest)).execute()
        db = dbmod.database()
        db.execute_sql('ANALYZE "order"')
        term = fulltext.contains("春季限定")
        expected = [r.id for r in fetch_page(term, "-pay_time", limit=20).rows]
        assert set(expected) <= set(oldest) and len(expected) == 20
        slow_walk = SQL("(CASE WHEN current_setting('enable_indexscan') = 'on' "
                        "THEN pg_sleep(0.01)::text = '' ELSE TRUE END)")
        monkeypatch.setattr(page_plan, "_walks", lambda *a: True)
        started = time.perf_counter()
        with dbmod.write():
            page = fetch_page(term & slow_walk, "-pay_time", limit=20)
            assert db.execute_sql("SHOW statement_timeout").fetchone()[0] == "0"
            assert db.execute_sql("SHOW enable_indexscan").fetchone()[0] == "on"
        assert [r.id for r in page.rows] == expected and time.perf_counter() - started < 5
    finally:
        dbmod.close_database()
