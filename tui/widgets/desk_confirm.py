"""A modal that asks yes or no before an action that cannot be taken back (one-key ship...):
Enter or ``y`` confirms, Escape or ``n`` cancels. Dismisses with True or False."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from dadan.core.i18n import Bilingual, tr


class DeskConfirm(ModalScreen[bool]):
    DEFAULT_CSS = """
    DeskConfirm { align: center middle; }
    DeskConfirm > Vertical { width: 70; max-width: 100%; height: auto; border: round $accent;
                             background: $surface; padding: 0 1; }
    DeskConfirm Label { width: 100%; }  /* a long title or hint wraps, never cut */
    DeskConfirm .confirm-title { text-style: bold; }
    DeskConfirm .confirm-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter,y", "answer(True)", Bilingual("Yes", "确定"), id="confirm.yes",
                tooltip=Bilingual("Go ahead", "确定执行")),
        Binding("escape,n", "answer(False)", Bilingual("No", "取消"), id="confirm.no",
                tooltip=Bilingual("Close without doing anything", "关闭，不做任何操作")),
    ]

    def __init__(self, title: str, *, hint: str = "") -> None:
        super().__init__()
        self.title_text, self.hint = title, hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="confirm-title", markup=False)
            if self.hint:
                yield Label(self.hint, markup=False)
            yield Label(tr("Enter/y yes · Esc/n no", "回车/y 确定 · Esc/n 取消"), classes="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
