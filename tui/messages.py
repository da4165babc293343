"""Messages the app's widgets and screens exchange: small dataclasses, posted by a widget,
handled by its screen or the app with ``@on(...)``. Nothing reaches into another widget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from dadan.core.errors import QuerySyntaxError
    from dadan.core.orders.views import View


@dataclass
class FilterChanged(Message):
    """The filter bar's text changed (the bar debounces: once per pause in the typing)."""

    query: str


@dataclass
class FilterSubmitted(Message):
    """Enter in the filter bar."""

    query: str


@dataclass
class ViewSelected(Message):
    """A view tab was chosen (key of core.orders.views.View)."""

    key: str


@dataclass
class PageRequest(Message):
    """The order table asks its list for another page: next | prev | first | last | down | up."""

    direction: str


@dataclass
class SelectionChanged(Message):
    """The order list's selection changed. ``count`` is the number selected (for an
    all-matching selection: the matching count minus exclusions, when known)."""

    count: int
    all_matching: bool


@dataclass
class OrdersChanged(Message):
    """Something changed orders (printed, shipped, released...): visible lists re-query.
    Post it to the app (``app.post_message(OrdersChanged())``) from any screen."""

    reason: str = ""


@dataclass
class PrintJobChanged(Message):
    """The print progress line saw the current job change state (queued, printing, paused, done,
    cancelled) or another job become current: once per change, never per label. Orders were
    printed, so lists showing them re-query."""

    job_id: int
    state: str


@dataclass
class FirstPageShown(Message):
    """The order list has painted its first page of rows (start-up benchmark hook)."""

    rows: int


@dataclass
class PageShown(Message):
    """The order list shows a page of ``query``'s orders: rows ``start + 1`` to ``start + rows`` of
    ``total`` (None: not counted yet)."""

    start: int
    rows: int
    total: int | None
    query: str


@dataclass
class CountShown(Message):
    """The order list's matching count of ``query`` arrived."""

    total: int
    query: str


@dataclass
class FilterChecked(Message):
    """The order list read a filter: ``error`` is its syntax error, or None when it parsed."""

    error: QuerySyntaxError | None


@dataclass
class ViewsChanged(Message):
    """The view tabs re-read the views (a view was saved or deleted)."""

    views: list[View]


@dataclass
class ViewCountsRead(Message):
    """The view tabs counted ``views`` in one pass (view key -> count; a view whose filter
    does not parse has none)."""

    views: list[View]
    counts: dict[str, int]


@dataclass
class ViewSaved(Message):
    """The view tabs saved the filter as a view (it is the active tab now)."""

    view: View


@dataclass
class OrderScanned(Message):
    """The home scanner looked a code up: ``order_id`` is its order, or None when not found."""

    code: str
    order_id: int | None
    order_sn: str = ""
