"""The dadan app: opens the database, shows the order screen, turns worker errors into one
modal, applies the user's keymap and animation setting. Screens live in tui/screens/."""

from __future__ import annotations

import datetime as dt
import time
from functools import partial
from pathlib import Path

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.worker import Worker, WorkerState

from dadan.core.context import Context
from dadan.core.i18n import Bilingual, tr
from dadan.tui import idle_gc
from dadan.tui.keymap import apply_keymap
from dadan.tui.messages import OrdersChanged
from dadan.tui.print_pool import PrintPool


class ScreenActions(Provider):
    """Command palette: the current screen's actions (its bindings, with their keys)."""

    def _commands(self):
        app = self.app
        seen = set()
        # the screen the palette was opened over (app.active_bindings would be the palette's)
        for active in self.screen.active_bindings.values():
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


# Textual's own palette commands in Chinese (title, help), by their English title and help
_SYSTEM_ZH = {
    "Theme": "主题", "Quit": "退出", "Keys": "按键", "Minimize": "还原", "Maximize": "最大化", "Screenshot": "截图",
    "Change the current theme": "更换配色主题",
    "Quit the application as soon as possible": "立即退出 dadan",
    "Hide the keys and widget help panel": "隐藏按键与帮助面板",
    "Show help for the focused widget and a summary of available keys": "显示当前控件的帮助和可用按键",
    "Minimize the widget and restore to normal size": "把控件还原为正常大小",
    "Maximize the focused widget": "最大化当前控件",
    "Save an SVG 'screenshot' of the current screen": "把当前屏幕保存为 SVG 截图",
}


