import datetime as dt
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from dadan.core import db as dbmod
from dadan.core.errors import DatabaseError
from dadan.core.models import AuditEvent, Order, Shop

WRITER = textwrap.dedent(
    """
    import sys
    from dadan.core.db import open_database, write
    from dadan.core.models import AuditEvent, Shop
    url, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    open_database(url)
    for i in range(n):
        with write():
            # read-then-write: the pattern that fails with SQLITE_BUSY in a deferred transaction
            count = AuditEvent.select().count()
            AuditEvent.create(actor=who, action="test", detail=str(count))
            shop, _ = Shop.get_or_create(name="s")
    print("ok", who)
    """
)


def test_open_migrates_and_is_private(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    db = dbmod.open_database(url)
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION
    assert db.execute_sql("pragma journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("pragma foreign_keys").fetchone()[0] == 1
    assert stat.S_IMODE(os.stat(tmp_path / "a.db").st_mode) == 0o600
    # opening again is a no-op
    assert dbmod.migrate(db) == dbmod.SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    db = dbmod.open_database(url)
    from dadan.core.models import SchemaVersion

    SchemaVersion.create(version=dbmod.SCHEMA_VERSION + 5)
    with pytest.raises(DatabaseError, match="newer than this dadan"):
        dbmod.migrate(db)


def test_unsupported_url():
    with pytest.raises(DatabaseError, match="unsupported database URL"):
        dbmod.open_database("mysql://x")


def test_every_connection_syncs_each_commit_to_disk(tmp_path):
    """A commit outlives a power cut, not only a killed process: synchronous=FULL (2) on the
    desk's connection and on a worker thread's (WAL with NORMAL may take the last commits back,
    a print item's "sending" among them)."""
    import threading

    db = dbmod.open_database(f"sqlite:///{tmp_path}/a.db")
    seen = {}

    def work():
        with dbmod.connection() as wdb:
            seen["worker"] = wdb.execute_sql("PRAGMA synchronous").fetchone()[0]

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (db.execute_sql("PRAGMA synchronous").fetchone()[0], seen["worker"]) == (2, 2)


def test_a_worker_threads_connection_keeps_a_small_page_cache(tmp_path):
    """A worker's connection lives for its own queries: a small page cache (the desk's own keeps
    32 MB), so workers running together do not each hold one full of pages never read again."""
    import threading

    db = dbmod.open_database(f"sqlite:///{tmp_path}/a.db")
    seen = {}

    def work():
        with dbmod.connection() as wdb:
            seen["worker"] = wdb.execute_sql("PRAGMA cache_size").fetchone()[0]
            seen["rows"] = Shop.select().count()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == {"worker": -dbmod.WORKER_CACHE_KIB, "rows": 0}
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == dbmod.SQLITE_PRAGMAS["cache_size"]  # (the desk's own)
    assert dbmod.WORKER_CACHE_KIB < -dbmod.SQLITE_PRAGMAS["cache_size"]
    dbmod.close_database()


def test_write_rolls_back_on_error(tmp_path):
    dbmod.open_database(f"sqlite:///{tmp_path}/a.db")
    with pytest.raises(RuntimeError):
        with dbmod.write():
            Shop.create(name="x")
            raise RuntimeError("boom")
    assert Shop.select().count() == 0


def test_a_joining_write_runs_in_the_callers_transaction(tmp_path):
    db = dbmod.open_database(f"sqlite:///{tmp_path}/a.db")
    with dbmod.write(join=True) as txn:  # alone: a transaction of its own
        assert txn is not None and db.in_transaction()
        Shop.create(name="alone")
    assert not db.in_transaction() and Shop.select().count() == 1
    # inside a caller's transaction: no savepoint, a failure is the caller's to roll back
    with pytest.raises(RuntimeError), dbmod.write():
        Shop.create(name="caller")
        with dbmod.write(join=True) as txn:
            assert txn is None
            Shop.create(name="joined")
        assert Shop.select().count() == 3
        raise RuntimeError("boom")
    assert [s.name for s in Shop.select()] == ["alone"]
    # a nested write without join is still a savepoint of its own
    with dbmod.write():
        with pytest.raises(RuntimeError), dbmod.write():
            Shop.create(name="rolled back alone")
            raise RuntimeError("boom")
        Shop.create(name="kept")
    assert [s.name for s in Shop.select().order_by(Shop.id)] == ["alone", "kept"]


def test_two_processes_start_and_write_at_once_without_locking_errors(tmp_path):
    """Two terminals on one file: concurrent first start (migrations) and concurrent
    read-then-write transactions never fail with 'database is locked'."""
    url = f"sqlite:///{tmp_path}/shared.db"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, who, "150"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
        for who in ("a", "b")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert "locked" not in err
    dbmod.open_database(url)
    assert AuditEvent.select().count() == 300
    assert Shop.select().count() == 1
    # every read-then-write saw a consistent count: the counts written are 0..299 exactly once
    assert sorted(int(e.detail) for e in AuditEvent.select()) == list(range(300))


def test_bulk_insert_matches_model_defaults(tmp_path):
    import datetime as dt

    dbmod.open_database(f"sqlite:///{tmp_path}/a.db")
    shop = Shop.create(name="s")
    t = dt.datetime(2026, 11, 20, 8, 30, 15, 123000)
    with dbmod.write():
        dbmod.bulk_insert(Order, [{"shop": shop, "order_sn": "261120-000000000000001", "pay_time": t}])
    o = Order.get()
    assert o.pay_time == t and o.state == "new" and o.print_count == 0 and o.local_updated_at is not None


def _order_indexes(db) -> dict[str, str]:
    return dict(db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                               "AND tbl_name = 'order' AND sql IS NOT NULL").fetchall())


def test_step_two_makes_order_indexes_partial(tmp_path):
    # a database left at step 1 as it shipped: full indexes on shop, tracking number, courier and
    # exception flags. Step 2 replaces them, and keeps the orders.
    url = f"sqlite:///{tmp_path}/old.db"
    db = dbmod.open_database(url)
    from dadan.core.models import SchemaVersion
    from dadan.core.order_indexes import PARTIAL_INDEXES

    shop = Shop.create(name="s")
    Order.create(shop=shop, order_sn="261120-100000000000001", tracking_number="YT1", exception_flags=1,
                 logistics_id=85, updated_at=dt.datetime(2026, 11, 20, 8, 0))
    for name in ("order_tracking_number_set", "order_logistics_id_set", "order_exception_flags_set",
                 "order_updated_at_set"):
        db.execute_sql(f'DROP INDEX "{name}"')
    for col in ("shop_id", "tracking_number", "logistics_id", "exception_flags", "updated_at"):
        db.execute_sql(f'CREATE INDEX "order_{col}" ON "order" ("{col}")')
    db.execute_sql('ANALYZE "order"')  # the planner's statistics, as the desk keeps them
    SchemaVersion.delete().where(SchemaVersion.version > 1).execute()
    db.close()

    db = dbmod.open_database(url)
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION
    idx = _order_indexes(db)
    assert not {"order_shop_id", "order_tracking_number", "order_logistics_id", "order_exception_flags",
                "order_updated_at"} & set(idx)
    assert "WHERE" in idx["order_tracking_number_set"] and "WHERE" in idx["order_exception_flags_set"]
    assert Order.select().count() == 1
    analysed = {r[0] for r in db.execute_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'order'")}
    assert set(PARTIAL_INDEXES) <= analysed
    # a new database gets the same indexes from step 1
    fresh = dbmod.open_database(f"sqlite:///{tmp_path}/new.db")
    assert _order_indexes(fresh) == idx


def test_tracking_and_exception_look_ups_use_the_partial_indexes(tmp_path):
    from dadan.core.orders.query import compile_query

    db = dbmod.open_database(f"sqlite:///{tmp_path}/a.db")

    def plan(where) -> str:
        sql, params = Order.select(Order.id).where(where).sql()
        return " ".join(r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())

    assert "order_tracking_number_set" in plan(compile_query("tracking:YT12"))
    assert "order_exception_flags_set" in plan(compile_query("exception:any"))
    assert "order_exception_flags_set" in plan(compile_query("exception:refund"))
    assert "order_logistics_id_set" in plan(Order.logistics_id == 85)
    assert "order_updated_at_set" in plan(compile_query("updated<2h"))
    from dadan.core.order_indexes import has_tracking

    assert "order_tracking_number_set" in plan(has_tracking() & (Order.tracking_number == "YT123"))


def test_a_version_2_database_gains_the_waybill_tables_and_columns(tmp_path):
    from dadan.core.models import Order, PrintItem, PrintJob, SchemaVersion, Shop, Waybill, WaybillOrder

    db = dbmod.open_database(f"sqlite:///{tmp_path}/old.db")
    db.execute_sql("PRAGMA foreign_keys = OFF")
    keep = ", ".join(f'"{c.name}"' for c in db.get_columns("print_item") if c.name != "waybill_id")
    with dbmod.write():  # as a v0.1 database was: no waybill tables, no job courier, no label parcel
        db.execute_sql(f'CREATE TABLE "print_item_v2" AS SELECT {keep} FROM "print_item"')
        db.execute_sql('DROP TABLE "print_item"')
        db.execute_sql('ALTER TABLE "print_item_v2" RENAME TO "print_item"')
        for table in ("waybill_order", "waybill", "waybill_account", "waybill_branch"):
            db.execute_sql(f'DROP TABLE "{table}"')
        db.execute_sql('ALTER TABLE "print_job" DROP COLUMN "courier"')
        SchemaVersion.delete().where(SchemaVersion.version > 2).execute()
        shop = Shop.create(name="s")
        order = Order.create(shop=shop, order_sn="240601-000000000000001")
        db.execute_sql('INSERT INTO "print_job" ("id", "created_at", "requested_by", "printer", "template", "kind", '
                       '"state", "state_reason", "reprint_reason", "total") VALUES (1, \'2026-01-01 00:00:00\', '
                       '\'\', \'p\', \'waybill_100x150\', \'label\', \'done\', \'\', \'\', 1)')
        db.execute_sql('INSERT INTO "print_item" ("id", "job_id", "seq", "order_id", "state", "is_reprint", '
                       '"reprint_no", "attempts", "reason") VALUES (1, ?, 1, ?, \'sent\', 0, 0, 1, \'\')',
                       (1, order.id))
    dbmod.close_database()
    db = dbmod.open_database(f"sqlite:///{tmp_path}/old.db")
    assert dbmod.current_version(db) == dbmod.SCHEMA_VERSION  # steps 3 and on
    assert {c.name for c in db.get_columns("print_job")} >= {"courier"}
    assert PrintItem.get().waybill_id is None and PrintJob.get().courier == ""
    w = Waybill.create(shop=shop.id, wp_code="ZTO", object_id="o1", package_id="p1")
    WaybillOrder.insert(waybill=w.id, order=order.id).execute()
    assert WaybillOrder.select().count() == 1
