"""Print queue: jobs and their labels with state and progress, printer status in words.
Pause, resume, cancel, retry failed labels, decide "uncertain" labels (printed / not printed),
reprint a label with a reason. Refreshes once a second, redrawing only what changed."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from dadan.core.i18n import Bilingual, tr
from dadan.tui.cells import crop, fit_columns
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.desk_printing import item_state_label, job_state_label
from dadan.tui.widgets.desk_prompt import DeskPrompt

WHY_CELLS = 30  # a job's or a label's reason: a label, cropped with "…" (whole in the order detail)


class PrintQueueScreen(DeskScreen):
    DEFAULT_CSS = """
    PrintQueueScreen #pq-jobs { height: 2fr; }
    PrintQueueScreen #pq-items { height: 3fr; }
    PrintQueueScreen #pq-printers { height: auto; padding: 0 1; background: $boost; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="queue.back", tooltip=Bilingual("Back", "返回")),
        Binding("tab", "switch", Bilingual("Jobs/labels", "任务/标签"), id="queue.switch", show=False,
                tooltip=Bilingual("Move between jobs and labels", "在任务和标签之间切换")),
        Binding("space", "pause", Bilingual("Pause", "暂停"), id="queue.pause", tooltip=Bilingual("Pause the job", "暂停任务")),
        Binding("g", "resume", Bilingual("Resume/retry", "继续/重试"), id="queue.resume",
                tooltip=Bilingual("Resume the job; failed labels are sent again", "继续任务；失败的标签重新发送")),
        Binding("c", "cancel_job", Bilingual("Cancel", "取消"), id="queue.cancel",
                tooltip=Bilingual("Cancel what has not been sent", "取消尚未发送的标签")),
        Binding("v", "resolve(True)", Bilingual("It printed", "已打出"), id="queue.resolve_printed",
                tooltip=Bilingual("Uncertain label: it did print", "待确认标签：确实已打出")),
        Binding("x", "resolve(False)", Bilingual("Not printed", "未打出"), id="queue.resolve_not_printed",
                tooltip=Bilingual("Uncertain label: it did not print (send again on resume)", "待确认标签：没有打出（继续时重发）")),
        Binding("r", "reprint", Bilingual("Reprint", "补打"), id="queue.reprint",
                tooltip=Bilingual("Reprint this label with a reason (audited)", "填写原因补打此标签（记录审计）")),
    ]

    def __init__(self, job_id: int | None = None) -> None:
        super().__init__()
        self.job_id = job_id
        self.jobs: list = []
        self.items: list = []
        self._sig = None

    def compose(self) -> ComposeResult:
        yield Label(tr("Print queue", "打印队列"), classes="desk-title")
        yield DataTable(id="pq-jobs", cursor_type="row")
        yield DataTable(id="pq-items", cursor_type="row")
        yield Static("", id="pq-printers")
        yield DeskFooter()

    def on_mount(self) -> None:
        jobs = self.query_one("#pq-jobs", DataTable)
        # numbers and names size their columns (never cut: "1484/1484"); the reason is a label,
        # cropped to what is left
        jobs.add_column(tr("Job", "任务"), key="id")
        jobs.add_column(tr("State", "状态"), key="state")
        jobs.add_column(tr("Done", "进度"), key="progress")
        jobs.add_column(tr("Printer", "打印机"), key="printer")
        jobs.add_column(tr("Why", "说明"), key="why")
        items = self.query_one("#pq-items", DataTable)
        items.add_column("#", key="seq")
        items.add_column(tr("Order", "订单号"), key="sn")
        items.add_column(tr("State", "状态"), key="state")
        items.add_column(tr("Why", "说明"), key="why")
        jobs.focus()
        self.refresh_data()
        self.set_interval(1.0, self.refresh_data)

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue-refresh")
    def refresh_data(self) -> None:
        from dadan.core.db import connection
        from dadan.core.printing import queue as printing

        with connection():
            jobs = printing.list_jobs(limit=30)
            job_id = self.job_id if any(j.id == self.job_id for j in jobs) else (jobs[0].id if jobs else None)
            items = printing.job_items(job_id) if job_id else []
        self.app.call_from_thread(self._show, jobs, job_id, items)

    def _show(self, jobs: list, job_id: int | None, items: list) -> None:
        printers = sorted({j.printer for j in jobs} | {p.name for p in self.ctx.settings.printers})
        status = "  ".join(f"{p}: {self.app.print_pool.status_text(p)}" for p in printers) or "—"
        sig = (tuple((j.id, j.state, j.state_reason, tuple(sorted(j.counts.items()))) for j in jobs), job_id,
               tuple((i.id, i.state, i.reason) for i in items), status)
        if sig == self._sig:
            return
        self._sig = sig
        self.jobs, self.job_id, self.items = jobs, job_id, items
        jt = self.query_one("#pq-jobs", DataTable)
        row = jt.cursor_row
        jt.clear()
        job_rows = []
        for j in jobs:
            kind = tr(" reprint", " 补打") if j.kind == "reprint" else ""
            job_rows.append((f"#{j.id}{kind}", job_state_label(j.state), j.progress(), j.printer,
                             crop(j.state_reason or j.reprint_reason, WHY_CELLS)))
            jt.add_row(*job_rows[-1], key=str(j.id))
        fit_columns(jt, {"id": [r[0] for r in job_rows], "state": [r[1] for r in job_rows],
                         "progress": [r[2] for r in job_rows], "printer": [r[3] for r in job_rows]})
        if jobs:
            jt.move_cursor(row=min(row, len(jobs) - 1))
        it = self.query_one("#pq-items", DataTable)
        irow = it.cursor_row
        it.clear()
        item_rows = []
        for i in items:
            mark = f" R{i.reprint_no}" if i.is_reprint else ""
            sn = i.order.order_sn if i.order_id and i.order else "—"
            item_rows.append((f"{i.seq}{mark}", sn, item_state_label(i.state)))
            it.add_row(*item_rows[-1], crop(i.reason or "", WHY_CELLS), key=str(i.id))
        fit_columns(it, {"seq": [r[0] for r in item_rows], "sn": [r[1] for r in item_rows],
                         "state": [r[2] for r in item_rows]})
        if items:
            it.move_cursor(row=min(irow, len(items) - 1))
        self.query_one("#pq-printers", Static).update(tr("Printers — {s}", "打印机 — {s}", s=status))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "pq-jobs" and event.row_key is not None and event.row_key.value:
            jid = int(event.row_key.value)
            if jid != self.job_id:
                self.job_id = jid
                self.refresh_data()

    def action_switch(self) -> None:
        jt, it = self.query_one("#pq-jobs", DataTable), self.query_one("#pq-items", DataTable)
        (it if self.focused is jt else jt).focus()

    def _item(self):
        it = self.query_one("#pq-items", DataTable)
        return self.items[it.cursor_row] if self.items else None

    def action_pause(self) -> None:
        if self.job_id:
            self.act("pause")

    def action_resume(self) -> None:
        if self.job_id:
            self.act("resume")

    def action_cancel_job(self) -> None:
        if self.job_id:
            self.act("cancel")

    def action_resolve(self, printed: bool) -> None:
        item = self._item()
        if item is None or item.state != "uncertain":
            self.app.bell()
            self.notify(tr("Highlight an uncertain label first (Tab to the labels)",
                           "请先选中一张待确认的标签（Tab 切换到标签列表）"), severity="warning")
            return
        self.act("resolve", item.id, printed)

    def action_reprint(self) -> None:
        item = self._item()
        if item is None or not item.order_id:
            self.app.bell()
            return
        job = next((j for j in self.jobs if j.id == self.job_id), None)
        self.app.push_screen(DeskPrompt(tr("Reprint label {s}: why?", "补打第 {s} 张：原因？", s=item.seq),
                                        placeholder=tr("e.g. label jammed", "例如：卡纸")),
                             lambda r: r and self.act("reprint", item.order_id, r, job.printer if job else None,
                                                      job.template if job else None))

    @work(thread=True, exclusive=False, exit_on_error=False, group="queue-action")
    def act(self, what: str, *args) -> None:
        from dadan.core.db import connection
        from dadan.core.printing import queue as printing

        printer = None
        with connection():
            job = printing.get_job(self.job_id) if self.job_id else None
            printer = job.printer if job else None
            if what == "pause":
                printing.pause_job(self.job_id, actor=self.actor)
            elif what == "resume":
                printing.resume_job(self.job_id, actor=self.actor)
            elif what == "cancel":
                printing.cancel_job(self.job_id, actor=self.actor)
            elif what == "resolve":
                item_id, printed = args
                printing.resolve_uncertain(item_id, printed=printed, actor=self.actor)
            elif what == "reprint":
                order_id, reason, printer, template = args
                p = self.ctx.settings.printer(printer) if printer else self.ctx.settings.printer()
                printer = p.name
                new = printing.create_reprint_job([order_id], reason=reason, printer=printer,
                                                  template=template or p.template, actor=self.actor)
                self.job_id = new.id
        self.app.call_from_thread(self._acted, printer)

    def _acted(self, printer: str | None) -> None:
        if printer:
            self.app.print_pool.wake(printer)
        self.refresh_data()

    def action_back(self) -> None:
        self.dismiss()
