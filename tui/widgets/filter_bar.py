"""The filter bar: one line of the filter language, and under it (only when there is one)
the syntax error with a caret at the bad token.

The bar debounces its own typing: a burst of keys is announced once
(:class:`~dadan.tui.messages.FilterChanged`), with the text after its last key, when no key
has come for ``DEBOUNCE_S``; no key of the burst, the first included, starts a query of its
own. Enter (:class:`~dadan.tui.messages.FilterSubmitted`) applies the text at once and drops
the pending announcement, and so does a filter set from elsewhere (:meth:`FilterBar.set_value`:
a view chosen while a typed filter waits)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from dadan.core.errors import QuerySyntaxError
from dadan.core.i18n import tr
from dadan.tui.messages import FilterChanged, FilterSubmitted

# The quiet period that ends a burst. A fast typist's keys inside a word come 50-120 ms apart
# (an IME commits a whole Chinese word as one change), so 130 ms holds a burst together, and
# it stays under the ~150 ms after which a pause is felt as lag.
DEBOUNCE_S = 0.13


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar > Horizontal { height: 1; }
    FilterBar #filter-label { width: auto; padding: 0 1 0 0; color: $text-muted; }
    FilterBar Input { height: 1; border: none; padding: 0; width: 1fr; }
    FilterBar #filter-error { display: none; height: auto; color: $error; padding: 0 0 0 0; }
    FilterBar.-error #filter-error { display: block; }
    """

    def __init__(self, value: str = "", *, placeholder: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._value = value
        self._placeholder = placeholder  # None: the order filter's example
        self._pending = ""
        self._debounce = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(tr("Filter /", "筛选 /"), id="filter-label")
            yield Input(
                self._value,
                placeholder=self._placeholder if self._placeholder is not None
                else tr("e.g. status:pending province:浙江 due<2h", "例：status:pending 省:浙江 due<2h"),
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

    def on_key(self, event: events.Key) -> None:
        """``Tab`` with a completion shown (the audit filter's ``actor:b`` → ``actor:bo``) takes
        it, as ``→`` does; without one it moves the focus on, as ever."""
        field = self.input
        if event.key == "tab" and field.has_focus and field.cursor_at_end and len(field._suggestion) > len(field.value):
            field.action_cursor_right()
            event.stop()
            event.prevent_default()

    @property
    def value(self) -> str:
        return self.input.value

    @property
    def pending(self) -> bool:
        """True while typed text waits for the end of its burst."""
        return self._debounce is not None

    def set_value(self, text: str) -> None:
        """Replace the text without announcing a change (views set the filter this way); typed
        text still waiting for its burst to end is dropped."""
        self._cancel_debounce()
        with self.input.prevent(Input.Changed):
            self.input.value = text
            self.input.cursor_position = len(text)

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._pending = event.value
        self._cancel_debounce()
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
        if not isinstance(error, QuerySyntaxError):  # not the filter's fault (no permission to view orders)
            self.add_class("-error")
            err.update(Text(error.message, style="bold"))
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
