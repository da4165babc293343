"""Pages of orders for the order table: keyset pagination, never OFFSET, never all rows.

A page is ordered by (sort column, id), both ascending or both descending, so one index on
``(column, id)`` serves it in either direction. A page's position is the key of its first
and last row, ``(column value, id)``; the next page is "rows beyond the last key".

NULLs: SQLite sorts NULL first ascending and last descending. A nullable column is read as
two segments -- the NULL rows (ordered by id) and the others (ordered by column, id) -- and a
page that reaches the end of one segment continues in the next, each with its own
index-friendly query (``col IS NULL AND id > ?`` / ``(col, id) > (?, ?)``).

Only the columns the table shows are selected (never ``search_text`` and friends).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass
from typing import Any

from peewee import Expression, Tuple, fn

from dadan.core.errors import DadanError
from dadan.core.models import Order
from dadan.core.orders import dialect, fulltext, page_plan
from dadan.core.orders.selectivity import Complement
from dadan.core.orders.sku_index import SkuMatch
from dadan.core.orders.tag_terms import TagMatch

# sort name -> (field, nullable)
SORTABLE: dict[str, tuple[Any, bool]] = {
    "pay_time": (Order.pay_time, True),
    "last_ship_time": (Order.last_ship_time, True),
    "order_sn": (Order.order_sn, False),
    "province": (Order.province, False),
    "pay_amount_fen": (Order.pay_amount_fen, False),
    "item_count": (Order.item_count, False),
    "print_count": (Order.print_count, False),
    "state": (Order.state, False),
    "updated_at": (Order.updated_at, True),
    "logistics_id": (Order.logistics_id, True),
}

DEFAULT_SORT = "-pay_time"


@dataclass(slots=True)
class OrderRow:
    """The columns of one order the table shows."""

    id: int
    order_sn: str
    state: str
    order_status: int
    exception_flags: int
    province: str
    city: str
    items_summary: str
    item_count: int
    pay_amount_fen: int
    pay_time: dt.datetime | None
    last_ship_time: dt.datetime | None
    logistics_id: int | None
    print_count: int
    receiver_name: str  # masked unless asked for plain text
    remark_tag: int | None
    updated_at: dt.datetime | None
    tracking_number: str


_ROW_FIELDS = [
    Order.id, Order.order_sn, Order.state, Order.order_status, Order.exception_flags, Order.province,
    Order.city, Order.items_summary, Order.item_count, Order.pay_amount_fen, Order.pay_time,
    Order.last_ship_time, Order.logistics_id, Order.print_count, Order.receiver_name_mask,
    Order.remark_tag, Order.updated_at, Order.tracking_number,
]


@dataclass(frozen=True)
class Page:
    rows: list[OrderRow]
    first_key: tuple | None
    last_key: tuple | None
    has_prev: bool
    has_next: bool


def parse_sort(sort: str | None) -> tuple[str, bool]:
    """``"-pay_time"`` -> ("pay_time", descending=True)."""
    sort = (sort or DEFAULT_SORT).strip()
    desc = sort.startswith("-")
    name = sort.lstrip("-+")
    if name not in SORTABLE:
        raise DadanError(f"cannot sort by {name!r} (one of: {', '.join(SORTABLE)})")
    return name, desc


class _Lister:
    def __init__(self, where: Expression | None, sort: str, plain: bool):
        self.name, self.desc = parse_sort(sort)
        self.col, self.nullable = SORTABLE[self.name]
        self.where = where
        fields = list(_ROW_FIELDS)
        if plain:  # (peewee fields overload ==, so positions are found by identity)
            fields[next(i for i, f in enumerate(fields) if f is Order.receiver_name_mask)] = Order.receiver_name
        self.fields = fields
        self.key_index = next(i for i, f in enumerate(fields) if f is self.col)

    # segments in ascending order: NULLs first (SQLite's order), then values
    def segments(self, ascending: bool) -> list[str]:
        segs = ["null", "value"] if self.nullable else ["value"]
        return segs if ascending else segs[::-1]

    def _query(self, seg: str, ascending: bool, key: tuple | None, limit: int, form: str = ""):
        """The ids of one segment's rows strictly beyond ``key`` in the given direction, in order.
        ``form``: "walk", the filter hidden from the planner (the sort index is walked); "unsorted",
        the sort terms hidden, the segment's and the key's bounds too (the filter's index is read
        and its orders sorted); see :mod:`dadan.core.orders.page_plan`.

        A page's ids are chosen first and only their rows read (:meth:`_rows`): when no index
        gives the sort order, SQLite sorts just (sort key, id) of the matching orders -- from an
        index alone where one covers the filter -- instead of every matching row's shown columns."""
        conds, bounds = [], []  # (the filter; the segment's and the key's bounds)
        if self.where is not None:
            conds.append(page_plan.hidden(self.where) if form == "walk" else self.where)
        if seg == "null":
            bounds.append(self.col.is_null())
            if key is not None:
                bounds.append(Order.id > key[1] if ascending else Order.id < key[1])
            terms = [Order.id]
        else:
            if self.nullable:
                bounds.append(self.col.is_null(False))
            if key is not None:
                kv = Tuple(dialect.key_value(key[0]), key[1])
                t = Tuple(self.col, Order.id)
                bounds.append(t > kv if ascending else t < kv)
            terms = [self.col, Order.id]
        if form == "unsorted":
            terms = [page_plan.hidden(t) for t in terms]
            bounds = [page_plan.hidden(b) for b in bounds]
        q = Order.select(Order.id)
        for c in conds + bounds:
            q = q.where(c)
        return q.order_by(*[t.asc() if ascending else t.desc() for t in terms]).limit(limit).tuples()

    def _rows(self, ids: list[int]) -> list[tuple]:
        """The shown columns of the orders ``ids``, in that order."""
        if not ids:
            return []
        found = {row[0]: row for row in Order.select(*self.fields).where(Order.id.in_(ids)).tuples()}
        return [found[i] for i in ids if i in found]

    def segment_of(self, key: tuple) -> str:
        return "null" if (self.nullable and key[0] is None) else "value"

    def fetch(self, ascending: bool, key: tuple | None, limit: int) -> list[tuple]:
        """Up to ``limit`` rows beyond ``key`` (or from the start) in one direction."""
        segs = self.segments(ascending)
        if key is not None:
            segs = segs[segs.index(self.segment_of(key)):]
        out: list[tuple] = []
        for i, seg in enumerate(segs):
            k = key if (i == 0 and key is not None) else None
            n = limit - len(out)
            ids = [r[0] for r in page_plan.page_rows(functools.partial(self._query, seg, ascending, k, n))]
            out.extend(tuple(f.python_value(v) for f, v in zip(self.fields, row)) for row in self._rows(ids))
            if len(out) >= limit:
                break
        return out

    def key_of(self, row: tuple) -> tuple:
        return (row[self.key_index], row[0])


