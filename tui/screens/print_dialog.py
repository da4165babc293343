"""Batch print confirmation: one key opened it, one key starts the job.

Shows how many orders were asked for, how many will print, how many are already printed,
blocked or already waiting in the queue, the template and the printer (with its status in
words). For a waybill template also the courier whose numbers are taken (``c`` cycles: each
shop's default, then every courier with an account in the orders' shops), how many numbers the
job takes, the balance it takes them from, a warning for a balance below that (shown before
anything is taken; the operator may still start) and the orders without a number (skipped).
Enter starts; ``t`` / ``o`` switch template / printer; ``r`` reprints the already-printed ones
(asks for a reason); Esc cancels. Dismisses with the new job id or None.

Merged parcels (合单, waybill templates): one buyer's orders that may merge print as one parcel
per the setting ``packing.merge`` — ``auto`` merges, ``ask`` proposes it and says so (the
operator may decline), ``never`` does not; ``m`` switches merging for this job. The body says
"27 orders in 12 parcels".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
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


@dataclass
class WaybillFacts:
    """What a waybill job would take: the couriers to choose from, and per (shop, courier) the
    numbers taken and the balance they come from; the warnings of a balance below that."""

    couriers: list[str] = field(default_factory=list)
    takes: list[tuple[str, str, int, int | None]] = field(default_factory=list)  # shop, courier, n, balance
    warnings: list[str] = field(default_factory=list)


def is_waybill(template: str) -> bool:
    """The template prints courier waybills (a template that does not load: not; the job's
    creation says why)."""
    from dadan.printers.errors import PrinterError
    from dadan.printers.template_choice import prints_waybills

    try:
        return prints_waybills(template)
    except PrinterError:
        return False


def waybill_facts(plan) -> WaybillFacts:
    """Inside a DB connection: the courier choice and balances of ``plan`` (a waybill plan)."""
    from dadan.core.models import Shop
    from dadan.core.waybills import accounts

    shop_ids = {o.shop_id for o in plan.ready + plan.printed} | {o.shop_id for o, _ in plan.blocked + plan.queued
                                                                 + plan.no_number}
    facts = WaybillFacts(couriers=accounts.couriers_of(shop_ids), warnings=plan.warnings())
    for (shop_id, wp), n in sorted(plan.numbers.takes().items()):
        facts.takes.append((Shop.get_by_id(shop_id).name, accounts.courier_name(wp), n, accounts.balance(shop_id, wp)))
    return facts


class PrintDialog(DeskMixin, ModalScreen[int | None]):
    DEFAULT_CSS = """
    PrintDialog { align: center middle; }
    PrintDialog > Vertical { width: 78; max-width: 100%; height: auto; border: round $accent;
                             background: $surface; padding: 0 1; }
    PrintDialog .pd-title { text-style: bold; }
    PrintDialog #pd-body { height: auto; }
    PrintDialog .pd-keys { color: $text-muted; width: 100%; }
    """
    BINDINGS = [
        Binding("enter", "start", Bilingual("Start", "开始打印"), id="print.start",
                tooltip=Bilingual("Queue the labels and start printing", "加入打印队列并开始打印")),
        Binding("t", "next_template", Bilingual("Template", "模板"), id="print.template",
                tooltip=Bilingual("Switch to the next label template", "切换到下一个标签模板")),
        Binding("o", "next_printer", Bilingual("Printer", "打印机"), id="print.printer",
                tooltip=Bilingual("Switch to the next printer", "切换到下一台打印机")),
        Binding("c", "next_courier", Bilingual("Courier", "快递"), id="print.courier",
                tooltip=Bilingual("Waybills: switch the courier whose numbers are taken", "面单：切换取号的快递")),
        Binding("m", "toggle_merge", Bilingual("Merge", "合单"), id="print.merge",
                tooltip=Bilingual("Waybills: merge one buyer's orders into one parcel, or not", "面单：是否将同一买家的订单合为一个包裹")),
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
        self.courier: str | None = None  # None: each shop's default courier
        self.waybill = False
        self.facts = WaybillFacts()
        self.counting = True
        self.refused = ""  # why nothing can be planned (too many orders), shown instead of the plan
        self.merge = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text or tr("Print labels", "打印面单"), classes="pd-title")
            yield Static(tr("Counting…", "正在统计…"), id="pd-body")
            yield Label(tr("Enter start · c courier · t template · o printer · r reprint · Esc cancel",
                           "回车 开始 · c 快递 · t 模板 · o 打印机 · r 补打已打印 · Esc 取消"), classes="pd-keys")

    def on_mount(self) -> None:
        s = self.ctx.settings
        p = s.printer()
        self.printer = p.name
        self.template = p.template
        self.merge = s.packing.merges
        self.load()

    def replan(self) -> None:
        """The courier or the template changed: count again (nothing starts meanwhile)."""
        self.plan, self.counting = None, True
        self._render_body()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="print-plan")
    def load(self) -> None:
        from dadan.core.db import connection
        from dadan.core.printing.plan import PrintRefused, check_job_size, plan_print

        template, courier, merge = self.template, self.courier, self.merge
        waybill = is_waybill(template)
        facts = WaybillFacts()
        with connection():
            ids = self.order_ids
            try:
                if not ids and self.selection is not None:
                    # (counted first: a whole view of a year's orders is refused before its ids are read)
                    check_job_size(self.selection.count(tz=self.tz, now=self.now()))
                    ids = self.selection.order_ids(tz=self.tz, now=self.now())
                plan = plan_print(ids, waybill=waybill, courier=courier, merge=merge) if ids else None
            except PrintRefused as e:
                self.app.call_from_thread(self._refuse, str(e), template, courier, merge)
                return
            if plan is not None and waybill:
                facts = waybill_facts(plan)
        self.order_ids = ids
        self.app.call_from_thread(self._show, plan, template, courier, waybill, facts, merge)

    def _refuse(self, why: str, template: str, courier: str | None, merge: bool) -> None:
        if (template, courier, merge) != (self.template, self.courier, self.merge):
            return
        self.plan, self.counting, self.refused = None, False, why
        self._render_body()

    def _show(self, plan, template: str, courier: str | None, waybill: bool, facts: WaybillFacts,
              merge: bool = False) -> None:
        if (template, courier, merge) != (self.template, self.courier, self.merge):
            return  # counted for a choice changed since: the newer count follows
        self.plan, self.waybill, self.facts, self.counting, self.refused = plan, waybill, facts, False, ""
        self._render_body()

    def _courier_text(self) -> str:
        from dadan.core.waybills.accounts import courier_name

        if self.courier is None:
            return tr("each shop's default", "各店默认")
        return f"{courier_name(self.courier)} ({self.courier})"

    def _merge_line(self, plan) -> Text | None:
        """How the ready orders go in parcels, and whether merging is on (``m`` switches)."""
        ask = self.ctx.settings.packing.merge == "ask"
        if plan.merged:
            text = tr("Merge: {n} orders in {p} parcels (m: do not merge)", "合单：{n} 单合为 {p} 个包裹（按 m 不合单）",
                      n=len(plan.ready), p=len(plan.parcels))
            return Text(text, style="bold" if ask else "")
        if plan.mergeable:
            return Text(tr("Not merged: {n} orders could ride with the same buyer's (m: merge)",
                           "未合单：{n} 单可与同一买家的订单合包（按 m 合单）", n=plan.mergeable), style="bold" if ask else "")
        return None

    def _waybill_lines(self, plan) -> list[Text]:
        lines = [Text(tr("Courier: {c} (c to switch)", "快递：{c}（按 c 切换）", c=self._courier_text())),
                 Text(tr("Numbers to take: {n}", "需取号：{n} 个", n=plan.to_take))]
        for shop, courier, n, bal in self.facts.takes:
            lines.append(Text(tr("  {s} · {c} balance {b} (takes {n})", "  {s} · {c} 余额 {b}（取 {n}）", s=shop,
                                 c=courier, b="—" if bal is None else bal, n=n)))
        lines += [Text("! " + w, style="bold red") for w in self.facts.warnings]
        if plan.no_number:
            lines.append(Text(tr("Without a number (skipped): {n} — {why}", "无单号（跳过）：{n} — {why}",
                                 n=len(plan.no_number), why=plan.no_number[0][1]), style="bold"))
        return lines

    def _render_body(self) -> None:
        plan = self.plan
        lines = []
        if self.counting:
            lines.append(tr("Counting…", "正在统计…"))
        elif self.refused:
            lines.append(Text(self.refused, style="bold"))
        elif plan is None:
            lines.append(tr("Nothing selected.", "没有选中的订单。"))
        else:
            total = len(self.order_ids)
            lines.append(tr("Selected: {n}", "选中：{n} 单", n=total))
            lines.append(tr("Will print: {n}", "将打印：{n} 张", n=plan.labels))
            merge_line = self._merge_line(plan) if self.waybill else None
            if merge_line is not None:
                lines.append(merge_line)
            if plan.printed:
                lines.append(tr("Already printed (skipped, r to reprint): {n}", "已打印（跳过，按 r 补打）：{n}",
                                n=len(plan.printed)))
            if plan.blocked:
                lines.append(tr("Blocked, cancelled or shipped (skipped): {n}", "被拦截、已取消或已发货（跳过）：{n}", n=len(plan.blocked)))
            if plan.queued:
                lines.append(tr("Already waiting in the queue (skipped): {n}", "已在打印队列中（跳过）：{n}",
                                n=len(plan.queued)))
            if self.waybill:
                lines += self._waybill_lines(plan)
        lines.append(tr("Template: {t}", "模板：{t}", t=self.template))
        lines.append(tr("Printer: {p} ({s})", "打印机：{p}（{s}）", p=self.printer,
                        s=self.app.print_pool.status_text(self.printer)))
        self.query_one("#pd-body", Static).update(Text("\n").join(Text(x) if isinstance(x, str) else x for x in lines))

    def _cycle(self, values: list[str], current: str) -> str:
        if not values:
            return current
        i = values.index(current) if current in values else -1
        return values[(i + 1) % len(values)]

    def action_next_template(self) -> None:
        from dadan.printers.template_choice import switchable_templates

        self.template = self._cycle(switchable_templates(self.template), self.template)
        self.replan()

    def action_toggle_merge(self) -> None:
        if not self.waybill or self.counting or self.ctx.settings.packing.merge == "never":
            self.app.bell()
            return
        self.merge = not self.merge
        self.replan()

    def action_next_courier(self) -> None:
        if not self.waybill or self.counting:
            self.app.bell()
            return
        choices: list[str | None] = [None, *self.facts.couriers]
        i = choices.index(self.courier) if self.courier in choices else -1
        self.courier = choices[(i + 1) % len(choices)]
        self.replan()

    def action_next_printer(self) -> None:
        names = [p.name for p in self.ctx.settings.printers] or [self.ctx.settings.printer().name]
        self.printer = self._cycle(names, self.printer)
        self.template = next((p.template for p in self.ctx.settings.printers if p.name == self.printer), self.template)
        self.replan()

    def action_start(self) -> None:
        if self.refused:
            self.app.bell()
            return
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
                                                  template=self.template, actor=self.actor, courier=self.courier)
            else:
                from dadan.core.packing.wave_print import check_pick_list_printer

                check_pick_list_printer(self.ctx.settings)  # an unknown pick list printer: nothing is queued
                job = printing.create_job(ids, printer=self.printer, template=self.template,
                                          actor=self.actor, skip_excluded=True, courier=self.courier,
                                          merge=self.merge, wave=self.ctx.settings.packing.waves)
                self._pick_list(job)
        self.app.call_from_thread(self._started, job.id)

    def _pick_list(self, job) -> None:
        """The wave's pick list on ``[packing] pick_list_printer`` (none when that is "")."""
        from dadan.core.packing.wave_print import queue_pick_list_for, queued_text

        pick = queue_pick_list_for(job, self.ctx.settings, self.actor)
        if pick is not None:
            self.app.call_from_thread(self.app.print_pool.wake, pick.printer)
            self.app.call_from_thread(self.app.notify, queued_text(pick))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "print-dialog":
            self.busy = False  # the app's modal says why; the dialog stays open for another try

    def _started(self, job_id: int) -> None:
        self.app.print_pool.wake(self.printer)
        self.dismiss(job_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
