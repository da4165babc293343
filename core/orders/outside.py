"""The orders for which a filter's terms are not true, as ranges of one index of the order
table (:func:`ranges_outside`): read from the index alone, a range at a time, never an order's
row. A count of free text beside terms that nearly every order meets is the word's orders less
those of them outside the terms (:func:`dadan.core.orders.page_plan._outside_form`)."""

from __future__ import annotations

import re

from peewee import OP, Database, Expression, Field

from dadan.core.dialect import indexed_by

# each index of the order table that is not partial and its columns, in order (a row a column)
_INDEX_ORDER = ("SELECT il.name, ii.name FROM pragma_index_list('order') AS il "
                "JOIN pragma_index_info(il.name) AS ii WHERE NOT il.partial ORDER BY il.name, ii.seqno")
_VALUE = re.compile(r"\?|-?[0-9]+|'[^']*'")  # a value a condition names: a parameter, a number, a text


def _values(db: Database, node) -> tuple | None:
    """The values the right-hand side of a condition names (``1``, ``('new', 'printed')``, a
    parameter, a list of them), None for anything else."""
    sql, params = db.get_sql_context().sql(node).query()
    sql = sql.strip()
    if sql.startswith("(") and sql.endswith(")"):
        sql = sql[1:-1]
    pieces, given, out = [p.strip() for p in sql.split(",")], iter(params), []
    for p in pieces:
        if not _VALUE.fullmatch(p):
            return None
        v = next(given, None) if p == "?" else (p[1:-1] if p.startswith("'") else int(p))
        if not isinstance(v, (int, str)) or isinstance(v, bool):
            return None
        out.append(v)
    return tuple(out) if out and len({type(v) for v in out}) == 1 else None


def _tests(db: Database, select, terms: list) -> dict[str, tuple] | None:
    """``terms`` as {column: (op, sorted values)}: each a column ``=``, ``IN`` or ``NOT IN``
    values, on a column that is never NULL, one term a column; None when they are not such."""
    found = {}
    for t in terms:
        if not (isinstance(t, Expression) and isinstance(t.lhs, Field) and t.lhs.model is select.model
                and not t.lhs.null and t.op in (OP.EQ, OP.IN, OP.NOT_IN)):
            return None
        values = _values(db, t.rhs)
        if values is None or t.lhs.column_name in found:
            return None
        found[t.lhs.column_name] = (t.op, sorted(set(values)))
    return found


def _index_holding(db: Database, columns) -> tuple[str, list[str]] | None:
    """The index (not partial) that holds ``columns`` nearest its start: (name, its columns)."""
    indexes: dict[str, list[str]] = {}
    for name, column in db.execute_sql(_INDEX_ORDER).fetchall():
        indexes.setdefault(name, []).append(column)
    holding = [(max(cols.index(c) for c in columns), len(cols), n) for n, cols in indexes.items()
               if set(columns) <= set(cols)]
    return (min(holding)[2], indexes[min(holding)[2]]) if holding else None


def _gaps(column: str, op, values: list) -> list[tuple[str, list]]:
    """The values of ``column`` outside a test of it, as ranges (SQL, parameters): below the
    first value, between two, above the last; outside a ``NOT IN``, each of its values."""
    q = f'"{column}"'
    if op == OP.NOT_IN:
        return [(f"{q} = ?", [v]) for v in values]
    gaps = [(f"{q} < ?", [values[0]])] + [(f"{q} > ? AND {q} < ?", [a, b]) for a, b in zip(values, values[1:])]
    return gaps + [(f"{q} > ?", [values[-1]])]


def ranges_outside(db: Database, select, terms: list) -> tuple[str, list] | None:
    """The orders for which a join (AND) of ``terms`` is not true, as ranges of one index: a
    ``SELECT "id"`` a range, joined by UNION ALL (SQL, parameters). Each term is a column ``=``,
    ``IN`` or ``NOT IN`` values (:func:`_tests`), in one index, leading it if an index has them
    so (``status:pending``: outside it, ``order_status`` below or above 1, or 1 and ``state``
    below, between or above ``'new'`` and ``'printed'``); an index column before them that no
    term tests is skipped through by SQLite, value by value (``exception:none``: the exception
    bits above or below 0, under each platform status and state). A single term may be an OR of
    two such tests (:func:`_outside_either`). None when the terms are not such."""
    if len(terms) == 1 and isinstance(terms[0], Expression) and terms[0].op == OP.OR:
        return _outside_either(db, select, terms[0])
    found = _tests(db, select, terms)
    index = _index_holding(db, found) if found else None
    if index is None:
        return None
    tested = [c for c in index[1] if c in found]  # (in the index's order)
    branches, held, params = [], [], []
    for column in tested:
        op, values = found[column]
        if op == OP.NOT_IN and column != tested[-1]:  # (no term can follow it: not a range)
            return None
        branches += [(" AND ".join([*held, sql]), [*params, *ps]) for sql, ps in _gaps(column, op, values)]
        held.append(f'"{column}" IN ({", ".join("?" * len(values))})')
        params += values
    return _union(select, index[0], branches)


def _table(select, index: str) -> str:
    """The order table read through ``index`` (``"order" INDEXED BY "index" ``)."""
    return f'"{select.model._meta.table_name}" {indexed_by(index)}'


def _union(select, index: str, branches: list[tuple[str, list]]) -> tuple[str, list]:
    """The ids of the orders in any of the ``branches`` (WHERE clauses and their parameters),
    each read from ``index``."""
    table = _table(select, index)
    return (" UNION ALL ".join(f'SELECT "id" FROM {table}WHERE {w}' for w, _ in branches),
            [p for _, ps in branches for p in ps])


# the most values of an index's first column enumerated for _outside_either
_MAX_VALUES = 64


def _outside_either(db: Database, select, either: Expression) -> tuple[str, list] | None:
    """The orders for which neither of two tests is true (``status:shipped``: ``state`` one of
    shipped and confirmed, or ``order_status`` 2), as ranges of the index the two columns lead:
    each value of its first column outside the first test (read from the index, a seek a value),
    with the second column's ranges outside the other. None when they are not such."""
    found = _tests(db, select, [either.lhs, either.rhs])
    index = _index_holding(db, found) if found and len(found) == 2 else None
    if index is None or set(index[1][:2]) != set(found):
        return None
    first, second = index[1][:2]
    op, values = found[first]
    if op == OP.NOT_IN:  # outside it: its values
        outside_first = values
    else:
        table = _table(select, index[0])
        present = [r[0] for r in db.execute_sql(
            f'WITH RECURSIVE v(x) AS (SELECT min("{first}") FROM {table}UNION ALL SELECT (SELECT min("{first}") '
            f'FROM {table}WHERE "{first}" > v.x) FROM v WHERE v.x IS NOT NULL) '
            f"SELECT x FROM v WHERE x IS NOT NULL LIMIT {_MAX_VALUES + 1}").fetchall()]
        if len(present) > _MAX_VALUES:
            return None
        outside_first = [v for v in present if v not in values]
    if not outside_first:
        return "SELECT NULL AS id WHERE 0", []
    return _union(select, index[0], [(f'"{first}" = ? AND {sql}', [v, *ps])
                                     for v in outside_first for sql, ps in _gaps(second, *found[second])])
