"""The few pieces of write-path SQL that SQLite and PostgreSQL spell differently, one function
each: the caller writes its statement once and asks here for the piece that differs. On
SQLite every function gives back the text the statement always had (its speed was tuned), on
PostgreSQL (:mod:`dadan.core.postgres`) the same meaning in PostgreSQL's words."""

from __future__ import annotations

from dadan.core.db import database
from dadan.core.postgres import is_postgres


def on_postgres() -> bool:
    """Whether the open database is PostgreSQL."""
    return is_postgres(database())


def like_escape(v: str) -> str:
    """``v`` as the literal part of a ``LIKE ... ESCAPE '\\'`` pattern (both databases)."""
    return v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def insert_ignore(sql: str) -> str:
    """``INSERT OR IGNORE INTO ...`` (SQLite's words) as the open database says it: on
    PostgreSQL ``INSERT INTO ... ON CONFLICT DO NOTHING``."""
    if not on_postgres():
        return sql
    assert sql.startswith("INSERT OR IGNORE INTO "), sql
    return "INSERT INTO " + sql[len("INSERT OR IGNORE INTO "):] + " ON CONFLICT DO NOTHING"


def insert_replace(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """Insert a row, replacing the one with the same ``key`` columns: SQLite's ``INSERT OR
    REPLACE``, PostgreSQL's ``ON CONFLICT (key) DO UPDATE`` of the other columns."""
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    if not on_postgres():
        return f'INSERT OR REPLACE INTO "{table}" ({names}) VALUES ({marks})'
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
    conflict = ", ".join(f'"{c}"' for c in key)
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks}) ON CONFLICT ({conflict}) DO UPDATE SET {sets}'


def boolean(value: bool) -> str:
    """A boolean constant: SQLite stores ``1``/``0``, PostgreSQL's boolean columns take
    ``TRUE``/``FALSE``."""
    if on_postgres():
        return "TRUE" if value else "FALSE"
    return "1" if value else "0"


def greatest(a: str, b: str) -> str:
    """The larger of two SQL values: SQLite's two-argument ``max``, PostgreSQL's ``GREATEST``."""
    return f"{'GREATEST' if on_postgres() else 'max'}({a}, {b})"


def indexed_by(index: str) -> str:
    """SQLite's ``INDEXED BY "index" `` after a table name (PostgreSQL's planner picks its own
    index: nothing)."""
    return "" if on_postgres() else f'INDEXED BY "{index}" '


def cross_join() -> str:
    """A join in the order written: SQLite's ``CROSS JOIN`` (its planner keeps that order; an
    ``ON`` may follow), a plain ``JOIN`` on PostgreSQL (whose ``CROSS JOIN`` takes no ``ON``)."""
    return "JOIN" if on_postgres() else "CROSS JOIN"


def same_in_group(expr: str) -> str:
    """A value every row of a ``GROUP BY`` group shares (a column of the one order of the
    group): SQLite takes it bare, PostgreSQL wants an aggregate (``min``)."""
    return f"min({expr})" if on_postgres() else expr


def as_integer(expr: str) -> str:
    """A comparison's truth as the integer SQLite gives (PostgreSQL gives a boolean)."""
    return f"({expr})::int" if on_postgres() else expr


def time_text(expr: str) -> str:
    """A stored time as text: SQLite stores it as text already (the expression as is); on
    PostgreSQL a timestamp's text, ``2026-11-20 08:30:15``, the form SQLite holds."""
    return f"({expr})::text" if on_postgres() else expr


def seconds_between(later: str, earlier: str) -> str:
    """Seconds from one stored time to another: SQLite's Julian days of its text times,
    PostgreSQL's epoch of the interval."""
    if on_postgres():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))::float8"
    return f"(julianday({later}) - julianday({earlier})) * 86400.0"
