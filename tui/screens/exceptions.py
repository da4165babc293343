"""Exceptions: orders grouped by kind (refund/after-sale, address changed, risk review, out of
stock, ship confirmation failed, overdue, on hold, other, numbers to recycle). Actions on the
highlighted or the ticked orders: release with a reason (audited), hold, note, open; in the
"number to recycle" group the live e-waybill number and a failed cancel's reason show, and ``x``
recycles the numbers (``pdd.waybill.cancel``, asks for a reason). Releasing clears nothing there
(the orders stay blocked by their own group's flags), so ``l`` says so instead."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, OptionList, Static
from textual.widgets.option_list import Option

from dadan.core.i18n import Bilingual, tr
from dadan.tui.cells import crop, label_with_count
from dadan.tui.shown import shown
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.desk_prompt import DeskPrompt

WHY_CELLS = 10  # the reason is a label: cropped with "…" to give the numbers room
CODE_CELLS = 17  # the longest courier number (JD + 15) whole
ERROR_CELLS = 12  # a failed cancel's reason, cropped (the status line gives it whole after x)


class ExceptionScreen(DeskScreen):
    DEFAULT_CSS = """
    ExceptionScreen #exc-groups { width: 24; height: 1fr; padding: 0; }
    ExceptionScreen #exc-table { width: 1fr; height: 1fr; scrollbar-size-vertical: 1; }
    ExceptionScreen #exc-status { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="exceptions.back", tooltip=Bilingual("Back", "返回")),
        Binding("space", "toggle", Bilingual("Tick", "勾选"), id="exceptions.toggle",
                tooltip=Bilingual("Tick or untick the order", "勾选或取消勾选订单")),
        Binding("l", "release", Bilingual("Release", "解除"), id="exceptions.release",
                tooltip=Bilingual("Release with a reason (audited)", "填写原因后解除（记录审计）")),
        Binding("x", "recycle", Bilingual("Recycle number", "回收单号"), id="exceptions.recycle",
                tooltip=Bilingual("Number to recycle: cancel the e-waybill number (asks a reason)",
                                  "待回收单号：取消电子面单号（需填写原因）")),
        Binding("h", "hold", Bilingual("Hold", "挂起"), id="exceptions.hold", tooltip=Bilingual("Hold the orders", "挂起订单")),
        Binding("n", "note", Bilingual("Note", "备注"), id="exceptions.note", tooltip=Bilingual("Internal note", "内部备注")),
        Binding("enter", "open", Bilingual("Open", "打开"), id="exceptions.open", tooltip=Bilingual("Open the order", "打开订单")),
        Binding("tab", "switch_pane", Bilingual("Groups/orders", "分组/订单"), id="exceptions.pane", show=False,
                tooltip=Bilingual("Move between groups and orders", "在分组和订单之间切换")),
    ]

    def __init__(self, group: str = "refund") -> None:
        super().__init__()
        self.group = group
        self.orders: list = []
        self.ticked: set[int] = set()
        self.counts: dict[str, int] = {}
        self.parcels: dict[int, object] = {}  # recycle group: order id -> its parcel with a live number
        self.recycle_columns = False
        self.said = ""  # the last action's result, on the status row until the group changes

    def compose(self) -> ComposeResult:
        yield Label(tr("Exceptions", "异常订单"), classes="desk-title")
        with Horizontal():
            yield OptionList(id="exc-groups")
            # no cell padding: left cells carry one leading space, so the order number and the
            # ship-by time (with how overdue) fit whole beside the groups at 80 columns
            yield DataTable(id="exc-table", cursor_type="row", cell_padding=0)
        yield Static("", id="exc-status", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self._columns()
        self.load_counts()

    def _columns(self) -> None:
        t = self.query_one(DataTable)
        t.clear(columns=True)
        self.recycle_columns = self.group == "recycle"
        t.add_column(" ", key="tick", width=1)
        t.add_column(" " + tr("Order", "订单号"), key="sn", width=23)
        if self.group == "recycle":
            t.add_column(" " + tr("Number", "单号"), key="why", width=CODE_CELLS + 1)
            t.add_column(" " + tr("Cancel", "回收"), key="due", width=ERROR_CELLS + 1)
        else:
            t.add_column(" " + tr("Why", "原因"), key="why", width=WHY_CELLS + 1)
            t.add_column(" " + tr("Ship by", "最晚发货"), key="due", width=20)

    def on_screen_resume(self) -> None:
        self.load_counts()

    @work(thread=True, exclusive=True, exit_on_error=False, group="exc-counts")
    def load_counts(self) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.exception_groups import group_counts

        with connection():
            counts = group_counts(now=self.now(), tz=self.tz)
        self.app.call_from_thread(self._show_counts, counts)

    def _show_counts(self, counts: dict[str, int]) -> None:
        from dadan.core.orders.exception_groups import GROUPS

        self.counts = counts
        ol = self.query_one(OptionList)
        keep = self.group
        ol.clear_options()
        room = ol.scrollable_content_region.width
        ol.add_options([Option(label_with_count(g.label, str(counts.get(g.key, 0)), room), id=g.key) for g in GROUPS])
        ol.highlighted = next(i for i, g in enumerate(GROUPS) if g.key == keep)
        self.load_orders()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.group:
            self.group = event.option.id
            self.ticked.clear()
            self.said = ""
            self.load_orders()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one(DataTable).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="exc-orders")
    def load_orders(self) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.exception_groups import group_orders
        from dadan.core.waybills.parcels import asked

        group = self.group
        with connection():
            orders = group_orders(group, now=self.now(), tz=self.tz)
            parcels = {o.id: asked(o.id) for o in orders} if group == "recycle" else {}
        self.app.call_from_thread(self._show_orders, orders, group, parcels)

    def _show_orders(self, orders: list, group: str, parcels: dict) -> None:
        from dadan.core.orders.rules import flags_text
        from dadan.core.timeutil import humanize_delta

        if group != self.group:
            return  # read for a group left since: its own read follows
        if self.recycle_columns != (group == "recycle"):
            self._columns()
        self.orders, self.parcels = orders, parcels
        t = self.query_one(DataTable)
        row = t.cursor_row
        t.clear()
        now = self.now()
        for o in orders:
            if group == "recycle":
                w = parcels.get(o.id)
                code = (w.code or tr("asked", "已请求")) if w is not None else "—"
                err = ("✗ " + crop(w.cancel_error, ERROR_CELLS - 2)) if w is not None and w.cancel_error else ""
                t.add_row("✓" if o.id in self.ticked else " ", " " + shown(o.order_sn), " " + shown(code), " " + err,
                          key=str(o.id))
                continue
            why = flags_text(o.exception_flags) or tr("overdue", "超时")
            due = self.fmt(o.last_ship_time)
            if o.last_ship_time and o.last_ship_time < now:
                due += " " + humanize_delta(o.last_ship_time - now)
            t.add_row("✓" if o.id in self.ticked else " ", " " + shown(o.order_sn), " " + crop(why, WHY_CELLS), f" {due}",
                      key=str(o.id))
        if orders:
            t.move_cursor(row=min(row, len(orders) - 1))
        self._status()

    def _status(self, text: str = "") -> None:
        if self.group == "recycle":
            base = tr("{n} order(s), {t} ticked · space tick · x recycle number · h hold · n note · Enter open",
                      "{n} 单，已勾选 {t} · 空格 勾选 · x 回收单号 · h 挂起 · n 备注 · 回车 打开",
                      n=len(self.orders), t=len(self.ticked))
        else:
            base = tr("{n} order(s), {t} ticked · space tick · l release · h hold · n note · Enter open",
                      "{n} 单，已勾选 {t} · 空格 勾选 · l 解除 · h 挂起 · n 备注 · 回车 打开",
                      n=len(self.orders), t=len(self.ticked))
        self.query_one("#exc-status", Static).update(text or self.said or base)

    def _targets(self) -> list[int]:
        if self.ticked:
            return sorted(self.ticked)
        t = self.query_one(DataTable)
        if not self.orders:
            return []
        return [self.orders[t.cursor_row].id]

    def action_switch_pane(self) -> None:
        if self.focused is self.query_one(OptionList):
            self.query_one(DataTable).focus()
        else:
            self.query_one(OptionList).focus()

    def action_toggle(self) -> None:
        if not self.orders:
            return
        t = self.query_one(DataTable)
        o = self.orders[t.cursor_row]
        self.ticked.symmetric_difference_update({o.id})
        t.update_cell(str(o.id), "tick", "✓" if o.id in self.ticked else " ")
        if t.cursor_row < len(self.orders) - 1:
            t.move_cursor(row=t.cursor_row + 1)
        self._status()

    def action_open(self) -> None:
        from dadan.tui.screens.detail import DetailScreen

        if self.focused is self.query_one(OptionList):
            self.query_one(DataTable).focus()
            return
        if self.orders:
            self.app.push_screen(DetailScreen(self.orders[self.query_one(DataTable).cursor_row].id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        from dadan.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(int(event.row_key.value)))

    def action_release(self) -> None:
        from dadan.core.orders.exception_groups import BY_KEY

        if BY_KEY[self.group].flags == 0:  # the number to recycle: blocked by another group's flags
            self.app.bell()
            self.notify(tr("Releasing clears nothing here: recycle the number (x), or release the order in its "
                           "own group.", "此处解除不会清除任何异常：请回收单号（x），或在订单所属分组中解除。"),
                        severity="warning")
            return
        ids = self._targets()
        if not ids:
            return
        self.app.push_screen(DeskPrompt(tr("Release {n} order(s): why?", "解除 {n} 单：原因？", n=len(ids)),
                                        hint=tr("Recorded with your name; the orders can then be printed and shipped.",
                                                "将记录操作人；解除后可打印和发货。")),
                             lambda r: r and self.act("release", ids, r))

    def action_hold(self) -> None:
        ids = self._targets()
        if ids:
            self.app.push_screen(DeskPrompt(tr("Hold {n} order(s): why?", "挂起 {n} 单：原因？", n=len(ids))),
                                 lambda r: r and self.act("hold", ids, r))

    def action_note(self) -> None:
        ids = self._targets()
        if ids:
            o = next(o for o in self.orders if o.id == ids[0])
            self.app.push_screen(DeskPrompt(tr("Note for {sn}", "{sn} 的备注", sn=o.order_sn), value=o.note, required=False),
                                 lambda r: r is not None and self.act("note", ids[:1], r))

    def action_recycle(self) -> None:
        if self.group != "recycle":
            self.app.bell()
            self.notify(tr("Recycle numbers in the “Number to recycle” group.", "请在“待回收单号”分组中回收单号。"),
                        severity="warning")
            return
        ids = [w.id for w in dict.fromkeys(self.parcels[i] for i in self._targets() if self.parcels.get(i))]
        if not ids:
            self.app.bell()
            return
        self.app.push_screen(DeskPrompt(tr("Recycle {n} number(s): why?", "回收 {n} 个单号：原因？", n=len(ids)),
                                        placeholder=tr("e.g. refund after printing", "例如：打印后退款"),
                                        hint=tr("The numbers are cancelled on the platform and return to the balance; "
                                                "they never print or ship again.",
                                                "单号将在平台取消并退回余额；之后不会再打印或发货。")),
                             lambda r: r and self.recycle(ids, r))

    @work(thread=True, exclusive=True, exit_on_error=False, group="exc-action")
    def recycle(self, waybill_ids: list[int], reason: str) -> None:
        from dadan.core.db import connection
        from dadan.core.platform.shops import ClientFactory
        from dadan.core.waybills import recycle

        with connection():
            report = recycle.cancel(waybill_ids, reason=reason, actor=self.actor,
                                    factory=ClientFactory(paths=self.ctx.paths, settings=self.ctx.settings))
        msg = tr("{n} recycled, {m} failed", "已回收 {n} 个，失败 {m} 个", n=len(report.cancelled), m=len(report.failed))
        if report.failed:
            msg += tr(": {why}", "：{why}", why=report.failed[0][1])
        self.app.call_from_thread(self._recycled, msg, bool(report.failed))

    def _recycled(self, msg: str, failed: bool) -> None:
        self.said = msg  # stays on the status row: the reason of a failure is read there whole
        self._acted(msg, failed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="exc-action")
    def act(self, what: str, ids: list[int], text: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders import actions as orders
        from dadan.core.orders.exception_groups import BY_KEY

        with connection():
            if what == "release":
                n = orders.release(ids, reason=text, actor=self.actor, flags=BY_KEY[self.group].flags)
                msg = tr("Released {n} order(s)", "已解除 {n} 单", n=n)
                if n < len(ids):  # (nothing releasable: say why rather than a bare count)
                    msg += tr("; {k} had nothing to release by hand: an overdue order has no exception (print it), "
                              "a short one is released when stock arrives (F7)",
                              "；{k} 单无可手工解除的异常：超时订单没有异常（直接打印），缺货订单在入库后自动解除（F7）",
                              k=len(ids) - n)
            elif what == "hold":
                n = orders.hold(ids, reason=text, actor=self.actor)
                msg = tr("Held {n} order(s)", "已挂起 {n} 单", n=n)
            else:
                orders.set_note(ids[0], text, actor=self.actor)
                msg = tr("Note saved", "备注已保存")
        self.app.call_from_thread(self._acted, msg)

    def _acted(self, msg: str, failed: bool = False) -> None:
        self.ticked.clear()
        self.notify(msg, severity="warning" if failed else "information", markup=False)
        self.load_counts()

    def action_back(self) -> None:
        self.dismiss()
