"""The database: opened from a URL, tuned, migrated.

SQLite (the default) runs in WAL mode with foreign keys on, ``synchronous=full`` and a busy
timeout, so several terminals can share one file, and a commit survives a power cut as well as a
killed process. Every write goes through :func:`write`, an
``IMMEDIATE`` transaction: the write lock is taken up front, so a read-then-write never fails
half-way with SQLITE_BUSY when another terminal writes. Peewee gives each thread its own
connection.

PostgreSQL (``database_url = "postgresql://user@host/db"``) serves desks on several hosts
(:mod:`dadan.core.postgres`): the same models and SQL, its schema made by
:mod:`dadan.core.pg_schema`, and :func:`write` taking one advisory lock as SQLite takes its write
lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import operator
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Sequence

from peewee import AutoField, Database, ForeignKeyField, Model, OperationalError, SqliteDatabase
from peewee import DatabaseError as PeeweeDatabaseError

from dadan.core import changes as change_counter
from dadan.core.errors import DatabaseError
from dadan.core.i18n import tr
from dadan.core.migrations import MIGRATIONS, SCHEMA_VERSION
from dadan.core.models import SchemaVersion, database_proxy
from dadan.core.postgres import LOST_CONNECTION, PgDatabase, is_postgres_url
from dadan.core.postgres import make_database as make_pg_database
from dadan.printers.private_files import PRIVATE_FILE_MODE, make_private_dir

BUSY_TIMEOUT_S = 30.0

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # every commit synced to disk (~0.3 ms here): with "normal" a power cut can take back the last
    # commits, a print item's "sending" or a waybill's request among them, so a label already out
    # could be sent or numbered again (DESIGN invariant 1); a kill -9 is safe either way
    "synchronous": "full",
    "busy_timeout": int(BUSY_TIMEOUT_S * 1000),
    "cache_size": -32_000,  # 32 MB page cache
    "temp_store": "memory",
}


def default_url(database_file: Path) -> str:
    return f"sqlite:///{database_file}"


def _make_database(url: str, data_dir: Path | None = None) -> Database:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path != ":memory:":
            p = Path(path)
            make_private_dir(p.parent)
            if not p.exists():  # orders hold buyer data: owner-only
                fd = os.open(p, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
                os.fchmod(fd, PRIVATE_FILE_MODE)
                os.close(fd)
        return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_S)
    if is_postgres_url(url):
        return make_pg_database(url, data_dir)
    raise DatabaseError(f"unsupported database URL: {url!r} (expected sqlite:///PATH or postgresql://USER@HOST/DB)")


# ------------------------------------------------------------------ migrations (steps: core.migrations)
def current_version(db: Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def migrate(db: Database) -> int:
    """Bring the schema up to date. Safe when several processes start together: the whole
    check-and-apply runs under one IMMEDIATE transaction, so the second waits and then finds
    nothing to do (on PostgreSQL the write lock of :func:`write` does the same across hosts).
    A new PostgreSQL database is made at the current version at once (:mod:`dadan.core.pg_schema`).
    Returns the schema version."""
    if isinstance(db, PgDatabase):
        from dadan.core import pg_schema

        return pg_schema.migrate(db)
    with write(db):
        db.create_tables([SchemaVersion], safe=True)
        version = current_version(db)
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"the database is at schema version {version}, newer than this dadan "
                f"({SCHEMA_VERSION}); upgrade dadan"
            )
        for number, _desc, step in MIGRATIONS:
            if number > version:
                step(db)
                SchemaVersion.create(version=number)
                version = number
    return version


# ------------------------------------------------------------------ open / write
def _restrict_sidecars(url: str) -> None:
    """The WAL and shared-memory files hold order data too: owner-only, like the database."""
    if not url.startswith("sqlite:///"):
        return
    base = url[len("sqlite:///") :]
    for suffix in ("", "-wal", "-shm"):
        p = Path(base + suffix)
        try:
            if p.exists() and p.stat().st_uid == os.getuid():
                p.chmod(PRIVATE_FILE_MODE)
        except OSError:
            pass


def _connect(db: Database) -> None:
    """Connect, waiting out another process that holds the file while it switches it to WAL or
    migrates it: the journal-mode pragma at connect time gets SQLITE_BUSY at once (SQLite does
    not wait there, to avoid a deadlock), so it is retried within the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            db.connect(reuse_if_open=True)
            return
        except OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        if not db.is_closed():
            db.close()
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, 0.2)


