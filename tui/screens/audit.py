"""The audit log (ctrl+l): who did what, when and why, newest first.

A filter bar with the audit query language (:mod:`dadan.core.audit_query`, the same as
``dadan audit --query``: ``actor:amy action:release order:SN since:7d until:2026-11-20`` and free
text), completed as it is typed from the actions and operators in the log; a table (time,
operator, action, order, reason/detail) read a page at a time in a thread worker, keyset-paged
(``]`` next, ``[`` previous) with "1–50 of N"; Enter shows the whole event (its detail JSON
pretty); ``e`` exports what the filter matches to .xlsx or .csv (the name's extension decides).
Order numbers, times and actions are never cut; the operator's name and the reason give way."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import DataTable, Label, Static

from dadan.core.i18n import Bilingual, tr
from dadan.tui.cells import crop, fit_columns
from dadan.tui.messages import FilterChanged, FilterSubmitted
from dadan.tui.widgets.desk_base import DeskMixin, DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.desk_prompt import DeskPrompt
from dadan.tui.widgets.filter_bar import FilterBar

PAGE = 50
ACTOR_CELLS = 12  # an operator's name is a label: cropped with "…" (whole in the event's detail)
TIME_FORMAT = "%m-%d %H:%M:%S"


class AuditSuggester(Suggester):
    """Completes the term being typed (the last one): a field name, or after ``action:`` /
    ``actor:`` a value found in the log."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.values: dict[str, list[str]] = {"action": [], "actor": []}

    async def get_suggestion(self, value: str) -> str | None:
        from dadan.core.audit_query import ALIASES

        if not value or value[-1].isspace():
            return None
        head, _, last = value.rpartition(" ")
        name, colon, typed = last.partition(":")
        if not colon:
            words = [f"{f}:" for f in ALIASES]
            hit = next((w for w in words if w.startswith(last.lower()) and w != last), None)
        else:
            hit = next((f"{name}:{v}" for v in self.values.get(name.lower(), [])
                        if v.startswith(typed) and v != typed and " " not in v), None)
        return f"{head} {hit}".lstrip() if head and hit else hit


