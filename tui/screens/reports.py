"""Reports (F11): per day, week or month over a range (the last 14 days, 8 weeks or 6 months;
``[`` and ``]`` move it back and forth): a table of orders, parcels, printed, shipped,
exceptions, overdue rate and pay -> ship hours, then bar charts of orders and shipped per
period, exceptions by kind, the courier shares, by shop and by operator
(:mod:`dadan.core.reports`). Paid amounts only with ``$``, when the screen allows money (the
caller decides from the "finance reports" permission).

The figures are read in a worker thread. Everything is text in one scrolling column: tables keep
their numbers whole (a table wider than the screen scrolls sideways), bars are ``█``/``▌`` glyphs
so they show in 16 colours and with NO_COLOR."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from dadan.core.i18n import Bilingual, tr
from dadan.tui.cells import crop
from dadan.tui.widgets.bars import bar_lines
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter

PERIOD_KEYS = {"day": "d", "week": "w", "month": "m"}


def period_name(period: str) -> str:
    return {"day": tr("Day", "日"), "week": tr("Week", "周"), "month": tr("Month", "月")}[period]


def _n(x: int) -> str:
    return f"{x:,}"


def table_lines(headers: list[str], rows: list[list[str]], *, total: bool = False, first_max: int = 20) -> list[Text]:
    """An aligned table: the first column left (cropped past ``first_max``), numbers right, whole."""
    if not rows:
        return []
    rows = [[crop(r[0], first_max)] + r[1:] for r in rows]
    grid = [headers] + rows
    widths = [max(cell_len(r[i]) for r in grid) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        cells = [r[0] + " " * (widths[0] - cell_len(r[0]))]
        cells += [" " * (widths[i] - cell_len(t)) + t for i, t in enumerate(r) if i]
        return " ".join(cells)

    out = [Text(line(headers), style="bold")]
    for i, r in enumerate(rows):
        out.append(Text(line(r), style="bold" if total and i == len(rows) - 1 else ""))
    return out


class ReportsScreen(DeskScreen):
    DEFAULT_CSS = """
    ReportsScreen #reports-head { height: 1; padding: 0 1; }
    ReportsScreen #reports-body { height: 1fr; overflow-x: auto; scrollbar-size-vertical: 1; }
    ReportsScreen #reports-text { width: auto; min-width: 100%; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="reports.back", tooltip=Bilingual("Back", "返回")),
        Binding("d", "period('day')", Bilingual("Day", "日"), id="reports.day",
                tooltip=Bilingual("One row per day (the last 14 days)", "按日（最近 14 天）")),
        Binding("w", "period('week')", Bilingual("Week", "周"), id="reports.week",
                tooltip=Bilingual("One row per week, Monday to Sunday (the last 8 weeks)", "按周，周一至周日（最近 8 周）")),
        Binding("m", "period('month')", Bilingual("Month", "月"), id="reports.month",
                tooltip=Bilingual("One row per month (the last 6 months)", "按月（最近 6 个月）")),
        Binding("left_square_bracket", "move(1)", Bilingual("Earlier", "往前"), id="reports.earlier",
                tooltip=Bilingual("The range before this one", "上一段时间")),
        Binding("right_square_bracket", "move(-1)", Bilingual("Later", "往后"), id="reports.later",
                tooltip=Bilingual("The range after this one", "下一段时间")),
        Binding("dollar_sign", "money", Bilingual("Money", "金额"), id="reports.money", show=False,
                tooltip=Bilingual("Show or hide paid amounts (finance reports)", "显示或隐藏实付金额（财务报表）")),
        Binding("r", "reload", Bilingual("Refresh", "刷新"), id="reports.reload", show=False,
                tooltip=Bilingual("Read the figures again", "重新读取数据")),
    ]

    def __init__(self, period: str = "day", *, allow_money: bool = True) -> None:
        super().__init__()
        self.period = period
        self.span_back = 0  # spans back from the current one
        self.allow_money = allow_money
        self.money = False
        self.report = None

    def compose(self) -> ComposeResult:
        yield Label(tr("Reports", "报表"), classes="desk-title")
        yield Static("", id="reports-head", markup=False)
        with VerticalScroll(id="reports-body"):
            yield Static(tr("Reading the figures…", "正在读取数据…"), id="reports-text", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#reports-body").focus()
        self._head()
        self.load()

    # ------------------------------------------------------------------ actions
    def action_back(self) -> None:
        self.dismiss(None)

    def action_period(self, period: str) -> None:
        if period != self.period:
            self.period, self.span_back = period, 0
            self._head()
            self.load()

    def action_move(self, step: int) -> None:
        if self.span_back + step < 0:
            self.notify(tr("This is the latest range.", "已是最近的范围。"))
            return
        self.span_back += step
        self._head()
        self.load()

    def action_money(self) -> None:
        from dadan.core.operators import may

        if not (self.allow_money and may(self.actor, "finance")):
            self.notify(tr("Paid amounts need the finance reports permission.", "查看金额需要财务报表权限。"),
                        severity="warning")
            return
        self.money = not self.money
        self.load()

    def action_reload(self) -> None:
        self.load()

    # ------------------------------------------------------------------ reading
    @work(thread=True, exclusive=True, exit_on_error=False, group="reports-load")
    def load(self) -> None:
        from dadan.core.db import connection
        from dadan.core.reports.figures import build_report

        key = (self.period, self.span_back, self.money)
        with connection():
            report = build_report(self.period, tz=self.tz, now=self.now(), include_money=self.money,
                                  offset=self.span_back, actor=self.actor)
        self.app.call_from_thread(self._show, key, report)

    def _show(self, key, report) -> None:
        if key != (self.period, self.span_back, self.money):
            return  # superseded: its own read follows
        self.report = report
        self._head()
        self._draw()

    def on_resize(self) -> None:
        if self.report is not None:
            self._draw()

    # ------------------------------------------------------------------ drawing
    def _head(self) -> None:
        periods = "  ".join(f"[{PERIOD_KEYS[p]}]{period_name(p)}" if p != self.period else
                            f"<{PERIOD_KEYS[p]}>{period_name(p)}" for p in PERIOD_KEYS)
        span = ""
        if self.report is not None and self.report.period == self.period:
            span = f"{self.report.first} ~ {self.report.last}"
        money = "   ¥" if self.money else ""
        self.query_one("#reports-head", Static).update(f"{periods}   {span}   [ ] " + tr("move", "移动") + money)

    def _draw(self) -> None:
        r = self.report
        width = max(40, self.size.width - 3)
        lines: list[Text] = []

        def section(title: str, body: list[Text], empty: str | None = None) -> None:
            lines.append(Text(title, style="bold underline"))
            lines.extend(body or [Text(empty or tr("(none in this range)", "（此范围内没有）"), style="italic")])
            lines.append(Text(""))

        head = [tr("Period", "周期"), tr("Orders", "订单"), tr("Parcels", "包裹"), tr("Printed", "打印"),
                tr("Shipped", "发货"), tr("Exc", "异常"), tr("Late%", "超时%"), tr("Pay→ship h", "付→发时")]
        if r.include_money:
            head.append(tr("Paid ¥", "实付¥"))

        def cells(f, label: str) -> list[str]:
            c = [label, _n(f.orders), _n(f.parcels), _n(f.printed), _n(f.shipped), _n(f.exception_orders),
                 "-" if f.overdue_rate is None else f"{f.overdue_rate:.1f}",
                 "-" if f.avg_ship_hours is None else f"{f.avg_ship_hours:.1f}"]
            if r.include_money:
                c.append(f"{(f.money_fen or 0) / 100:,.2f}")
            return c

        rows = [cells(f, f.bucket.label) for f in r.rows] + [cells(r.total, tr("Total", "合计"))]
        section(tr("Totals", "汇总"), table_lines(head, rows, total=True))

        def per_period(attr: str, style: str) -> list[Text]:
            return bar_lines([(f.bucket.label, getattr(f, attr), _n(getattr(f, attr))) for f in r.rows], width,
                             style=style)

        section(tr("Orders per period", "每期订单"), per_period("orders", "cyan"))
        section(tr("Shipped per period", "每期发货"), per_period("shipped", "green"))

        from dadan.core.orders.rules import FLAG_BY_KEY, flag_label

        exc = [(flag_label(FLAG_BY_KEY[k]), r.total.exceptions[k], _n(r.total.exceptions[k]))
               for k in r.exception_kinds]
        section(tr("Exceptions by kind", "异常分类"), bar_lines(exc, width, style="yellow"))
        couriers = [(c.name, c.shipped, f"{c.shipped:,} {c.share:5.1f}%") for c in r.couriers]
        section(tr("Shipped by courier", "快递公司占比"), bar_lines(couriers, width, style="magenta"))
        shops = [(s.name, s.orders, _n(s.orders)) for s in r.shops]
        shop_rows = [[s.name, _n(s.orders), _n(s.printed), _n(s.shipped)]
                     + ([f"{(s.money_fen or 0) / 100:,.2f}"] if r.include_money else []) for s in r.shops]
        shop_head = [tr("Shop", "店铺"), tr("Orders", "订单"), tr("Printed", "打印"), tr("Shipped", "发货")]
        if r.include_money:
            shop_head.append(tr("Paid ¥", "实付¥"))
        section(tr("By shop (orders)", "按店铺（订单）"),
                bar_lines(shops, width, style="cyan") + ([Text("")] + table_lines(shop_head, shop_rows) if shops else []))
        op_rows = [[o.actor or tr("(unknown)", "（未知）"), _n(o.printed), _n(o.packed), _n(o.shipped)]
                   for o in r.operators]
        ops = [(o.actor or tr("(unknown)", "（未知）"), o.printed + o.packed + o.shipped,
                _n(o.printed + o.packed + o.shipped)) for o in r.operators]
        section(tr("By operator (labels printed, packed, shipped)", "按操作员（打印、验货、发货）"),
                table_lines([tr("Operator", "操作员"), tr("Printed", "打印"), tr("Packed", "验货"),
                             tr("Shipped", "发货")], op_rows)
                + ([Text("")] + bar_lines(ops, width, style="blue") if ops else []))
        self.query_one("#reports-text", Static).update(Text("\n").join(lines))
