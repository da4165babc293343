"""Goods: the catalogue one page at a time (code, name and spec, bin, on hand, reserved,
available, safety stock), a filter (a substring of the code, name or bin, or an exact barcode)
and four views: all, low stock (available <= safety stock), short (reserved > on hand) and the
SKUs open orders carry that the catalogue lacks. Enter edits a SKU; on the missing view ``a``
adds the SKU with what the orders say; ``r`` opens the receive / count screen.

The catalogue may hold tens of thousands of SKUs: only one page (``PAGE`` rows) is read and
shown; ``]`` and ``[`` turn the pages. Codes and numbers are never cut; the name gives way."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Label, Static

from dadan.core.i18n import Bilingual, tr
from dadan.tui.cells import crop
from dadan.tui.shown import shown
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter

SCROLLBAR = 1  # the table's column for its vertical scrollbar, kept whether or not it shows
PAGE = 100
VIEWS = ("all", "low", "short", "missing")


def view_label(view: str) -> str:
    return {"all": tr("All", "全部"), "low": tr("Low stock", "低库存"), "short": tr("Short", "缺货"),
            "missing": tr("Missing", "未建档")}[view]


def _num(n: int) -> Text:
    return Text(f" {n:,}", justify="right")


class GoodsScreen(DeskScreen):
    DEFAULT_CSS = """
    GoodsScreen #goods-tabs { height: 1; padding: 0 1; }
    GoodsScreen #goods-filter { height: 1; border: none; padding: 0 1; margin: 0 1; background: $boost; }
    GoodsScreen #goods-filter:focus { background: $accent 30%; }
    GoodsScreen #goods-table { height: 1fr; scrollbar-size-vertical: 1; }
    GoodsScreen #goods-status { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="goods.back", tooltip=Bilingual("Back", "返回")),
        Binding("slash", "filter", Bilingual("Filter", "筛选"), id="goods.filter",
                tooltip=Bilingual("Filter by code, name, bin or barcode", "按编码、名称、库位或条码筛选")),
        Binding("1", "view('all')", Bilingual("All", "全部"), id="goods.all", show=False,
                tooltip=Bilingual("Every SKU", "全部商品")),
        Binding("2", "view('low')", Bilingual("Low stock", "低库存"), id="goods.low", show=False,
                tooltip=Bilingual("Available at or below the safety stock", "可用库存不高于安全库存")),
        Binding("3", "view('short')", Bilingual("Short", "缺货"), id="goods.short", show=False,
                tooltip=Bilingual("Reserved more than on hand", "占用多于库存")),
        Binding("4", "view('missing')", Bilingual("Missing", "未建档"), id="goods.missing", show=False,
                tooltip=Bilingual("SKUs in open orders that the catalogue lacks", "待发货订单中有、商品档案中没有的商品")),
        Binding("a", "add_missing", Bilingual("Add SKU", "建档"), id="goods.add",
                tooltip=Bilingual("Missing view: add the SKU with the orders' name and spec",
                                  "未建档：按订单中的名称和规格添加商品")),
        Binding("r", "receive", Bilingual("Receive", "入库"), id="goods.receive",
                tooltip=Bilingual("Receive or count stock by scanning", "扫码入库或盘点")),
        Binding("right_square_bracket", "page(1)", Bilingual("Next page", "下一页"), id="goods.next_page",
                tooltip=Bilingual("The next page of SKUs", "下一页商品")),
        Binding("left_square_bracket", "page(-1)", Bilingual("Previous page", "上一页"), id="goods.prev_page",
                show=False, tooltip=Bilingual("The previous page of SKUs", "上一页商品")),
    ]

    def __init__(self, view: str = "all") -> None:
        super().__init__()
        self.view = view
        self.text = ""
        self.start = 0
        self.rows: list = []  # this page's GoodsRow (or MissingSku on the missing view)
        self.total = 0
        self.counts: dict[str, int] = {}
        self.said = ""

    def compose(self) -> ComposeResult:
        yield Label(tr("Goods", "商品"), classes="desk-title")
        yield Static("", id="goods-tabs", markup=False)
        yield Input(placeholder=tr("/ filter: code, name, bin or barcode", "/ 筛选：编码、名称、库位或条码"),
                    id="goods-filter")
        yield DataTable(id="goods-table", cursor_type="row", cell_padding=0)
        yield Static("", id="goods-status", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="goods-load")
    def load(self) -> None:
        from dadan.core.db import connection
        from dadan.core.goods import catalogue, listing

        view, text, offset = self.view, self.text, self.start
        with connection():
            counts = listing.counts(text)
            if view == "missing":
                wanted = catalogue.missing()
                needle = text.strip().lower()
                if needle:
                    wanted = [m for m in wanted if needle in m.code.lower() or needle in m.name.lower()]
                counts["missing"] = len(wanted)
                rows = wanted[offset:offset + PAGE]
            else:
                rows = listing.page(view, text, offset=offset, limit=PAGE)
        self.app.call_from_thread(self._show, view, text, offset, counts, rows)

    def _show(self, view: str, text: str, offset: int, counts: dict, rows: list) -> None:
        if (view, text, offset) != (self.view, self.text, self.start):
            return  # superseded: its own read follows
        t = self.query_one(DataTable)
        if not t.size.width:  # read before the first layout: columns fit after it
            self.call_after_refresh(self._show, view, text, offset, counts, rows)
            return
        self.counts.update(counts)
        self.rows = rows
        self.total = counts.get(view, 0)
        self._tabs()
        row = t.cursor_row
        t.clear(columns=True)
        if view == "missing":
            self._missing_rows(t, rows)
        else:
            self._goods_rows(t, rows)
        if rows:
            t.move_cursor(row=min(row, len(rows) - 1))
        self._status()

    def _tabs(self) -> None:
        parts = []
        for i, v in enumerate(VIEWS, 1):
            n = self.counts.get(v)
            label = f"{i} {view_label(v)}" + (f" {n:,}" if n is not None else "")
            parts.append(f"[{label}]" if v == self.view else f" {label} ")
        self.query_one("#goods-tabs", Static).update("│".join(parts))

    def _goods_rows(self, t: DataTable, rows: list) -> None:
        code_w = max([cell_len(tr("Code", "编码"))] + [cell_len(r.code) for r in rows]) + 1
        bin_w = max([cell_len(tr("Bin", "库位"))] + [cell_len(r.bin) for r in rows]) + 1
        heads = [(tr("On hand", "库存"), "on_hand"), (tr("Resv", "占用"), "reserved"),
                 (tr("Avail", "可用"), "available"), (tr("Safety", "安全"), "safety_stock")]
        widths = {k: max([cell_len(h)] + [len(f"{getattr(r, k):,}") for r in rows]) + 1 for h, k in heads}
        room = max(8, t.size.width - SCROLLBAR - code_w - bin_w - sum(widths.values()) - 1)
        t.add_column(" " + tr("Code", "编码"), key="code", width=code_w)
        t.add_column(" " + tr("Name / spec", "名称 / 规格"), key="name", width=room)
        t.add_column(" " + tr("Bin", "库位"), key="bin", width=bin_w)
        for h, k in heads:
            t.add_column(Text(h, justify="right"), key=k, width=widths[k])
        for r in rows:
            name = r.name + (f" {r.spec}" if r.spec else "")
            t.add_row(" " + shown(r.code), " " + shown(crop(name, room - 1)), " " + shown(r.bin), _num(r.on_hand),
                      _num(r.reserved), _num(r.available), _num(r.safety_stock), key=str(r.id))

    def _missing_rows(self, t: DataTable, rows: list) -> None:
        code_w = max([cell_len(tr("Code", "编码"))] + [cell_len(r.code) for r in rows]) + 1
        n_w = max([cell_len(tr("Orders", "订单数"))] + [len(f"{r.orders:,}") for r in rows]) + 1
        room = max(8, t.size.width - SCROLLBAR - code_w - n_w - 1)
        t.add_column(" " + tr("Code", "编码"), key="code", width=code_w)
        t.add_column(" " + tr("Name / spec (from the orders)", "名称 / 规格（来自订单）"), key="name", width=room)
        t.add_column(Text(tr("Orders", "订单数"), justify="right"), key="orders", width=n_w)
        for i, r in enumerate(rows):
            name = r.name + (f" {r.spec}" if r.spec else "")
            t.add_row(" " + shown(r.code), " " + shown(crop(name, room - 1)), _num(r.orders), key=f"m{i}")

    def _status(self) -> None:
        if self.total:
            where = tr("{a}–{b} of {n}", "第 {a}–{b} 条，共 {n}", a=f"{self.start + 1:,}",
                       b=f"{self.start + len(self.rows):,}", n=f"{self.total:,}")
        else:
            where = tr("none", "无")
        keys = (tr("a / Enter add SKU", "a / 回车 建档") if self.view == "missing"
                else tr("Enter edit · r receive", "回车 编辑 · r 入库"))
        self.query_one("#goods-status", Static).update(self.said or f"{where} · {keys} · ]/[ " + tr("page", "翻页"))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != self.text:
            self.text, self.start, self.said = event.value, 0, ""
            self.load()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#goods-filter", Input).focus()

    def action_view(self, view: str) -> None:
        if view != self.view:
            self.view, self.start, self.said = view, 0, ""
            self.load()

    def action_page(self, step: int) -> None:
        offset = self.start + step * PAGE
        if 0 <= offset < self.total:
            self.start, self.said = offset, ""
            self.load()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one(DataTable).focus()
            return
        self.dismiss()

    def action_receive(self) -> None:
        from dadan.tui.screens.receive import ReceiveScreen

        self.app.push_screen(ReceiveScreen())

    def _current(self):
        t = self.query_one(DataTable)
        if not self.rows or not 0 <= t.cursor_row < len(self.rows):
            return None
        return self.rows[t.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.view == "missing":
            self.action_add_missing()
        else:
            self.edit(self._current())

    @work(thread=True, exclusive=True, exit_on_error=False, group="goods-edit")
    def edit(self, row) -> None:
        from dadan.core.db import connection
        from dadan.core.goods import listing

        if row is None:
            return
        with connection():
            barcodes = listing.barcodes(row.id)
        self.app.call_from_thread(self._edit, row, barcodes)

    def _edit(self, row, barcodes: list[str]) -> None:
        from dadan.tui.screens.goods_form import GoodsForm

        def done(saved: bool | None) -> None:
            if saved:
                self.said = tr("Saved {c}", "已保存 {c}", c=row.code)
                self.load()

        self.app.push_screen(GoodsForm(row, barcodes), done)

    def action_add_missing(self) -> None:
        m = self._current()
        if self.view != "missing":
            self.app.bell()
            self.notify(tr("Add SKUs on the Missing view (4).", "请在“未建档”视图（4）中建档。"), severity="warning")
            return
        if m is not None:
            self.add(m.code, m.name, m.spec)

    @work(thread=True, exclusive=True, exit_on_error=False, group="goods-edit")
    def add(self, code: str, name: str, spec: str) -> None:
        from dadan.core.db import connection
        from dadan.core.goods import catalogue

        with connection():  # (refused without the "stock" permission: the app's error handler says why)
            catalogue.add([catalogue.GoodsRecord(code=code, name=name, spec=spec)], actor=self.actor,
                          reason=tr("added from the orders", "按订单建档"))
        self.app.call_from_thread(self._added, code)

    def _added(self, code: str) -> None:
        self.said = tr("Added {c} to the catalogue", "已建档 {c}", c=code)
        self.load()
