"""`dadan demo` writes: the same orders as ever for a seed and clock, in one transaction, with
the order table's indexes intact and the planner's statistics gathered."""

import contextlib
import datetime as dt
import hashlib

import pytest

from dadan.core.db import SQLITE_PRAGMAS, database, indexes_built_after, open_database, write
from dadan.core.demo import demo_records, write_demo
from dadan.core.models import Order, Shop
from dadan.core.orders.listing import ensure_statistics, explain
from tests.test_fulltext import automerge_setting, fts_segments

NOW = dt.datetime(2026, 11, 20, 4, 0, 0)


@pytest.fixture
def db(tmp_path):
    return open_database(f"sqlite:///{tmp_path}/demo.db")


def _order_indexes() -> dict[str, str]:
    return dict(database().execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'order' AND sql IS NOT NULL"))


DEMO_2500 = "0071c36831176a8eb5dbbdfe0e9a3d96c12f3d6cf3bc556a70b2506cb4f4abe0"
ORDERS_BEFORE_GOODS = "7678552591ef7b6986a9ca8073e72b493b1b9fa06979f50e4f694dc652456706"


def _digest(*tables: str) -> str:
    h = hashlib.sha256()
    for t in tables:
        for row in database().execute_sql(f'SELECT * FROM "{t}" ORDER BY 1, 2'):
            h.update(repr(row).encode())
    return h.hexdigest()


def test_demo_records_are_the_same_as_ever():
    # digests of what the demo generated before it was made faster (same seed, same clock)
    for numbers, want in (
        (False, "380518644236006e54f950d89d743cf807908612e66f14f20d01e6620f646ecd"),
        (True, "920673a3f6788a4ce57ca7bca938125ca271aad13559b5f300660ee2a38ff96c"),
    ):
        got = list(demo_records(2000, seed=1, now=NOW, numbers=numbers))
        assert hashlib.sha256(repr(got).encode()).hexdigest() == want


def test_demo_database_is_the_same_as_ever_and_a_rerun_changes_nothing(db):
    # several workflow batches (printed orders and tags are drawn a batch at a time)
    assert write_demo(2500, seed=2, now=NOW, chunk=1000) == 2500
    # the orders as before the goods catalogue came (digest d48792d0...), but for the three the
    # demo's short SKU cannot cover: their "short" flag (test_demo_goods_cover_all_but_a_few)
    want = DEMO_2500
    assert ORDERS_BEFORE_GOODS != want
    assert _digest("order", "order_item", "order_tag", "tag") == want
    write_demo(2500, seed=2, now=NOW, chunk=1000)
    assert Order.select().count() == 2500
    assert _digest("order", "order_item", "order_tag", "tag") == want


def test_after_write_demo_the_planner_statistics_exist(db):
    indexes = _order_indexes()
    write_demo(1200, seed=3, now=NOW, chunk=500)
    stats = dict(database().execute_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'order'"))
    del indexes["order_report_shipped"]  # empty (the demo ships nothing in dadan): ANALYZE writes no row
    assert set(indexes) <= set(stats)  # every index of the order table, the partial ones too
    assert int(stats["order_pay_time"].split()[0]) == 1200
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


def test_partial_indexes_kept_while_loading_are_those_few_rows_enter(db):
    """``keep_partial``: the partial indexes stay until a first batch is in; those holding more
    than a fifth of its rows are dropped then, the others filled row by row; at the end every
    index is there again, holding every row it should."""
    from dadan.core.orders.upsert import upsert_orders

    before = _order_indexes()
    partial = {name for name, sql in before.items() if " WHERE " in sql}
    recs = list(demo_records(600, seed=3, now=NOW))
    for i, r in enumerate(recs[:200]):  # the first batch: every one with a courier, one in ten with a remark
        r.update(logistics_id=1, remark=f"备注 {i}" if i % 10 == 0 else "")
    with write():
        shop = Shop.create(name="s")
        with indexes_built_after(Order, keep_partial=True) as load:
            assert load.empty and set(_order_indexes()) == partial | {"order_order_sn_shop_id"}
            upsert_orders(shop.id, recs[:200], source="demo", now=NOW)
            load.thin_out()
            kept = set(_order_indexes())
            assert "order_remark_set" in kept and "order_logistics_id_set" not in kept
            assert "order_updated_at_set" not in kept and "order_report_shipped" in kept
            upsert_orders(shop.id, recs[200:], source="demo", now=NOW)
    assert _order_indexes() == before
    assert database().execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"  # (every index and its rows)
    remarked = Order.select().where(Order.remark != "").count()
    assert database().execute_sql(
        "SELECT count(*) FROM \"order\" INDEXED BY order_remark_set WHERE remark != ''").fetchone()[0] == remarked > 20


def test_a_scratch_index_is_owner_only_and_adopted_only_when_it_matches_the_orders(db, tmp_path):
    from dadan.core.errors import DadanError
    from dadan.core.orders import fts_scratch, fulltext

    write_demo(30, seed=1, now=NOW, goods=False)
    texts = [t for (t,) in database().execute_sql('SELECT search_text FROM "order" ORDER BY id')]
    path = tmp_path / ".demo.db.demo-index"
    path.write_bytes(b"left by a killed demo")
    path.chmod(0o644)
    scratch = fts_scratch.ScratchIndex(path)
    assert path.stat().st_mode & 0o777 == 0o600
    scratch.add(1, texts[:-1])  # one order short
    scratch.finish()
    with pytest.raises(DadanError, match="does not match"):
        with write():
            fts_scratch.adopt_index(path)
    assert Order.select().where(fulltext.contains(texts[0][:6])).count() >= 1  # the index as it was
    database().execute_sql("INSERT INTO order_fts (order_fts, rank) VALUES ('integrity-check', 1)")


def test_a_big_demo_made_by_a_second_process_is_the_same(db, monkeypatch):
    import dadan.core.demo as demo

    monkeypatch.setattr(demo, "_MADE_ELSEWHERE_FROM", 1)  # a spawned process makes the batches
    made = []
    real = demo._made_elsewhere
    monkeypatch.setattr(demo, "_made_elsewhere", lambda *a, **k: made.append(a) or real(*a, **k))
    assert write_demo(2500, seed=2, now=NOW, chunk=1000) == 2500
    assert made
    assert _digest("order", "order_item", "order_tag", "tag") == DEMO_2500


def test_a_demo_into_an_empty_database_indexes_as_the_per_order_triggers_would(db, monkeypatch, tmp_path):
    """The bulk path (the free-text index built by the process making the orders, beside the
    database, optimized, and adopted; the SKU pairs filled unsorted a batch at a time; the
    rollback journal) leaves the same index content as the triggers' row-by-row path, and the
    database back in WAL mode. A scratch index a killed demo left is replaced, and this one's is
    removed."""
    import dadan.core.demo as demo
    from dadan.core.orders import fulltext

    monkeypatch.setattr(demo, "_MADE_ELSEWHERE_FROM", 1)  # the big demo's path, journal included
    modes = []
    real = demo._journal_in_place

    @contextlib.contextmanager
    def journal(on):
        with real(on):
            modes.append(database().execute_sql("PRAGMA journal_mode").fetchone()[0])
            yield

    monkeypatch.setattr(demo, "_journal_in_place", journal)
    # this connection has read the (empty) index: FTS5 keeps what it read until another connection commits
    assert Order.select().where(fulltext.contains("保温杯")).count() == 0
    scratch = tmp_path / ".demo.db.demo-index"
    scratch.write_bytes(b"left by a killed demo")
    seen = []

    def progress(done, _n):  # between batches: the writer's own index holds none of the orders
        seen.append((done, database().execute_sql("SELECT count(*) FROM order_fts_docsize").fetchone()[0]))

    assert write_demo(2500, seed=2, now=NOW, chunk=1000, progress=progress) == 2500
    assert seen == [(1000, 0), (2000, 0), (2500, 0)]
    assert not scratch.exists()
    assert modes == ["delete"]
    assert database().execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = database().execute_sql('SELECT id, sku_text, search_text FROM "order"').fetchall()
    # what the insert trigger pairs, order by order (the codes between the "|")
    want = {(code, oid) for oid, sku, _ in rows for code in sku.strip("|").split("|") if code}
    got = set(database().execute_sql("SELECT code, order_id FROM order_sku").fetchall())
    assert got == want and len(want) > 2500
    # the index holds exactly what indexing each order's text gives ('integrity-check' with a
    # rank of 1 compares it with the content, row by row), in one segment, merging left to tidy() as before
    database().execute_sql("INSERT INTO order_fts (order_fts, rank) VALUES ('integrity-check', 1)")
    assert fts_segments() == 1 and automerge_setting() == fulltext.MERGING
    for term in ("保温杯", "杭州市", "黑色,l", "老客户", rows[7][2][3:9]):
        like = {oid for oid, _, text in rows if term in text}
        assert set(Order.select(Order.id).where(fulltext.contains(term)).scalars()) == like, term
    # a second shop's demo joins a table that has rows: the triggers' path, still in step
    write_demo(300, seed=5, now=NOW, shop_name="第二家")
    database().execute_sql("INSERT INTO order_fts (order_fts, rank) VALUES ('integrity-check', 1)")
    rows = database().execute_sql('SELECT id, sku_text FROM "order"').fetchall()
    want = {(code, oid) for oid, sku in rows for code in sku.strip("|").split("|") if code}
    assert set(database().execute_sql("SELECT code, order_id FROM order_sku").fetchall()) == want


def test_a_big_demo_beside_another_connection_searches_its_adopted_index_at_once(db, tmp_path, monkeypatch):
    """With another connection open the database keeps its WAL, so nothing else makes this
    connection's FTS5 forget the (empty) index it read before the demo adopted the one made
    beside it: the demo closes its connection, and the next search reads the adopted index."""
    import sqlite3

    import dadan.core.demo as demo
    from dadan.core.orders import fulltext

    monkeypatch.setattr(demo, "_MADE_ELSEWHERE_FROM", 1)
    other = sqlite3.connect(tmp_path / "demo.db")
    try:
        other.execute("SELECT count(*) FROM sqlite_master").fetchone()
        assert Order.select().where(fulltext.contains("保温杯")).count() == 0
        assert write_demo(1200, seed=2, now=NOW, chunk=500) == 1200
        like = Order.select().where(Order.search_text.contains("保温杯")).count()
        assert Order.select().where(fulltext.contains("保温杯")).count() == like > 0
        write_demo(200, seed=4, now=NOW, shop_name="第二家")  # the triggers' path writes on from it
        database().execute_sql("INSERT INTO order_fts (order_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        other.close()


def test_the_demo_keeps_the_wal_when_another_connection_has_the_database_open(db, tmp_path):
    import sqlite3

    import dadan.core.demo as demo

    other = sqlite3.connect(tmp_path / "demo.db")
    try:
        other.execute("SELECT count(*) FROM sqlite_master").fetchone()
        with demo._journal_in_place(True):
            assert database().execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()
    assert database().execute_sql("PRAGMA busy_timeout").fetchone()[0] == SQLITE_PRAGMAS["busy_timeout"]
    with demo._journal_in_place(True):
        assert database().execute_sql("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert database().execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"


def _goods_rows() -> int:
    """The SKUs and demand rows the database holds (a demo lists its catalogue before its orders)."""
    return database().execute_sql('SELECT (SELECT count(*) FROM "goods") + (SELECT count(*) FROM "stock_demand")'
                                  ).fetchone()[0]


def test_a_demo_killed_in_the_middle_leaves_no_order_behind(tmp_path):
    """kill -9 while a big demo writes through the rollback journal: the next open rolls the
    journal back -- no half demo, the database intact and in WAL mode."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "DADAN_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "dadan.tui", "demo", "--orders", "200000"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = tmp_path / "dadan.db-journal"
    deadline = time.monotonic() + 60
    while not (journal.exists() and journal.stat().st_size > 0) and time.monotonic() < deadline:
        assert proc.poll() is None, "the demo ended before it was killed"
        time.sleep(0.05)
    time.sleep(1.0)  # well into writing orders (whatever the page cache spilled into the file meanwhile)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert journal.exists()
    open_database(f"sqlite:///{tmp_path}/dadan.db")
    assert Order.select().count() == 0
    assert _goods_rows() == 0  # nor the catalogue written before the orders
    assert database().execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert database().execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_demo_goods_cover_all_but_a_few(db):
    """The demo's catalogue lists every SKU its orders carry, with stock for all but the last
    three orders (by deadline) of one SKU; without it the orders are exactly those of before."""
    import dadan.core.demo as demo
    from dadan.core.goods import catalogue
    from dadan.core.goods.models import Goods, StockMovement
    from dadan.core.orders.rules import Flag

    write_demo(2500, seed=2, now=NOW, chunk=1000)
    assert catalogue.missing() == []
    short = [o for o in Order.select() if o.exception_flags & Flag.STOCK_SHORT]
    assert len(short) == 3
    goods = list(Goods.select())
    assert len(goods) == sum(len(skus) for *_g, skus in demo.PRODUCTS)
    assert [g.code for g in goods if g.on_hand < g.reserved] == [g.code for g in goods if g.reserved - g.on_hand == 3]
    assert all(m.at == NOW and m.kind == "receive" for m in StockMovement.select())
    assert all(g.barcodes.count() == 1 and g.bin for g in goods)


def test_without_its_goods_the_demo_writes_the_orders_of_before(db):
    write_demo(2500, seed=2, now=NOW, chunk=1000, goods=False)
    assert _digest("order", "order_item", "order_tag", "tag") == ORDERS_BEFORE_GOODS


def _demand() -> tuple[list, dict]:
    """Every demand row but its short flag, and each SKU's reserved quantity."""
    from dadan.core.goods.models import Goods

    rows = database().execute_sql('SELECT "goods_id", "order_id", "qty", "served", "due" FROM "stock_demand" '
                                  'ORDER BY 1, 2').fetchall()
    return rows, {g.code: g.reserved for g in Goods.select()}


def test_demand_rows_written_batch_by_batch_are_those_of_one_pass_over_the_orders(db):
    """Into an empty order table the demo lists its SKUs first and each batch reserves as it is
    written: the rows and reserved quantities are those the one pass over every open order (the
    path of a catalogue added after its orders) writes, printed orders first in their lines."""
    from dadan.core.goods import ledger
    from dadan.core.goods.models import Goods

    write_demo(6000, seed=3, now=NOW, chunk=1000)
    rows, reserved = _demand()
    assert len(rows) > 5000 and all(reserved.values())
    assert any(served == 0 for *_k, served, _due in rows)  # orders the demo printed already
    with write():
        database().execute_sql('DELETE FROM "stock_demand"')
        ledger.settle_goods([g.id for g in Goods.select()], actor="test", rebalance=False)
    assert _demand() == (rows, reserved)


def test_a_demo_into_an_empty_order_table_reserves_for_the_catalogue_already_listed(db):
    """A database that lists some of the demo's SKUs (a catalogue imported first) but holds no
    order: the demo's orders reserve them, and the guard flags those the shelf cannot cover."""
    from dadan.core.demo import PRODUCTS
    from dadan.core.goods import catalogue
    from dadan.core.goods.catalogue import GoodsRecord
    from dadan.core.goods.models import Goods
    from dadan.core.orders.rules import Flag

    code = PRODUCTS[0][3][0][1]  # the first SKU's merchant code
    catalogue.save([GoodsRecord(code=code, name="保温杯"), GoodsRecord(code="NOT-IN-DEMO", name="别的")], actor="test")
    write_demo(3000, seed=2, now=NOW, chunk=1000, goods=False)
    want = database().execute_sql(
        'SELECT coalesce(SUM(i."goods_count"), 0), count(DISTINCT o."id") FROM "order" o '
        'JOIN "order_item" i ON i."order_id" = o."id" WHERE lower(i."outer_id") = lower(?) '
        'AND o."order_status" = 1 AND o."state" IN (\'new\', \'printed\') AND o."refund_status" NOT IN (3, 4)',
        (code,)).fetchone()
    assert want[0] > 0
    assert Goods.get(Goods.code == code).reserved == want[0]
    assert Goods.get(Goods.code == "NOT-IN-DEMO").reserved == 0
    short = Order.select().where(Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0).count()
    assert short == want[1]  # an empty shelf covers none of them


def test_the_demo_page_cache_takes_at_most_a_quarter_of_the_machine_memory(monkeypatch):
    """A 1,000,000-order demo fills a 1 GB page cache: on a 2 GB desk it takes 512 MB instead
    (the machine's memory is the edge faked here)."""
    import os

    import dadan.core.demo as demo

    gib = 2**30
    machine = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 2 * gib // 4096}
    monkeypatch.setattr(os, "sysconf", machine.__getitem__)
    assert demo._demo_cache_kib() == 512 * 1024
    machine["SC_PHYS_PAGES"] = 16 * gib // 4096
    assert demo._demo_cache_kib() == demo._DEMO_CACHE_KIB == 1_000_000
    machine["SC_PHYS_PAGES"] = gib // 8 // 4096  # (never below the index builds' own cache)
    assert demo._demo_cache_kib() == demo._INDEX_BUILD_CACHE_KIB


def test_dadan_demo_writes_into_a_postgresql_database(tmp_path, monkeypatch, capsys):
    # a desk whose config names a PostgreSQL server: `dadan demo` fills that database
    from tests.desk_helpers import run_cli
    from tests.pg_cluster import fresh_url

    url = fresh_url()
    home = tmp_path / "demo-home"
    home.mkdir()
    (home / "config.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")
    monkeypatch.setenv("DADAN_HOME", str(home))
    rc, out, err = run_cli(["demo", "--orders", "30"], monkeypatch, capsys, modules=("demo",))
    assert rc == 0 and "30 demo orders" in out, (out, err)
    open_database(url)
    assert Order.select().count() == 30
    assert not (home / "dadan.db").exists()  # nothing went into a SQLite file


def test_a_second_process_that_stops_halfway_fails_the_demo_and_leaves_nothing(db, tmp_path, monkeypatch):
    """The process making a big demo's batches dies after two of them: one clear error, the demo's
    transaction rolled back (no order, shop, tag, SKU or reservation of it), and no reading
    thread left behind."""
    import stat
    import sys
    import threading

    import dadan.core.demo as demo
    from dadan.core.errors import DadanError

    stops = tmp_path / "python-that-stops"  # stands for the interpreter the demo starts
    stops.write_text(
        f"#!/bin/sh\nexec {sys.executable} -c \"import itertools, pickle, sys; from dadan.core.demo import _batches; "
        "args, _index = pickle.load(sys.stdin.buffer); out = sys.stdout.buffer; "
        "[pickle.dump(b, out) for b in itertools.islice(_batches(*args), 2)]; out.flush(); sys.exit(3)\"\n")
    stops.chmod(stops.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(demo, "_MADE_ELSEWHERE_FROM", 1)
    monkeypatch.setattr(sys, "executable", str(stops))
    with pytest.raises(DadanError, match="stopped"):
        write_demo(5000, seed=2, now=NOW, chunk=1000)
    assert Order.select().count() == 0 and Shop.select().count() == 0
    assert _goods_rows() == 0  # (the catalogue came first, the batches reserved)
    assert not [t for t in threading.enumerate() if t.name == "demo-batches"]
    assert not list(tmp_path.glob(".*demo-index*"))  # the free-text index it was to make: removed


def test_a_demo_over_days_has_a_history_shipped_and_two_days_awaiting(db):
    """``days``: pay times spread over that many days; what was paid over two days ago has been
    shipped by the platform (received once a week old), with its courier's number; the two days
    before ``now`` await shipment as in the three-day demo."""
    recs = list(demo_records(4000, seed=5, now=NOW, days=60))
    ages = [NOW - r["pay_time"] for r in recs]
    assert max(ages) <= dt.timedelta(days=60) and max(ages) > dt.timedelta(days=40)
    old = [r for r, a in zip(recs, ages) if a > dt.timedelta(hours=48)]
    recent = [r for r, a in zip(recs, ages) if a <= dt.timedelta(hours=48)]
    assert len(old) > 3 * len(recent) > 0
    assert all(r["order_status"] in (2, 3) and r["tracking_number"] and r["shipping_time"] for r in old)
    week_old = [r["order_status"] for r, a in zip(recs, ages) if a > dt.timedelta(days=7)]
    assert week_old.count(3) > 0.85 * len(week_old)  # received (a few shipped, never confirmed)
    assert sum(r["order_status"] == 1 for r in recent) > 0.8 * len(recent)
    assert write_demo(4000, seed=5, now=NOW, days=60) == 4000
    pending = Order.select().where(Order.order_status == 1).count()
    assert pending == sum(r["order_status"] == 1 for r in recs) < 0.25 * 4000


def test_the_demo_command_refuses_a_span_of_days_out_of_range(tmp_path, monkeypatch, capsys):
    from tests.desk_helpers import run_cli

    monkeypatch.setenv("DADAN_HOME", str(tmp_path / "home"))
    for bad in ("0", "3651", "a week"):
        rc, _out, err = run_cli(["demo", "--orders", "10", "--days", bad], monkeypatch, capsys, modules=("demo",))
        assert rc == 2 and "--days" in err and "Traceback" not in err, err
    rc, out, err = run_cli(["demo", "--orders", "10", "--days", "30"], monkeypatch, capsys, modules=("demo",))
    assert rc == 0 and "10" in out, err
