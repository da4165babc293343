"""The sign-in modal (F12, the desk's start, idle sign-out): name, Enter, PIN, Enter — checked by
:func:`dadan.core.operators.sign_in` (wrong PINs counted, audited, locked out after
``[operators] pin_attempts``). Dismisses with the operator's name, or None (Esc)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr


class SignInModal(ModalScreen[str | None]):
    DEFAULT_CSS = """
    SignInModal { align: center middle; }
    SignInModal > Vertical { width: 50; max-width: 100%; height: auto; border: round $accent;
                             background: $surface; padding: 0 1; }
    SignInModal Label { width: 100%; }
    SignInModal .prompt-title { text-style: bold; }
    SignInModal #signin-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", Bilingual("Cancel", "取消"), id="signin.cancel",
                        tooltip=Bilingual("Close without signing in", "关闭，不登录"))]

    def __init__(self, *, terminal: str = "", name: str = "", why: str = "") -> None:
        super().__init__()
        self.terminal, self.start_name, self.why = terminal, name, why

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("Sign in (operator)", "登录（操作员）"), classes="prompt-title")
            if self.why:
                yield Label(self.why)
            yield Input(self.start_name, placeholder=tr("name", "姓名"), id="signin-name")
            yield Input("", placeholder="PIN", password=True, id="signin-pin", restrict=r"[0-9]*", max_length=8)
            yield Label("", id="signin-error")
            yield Label(tr("Enter: next / sign in · Esc: cancel", "回车：下一项 / 登录 · Esc：取消"))

    def on_mount(self) -> None:
        self.query_one("#signin-pin" if self.start_name else "#signin-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = self.query_one("#signin-name", Input).value.strip()
        pin_input = self.query_one("#signin-pin", Input)
        if event.input.id == "signin-name" or not name:
            (pin_input if name else self.query_one("#signin-name", Input)).focus()
            return
        from dadan.core import operators as ops

        settings = self.app.ctx.settings.operators  # type: ignore[attr-defined]
        try:
            op = ops.sign_in(name, pin_input.value, terminal=self.terminal, attempts=settings.pin_attempts,
                             lockout_seconds=settings.lockout_seconds)
        except DadanError as exc:
            pin_input.value = ""
            pin_input.focus()
            self.query_one("#signin-error", Label).update(exc.message)
            self.app.bell()
            return
        self.dismiss(op.name)

    def action_cancel(self) -> None:
        self.dismiss(None)
