"""Messages the app's widgets and screens exchange: small dataclasses, posted by a widget,
handled by its screen or the app with ``@on(...)``. Nothing reaches into another widget."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class FilterChanged(Message):
    """The filter bar's text changed (every keystroke; the screen debounces)."""

    query: str


@dataclass
class FilterSubmitted(Message):
    """Enter in the filter bar."""

    query: str


@dataclass
class ViewSelected(Message):
    """A view tab was chosen (key of core.views.View)."""

    key: str


@dataclass
class PageRequest(Message):
    """The order table asks for another page: next | prev | first | last."""

    direction: str


@dataclass
class SelectionChanged(Message):
    """The order screen's selection changed. ``count`` is the number selected (for an
    all-matching selection: the matching count minus exclusions, when known)."""

    count: int
    all_matching: bool


@dataclass
class OrdersChanged(Message):
    """Something changed orders (printed, shipped, released...): visible lists re-query.
    Post it to the app (``app.post_message(OrdersChanged())``) from any screen."""

    reason: str = ""


@dataclass
class FirstPageShown(Message):
    """The order screen has painted its first page of rows (start-up benchmark hook)."""

    rows: int
