"""Roughly how many orders a filter term matches, so the term can be written for the planner.

SQLite keeps no statistics of how many rows a prefix or a code matches, and with an ``ORDER BY
... LIMIT`` it prefers the index of a term over the sort index even when the term holds for a
large share of the orders -- then a page reads and sorts all of them. A bounded count over the
term's own index (at most 1 in :data:`COMMON_RATIO` of the orders' entries, a few milliseconds
at 1,000,000 orders) tells a common term from a rare one.
"""

from __future__ import annotations

import datetime as dt

from peewee import OP, SQL, BitwiseNegated, Expression, Field, Function, Negated, NodeList, fn

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
    """The orders ``condition`` is not true for: a negated filter term (``-courier:zto``,
    ``tracking:no``). Written ``NOT condition`` when the condition is never NULL
    (:func:`never_null`), else ``(condition) IS NOT TRUE``: an order without a courier is one
    that ``-courier:zto`` shows, where ``NOT`` alone would leave it out with the ZTO orders (SQL
    gives NULL for its test). Either way the orders of ``rest AND NOT condition`` are exactly
    those of ``rest`` less those of ``rest AND condition``, and so they are counted
    (:func:`dadan.core.orders.listing.count`): those two counts read indexes, where the
    complement's own count reads nearly every order's row (``-remark:快`` at 1,000,000 orders:
    0.36 s, against ~55 ms)."""

    def __sql__(self, ctx):
        if never_null(self.node):
            return super().__sql__(ctx)
        return ctx.sql(NodeList((NodeList((self.node,), parens=True), SQL("IS NOT TRUE")), parens=True))


# Operators giving NULL only for a NULL operand (SQL's AND/OR included: NULL needs a NULL side)
_NULL_ONLY_FROM_NULL = frozenset({OP.AND, OP.OR, OP.EQ, OP.NE, OP.LT, OP.LTE, OP.GT, OP.GTE, OP.LIKE, OP.ILIKE,
                                  OP.IN, OP.NOT_IN, OP.BIN_AND, OP.BIN_OR, OP.ADD, OP.SUB, OP.MUL})
_NULL_ONLY_FROM_NULL_FNS = frozenset({"instr", "lower", "length", "substr"})
_VALUES = (str, int, float, dt.date)  # (bool is an int; a datetime a date)


def never_null(node) -> bool:
    """Whether the condition ``node`` is true or false for every order, never NULL: it tests only
    NOT NULL order columns and values (or asks ``IS [NOT] NULL``), with operators that give NULL
    only for a NULL operand. A node of our own says so by ``NEVER_NULL`` (a free-text, ``sku:`` or
    ``tag:`` term: ``id IN`` a list of ids). False when in doubt."""
    if getattr(node, "NEVER_NULL", False):
        return True
    if isinstance(node, Field):
        return not node.null
    if isinstance(node, Complement):  # (NOT of a never-NULL condition, or IS NOT TRUE)
        return True
    if isinstance(node, (Negated, BitwiseNegated)):
        return never_null(node.node)
    if isinstance(node, Expression):
        if node.op in (OP.IS, OP.IS_NOT):
            return True
        return node.op in _NULL_ONLY_FROM_NULL and never_null(node.lhs) and never_null(node.rhs)
    if isinstance(node, SQL):  # (a constant written out: '', 0, ('new', 'printed'))
        return "null" not in node.sql.lower() and None not in (node.params or ())
    if isinstance(node, NodeList):
        return all(never_null(n) for n in node.nodes)
    if isinstance(node, Function):
        if node.name.lower() == "likelihood":  # (the planner's hint: its condition's value)
            return never_null(node.arguments[0])
        return node.name.lower() in _NULL_ONLY_FROM_NULL_FNS and all(map(never_null, node.arguments))
    if isinstance(node, (list, tuple, set, frozenset)):
        return all(never_null(n) for n in node)
    return isinstance(node, _VALUES)


def negation(condition):
    """The orders ``condition`` is not true for (a :class:`Complement`; of a complement, its
    condition again)."""
    return condition.node if isinstance(condition, Complement) else Complement(condition)
