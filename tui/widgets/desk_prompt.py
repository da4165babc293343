"""A modal that asks for one line of text (a reason, a note, a view name). Enter confirms,
Escape cancels; a required answer cannot be empty."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from dadan.core.i18n import Bilingual, tr
from dadan.core.visible import visible


class DeskPrompt(ModalScreen[str | None]):
    DEFAULT_CSS = """
    DeskPrompt { align: center middle; }
    DeskPrompt > Vertical { width: 70; max-width: 100%; height: auto; border: round $accent;
                            background: $surface; padding: 0 1; }
    DeskPrompt Label { width: 100%; }  /* a long title or hint wraps, never cut */
    DeskPrompt .prompt-title { text-style: bold; }
    DeskPrompt .prompt-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", Bilingual("Cancel", "取消"), id="prompt.cancel",
                        tooltip=Bilingual("Close without doing anything", "关闭，不做任何操作"))]

    def __init__(self, title: str, *, placeholder: str = "", value: str = "", required: bool = True,
                 hint: str = "", error: str = "") -> None:
        """``value`` and ``error``: a prompt opened again with what was typed and why it was
        refused, to be mended rather than typed anew."""
        super().__init__()
        self.title_text, self.placeholder, self.value, self.required, self.hint, self.error = (
            title, placeholder, value, required, hint, error)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="prompt-title")
            if self.hint:
                yield Label(self.hint)
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label(visible(self.error), classes="prompt-error", id="prompt-error")
            yield Label(tr("Enter: confirm · Esc: cancel", "回车：确认 · Esc：取消"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.error:
            self.app.bell()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if self.required and not text:
            self.query_one("#prompt-error", Label).update(tr("This cannot be empty.", "不能为空。"))
            self.app.bell()
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
