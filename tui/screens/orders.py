"""The order screen (home): view tabs, filter bar, one page of orders, status line, footer.

Rows come from the database a page at a time (core.listing, keyset pagination); counts come
separately, so the table never waits for a COUNT. Every read runs in a thread worker with
its own connection; exclusive workers plus a generation number make sure a stale result never
overwrites a newer one.

For other screens (API):
- ``screen.selection``: core.selection.Selection (ids across pages, or all matching).
- ``screen.current_query``: the filter text the table shows (last one that parsed).
- ``screen.current_sort``: the sort (``"-pay_time"``...).
- ``screen.current_order()``: the order row under the cursor (core.listing.OrderRow) or None.
- ``screen.refresh_orders()``: re-read the page, the counts and the view counts (no flicker).
  From elsewhere, ``app.post_message(OrdersChanged())`` does the same.
- posts :class:`tui.messages.SelectionChanged` when the selection changes.

A barcode scanner works here too (the scan field is always ready): a fast burst of code
characters ending with Enter is an order or tracking number and opens that order; a person's
hotkeys keep working (``tui.widgets.scan_burst`` tells them apart by timing). While the filter
bar has focus, typing goes into the filter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from dadan.core.errors import QuerySyntaxError
from dadan.core.i18n import Bilingual, tr
from dadan.core.orders.listing import DEFAULT_SORT, OrderRow, Page, SORTABLE, count, fetch_page, parse_sort
from dadan.core.orders.selection import Selection
from dadan.core.orders.views import View, builtin_views
from dadan.tui.messages import (
    FilterChanged,
    FilterSubmitted,
    FirstPageShown,
    PageRequest,
    SelectionChanged,
    ViewSelected,
)
from dadan.tui.widgets.filter_bar import FilterBar
from dadan.tui.widgets.order_table import OrderTable, RenderContext
from dadan.tui.widgets.desk_printing import DeskPrintProgress
from dadan.tui.widgets.scan_burst import BurstReader, ScanIndicator
from dadan.tui.widgets.status_line import StatusLine
from dadan.tui.widgets.view_tabs import ViewTabs

DEBOUNCE_S = 0.08
VIEW_COUNTS_SECONDS = 30.0
SCAN_WARN_SECONDS = 15.0  # a "not found" stays on the info line this long (or until the next key)

try:  # the clock of events.Key.time (time.monotonic on Linux and macOS)
    from textual._time import get_time as _key_clock
except ImportError:  # pragma: no cover - older or newer Textual
    from time import monotonic as _key_clock


def sort_labels() -> dict[str, str]:
    return {
        "pay_time": tr("paid at", "付款时间"),
        "last_ship_time": tr("ship-by", "发货时限"),
        "order_sn": tr("order no.", "订单号"),
        "province": tr("province", "省份"),
        "pay_amount_fen": tr("amount", "金额"),
        "item_count": tr("quantity", "件数"),
        "print_count": tr("prints", "打印次数"),
        "state": tr("state", "状态"),
        "updated_at": tr("updated", "更新时间"),
        "logistics_id": tr("courier", "快递"),
    }


@dataclass
class _PageResult:
    gen: int
    page: Page | None = None
    error: QuerySyntaxError | None = None
    query: str = ""
    total: int | None = None  # counted alongside (last page)
    couriers: dict | None = None


class OrdersScreen(Screen):
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
        Binding("left_square_bracket", "view_step(-1)", Bilingual("Prev view", "上个视图"), show=False, id="view_prev"),
        Binding("right_square_bracket", "view_step(1)", Bilingual("Next view", "下个视图"), show=False, id="view_next"),
        Binding("p", "print", Bilingual("Print", "打印"), id="print",
                tooltip=Bilingual("Print the selection (or the whole view): confirm, then Enter", "打印所选（或整个视图）：确认后回车")),
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
        ui = ctx.settings.ui
        self.page_size = ui.page_size
        self.selection = Selection()
        self.views: list[View] = builtin_views(ui.due_soon_hours)
        first = self.views[0]
        self.view_key: str | None = first.key
        self.current_query: str = first.query
        self.current_sort: str = first.sort or DEFAULT_SORT
        self.total: int | None = None
        self.page: Page | None = None
        self.couriers: dict[int, str] = {}
        self._anchor: tuple = ("first",)
        self._start = 0
        self._gen = 0
        self._count_gen = 0
        self._cursor = "top"
        self._pending_query: str | None = None
        self._last_key_at = 0.0
        self._debounce = None
        self._first_shown = False
        self._counts_timer = None
        self._stats_done = False
        self._burst = BurstReader(ui.scan_gap_ms / 1000, ui.scan_min_length)
        self._burst_timer = None
        self._scan_warn_timer = None
        self.last_scan: tuple[str, int | None] | None = None  # (code, order id or None if not found)
        self._scan_pending = False  # a scanned code is being looked up
        self._export_running = False
        self._export_last: tuple[str, str, object] = ("orders", "xlsx", None)  # kind, format, folder

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield ViewTabs(id="view-tabs")
        yield FilterBar(self.current_query, id="filter-bar")
        with Horizontal(id="info-row"):
            yield Static("", id="info-line", markup=False)
            yield ScanIndicator(id="scan-indicator")
        yield OrderTable(id="order-table")
        yield StatusLine(self.ctx, id="status-line")
        yield DeskPrintProgress(id="print-progress")
        yield Footer()

    @property
    def table(self) -> OrderTable:
        return self.query_one(OrderTable)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        self.query_one(ViewTabs).set_views(self.views, self.view_key)
        self.table.focus()
        self._show_scan()
        self._request_page(("first",), "top")
        self._request_count()

    def load(self) -> None:
        """After a recompose (a language switch): tabs, table focus and rows again."""
        self.query_one(ViewTabs).set_views(self.views, self.view_key)
        self.table.focus()
        self._show_scan()
        self.refresh_orders()

    # ------------------------------------------------------------------ clock / context
    def now(self):
        if self._fixed_now is not None:
            return self._fixed_now
        from dadan.core.timeutil import utcnow

        return utcnow()

    def _render_ctx(self) -> RenderContext:
        import datetime as dt

        return RenderContext(
            now=self.now(), tz=self.ctx.settings.timezone,
            due_soon=dt.timedelta(hours=self.ctx.settings.ui.due_soon_hours),
            is_selected=self.selection.is_selected, couriers=self.couriers,
            no_color=bool(getattr(self.app, "no_color", False)),
        )

    # ------------------------------------------------------------------ page loading
    def _request_page(self, anchor: tuple, cursor: str = "keep", query: str | None = None) -> None:
        self._gen += 1
        self._page_worker(self._gen, self.current_query if query is None else query, self.current_sort, anchor,
                          cursor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="page", description="order page")
    def _page_worker(self, gen: int, query: str, sort: str, anchor: tuple, cursor: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.query import compile_query

        worker = get_current_worker()
        res = _PageResult(gen, query=query)
        with connection():
            if not self.couriers:
                res.couriers = _courier_names()
            try:
                where = compile_query(query, now=self.now(), tz=self.ctx.settings.timezone)
            except QuerySyntaxError as exc:
                res.error = exc
            else:
                plain = not self.ctx.settings.ui.mask_buyer
                kind = anchor[0]
                kw = {"limit": self.page_size, "plain": plain}
                if kind == "after":
                    res.page = fetch_page(where, sort, after=anchor[1], **kw)
                elif kind == "before":
                    res.page = fetch_page(where, sort, before=anchor[1], **kw)
                elif kind == "last":
                    res.page = fetch_page(where, sort, last=True, **kw)
                    res.total = count(where)
                else:
                    res.page = fetch_page(where, sort, **kw)
                if kind != "first" and res.page is not None and not res.page.rows:
                    # the rows around the anchor went away (printed, shipped...): last page
                    res.page = fetch_page(where, sort, last=True, **kw)
                    res.total = count(where)
                    anchor = ("last",)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply_page, res, anchor, cursor)

    def _apply_page(self, res: _PageResult, anchor: tuple, cursor: str) -> None:
        if res.gen != self._gen:
            return  # a newer request is on its way
        if res.couriers is not None:
            self.couriers = res.couriers
        if res.error is not None:
            self.filter_bar.show_error(res.error)
            return
        self.filter_bar.show_error(None)
        query_changed = res.query != self.current_query
        self.current_query = res.query
        if query_changed and self.selection.all_matching and res.query.strip() != self.selection.query.strip():
            # "all matching" meant the old filter: drop it rather than silently widen it
            self.selection.clear()
            self.call_later(self._selection_changed)
        page = res.page
        old_anchor, self._anchor = self._anchor, anchor
        if res.total is not None:
            self.total = res.total
        kind = anchor[0]
        n = len(page.rows)
        if kind == "first":
            self._start = 0
        elif kind == "last":
            self._start = max(0, (self.total or n) - n)
        elif kind == "after" and old_anchor != anchor and self.page is not None and self.page.rows:
            self._start += len(self.page.rows)
        elif kind == "before" and old_anchor != anchor:
            self._start = max(0, self._start - n) if page.has_prev else 0
        self.page = page
        self.table.show_rows(page.rows, self._render_ctx(), cursor=cursor)
        self._update_info()
        if query_changed:  # after the rows are painted: the count must not slow them down
            self.call_after_refresh(self._request_count)
        if not self._first_shown:
            self._first_shown = True
            self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.post_message(FirstPageShown(len(self.page.rows) if self.page else 0))
        self._view_counts_worker()

    # ------------------------------------------------------------------ counts
    def _request_count(self) -> None:
        self._count_gen += 1
        self._count_worker(self._count_gen, self.current_query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="count", description="order count")
    def _count_worker(self, gen: int, query: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.query import compile_query

        worker = get_current_worker()
        with connection():
            try:
                where = compile_query(query, now=self.now(), tz=self.ctx.settings.timezone)
            except QuerySyntaxError:
                return
            n = count(where)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply_count, gen, n)

    def _apply_count(self, gen: int, n: int) -> None:
        if gen != self._count_gen:
            return
        self.total = n
        if self._anchor[0] == "last" and self.page is not None:
            self._start = max(0, n - len(self.page.rows))
        self._update_info()
        if self.selection.all_matching:
            self._selection_changed()

    @work(thread=True, exclusive=True, exit_on_error=False, group="views", description="view counts")
    def _view_counts_worker(self) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.listing import ensure_statistics
        from dadan.core.orders.query import compile_query
        from dadan.core.orders.views import all_views

        worker = get_current_worker()
        with connection():
            if not self._stats_done:
                ensure_statistics()
                self._stats_done = True
            views = all_views(self.ctx.settings.ui.due_soon_hours)
            counts = {}
            for v in views:
                if worker.is_cancelled:
                    return
                try:
                    counts[v.key] = count(compile_query(v.query, now=self.now(), tz=self.ctx.settings.timezone))
                except QuerySyntaxError:
                    continue
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply_view_counts, views, counts)

    def _apply_view_counts(self, views: list[View], counts: dict[str, int]) -> None:
        tabs = self.query_one(ViewTabs)
        if [v.key for v in views] != [v.key for v in self.views] or views != self.views:
            self.views = views
            tabs.set_views(views, self.view_key)
        tabs.set_counts(counts)
        # re-arm only now that this run is done: runs never overlap
        if self._counts_timer is not None:
            self._counts_timer.stop()
        self._counts_timer = self.set_timer(VIEW_COUNTS_SECONDS, self._view_counts_worker)

    # ------------------------------------------------------------------ info line
    def selected_count(self) -> int:
        if self.selection.all_matching:
            return max(0, (self.total or 0) - len(self.selection.excluded))
        return len(self.selection.ids)

    def _update_info(self) -> None:
        n = len(self.page.rows) if self.page else 0
        total = f"{self.total:,}" if self.total is not None else "…"
        if n:
            rng = tr("{a:,}–{b:,} of {t}", "{a:,}–{b:,} / 共 {t}", a=self._start + 1, b=self._start + n, t=total)
        else:
            rng = tr("no orders", "没有订单") if self.total == 0 or self.page else tr("loading…", "加载中…")
        desc = self.current_sort.startswith("-")
        name = self.current_sort.lstrip("-+")
        sort = f"{'↓' if desc else '↑'}{sort_labels().get(name, name)}"
        parts = [rng, sort]
        if self.selection.all_matching:
            parts.append(tr("all {n:,} matching selected", "已选全部 {n:,} 个", n=self.selected_count()))
        elif self.selection.ids:
            parts.append(tr("{n:,} selected", "已选 {n:,} 个", n=len(self.selection.ids)))
        text = " " + " · ".join(parts)
        info = self.query_one("#info-line", Static)
        if str(info.render()) != text:
            info.update(text)

    # ------------------------------------------------------------------ public API
    def refresh_orders(self) -> None:
        """Re-read the current page (same position), the count and the view counts."""
        self._request_page(self._anchor, "keep")
        self._request_count()
        self._view_counts_worker()
        self.query_one(StatusLine).refresh_status()

    def current_order(self) -> OrderRow | None:
        return self.table.current_order()

    def set_filter(self, query: str, *, sort: str | None = None, view_key: str | None = None) -> None:
        """Show ``query`` (and ``sort``) as if typed; ``view_key`` marks the tab."""
        self.filter_bar.set_value(query)
        if sort:
            self.current_sort = sort
        self.view_key = view_key
        self.query_one(ViewTabs).set_active(view_key)
        self._apply_filter(query, force=True)

    # ------------------------------------------------------------------ filter
    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        self._pending_query = event.query
        now = time.monotonic()
        quiet = now - self._last_key_at > DEBOUNCE_S
        self._last_key_at = now
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if quiet:  # the first key after a pause goes at once; a burst waits for the last key
            self._apply_filter(event.query)
        else:
            self._debounce = self.set_timer(DEBOUNCE_S, lambda: self._apply_filter(self._pending_query or ""))

    @on(FilterSubmitted)
    def _filter_submitted(self, event: FilterSubmitted) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self._apply_filter(event.query, force=True)
        self.table.focus()

    def _apply_filter(self, query: str, force: bool = False) -> None:
        self._debounce = None
        if query.strip() == self.current_query.strip() and not force:
            self.filter_bar.show_error(None)
            return
        active = next((v for v in self.views if v.key == self.view_key), None)
        if active is not None and active.query.strip() != query.strip():
            self.view_key = None
            self.query_one(ViewTabs).set_active(None)
        self._request_page(("first",), "top", query=query)

    # ------------------------------------------------------------------ views
    def action_select_view(self, key: str) -> None:
        view = next((v for v in self.views if v.key == key), None)
        if view is None:
            return
        self.set_filter(view.query, sort=view.sort or DEFAULT_SORT, view_key=view.key)

    @on(ViewSelected)
    def _view_selected(self, event: ViewSelected) -> None:
        self.action_select_view(event.key)

    def action_view_index(self, index: int) -> None:
        view = self.query_one(ViewTabs).view_at(index)
        if view is not None:
            self.action_select_view(view.key)

    def action_view_step(self, step: int) -> None:
        key = self.query_one(ViewTabs).next_key(step)
        if key:
            self.action_select_view(key)

    def action_save_view(self) -> None:
        from dadan.tui.widgets.desk_prompt import DeskPrompt

        def chosen(name: str | None) -> None:
            if name:
                self._save_view_worker(name.strip(), self.current_query, self.current_sort)

        active = next((v for v in self.views if v.key == self.view_key and not v.builtin), None)
        self.app.push_screen(DeskPrompt(tr("Save this filter as a view: name?", "保存为视图：名称？"),
                                        value=active.name if active else ""), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save_view", description="save view")
    def _save_view_worker(self, name: str, query: str, sort: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.views import save_view

        with connection():
            view = save_view(name, query, sort)  # a DadanError goes to the error modal
        self.app.call_from_thread(self._view_saved, view)

    def _view_saved(self, view: View) -> None:
        self.view_key = view.key
        self.notify(tr("Saved view “{n}”", "已保存视图“{n}”", n=view.name))
        self._view_counts_worker()  # re-reads the views; the new tab shows up active

    # ------------------------------------------------------------------ paging
    @on(PageRequest)
    def _page_request(self, event: PageRequest) -> None:
        event.stop()
        self.go_page(event.direction)

    def go_page(self, direction: str) -> None:
        """next | prev | first | last | down (next, cursor on top) | up (prev, cursor at bottom)."""
        page = self.page
        if page is None:
            return
        if direction in ("next", "down"):
            if page.has_next:
                self._request_page(("after", page.last_key), "top")
        elif direction in ("prev", "up"):
            if page.has_prev:
                self._request_page(("before", page.first_key), "bottom" if direction == "up" else "top")
        elif direction == "first":
            if page.has_prev or self._start:
                self._request_page(("first",), "top")
            else:
                self.table.move_cursor(row=0)
        elif direction == "last":
            if page.has_next:
                self._request_page(("last",), "bottom")
            else:
                self.table.move_cursor(row=max(0, len(page.rows) - 1))

    # ------------------------------------------------------------------ sort
    def _set_sort(self, sort: str) -> None:
        if sort != self.current_sort:
            self.current_sort = sort
            self._request_page(("first",), "top")

    def action_sort_next(self) -> None:
        names = [n for n in self.table.sort_columns.values()] or list(SORTABLE)
        name, desc = parse_sort(self.current_sort)
        nxt = names[(names.index(name) + 1) % len(names)] if name in names else names[0]
        self._set_sort(nxt)

    def action_sort_reverse(self) -> None:
        name, desc = parse_sort(self.current_sort)
        self._set_sort(name if desc else f"-{name}")

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        name = self.table.sort_columns.get(str(event.column_key.value))
        if not name:
            return
        cur, desc = parse_sort(self.current_sort)
        self._set_sort((name if desc else f"-{name}") if cur == name else name)

    # ------------------------------------------------------------------ selection
    def _selection_changed(self) -> None:
        self.table.refresh_marks()
        self._update_info()
        self.post_message(SelectionChanged(self.selected_count(), self.selection.all_matching))

    def action_toggle_select(self) -> None:
        row = self.table.current_order()
        if row is None:
            return
        self.selection.toggle(row.id)
        self._selection_changed()
        if self.table.cursor_row < len(self.table.rows_shown) - 1:
            self.table.action_cursor_down()

    def action_select_all(self) -> None:
        self.selection.select_all_matching(self.current_query)
        self._selection_changed()

    def action_escape(self) -> None:
        if self.filter_bar.input.has_focus:
            self.table.focus()
            return
        if not self.selection.empty:
            self.selection.clear()
            self._selection_changed()

    # ------------------------------------------------------------------ barcode scanner
    def _typing(self) -> bool:
        """A text field has focus: keys go there, not to the scanner or the hotkeys."""
        return isinstance(self.focused, Input)

    async def on_key(self, event: events.Key) -> None:
        # Keys come here after the focused widget and before the app checks the (non-priority)
        # bindings, so a held key is stopped here and no hotkey sees it.
        if self._typing():
            return
        if self._scan_warn_timer is not None:  # the next key clears a "not found"
            self._clear_scan_warning()
        if event.key == "enter" and self._scan_pending:
            event.prevent_default()  # a scanner's Enter while its code is looked up: the scan
            event.stop()  # opens the order, this Enter must not open the row under the cursor
            return
        step = self._burst.feed(event.key, event.character, event.time, enter=event.key == "enter")
        if not step.passes:
            event.prevent_default()
            event.stop()
        await self._scan_step(step)
        self._arm_burst_timer()

    async def _burst_timeout(self) -> None:
        self._burst_timer = None
        step = self._burst.timeout(_key_clock())
        if step is None:
            self._arm_burst_timer()
            return
        await self._scan_step(step)

    def _arm_burst_timer(self) -> None:
        if self._burst_timer is not None:
            self._burst_timer.stop()
            self._burst_timer = None
        due = self._burst.due(_key_clock())
        if due is not None:
            self._burst_timer = self.set_timer(due, self._burst_timeout)

    async def _scan_step(self, step) -> None:
        """Replay held keys as the hotkeys they are, then look a complete code up."""
        if step.replay and self.app.screen is self:
            active = self.active_bindings
            for key in step.replay:
                binding = active.get(key)
                if binding is not None and binding.enabled:
                    await self.app.run_action(binding.binding.action, binding.node)
        if step.scan:
            self._show_scan("looking", step.scan)
            self._scan_pending = True
            self._scan_lookup(step.scan)
        elif self._burst.held:
            self._show_scan("reading" if len(self._burst.held) > 1 else "", self._burst.reading)
        else:
            self._show_scan()

    def _indicator(self) -> ScanIndicator | None:
        try:
            return self.query_one(ScanIndicator)
        except NoMatches:  # recomposing (a language switch)
            return None

    def _show_scan(self, state: str = "", code: str = "") -> None:
        indicator = self._indicator()
        if indicator is None:
            return
        if not state:
            if indicator.state in ("looking", "warn"):
                return  # a look-up is on its way, or a warning stays for a while
            state = "off" if self._typing() else "ready"
        indicator.show(state, code)

    def _clear_scan_warning(self) -> None:
        if self._scan_warn_timer is not None:
            self._scan_warn_timer.stop()
            self._scan_warn_timer = None
        indicator = self._indicator()
        if indicator is not None and indicator.state == "warn":
            indicator.show("off" if self._typing() else "ready")

    def on_descendant_focus(self, _event) -> None:
        self._show_scan()

    def on_descendant_blur(self, _event) -> None:
        self.call_after_refresh(self._show_scan)

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan", description="scan look-up")
    def _scan_lookup(self, code: str) -> None:
        from dadan.core.db import connection
        from dadan.core.shipping.scan import lookup, normalise

        with connection():
            found = lookup(code)
            order_id, sn = (found.order.id, found.order.order_sn) if found is not None else (None, "")
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._scan_result, normalise(code), order_id, sn)

    def _scan_result(self, code: str, order_id: int | None, sn: str) -> None:
        """Found: open the order (blocked orders too: the detail shows why). Not found: a loud
        warning (error colours, crosses, the bell) and nothing else changes."""
        self.last_scan = (code, order_id)
        self._scan_pending = False
        if order_id is None:
            self._show_scan("warn", code)
            if self._scan_warn_timer is not None:
                self._scan_warn_timer.stop()
            self._scan_warn_timer = self.set_timer(SCAN_WARN_SECONDS, self._clear_scan_warning)
            if getattr(self.ctx.settings.ui, "scan_bell", True):
                self.app.bell()
            self.notify(tr("No order has the number {c}", "没有订单的单号是 {c}", c=code),
                        title=tr("Scan: not found", "扫码：找不到"), severity="error", timeout=8)
            return
        self._show_scan("off" if self._typing() else "ready")
        if self.app.screen is not self:  # the operator moved on meanwhile: do not jump
            self.notify(tr("Scanned {sn}", "已扫码 {sn}", sn=sn))
            return
        from dadan.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(order_id))

    # ------------------------------------------------------------------ errors
    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        # worker messages do not bubble: hand failures to the app's one error modal
        if event.state == WorkerState.ERROR:
            if event.worker.group == "scan":
                self._scan_pending = False
                self._show_scan("ready")
            if event.worker.group == "export":
                self._export_running = False
            self.app.show_error(event.worker.error)

    # ------------------------------------------------------------------ other actions
    def action_focus_filter(self) -> None:
        self.filter_bar.input.focus()

    def action_refresh(self) -> None:
        self.refresh_orders()

    # ------------------------------------------------------------------ desk screens (tui/screens/*)
    def _target_selection(self) -> Selection:
        """The selection, or every order of the current filter when nothing is selected."""
        if not self.selection.empty:
            return self.selection
        whole = Selection()
        whole.select_all_matching(self.current_query)
        return whole

    def action_print(self) -> None:
        from dadan.tui.screens.print_dialog import PrintDialog

        title = "" if not self.selection.empty else tr("Print the whole view", "打印整个视图")
        self.app.push_screen(PrintDialog(selection=self._target_selection(), title=title),
                             lambda _job: self.refresh_orders())

    def action_export(self) -> None:
        from dadan.tui.screens.export_dialog import ExportDialog

        if self._export_running:
            self.app.bell()
            self.notify(tr("The last export is still being written.", "上一个导出仍在写入。"), severity="warning")
            return
        kind, fmt, folder = self._export_last
        dialog = ExportDialog(self._target_selection(), selected=not self.selection.empty, now=self.now(),
                              kind=kind, fmt=fmt, folder=folder)
        self.app.push_screen(dialog, self._export_chosen)

    def _export_chosen(self, request) -> None:
        if request is None:
            return
        self._export_last = (request.kind, request.fmt, self._export_last[2])
        self._export_running = True
        self._export_worker(request)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export", description="export")
    def _export_worker(self, request) -> None:
        from dadan.core.errors import DadanError
        from dadan.tui.screens.export_dialog import write_export

        try:
            res = write_export(request)
        except DadanError as exc:  # a path that cannot be written...: in words, the desk goes on
            self.app.call_from_thread(self._export_done, request.kind, None, exc)
            return
        self.app.call_from_thread(self._export_done, request.kind, res, None)

    def _export_done(self, kind: str, res, error) -> None:
        from dadan.tui.screens.export_dialog import result_text

        self._export_running = False
        if error is not None:
            self.app.bell()
            self.notify(error.message, title=tr("Export failed", "导出失败"), severity="error", timeout=10,
                        markup=False)
            return
        from pathlib import Path

        self._export_last = (*self._export_last[:2], Path(res.path).parent)  # the next export goes there too
        self.notify(result_text(kind, res), title=tr("Exported", "已导出"), timeout=10, markup=False)

    def action_tracking(self) -> None:
        from dadan.tui.screens.tracking import TrackingScreen

        row = self.current_order()
        if self.selection.empty and row is None:
            return
        screen = TrackingScreen([row.id]) if self.selection.empty else TrackingScreen(selection=self.selection)
        self.app.push_screen(screen, lambda _n: self.refresh_orders())

    def action_filter_builder(self) -> None:
        from dadan.tui.screens.filter_builder import FilterBuilderScreen

        def apply(query: str | None) -> None:
            if query is not None:
                self.set_filter(query)
            self.refresh_orders()

        self.app.push_screen(FilterBuilderScreen(sort=self.current_sort), apply)

    def action_preview(self) -> None:
        from dadan.tui.screens.preview import PreviewScreen

        row = self.current_order()
        self.app.push_screen(PreviewScreen(order_id=row.id if row else None))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.current_order()
        if row is None:
            return
        try:
            from dadan.tui.screens.detail import DetailScreen
        except ImportError:
            self.notify(tr("Order details are not available yet", "订单详情尚不可用"))
            return
        self.app.push_screen(DetailScreen(row.id))


def _courier_names() -> dict[int, str]:
    from dadan.core.i18n import language
    from dadan.core.models import Courier

    out = {}
    for cid, name, code in Courier.select(Courier.id, Courier.name, Courier.code).tuples():
        out[cid] = (name[:2] if language() == "zh" else (code or name[:4]))
    return out
