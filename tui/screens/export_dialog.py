"""Export what the order screen shows: choose what and the format, check the file name, Enter.

What (``o`` / ``s`` / ``p`` / ``d``): the orders themselves (one row per order line, the
default), the bulk-ship file for the merchant backend (订单号/快递公司/快递单号), a pick list or a
daily report. Format (``x`` / ``c`` / ``j``): xlsx (default), csv, jsonl. The orders are the
selection when there is one, otherwise every order of the current filter; the dialog counts
them. The file name is prefilled (``orders_20261120-1200.xlsx`` in the exports folder, local
time); a name without a folder goes to the exports folder, and a missing folder is created (the
rule is core's: :func:`core.spreadsheets.export.default_export_path`, ``resolve_export_path``,
``make_export_folder``). Arrows move in a list, Tab goes to the next field, Enter exports, Esc
cancels.

The dialog dismisses with an :class:`ExportRequest` (or None); the order screen runs
:func:`write_export` in a thread worker and reports the result. The export itself is
:func:`core.spreadsheets.export.export`; it only reads the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static

from dadan.core.i18n import Bilingual, tr
from dadan.core.orders.selection import Selection
from dadan.core.spreadsheets.export import default_export_path, resolve_export_path
from dadan.tui.widgets.desk_base import DeskMixin

KINDS = ("orders", "ship", "picklist", "daily")  # core.spreadsheets.export.KINDS, in the dialog's order
FORMATS = ("xlsx", "csv", "jsonl")
KIND_KEYS = {"orders": "o", "ship": "s", "picklist": "p", "daily": "d"}
FORMAT_KEYS = {"xlsx": "x", "csv": "c", "jsonl": "j"}


def kind_labels() -> dict[str, str]:
    return {
        "orders": tr("Orders, one row per order line", "订单（每个商品一行）"),
        "ship": tr("Bulk-ship file (订单号/快递公司/快递单号)", "批量发货文件（订单号/快递公司/快递单号）"),
        "picklist": tr("Pick list (quantity per SKU)", "拣货单（按商品汇总）"),
        "daily": tr("Daily report (per pay day)", "日报（按付款日汇总）"),
    }


@dataclass
class ExportRequest:
    kind: str
    fmt: str
    path: Path
    selection: Selection  # a snapshot: the selection, or every order of the filter
    now: dt.datetime  # the clock of relative filter terms (due<2h), as the table used
    tz: str
    actor: str = ""  # who exports (permission "export")


def write_export(req: ExportRequest):
    """Create the folder and export (call in a thread worker). Returns core's ExportResult;
    raises core's ExportError (in words) when the file cannot be written."""
    from dadan.core.db import connection
    from dadan.core.spreadsheets.export import export, make_export_folder

    make_export_folder(req.path)
    with connection():
        where = req.selection.where(tz=req.tz, now=req.now)
        return export(req.kind, req.fmt, req.path, where=where, tz=req.tz, actor=req.actor)


def result_text(kind: str, res) -> str:
    """The notification: rows, orders and file, and why orders were left out (ship file, pick list)."""
    from dadan.core.spreadsheets.export import left_out_message

    text = tr("{n:,} rows ({o:,} orders) written to {p}", "已写入 {n:,} 行（{o:,} 个订单）：{p}",
              n=res.rows, o=res.orders, p=res.path)
    if res.left_out > 0:
        text += "\n" + left_out_message(kind, res.left_out)
    return text


