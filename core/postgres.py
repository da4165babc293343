"""PostgreSQL: several desks on several hosts sharing one database server
(``database_url = "postgresql://user@host/db"``).

The models, queries and guarantees are the SQLite ones:

- **One writer at a time.** Every write transaction (:func:`dadan.core.db.write`) first takes one
  transaction-scoped advisory lock, as SQLite's ``BEGIN IMMEDIATE`` takes the file's write lock:
  a read-then-write in dadan never interleaves with another desk's, on any host, and readers
  never wait. The lock goes with the transaction (commit, rollback, or a desk whose connection
  died).
- **The same SQL.** Queries are written with SQLite's ``?`` placeholders; the cursor turns them
  into psycopg's (``%s``) once per statement text (:func:`placeholders`).
- **Secrets stay out of the config.** The URL names user, host and database; a password in it is
  refused. libpq reads the password from ``PGPASSFILE`` (or ``~/.pgpass``), or from the data
  folder's ``pgpass`` (owner-only, the same format) when that exists.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlsplit

from peewee import OperationalError, PostgresqlDatabase, __exception_wrapper__

from dadan.core.errors import DatabaseError
from dadan.core.i18n import tr

# pg_advisory_xact_lock's key for "a dadan write transaction" (any 64-bit number; this one spells
# "dadan" in ASCII)
WRITE_LOCK_KEY = 0x6461_6461_6E
# what psycopg says when the server's end of the connection is gone (a restart, a network cut, a
# terminated backend); "connection socket closed" comes before psycopg has marked the connection
# broken, when the server closed it while the statement was on its way
LOST_CONNECTION = ("server closed the connection", "terminating connection", "the connection is closed",
                   "connection socket closed", "connection refused", "could not receive data from server",
                   "consuming input failed")


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection to the server is gone."""
    text = str(exc).lower()
    return any(needle in text for needle in LOST_CONNECTION)
CONNECT_TIMEOUT_S = 10


def is_postgres(db) -> bool:
    return isinstance(db, PgDatabase)


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


@functools.lru_cache(maxsize=4096)
def placeholders(sql: str) -> str:
    """SQL written with SQLite's ``?`` placeholders, in psycopg's ``%s`` style: each ``?``
    outside quotes becomes ``%s`` and every ``%`` is doubled. A statement already in psycopg's
    style (peewee's own catalogue queries: ``%s`` and no ``?``) is left as it is."""
    if "?" not in sql and ("%s" in sql or "%(" in sql):
        return sql
    out = []
    quote = ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


class _Cursor:
    """psycopg's cursor, taking SQLite-style SQL (:func:`placeholders`)."""

    __slots__ = ("_cur",)

    def __init__(self, cur):
        self._cur = cur

    def execute(self, sql, params=None):
        self._cur.execute(placeholders(sql), params if params is not None else ())
        return self

    def executemany(self, sql, seq):
        with __exception_wrapper__:  # peewee's errors, as execute_sql raises them (a full disk is one fault)
            self._cur.executemany(placeholders(sql), seq)
        return self

    def fetchone(self):
        return self._cur.fetchone()

    def fetchall(self):
        return self._cur.fetchall()

    def fetchmany(self, size=None):
        return self._cur.fetchmany(size) if size is not None else self._cur.fetchmany()

    def __iter__(self):
        return iter(self._cur)

    def __getattr__(self, name):
        return getattr(self._cur, name)


class PgDatabase(PostgresqlDatabase):
    """Peewee's PostgreSQL database on psycopg 3, speaking dadan's SQL (``?`` placeholders)."""

    param = "?"

    def cursor(self, named_cursor=None):
        self._reopen_if_lost()
        if named_cursor:
            return super().cursor(named_cursor)
        return _Cursor(super().cursor())

    def _lost(self) -> bool:
        conn = self._state.conn
        return conn is not None and (conn.closed or conn.broken)

    def _reopen_if_lost(self) -> None:
        """A connection the server dropped (a restart, a network cut, an idle timeout) is
        opened again before the next statement -- never inside a transaction, whose caller
        rolls back and reports it."""
        if self._lost() and not self.in_transaction():
            self.close()
            self.connect()

    def execute_sql(self, sql, params=None):
        """As peewee's; a read outside any transaction whose connection turned out lost is sent
        once more on a new connection (a write is never resent: it runs inside
        :func:`dadan.core.db.write`, which rolls back and says the connection was lost)."""
        try:
            return super().execute_sql(sql, params)
        except OperationalError as exc:
            if self.in_transaction() or not sql.lstrip()[:6].upper() == "SELECT":
                raise
            if not (self._lost() or connection_lost(exc)):  # (gone, perhaps not yet marked so)
                raise
        self.close()
        self.connect()
        return super().execute_sql(sql, params)

    def write_lock(self) -> None:
        """Inside a transaction: wait for, then hold until it ends, the one write lock."""
        self.execute_sql("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK_KEY,))


def passfile(data_dir: Path | None) -> str | None:
    """The password file libpq reads: ``PGPASSFILE`` when set (libpq's own rule), else the data
    folder's ``pgpass`` when it exists, else None (libpq falls back to ``~/.pgpass``)."""
    if os.environ.get("PGPASSFILE"):
        return None
    if data_dir is not None and (data_dir / "pgpass").is_file():
        return str(data_dir / "pgpass")
    return None


def make_database(url: str, data_dir: Path | None = None) -> PgDatabase:
    """The database of a ``postgresql://user@host[:port]/db`` URL. A password in the URL is
    refused (the config is not a place for secrets)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError as exc:
        raise DatabaseError(tr("bad database URL: {e}", "数据库地址有误：{e}", e=exc)) from None
    if parts.password:
        raise DatabaseError(tr(
            "the database URL must not hold a password: put it in PGPASSFILE or the data folder's pgpass file",
            "数据库地址中不能写密码：请写入 PGPASSFILE 或数据目录下的 pgpass 文件"))
    if not parts.path.strip("/"):
        raise DatabaseError(tr("the database URL names no database: postgresql://user@host/DATABASE",
                               "数据库地址缺少数据库名：postgresql://用户@主机/数据库"))
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise DatabaseError(tr("PostgreSQL needs the psycopg package: pip install 'psycopg[binary]'",
                               "使用 PostgreSQL 需要 psycopg 包：pip install 'psycopg[binary]'")) from None
    params = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "dadan"}
    if (pf := passfile(data_dir)) is not None:
        params["passfile"] = pf
    url = "postgresql://" + url.split("://", 1)[1]
    return PgDatabase(url, prefer_psycopg3=True, autorollback=False, **params)
