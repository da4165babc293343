"""Handover to the courier (交接, F10): a field always ready for the scanner; each parcel's
waybill number + Enter puts it into its courier's open handover (1 scan per parcel).

The courier is chosen with F2 (cycles through the couriers with parcels to hand over) or taken
from the first parcel scanned; from then on a parcel of another courier is refused with a loud
alarm (red reversed banner with crosses, the bell) and changes nothing. A recycled or unknown
number, a parcel scanned twice or one whose order is blocked is refused with the reason. The
table shows per courier: printed, scanned into the open handover, handed over today, missing
(printed, never scanned), and the missing numbers are listed under it (the lost-parcel alarm).
F8 closes the chosen courier's handover (asks first): its list (交接单) is written to the exports
folder and, per ``[packing] confirm_on_handover``, its parcels are confirmed shipped.

Scans are written one after another in the order they were scanned by one thread worker that
drains the queue (as on the receive screen), so a scanner's burst adds exactly one per scan."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static

from dadan.core.i18n import Bilingual, tr
from dadan.core.visible import visible
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.scan_field import ScanField
from dadan.tui.widgets.scan_queue import ScanQueue

SCROLLBAR = 1


class HandoverScreen(DeskScreen):
    DEFAULT_CSS = """
    HandoverScreen #ho-courier { height: auto; width: 100%; padding: 0 1; text-style: bold; }
    HandoverScreen #ho-banner { height: 3; content-align: center middle; text-style: bold; }
    HandoverScreen #ho-banner.-ok { background: $success; color: $text; }
    HandoverScreen #ho-banner.-info { background: $primary; color: $text; }
    HandoverScreen #ho-banner.-warn { background: $error; color: $text; text-style: bold reverse; }
    HandoverScreen #ho-table { height: auto; max-height: 7; scrollbar-size-vertical: 1; }
    HandoverScreen #ho-missing-box { height: 1fr; scrollbar-size-vertical: 1; }
    HandoverScreen #ho-missing { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("f2", "next_courier", Bilingual("Courier", "快递"), id="handover.courier",
                tooltip=Bilingual("Choose the courier of this handover (or take it from the first scan)",
                                  "选择本次交接的快递（或按第一次扫描）")),
        Binding("f8", "close_handover", Bilingual("Close handover", "完成交接"), id="handover.close",
                tooltip=Bilingual("Close the courier's handover: write its list (交接单)", "完成交接：生成交接单")),
        Binding("escape", "back", Bilingual("Back", "返回"), id="handover.back",
                tooltip=Bilingual("Leave the handover screen", "离开交接界面")),
        Binding("pagedown", "missing_page(1)", Bilingual("More", "更多"), id="handover.more",
                tooltip=Bilingual("Scroll the missing numbers down", "向下滚动缺失单号")),
        Binding("pageup", "missing_page(-1)", Bilingual("Back up the numbers", "向上滚动单号"), id="handover.back_up",
                show=False, tooltip=Bilingual("Scroll the missing numbers up", "向上滚动缺失单号")),
    ]

    def __init__(self, *, courier: str | None = None) -> None:
        super().__init__()
        self.courier = courier  # None: taken from the first parcel scanned
        self.rows: list = []  # CourierStatus per courier, as last read
        self.outcomes: list = []  # every scan's ScanResult, in order
        self.last_close = None  # the CloseReport of the last close
        self.scans = ScanQueue(self, self._handle, group="handover", after=self._status_after)

    def compose(self) -> ComposeResult:
        yield Label(tr("Handover to the courier", "快递交接"), classes="desk-title")
        yield Label("", id="ho-courier")
        yield ScanField(placeholder=tr("Scan each parcel's waybill number, then Enter",
                                       "逐件扫描包裹运单号，按回车"), id="ho-input")
        yield Static("", id="ho-banner", markup=False)
        yield DataTable(id="ho-table", cursor_type="none", cell_padding=0)
        with VerticalScroll(id="ho-missing-box", can_focus=False):  # (PgDn/PgUp: every number can be seen)
            yield Static("", id="ho-missing", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self._show_courier()
        self.call_after_refresh(self.refresh_status)
        self.query_one(ScanField).focus()

    def on_screen_resume(self) -> None:
        self.query_one(ScanField).focus()

    def action_back(self) -> None:
        self.dismiss()

    # ------------------------------------------------------------------ courier
    def _show_courier(self) -> None:
        if self.courier is None:
            text = tr("Courier: from the first scan (F2: choose)", "快递：按第一次扫描（F2：选择）")
        else:
            mine = next((r for r in self.rows if r.wp_code == self.courier), None)
            opened = (tr(" · handover #{h} open", " · 交接单 #{h} 进行中", h=mine.handover_id)
                      if mine is not None and mine.handover_id else "")
            text = tr("Courier: {c}{o} (F2: change · F8: close)", "快递：{c}{o}（F2：更换 · F8：完成交接）",
                      c=visible(self.courier), o=opened)
        self.query_one("#ho-courier", Label).update(text)

    def action_next_courier(self) -> None:
        choices: list[str | None] = [None] + [r.wp_code for r in self.rows]
        at = choices.index(self.courier) if self.courier in choices else 0
        self.courier = choices[(at + 1) % len(choices)]
        self._show_courier()
        self._show_missing()
        self.query_one(ScanField).focus()

    # ------------------------------------------------------------------ scans
    def on_input_submitted(self, event: ScanField.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.scans.put(text)

    def _handle(self, code: str) -> None:
        """One scan, in the worker."""
        from dadan.core.packing import handover

        got = handover.scan(code, actor=self.actor, courier=self.courier, now=self.now())
        if got.ok and self.courier is None:
            self.courier = got.wp_code  # the first parcel chooses the courier
        self.app.call_from_thread(self._done, got)

    def _status_after(self) -> None:
        from dadan.core.packing import handover

        rows = handover.status(now=self.now(), tz=self.tz)
        self.app.call_from_thread(self._show_status, rows)

    def _done(self, got) -> None:
        self.outcomes.append(got)
        if got.ok:
            self._banner("ok", got.message)
        elif got.alarm:
            self._banner("warn", "✖ ✖ ✖  " + got.message + "  ✖ ✖ ✖")
        else:
            self._banner("warn", "✖ " + got.message + tr(" — nothing changed", " — 未做任何更改"))
        self._show_courier()

    # ------------------------------------------------------------------ status
    @work(thread=True, exclusive=True, exit_on_error=False, group="handover-status")
    def refresh_status(self) -> None:
        from dadan.core.db import connection
        from dadan.core.packing import handover

        with connection():
            rows = handover.status(now=self.now(), tz=self.tz)
        self.app.call_from_thread(self._show_status, rows)

    def _show_status(self, rows) -> None:
        self.rows = rows
        t = self.query_one(DataTable)
        t.clear(columns=True)
        heads = [("printed", tr("Printed", "已打印")), ("packed", tr("Packed", "已验货")),
                 ("scanned", tr("Scanned", "已扫描")), ("handed", tr("Handed over", "已交接")),
                 ("missing", tr("Missing", "缺失"))]
        num_w = 12
        room = max(8, t.size.width - SCROLLBAR - num_w * len(heads))
        t.add_column(" " + tr("Courier", "快递"), key="courier", width=room)
        for key, head in heads:
            t.add_column(Text(head, justify="right"), key=key, width=num_w)
        for r in rows:
            mark = "▶ " if r.wp_code == self.courier else "  "
            miss = Text(f"{len(r.missing):,}", justify="right", style="bold reverse" if r.missing else "")
            t.add_row(mark + visible(r.wp_code),
                      *(Text(f"{n:,}", justify="right") for n in (r.printed, r.packed, r.scanned, r.handed)), miss)
        self._show_courier()
        self._show_missing()

    def action_missing_page(self, step: int) -> None:
        box = self.query_one("#ho-missing-box", VerticalScroll)
        box.scroll_page_down(animate=False) if step > 0 else box.scroll_page_up(animate=False)

    def _show_missing(self) -> None:
        rows = [r for r in self.rows if self.courier is None or r.wp_code == self.courier]
        missing = [c for r in rows for c in r.missing]
        kept = [c for r in rows for c in r.kept_out]
        text = visible(tr("MISSING (printed, not scanned) {n}:", "缺失（已打印未扫描）{n} 件：", n=f"{len(missing):,}") + " "
                       + " ".join(missing)) if missing else tr("Nothing missing", "无缺失包裹")
        if kept:
            text += "\n" + visible(tr("KEEP OUT (an order blocked since printing: recycle the number, F3) {n}:",
                                      "拿出（打印后订单被拦截：回收单号，F3）{n} 件：", n=f"{len(kept):,}") + " " + " ".join(kept))
        self.query_one("#ho-missing", Static).update(text)

    # ------------------------------------------------------------------ close
    def action_close_handover(self) -> None:
        from dadan.tui.widgets.desk_confirm import DeskConfirm

        mine = next((r for r in self.rows if r.wp_code == self.courier), None)
        if self.courier is None or mine is None or not mine.handover_id:
            self._banner("info", tr("No open handover to close: scan its parcels first", "没有进行中的交接：请先扫描包裹"))
            return
        confirm = self.ctx.settings.packing.confirm_on_handover
        hint = tr("{n} parcel(s) scanned, {m} missing.", "已扫描 {n} 件，缺失 {m} 件。", n=mine.scanned, m=len(mine.missing))
        if confirm:
            hint += " " + tr("Every parcel in it is confirmed shipped.", "交接的包裹将全部确认发货。")
        self.app.push_screen(DeskConfirm(tr("Close the {c} handover and write its list?", "完成 {c} 交接并生成交接单？",
                                            c=self.courier), hint=hint),
                             lambda yes: self._start_close(yes, self.courier, confirm))

    def _start_close(self, yes: bool, courier: str, confirm: bool) -> None:
        if yes:
            self._close(courier, confirm)

    @work(thread=True, exclusive=False, exit_on_error=False, group="handover")
    def _close(self, courier: str, confirm: bool) -> None:
        from dadan.core.db import connection
        from dadan.core.errors import DadanError
        from dadan.core.packing import handover

        with connection():
            try:
                rep = handover.close(courier, actor=self.actor, folder=self.ctx.paths.exports_dir, confirm=confirm,
                                     now=self.now(), tz=self.tz)
            except DadanError as exc:
                self.app.call_from_thread(self._banner, "warn", "✖ " + exc.message)
                return
            rows = handover.status(now=self.now(), tz=self.tz)
            from dadan.core.packing.handover_print import queue_handover_list_for, queued_text

            try:
                listed = queue_handover_list_for(rep.handover_id, self.ctx.settings, self.actor)
            except DadanError as exc:  # closed all the same: the list is in its file
                listed = None
                self.app.call_from_thread(self.notify, exc.message, severity="warning")
            if listed is not None:
                self.app.call_from_thread(self.app.print_pool.wake, listed.printer)
                self.app.call_from_thread(self.notify, queued_text(listed))
        self.app.call_from_thread(self._after_close, rep, rows)

    def _after_close(self, rep, rows) -> None:
        self.last_close = rep
        text = tr("✔ Handover #{h} closed: {n} parcel(s); list: {p}", "✔ 交接单 #{h} 已完成：{n} 件；交接单：{p}",
                  h=rep.handover_id, n=rep.count, p=str(rep.path))
        if rep.shipped or rep.skipped:
            text += tr(" · shipped {s}, not {k}", " · 已发货 {s}，未发货 {k}", s=len(rep.shipped), k=len(rep.skipped))
        self._banner("ok", text)
        self._show_status(rows)

    def _banner(self, kind: str, text: str) -> None:
        banner = self.query_one("#ho-banner", Static)
        for k in ("ok", "info", "warn"):
            banner.set_class(k == kind, f"-{k}")
        banner.update(visible(text))
        if kind == "warn" and self.ctx.settings.ui.scan_bell:
            self.app.bell()
