"""Free text from an index built for it: an FTS5 table over ``order.search_text``.

The table ``order_fts`` is an *external-content* FTS5 table (it stores only the index; the
text stays in ``order.search_text``) with the ``trigram`` tokenizer, so any substring of three
or more characters -- Chinese included -- is found through the index instead of a table scan.
``case_sensitive 1``: ``search_text`` and the filter's terms are both lower-cased already, and
matching code points exactly keeps the results identical to the ``LIKE`` scan it replaces.

Triggers on the order table keep the index in step with every insert, update of
``search_text`` and delete, inside the writer's own transaction -- whatever the writer (upsert,
import, demo, a cascade from a deleted shop).

A bulk writer can defer the index to the end of its batch (:func:`deferred`), in the same
transaction: new orders, and changed ones it names (:func:`reindex_deferred`). Terms shorter
than :data:`MIN_CHARS` cannot use a trigram index and keep the ``LIKE`` scan.
"""

from __future__ import annotations

import contextlib
import json

from peewee import SQL, Database, Expression

from dadan.core.db import database
from dadan.core.models import Order

TABLE = "order_fts"
MIN_CHARS = 3  # a trigram index answers substrings of at least three characters

_DEFER = f"{TABLE}_defer"  # holds a row while a bulk writer defers the index of new orders (see deferred)
_PENDING = f"{TABLE}_pending"  # new orders not indexed yet
_DEFERRING = f'EXISTS (SELECT 1 FROM "{_DEFER}")'
_INDEXED = f'NOT EXISTS (SELECT 1 FROM "{_PENDING}" WHERE "id" = old.id)'
_INDEX_NEW = f'INSERT INTO "{TABLE}" (rowid, search_text) VALUES (new.id, new.search_text);'
_UNINDEX_OLD = f"""INSERT INTO "{TABLE}" ("{TABLE}", rowid, search_text) VALUES ('delete', old.id, old.search_text);"""

_DDL = (
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS "{TABLE}" USING fts5(
        search_text, content='order', content_rowid='id', tokenize='trigram case_sensitive 1')""",
    f'CREATE TABLE IF NOT EXISTS "{_DEFER}" ("on" INTEGER NOT NULL)',
    f'CREATE TABLE IF NOT EXISTS "{_PENDING}" ("id" INTEGER PRIMARY KEY)',
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_insert" AFTER INSERT ON "order" WHEN NOT {_DEFERRING} BEGIN
        {_INDEX_NEW}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_insert_deferred" AFTER INSERT ON "order" WHEN {_DEFERRING} BEGIN
        INSERT OR IGNORE INTO "{_PENDING}" ("id") VALUES (new.id);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_update" AFTER UPDATE OF search_text ON "order"
        WHEN old.search_text IS NOT new.search_text AND {_INDEXED} BEGIN
        {_UNINDEX_OLD}
        {_INDEX_NEW}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_delete" AFTER DELETE ON "order" WHEN {_INDEXED} BEGIN
        {_UNINDEX_OLD}
    END""",
)
TRIGGERS = ("insert", "insert_deferred", "update", "delete")


def create_index(db: Database) -> None:
    """Create the FTS table and its triggers (if missing) and index every order from scratch.
    Call inside a write transaction (a migration step)."""
    for ddl in _DDL:
        db.execute_sql(ddl)
    db.execute_sql(f"""INSERT INTO "{TABLE}" ("{TABLE}") VALUES ('rebuild')""")


@contextlib.contextmanager
def deferred(db: Database | None = None):
    """Inside the caller's write transaction: new orders are indexed together when the block
    ends, with one statement. Row by row, indexing costs a bulk insert about as much again as
    the orders themselves (bench/bench_fulltext.py). Until then they are queued; an update or
    delete of a queued order leaves the index alone (the queue reads the order's text at the
    end), any other is applied at once. The queue is applied even when the block fails, so a
    caller that goes on and commits leaves no order out. Nested blocks join the outer one.
    (No savepoint of its own: FTS5 writes every row's change out at once inside a savepoint.)"""
    db = db or database()
    if db.execute_sql(f'SELECT 1 FROM "{_DEFER}"').fetchone():
        yield
        return
    db.execute_sql(f'INSERT INTO "{_DEFER}" ("on") VALUES (1)')
    try:
        yield
    finally:
        db.execute_sql(f'DELETE FROM "{_DEFER}"')
        # CROSS JOIN: the queue drives (the planner, knowing the order table's size and not
        # the queue's, would otherwise scan a million orders)
        db.execute_sql(f"""INSERT INTO "{TABLE}" (rowid, search_text)
                           SELECT o."id", o."search_text" FROM "{_PENDING}" p CROSS JOIN "order" o ON o."id" = p."id" """)
        db.execute_sql(f'DELETE FROM "{_PENDING}"')


def reindex_deferred(ids: list[int], db: Database | None = None) -> None:
    """Inside :func:`deferred`, before updating these orders' search text: their index entries
    go now (two statements for all of them, the text read from the rows as they still are) and
    their new text is indexed with the block's new orders at its end, instead of a delete and
    an insert per row by the update trigger (which leaves queued orders alone). Orders queued
    already keep their place: the index holds what was read when they were queued, or nothing
    for new ones."""
    db = db or database()
    if not ids:
        return
    if not db.execute_sql(f'SELECT 1 FROM "{_DEFER}"').fetchone():
        raise RuntimeError("reindex_deferred needs fulltext.deferred()")
    listed = json.dumps(ids)
    db.execute_sql(f"""INSERT INTO "{TABLE}" ("{TABLE}", rowid, search_text)
                       SELECT 'delete', o."id", o."search_text" FROM json_each(?) j CROSS JOIN "order" o
                       ON o."id" = j.value WHERE j.value NOT IN (SELECT "id" FROM "{_PENDING}")""", (listed,))
    db.execute_sql(f'INSERT OR IGNORE INTO "{_PENDING}" ("id") SELECT value FROM json_each(?)', (listed,))


def fts_string(text: str) -> str:
    """``text`` as one FTS5 string: whatever it holds (``"``, ``*``, ``AND``, ``NEAR(``, ``^``,
    ``:``) is matched as characters, never read as query syntax."""
    return '"' + text.replace('"', '""') + '"'


def contains(value: str) -> Expression:
    """Orders whose search text contains ``value`` (lower-cased, as the search text is):
    through the index when ``value`` is long enough, else the ``LIKE`` scan."""
    value = value.lower()
    if len(value) < MIN_CHARS:
        return Order.search_text.contains(value)
    return Order.id.in_(SQL(f'(SELECT rowid FROM "{TABLE}" WHERE "{TABLE}" MATCH ?)', [fts_string(value)]))
