"""The one error modal: a DadanError (or an unexpected exception) from a worker.

Textual's ``Worker.StateChanged`` does not bubble, so a screen that runs workers mixes in
:class:`WorkerErrorsToApp`, which passes a failure up to the app; the app's one
``on_worker_state_changed`` opens :meth:`ErrorModal.for_error`. A DadanError shows its title (in
the current language) and message; anything else is an "Unexpected error" with its type and
text, never a traceback.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr


class ErrorModal(ModalScreen[None]):
    DEFAULT_CSS = """
    ErrorModal { align: center middle; }
    ErrorModal > Vertical {
        width: 70; max-width: 100%; height: auto; max-height: 80%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ErrorModal #error-title { text-style: bold; color: $error; }
    ErrorModal #error-message { margin: 1 0; }
    ErrorModal Button { width: 100%; }
    """
    BINDINGS = [
        Binding("escape,enter", "dismiss_error", Bilingual("Close", "关闭"), id="error_close"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.error_title = title
        self.error_message = message

    @classmethod
    def for_error(cls, error: BaseException | None) -> "ErrorModal":
        """The modal for a worker's failure."""
        if isinstance(error, DadanError):
            return cls(error.title, error.message)
        return cls(tr("Unexpected error", "意外错误"), f"{type(error).__name__}: {error}")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.error_title, id="error-title", markup=False)
            yield Static(self.error_message, id="error-message", markup=False)
            yield Button(tr("Close (Esc)", "关闭 (Esc)"), variant="error", id="error-close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_dismiss_error(self) -> None:
        self.dismiss(None)


class WorkerErrorsToApp:
    """Mixed into a screen: its workers' failures go to the app's one error handler."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.post_message(Worker.StateChanged(event.worker, event.state))  # type: ignore[attr-defined]
