"""Filter builder: a form (status, pay time, ship-by, region, product/SKU, courier, tags, printed,
exceptions, remark flag colour) that writes the same filter language as the filter bar, shows
how many orders match, and saves the filter as a view. Dismisses with the filter text (Enter /
F10) or None (Esc)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr
from dadan.core.orders.filter_form import EXCEPTION_VALUES, FLAG_VALUES, PRINTED_VALUES, STATUS_VALUES, build_query
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.desk_prompt import DeskPrompt


def _rows():
    """(key, label, placeholder, suggestions)"""
    return [
        ("status", tr("Status", "状态"), "pending / new / printed / shipped / cancelled", STATUS_VALUES),
        ("paid_from", tr("Paid from", "付款起"), tr("2026-11-18 or yesterday", "2026-11-18 或 yesterday"), ("today", "yesterday")),
        ("paid_to", tr("Paid until", "付款止"), tr("2026-11-20 or today", "2026-11-20 或 today"), ("today", "yesterday")),
        ("due", tr("Ship within", "发货时限内"), tr("e.g. 2h, 30m, 1d", "例如 2h、30m、1d"), ("2h", "4h", "1d")),
        ("province", tr("Province", "省份"), tr("浙江,江苏", "浙江,江苏"), ()),
        ("city", tr("City", "城市"), tr("杭州", "杭州"), ()),
        ("goods", tr("Product", "商品"), tr("words of the product name", "商品名称关键字"), ()),
        ("sku", tr("SKU code", "商家编码"), "A12,B07", ()),
        ("courier", tr("Courier", "快递"), "zto / yto / sf / 中通 / none", ("zto", "yto", "sf", "sto", "yunda", "ems", "jd", "none")),
        ("tag", tr("Tag", "标签"), tr("加急", "加急"), ()),
        ("printed", tr("Printed", "已打印"), "yes / no", PRINTED_VALUES),
        ("exception", tr("Exception", "异常"), "none / any / refund / risk / address / overdue…", EXCEPTION_VALUES),
        ("flag", tr("Remark flag", "备注旗帜"), "red / yellow / green / blue / purple / any / none", FLAG_VALUES),
        ("text", tr("Free text", "任意文字"), tr("order no., memo, remark…", "订单号、留言、备注…"), ()),
    ]


class FilterBuilderScreen(DeskScreen):
    DEFAULT_CSS = """
    FilterBuilderScreen #fb-form { height: 1fr; padding: 0 1; }
    FilterBuilderScreen .fb-row { height: 1; }
    FilterBuilderScreen .fb-row Label { width: 14; }
    FilterBuilderScreen .fb-row Input { width: 1fr; height: 1; border: none; padding: 0 1; }
    FilterBuilderScreen .fb-row Input:focus { background: $accent 30%; }
    FilterBuilderScreen #fb-query { height: auto; padding: 0 1; background: $boost; }
    FilterBuilderScreen #fb-count { height: 1; padding: 0 1; }
    FilterBuilderScreen #fb-count.-error { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding("escape", "cancel", Bilingual("Cancel", "取消"), id="filter.cancel", tooltip=Bilingual("Close without applying", "关闭，不应用")),
        Binding("f10", "apply", Bilingual("Apply", "应用"), id="filter.apply", tooltip=Bilingual("Apply this filter", "应用此筛选")),
        Binding("ctrl+s", "save", Bilingual("Save view", "保存视图"), id="filter.save",
                tooltip=Bilingual("Save this filter as a view", "将此筛选保存为视图")),
        Binding("down", "focus_next", "", show=False, id="filter.next", tooltip=Bilingual("Next field", "下一项")),
        Binding("up", "focus_previous", "", show=False, id="filter.prev", tooltip=Bilingual("Previous field", "上一项")),
    ]

    def __init__(self, initial: dict[str, str] | None = None, *, sort: str = "") -> None:
        super().__init__()
        self.initial = initial or {}
        self.sort = sort
        self.query_text = ""
        self.valid = True

    def compose(self) -> ComposeResult:
        yield Label(tr("Build a filter", "筛选条件"), classes="desk-title")
        with VerticalScroll(id="fb-form"):
            for key, label, placeholder, suggestions in _rows():
                with Horizontal(classes="fb-row"):
                    yield Label(label)
                    yield Input(self.initial.get(key, ""), placeholder=placeholder, id=f"fb-{key}",
                                suggester=SuggestFromList(suggestions, case_sensitive=False) if suggestions else None)
        yield Static("", id="fb-query")
        yield Static("", id="fb-count")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#fb-status", Input).focus()
        self._changed()

    def action_focus_next(self) -> None:
        self.focus_next()

    def action_focus_previous(self) -> None:
        self.focus_previous()

    def form(self) -> dict[str, str]:
        return {inp.id.removeprefix("fb-"): inp.value for inp in self.query(".fb-row Input").results(Input)}

    def on_input_changed(self, event: Input.Changed) -> None:
        self._changed()

    def _changed(self) -> None:
        self.query_text = build_query(self.form())
        self.query_one("#fb-query", Static).update(
            tr("Filter: {q}", "筛选：{q}", q=self.query_text or tr("(everything)", "（全部）")))
        self.count(self.query_text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="filter-count")
    def count(self, text: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.listing import count
        from dadan.core.orders.query import compile_query

        try:
            with connection():
                n = count(compile_query(text, now=self.now(), tz=self.tz))  # the order table's count
        except DadanError as exc:  # a filter mistake, shown in words
            self.app.call_from_thread(self._count, text, None, exc.message)
            return
        self.app.call_from_thread(self._count, text, n, "")

    def _count(self, text: str, n: int | None, err: str) -> None:
        if text != self.query_text:
            return
        self.valid = n is not None
        st = self.query_one("#fb-count", Static)
        st.set_class(not self.valid, "-error")
        st.update(err if err else tr("{n} orders match · Enter/F10 apply · Ctrl+S save as view",
                                     "{n} 单符合 · 回车/F10 应用 · Ctrl+S 保存为视图", n=n))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def action_apply(self) -> None:
        if not self.valid:
            self.app.bell()
            return
        self.dismiss(self.query_text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if not self.valid:
            self.app.bell()
            return
        self.app.push_screen(DeskPrompt(tr("Save as view: name?", "保存为视图：名称？"), placeholder=tr("e.g. 浙江加急", "例如：浙江加急")),
                             lambda name: name and self.save(name, self.query_text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="filter-save")
    def save(self, name: str, query: str) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.views import save_view

        with connection():
            view = save_view(name, query, self.sort)
        self.app.call_from_thread(self.notify, tr("Saved view “{n}”", "已保存视图“{n}”", n=view.name))
        self.saved_view = view
