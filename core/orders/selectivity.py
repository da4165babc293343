"""Roughly how many orders a filter term matches, so the term can be written for the planner.

SQLite keeps no statistics of how many rows a prefix or a code matches, and with an ``ORDER BY
... LIMIT`` it prefers the index of a term over the sort index even when the term holds for a
large share of the orders -- then a page reads and sorts all of them. A bounded count over the
term's own index (at most 1 in :data:`COMMON_RATIO` of the orders' entries, a few milliseconds
at 1,000,000 orders) tells a common term from a rare one.
"""

from __future__ import annotations

from peewee import SQL, Expression, Negated, fn

from dadan.core.models import Order
from dadan.core.orders import dialect

COMMON_RATIO = 50  # a term holding for more than 1 in this many orders is common


def orders_about() -> int:
    """About how many orders there are: the highest order id (instant, where a count is not)."""
    return int(Order._meta.database.execute_sql('SELECT max("id") FROM "order"').fetchone()[0] or 0)


def common_cap() -> int:
    """How many matches make a term common (from the highest order id: no count of the table)."""
    return max(1, orders_about() // COMMON_RATIO)


def is_common(condition: Expression) -> bool:
    """Whether ``condition`` (an indexed one) holds for more than 1 in ``COMMON_RATIO`` orders."""
    cap = common_cap()
    sub = Order.select(SQL("1")).where(condition).limit(cap)
    return Order.select(fn.COUNT(SQL("*"))).from_(sub.alias("m")).scalar() >= cap


def marked_common(condition: Expression) -> Expression:
    """``condition`` marked as true for many orders (SQLite's ``likelihood``): the planner then
    walks a page's sort index and stops after a page; a count still reads the term's index."""
    return dialect.likely(condition)


def walked_id(dense: bool):
    """The left side of a term's ``id IN (...)``: for a common (``dense``) term, written so that a
    page walks its sort index (:func:`dadan.core.orders.dialect.walked_id`)."""
    return dialect.walked_id(Order.id, dense)


class Complement(Negated):
    """``NOT condition`` for a ``condition`` never NULL (a test of NOT NULL columns): the orders it
    leaves out are exactly the others, so the orders of ``rest AND NOT condition`` are counted as
    those of ``rest`` less those of ``rest AND condition`` (``tracking:no``, ``remark:no``: the
    counts read indexes, where the complement's own count reads nine in ten orders' rows;
    :func:`dadan.core.orders.listing.count`)."""
