"""Pack check (验货, F8): a field always ready for the barcode scanner at the packing bench.

Scan the parcel's waybill (or its packing slip), then every item: each scan counts ONE
(``12*barcode`` counts 12 of a bulk item). The screen shows the parcel (waybill number,
courier, orders), each SKU with scanned/expected, and what is still missing. A wrong item, an
extra item, an item or a waybill of another parcel, and a blocked order are a loud alarm (a
reversed red banner with crosses and words, and the bell) and change nothing. The last item
packs the parcel (:mod:`dadan.core.packing.pack_check`), and with the setting
``packing.on_packed = "ship"`` confirms its shipment. F2: a supervisor's override for an item
without a barcode (asks for the reason; audited). With ``packing.on_packed = "print"`` ("scan
first, print after") the packing slip of an order that has no number yet starts the check too
(its parcel shows "label prints on the last scan"); the last item records the pack and queues
the parcel's waybill label on the default printer with its template (``[[printers]]``,
``default_printer``), wakes the printer's worker, and the banner says "label queued in job #N";
a label the queue refuses (no courier account ...) is an alarm and nothing is packed. Esc abandons the parcel being checked
(nothing was recorded), and Esc again leaves.

Scans are handled one after another in the order they were scanned, by one thread worker that
drains the queue (:class:`~dadan.tui.widgets.scan_field.ScanField` hands each scan over whole),
so a scanner's burst counts exactly one per scan."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from dadan.core.i18n import Bilingual, tr
from dadan.core.visible import visible
from dadan.tui.cells import crop
from dadan.tui.shown import shown
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.scan_field import ScanField
from dadan.tui.widgets.scan_queue import ScanQueue

SCROLLBAR = 1  # the table's column for its vertical scrollbar, kept whether or not it shows
CROSSES = "✖ ✖ ✖"


class PackScreen(DeskScreen):
    DEFAULT_CSS = """
    PackScreen #pack-parcel { height: auto; width: 100%; padding: 0 1; text-style: bold; }
    PackScreen #pack-banner { height: 3; content-align: center middle; text-style: bold; }
    PackScreen #pack-banner.-ok { background: $success; color: $text; }
    PackScreen #pack-banner.-info { background: $primary; color: $text; }
    PackScreen #pack-banner.-warn { background: $error; color: $text; text-style: bold reverse; }
    PackScreen #pack-table { height: 1fr; scrollbar-size-vertical: 1; }
    PackScreen #pack-missing { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("f2", "override", Bilingual("Override", "手工确认"), id="pack.override",
                tooltip=Bilingual("Supervisor: count an item without a barcode (asks the reason; audited)",
                                  "主管：无条码商品手工计数（需填原因，留审计记录）")),
        Binding("escape", "back", Bilingual("Abandon / back", "放弃 / 返回"), id="pack.back",
                tooltip=Bilingual("Abandon the parcel being checked; again: leave", "放弃正在验的包裹；再按：离开")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.check = None  # the parcel being checked (a PackCheck), None between parcels
        self.view = None  # the parcel shown (the one just packed stays on screen)
        self.outcomes: list = []  # every scan's answer, in order (PackOutcome)
        # ("scan", text) | ("override", code, reason) | ("abandon",), in order
        self.scans = ScanQueue(self, self._handle, group="pack")

    def compose(self) -> ComposeResult:
        yield Label(tr("Pack check", "验货"), classes="desk-title")
        yield Label("", id="pack-parcel")
        yield ScanField(placeholder=tr("Scan the waybill or packing slip, then each item (12*code: 12)",
                                       "扫面单或发货单，再逐件扫商品（12*条码：12 件）"), id="pack-input")
        yield Static("", id="pack-banner", markup=False)
        yield DataTable(id="pack-table", cursor_type="none", cell_padding=0)
        yield Static("", id="pack-missing", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self._show_parcel()
        self._banner("info", tr("Scan a parcel's waybill or packing slip", "请扫描包裹的面单或发货单"), bell=False)
        self.call_after_refresh(self._table)  # the columns fit the table once it is laid out
        self.query_one(ScanField).focus()

    def on_screen_resume(self) -> None:
        self.query_one(ScanField).focus()

    # ------------------------------------------------------------------ keys
    def action_back(self) -> None:
        if self.check is not None or self.scans.busy:  # in turn with the scans before it
            self.scans.put(("abandon",))
            return
        self.dismiss()

    def action_override(self) -> None:
        from dadan.tui.widgets.desk_prompt import DeskPrompt

        check = self.check
        if check is None:
            self._banner("warn", self._alarm(tr("Scan a parcel first", "请先扫描包裹")))
            return
        missing = check.missing()
        if not missing:
            return

        def asked_reason(code: str, reason: str | None) -> None:
            if reason:
                self.scans.put(("override", code, reason))
            self.query_one(ScanField).focus()

        def chosen(code: str | None) -> None:
            if not code:
                self.query_one(ScanField).focus()
                return
            self.app.push_screen(DeskPrompt(
                tr("Supervisor override: {c} — reason", "主管手工确认：{c} — 原因", c=code),
                placeholder=tr("e.g. no barcode on this item", "例如：商品没有条码")),
                lambda reason: asked_reason(code, reason))

        if len(missing) == 1:
            chosen(missing[0].code)
            return
        self.app.push_screen(DeskPrompt(
            tr("Supervisor override: the item's code", "主管手工确认：商品编码"), value=missing[0].code,
            hint=tr("Missing: {m}", "还缺：{m}", m=", ".join(f"{ln.code} ×{ln.missing}" for ln in missing))), chosen)

    # ------------------------------------------------------------------ scans
    def on_input_submitted(self, event: ScanField.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.scans.put(("scan", text))

    def _handle(self, job: tuple) -> None:
        """One scan, in the worker."""
        from dadan.core.packing import pack_check

        on_packed = self.ctx.settings.packing.on_packed
        to = self._print_to() if on_packed == "print" else {}
        kind, *args = job
        if kind == "abandon":
            if self.check is not None:
                code, self.check = self.check.name, None
                self.app.call_from_thread(self._abandoned, code)
            return
        if kind == "override":
            code, reason = args
            if self.check is None:
                return
            got = pack_check.override(self.check, code, reason, actor=self.actor, on_packed=on_packed, **to)
        elif self.check is None:
            check, got = pack_check.start(args[0], on_packed=on_packed, tz=self.ctx.settings.timezone)
            self.check = check
        else:
            got = pack_check.scan(self.check, args[0], actor=self.actor, on_packed=on_packed, **to)
        shown_check = self.check
        if got.kind == "packed":
            self.check = None  # the next scan starts the next parcel
        self.app.call_from_thread(self._done, got, shown_check, to.get("printer", ""))

    def _print_to(self) -> dict:
        """The printer and template a label printed on the last scan goes to: the default
        printer's (as the print dialog starts); none when the setting names no such printer."""
        from dadan.core.errors import ConfigError

        try:
            p = self.ctx.settings.printer()
        except ConfigError:
            return {"printer": "", "template": ""}
        return {"printer": p.name, "template": p.template}

    def _abandoned(self, code: str) -> None:
        self.view = None
        self._show_parcel()
        self._table()
        self._banner("info", tr("Parcel {w} abandoned: nothing was recorded. Scan the next parcel",
                                "已放弃包裹 {w}：未记录任何内容。请扫描下一个包裹", w=code), bell=False)

    def _done(self, got, check, printer: str = "") -> None:
        self.outcomes.append(got)
        if got.job and printer:
            self.app.print_pool.wake(printer)  # the printer's worker takes the number and prints
        if check is not None:
            self.view = check  # the parcel being checked, or the one just packed
        self._show_parcel()
        self._table()
        if got.alarm:
            self._banner("warn", self._alarm(got.message + tr(" — nothing changed", " — 未做任何更改")))
        elif got.kind == "packed":
            self._banner("ok", got.message + tr(" — scan the next parcel", " — 请扫描下一个包裹"), bell=False)
        elif got.kind == "started":
            self._banner("info", got.message, bell=False)
        else:
            self._banner("ok", got.message, bell=False)

    @staticmethod
    def _alarm(text: str) -> str:
        return f"{CROSSES}  {text}  {CROSSES}"

    # ------------------------------------------------------------------ drawing
    def _show_parcel(self) -> None:
        label = self.query_one("#pack-parcel", Label)
        v = self.view
        if v is None:
            label.update(tr("No parcel: scan a waybill or packing slip", "没有包裹：请扫描面单或发货单"))
            return
        state = tr("PACKED", "已验货") if v.packed else tr("checking", "验货中")
        sns = " ".join(v.order_sns())
        if v.print_after:
            text = tr("Order(s) {o} · no number yet: {p} · {s}", "订单 {o} · 尚无单号：{p} · {s}",
                      s=state, o=sns, p=tr("label in job #{j}", "面单在任务 #{j}", j=v.print_job) if v.print_job
                      else tr("label prints on the last scan", "最后一件扫完即打印面单"))
        else:
            text = tr("Parcel {w} · {c} · {s} · order(s) {o}", "包裹 {w} · {c} · {s} · 订单 {o}",
                      w=v.waybill_code, c=v.wp_code, s=state, o=sns)
        label.update(shown(text))  # (wrapped, never cut: a merged parcel's order numbers whole)

    def _table(self) -> None:
        t = self.query_one(DataTable)
        v = self.view
        lines = v.lines if v is not None else []
        t.clear(columns=True)
        code_w = max([cell_len(tr("Code", "编码"))] + [cell_len(ln.code) for ln in lines]) + 1
        done_w = max([cell_len(tr("Scanned", "已扫"))] + [len(f"{ln.scanned:,}/{ln.expected:,}") for ln in lines]) + 1
        miss_w = max([cell_len(tr("Missing", "缺"))] + [len(f"{ln.missing:,}") + 2 for ln in lines]) + 1
        room = max(8, t.size.width - SCROLLBAR - code_w - done_w - miss_w - 1)
        t.add_column(" " + tr("Code", "编码"), key="code", width=code_w)
        t.add_column(" " + tr("Name", "名称"), key="name", width=room)
        t.add_column(Text(tr("Scanned", "已扫"), justify="right"), key="done", width=done_w)
        t.add_column(Text(tr("Missing", "缺"), justify="right"), key="missing", width=miss_w)
        for ln in lines:
            name = f"{ln.name} {ln.spec}".strip()
            mark = "✔" if ln.missing <= 0 else f"✗ {ln.missing:,}"  # (how many are still missing)
            t.add_row(" " + shown(ln.code), " " + shown(crop(name, room - 1)),
                      Text(f" {ln.scanned:,}/{ln.expected:,}", justify="right"), Text(f" {mark}", justify="right"))
        self.query_one("#pack-missing", Static).update(self._missing_text())

    def _missing_text(self) -> str:
        v = self.view
        if v is None:
            return tr("1 scan per item · 12*code counts 12 · F2: supervisor override",
                      "每件扫一次 · 12*条码 计 12 件 · F2：主管手工确认")
        if v.packed:
            done = tr("✔ Packed: {n} item(s), nothing missing", "✔ 已验货：{n} 件，无缺件", n=f"{v.scanned:,}")
            if v.print_job:
                done += tr(" · label queued in job #{j}", " · 面单已排入打印任务 #{j}", j=v.print_job)
            return visible(crop(done, max(20, self.size.width - 2)))
        missing = v.missing()
        text = tr("Missing {m} of {e}: ", "还缺 {m}/{e} 件：", m=f"{v.expected - v.scanned:,}", e=f"{v.expected:,}")
        text += ", ".join(f"{ln.code} ×{ln.missing:,}" for ln in missing)
        return visible(crop(text, max(20, self.size.width - 2)))

    def _banner(self, kind: str, text: str, *, bell: bool = True) -> None:
        banner = self.query_one("#pack-banner", Static)
        for k in ("ok", "info", "warn"):
            banner.set_class(k == kind, f"-{k}")
        banner.update(visible(text))
        if kind == "warn" and bell and self.ctx.settings.ui.scan_bell:
            self.app.bell()
