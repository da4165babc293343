"""PostgreSQL as the database (``database_url = "postgresql://..."``): opening, the schema made
once however many desks start together, writers serialized across connections as on SQLite,
passwords only from a password file. Against the real test server (tests/pg_cluster.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dadan.core.config import Paths, Settings
from dadan.core.context import Context
from dadan.core.db import close_database, current_version, open_database, write
from dadan.core.errors import DatabaseError
from dadan.core.migrations import SCHEMA_VERSION
from dadan.core.models import DEADLINE_INDEX_NAME, SchemaVersion, database_proxy
from dadan.core.order_indexes import NOTE_INDEXES
from dadan.core.postgres import placeholders
from tests.pg_cluster import cluster, empty_url, fresh_url

ROOT = Path(__file__).resolve().parents[1]


def test_sqlite_placeholders_become_psycopgs_outside_quotes():
    assert placeholders('SELECT "a?" FROM t WHERE x = ? AND y LIKE \'%?%\'') == (
        'SELECT "a?" FROM t WHERE x = %s AND y LIKE \'%%?%%\'')
    assert placeholders("SELECT 1 WHERE s LIKE 'a%'") == "SELECT 1 WHERE s LIKE 'a%%'"
    # peewee's own catalogue queries are written for psycopg already
    assert placeholders("SELECT t FROM pg_tables WHERE schemaname = %s") == "SELECT t FROM pg_tables WHERE schemaname = %s"


def test_a_password_in_the_url_is_refused_in_one_line():
    with pytest.raises(DatabaseError) as e:
        open_database("postgresql://desk:s3cret-pw@127.0.0.1:5432/dadan")
    text = str(e.value)
    assert "\n" not in text and "s3cret-pw" not in text and "password" in text


def test_a_url_without_a_database_and_an_unreachable_server_are_one_line_each():
    with pytest.raises(DatabaseError, match="names no database"):
        open_database("postgresql://desk@127.0.0.1:5432")
    with pytest.raises(DatabaseError) as e:
        open_database("postgresql://desk@127.0.0.1:1/dadan")
    assert "\n" not in str(e.value) and "cannot open database" in str(e.value)


def test_a_new_database_is_made_at_the_current_version_with_its_indexes():
    db = open_database(empty_url())
    try:
        assert current_version(db) == SCHEMA_VERSION
        assert SchemaVersion.select().count() == 1
        indexes = {r[0] for r in db.execute_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'order'")}
        assert {"order_search_text_trgm", "order_pending_due", "order_tracking_number_set"} <= indexes
        partial = db.execute_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'order_tracking_number_set'").fetchone()[0]
        assert "WHERE" in partial
        assert db.execute_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").fetchone()
    finally:
        close_database()


def test_a_version_20_database_is_brought_up_by_the_postgresql_steps():
    """Steps 21 (the deadline index carries pay time), 22 (remark, memo and flag indexes), 23
    (the courier and exception indexes carry pay time), 24 (the pay-time index carries the
    columns filters test, the partial ones the pending test's), 27 and 28 (the update time's index
    carries pay time, the pending test's columns, the exception bits and the print count) in their
    PostgreSQL form; a new database has
    their indexes from the start."""
    url = empty_url()
    db = open_database(url)
    try:
        made = {r[0] for r in db.execute_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'order'")}
        assert {DEADLINE_INDEX_NAME, *NOTE_INDEXES} <= made and "order_last_ship_time_id" not in made
        with write():  # as a version-20 database was
            for name in (DEADLINE_INDEX_NAME, *NOTE_INDEXES, "order_logistics_id_set"):
                db.execute_sql(f'DROP INDEX "{name}"')
            db.execute_sql('CREATE INDEX "order_last_ship_time_id" ON "order" ("last_ship_time", "id")')
            db.execute_sql('CREATE INDEX "order_logistics_id_set" ON "order" ("logistics_id") WHERE "logistics_id" IS NOT NULL')
            db.execute_sql('DROP INDEX "order_pay_time"')
            db.execute_sql('CREATE INDEX "order_pay_time_id" ON "order" ("pay_time", "id")')
            db.execute_sql('CREATE INDEX "order_report_paid" ON "order" ("pay_time", "shop_id", "exception_flags", "pay_amount_fen")')
            db.execute_sql('DROP INDEX "order_status"')
            db.execute_sql('CREATE INDEX "order_order_status_state_exception_flags_print_count" ON "order" '
                           '("order_status", "state", "exception_flags", "print_count")')
            db.execute_sql('CREATE INDEX "stock_demand_goods_id" ON "stock_demand" ("goods_id")')
            db.execute_sql('DROP INDEX "order_updated_at_set"')
            db.execute_sql('CREATE INDEX "order_updated_at_set" ON "order" ("updated_at") WHERE "updated_at" IS NOT NULL')
            SchemaVersion.delete().where(SchemaVersion.version > 20).execute()
            SchemaVersion.create(version=20)
        close_database()
        db = open_database(url)
        assert current_version(db) == SCHEMA_VERSION
        now = {r[0]: r[1] for r in db.execute_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'order'")}
        assert {DEADLINE_INDEX_NAME, *NOTE_INDEXES} <= set(now) and "order_last_ship_time_id" not in now
        assert "pay_time" in now[DEADLINE_INDEX_NAME] and "WHERE" in now["order_remark_set"]
        assert "pay_time" in now["order_logistics_id_set"] and "WHERE" in now["order_logistics_id_set"]
        assert "state" in now["order_logistics_id_set"] and "state" in now["order_remark_set"]
        assert "created_time" in now["order_pay_time"] and "last_ship_time" in now["order_pay_time"]
        assert "order_pay_time_id" not in now and "order_report_paid" not in now
        assert "created_time" in now["order_status"] and "order_order_status_state_exception_flags_print_count" not in now
        demand = {r[0] for r in db.execute_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'stock_demand'")}
        assert "stock_demand_goods_id" not in demand and "stock_demand_order_id" in demand
        assert "pay_time" in now["order_updated_at_set"] and "state" in now["order_updated_at_set"]  # (step 27)
        assert "exception_flags" in now["order_updated_at_set"] and "print_count" in now["order_updated_at_set"]
        assert "WHERE" in now["order_updated_at_set"]
    finally:
        close_database()


def test_desks_starting_together_on_a_new_database_make_the_schema_once():
    url = empty_url()
    code = ("import sys; from dadan.core.db import open_database, current_version; "
            "print(current_version(open_database(sys.argv[1])))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", code, url], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [c.communicate(timeout=60) for c in children]
    assert [c.returncode for c in children] == [0] * 4, [o[1][-500:] for o in outs]
    assert {o[0].strip() for o in outs} == {str(SCHEMA_VERSION)}
    open_database(url)
    try:
        assert SchemaVersion.select().count() == 1
    finally:
        close_database()


def test_read_then_write_transactions_never_interleave_across_connections():
    """Two connections each add one to a counter 150 times, reading it first: every write takes
    the one lock before it reads, so no increment is lost (READ COMMITTED alone would lose some)."""
    db = open_database(fresh_url())
    try:
        with write():
            db.execute_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
            db.execute_sql("INSERT INTO counter VALUES (0)")

        def add(times: int) -> None:
            with db.connection_context():
                for _ in range(times):
                    with write():
                        n = db.execute_sql("SELECT n FROM counter").fetchone()[0]
                        db.execute_sql("UPDATE counter SET n = ?", (n + 1,))

        threads = [threading.Thread(target=add, args=(150,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert db.execute_sql("SELECT n FROM counter").fetchone()[0] == 300
    finally:
        close_database()


def test_a_newer_schema_is_refused_and_left_as_it_is():
    url = fresh_url()
    open_database(url)
    with write():
        SchemaVersion.create(version=SCHEMA_VERSION + 5)
    close_database()
    with pytest.raises(DatabaseError, match="newer than this dadan"):
        open_database(url)
    database_proxy.obj.close()
    open_database(url, migrate_schema=False)
    try:
        assert current_version(database_proxy.obj) == SCHEMA_VERSION + 5
    finally:
        close_database()


def test_the_password_comes_from_the_data_folders_pgpass_or_pgpassfile(tmp_path, monkeypatch):
    """The desk's role is no superuser and owns an empty database: it makes the schema itself
    (pg_trgm is a trusted extension)."""
    server = cluster()
    url = empty_url()
    name = url.rsplit("/", 1)[1]
    server.admin("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dadan_pw') THEN "
                 "CREATE ROLE dadan_pw LOGIN PASSWORD 'pw-9f3k'; END IF; END $$")
    server.admin(f'ALTER DATABASE "{name}" OWNER TO dadan_pw')
    desk_url = f"postgresql://dadan_pw@127.0.0.1:{server.port}/{name}"
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pgpass of the machine's
    home = tmp_path / "home"
    paths = Paths(config_dir=home, data_dir=home).ensure()
    ctx = Context(paths=paths, settings=Settings(database_url=desk_url))
    with pytest.raises(DatabaseError) as e:  # no password anywhere: refused by the server, one line
        ctx.open_db()
    assert "\n" not in str(e.value) and "pw-9f3k" not in str(e.value)

    pgpass = home / "pgpass"
    pgpass.write_text(f"127.0.0.1:{server.port}:{name}:dadan_pw:pw-9f3k\n")
    pgpass.chmod(0o600)
    ctx = Context(paths=paths, settings=Settings(database_url=desk_url))
    try:
        ctx.open_db()
        assert database_proxy.obj.execute_sql("SELECT current_user").fetchone()[0] == "dadan_pw"
    finally:
        close_database()

    other = tmp_path / "elsewhere.pgpass"
    pgpass.rename(other)
    monkeypatch.setenv("PGPASSFILE", str(other))
    try:
        open_database(desk_url)
        assert database_proxy.obj.execute_sql("SELECT current_user").fetchone()[0] == "dadan_pw"
    finally:
        close_database()


def test_a_read_on_a_connection_gone_before_psycopg_marked_it_is_answered_again(monkeypatch):
    """The server closes the connection while the statement is on its way: psycopg says
    "connection socket closed" before it marks the connection closed or broken (seen under
    load). Here psycopg never marks it: the read is still answered on a new connection."""
    import psycopg

    from dadan.core.models import Shop

    db = open_database(fresh_url())
    server = cluster()
    try:
        with write():
            Shop.create(name="a")
        monkeypatch.setattr(psycopg.Connection, "closed", property(lambda self: False))
        monkeypatch.setattr(psycopg.Connection, "broken", property(lambda self: False))
        pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        server.admin(f"SELECT pg_terminate_backend({int(pid)})")
        assert Shop.select().count() == 1  # answered on a new connection
        assert db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid
    finally:
        monkeypatch.undo()
        close_database()


def test_a_desk_whose_connection_the_server_dropped_goes_on():
    """A server restart or a network cut drops the desk's connection: the next read is answered
    on a new connection; a write that finds it gone is one line, writes nothing, and the next
    one goes through."""
    from dadan.core.models import Shop

    db = open_database(fresh_url())
    server = cluster()
    try:
        with write():
            Shop.create(name="a")

        def drop() -> None:
            pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
            server.admin(f"SELECT pg_terminate_backend({int(pid)})")

        drop()
        assert Shop.select().count() == 1  # answered on a new connection
        drop()
        with pytest.raises(DatabaseError) as e:
            with write():
                Shop.create(name="b")
        assert "\n" not in str(e.value) and "connection to the database server was lost" in str(e.value)
        assert [s.name for s in Shop.select()] == ["a"]
        with write():
            Shop.create(name="b")
        assert sorted(s.name for s in Shop.select()) == ["a", "b"]
    finally:
        close_database()
