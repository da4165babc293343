"""Free text from an index built for it: an FTS5 table over ``order.search_text``.

The table ``order_fts`` is an *external-content* FTS5 table (it stores only the index; the
text stays in ``order.search_text``) with the ``trigram`` tokenizer, so any substring of three
or more characters -- Chinese included -- is found through the index instead of a table scan.
``case_sensitive 1``: ``search_text`` and the filter's terms are both lower-cased already, and
matching code points exactly keeps the results identical to the ``LIKE`` scan it replaces.

Triggers on the order table keep the index in step with every insert, update of
``search_text`` and delete, inside the writer's own transaction -- whatever the writer (upsert,
import, demo, a cascade from a deleted shop).

Terms shorter than :data:`MIN_CHARS` cannot use a trigram index and keep the ``LIKE`` scan.
"""

from __future__ import annotations

from peewee import SQL, Database, Expression

from dadan.core.models import Order

TABLE = "order_fts"
MIN_CHARS = 3  # a trigram index answers substrings of at least three characters

_DDL = (
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS "{TABLE}" USING fts5(
        search_text, content='order', content_rowid='id', tokenize='trigram case_sensitive 1')""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_insert" AFTER INSERT ON "order" BEGIN
        INSERT INTO "{TABLE}" (rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_delete" AFTER DELETE ON "order" BEGIN
        INSERT INTO "{TABLE}" ("{TABLE}", rowid, search_text) VALUES ('delete', old.id, old.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_update" AFTER UPDATE OF search_text ON "order"
        WHEN old.search_text IS NOT new.search_text BEGIN
        INSERT INTO "{TABLE}" ("{TABLE}", rowid, search_text) VALUES ('delete', old.id, old.search_text);
        INSERT INTO "{TABLE}" (rowid, search_text) VALUES (new.id, new.search_text);
    END""",
)


def create_index(db: Database) -> None:
    """Create the FTS table and its triggers (if missing) and index every order from scratch.
    Call inside a write transaction (a migration step)."""
    for ddl in _DDL:
        db.execute_sql(ddl)
    db.execute_sql(f"""INSERT INTO "{TABLE}" ("{TABLE}") VALUES ('rebuild')""")


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
