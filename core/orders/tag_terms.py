"""The ``tag:`` term: the orders carrying a tag, read from the (order, tag) table.

How the planner reads them depends on how many orders hold the tag, looked up first (a bounded
count, :func:`dadan.core.orders.selectivity.common_cap`): a rare tag's orders are read by id
(``id IN (...)``); a tag held by more than 1 in
:data:`~dadan.core.orders.selectivity.COMMON_RATIO` orders is written ``+id IN (...)``, so that a
page walks its sort index -- the ids probed from the index itself -- and stops after a page,
instead of reading every tagged order's row to sort them. A filter that is one tag term alone is
counted from the (order, tag) table (:meth:`TagMatch.count`), never from the orders' rows: an
order holds a tag at most once (its unique key) and its tags go with it (foreign key cascade).
"""

from __future__ import annotations

from peewee import SQL, Expression

from dadan.core.models import Order, OrderTag, Tag
from dadan.core.orders.selectivity import common_cap, walked_id


def _tagged(name: str):
    return OrderTag.select(OrderTag.order).join(Tag).where(Tag.name == name)


class TagMatch(Expression):
    """``id IN (the orders of the tag)``; also counts them from the (order, tag) table."""

    NEVER_NULL = True  # (selectivity.never_null: the (order, tag) rows' order ids are NOT NULL)

    def __init__(self, name: str, *, dense: bool):
        self.name = name
        super().__init__(walked_id(dense), "IN", _tagged(name))

    def count(self) -> int:
        """How many orders carry the tag (the orders' rows unread)."""
        return _tagged(self.name).count()


def matches(name: str) -> TagMatch:
    """Orders carrying the tag called ``name``."""
    cap = common_cap()
    held = Order.select(SQL("count(*)")).from_(_tagged(name).limit(cap).alias("m")).scalar()
    return TagMatch(name, dense=held >= cap)
