"""Batch print confirmation: one key opened it, one key starts the job.

Shows how many orders were asked for, how many will print, how many are already printed,
blocked or already waiting in the queue, the template and the printer (with its status in
words). Enter starts; ``t`` / ``o`` switch template / printer; ``r`` reprints the
already-printed ones (asks for a reason); Esc cancels. Dismisses with the new job id or None.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from dadan.core.i18n import Bilingual, tr
from dadan.tui.widgets.desk_base import DeskMixin
from dadan.tui.widgets.desk_prompt import DeskPrompt


class PrintDialog(DeskMixin, ModalScreen[int | None]):
    DEFAULT_CSS = """
    PrintDialog { align: center middle; }
    PrintDialog > Vertical { width: 76; max-width: 100%; height: auto; border: round $accent;
                             background: $surface; padding: 0 1; }
    PrintDialog .pd-title { text-style: bold; }
    PrintDialog #pd-body { height: auto; }
    PrintDialog .pd-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "start", Bilingual("Start", "开始打印"), id="print.start",
                tooltip=Bilingual("Queue the labels and start printing", "加入打印队列并开始打印")),
        Binding("t", "next_template", Bilingual("Template", "模板"), id="print.template",
                tooltip=Bilingual("Switch to the next label template", "切换到下一个标签模板")),
        Binding("o", "next_printer", Bilingual("Printer", "打印机"), id="print.printer",
                tooltip=Bilingual("Switch to the next printer", "切换到下一台打印机")),
        Binding("r", "reprint", Bilingual("Reprint printed", "补打已打印"), id="print.reprint",
                tooltip=Bilingual("Reprint the already-printed orders (asks for a reason)", "补打已打印的订单（需填写原因）")),
        Binding("escape", "cancel", Bilingual("Cancel", "取消"), id="print.cancel",
                tooltip=Bilingual("Close without printing", "关闭，不打印")),
    ]

    def __init__(self, order_ids: list[int] | None = None, *, selection=None, title: str = "") -> None:
        super().__init__()
        self.order_ids = list(order_ids or [])
        self.selection = selection
        self.title_text = title
        self.plan = None
        self.busy = False
        self.printer = ""
        self.template = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text or tr("Print labels", "打印面单"), classes="pd-title")
            yield Static(tr("Counting…", "正在统计…"), id="pd-body")
            yield Label(tr("Enter start · t template · o printer · r reprint printed · Esc cancel",
                           "回车 开始 · t 模板 · o 打印机 · r 补打已打印 · Esc 取消"), classes="pd-keys")

    def on_mount(self) -> None:
        s = self.ctx.settings
        p = s.printer()
        self.printer = p.name
        self.template = p.template
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="print-dialog")
    def load(self) -> None:
        from dadan.core.db import connection
        from dadan.core.printing.plan import plan_print

        with connection():
            ids = self.order_ids
            if not ids and self.selection is not None:
                ids = self.selection.order_ids(tz=self.tz, now=self.now())
            plan = plan_print(ids) if ids else None
        self.order_ids = ids
        self.app.call_from_thread(self._show, plan)

    def _show(self, plan) -> None:
        self.plan = plan
        self._render_body()

    def _render_body(self) -> None:
        plan = self.plan
        lines = []
        if plan is None:
            lines.append(tr("Nothing selected.", "没有选中的订单。"))
        else:
            total = len(self.order_ids)
            lines.append(tr("Selected: {n}", "选中：{n} 单", n=total))
            lines.append(tr("Will print: {n}", "将打印：{n} 张", n=len(plan.ready)))
            if plan.printed:
                lines.append(tr("Already printed (skipped, r to reprint): {n}", "已打印（跳过，按 r 补打）：{n}",
                                n=len(plan.printed)))
            if plan.blocked:
                lines.append(tr("Blocked by an exception (skipped): {n}", "有异常被拦截（跳过）：{n}", n=len(plan.blocked)))
            if plan.queued:
                lines.append(tr("Already waiting in the queue (skipped): {n}", "已在打印队列中（跳过）：{n}",
                                n=len(plan.queued)))
        lines.append(tr("Template: {t}", "模板：{t}", t=self.template))
        lines.append(tr("Printer: {p} ({s})", "打印机：{p}（{s}）", p=self.printer,
                        s=self.app.print_pool.status_text(self.printer)))
        self.query_one("#pd-body", Static).update("\n".join(lines))

    def _cycle(self, values: list[str], current: str) -> str:
        if not values:
            return current
        i = values.index(current) if current in values else -1
        return values[(i + 1) % len(values)]

    def action_next_template(self) -> None:
        from dadan.printers.template_choice import switchable_templates

        self.template = self._cycle(switchable_templates(self.template), self.template)
        self._render_body()

    def action_next_printer(self) -> None:
        names = [p.name for p in self.ctx.settings.printers] or [self.ctx.settings.printer().name]
        self.printer = self._cycle(names, self.printer)
        self.template = next((p.template for p in self.ctx.settings.printers if p.name == self.printer), self.template)
        self._render_body()

    def action_start(self) -> None:
        if self.busy or self.plan is None:
            return
        if not self.plan.ready:
            self.app.bell()
            self.notify(tr("Nothing to print here.", "没有可打印的订单。"), severity="warning")
            return
        self.busy = True
        self.create([o.id for o in self.plan.ready], None)

    def action_reprint(self) -> None:
        if self.busy or self.plan is None or not self.plan.printed:
            self.app.bell()
            return

        def done(reason: str | None) -> None:
            if reason:
                self.busy = True
                self.create([o.id for o in self.plan.printed], reason)

        self.app.push_screen(DeskPrompt(tr("Reprint {n} label(s): why?", "补打 {n} 张：原因？", n=len(self.plan.printed)),
                                        placeholder=tr("e.g. label jammed", "例如：卡纸"),
                                        hint=tr("A reprint is recorded with your name and reason.",
                                                "补打会记录操作人和原因。")), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="print-dialog")
    def create(self, ids: list[int], reason: str | None) -> None:
        from dadan.core.db import connection
        from dadan.core.printing import queue as printing

        with connection():
            if reason:
                job = printing.create_reprint_job(ids, reason=reason, printer=self.printer,
                                                  template=self.template, actor=self.actor)
            else:
                job = printing.create_job(ids, printer=self.printer, template=self.template,
                                          actor=self.actor, skip_excluded=True)
        self.app.call_from_thread(self._started, job.id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "print-dialog":
            self.busy = False  # the app's modal says why; the dialog stays open for another try

    def _started(self, job_id: int) -> None:
        self.app.print_pool.wake(self.printer)
        self.dismiss(job_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
