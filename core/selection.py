"""What the operator has selected on the order screen.

Either explicit order ids (space on rows, across pages) or "every order matching the filter"
minus the ones unticked. Resolving to ids happens in the database, in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.models import Order
from core.query import compile_query


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

    def _query(self, tz: str):
        """The selected orders as one query (None when nothing is selected)."""
        q = Order.select(Order.id)
        if self.all_matching:
            where = compile_query(self.query, tz=tz)
            if where is not None:
                q = q.where(where)
            if self.excluded:
                q = q.where(Order.id.not_in(list(self.excluded)))
            return q
        if not self.ids:
            return None
        return q.where(Order.id.in_(list(self.ids)))

    def count(self, *, tz: str = "Asia/Shanghai") -> int:
        if not self.all_matching:
            return len(self.ids)
        return self._query(tz).count()

    def order_ids(self, *, tz: str = "Asia/Shanghai", order_by=None) -> list[int]:
        """The selected order ids, in ``order_by`` order (default pay time, then id)."""
        q = self._query(tz)
        if q is None:
            return []
        q = q.order_by(*(order_by or (Order.pay_time, Order.id)))
        return [r[0] for r in q.tuples()]
