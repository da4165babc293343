"""A cheap change counter: has anything in the database changed since I last looked?

Desks sharing one database (on one host or several) show each other's changes without
re-reading whole tables: a screen keeps the last :func:`version` it saw and re-reads only
when the number moved.

- **SQLite**: ``PRAGMA data_version`` moves when another connection (another desk, or another
  thread of this one) committed; this process's own commits that changed a row are counted
  here (:func:`note_write`, called by :func:`dadan.core.db.write`). Compare versions read on one
  connection (one thread): ``data_version`` is per connection.
- **PostgreSQL**: a one-row table ``change_counter`` (made by :mod:`dadan.core.pg_schema`),
  bumped by every write transaction that wrote a row (:func:`bump`, at the end of
  :func:`dadan.core.db.write`, under the write lock, committed with the rest): one number for
  every desk on every host.
"""

from __future__ import annotations

import itertools

from dadan.core.models import database_proxy
from dadan.core.postgres import is_postgres

TABLE = "change_counter"
DDL = (
    f'CREATE TABLE IF NOT EXISTS "{TABLE}" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "n" BIGINT NOT NULL)',
    f'INSERT INTO "{TABLE}" ("id", "n") VALUES (1, 0) ON CONFLICT DO NOTHING',
)
# only a transaction that wrote something has a transaction id: one that only read (or whose
# writes matched no row) leaves the number as it was
_BUMP = f'UPDATE "{TABLE}" SET "n" = "n" + 1 WHERE "id" = 1 AND txid_current_if_assigned() IS NOT NULL'

_own = itertools.count(1)
_own_writes = 0


def note_write() -> None:
    """SQLite: this process committed a write transaction."""
    global _own_writes
    _own_writes = next(_own)


def bump(db) -> None:
    """PostgreSQL, at the end of a write transaction: count it if it wrote anything (every desk
    sees the number move)."""
    db.execute_sql(_BUMP)


def version(db=None) -> int:
    """A number that moves whenever the database changed (see the module): cheap (one pragma,
    or one one-row read)."""
    db = db or database_proxy.obj
    if is_postgres(db):
        row = db.execute_sql(f'SELECT "n" FROM "{TABLE}" WHERE "id" = 1').fetchone()
        return int(row[0]) if row else 0
    return int(db.execute_sql("PRAGMA data_version").fetchone()[0]) + _own_writes
