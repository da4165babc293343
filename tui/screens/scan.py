"""Scan: a field that is always ready for the barcode scanner.

Look-up mode (default): an order number or tracking number opens that order.
Scan-to-ship mode (F2): the waybill barcode marks the parcel shipped and queues its ship
confirmation (``core.shipping.scan.ship_scan``). A packing-slip order number scanned first makes the
next waybill scan check that it belongs to that order. A wrong or blocked parcel turns the
banner red, rings the bell and changes nothing.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Label, Static

from dadan.core.i18n import Bilingual, tr
from dadan.tui.shown import shown
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.scan_field import ScanField


class ScanScreen(DeskScreen):
    DEFAULT_CSS = """
    ScanScreen #scan-banner { height: 3; content-align: center middle; text-style: bold; border: none; }
    ScanScreen #scan-banner.-ok { background: $success; color: $text; }
    ScanScreen #scan-banner.-info { background: $primary; color: $text; }
    ScanScreen #scan-banner.-warn { background: $error; color: $text; text-style: bold reverse; }
    ScanScreen #scan-log { height: 1fr; padding: 0 1; }
    ScanScreen #scan-mode { height: auto; width: 100%; padding: 0 1; text-style: bold; }
    ScanScreen #scan-expect { height: auto; width: 100%; padding: 0 1; }
    """
    BINDINGS = [
        Binding("f2", "toggle_mode", Bilingual("Ship mode", "扫描发货"), id="scan.mode",
                tooltip=Bilingual("Switch between look-up and scan-to-ship", "在查单和扫描发货之间切换")),
        Binding("f3", "forget_slip", Bilingual("Forget slip", "清除装箱单"), id="scan.forget",
                tooltip=Bilingual("Forget the packing slip scanned before", "清除之前扫描的装箱单"), show=False),
        Binding("escape", "back", Bilingual("Back", "返回"), id="scan.back", tooltip=Bilingual("Leave the scan screen", "离开扫描界面")),
    ]

    def __init__(self, *, ship_mode: bool = False) -> None:
        super().__init__()
        self.ship_mode = ship_mode
        self.expect_order_id: int | None = None
        self.expect_sn = ""
        self.history: list[str] = []
        self.last_outcome = None

    def compose(self) -> ComposeResult:
        yield Label(tr("Scan", "扫描"), classes="desk-title")
        yield Label("", id="scan-mode")
        yield Label("", id="scan-expect")  # the packing slip's order number, on its own line: whole
        yield ScanField(placeholder=tr("Scan or type an order number / tracking number, then Enter",
                                       "扫描或输入订单号 / 运单号，按回车"), id="scan-input")
        yield Static("", id="scan-banner")
        yield Static("", id="scan-log")
        yield DeskFooter()

    def on_mount(self) -> None:
        self._show_mode()
        self.query_one(Input).focus()

    def on_screen_resume(self) -> None:
        self.query_one(Input).focus()

    def _show_mode(self) -> None:
        from dadan.tui.relabel import set_description

        # F2 is named for what it switches to
        set_description(self, "scan.mode", Bilingual("Look-up mode", "查单") if self.ship_mode
                        else Bilingual("Ship mode", "扫描发货"))
        if self.ship_mode:
            text = tr("Mode: SCAN TO SHIP — scan the waybill barcode (F2: look-up)",
                      "模式：扫描发货 — 请扫描面单条码（F2：查单）")
        else:
            text = tr("Mode: look-up — a scan opens the order (F2: scan to ship)",
                      "模式：查单 — 扫描即打开订单（F2：扫描发货）")
        self.query_one("#scan-mode", Label).update(text)
        expect = self.query_one("#scan-expect", Label)
        expect.display = bool(self.ship_mode and self.expect_sn)
        expect.update(tr("Expecting order {sn}", "当前装箱单 {sn}", sn=shown(self.expect_sn)) if self.expect_sn else "")

    def action_toggle_mode(self) -> None:
        self.ship_mode = not self.ship_mode
        self.action_forget_slip()
        self.query_one(Input).focus()

    def action_forget_slip(self) -> None:
        self.expect_order_id, self.expect_sn = None, ""
        self._show_mode()

    def action_back(self) -> None:
        self.dismiss()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        code = event.value  # the field emptied itself (ScanField): the next scan's keys are in it
        event.input.focus()
        if not code.strip():
            return
        if self.ship_mode:
            self.ship(code, self.expect_order_id)
        else:
            self.look_up(code)

    @work(thread=True, exclusive=False, exit_on_error=False, group="scan")
    def look_up(self, code: str) -> None:
        from dadan.core.db import connection
        from dadan.core.shipping.scan import lookup, normalise

        with connection():
            found = lookup(code)
        if found is None:
            self.app.call_from_thread(self._banner, "warn", tr("Not found: {c}", "找不到：{c}", c=normalise(code)))
            return
        self.app.call_from_thread(self._open, found.order.id, found.order.order_sn)

    def _open(self, order_id: int, sn: str) -> None:
        from dadan.tui.screens.detail import DetailScreen

        self._banner("info", tr("Opened {sn}", "已打开 {sn}", sn=sn))
        self.app.push_screen(DetailScreen(order_id))

    @work(thread=True, exclusive=False, exit_on_error=False, group="scan")
    def ship(self, code: str, expect: int | None) -> None:
        from dadan.core.db import connection
        from dadan.core.shipping.scan import ship_scan

        with connection():
            outcome = ship_scan(code, actor=self.actor, expect_order_id=expect, now=self.now(),
                                confirm=self.ctx.settings.waybills.confirm_on != "manual", tz=self.ctx.settings.timezone)
        self.app.call_from_thread(self._shipped, outcome)

    def _shipped(self, outcome) -> None:
        self.last_outcome = outcome
        if outcome.kind == "slip":
            self.expect_order_id, self.expect_sn = outcome.order_id, outcome.order_sn
            self._show_mode()
            self._banner("info", outcome.message)
            return
        if outcome.ok:
            self.expect_order_id, self.expect_sn = None, ""
            self._show_mode()
            self._banner("ok", "✔ " + outcome.message)
        else:
            self._banner("warn", "✖ ✖ ✖  " + outcome.message + "  ✖ ✖ ✖")

    def _banner(self, kind: str, text: str) -> None:
        text = shown(text)  # codes and order data from outside: controls visible, markup escaped
        banner = self.query_one("#scan-banner", Static)
        for k in ("ok", "info", "warn"):
            banner.set_class(k == kind, f"-{k}")
        banner.update(text)
        if kind == "warn" and self.ctx.settings.ui.scan_bell:
            self.app.bell()
        self.history.insert(0, f"{self.fmt(self.now(), '%H:%M:%S')}  {text}")
        del self.history[12:]
        self.query_one("#scan-log", Static).update("\n".join(self.history))
