"""Receive / count: a field always ready for the barcode scanner.

Receive mode (default): each barcode (or merchant code) + Enter puts ONE of that SKU on the
shelf; ``12*6901234567890`` puts 12. The list shows what this session received (code, name,
quantity, on hand now) and how many short orders the receipts released. Count mode (F2): scan
the SKU, then type the counted quantity + Enter (or ``12*code`` at once); the difference from
on hand is recorded as a correction and shown. An unknown code turns the banner red, rings
the bell and changes nothing; so does a scan by an operator without the "stock" permission
(the banner says why).

Scans are written one after another in the order they were scanned, by one thread worker that
drains the queue (:class:`~dadan.tui.widgets.scan_field.ScanField` hands each scan over whole),
so a scanner's burst adds exactly one per scan."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from dadan.core.goods.catalogue import MAX_QTY_DIGITS, not_a_count, parse_scan
from dadan.core.i18n import Bilingual, tr
from dadan.core.visible import visible
from dadan.tui.cells import crop
from dadan.tui.shown import shown
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.scan_field import ScanField
from dadan.tui.widgets.scan_queue import ScanQueue

SCROLLBAR = 1  # the table's column for its vertical scrollbar, kept whether or not it shows


class ReceiveScreen(DeskScreen):
    DEFAULT_CSS = """
    ReceiveScreen #recv-mode { height: auto; width: 100%; padding: 0 1; text-style: bold; }
    ReceiveScreen #recv-banner { height: 3; content-align: center middle; text-style: bold; }
    ReceiveScreen #recv-banner.-ok { background: $success; color: $text; }
    ReceiveScreen #recv-banner.-info { background: $primary; color: $text; }
    ReceiveScreen #recv-banner.-warn { background: $error; color: $text; text-style: bold reverse; }
    ReceiveScreen #recv-table { height: 1fr; scrollbar-size-vertical: 1; }
    ReceiveScreen #recv-total { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("f2", "toggle_mode", Bilingual("Count mode", "盘点模式"), id="receive.mode",
                tooltip=Bilingual("Switch between receiving and counting", "在入库和盘点之间切换")),
        Binding("escape", "back", Bilingual("Back", "返回"), id="receive.back",
                tooltip=Bilingual("Leave the receive screen", "离开入库界面")),
    ]

    def __init__(self, *, count_mode: bool = False) -> None:
        super().__init__()
        self.count_mode = count_mode
        self.counting = None  # count mode: the SKU scanned, waiting for its counted quantity
        self.session: dict[int, list] = {}  # goods id -> [code, name, qty this session, on hand]
        self.released = 0  # short orders released by this session's receipts and counts
        self.outcomes: list = []  # every scan's answer, in order: Received, or None (unknown code)
        self.scans = ScanQueue(self, self._handle, group="receive")  # (kind, code, qty), in order

    def compose(self) -> ComposeResult:
        yield Label(tr("Receive / count", "入库 / 盘点"), classes="desk-title")
        yield Label("", id="recv-mode")
        yield ScanField(placeholder=self._placeholder(), id="recv-input")
        yield Static("", id="recv-banner", markup=False)
        yield DataTable(id="recv-table", cursor_type="none", cell_padding=0)
        yield Static("", id="recv-total", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self._show_mode()
        self.call_after_refresh(self._table)  # the columns fit the table once it is laid out
        self.query_one(ScanField).focus()

    def on_screen_resume(self) -> None:
        self.query_one(ScanField).focus()

    def _placeholder(self) -> str:
        """What the field takes now: a code (receiving, or the SKU to count), or the count."""
        if not self.count_mode:
            return tr("Scan a barcode or type a code (12*code adds 12), then Enter",
                      "扫描条码或输入编码（12*编码 入库 12 件），按回车")
        if self.counting is None:
            return tr("Scan the SKU to count (or 12*code: it holds 12), then Enter",
                      "扫描要盘点的商品（或 12*编码：共 12 件），按回车")
        return tr("Type the pieces counted, then Enter (or scan the next SKU)", "输入清点的件数并回车（或扫描下一个商品）")

    def _show_mode(self) -> None:
        if self.is_mounted:
            self.query_one(ScanField).placeholder = self._placeholder()
        if not self.count_mode:
            text = tr("Mode: RECEIVE — each scan adds 1 (F2: count)", "模式：入库 — 每扫一次加 1（F2：盘点）")
        elif self.counting is None:
            text = tr("Mode: COUNT — scan the SKU, then type the counted quantity (F2: receive)",
                      "模式：盘点 — 先扫商品，再输入盘点数量（F2：入库）")
        else:
            text = tr("Count {c} (on hand {n}): type the counted quantity + Enter",
                      "盘点 {c}（库存 {n}）：输入盘点数量并回车", c=shown(self.counting.code), n=f"{self.counting.on_hand:,}")
        self.query_one("#recv-mode", Label).update(text)

    def action_toggle_mode(self) -> None:
        self.count_mode = not self.count_mode
        self.counting = None
        self._show_mode()
        self.query_one(ScanField).focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_input_submitted(self, event: ScanField.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        qty, code = parse_scan(text)
        if not self.count_mode:
            if qty == 0:
                self._banner("warn", tr("A quantity of 0 adds nothing", "数量为 0，未入库"))
                return
            self._enqueue("receive", code, qty or 1)
        elif qty is not None:
            self._enqueue("count", code, qty)
        elif self.counting is not None and text.isdigit() and len(text) <= MAX_QTY_DIGITS:  # a barcode is longer
            self._enqueue("count", self.counting.code, int(text))
            self.counting = None
        elif self.counting is not None and not_a_count(text):  # (not read as a code: it is none)
            self._banner("warn", tr("Not a count: {t} — type the pieces counted, a whole number up to {m}",
                                    "不是盘点数量：{t} — 请输入清点的件数（不超过 {m} 的整数）",
                                    t=text, m=f"{10 ** MAX_QTY_DIGITS - 1:,}"))
        else:
            self._enqueue("look", code, 0)

    def _enqueue(self, kind: str, code: str, qty: int) -> None:
        self.scans.put((kind, code, qty))

    def _handle(self, job: tuple) -> None:
        """One scan, in the worker. A refusal (no "stock" permission) is the red banner with its
        one-line reason; nothing changed."""
        from dadan.core.goods import receiving
        from dadan.core.operators import PermissionDenied

        kind, code, qty = job
        try:
            if kind == "receive":
                got = receiving.receive(code, qty, actor=self.actor)
            elif kind == "count":
                got = receiving.count(code, qty, actor=self.actor)
            else:
                got = receiving.look_up(code)
        except PermissionDenied as exc:
            self.app.call_from_thread(self._refused, kind, exc.message)
            return
        self.app.call_from_thread(self._done, kind, code, got)

    def _refused(self, kind: str, reason: str) -> None:
        if kind == "count":
            self.counting = None
            self._show_mode()
        self._banner("warn", "✖ " + reason + tr(" — nothing changed", " — 未做任何更改"))

    def _done(self, kind: str, code: str, got) -> None:
        self.outcomes.append(got)
        if got is None:
            self._banner("warn", "✖ ✖ ✖  " + tr("UNKNOWN CODE {c} — nothing changed", "未知条码 {c} — 未做任何更改",
                                                c=code) + "  ✖ ✖ ✖")
            return
        if kind == "look":
            self.counting = got
            self._show_mode()
            self._banner("info", tr("{c} {n}: on hand {h} — type the counted quantity", "{c} {n}：库存 {h} — 请输入盘点数量",
                                    c=got.code, n=got.name, h=f"{got.on_hand:,}"))
            return
        self.released += got.released
        line = self.session.setdefault(got.goods_id, [got.code, got.name, 0, got.on_hand])
        line[2] += got.qty
        line[3] = got.on_hand
        freed = tr(" · released {r} order(s)", " · 解除 {r} 单缺货", r=got.released) if got.released else ""
        if kind == "count":
            self._show_mode()
            short = tr(" · {n} order(s) now SHORT: they wait for stock", " · {n} 单因此缺货：等待到货",
                       n=got.raised) if got.raised else ""
            self._banner("warn" if got.raised else "ok", tr(
                "✔ Counted {c}: {n} (correction {d:+,})", "✔ 已盘点 {c}：{n}（差异 {d:+,}）",
                c=got.code, n=f"{got.on_hand:,}", d=got.qty) + freed + short)
        else:
            self._banner("ok", tr("✔ +{q} {c} · on hand {n}", "✔ +{q} {c} · 库存 {n}", q=f"{got.qty:,}", c=got.code,
                                  n=f"{got.on_hand:,}") + freed)
        self._table()

    def _table(self) -> None:
        t = self.query_one(DataTable)
        lines = list(self.session.values())
        t.clear(columns=True)
        code_w = max([cell_len(tr("Code", "编码"))] + [cell_len(c) for c, *_ in lines]) + 1
        q_w = max([cell_len(tr("Qty", "数量"))] + [len(f"{q:+,}") for _c, _n, q, _h in lines]) + 1
        h_w = max([cell_len(tr("On hand", "库存"))] + [len(f"{h:,}") for *_x, h in lines]) + 1
        room = max(8, t.size.width - SCROLLBAR - code_w - q_w - h_w - 1)
        t.add_column(" " + tr("Code", "编码"), key="code", width=code_w)
        t.add_column(" " + tr("Name", "名称"), key="name", width=room)
        t.add_column(Text(tr("Qty", "数量"), justify="right"), key="qty", width=q_w)
        t.add_column(Text(tr("On hand", "库存"), justify="right"), key="on_hand", width=h_w)
        for code, name, qty, on_hand in reversed(lines):  # the latest first
            t.add_row(" " + shown(code), " " + shown(crop(name, room - 1)), Text(f" {qty:+,}", justify="right"),
                      Text(f" {on_hand:,}", justify="right"))
        total = sum(q for _c, _n, q, _h in lines)
        self.query_one("#recv-total", Static).update(
            tr("This session: {q} piece(s) of {s} SKU(s) · {r} short order(s) released",
               "本次：{s} 个商品共 {q} 件 · 解除 {r} 单缺货", q=f"{total:+,}", s=len(lines), r=self.released))

    def _banner(self, kind: str, text: str) -> None:
        banner = self.query_one("#recv-banner", Static)
        for k in ("ok", "info", "warn"):
            banner.set_class(k == kind, f"-{k}")
        banner.update(visible(text))
        if kind == "warn" and self.ctx.settings.ui.scan_bell:
            self.app.bell()
