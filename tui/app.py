"""The dadan app: opens the database, shows the order screen, turns worker errors into one
modal, applies the user's keymap and animation setting. Screens live in tui/screens/."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.worker import Worker, WorkerState

from core.context import Context
from core.errors import DadanError
from core.i18n import tr
from tui.messages import OrdersChanged


class ScreenActions(Provider):
    """Command palette: the current screen's actions (its bindings, with their keys)."""

    def _commands(self):
        app = self.app
        seen = set()
        for key, active in app.active_bindings.items():
            b = active.binding
            if not b.description or b.action in seen or b.action.startswith("command_palette"):
                continue
            seen.add(b.action)
            label = f"{b.description}  ({app.get_key_display(b)})"
            yield label, partial(app.run_action, b.action, active.node), b.tooltip or b.description

    async def discover(self) -> Hits:
        for label, run, help_text in self._commands():
            yield DiscoveryHit(label, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, run, help_text in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), run, help=help_text)


class DadanApp(App):
    TITLE = "dadan 打单"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    COMMANDS = App.COMMANDS | {ScreenActions}
    BINDINGS = [
        Binding("q", "quit", tr("Quit", "退出"), id="quit", tooltip=tr("Quit dadan", "退出打单")),
        Binding("ctrl+p", "command_palette", tr("Commands", "命令"), show=False, id="command_palette"),
        # desk screens (tui/screens/*.py): a screen's own binding of the same key wins
        Binding("f1", "desk_screen('help')", tr("Help", "帮助"), id="help", tooltip=tr("Every key binding", "全部按键")),
        Binding("f2", "desk_screen('scan')", tr("Scan", "扫描"), id="scan",
                tooltip=tr("Scan an order / tracking number; F2 again: scan to ship", "扫描订单号/运单号；再按 F2：扫描发货")),
        Binding("f3", "desk_screen('exceptions')", tr("Exceptions", "异常"), id="exceptions",
                tooltip=tr("Orders grouped by exception: release, hold, note", "按异常分组：解除、挂起、备注")),
        Binding("f4", "desk_screen('queue')", tr("Print queue", "打印队列"), id="print_queue",
                tooltip=tr("Print jobs: pause, resume, cancel, decide, reprint", "打印任务：暂停、继续、取消、确认、补打")),
        Binding("f9", "desk_screen('settings')", tr("Settings", "设置"), id="settings", show=False,
                tooltip=tr("Language, sync interval, shops, printers, templates", "语言、同步间隔、店铺、打印机、模板")),
    ]

    def __init__(self, ctx: Context, *, now: dt.datetime | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        self.fixed_now = now
        self.print_pool = None  # core.print_worker.WorkerPool, started on first print
        self._last_error: BaseException | None = None
        ui = ctx.settings.ui
        if not ui.animations:
            self.animation_level = "none"
        if ui.keymap:
            self.set_keymap(dict(ui.keymap))

    def now(self) -> dt.datetime:
        if self.fixed_now is not None:
            return self.fixed_now
        from core.timeutil import utcnow

        return utcnow()

    def on_mount(self) -> None:
        from tui.screens.orders import OrdersScreen

        self.ctx.open_db()  # quick when the schema is current; workers open their own connections
        self.push_screen(OrdersScreen(self.ctx, now=self.fixed_now))

    # ------------------------------------------------------------------ desk screens
    def action_desk_screen(self, name: str) -> None:
        from tui.screens.exceptions import ExceptionScreen
        from tui.screens.help import HelpScreen
        from tui.screens.print_queue import PrintQueueScreen
        from tui.screens.scan import ScanScreen
        from tui.screens.settings import SettingsScreen

        cls = {"help": HelpScreen, "scan": ScanScreen, "exceptions": ExceptionScreen, "queue": PrintQueueScreen,
               "settings": SettingsScreen}[name]
        if isinstance(self.screen, cls):
            return
        self.push_screen(cls(), lambda _result: self.post_message(OrdersChanged("desk")))

    def on_unmount(self) -> None:
        from tui.widgets.desk_printing import stop_print_pool

        stop_print_pool(self)

    # ------------------------------------------------------------------ errors
    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        self.show_error(event.worker.error)

    def show_error(self, error: BaseException | None) -> None:
        """The one place an error reaches the screen (screens forward worker failures here)."""
        from tui.widgets.error_modal import ErrorModal

        if error is not None and error is self._last_error:
            return  # the same failure reported twice (screen and app both saw the worker)
        self._last_error = error

        if isinstance(error, DadanError) or (hasattr(error, "message") and hasattr(error, "title")):
            title, message = str(error.title), str(error.message)
        else:
            title = tr("Unexpected error", "意外错误")
            message = f"{type(error).__name__}: {error}"
        self.push_screen(ErrorModal(title, message))

    # ------------------------------------------------------------------ cross-screen
    @on(OrdersChanged)
    def _orders_changed(self, event: OrdersChanged) -> None:
        from tui.screens.orders import OrdersScreen

        for screen in self.screen_stack:
            if isinstance(screen, OrdersScreen):
                screen.refresh_orders()