def open_database(url: str, *, migrate_schema: bool = True, data_dir: Path | None = None) -> Database:
    """Open the database at ``url``, bind the models to it and migrate. ``data_dir``: where a
    PostgreSQL password file may lie (:func:`dadan.core.postgres.passfile`)."""
    db = _make_database(url, data_dir)
    database_proxy.initialize(db)
    try:
        _connect(db)
        if migrate_schema:
            migrate(db)
        _restrict_sidecars(url)
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - driver errors become one clear message
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"cannot open database {url}: {first}") from exc
    return db


def database() -> Database:
    db = database_proxy.obj
    if db is None:
        raise DatabaseError("database is not open")
    return db


_FAULTS = (
    ("database or disk is full", ("the database or the disk is full: nothing was written; free disk space and try again",
                                  "数据库或磁盘已满：未写入任何数据；请释放磁盘空间后重试")),
    ("disk i/o error", ("the disk failed while writing the database: nothing was written",
                        "写入数据库时磁盘出错：未写入任何数据")),
    ("readonly database", ("the database file cannot be written (read-only): nothing was written",
                           "数据库文件只读：未写入任何数据")),
    ("database disk image is malformed", ("the database file is damaged; restore it from a backup",
                                          "数据库文件已损坏；请从备份恢复")),
    # PostgreSQL's words for the same faults
    ("no space left on device", ("the database server's disk is full: nothing was written; free disk space and try again",
                                 "数据库服务器磁盘已满：未写入任何数据；请释放磁盘空间后重试")),
    ("read-only transaction", ("the database server accepts no writes (read-only): nothing was written",
                               "数据库服务器只读：未写入任何数据")),
    *((needle, ("the connection to the database server was lost: nothing was written; try again",
                "与数据库服务器的连接已断开：未写入任何数据；请重试"))
      for needle in LOST_CONNECTION),
)


