"""The order screen (home): it composes the view tabs, filter bar, info line, home scanner,
order list, status line and print progress, and routes what they say (tui/messages.py) to one
another. Each widget owns its job: ``OrderList`` the keyset pager, counts, selection and sort;
``FilterBar`` debounced typing; ``ViewTabs`` the views and their counts on a timer;
``HomeScanner`` the barcode scanner (the screen hands it the keys it sees); ``ExportRunner``
(tui/export_runner.py) the export. The list's ``ListingState`` belongs to the screen, so a
recompose (a language switch) keeps the filter, sort, selection and position.

For other screens (API): ``screen.selection`` (core.orders.selection.Selection),
``screen.current_query`` (the filter as typed; the table shows its rows, or none while
``screen.listing.error`` says it does not parse),
``screen.current_sort`` (``"-pay_time"``...), ``screen.current_order()`` (the OrderRow under the
cursor, or None), ``screen.refresh_orders()`` (re-read page, counts and view counts, no flicker;
from elsewhere ``app.post_message(OrdersChanged())``; the screen calls it itself when another
desk changed the database: ``screen.changes``, :mod:`dadan.tui.change_watch`);
``screen.table``/``filter_bar``/``tabs`` are its widgets. The list's ``SelectionChanged`` bubbles
up when the selection changes.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Static

from dadan.core.i18n import Bilingual, tr
from dadan.core.orders.listing import DEFAULT_SORT, OrderRow
from dadan.core.orders.selection import Selection
from dadan.core.orders.views import View, builtin_views
from dadan.tui.change_watch import WatchesChanges
from dadan.tui.export_runner import ExportRunner
from dadan.tui.messages import (
    CountShown,
    FilterChanged,
    FilterChecked,
    FilterSubmitted,
    OrderScanned,
    PageShown,
    PrintJobChanged,
    SelectionChanged,
    ViewCountsRead,
    ViewSaved,
    ViewsChanged,
    ViewSelected,
)
from dadan.tui.ship_runner import ShipRunner
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.desk_printing import DeskPrintProgress
from dadan.tui.widgets.filter_bar import FilterBar
from dadan.tui.widgets.home_scan import HomeScanner
from dadan.tui.widgets.order_list import ListingState, OrderList
from dadan.tui.widgets.status_line import StatusLine
from dadan.tui.widgets.view_tabs import ViewTabs


class OrdersScreen(WatchesChanges, Screen):
    """The home screen."""

    BINDINGS = [
        Binding("slash", "focus_filter", Bilingual("Filter", "筛选"), id="filter",
                tooltip=Bilingual("Type a filter (status:pending province:浙江 due<2h)", "输入筛选条件")),
        Binding("space", "toggle_select", Bilingual("Select", "选择"), id="select",
                tooltip=Bilingual("Select or unselect the order under the cursor", "选中/取消当前订单")),
        Binding("a,ctrl+a", "select_all", Bilingual("All", "全选"), id="select_all",
                tooltip=Bilingual("Select every order matching the filter", "选中所有符合筛选的订单")),
        Binding("escape", "escape", Bilingual("Clear", "清除"), show=False, id="clear_selection",
                tooltip=Bilingual("Clear the selection (or leave the filter bar)", "清除选择（或离开筛选栏）")),
        Binding("s", "sort_next", Bilingual("Sort", "排序"), id="sort",
                tooltip=Bilingual("Sort by the next column", "按下一列排序")),
        Binding("S", "sort_reverse", Bilingual("Reverse", "倒序"), show=False, id="sort_reverse",
                tooltip=Bilingual("Reverse the sort order", "反转排序")),
        Binding("r,ctrl+r", "refresh", Bilingual("Refresh", "刷新"), show=False, id="refresh",
                tooltip=Bilingual("Re-read orders and counts", "重新读取订单和计数")),
        Binding("ctrl+s", "save_view", Bilingual("Save view", "保存视图"), show=False, id="save_view",
                tooltip=Bilingual("Save the filter and sort as a view tab", "把当前筛选和排序保存为视图")),
        Binding("left_square_bracket", "view_step(-1)", Bilingual("Prev view", "上个视图"), show=False, id="view_prev",
                tooltip=Bilingual("Show the view tab to the left", "切换到左边的视图")),
        Binding("right_square_bracket", "view_step(1)", Bilingual("Next view", "下个视图"), show=False, id="view_next",
                tooltip=Bilingual("Show the view tab to the right", "切换到右边的视图")),
        Binding("p", "print", Bilingual("Print", "打印"), id="print",
                tooltip=Bilingual("Print the selection (or the whole view): confirm, then Enter", "打印所选（或整个视图）：确认后回车")),
        Binding("ctrl+k", "ship", Bilingual("Ship printed", "一键发货"), show=False, id="ship",
                tooltip=Bilingual("Ship every printed parcel of the selection (or the whole view)", "所选（或整个视图）已打印的包裹一键发货")),
        Binding("t", "tracking", Bilingual("Tracking", "运单号"), show=False, id="tracking",
                tooltip=Bilingual("Type or scan tracking numbers for the selection", "为所选订单录入或扫描运单号")),
        Binding("f", "filter_builder", Bilingual("Build filter", "筛选器"), show=False, id="filter_builder",
                tooltip=Bilingual("Build a filter field by field; save it as a view", "逐项设置筛选，可保存为视图")),
        Binding("v", "preview", Bilingual("Preview label", "预览面单"), show=False, id="preview",
                tooltip=Bilingual("The label of the order under the cursor, drawn in the terminal", "在终端中预览当前订单的面单")),
        Binding("e", "export", Bilingual("Export", "导出"), show=False, id="export",
                tooltip=Bilingual("Export the selection (or the whole view): orders, ship file, pick list...",
                                  "导出所选（或整个视图）：订单、发货文件、拣货单……")),
        *[
            Binding(str(i), f"view_index({i - 1})", Bilingual("View {i}", "视图 {i}", i=i), show=False, id=f"view_{i}")
            for i in range(1, 10)
        ],
    ]

    def __init__(self, ctx, *, now=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        self._fixed_now = now
        self.views: list[View] = builtin_views(ctx.settings.ui.due_soon_hours)
        first = self.views[0]
        self.view_key: str | None = first.key
        self.listing = ListingState(first.query, first.sort or DEFAULT_SORT)
        self.last_scan: tuple[str, int | None] | None = None  # (code, order id or None if not found)
        self.exporter = ExportRunner(self)
        self.shipper = ShipRunner(self, done=self.refresh_orders)

    def compose(self) -> ComposeResult:
        self.tabs = ViewTabs(self.ctx, self.views, self.view_key, now=self.now, id="view-tabs")
        self.filter_bar = FilterBar(self.current_query, id="filter-bar")
        self.table = OrderList(self.ctx, self.listing, now=self.now, id="order-table")
        yield self.tabs
        yield self.filter_bar
        with Horizontal(id="info-row"):
            yield Static("", id="info-line", markup=False)
            yield HomeScanner(self.ctx, id="scan-indicator")
        yield self.table
        yield StatusLine(self.ctx, id="status-line")
        yield DeskPrintProgress(id="print-progress")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.table.focus()
        self.table.reload(from_top=True, count=not self.table.is_a_view(self.views))
        self.tabs.refresh_counts()  # with the first page: its SQL runs outside the GIL (bench_counts)

    def load(self) -> None:
        """After a recompose (a language switch): table focus, rows and counts again."""
        self.table.focus()
        self.refresh_orders()

    def now(self):
        from dadan.core.timeutil import utcnow

        return self._fixed_now if self._fixed_now is not None else utcnow()

    @property
    def selection(self) -> Selection:
        return self.listing.selection

    @property
    def current_query(self) -> str:
        return self.listing.query

    @property
    def current_sort(self) -> str:
        return self.listing.sort

    @current_sort.setter
    def current_sort(self, sort: str) -> None:
        self.listing.sort = sort  # read with the next page (refresh_orders)

    def refresh_orders(self) -> None:
        """Re-read the current page (same position), the count and the view counts."""
        self.table.reload(count=not self.table.is_a_view(self.views))
        self.tabs.refresh_counts()
        self.query_one(StatusLine).refresh_status()

    def current_order(self) -> OrderRow | None:
        return self.table.current_order()

    def set_filter(self, query: str, *, sort: str | None = None, view_key: str | None = None) -> None:
        """Show ``query`` (and ``sort``) as if typed; ``view_key`` marks the tab."""
        self.filter_bar.set_value(query)
        if sort:
            self.listing.sort = sort
        self.view_key = view_key
        self.tabs.set_active(view_key)
        self._apply_filter(query, force=True)

    @on(PageShown)
    @on(CountShown)
    @on(SelectionChanged)
    def _listing_changed(self, _event) -> None:
        info, text = self.query_one("#info-line", Static), self.table.describe()
        if str(info.render()) != text:
            info.update(text, layout=False)  # one line, 1fr wide: its size never follows the text

    @on(FilterChecked)
    def _filter_checked(self, event: FilterChecked) -> None:
        self.filter_bar.show_error(event.error)

    @on(PrintJobChanged)
    def _print_job_changed(self, event: PrintJobChanged) -> None:
        event.stop()
        self.refresh_orders()  # printed orders leave "to print": rows and tab counts, without r

    @on(ViewCountsRead)
    def _view_counts_read(self, event: ViewCountsRead) -> None:
        self.table.take_view_counts(event.views, event.counts)

    @on(ViewsChanged)
    def _views_changed(self, event: ViewsChanged) -> None:
        self.views = event.views

    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        self._apply_filter(event.query)

    @on(FilterSubmitted)
    def _filter_submitted(self, event: FilterSubmitted) -> None:
        self._apply_filter(event.query, force=True)
        self.set_focus(None)  # the table takes it with its rows (or the next key: on_key)
        self.table.focus_with_next_page()

    def _apply_filter(self, query: str, force: bool = False) -> None:
        if query.strip() == self.current_query.strip() and not force:
            return  # the same filter: its rows (or its error) stay
        active = next((v for v in self.views if v.key == self.view_key), None)
        if active is not None and active.query.strip() != query.strip():
            self.view_key = None
            self.tabs.set_active(None)
        self.table.show_query(query)

    async def on_key(self, event: events.Key) -> None:
        # Keys come here after the focused widget and before the app checks the (non-priority)
        # bindings: the scanner holds a burst's keys here, so no hotkey sees them.
        if self.focused is None and self.table.is_attached:
            self.set_focus(self.table)  # before the bindings are looked up: the key is the table's
        scanner = self.query_one_optional(HomeScanner)  # None while recomposing
        if scanner is not None:
            await scanner.key(event)

    @on(OrderScanned)
    def _order_scanned(self, event: OrderScanned) -> None:
        self.last_scan = (event.code, event.order_id)
        if event.order_id is None:
            return  # the scanner warned
        if self.app.screen is not self:  # the operator moved on meanwhile: do not jump
            self.notify(tr("Scanned {sn}", "已扫码 {sn}", sn=event.order_sn))
            return
        from dadan.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(event.order_id))

    def action_focus_filter(self) -> None:
        self.filter_bar.input.focus()

    def action_refresh(self) -> None:
        self.refresh_orders()

    def action_toggle_select(self) -> None:
        self.table.toggle_select()

    def action_select_all(self) -> None:
        if not self._filter_is_wrong():
            self.table.select_all()

    def action_escape(self) -> None:
        if self.filter_bar.input.has_focus:
            self.table.focus()
        else:
            self.table.clear_selection()

    def action_sort_next(self) -> None:
        self.table.sort_next()

    def action_sort_reverse(self) -> None:
        self.table.sort_reverse()

    def action_select_view(self, key: str | None) -> None:
        if (view := next((v for v in self.views if v.key == key), None)) is not None:
            self.table.leave_view(view.key, self.view_key)
            self.set_filter(view.query, sort=view.sort or DEFAULT_SORT, view_key=view.key)

    @on(ViewSelected)
    def _view_selected(self, event: ViewSelected) -> None:
        self.action_select_view(event.key)

    def action_view_index(self, index: int) -> None:
        self.action_select_view(self.tabs.key_at(index))

    def action_view_step(self, step: int) -> None:
        self.action_select_view(self.tabs.next_key(step))

    def action_save_view(self) -> None:
        if self._filter_is_wrong():
            return
        self.tabs.save_view(self.current_query, self.current_sort)

    @on(ViewSaved)
    def _view_saved(self, event: ViewSaved) -> None:
        self.view_key = event.view.key

    def _filter_is_wrong(self) -> bool:
        """True (and say so) while the filter does not parse: the table shows no rows then, so
        print, tracking, export, select-all and save-as-view have nothing they could honestly
        act on."""
        error = self.listing.error
        if error is None:
            return False
        self.notify(tr("The filter has an error ({e}): fix it first.", "筛选条件有误（{e}）：请先修正。", e=error.message),
                    title=tr("Nothing to act on", "没有可操作的订单"), severity="warning")
        return True

    def action_print(self) -> None:
        from dadan.tui.screens.print_dialog import PrintDialog

        if self._filter_is_wrong():
            return
        title = "" if not self.selection.empty else tr("Print the whole view", "打印整个视图")
        self.app.push_screen(PrintDialog(selection=self.table.target_selection(), title=title), self._printed)

    def _printed(self, job: int | None) -> None:
        if job is not None and not self.selection.empty:
            self.table.clear_selection()  # the ticked orders are queued: their ticks are spent
        self.refresh_orders()

    def action_export(self) -> None:
        if self._filter_is_wrong():
            return
        self.exporter.open(self.table.target_selection(), selected=not self.selection.empty, now=self.now())

    def action_ship(self) -> None:
        if not self._filter_is_wrong():
            self.shipper.open(self.table.target_selection(), now=self.now(), tz=self.ctx.settings.timezone)

    def action_tracking(self) -> None:
        from dadan.tui.screens.tracking import TrackingScreen

        if self._filter_is_wrong():
            return
        row = self.current_order()
        if not self.selection.empty:
            self.app.push_screen(TrackingScreen(selection=self.selection), lambda _n: self.refresh_orders())
        elif row is not None:
            self.app.push_screen(TrackingScreen([row.id]), lambda _n: self.refresh_orders())

    def action_filter_builder(self) -> None:
        from dadan.tui.screens.filter_builder import FilterBuilderScreen

        def apply(query: str | None) -> None:
            if query is not None:
                self.set_filter(query)
            self.refresh_orders()

        self.app.push_screen(FilterBuilderScreen(sort=self.current_sort), apply)

    def action_preview(self) -> None:
        from dadan.tui.screens.preview import PreviewScreen

        self.app.push_screen(PreviewScreen(order_id=row.id if (row := self.current_order()) else None))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        from dadan.tui.screens.detail import DetailScreen

        event.stop()
        row = self.current_order()
        if row is not None:
            self.app.push_screen(DetailScreen(row.id))
