"""The filter bar: one line of the filter language, and under it (only when there is one)
the syntax error with a caret at the bad token.

The bar debounces its own typing: the first key after a pause is announced at once
(:class:`~dadan.tui.messages.FilterChanged`); during a burst only the text after the last key
is, ``DEBOUNCE_S`` later. Enter (:class:`~dadan.tui.messages.FilterSubmitted`) cancels a
pending announcement."""

from __future__ import annotations

import time

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from dadan.core.errors import QuerySyntaxError
from dadan.core.i18n import tr
from dadan.tui.messages import FilterChanged, FilterSubmitted

DEBOUNCE_S = 0.08


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar > Horizontal { height: 1; }
    FilterBar #filter-label { width: auto; padding: 0 1 0 0; color: $text-muted; }
    FilterBar Input { height: 1; border: none; padding: 0; width: 1fr; }
    FilterBar #filter-error { display: none; height: auto; color: $error; padding: 0 0 0 0; }
    FilterBar.-error #filter-error { display: block; }
    """

    def __init__(self, value: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._value = value
        self._pending = ""
        self._last_key_at = 0.0
        self._debounce = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(tr("Filter /", "筛选 /"), id="filter-label")
            yield Input(
                self._value,
                placeholder=tr("e.g. status:pending province:浙江 due<2h", "例：status:pending 省:浙江 due<2h"),
                compact=True,
                select_on_focus=False,
                id="filter-input",
            )
        yield Static("", id="filter-error", markup=False)

    def on_mount(self) -> None:
        self.input.cursor_blink = False  # a blinking cursor repaints twice a second over SSH

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    @property
    def value(self) -> str:
        return self.input.value

    def set_value(self, text: str) -> None:
        """Replace the text without announcing a change (views set the filter this way)."""
        with self.input.prevent(Input.Changed):
            self.input.value = text
            self.input.cursor_position = len(text)

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._pending = event.value
        now = time.monotonic()
        quiet = now - self._last_key_at > DEBOUNCE_S
        self._last_key_at = now
        self._cancel_debounce()
        if quiet:  # the first key after a pause goes at once; a burst waits for the last key
            self.post_message(FilterChanged(event.value))
        else:
            self._debounce = self.set_timer(DEBOUNCE_S, self._announce)

    def _announce(self) -> None:
        self._debounce = None
        self.post_message(FilterChanged(self._pending))

    def _cancel_debounce(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._cancel_debounce()
        self.post_message(FilterSubmitted(event.value))

    def show_error(self, error: QuerySyntaxError | None) -> None:
        """Show (or clear) a syntax error: a caret under the bad token, then the message."""
        err = self.query_one("#filter-error", Static)
        if error is None:
            if self.has_class("-error"):
                self.remove_class("-error")
                err.update("")
            return
        value = self.value
        if value.strip() == error.source:  # the filter language reads the text without its outer blanks
            src, offset = value, len(value) - len(value.lstrip())
        else:
            src, offset = error.source or value, 0
        lead = cell_len(src[: offset + error.position])
        # the input's first column, counted from the bar's (the label and its padding before it),
        # less what the input has scrolled out of sight on the left
        column = self.input.content_region.x - self.content_region.x - self.input.scroll_offset.x + lead
        caret = "^" + "~" * max(0, cell_len(error.token) - 1)
        text = Text(" " * max(0, column) + caret + " ", style="bold")
        text.append(error.message)
        err.update(text)
        self.add_class("-error")