def database_fault(exc: BaseException) -> DatabaseError | None:
    """A storage fault of SQLite (disk full, I/O error, read-only, damaged) as one clear
    :class:`DatabaseError`; None for anything else. The chain is searched: a full disk is
    often reported as the failed rollback that followed it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (OperationalError, sqlite3.Error, PeeweeDatabaseError)):
            text = str(seen).lower()
            for needle, (en, zh) in _FAULTS:
                if needle in text:
                    return DatabaseError(tr(en, zh))
        seen = seen.__cause__ or seen.__context__
    return None


@contextlib.contextmanager
def write(db: Database | None = None, *, join: bool = False):
    """A write transaction: ``IMMEDIATE`` on SQLite; on PostgreSQL it takes the one write lock
    first (:meth:`dadan.core.postgres.PgDatabase.write_lock`). Nested calls become savepoints, or with
    ``join`` run in the caller's transaction (yielding None): a failure is then the caller's to
    roll back with the rest of its transaction. Bulk writers join: inside a savepoint every
    statement that may touch the free-text index makes FTS5 write out what it holds (several
    times slower). A storage fault (a full disk ...) rolls it back and raises one
    :class:`DatabaseError`. Each outermost write moves :func:`dadan.core.changes.version`."""
    db = db or database()
    outermost = not db.in_transaction()
    if join and not outermost:
        txn = contextlib.nullcontext()
    elif isinstance(db, SqliteDatabase) and outermost:
        txn = db.atomic("IMMEDIATE")
    else:
        txn = db.atomic()
    pg = outermost and isinstance(db, PgDatabase)
    # SQLite: rows this connection changed so far (core.changes counts a write that changed any)
    changed = db.connection().total_changes if outermost and isinstance(db, SqliteDatabase) else None
    try:
        with txn as t:
            if pg:
                db.write_lock()
            yield t
            if pg:
                change_counter.bump(db)  # under the lock, committed with the rest (core.changes)
    except (OperationalError, PeeweeDatabaseError, sqlite3.Error) as exc:
        fault = database_fault(exc)
        if fault is None:
            raise
        raise fault from None
    if changed is not None and db.connection().total_changes != changed:
        change_counter.note_write()


# The page cache of a worker thread's connection: it lives for one worker's queries, so pages
# kept past them are never read again -- a count scanning a million orders' index would fill the
# desk's own 32 MB with them, once for every worker running at that moment (the desk's peak
# memory). The file's pages stay in the system's cache for the next worker.
WORKER_CACHE_KIB = 4_000


@contextlib.contextmanager
def connection(db: Database | None = None):
    """A connection for the current thread (worker threads call this)."""
    db = db or database()
    if db.is_closed():
        with db.connection_context():
            if isinstance(db, SqliteDatabase):
                db.execute_sql(f"PRAGMA cache_size = {-WORKER_CACHE_KIB}")
            yield db
    else:
        yield db


def close_database() -> None:
    db = database_proxy.obj
    if db is not None and not db.is_closed():
        db.close()



def id_chunks(model, where=None, chunk: int = 1000):
    """The rows of ``model`` matching ``where``, in id order, as lists of at most ``chunk``
    (keyset pages: each read starts after the last id, so a long export holds no cursor open
    and never reads a row twice)."""
    last = 0
    while True:
        q = model.select().where(model.id > last)
        if where is not None:
            q = q.where(where)
        batch = list(q.order_by(model.id).limit(chunk))
        if not batch:
            return
        yield batch
        last = batch[-1].id


def bulk_insert(model, rows: list[dict]) -> None:
    """Insert many rows with one prepared statement (``executemany``).

    Peewee's ``insert_many`` builds the SQL text for every value, which costs more than SQLite
    itself at tens of thousands of rows; this keeps the values as bound parameters and builds
    each row's parameters with C-level operations (a dict merge over the defaults and one
    ``itemgetter``). Missing keys take the field's default. Call inside a write transaction."""
    if not rows:
        return
    meta = model._meta
    names = [n for n, f in meta.fields.items() if not (f.primary_key and isinstance(f, AutoField))]
    present = set().union(*(r.keys() for r in rows))
    fields = [meta.fields[n] for n in names if n in present or meta.fields[n].default is not None]
    # defaults are computed once per call (one timestamp for the whole batch); a column no row
    # sets is written as a constant in the statement instead of a parameter bound on every row
    bound: dict = {}
    consts: dict[str, str] = {}
    for f in fields:
        d = f.default() if callable(f.default) else f.default
        if f.name not in present and (lit := _sql_literal(d)) is not None:
            consts[f.name] = lit
        else:
            bound[f.name] = d
    sql = _insert_sql(meta, list(bound), consts)
    if len(bound) > 1:
        getter = operator.itemgetter(*bound)
        params = [getter({**bound, **r}) for r in rows]
    else:
        params = [tuple({**bound, **r}[n] for n in bound) for r in rows]
    fk_cols = [i for i, n in enumerate(bound) if isinstance(meta.fields[n], ForeignKeyField)]
    if fk_cols and any(isinstance(vals[i], Model) for vals in params for i in fk_cols):
        params = [tuple(v.get_id() if isinstance(v, Model) else v for v in vals) for vals in params]
    # datetimes are bound through the adapter registered below
    meta.database.cursor().executemany(sql, params)


class BulkLoad:
    """What :func:`indexes_built_after` yields: whether the table was empty, and
    :meth:`thin_out`."""

    def __init__(self, db: Database, table: str, empty: bool):
        self.db, self.table, self.empty = db, table, empty
        self.dropped: list[str] = []  # the SQL that makes each dropped index again
        self._partial: list[tuple[str, str]] = []  # (name, SQL) of the partial indexes kept meanwhile: see thin_out

    def _drop(self, name: str, sql: str) -> None:
        self.db.execute_sql(f'DROP INDEX "{name}"')
        self.dropped.append(sql)

    def thin_out(self, share: float = 0.2) -> None:
        """Once a first batch of rows is in: the partial indexes kept meanwhile that hold more
        than ``share`` of its rows are dropped too (built at the end with the others). Those
        holding few (a tracking number, a remark, an exception) stay, filled row by row as the
        rest of the rows come: a few inserts each, against a scan of every row to build them at
        the end (~0.3-0.8 s each at 1,000,000 orders)."""
        if not self._partial:
            return
        total = self.db.execute_sql(f'SELECT count(*) FROM "{self.table}"').fetchone()[0]
        for name, sql in self._partial:
            held = self.db.execute_sql(f'SELECT count(*) FROM "{self.table}" WHERE {sql.split(" WHERE ", 1)[1]}')
            if held.fetchone()[0] > share * total:
                self._drop(name, sql)
        self._partial = []


