"""The order screen's reads on both backends: each rule that SQLite and PostgreSQL spell
differently, in one small function here (the callers never branch on the backend themselves).

- a prefix (``province:浙``, ``sn:``, ``tracking:``): SQLite ``GLOB 'v*'`` (case-sensitive, uses the
  column's index, which SQLite's ``LIKE`` cannot); PostgreSQL ``LIKE 'v%' ESCAPE '\\'``
  (case-sensitive too, a range of a btree index in the C collation or with ``text_pattern_ops``);
- a substring (free text, ``sku:`` with ``|``): SQLite ``LIKE '%v%'`` as ever; PostgreSQL a
  case-sensitive ``LIKE '%v%' ESCAPE '\\'`` (the texts searched are lower case already), which
  the ``pg_trgm`` GIN index serves;
- a hint that a term holds for many orders: SQLite ``likelihood(c, 0.5)`` and ``+id IN (...)``
  (so a page walks the sort index); PostgreSQL keeps statistics and plans by them: plain SQL;
- ``shop IS (subquery)``: PostgreSQL's ``IS NOT DISTINCT FROM``; NULLs sorted first ascending
  (SQLite's order) where a list is read in a nullable column's order;
- a keyset key bound beside a column: SQLite compares the stored text, PostgreSQL the timestamp;
- a query plan: ``EXPLAIN QUERY PLAN`` / ``EXPLAIN``; planner statistics: ``sqlite_stat1`` /
  ``ANALYZE`` when the table was never analysed.
"""

from __future__ import annotations

import datetime as dt

from peewee import SQL, Expression, NodeList, Value, fn

from dadan.core.db import database
from dadan.core.dialect import like_escape
from dadan.core.dialect import on_postgres as postgres


def glob_escape(v: str) -> str:
    """``v`` as the literal part of a SQLite ``GLOB`` pattern."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in v)


def _like(col, pattern: str) -> Expression:
    """PostgreSQL: ``col LIKE pattern ESCAPE '\\'`` (case-sensitive)."""
    return Expression(col, "LIKE", NodeList((Value(pattern, converter=False), SQL("ESCAPE '\\'"))))


def prefix(col, v: str) -> Expression:
    """``col`` starts with ``v`` (case-sensitive, like the stored text), through the column's index."""
    if postgres():
        return _like(col, like_escape(v) + "%")
    return Expression(col, "GLOB", glob_escape(v) + "*")


def contains(col, v: str) -> Expression:
    """``col`` holds ``v`` (a lower-case text searched for a lower-case value)."""
    if postgres():
        return _like(col, "%" + like_escape(v) + "%")
    return col.contains(v)


def likely(condition: Expression) -> Expression:
    """``condition`` marked as true for many orders where the planner needs telling (SQLite)."""
    return condition if postgres() else fn.likelihood(condition, SQL("0.5"))


def walked_id(id_col, dense: bool):
    """The left side of ``id IN (...)``: for a term held by many orders SQLite's ``+id`` (the
    page walks the sort index and probes the ids, instead of reading and sorting every match)."""
    if dense and not postgres():
        return NodeList((SQL("+"), id_col), glue="")
    return id_col


def nulls_first(col):
    """``col`` ascending with NULLs first, as SQLite sorts (PostgreSQL puts them last)."""
    return col.asc(nulls="first") if postgres() else col


def key_value(value):
    """A page key's value as bound beside its column: the text SQLite stores for a datetime."""
    if isinstance(value, dt.datetime) and not postgres():
        return value.isoformat(" ")
    return value


def explain(sql: str, params) -> list[str]:
    """The plan's lines of a query."""
    db = database()
    if postgres():
        return [r[0] for r in db.execute_sql("EXPLAIN " + sql, params).fetchall()]
    return [r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


def analysed_rows() -> int | None:
    """SQLite: the order count its statistics were made with (None: never analysed). PostgreSQL:
    0 when the order table was analysed (its autovacuum keeps them), None when never."""
    db = database()
    if postgres():
        row = db.execute_sql("SELECT coalesce(last_analyze, last_autoanalyze) FROM pg_stat_user_tables "
                             "WHERE relname = 'order'").fetchone()
        return 0 if row is not None and row[0] is not None else None
    # each index's row begins with the entries it holds: a partial index's fewer than the
    # table's rows (the first row ANALYZE writes may be one: awaiting shipment, 1 % of a year's
    # orders, once made every start think the statistics stale and analyse again); the largest
    # is an index of every order
    try:
        row = db.execute_sql("SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = 'order'").fetchone()
    except Exception:  # noqa: BLE001 - no sqlite_stat1 table yet
        row = None
    return None if row is None or row[0] is None else int(row[0])
