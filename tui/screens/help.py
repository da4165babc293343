"""Help: every key binding of the app and its screens, with what it does (from the bindings'
own descriptions and tooltips, so the list cannot drift from the code)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from dadan.core.i18n import Bilingual, tr
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter


def screen_classes() -> list[tuple[str, type]]:
    """(title, class) of every screen whose bindings are listed."""
    from dadan.tui.screens.audit import AuditEventScreen, AuditScreen
    from dadan.tui.screens.detail import DetailScreen
    from dadan.tui.screens.exceptions import ExceptionScreen
    from dadan.tui.screens.export_dialog import ExportDialog
    from dadan.tui.screens.filter_builder import FilterBuilderScreen
    from dadan.tui.screens.goods import GoodsScreen
    from dadan.tui.screens.goods_form import GoodsForm
    from dadan.tui.screens.handover import HandoverScreen
    from dadan.tui.screens.orders import OrdersScreen
    from dadan.tui.screens.pack import PackScreen
    from dadan.tui.screens.preview import PreviewScreen
    from dadan.tui.screens.print_dialog import PrintDialog
    from dadan.tui.screens.print_queue import PrintQueueScreen
    from dadan.tui.screens.receive import ReceiveScreen
    from dadan.tui.screens.reports import ReportsScreen
    from dadan.tui.screens.scan import ScanScreen
    from dadan.tui.screens.settings import SettingsScreen
    from dadan.tui.screens.tracking import TrackingScreen

    out: list[tuple[str, type]] = [(tr("Orders", "订单"), OrdersScreen)]
    out += [
        (tr("Print dialog", "打印确认"), PrintDialog), (tr("Export dialog", "导出"), ExportDialog),
        (tr("Print queue", "打印队列"), PrintQueueScreen),
        (tr("Exceptions", "异常订单"), ExceptionScreen), (tr("Order detail", "订单详情"), DetailScreen),
        (tr("Scan", "扫描"), ScanScreen), (tr("Tracking numbers", "录入运单号"), TrackingScreen),
        (tr("Filter builder", "筛选条件"), FilterBuilderScreen), (tr("Settings", "设置"), SettingsScreen),
        (tr("Label preview", "标签预览"), PreviewScreen),
        (tr("Goods", "商品"), GoodsScreen), (tr("Goods form", "编辑商品"), GoodsForm),
        (tr("Receive / count", "入库 / 盘点"), ReceiveScreen),
        (tr("Pack check", "验货"), PackScreen),
        (tr("Handover to the courier", "快递交接"), HandoverScreen),
        (tr("Reports", "报表"), ReportsScreen),
        (tr("Audit log", "审计日志"), AuditScreen), (tr("Audit event", "审计事件"), AuditEventScreen),
    ]
    return out


def _key_text(app, b: Binding) -> str:
    keys = b.key_display or ",".join(app.get_key_display(Binding(k.strip(), "")) for k in b.key.split(","))
    return keys


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - cell_len(text))


def help_sections(app) -> list[tuple[str, list[str]]]:
    """(title, rows) per screen, the global keys first; CJK-aware columns."""
    out: list[tuple[str, list[str]]] = []
    sections: list[tuple[str, type | None, list[Binding]]] = [
        (tr("Everywhere", "全局"), None, [b for b in app.BINDINGS if isinstance(b, Binding)])]
    sections += [(title, cls, [b for b in cls.BINDINGS if isinstance(b, Binding)]) for title, cls in screen_classes()]
    for title, cls, bindings in sections:
        if not bindings:
            continue
        rows = []
        for b in bindings:
            what = b.description or b.tooltip or b.action
            tip = b.tooltip if b.tooltip and b.tooltip != what else ""
            rows.append("  " + _pad(_key_text(app, b), 12) + _pad(what, 16) + tip)
        if cls is not None and cls.__name__ == "OrdersScreen":  # the scanner is no key binding
            rows.append("  " + _pad(tr("scanner", "扫码枪"), 12) + _pad(tr("Open order", "打开订单"), 16) + tr(
                "Scan an order or tracking number (the scan field is always ready)",
                "扫订单号或运单号（随时可扫）"))
        out.append((title, rows))
    return out


def binding_lines(app) -> list[str]:
    """Help text as plain lines: a title, its rows, a blank line, per screen."""
    lines: list[str] = []
    for title, rows in help_sections(app):
        lines += [title, *rows, ""]
    return lines


def help_content(app) -> Content:
    """The help text with bold titles, built as content rather than markup, so keys such as
    ``[`` and ``]`` show as they are."""
    parts: list[str | tuple[str, str]] = []
    for title, rows in help_sections(app):
        parts += [(title, "bold"), "\n", *(row + "\n" for row in rows), "\n"]
    return Content.assemble(*parts)


class HelpScreen(DeskScreen):
    DEFAULT_CSS = """
    HelpScreen #help-body { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q", "back", Bilingual("Back", "返回"), id="help.back", tooltip=Bilingual("Close help", "关闭帮助"))]

    def compose(self) -> ComposeResult:
        yield Label(tr("Keys", "按键"), classes="desk-title")
        if getattr(self.app, "operators_on", True) is False:  # the desk in open mode
            yield Label(tr("No operators: anyone may do anything; create the administrator with F12 or "
                           "dadan operators init NAME", "尚无操作员：任何人都可执行任何操作；创建管理员：F12 或 "
                           "dadan operators init 姓名"), id="help-operators")
        with VerticalScroll(id="help-body"):
            yield Static(help_content(self.app), id="help-text")
        yield DeskFooter()

    def action_back(self) -> None:
        self.dismiss()