def _row(t: tuple) -> OrderRow:
    return OrderRow(*t)


def fetch_page(where_expr: Expression | None, sort: str = DEFAULT_SORT, *, after: tuple | None = None,
               before: tuple | None = None, last: bool = False, limit: int = 50, plain: bool = False) -> Page:
    """One page of orders matching ``where_expr`` in ``sort`` order.

    ``after=key``: the page following the row with that key; ``before=key``: the page before
    it; ``last=True``: the last page; none of them: the first page. Keys are
    ``(sort value, id)`` as found in :attr:`Page.first_key` / :attr:`Page.last_key`.
    ``plain=True`` selects the plain receiver name instead of the masked one.
    """
    if after is not None and before is not None:
        raise ValueError("after and before are exclusive")
    lister = _Lister(where_expr, sort, plain)
    forward = not lister.desc  # ascending in the column's terms
    if before is not None or last:
        key = before
        raw = lister.fetch(not forward, key, limit + 1)
        more_before = len(raw) > limit
        raw = raw[:limit][::-1]
        if not raw:
            return Page([], None, None, False, key is not None and bool(lister.fetch(forward, None, 1)))
        has_next = bool(lister.fetch(forward, lister.key_of(raw[-1]), 1)) if key is not None else False
        if key is not None and len(raw) < limit:
            # fewer rows than a page before the key: show the first page instead
            return fetch_page(where_expr, sort, limit=limit, plain=plain)
        return Page([_row(r) for r in raw], lister.key_of(raw[0]), lister.key_of(raw[-1]), more_before, has_next)
    raw = lister.fetch(forward, after, limit + 1)
    has_next = len(raw) > limit
    raw = raw[:limit]
    if not raw:
        return Page([], None, None, after is not None and bool(lister.fetch(not forward, after, 1)), False)
    has_prev = after is not None and bool(lister.fetch(not forward, lister.key_of(raw[0]), 1))
    return Page([_row(r) for r in raw], lister.key_of(raw[0]), lister.key_of(raw[-1]), has_prev, has_next)


