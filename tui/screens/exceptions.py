"""Exceptions: orders grouped by kind (refund/after-sale, address changed, risk review, out of
stock, ship confirmation failed, overdue, on hold, other). Actions on the highlighted or the
ticked orders: release with a reason (audited), hold, note, open."""

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

    def compose(self) -> ComposeResult:
        yield Label(tr("Exceptions", "异常订单"), classes="desk-title")
        with Horizontal():
            yield OptionList(id="exc-groups")
            # no cell padding: left cells carry one leading space, so the order number and the
            # ship-by time (with how overdue) fit whole beside the groups at 80 columns
            yield DataTable(id="exc-table", cursor_type="row", cell_padding=0)
        yield Static("", id="exc-status")
        yield DeskFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column(" ", key="tick", width=1)
        t.add_column(" " + tr("Order", "订单号"), key="sn", width=23)
        t.add_column(" " + tr("Why", "原因"), key="why", width=WHY_CELLS + 1)
        t.add_column(" " + tr("Ship by", "最晚发货"), key="due", width=20)
        self.load_counts()

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
            self.load_orders()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one(DataTable).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="exc-orders")
    def load_orders(self) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.exception_groups import group_orders

        with connection():
            orders = group_orders(self.group, now=self.now(), tz=self.tz)
        self.app.call_from_thread(self._show_orders, orders)

    def _show_orders(self, orders: list) -> None:
        from dadan.core.orders.rules import flags_text
        from dadan.core.timeutil import humanize_delta

        self.orders = orders
        t = self.query_one(DataTable)
        row = t.cursor_row
        t.clear()
        now = self.now()
        for o in orders:
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
        base = tr("{n} order(s), {t} ticked · space tick · l release · h hold · n note · Enter open",
                  "{n} 单，已勾选 {t} · 空格 勾选 · l 解除 · h 挂起 · n 备注 · 回车 打开",
                  n=len(self.orders), t=len(self.ticked))
        self.query_one("#exc-status", Static).update(text or base)

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

    @work(thread=True, exclusive=True, exit_on_error=False, group="exc-action")
    def act(self, what: str, ids: list[int], text: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders import actions as orders
        from dadan.core.orders.exception_groups import BY_KEY

        with connection():
            if what == "release":
                n = orders.release(ids, reason=text, actor=self.actor, flags=BY_KEY[self.group].flags)
                msg = tr("Released {n} order(s)", "已解除 {n} 单", n=n)
            elif what == "hold":
                n = orders.hold(ids, reason=text, actor=self.actor)
                msg = tr("Held {n} order(s)", "已挂起 {n} 单", n=n)
            else:
                orders.set_note(ids[0], text, actor=self.actor)
                msg = tr("Note saved", "备注已保存")
        self.app.call_from_thread(self._acted, msg)

    def _acted(self, msg: str) -> None:
        self.ticked.clear()
        self.notify(msg)
        self.load_counts()

    def action_back(self) -> None:
        self.dismiss()