class DadanApp(App):
    TITLE = "dadan 打单"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    COMMANDS = App.COMMANDS | {ScreenActions}
    BINDINGS = [
        Binding("q", "quit", Bilingual("Quit", "退出"), id="quit", tooltip=Bilingual("Quit dadan", "退出打单")),
        Binding("ctrl+p", "command_palette", Bilingual("Commands", "命令"), show=False, id="command_palette"),
        # desk screens (tui/screens/*.py): a screen's own binding of the same key wins
        Binding("f1", "desk_screen('help')", Bilingual("Help", "帮助"), id="help", tooltip=Bilingual("Every key binding", "全部按键")),
        Binding("f2", "desk_screen('scan')", Bilingual("Scan", "扫描"), id="scan",
                tooltip=Bilingual("Scan an order / tracking number; F2 again: scan to ship", "扫描订单号/运单号；再按 F2：扫描发货")),
        Binding("f3", "desk_screen('exceptions')", Bilingual("Exceptions", "异常"), id="exceptions",
                tooltip=Bilingual("Orders grouped by exception: release, hold, note", "按异常分组：解除、挂起、备注")),
        Binding("f4", "desk_screen('queue')", Bilingual("Print queue", "打印队列"), id="print_queue",
                tooltip=Bilingual("Print jobs: pause, resume, cancel, decide, reprint", "打印任务：暂停、继续、取消、确认、补打")),
        Binding("f5", "sync_now", Bilingual("Sync now", "立即同步"), id="sync_now", show=False,
                tooltip=Bilingual("Sync every shop with the platform now", "立即与平台同步所有店铺")),
        Binding("f6", "desk_screen('goods')", Bilingual("Goods", "商品"), id="goods", show=False,
                tooltip=Bilingual("Goods catalogue: stock, low stock, short, missing SKUs; edit", "商品档案：库存、低库存、缺货、未建档；编辑")),
        Binding("f7", "desk_screen('receive')", Bilingual("Receive", "入库"), id="receive", show=False,
                tooltip=Bilingual("Receive or count stock by scanning", "扫码入库或盘点")),
        Binding("f8", "desk_screen('pack')", Bilingual("Pack check", "验货"), id="pack", show=False,
                tooltip=Bilingual("Scan a parcel's waybill, then every item: missing, wrong, extra; packed",
                                  "扫面单后逐件扫商品：缺件、错件、多件；验货完成")),
        Binding("f10", "desk_screen('handover')", Bilingual("Handover", "交接"), id="handover", show=False,
                tooltip=Bilingual("Hand parcels over to the courier by scanning; missing parcels", "扫描交接给快递；缺失包裹")),
        Binding("f11", "desk_screen('reports')", Bilingual("Reports", "报表"), id="reports", show=False,
                tooltip=Bilingual("Orders, shipped, exceptions, overdue, couriers, shops, operators per day/week/month",
                                  "按日/周/月：订单、发货、异常、超时、快递、店铺、操作员")),
        Binding("ctrl+l", "desk_screen('audit')", Bilingual("Audit log", "审计日志"), id="audit", show=False,
                tooltip=Bilingual("Who did what, when, why: filter by operator, action, order, time; export",
                                  "谁在何时做了什么、为什么：按操作员、操作、订单、时间筛选；导出")),
        Binding("ctrl+o", "import_file", Bilingual("Import file", "导入表格"), id="import_file", show=False,
                tooltip=Bilingual("Import orders or tracking numbers from .xlsx/.csv", "从 .xlsx/.csv 导入订单或运单号")),
        Binding("f9", "desk_screen('settings')", Bilingual("Settings", "设置"), id="settings", show=False,
                tooltip=Bilingual("Language, sync interval, shops, printers, templates", "语言、同步间隔、店铺、打印机、模板")),
        Binding("f12", "switch_operator", Bilingual("Operator", "操作员"), id="switch_operator", show=False,
                tooltip=Bilingual("Switch operator: name, PIN, Enter", "切换操作员：姓名、PIN 码、回车")),
    ]
    IDLE_CHECK_SECONDS = 15.0

    print_pool: PrintPool  # the printer workers (started on first print, stopped on unmount)

    def __init__(self, ctx: Context, *, now: dt.datetime | None = None, background: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        self.fixed_now = now
        self.background = background  # run the sync/outbox scheduler (the real app; not in tests)
        self.scheduler = None
        self.print_pool = PrintPool(self)
        self.operators_on = False  # the database has operators: permissions enforced, someone signs in
        self.terminal = ""  # this terminal's key for its last operator (core.operators.terminal_id)
        self._active_at = time.monotonic()  # the last key or click (idle sign-out)
        self.idle_gc = idle_gc.IdleCollector(lambda: self._active_at)
        ui = ctx.settings.ui
        if not ui.animations:
            self.animation_level = "none"
        if ui.keymap:
            apply_keymap(self, ui.keymap)

    def get_system_commands(self, screen):
        """Textual's own palette commands, in the desk's language."""
        for c in super().get_system_commands(screen):
            yield SystemCommand(tr(c.title, _SYSTEM_ZH.get(c.title, c.title)), tr(c.help, _SYSTEM_ZH.get(c.help, c.help)),
                                c.callback, c.discover)

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=tr("Search for commands…", "搜索命令…")))

    async def action_quit(self) -> None:
        """Quit; while this desk's printers are printing a job, ask first (it stops after the
        label being sent and waits until resumed)."""
        from dadan.tui.widgets.desk_confirm import DeskConfirm

        if isinstance(self.screen, DeskConfirm):  # (answered with y or n)
            return
        job = self.print_pool.printing_job()
        if job is None:
            self.exit()
            return
        self.push_screen(DeskConfirm(
            tr("Job #{j} is printing: quit anyway?", "任务 #{j} 正在打印：仍要退出吗？", j=job),
            hint=tr("It stops after the label being sent and waits; the next desk says so (F4, g goes on).",
                    "将在当前标签发送后停止并等待；下次打开时会提示（F4，按 g 继续）。")),
            lambda yes: self.exit() if yes else None)

    def now(self) -> dt.datetime:
        if self.fixed_now is not None:
            return self.fixed_now
        from dadan.core.timeutil import utcnow

        return utcnow()

    def on_mount(self) -> None:
        from dadan.tui.relabel import relabel_bindings
        from dadan.tui.screens.orders import OrdersScreen

        relabel_bindings(self)  # key labels in the language set up after the modules were imported
        self.set_interval(idle_gc.CHECK_S, self.idle_gc.tick)  # full garbage collections early, when quiet
        self.ctx.open_db()  # quick when the schema is current; workers open their own connections
        self._start_operator()  # before any screen reads ctx.operator
        self.push_screen(OrdersScreen(self.ctx, now=self.fixed_now))
        self.run_worker(self.print_pool.recover_at_start, thread=True, exit_on_error=False, group="printing",
                        description="recover the print queue")
        if self.background:
            self._start_scheduler()

    # ------------------------------------------------------------------ operators
    def _start_operator(self) -> None:
        """Open mode (no operator in the database): the configured or OS user, anyone may do
        anything. Else signed in as this terminal's last operator, or asked to sign in."""
        from dadan.core import operators as ops

        self.operators_on = ops.has_operators()
        if not self.operators_on:
            self.ctx.sign_in_as(self.ctx.settings.operator_name())
            if self._first_run():  # a new warehouse's first desk: create the administrator (Esc: later)
                self.call_after_refresh(self.action_switch_operator)
            return
        self.terminal = ops.terminal_id()
        last = ops.last_operator(self.terminal)
        self.ctx.sign_in_as(last.name if last is not None else "")
        self.set_interval(self.IDLE_CHECK_SECONDS, self.idle_sign_out)
        if last is None:
            self.call_after_refresh(self.action_switch_operator)
        else:
            self._operator_shown()

    @property
    def operator_text(self) -> str:
        """The status line's operator part ("" in open mode)."""
        if not self.operators_on:
            return ""
        who = self.ctx.signed_in or tr("nobody signed in (F12)", "未登录（F12）")
        return tr("op {n}", "操作员 {n}", n=who)

    def _operator_shown(self) -> None:
        from dadan.tui.widgets.status_line import StatusLine

        for screen in self.screen_stack:
            for line in screen.query(StatusLine):
                if line.info is not None:
                    line.show(line.info)

    def action_switch_operator(self, why: str = "") -> None:
        from dadan.core import operators as ops
        from dadan.tui.widgets.sign_in import SignInModal

        if isinstance(self.screen, SignInModal):
            return
        if not ops.has_operators():
            self._create_first_admin()
            return
        if not self.operators_on:  # the administrator was created while this desk ran
            self.operators_on, self.terminal = True, ops.terminal_id()
            self.set_interval(self.IDLE_CHECK_SECONDS, self.idle_sign_out)

        def signed_in(name: str | None) -> None:
            self._active_at = time.monotonic()
            if name:
                self.ctx.sign_in_as(name)
                self.notify(tr("Signed in: {n}", "已登录：{n}", n=name), timeout=2)
                self.post_message(OrdersChanged("operator"))  # read again with this operator's permissions
            self._operator_shown()

        self.push_screen(SignInModal(terminal=self.terminal, why=why), signed_in)

    def _first_run(self) -> bool:
        """A new warehouse's first desk: no operator, no order, never put off, not a demo."""
        from dadan.core import operators as ops
        from dadan.core.models import Order

        return not ops.first_admin_put_off(self.ctx.paths.data_dir) and not Order.select().exists()

    def _create_first_admin(self) -> None:
        """Open mode: F12 (and a new warehouse's first start) creates the administrator."""
        from dadan.core import operators as ops
        from dadan.tui.widgets.sign_in import FirstAdminModal

        if isinstance(self.screen, FirstAdminModal):
            return
        terminal = ops.terminal_id()

        def done(name: str | None) -> None:
            if not name:
                ops.put_off_first_admin(self.ctx.paths.data_dir)
                self.notify(tr("No operators: anyone may do anything. F12 (or dadan operators init NAME) creates "
                               "the administrator.", "尚无操作员：任何人都可执行任何操作。按 F12（或 dadan operators "
                               "init 姓名）创建管理员。"), timeout=8)
                return
            self.operators_on, self.terminal = True, terminal
            self.set_interval(self.IDLE_CHECK_SECONDS, self.idle_sign_out)
            self._active_at = time.monotonic()
            self.ctx.sign_in_as(name)
            self.notify(tr("Administrator {n} created and signed in", "已创建管理员 {n} 并登录", n=name), timeout=4)
            self._operator_shown()

        self.push_screen(FirstAdminModal(terminal=terminal), done)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.Paste)):
            self._active_at = time.monotonic()
        await super().on_event(event)

    def idle_sign_out(self, now: float | None = None) -> bool:
        """Sign the operator out after ``[operators] idle_sign_out_minutes`` without a key or a
        click (0: never): audited, the terminal forgets them, the sign-in modal opens."""
        from dadan.core import operators as ops

        minutes = self.ctx.settings.operators.idle_sign_out_minutes
        now = time.monotonic() if now is None else now
        if not (self.operators_on and minutes and self.ctx.signed_in) or now - self._active_at < minutes * 60:
            return False
        ops.sign_out(self.ctx.signed_in, terminal=self.terminal, reason="idle")
        self.ctx.sign_in_as("")
        self._operator_shown()
        self.post_message(OrdersChanged("operator"))  # the list read again: nobody may view it now
        self.action_switch_operator(tr("Signed out after {m} min without a key.", "{m} 分钟无操作，已退出登录。",
                                       m=minutes))
        return True

    # ------------------------------------------------------------------ background sync
    @work(thread=True, exclusive=True, exit_on_error=False, group="scheduler", description="start sync")
    def _start_scheduler(self) -> None:
        from dadan.core.platform import scheduler

        def on_event(kind: str, payload) -> None:  # called in the scheduler's thread
            if kind in ("sync", "outbox"):
                self.call_from_thread(self.post_message, OrdersChanged(kind))
            elif kind == "error":
                self.call_from_thread(self.notify, str(payload), severity="error", timeout=8)

        self.scheduler = scheduler.start(self.ctx, on_event=on_event)

    def action_sync_now(self) -> None:
        if self.scheduler is None:
            self.notify(tr("Background sync is off (no shop configured, or started with --no-sync).",
                           "后台同步未开启（未配置店铺，或以 --no-sync 启动）。"))
            return
        n = self.scheduler.sync_now()
        if n:
            self.notify(tr("Sync started for {n} shop(s).", "已开始同步 {n} 个店铺。", n=n))
            return
        from dadan.core.db import connection
        from dadan.core.platform.shops import why_nothing_syncs

        with connection():
            reason = why_nothing_syncs(self.ctx.paths)
        self.notify(reason or tr("No shop could be synced now.", "当前没有可同步的店铺。"),
                    title=tr("Nothing to sync", "没有可同步的店铺"), severity="warning", timeout=10)

    # ------------------------------------------------------------------ import
    def action_import_file(self) -> None:
        from dadan.tui.widgets.desk_prompt import DeskPrompt

        def chosen(path: str | None) -> None:
            if not path:
                return
            p = Path(path).expanduser()
            if not p.is_file():
                self.notify(tr("No such file: {p}", "文件不存在：{p}", p=str(p)), severity="error")
                return
            self._choose_shop(lambda shop_id: self._open_import(p, shop_id))

        self.push_screen(DeskPrompt(tr("Import a file (.xlsx / .csv / .txt)", "导入表格（.xlsx / .csv / .txt）"),
                                    placeholder="~/Downloads/orders.xlsx"), chosen)

    # ------------------------------------------------------------------ desk screens
    def action_desk_screen(self, name: str) -> None:
        from dadan.tui.screens.audit import AuditScreen
        from dadan.tui.screens.exceptions import ExceptionScreen
        from dadan.tui.screens.goods import GoodsScreen
        from dadan.tui.screens.handover import HandoverScreen
        from dadan.tui.screens.help import HelpScreen
        from dadan.tui.screens.pack import PackScreen
        from dadan.tui.screens.print_queue import PrintQueueScreen
        from dadan.tui.screens.receive import ReceiveScreen
        from dadan.tui.screens.reports import ReportsScreen
        from dadan.tui.screens.scan import ScanScreen
        from dadan.tui.screens.settings import SettingsScreen

        cls = {"help": HelpScreen, "scan": ScanScreen, "exceptions": ExceptionScreen, "queue": PrintQueueScreen,
               "settings": SettingsScreen, "goods": GoodsScreen, "receive": ReceiveScreen,
               "pack": PackScreen,
               "handover": HandoverScreen, "reports": ReportsScreen,
               "audit": AuditScreen}[name]
        if isinstance(self.screen, cls):
            return
        self.push_screen(cls(), lambda _result: self.post_message(OrdersChanged("desk")))

    def _open_import(self, path: Path, shop_id: int) -> None:
        from dadan.tui.screens.import_screen import ImportScreen

        self.push_screen(ImportScreen(path, shop_id=shop_id, actor=self.ctx.operator, tz=self.ctx.settings.timezone,
                                      mask_buyer=self.ctx.settings.ui.mask_buyer),
                         lambda _r: self.post_message(OrdersChanged("import")))

    def _choose_shop(self, then) -> None:
        """The shop an import goes to: asked, never invented (see :func:`choose_import_shop`)."""
        from dadan.tui.screens.import_screen import choose_import_shop

        choose_import_shop(self, then)

    def on_unmount(self) -> None:
        if self.scheduler is not None:
            from dadan.core.platform import scheduler

            scheduler.stop()
        self.print_pool.stop()

    # ------------------------------------------------------------------ errors
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one worker-error handler: the app's workers, and every screen's (passed up by
        :class:`~dadan.tui.widgets.error_modal.WorkerErrorsToApp`)."""
        if event.state == WorkerState.ERROR:
            self.show_error(event.worker.error)

    def show_error(self, error: BaseException | None) -> None:
        """The one place a failure reaches the screen: the error modal."""
        from dadan.tui.widgets.error_modal import ErrorModal

        self.push_screen(ErrorModal.for_error(error))

    # ------------------------------------------------------------------ cross-screen
    @on(OrdersChanged)
    def _orders_changed(self, event: OrdersChanged) -> None:
        from dadan.tui.screens.detail import DetailScreen
        from dadan.tui.screens.orders import OrdersScreen

        for screen in self.screen_stack:
            if isinstance(screen, OrdersScreen):
                screen.refresh_orders()
        if isinstance(self.screen, DetailScreen):  # (one order's detail, open now: read again)
            self.screen.load()