def count(where_expr: Expression | None) -> int:
    """How many orders match (``None``: all). A lone free-text term is counted in its index, a
    lone ``sku:`` or ``tag:`` term from its own table (:class:`~dadan.core.orders.sku_index.SkuMatch`,
    :class:`~dadan.core.orders.tag_terms.TagMatch`), a negated term (``tracking:no``, ``-remark:快``)
    as the orders of the rest less those it is true for
    (:class:`~dadan.core.orders.selectivity.Complement`), unless one index holds the whole filter
    (``-due<4h``: the pay-time index read once, not twice)."""
    alone = fulltext.count_alone(where_expr)
    if alone is not None:
        return alone
    if isinstance(where_expr, (SkuMatch, TagMatch)):
        return where_expr.count()
    q = Order.select(fn.COUNT(Order.id))
    if where_expr is None:
        return int(q.scalar() or 0)
    terms = page_plan.and_terms(where_expr)
    lacking = next((t for t in terms if isinstance(t, Complement)), None)
    if lacking is not None and not page_plan.covered(q, where_expr):
        # (the rest's orders are those the condition is true for and the others)
        rest = [t for t in terms if t is not lacking]
        base = functools.reduce(operator.and_, rest) if rest else None
        return count(base) - count(lacking.node if base is None else base & lacking.node)
    return page_plan.count_rows(q, where_expr)


def row_key(row: OrderRow, sort: str) -> tuple:
    """The keyset key of a row under ``sort`` (to reload the page starting at a row)."""
    name, _desc = parse_sort(sort)
    return (getattr(row, name), row.id)


def explain(where_expr: Expression | None, sort: str = DEFAULT_SORT, *, after: tuple | None = None,
            form: str = "") -> list[str]:
    """The query plan's lines of the first segment's page query (for tests and tuning); ``form``:
    see :meth:`_Lister._query`."""
    lister = _Lister(where_expr, sort, False)
    forward = not lister.desc
    seg = lister.segment_of(after) if after is not None else lister.segments(forward)[0]
    q = lister._query(seg, forward, after, 51, form)
    return dialect.explain(*Order._meta.database.get_sql_context(**fulltext.WALK).sql(q).query())


def ensure_statistics(*, force: bool = False) -> bool:
    """Make sure the planner has statistics for the order table's indexes.

    Without ``sqlite_stat1`` SQLite's planner guesses that ``order_status = 1`` is selective and
    sorts 90,000 rows instead of walking the ``(pay_time, id)`` index; with it, every page
    query walks an index and stops after one page. Runs ``ANALYZE "order"`` when statistics
    are missing or (SQLite) the row count has moved by more than half since; PostgreSQL's
    autovacuum keeps them once they exist (the indexes themselves belong to the schema and its
    migrations, core/db.py). Returns True when it analysed. Call it from a worker thread:
    ANALYZE reads the whole table (~0.1 s at 100,000 orders)."""
    from dadan.core.db import database, write

    db = database()
    analysed = dialect.analysed_rows()
    stale = force or analysed is None
    if not stale and not dialect.postgres():
        actual = count(None)
        stale = actual > 1000 and not (analysed / 1.5 <= actual <= analysed * 1.5)
    if stale:
        with write(db):
            db.execute_sql('ANALYZE "order"')
    return stale
