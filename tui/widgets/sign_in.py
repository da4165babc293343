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


class FirstAdminModal(ModalScreen[str | None]):
    """Open mode (no operator yet): create the administrator — name, PIN, the PIN again — and sign
    in as them (:func:`dadan.core.operators.create_first_admin` also makes the four built-in
    roles). Dismisses with the name, or None (Esc: later; anyone may do anything meanwhile)."""

    DEFAULT_CSS = """
    FirstAdminModal { align: center middle; }
    FirstAdminModal > Vertical { width: 60; max-width: 100%; height: auto; border: round $accent;
                                 background: $surface; padding: 0 1; }
    FirstAdminModal Label { width: 100%; }
    FirstAdminModal .prompt-title { text-style: bold; }
    FirstAdminModal #admin-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", Bilingual("Later", "稍后"), id="admin.cancel",
                        tooltip=Bilingual("Not now: anyone may do anything until the administrator exists",
                                          "暂不创建：在创建管理员之前，任何人都可执行任何操作"))]

    def __init__(self, *, terminal: str = "") -> None:
        super().__init__()
        self.terminal = terminal

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("Create the administrator", "创建管理员"), classes="prompt-title")
            yield Label(tr("No operators yet: anyone may do anything. The administrator adds staff and roles "
                           "(dadan operators add).", "尚无操作员：任何人都可执行任何操作。管理员可添加员工和角色"
                           "（dadan operators add）。"))
            yield Input("", placeholder=tr("name", "姓名"), id="admin-name")
            yield Input("", placeholder=tr("PIN (4-8 digits)", "PIN 码（4-8 位数字）"), password=True, id="admin-pin",
                        restrict=r"[0-9]*", max_length=8)
            yield Input("", placeholder=tr("the PIN again", "再输一次 PIN 码"), password=True, id="admin-pin2",
                        restrict=r"[0-9]*", max_length=8)
            yield Label("", id="admin-error")
            yield Label(tr("Enter: next / create · Esc: later", "回车：下一项 / 创建 · Esc：稍后"))

    def on_mount(self) -> None:
        self.query_one("#admin-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        fields = [self.query_one(f"#{i}", Input) for i in ("admin-name", "admin-pin", "admin-pin2")]
        name, pin, again = (f.value.strip() for f in fields)
        empty = next((f for f in fields if not f.value.strip()), None)
        if empty is not None and event.input is not fields[2]:
            fields[fields.index(event.input) + 1].focus()
            return
        if empty is not None:
            empty.focus()
            return
        error = self.query_one("#admin-error", Label)
        if pin != again:
            fields[1].value = fields[2].value = ""
            fields[1].focus()
            error.update(tr("The two PINs differ: type it again", "两次 PIN 码不一致：请重新输入"))
            self.app.bell()
            return
        from dadan.core import operators as ops

        try:
            ops.create_first_admin(name, pin)
            ops.sign_in(name, pin, terminal=self.terminal)
        except DadanError as exc:
            error.update(exc.message)
            self.app.bell()
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
