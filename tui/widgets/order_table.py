"""The order table: ONE page of orders (core.orders.listing.Page) in a DataTable.

It never holds more than a page. New rows replace old ones by diff: when the same orders come
back (a refresh) only the cells that changed are updated and the cursor stays put; otherwise
the rows are swapped inside one batch update. Moving past the last row, PgUp/PgDn and
Home/End ask for another page (:class:`tui.messages.PageRequest`, handled by the pager in
:mod:`dadan.tui.widgets.order_list`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size

from dadan.core.i18n import Bilingual, tr
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.listing import OrderRow
from dadan.core.orders.rules import Flag, flags_of
from dadan.core.timeutil import fen_to_yuan, fmt_local, humanize_delta
from dadan.core.visible import visible
from dadan.tui.messages import PageRequest
from dadan.tui.widgets.table_cells import OneLineCells

SELECT_MARK = "✓"


@dataclass
class RenderContext:
    """What rendering a row needs besides the row."""

    now: dt.datetime
    tz: str
    due_soon: dt.timedelta
    is_selected: Callable[[int], bool]
    couriers: CourierBook | None  # None until the first page is read
    no_color: bool = False  # NO_COLOR: emphasis by weight and reverse video, never by hue

    def style(self, colour: str, mono: str = "") -> str:
        return mono if self.no_color else colour


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None  # None: takes the remaining width
    sort: str | None  # core.orders.listing sort name
    render: Callable[[OrderRow, RenderContext], object]
    justify: str = "left"


def _flag_short(flag: Flag) -> str:
    """The state column's name for an exception: whole in its 10 cells with "!" and "+" (the
    full name is in the order detail and the exceptions screen)."""
    return {
        Flag.REFUND: tr("refund", "退款"),
        Flag.AFTER_SALE: tr("aftsale", "售后"),
        Flag.CANCELLED: tr("cancel", "已取消"),
        Flag.RISK: tr("risk", "风控"),
        Flag.ADDRESS_CHANGED: tr("address", "改地址"),
        Flag.SHIPPED_ELSEWHERE: tr("shipped", "别处发"),
        Flag.OUT_OF_STOCK: tr("no stock", "缺货"),
        Flag.SHIP_FAILED: tr("conf.err", "回传败"),
        Flag.HOLD: tr("hold", "挂起"),
        Flag.STOCK_SHORT: tr("short", "缺库存"),
    }[flag]


def _state_cell(r: OrderRow, c: RenderContext) -> Text:
    if r.exception_flags:
        flags = flags_of(r.exception_flags)
        label = _flag_short(flags[0]) if flags else "?"
        more = "+" if len(flags) > 1 else ""
        return Text(f"!{label}{more}", style=c.style("bold red", "bold reverse"))
    if r.order_status not in (1, 2, 3):
        return Text(tr("cancel", "已取消"), style="dim")
    label = {
        "new": tr("new", "待打印"),
        "printed": tr("printed", "已打印"),
        "shipped": tr("shipped", "已发货"),
        "confirmed": tr("done", "已回传"),
    }.get(r.state, r.state)
    style = {"new": "", "printed": c.style("cyan"), "shipped": "dim", "confirmed": "dim"}.get(r.state, "")
    return Text(label, style=style)


def _region(r: OrderRow, c: RenderContext) -> Text:
    """Province and city, shortened; file text shown with control characters visible."""
    return Text(visible(_region_text(r)))


def _region_text(r: OrderRow) -> str:
    prov = r.province
    for suffix in ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区"):
        if prov.endswith(suffix) and len(prov) > len(suffix) + 1:
            prov = prov[: -len(suffix)]
            break
    city = r.city[:-1] if r.city.endswith("市") and len(r.city) > 2 else r.city
    return prov if prov == city else f"{prov}{city}"


def _due_cell(r: OrderRow, c: RenderContext) -> Text:
    if r.last_ship_time is None or r.order_status != 1 or r.state not in ("new", "printed"):
        return Text("—", style="dim", justify="right")
    left = r.last_ship_time - c.now
    text = humanize_delta(left)
    if left.total_seconds() < 0:
        return Text(f"!{text}", style=c.style("bold red", "bold"), justify="right")
    if left <= c.due_soon:
        return Text(f"~{text}", style=c.style("yellow"), justify="right")
    return Text(text, justify="right")


def _mark(r: OrderRow, c: RenderContext) -> Text:
    return Text(SELECT_MARK, style=c.style("bold green", "bold")) if c.is_selected(r.id) else Text(" ")


def _print_count(r: OrderRow, c: RenderContext) -> Text:
    if not r.print_count:
        return Text("·", style="dim", justify="right")
    return Text(str(r.print_count), style=c.style("bold yellow", "bold") if r.print_count > 1 else "", justify="right")


def _right(value: str) -> Text:
    return Text(value, justify="right")


def _columns(tier: int) -> list[Column]:
    """Columns for a width tier: 0 narrow (80 columns), 1 medium (adds receiver, wider region),
    2 wide (adds pay and update times). The order number is always whole: at 80 columns the
    labels (items, region) and the pay time give way, never a number."""
    wide, medium = tier >= 2, tier >= 1
    cols = [
        Column("mark", " ", 1, None, _mark),
        Column("sn", tr("Order", "订单号"), 22, "order_sn", lambda r, c: Text(visible(r.order_sn))),
        Column("state", tr("State", "状态"), 10, "state", _state_cell),
        Column("region", tr("Region", "地区"), 10 if medium else 5, "province", _region),
    ]
    if medium:
        cols.append(Column("receiver", tr("Receiver", "收件人"), 8, None, lambda r, c: Text(visible(r.receiver_name))))
    cols += [
        Column("items", tr("Items", "商品"), None, None, lambda r, c: Text(visible(r.items_summary))),
        Column("qty", tr("Qty", "件"), 3, "item_count", lambda r, c: _right(str(r.item_count)), "right"),
        Column("amount", tr("Paid ¥", "实付"), 8, "pay_amount_fen",
               lambda r, c: _right(fen_to_yuan(r.pay_amount_fen)), "right"),
        Column("due", tr("Ship by", "剩余"), 8, "last_ship_time", _due_cell, "right"),
        Column("courier", tr("Courier", "快递"), 5 if medium else 4, "logistics_id",
               lambda r, c: c.couriers.short_name(r.logistics_id or None) if c.couriers else ""),
        Column("prints", tr("Pr", "印"), 2, "print_count", _print_count, "right"),
    ]
    if wide:
        cols.insert(-3, _paid_column())
        cols.append(Column("updated", tr("Updated", "更新"), 11, "updated_at",
                           lambda r, c: fmt_local(r.updated_at, c.tz)))
    return cols


def _paid_column() -> Column:
    return Column("paid", tr("Paid at", "付款时间"), 11, "pay_time", lambda r, c: fmt_local(r.pay_time, c.tz))


ITEMS_ROOM = 12  # the pay time is shown below the wide tier only when the items keep this much


def _fixed_width(cols: list[Column]) -> int:
    return sum(_gap(c) + (c.width or 0) for c in cols)


def _gap(c: Column) -> int:
    return 0 if c.key == "mark" else 1


def _cell(c: Column, r: OrderRow, ctx: RenderContext) -> Text:
    """One cell, as one line of text that is cut at the column's edge (never wrapped: a cell is
    one line high, and skipping the wrap makes a page of rows about a third cheaper to paint)."""
    value = c.render(r, ctx)
    if not isinstance(value, Text):
        value = Text(str(value))
    if c.justify == "left" and _gap(c):
        value = Text(" ") + value
    value.no_wrap = True
    value.overflow = "crop"
    value.end = ""
    return value


MEDIUM_FROM, WIDE_FROM = 100, 150  # terminal columns from which more columns are shown


def width_tier(width: int) -> int:
    return 2 if width >= WIDE_FROM else 1 if width >= MEDIUM_FROM else 0


class OrderTable(OneLineCells):
    """One page of orders. Its pager (``OrderList``) feeds it with :meth:`show_rows`."""

    BINDINGS = [
        Binding("pagedown", "page('next')", Bilingual("Next page", "下一页"), show=False, id="page_next"),
        Binding("pageup", "page('prev')", Bilingual("Previous page", "上一页"), show=False, id="page_prev"),
        Binding("home", "page('first')", Bilingual("First page", "首页"), show=False, id="page_first"),
        Binding("end", "page('last')", Bilingual("Last page", "末页"), show=False, id="page_last"),
    ]

    DEFAULT_CSS = """
    OrderTable { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, **kwargs) -> None:
        # no DataTable padding: left-aligned cells get one leading space instead, so columns
        # are one cell apart and the narrow set fits 80 columns
        super().__init__(cursor_type="row", cell_padding=0, zebra_stripes=False, **kwargs)
        self._cols: list[Column] = []
        self._tier: int | None = None
        self._width = 0
        self._keys: list[str] = []
        self._cells: list[list[object]] = []
        self._rows: list[OrderRow] = []
        self._ctx: RenderContext | None = None

    # ------------------------------------------------------------------ columns
    def _setup_columns(self, width: int) -> bool:
        tier = width_tier(width)
        if tier == self._tier and width == self._width and self._cols:
            return False
        self._tier, self._width = tier, width
        cols = _columns(tier)
        paid = _paid_column()
        if all(c.key != "paid" for c in cols) and width - _fixed_width(cols) - 2 - _gap(paid) - paid.width >= ITEMS_ROOM:
            cols.insert([c.key for c in cols].index("due"), paid)
        flex = max(6, width - _fixed_width(cols) - 2)  # 1 for the scrollbar, 1 spare
        self.clear(columns=True)
        self._cols = cols
        for c in cols:
            label = Text(c.label, justify=c.justify)
            if c.justify == "left" and _gap(c):
                label = Text(" ") + label
            self.add_column(label, width=(c.width or flex) + _gap(c), key=c.key)
        self._keys, self._cells = [], []
        return True

    def on_resize(self, event) -> None:
        if self._rows and self._ctx and event.size.width != self._width:
            self.show_rows(self._rows, self._ctx)  # the items column takes the new width

    def _update_dimensions(self, new_rows) -> None:
        """Every column has a fixed width and every row is one line, so DataTable's measuring of
        each new cell (600 Rich measurements per page, ~20-40 ms) is skipped: only the virtual
        size is set. Falls back to DataTable's own when that assumption does not hold."""
        try:
            if any(c.auto_width for c in self.columns.values()) or any(r.auto_height for r in self.rows.values()):
                return super()._update_dimensions(new_rows)
            width = sum(c.get_render_width(self) for c in self.columns.values()) + self._row_label_column_width
            header = self.header_height if self.show_header else 0
            self.virtual_size = Size(width, self._total_row_height + header)
        except AttributeError:  # a Textual without these internals: do it the long way
            super()._update_dimensions(new_rows)

    @property
    def sort_columns(self) -> dict[str, str]:
        """column key -> sort name, for header clicks."""
        return {c.key: c.sort for c in self._cols if c.sort}

    @staticmethod
    def sort_cycle() -> list[str]:
        """Every sort ``s`` steps through, in the widest layout's column order: a column that
        gives way on a narrow terminal (the pay time) can still be sorted by."""
        return [c.sort for c in _columns(2) if c.sort]

    # ------------------------------------------------------------------ rows
    @property
    def rows_shown(self) -> list[OrderRow]:
        return self._rows

    def current_order(self) -> OrderRow | None:
        if not self._rows or self.cursor_row < 0 or self.cursor_row >= len(self._rows):
            return None
        return self._rows[self.cursor_row]

    def show_rows(self, rows: list[OrderRow], ctx: RenderContext, *, cursor: str = "keep") -> None:
        """Show ``rows``. ``cursor``: keep (same order, else same index), top, bottom."""
        self._ctx = ctx
        width = self.size.width or self.app.size.width
        rebuilt = self._setup_columns(width)
        keys = [str(r.id) for r in rows]
        cells = [[_cell(c, r, ctx) for c in self._cols] for r in rows]
        old_id = self._keys[self.cursor_row] if self._keys and 0 <= self.cursor_row < len(self._keys) else None
        old_index = self.cursor_row
        self._rows = list(rows)
        if not rebuilt and keys == self._keys:
            for key, new, old in zip(keys, cells, self._cells):
                for col, a, b in zip(self._cols, new, old):
                    if a != b:
                        self.update_cell(key, col.key, a)
            self._cells = cells
        else:
            with self.app.batch_update():
                self.clear()
                for key, row in zip(keys, cells):
                    self.add_row(*row, key=key)
                self._keys, self._cells = keys, cells
                if not keys:
                    return
                if cursor == "top":
                    target = 0
                elif cursor == "bottom":
                    target = len(keys) - 1
                elif old_id in keys:
                    target = keys.index(old_id)
                else:
                    target = min(max(old_index, 0), len(keys) - 1)
                self.move_cursor(row=target, animate=False, scroll=True)
                if cursor == "top":
                    self.scroll_to(y=0, animate=False)

    def refresh_marks(self) -> None:
        """Re-render the select mark column only (after a selection change)."""
        if not self._ctx or not self._cols:
            return
        for i, r in enumerate(self._rows):
            new = _mark(r, self._ctx)
            if new != self._cells[i][0]:
                self._cells[i][0] = new
                self.update_cell(self._keys[i], "mark", new)

    # ------------------------------------------------------------------ keys
    def action_page(self, direction: str) -> None:
        self.post_message(PageRequest(direction))

    def action_cursor_down(self) -> None:
        if self._rows and self.cursor_row >= len(self._rows) - 1:
            self.post_message(PageRequest("down"))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self._rows and self.cursor_row <= 0:
            self.post_message(PageRequest("up"))
            return
        super().action_cursor_up()