class AuditEventScreen(DeskMixin, ModalScreen[None]):
    """One event whole: every field, the detail JSON pretty."""

    DEFAULT_CSS = """
    AuditEventScreen { align: center middle; }
    AuditEventScreen > Vertical { width: 90; max-width: 100%; height: auto; max-height: 100%;
                                  border: round $accent; background: $surface; padding: 0 1; }
    AuditEventScreen VerticalScroll { height: auto; }
    AuditEventScreen #ae-body { width: 100%; }
    """
    BINDINGS = [Binding("escape,enter", "close", Bilingual("Close", "关闭"), id="audit_event.close",
                        tooltip=Bilingual("Back to the audit log", "返回审计日志"))]

    def __init__(self, row) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        from dadan.core.visible import visible

        r = self.row
        text = Text()
        for label, value in ((tr("Time", "时间"), self.fmt(r.at, "%Y-%m-%d %H:%M:%S")),
                             (tr("Operator", "操作员"), visible(r.actor) or "—"),
                             (tr("Action", "操作"), visible(r.action)),
                             (tr("Order", "订单号"), r.order_sn or "—"),
                             (tr("Target", "对象"), visible(r.target) or "—"),
                             (tr("Reason", "原因"), visible(r.reason) or "—")):
            text.append(f"{label}: ", style="bold")
            text.append(f"{value}\n")
        text.append(tr("Detail", "详情") + ":", style="bold")
        pretty = r.detail_pretty()
        text.append(("\n" + "\n".join(visible(line) for line in pretty.splitlines())) if pretty else " —")
        with Vertical():
            yield Label(tr("Audit event #{i}", "审计事件 #{i}", i=r.id), classes="prompt-title")
            with VerticalScroll(id="ae-scroll"):
                yield Static(text, id="ae-body")
            yield Label(tr("Enter / Esc: close · ↑↓ PgUp PgDn: scroll", "回车 / Esc：关闭 · ↑↓ PgUp PgDn：滚动"))

    def on_mount(self) -> None:
        self._fit()
        self.query_one("#ae-scroll").focus()  # the arrows scroll a long detail

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The detail scrolls within the terminal: the border, the title and the key line stay."""
        self.query_one("#ae-scroll").styles.max_height = max(3, self.app.size.height - 4)

    def action_close(self) -> None:
        self.dismiss(None)


class AuditScreen(DeskScreen):
    DEFAULT_CSS = """
    AuditScreen #audit-filter { padding: 0 1; }
    AuditScreen #audit-table { height: 1fr; }
    AuditScreen #audit-status { height: 1; padding: 0 1; background: $boost; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="audit.back",
                tooltip=Bilingual("Back (or leave the filter bar)", "返回（或离开筛选栏）")),
        Binding("slash", "focus_filter", Bilingual("Filter", "筛选"), id="audit.filter",
                tooltip=Bilingual("Filter: actor:amy action:release order:SN since:7d until:2026-11-20",
                                  "筛选：actor:amy action:release order:订单号 since:7d until:2026-11-20")),
        Binding("enter", "open", Bilingual("Event", "详情"), id="audit.open",
                tooltip=Bilingual("The whole event, its detail pretty", "查看整条事件及其详情")),
        Binding("right_square_bracket", "next_page", Bilingual("Next", "下一页"), id="audit.next",
                tooltip=Bilingual("The next (older) page", "下一页（更早）")),
        Binding("left_square_bracket", "prev_page", Bilingual("Prev", "上一页"), id="audit.prev",
                tooltip=Bilingual("The previous (newer) page", "上一页（更新）")),
        Binding("e", "export", Bilingual("Export", "导出"), id="audit.export",
                tooltip=Bilingual("Export what the filter matches (.xlsx or .csv)", "导出筛选结果（.xlsx 或 .csv）")),
        Binding("r", "refresh", Bilingual("Refresh", "刷新"), id="audit.refresh", show=False,
                tooltip=Bilingual("Read the log again", "重新读取日志")),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.query_text = query
        self.rows: list = []
        self.page = None
        self.suggester = AuditSuggester()

    def compose(self) -> ComposeResult:
        yield Label(tr("Audit log", "审计日志"), classes="desk-title")
        yield FilterBar(self.query_text, id="audit-filter",
                        placeholder=tr("e.g. actor:amy action:release since:7d", "例：actor:amy action:release since:7d"))
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="audit-status", markup=False)
        yield DeskFooter()

    @property
    def table(self) -> DataTable:
        return self.query_one("#audit-table", DataTable)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one("#audit-filter", FilterBar)

    def on_mount(self) -> None:
        t = self.table
        t.add_column(tr("Time", "时间"), key="time")
        t.add_column(tr("Operator", "操作员"), key="actor")
        t.add_column(tr("Action", "操作"), key="action")
        t.add_column(tr("Order", "订单号"), key="order")
        t.add_column(tr("Reason / detail", "原因 / 详情"), key="why")
        self.filter_bar.input.suggester = self.suggester
        t.focus()
        self.load()

    # ------------------------------------------------------------------ reading
    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-load")
    def load(self, after=None, before=None) -> None:
        from dadan.core import audit_query as A
        from dadan.core.db import connection
        from dadan.core.errors import QuerySyntaxError

        text = self.query_text
        with connection():
            try:
                query = A.parse(text, tz=self.tz, now=self.now())
            except QuerySyntaxError as exc:
                self.app.call_from_thread(self._show_error, exc)
                return
            page = A.page(query, after=after, before=before, limit=PAGE)
            values = {"action": A.distinct_actions(), "actor": A.distinct_actors()}
        self.app.call_from_thread(self._show, text, page, values)

    def _show_error(self, exc) -> None:
        self.filter_bar.show_error(exc)
        self.rows, self.page = [], None
        self.table.clear()
        self.query_one("#audit-status", Static).update(tr("The filter does not parse.", "筛选条件有误。"))

    def _show(self, text: str, page, values: dict) -> None:
        if text != self.query_text:
            return  # a newer filter's page is on its way
        self.filter_bar.show_error(None)
        self.suggester.values = values
        self.page, self.rows = page, page.rows
        self._render_rows()
        self._status()

    def _render_rows(self) -> None:
        t = self.table
        row = t.cursor_row
        t.clear()
        shown = []
        for r in self.rows:
            shown.append((self.fmt(r.at, TIME_FORMAT), crop(r.actor or "—", ACTOR_CELLS), r.action, r.order_sn or "—"))
        widths = {"time": [s[0] for s in shown], "actor": [s[1] for s in shown], "action": [s[2] for s in shown],
                  "order": [s[3] for s in shown]}
        fit_columns(t, widths)
        used = sum(t.columns[k].width for k in widths) + 2 * t.cell_padding * 5 + 1
        room = max(8, (self.size.width or self.app.size.width) - used)
        for r, s in zip(self.rows, shown):
            why = " · ".join(x for x in (r.reason, r.target, r.detail_words(skip=("order_sn",))) if x)
            t.add_row(*s, crop(why.replace("\n", " "), room), key=str(r.id))
        if self.rows:
            t.move_cursor(row=min(max(row, 0), len(self.rows) - 1))

    def _status(self) -> None:
        page = self.page
        if page is None:
            return
        status = self.query_one("#audit-status", Static)
        more = page.last < page.total
        keys = []
        if page.first > 1:
            keys.append(tr("[ newer", "[ 较新"))
        if more:
            keys.append(tr("] older", "] 较早"))
        if page.rows:
            keys.append(tr("Enter: whole event", "回车：整条事件"))
        status.update(crop("  ".join([page.range_text(), *keys]), max(20, self.size.width - 2)))

    # ------------------------------------------------------------------ filter
    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        self._apply(event.query)

    @on(FilterSubmitted)
    def _filter_submitted(self, event: FilterSubmitted) -> None:
        self._apply(event.query, force=True)
        self.table.focus()

    def _apply(self, text: str, force: bool = False) -> None:
        text = text.strip()
        if text == self.query_text and not force:
            return
        self.query_text = text
        self.load()

    def action_focus_filter(self) -> None:
        self.filter_bar.input.focus()

    def action_back(self) -> None:
        if self.focused is self.filter_bar.input:
            self.table.focus()
            return
        self.dismiss()

    def action_refresh(self) -> None:
        self.load()

    # ------------------------------------------------------------------ paging
    def action_next_page(self) -> None:
        page = self.page
        if page is None or not self.rows or page.last >= page.total:
            self.app.bell()
            return
        self.load(after=self.rows[-1].key)

    def action_prev_page(self) -> None:
        if self.page is None or not self.rows or self.page.first <= 1:
            self.app.bell()
            return
        self.load(before=self.rows[0].key)

    # ------------------------------------------------------------------ event, export
    def _current(self):
        if not self.rows:
            return None
        return self.rows[min(self.table.cursor_row, len(self.rows) - 1)]

    def action_open(self) -> None:
        if self.focused is self.filter_bar.input:
            return
        row = self._current()
        if row is None:
            self.app.bell()
            return
        self.app.push_screen(AuditEventScreen(row))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_export(self) -> None:
        from dadan.core.spreadsheets.export import default_export_path

        folder = self.ctx.paths.exports_dir
        default = default_export_path(folder, "audit", "xlsx", self.now(), self.tz)
        n = self.page.total if self.page else 0
        self.app.push_screen(
            DeskPrompt(tr("Export {n:,} audit events", "导出 {n:,} 条审计事件", n=n), value=str(default),
                       hint=tr("The name's ending chooses the format: .xlsx or .csv", "文件名的扩展名决定格式：.xlsx 或 .csv")),
            self._export_to)

    def _export_to(self, text: str | None) -> None:
        from dadan.core.spreadsheets.export import resolve_export_path

        if not text:
            return
        path = resolve_export_path(text, self.ctx.paths.exports_dir)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("xlsx", "csv"):
            self.app.bell()
            self.notify(tr("End the file name with .xlsx or .csv", "文件名请以 .xlsx 或 .csv 结尾"), severity="error")
            return
        self.export(path, fmt, self.query_text)

    @work(thread=True, exclusive=False, exit_on_error=False, group="audit-export")
    def export(self, path: Path, fmt: str, text: str) -> None:
        from dadan.core import audit_query as A
        from dadan.core.db import connection
        from dadan.core.spreadsheets.export import make_export_folder

        make_export_folder(path)
        with connection():
            n = A.export_events(text, fmt, path, tz=self.tz, now=self.now(), actor=self.actor)
        self.app.call_from_thread(self.notify, tr("{n:,} events written to {p}", "已写入 {n:,} 条事件：{p}", n=n,
                                                  p=str(path)), title=tr("Exported", "已导出"))

    def on_resize(self) -> None:
        if self.rows:
            self._render_rows()