class ExportDialog(DeskMixin, ModalScreen[ExportRequest | None]):
    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical { width: 76; max-width: 100%; height: auto; max-height: 100%;
                              border: round $accent; background: $surface; padding: 0 1; }
    ExportDialog .ex-title { text-style: bold; }
    ExportDialog #ex-scope { height: auto; max-height: 2; }
    ExportDialog #ex-lists { height: auto; }
    ExportDialog #ex-kind { width: 1fr; height: auto; }
    ExportDialog #ex-format { width: 16; height: auto; margin-left: 1; }
    ExportDialog #ex-error { color: $error; height: auto; }
    ExportDialog .ex-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "export", Bilingual("Export", "导出"), id="export.start", priority=True,
                tooltip=Bilingual("Write the file", "写入文件")),
        Binding("escape", "cancel", Bilingual("Cancel", "取消"), id="export.cancel",
                tooltip=Bilingual("Close without exporting", "关闭，不导出")),
        Binding("o", "kind('orders')", Bilingual("Orders", "订单"), id="export.orders",
                tooltip=Bilingual("The orders, one row per order line", "订单，每个商品一行")),
        Binding("s", "kind('ship')", Bilingual("Ship file", "发货文件"), id="export.ship",
                tooltip=Bilingual("Bulk-ship file for the merchant backend", "商家后台批量发货文件")),
        Binding("p", "kind('picklist')", Bilingual("Pick list", "拣货单"), id="export.picklist",
                tooltip=Bilingual("Quantities per SKU", "按商品汇总数量")),
        Binding("d", "kind('daily')", Bilingual("Daily report", "日报"), id="export.daily",
                tooltip=Bilingual("Orders, items and money per day", "按天汇总订单、件数和金额")),
        Binding("x", "format('xlsx')", "xlsx", id="export.xlsx",
                tooltip=Bilingual("Excel workbook", "Excel 工作簿")),
        Binding("c", "format('csv')", "csv", id="export.csv",
                tooltip=Bilingual("CSV (UTF-8, opens in Excel)", "CSV（UTF-8，Excel 可打开）")),
        Binding("j", "format('jsonl')", "jsonl", id="export.jsonl",
                tooltip=Bilingual("JSON Lines, one order per line", "JSON Lines，每行一个订单")),
    ]

    def __init__(self, selection: Selection, *, selected: bool = False, now: dt.datetime | None = None,
                 kind: str = "orders", fmt: str = "xlsx", folder: Path | None = None) -> None:
        super().__init__()
        self.selection = selection.copy()
        self.selected = selected  # the operator's selection (not the whole filter)
        self._now = now
        self.kind = kind if kind in KINDS else "orders"
        self.fmt = fmt if fmt in FORMATS else "xlsx"
        self._folder = folder
        self._auto_name = ""  # the name last filled in (replaced when what or format changes)
        self.matching: int | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("Export", "导出"), classes="ex-title")
            yield Static(tr("Counting…", "正在统计…"), id="ex-scope", markup=False)
            with Horizontal(id="ex-lists"):
                yield OptionList(*self._kind_prompts(), id="ex-kind")
                yield OptionList(*self._format_prompts(), id="ex-format")
            yield Label(tr("File", "文件"))
            yield Input(id="ex-path")
            yield Label("", id="ex-error", markup=False)
            yield Label(tr("Enter export · o s p d what · x c j format · Tab next · Esc cancel",
                           "回车 导出 · o s p d 类型 · x c j 格式 · Tab 下一项 · Esc 取消"), classes="ex-keys")

    def _kind_prompts(self) -> list[str]:
        labels = kind_labels()
        return [f"{'●' if k == self.kind else '○'} {KIND_KEYS[k]}  {labels[k]}" for k in KINDS]

    def _format_prompts(self) -> list[str]:
        return [f"{'●' if f == self.fmt else '○'} {FORMAT_KEYS[f]}  {f}" for f in FORMATS]

    @property
    def folder(self) -> Path:
        return self._folder or self.ctx.paths.exports_dir

    def export_now(self) -> dt.datetime:
        return self._now or self.now()

    def on_mount(self) -> None:
        kinds = self.query_one("#ex-kind", OptionList)
        kinds.highlighted = KINDS.index(self.kind)
        self.query_one("#ex-format", OptionList).highlighted = FORMATS.index(self.fmt)
        self._fill_name()
        kinds.focus()
        self.count()

    # ------------------------------------------------------------------ how many
    @work(thread=True, exclusive=True, exit_on_error=False, group="export-count", description="export count")
    def count(self) -> None:
        from dadan.core.db import connection
        from dadan.core.orders.listing import count

        with connection():
            n = count(self.selection.where(tz=self.tz, now=self.export_now()))
        self.app.call_from_thread(self._show_count, n)

    def _show_count(self, n: int) -> None:
        self.matching = n
        if self.selected:
            text = tr("{n:,} selected orders", "已选 {n:,} 个订单", n=n)
        else:
            q = self.selection.query.strip() or tr("(every order)", "（全部订单）")
            text = tr("{n:,} orders of the current filter: {q}", "当前筛选的 {n:,} 个订单：{q}", n=n, q=q)
        self.query_one("#ex-scope", Static).update(text)

    # ------------------------------------------------------------------ choices
    def _fill_name(self) -> None:
        """A fresh name while the operator has not typed one; else only the extension follows."""
        field = self.query_one("#ex-path", Input)
        default = str(default_export_path(self.folder, self.kind, self.fmt, self.export_now(), self.tz))
        current = field.value.strip()
        if not current or current == self._auto_name:
            value = default
        else:
            path = Path(current)
            value = str(path.with_suffix("." + self.fmt)) if path.suffix.lstrip(".").lower() in FORMATS else current
        self._auto_name = default
        if value != field.value:
            field.value = value
            field.cursor_position = len(value)

    def _mark(self, list_id: str, prompts: list[str], index: int) -> None:
        """Show the chosen entry of a list as ticked and highlighted."""
        options = self.query_one(list_id, OptionList)
        for i, prompt in enumerate(prompts):
            options.replace_option_prompt_at_index(i, prompt)
        if options.highlighted != index:
            options.highlighted = index

    def _set_kind(self, kind: str) -> None:
        if kind == self.kind:
            return
        self.kind = kind
        self._mark("#ex-kind", self._kind_prompts(), KINDS.index(kind))
        self._fill_name()

    def _set_format(self, fmt: str, *, rename: bool = True) -> None:
        if fmt == self.fmt:
            return
        self.fmt = fmt
        self._mark("#ex-format", self._format_prompts(), FORMATS.index(fmt))
        if rename:
            self._fill_name()

    def action_kind(self, kind: str) -> None:
        self._set_kind(kind)

    def action_format(self, fmt: str) -> None:
        self._set_format(fmt)

    @on(OptionList.OptionHighlighted, "#ex-kind")
    def _kind_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._set_kind(KINDS[event.option_index])

    @on(OptionList.OptionHighlighted, "#ex-format")
    def _format_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._set_format(FORMATS[event.option_index])

    @on(Input.Changed, "#ex-path")
    def _path_changed(self, event: Input.Changed) -> None:
        """A typed extension (.csv) chooses the format, so the name and the file agree."""
        self.query_one("#ex-error", Label).update("")
        suffix = Path(event.value.strip()).suffix.lstrip(".").lower()
        if suffix in FORMATS and suffix != self.fmt:
            self._set_format(suffix, rename=False)

    # ------------------------------------------------------------------ export / cancel
    def action_export(self) -> None:
        text = self.query_one("#ex-path", Input).value.strip()
        if not text:
            self.query_one("#ex-error", Label).update(tr("Type a file name.", "请输入文件名。"))
            self.app.bell()
            self.query_one("#ex-path", Input).focus()
            return
        path = resolve_export_path(text, self.folder)
        if path.is_dir():
            self.query_one("#ex-error", Label).update(tr("{p} is a folder: add a file name.",
                                                         "{p} 是文件夹：请加上文件名。", p=path))
            self.app.bell()
            return
        self.dismiss(ExportRequest(self.kind, self.fmt, path, self.selection, self.export_now(), self.tz,
                                   self.actor))

    def action_cancel(self) -> None:
        self.dismiss(None)
