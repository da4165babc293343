"""The order list: the order table plus the keyset pager that fills it, a page at a time.

Rows come from the database a page at a time (``core.orders.listing.fetch_page``, keyset
pagination); the matching count comes separately (``count``), so the table never waits for a
COUNT. Every read runs in a thread worker with its own connection; exclusive workers plus a
generation number make sure a stale answer never overwrites a newer one, and every request
reads the list's filter, which :meth:`OrderList.show_query` sets at once, so a refresh right
after a new filter never brings the old one back. A filter that does not parse shows no rows.

What the list shows (filter, sort, selection, position, page, count) is a
:class:`ListingState` the screen creates once and hands in, so it outlives a recompose (a
language switch). The list tells its screen what happened with messages and never touches
another widget: :class:`~dadan.tui.messages.PageShown`, :class:`~dadan.tui.messages.CountShown`,
:class:`~dadan.tui.messages.SelectionChanged`, :class:`~dadan.tui.messages.FilterChecked` (the
filter's syntax error, or None) and, once, :class:`~dadan.tui.messages.FirstPageShown`.
:meth:`OrderList.describe` is the info line's text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from textual import on, work
from textual.widgets import DataTable
from textual.worker import get_current_worker

from dadan.core.errors import QuerySyntaxError
from dadan.core.i18n import tr
from dadan.core.operators import view_orders
from dadan.core.operators.permissions import PermissionDenied
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.listing import Page, count, fetch_page, parse_sort
from dadan.core.orders.selection import Selection
from dadan.core.orders.views import View
from dadan.tui.messages import CountShown, FilterChecked, FirstPageShown, PageRequest, PageShown, SelectionChanged
from dadan.tui.widgets.error_modal import WorkerErrorsToApp
from dadan.tui.widgets.order_table import OrderTable, RenderContext


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
class ListingState:
    """What the order list shows: the filter (as typed: it is what the table, the count and a
    whole-view selection mean from the moment it is set) and its syntax error (then the table
    shows no rows), the sort, the selection, where the page is (anchor, index of its first row)
    and the matching count when known."""

    query: str
    sort: str
    selection: Selection = field(default_factory=Selection)
    page: Page | None = None
    total: int | None = None
    anchor: tuple = ("first",)
    start: int = 0
    couriers: CourierBook | None = None  # read with the first page
    error: QuerySyntaxError | None = None  # the filter does not parse: no rows, nothing to act on


@dataclass
class _PageResult:
    gen: int
    query: str  # what the rows were read for
    page: Page | None = None
    error: QuerySyntaxError | None = None
    total: int | None = None  # counted alongside (last page)
    recount: bool = False  # count the matches once the rows are painted (a new filter)
    couriers: CourierBook | None = None


class OrderList(WorkerErrorsToApp, OrderTable):
    """One page of orders and the pager behind it (PgUp/PgDn, Home/End, past the last row)."""

    def __init__(self, ctx, state: ListingState, *, now: Callable[[], dt.datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        self.state = state
        self.now = now
        self.page_size = ctx.settings.ui.page_size
        self._gen = 0
        self._count_gen = 0
        self._first_shown = False
        self._focus_with_page = False

    def _render_ctx(self) -> RenderContext:
        return RenderContext(
            now=self.now(), tz=self.ctx.settings.timezone,
            due_soon=dt.timedelta(hours=self.ctx.settings.ui.due_soon_hours),
            is_selected=self.state.selection.is_selected, couriers=self.state.couriers,
            no_color=bool(self.app.no_color),
        )

    def show_query(self, query: str) -> None:
        """Show ``query`` from its first page. It is the list's filter at once, so a reload
        or a whole-view selection made before its rows arrive already means it."""
        st = self.state
        if query.strip() != st.query.strip():
            if st.selection.all_matching and query.strip() != st.selection.query.strip():
                # "all matching" meant the old filter: drop it rather than silently widen it
                st.selection.clear()
                self._selection_changed()
            st.total = None
        st.query = query
        st.anchor, st.start = ("first",), 0
        self._count_gen += 1  # a count of the old filter on its way is stale
        self._request_page(("first",), "top", recount=True)

    def focus_with_next_page(self) -> None:
        """Take the focus when the next page is painted, if nothing else has it by then: in the
        same repaint as the rows (a focus change repaints every cell of the table, and doing it
        before the rows came doubled Enter's cost). The screen gives the table the focus at
        once when a key comes first, so no key is lost."""
        self._focus_with_page = True

    def reload(self, *, from_top: bool = False, count: bool = True) -> None:
        """Re-read the current page (same position; ``from_top``: the first page) and the count
        (unless ``count`` is False: it comes from :meth:`take_view_counts`), without flicker."""
        if from_top:
            self._request_page(("first",), "top")
        else:
            self._request_page(self.state.anchor, "keep")
        if count:
            self._request_count()

    def is_a_view(self, views: list[View]) -> bool:
        """Whether the list's filter is one of ``views``' (the view tabs count it: one pass)."""
        return any(v.query.strip() == self.state.query.strip() for v in views)

    def take_view_counts(self, views: list[View], counts: dict[str, int]) -> None:
        """The view tabs' counts: the one of the list's filter, if it is a view's, is its count
        (a count of the list's own on its way is superseded); a view left uncounted is counted."""
        view = next((v for v in views if v.query.strip() == self.state.query.strip()), None)
        if view is None:
            return
        if view.key not in counts:
            self._request_count()
            return
        self._count_gen += 1
        self._show_count(counts[view.key])

    def set_sort(self, sort: str) -> None:
        if sort != self.state.sort:
            self.state.sort = sort
            self._request_page(("first",), "top")

    def sort_next(self) -> None:
        names = self.sort_cycle()
        name, desc = parse_sort(self.state.sort)
        self.set_sort(names[(names.index(name) + 1) % len(names)] if name in names else names[0])

    def sort_reverse(self) -> None:
        name, desc = parse_sort(self.state.sort)
        self.set_sort(name if desc else f"-{name}")

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        name = self.sort_columns.get(str(event.column_key.value))
        if not name:
            return
        cur, desc = parse_sort(self.state.sort)
        self.set_sort((name if desc else f"-{name}") if cur == name else name)

    def _request_page(self, anchor: tuple, cursor: str = "keep", *, recount: bool = False) -> None:
        self._gen += 1
        self._page_worker(self._gen, self.state.query, self.state.sort, anchor, cursor, recount)

    @work(thread=True, exclusive=True, exit_on_error=False, group="page", description="order page")
    def _page_worker(self, gen: int, query: str, sort: str, anchor: tuple, cursor: str, recount: bool) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.query import compile_query

        worker = get_current_worker()
        res = _PageResult(gen, query, recount=recount)
        with connection():
            if self.state.couriers is None:
                res.couriers = CourierBook.from_database().loaded()  # rendered on the UI thread
            try:
                view_orders(self.ctx.operator)
                where = compile_query(query, now=self.now(), tz=self.ctx.settings.timezone)
            except (QuerySyntaxError, PermissionDenied) as exc:
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
        if res.gen != self._gen or res.query != self.state.query:
            return  # a newer request is on its way: a superseded answer is never painted
        st = self.state
        if self._focus_with_page:
            self._focus_with_page = False
            if self.screen.focused is None:
                self.screen.set_focus(self, scroll_visible=False)
        if res.couriers is not None:
            st.couriers = res.couriers
        st.error = res.error
        self.post_message(FilterChecked(res.error))
        if res.error is not None:  # nothing matches a filter that does not parse: no rows
            st.page, st.total, st.anchor, st.start = None, None, ("first",), 0
            self.show_rows([], self._render_ctx(), cursor="top")
            self.post_message(PageShown(0, 0, None, res.query))
            return
        page = res.page
        old_anchor, st.anchor = st.anchor, anchor
        if res.total is not None:
            st.total = res.total
        kind = anchor[0]
        n = len(page.rows)
        if kind == "first":
            st.start = 0
        elif kind == "last":
            st.start = max(0, (st.total or n) - n)
        elif kind == "after" and old_anchor != anchor and st.page is not None and st.page.rows:
            st.start += len(st.page.rows)
        elif kind == "before" and old_anchor != anchor:
            st.start = max(0, st.start - n) if page.has_prev else 0
        st.page = page
        self.show_rows(page.rows, self._render_ctx(), cursor=cursor)
        self._paint_now()
        self.post_message(PageShown(st.start, n, st.total, res.query))
        if res.recount:  # after the rows are painted: the count must not slow them down
            self.call_after_refresh(self._request_count)
        if not self._first_shown:
            self._first_shown = True
            self.call_after_refresh(self._after_first_paint)

    def _paint_now(self) -> None:
        """The new rows on the terminal at once. Textual paints what changed at its screen's
        next frame, up to a 60th of a second later and more while other messages wait (12 ms
        on average after an Enter, bench/bench_typing.py): the rows are what the operator
        waits for. The table is marked for the frame as its own idle check would (Textual's
        ``_check_refresh`` and the screen's ``Update``), then the frame runs now. A table that
        needs a new layout first waits for the next frame, as does anything else that changed."""
        screen = self.screen
        frame = getattr(screen, "_on_timer_update", None)
        dirty = getattr(screen, "_dirty_widgets", None)
        if (frame is None or dirty is None or not screen.is_current or self.app._batch_count
                or self._layout_required or self._scroll_required):
            return
        if self._repaint_required and self.display and self in screen._compositor:
            self._repaint_required = False
            dirty.add(self)
        frame()

    def _after_first_paint(self) -> None:
        self.post_message(FirstPageShown(len(self.state.page.rows) if self.state.page else 0))

    def _request_count(self) -> None:
        self._count_gen += 1
        self._count_worker(self._count_gen, self.state.query)

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
            self.app.call_from_thread(self._apply_count, gen, query, n)

    def _apply_count(self, gen: int, query: str, n: int) -> None:
        if gen != self._count_gen or query != self.state.query:
            return
        self._show_count(n)

    def _show_count(self, n: int) -> None:
        st = self.state
        st.total = n
        if st.anchor[0] == "last" and st.page is not None:
            st.start = max(0, n - len(st.page.rows))
        self.post_message(CountShown(n, st.query))
        if st.selection.all_matching:
            self._selection_changed()

    @on(PageRequest)
    def _page_request(self, event: PageRequest) -> None:
        event.stop()
        self.go_page(event.direction)

    def go_page(self, direction: str) -> None:
        """next | prev | first | last | down (next, cursor on top) | up (prev, cursor at bottom)."""
        page = self.state.page
        if page is None:
            return
        if direction in ("next", "down"):
            if page.has_next:
                self._request_page(("after", page.last_key), "top")
        elif direction in ("prev", "up"):
            if page.has_prev:
                self._request_page(("before", page.first_key), "bottom" if direction == "up" else "top")
        elif direction == "first":
            if page.has_prev or self.state.start:
                self._request_page(("first",), "top")
            else:
                self.move_cursor(row=0)
        elif direction == "last":
            if page.has_next:
                self._request_page(("last",), "bottom")
            else:
                self.move_cursor(row=max(0, len(page.rows) - 1))

    def selected_count(self) -> int:
        sel = self.state.selection
        if sel.all_matching:
            return max(0, (self.state.total or 0) - len(sel.excluded))
        return len(sel.ids)

    def _selection_changed(self) -> None:
        self.refresh_marks()
        self.post_message(SelectionChanged(self.selected_count(), self.state.selection.all_matching))

    def toggle_select(self) -> None:
        row = self.current_order()
        if row is None:
            return
        self.state.selection.toggle(row.id)
        self._selection_changed()
        if self.cursor_row < len(self.rows_shown) - 1:
            self.action_cursor_down()

    def select_all(self) -> None:
        self.state.selection.select_all_matching(self.state.query)
        self._selection_changed()

    def leave_view(self, chosen: str | None, shown: str | None) -> None:
        """View ``chosen`` replaces view ``shown``: when it is another, the ticks go with the view
        they were made in, so ``p`` or ``Ctrl+K`` there never acts on orders it does not show (a
        typed filter keeps them: search, tick, search again). Said when there were any."""
        n = self.selected_count() if chosen != shown else 0
        if n:
            self.clear_selection()
            self.notify(tr("{n:,} ticked order(s) left with the view", "切换视图：已取消勾选 {n:,} 单", n=n))

    def clear_selection(self) -> None:
        if not self.state.selection.empty:
            self.state.selection.clear()
            self._selection_changed()

    def target_selection(self) -> Selection:
        """The selection, or every order of the current filter when nothing is selected."""
        if not self.state.selection.empty:
            return self.state.selection
        whole = Selection()
        whole.select_all_matching(self.state.query)
        return whole

    def describe(self) -> str:
        """``1–50 of 75,019 · ↑paid at · 3 selected``: position, sort, selection."""
        st = self.state
        n = len(st.page.rows) if st.page else 0
        total = f"{st.total:,}" if st.total is not None else "…"
        if isinstance(st.error, PermissionDenied):
            rng = tr("no orders shown: no permission to view orders", "不显示订单：无权查看订单")
        elif st.error is not None:
            rng = tr("no orders: the filter has an error", "没有订单：筛选条件有误")
        elif n:
            rng = tr("{a:,}–{b:,} of {t}", "{a:,}–{b:,} / 共 {t}", a=st.start + 1, b=st.start + n, t=total)
        else:
            rng = tr("no orders", "没有订单") if st.total == 0 or st.page else tr("loading…", "加载中…")
        desc = st.sort.startswith("-")
        name = st.sort.lstrip("-+")
        parts = [rng, f"{'↓' if desc else '↑'}{sort_labels().get(name, name)}"]
        if st.selection.all_matching:
            parts.append(tr("all {n:,} matching selected", "已选全部 {n:,} 个", n=self.selected_count()))
        elif st.selection.ids:
            parts.append(tr("{n:,} selected", "已选 {n:,} 个", n=len(st.selection.ids)))
        return " " + " · ".join(parts)