@contextlib.contextmanager
def indexes_built_after(model, *, keep_partial: bool = False):
    """Inside a write transaction, for loading many rows into ``model``'s table while it is
    empty: its non-unique indexes are dropped, and created again (the same SQL) when the block
    ends. One sort of all the rows builds an index in a fraction of the time a million
    inserts of random keys into it take. The unique indexes stay (look-ups and conflicts need
    them). ``keep_partial``: the partial indexes stay until :meth:`BulkLoad.thin_out` has seen
    a first batch. Yields a :class:`BulkLoad` (``empty``: whether the table was). All in the
    caller's transaction, so no other connection ever sees the table without its indexes, and
    a failure rolls the drop back too; a table that has rows, or a database other than SQLite,
    keeps its indexes as they are."""
    db = database()
    table = model._meta.table_name
    if not db.in_transaction():
        raise RuntimeError("indexes_built_after needs a write transaction")
    empty = db.execute_sql(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is None
    load = BulkLoad(db, table, empty)
    if isinstance(db, SqliteDatabase) and empty:
        # (name, partial) of each index made by CREATE INDEX, not unique
        made = [(r[1], r[4]) for r in db.execute_sql(f'PRAGMA index_list("{table}")') if not r[2] and r[3] == "c"]
        for name, partial in made:
            sql = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()[0]
            if keep_partial and partial:
                load._partial.append((name, sql))
            else:
                load._drop(name, sql)
    yield load
    for sql in load.dropped:
        db.execute_sql(sql)


def _insert_sql(meta, bound: list[str], consts: dict[str, str], marks: list[str] | None = None) -> str:
    """``INSERT`` binding the fields ``bound`` as parameters, in that order (``marks``: the SQL
    of each, ``?`` by default), and writing ``consts`` (field name -> SQL literal) as
    constants."""
    order = bound + list(consts)
    cols = ", ".join(f'"{meta.fields[n].column_name}"' for n in order)
    marks = ", ".join((marks or ["?"] * len(bound)) + list(consts.values()))
    return f'INSERT INTO "{meta.table_name}" ({cols}) VALUES ({marks})'


def insert_statement(model, names: Sequence[str], *, defaulted: Sequence[str] = ()) -> str:
    """``INSERT`` binding ``names`` as parameters, in that order; every other field (except an
    auto-increment key) is written as its default, a constant. A field in ``defaulted`` bound
    to NULL takes its default too (``coalesce``), so the caller can bind a value as given. For
    callers that build each row's parameter tuple themselves (the hot path of sync and import)."""
    meta = model._meta

    def literal(n: str) -> str:
        f = meta.fields[n]
        d = f.default() if callable(f.default) else f.default
        lit = _sql_literal(d)
        if lit is None:
            raise ValueError(f"{model.__name__}.{n}: default {d!r} cannot be written as a constant")
        return lit

    consts = {n: literal(n) for n, f in meta.fields.items()
              if n not in names and not (f.primary_key and isinstance(f, AutoField))}
    marks = [f"coalesce(?, {literal(n)})" if n in defaulted and literal(n) != "NULL" else "?" for n in names]
    return _insert_sql(meta, list(names), consts, marks)


def _sql_literal(value) -> str | None:
    """``value`` as an SQL constant, or None when it is better bound as a parameter."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    if type(value) is str and len(value) < 64 and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _adapt_datetime(value: dt.datetime) -> str:
    return value.isoformat(" ")


# The text form peewee and sqlite3 have always stored ("2026-11-20 08:30:15.123000"); registered
# explicitly because Python 3.12 deprecates sqlite3's built-in datetime adapter.
sqlite3.register_adapter(dt.datetime, _adapt_datetime)


def execute_updates(model, updates: list[tuple[dict, int]]) -> None:
    """Apply ``(changes, id)`` pairs with prepared UPDATE statements, grouped by the set of
    columns changed. Call inside a write transaction."""
    meta = model._meta
    groups: dict[tuple[str, ...], list[list]] = {}
    for changes, pk in updates:
        cols = tuple(sorted(changes))
        vals = []
        for c in cols:
            v = changes[c]
            if isinstance(v, Model):
                v = v.get_id()
            vals.append(v)
        vals.append(pk)
        groups.setdefault(cols, []).append(vals)
    cur = meta.database.cursor()
    for cols, params in groups.items():
        sets = ", ".join(f'"{meta.fields[c].column_name}" = ?' for c in cols)
        cur.executemany(f'UPDATE "{meta.table_name}" SET {sets} WHERE "{meta.primary_key.column_name}" = ?', params)
