"""What the operator has selected on the order screen.

Either explicit order ids (space on rows, across pages) or "every order matching the filter"
minus the ones unticked. Resolving to ids happens in the database, in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dadan.core.models import Order
from dadan.core.orders import dialect
from dadan.core.orders.query import compile_query


@dataclass
class Selection:
    query: str = ""  # the filter the selection was made under
    ids: set[int] = field(default_factory=set)  # explicitly selected
    all_matching: bool = False
    excluded: set[int] = field(default_factory=set)  # unticked while all_matching

    def is_selected(self, order_id: int) -> bool:
        if self.all_matching:
            return order_id not in self.excluded
        return order_id in self.ids

    def toggle(self, order_id: int) -> None:
        if self.all_matching:
            self.excluded.symmetric_difference_update({order_id})
        else:
            self.ids.symmetric_difference_update({order_id})

    def select_all_matching(self, query: str) -> None:
        self.query, self.all_matching = query, True
        self.ids.clear()
        self.excluded.clear()

    def clear(self) -> None:
        self.all_matching = False
        self.ids.clear()
        self.excluded.clear()

    @property
    def empty(self) -> bool:
        return not self.all_matching and not self.ids

    def copy(self) -> Selection:
        """A snapshot that later ticks on the screen do not change (for work done in a thread)."""
        return Selection(self.query, set(self.ids), self.all_matching, set(self.excluded))

    def where(self, *, tz: str = "Asia/Shanghai", now=None):
        """The selected orders as a condition on Order, for code that walks the orders itself
        (exports): None when every order is selected (all matching an empty filter), a condition
        no order meets when nothing is selected. ``now`` is the clock of relative filter terms
        (``due<2h``), as on the order screen."""
        if self.all_matching:
            where = compile_query(self.query, now=now, tz=tz)
            if self.excluded:
                kept = Order.id.not_in(list(self.excluded))
                where = kept if where is None else (where & kept)
            return where
        return Order.id.in_(list(self.ids))

    def _query(self, tz: str, now=None):
        """The selected orders as one query (None when nothing is selected)."""
        if self.empty:
            return None
        q = Order.select(Order.id)
        where = self.where(tz=tz, now=now)
        return q if where is None else q.where(where)

    def count(self, *, tz: str = "Asia/Shanghai", now=None) -> int:
        """How many orders are selected: every matching one counted as the order list counts
        its filter (:func:`dadan.core.orders.listing.count`, planned for a million orders)."""
        from dadan.core.orders.listing import count

        if not self.all_matching:
            return len(self.ids)
        return count(self.where(tz=tz, now=now))

    def order_ids(self, *, tz: str = "Asia/Shanghai", now=None, order_by=None, limit: int | None = None) -> list[int]:
        """The selected order ids, in ``order_by`` order (default pay time, then id), the first
        ``limit`` of them when given; ``now`` as in :meth:`where`."""
        q = self._query(tz, now)
        if q is None:
            return []
        q = q.order_by(*(order_by or (dialect.nulls_first(Order.pay_time), Order.id)))
        return [r[0] for r in (q if limit is None else q.limit(limit)).tuples()]
