"""Import screen: a spreadsheet file -> dry-run summary -> confirm.

Steps, all file and database work in thread workers calling :mod:`core.spreadsheets`:
1. analyse: open the file, pick the sheet (asks when several look like orders), find the
   columns (asks for a mapping when unknown), validate every row and count new / updated /
   unchanged / rejected WITHOUT writing;
2. the mapping step (unknown layouts): a preview of the first rows and a choice of column per
   field; the mapping is saved under a name and reused for files with the same headers;
3. the summary with the rejected rows; ``i`` imports (all or nothing; ``p`` accepts a partial
   import), ``r`` writes the rejects file, a progress bar follows large files.

The screen dismisses with the :class:`core.spreadsheets.commit.ImportOutcome` (or None if cancelled).
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, OptionList, ProgressBar, Select, Static

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr
from dadan.core.visible import visible
from dadan.tui.shown import shown
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.error_modal import WorkerErrorsToApp


class ImportScreen(WorkerErrorsToApp, Screen):
    DEFAULT_CSS = """
    ImportScreen { layout: vertical; }
    ImportScreen #imp-title { text-style: bold; padding: 0 1; }
    ImportScreen #imp-status { height: auto; padding: 0 1; }
    ImportScreen #imp-status.-error { background: $error; color: $text; }
    ImportScreen #imp-progress { padding: 0 1; }
    ImportScreen #imp-sheets { height: auto; max-height: 12; }
    ImportScreen #imp-mapping { height: 1fr; }
    ImportScreen #imp-preview { height: 5; }
    ImportScreen #imp-mapname { width: 1fr; }
    ImportScreen .imp-field { height: 3; }
    ImportScreen .imp-field Label { width: 24; padding: 1 1; }
    ImportScreen .imp-field Select { width: 40; }
    ImportScreen #imp-summary { height: auto; padding: 0 1; text-style: bold; }
    ImportScreen #imp-rejects { height: 1fr; }
    ImportScreen #imp-reject-detail { height: auto; max-height: 4; padding: 0 1; }
    ImportScreen .-hidden { display: none; }
    """
    BINDINGS = [
        Binding("escape", "close", Bilingual("Close", "关闭"), id="import.close", tooltip=Bilingual("Close the import", "关闭导入")),
        Binding("i", "confirm", Bilingual("Import", "导入"), id="import.confirm",
                tooltip=Bilingual("Write the import to the database", "确认导入")),
        Binding("p", "partial", Bilingual("Partial", "部分导入"), id="import.partial",
                tooltip=Bilingual("Accept importing only the good rows", "允许只导入正确的行")),
        Binding("a", "accept_changes", Bilingual("Accept changes", "接受变化"), id="import.accept_changes",
                tooltip=Bilingual("Accept updates that drop items or change amounts", "接受减少商品或改变金额的更新")),
        Binding("r", "rejects", Bilingual("Rejects file", "导出错误行"), id="import.rejects",
                tooltip=Bilingual("Write the rejected rows to an xlsx with an error column", "把被拒绝的行写入 xlsx")),
        Binding("ctrl+s", "apply_mapping", Bilingual("Apply mapping", "应用列映射"), id="import.apply_mapping",
                tooltip=Bilingual("Use (and save) this column mapping", "使用并保存此列映射")),
    ]

    def __init__(self, path: str | Path, *, shop_id: int | None, actor: str = "", tz: str = "Asia/Shanghai",
                 mask_buyer: bool = True, name: str | None = None) -> None:
        super().__init__(name=name)
        self.path = Path(path)
        self.mask_buyer = mask_buyer  # the mapping preview masks buyer names, phones and addresses
        self.shop_id = shop_id
        self.actor = actor
        self.tz = tz
        self.plan = None
        self.map_layout = None  # the layout being mapped
        self.mapping_step = False  # the mapping step is showing
        self.sheet: str | None = None
        self.allow_partial = False
        self.accept_changes = False  # updates that drop an order's items or change its amount
        self.busy = False
        self.outcome = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Label(tr("Import {f}", "导入 {f}", f=shown(self.path.name)), id="imp-title")
        yield Static(tr("Reading the file…", "正在读取文件…"), id="imp-status")
        yield ProgressBar(id="imp-progress", show_eta=False)
        yield OptionList(id="imp-sheets", classes="-hidden")
        with Vertical(id="imp-mapping", classes="-hidden"):
            yield Static(tr("Unknown columns: choose the column for each field (Tab: next field, Enter: choose, "
                            "Ctrl+S: apply)", "无法识别的列：请为每个字段选择对应的列（Tab：下一个字段，回车：选择，"
                            "Ctrl+S：应用）"))
            yield DataTable(id="imp-preview", show_cursor=False)
            with Horizontal(classes="imp-field"):  # (the button beside the name: rows left for the fields)
                yield Label(tr("Save mapping as", "列映射名称"))
                yield Input(value=self.path.stem, id="imp-mapname")
                yield Button(tr("Apply mapping", "应用列映射"), id="imp-apply", variant="primary")
            yield VerticalScroll(id="imp-fields")
        yield Static("", id="imp-summary")
        yield DataTable(id="imp-rejects", cursor_type="row", classes="-hidden")
        yield Static("", id="imp-reject-detail", classes="-hidden")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.analyse()

    # ------------------------------------------------------------------ helpers (UI thread)
    def _status(self, text: str, error: bool = False) -> None:
        st = self.query_one("#imp-status", Static)
        st.update(text)
        st.set_class(error, "-error")

    def _progress(self, phase: str, done: int, total: int) -> None:
        """Called from the worker thread (throttled by core: ~100 updates per file)."""
        label = {"check": tr("Checking rows", "检查行"), "write": tr("Writing", "写入")}.get(phase, phase)

        def show() -> None:
            self.query_one(ProgressBar).update(total=max(total, 1), progress=done)
            self._status(f"{label} {done:,}/{total:,}")

        self.app.call_from_thread(show)

    def _hide(self, selector: str, hidden: bool = True) -> None:
        self.query_one(selector).set_class(hidden, "-hidden")

    # ------------------------------------------------------------------ workers
    @work(thread=True, exclusive=True, exit_on_error=False, group="import", description="analyse import file")
    def analyse(self, mapping: dict | None = None, save_as: str = "") -> None:
        from dadan.core.db import connection
        from dadan.core.orders.couriers import CourierBook
        from dadan.core.spreadsheets.errors import NeedsMapping, NeedsSheet
        from dadan.core.spreadsheets.layout import prepare
        from dadan.core.spreadsheets.mappings import SavedMappings
        from dadan.core.spreadsheets.plan import plan_import

        try:
            with connection():
                saved = SavedMappings()
                if mapping is not None and save_as and self.map_layout is not None:
                    saved.save(save_as, self.map_layout.headers, mapping)
                layout = prepare(self.path, sheet=self.sheet, mapping=mapping, saved=saved)
                plan = plan_import(layout, shop_id=self.shop_id, tz=self.tz, progress=self._progress,
                                   couriers=CourierBook.from_database())
        except NeedsSheet as exc:
            self.app.call_from_thread(self._ask_sheet, exc.sheets, shown(exc.message))
            return
        except NeedsMapping as exc:
            self.app.call_from_thread(self._ask_mapping, exc.layout, shown(exc.message))
            return
        except DadanError as exc:
            self.app.call_from_thread(self._status, shown(exc.message), True)
            return
        self.app.call_from_thread(self._show_plan, plan)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import", description="write import")
    def commit(self) -> None:
        from dadan.core.db import connection
        from dadan.core.spreadsheets.commit import commit_import

        try:
            with connection():
                out = commit_import(self.plan, actor=self.actor, allow_partial=self.allow_partial,
                                    accept_changes=self.accept_changes, progress=self._progress)
        except DadanError as exc:
            self.app.call_from_thread(self._status, shown(exc.message), True)
            self.busy = False
            return
        self.app.call_from_thread(self._committed, out)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import-rejects", description="rejects file")
    def save_rejects(self) -> None:
        from dadan.core.spreadsheets.rejects import write_rejects

        try:
            path = write_rejects(self.plan)
        except DadanError as exc:
            self.app.call_from_thread(self._status, shown(exc.message), True)
            return
        self.app.call_from_thread(self._status, tr("rejected rows written to {p}", "被拒绝的行已写入 {p}", p=path))

    # ------------------------------------------------------------------ steps (UI thread)
    def _ask_sheet(self, sheets: list[str], message: str) -> None:
        self._status(message)
        ol = self.query_one("#imp-sheets", OptionList)
        ol.clear_options()
        ol.add_options(sheets)
        self._hide("#imp-sheets", False)
        ol.focus()

    @on(OptionList.OptionSelected, "#imp-sheets")
    def _sheet_chosen(self, event: OptionList.OptionSelected) -> None:
        self.sheet = str(event.option.prompt)
        self._hide("#imp-sheets")
        self._status(tr("Reading sheet {s}…", "正在读取工作表 {s}…", s=self.sheet))
        self.analyse()

    def _ask_mapping(self, layout, message: str) -> None:
        from dadan.core.spreadsheets.fields import FIELDS

        self.map_layout = layout
        self.mapping_step = True
        self._status(message)
        self._hide("#imp-mapping", False)
        self.refresh_bindings()
        table = self.query_one("#imp-preview", DataTable)
        table.can_focus = False  # (read only: Tab passes it by)
        table.clear(columns=True)
        table.add_columns(*[shown(h or f"#{i + 1}") for i, h in enumerate(layout.headers)])
        for row in layout.preview(5, masked=self.mask_buyer):
            table.add_row(*[shown(c) for c in (row + [""] * len(layout.headers))[: len(layout.headers)]])
        box = self.query_one("#imp-fields", VerticalScroll)
        box.remove_children()
        options = [(shown(h) or f"#{i + 1}", i) for i, h in enumerate(layout.headers)]
        rows = []
        for f in FIELDS:
            sel = Select(options, prompt=tr("(not in file)", "（无此列）"), allow_blank=True, id=f"imp-map-{f.key}")
            if f.key in layout.mapping:
                sel.value = layout.mapping[f.key]
            rows.append(Horizontal(Label(f.label() + (" *" if f.key == "order_sn" else "")), sel,
                                   classes="imp-field"))
        box.mount_all(rows)
        # the first field to choose has the focus (Tab goes on to the next): the order number,
        # the one a file must give
        self.call_after_refresh(lambda: self.query_one("#imp-map-order_sn", Select).focus())

    def _mapping_choice(self) -> dict[str, int]:
        from dadan.core.spreadsheets.fields import FIELDS

        out: dict[str, int] = {}
        for f in FIELDS:
            sel = self.query_one(f"#imp-map-{f.key}", Select)
            if isinstance(sel.value, int):
                out[f.key] = sel.value
        return out

    def action_apply_mapping(self) -> None:
        if not self.mapping_step:
            return
        mapping = self._mapping_choice()
        if "order_sn" not in mapping:
            self._status(tr("choose the column with the order number", "请选择订单号所在的列"), True)
            return
        name = self.query_one("#imp-mapname", Input).value.strip()
        self.mapping_step = False
        self._hide("#imp-mapping")
        self.refresh_bindings()
        self._status(tr("Checking rows…", "正在检查…"))
        self.analyse(mapping, name)

    @on(Button.Pressed, "#imp-apply")
    def _apply_pressed(self) -> None:
        self.action_apply_mapping()

    def _show_plan(self, plan) -> None:
        self.plan = plan
        self.query_one(ProgressBar).update(total=1, progress=1)
        where = plan.layout.sheet + (f" [{plan.layout.encoding}]" if plan.layout.encoding else "")
        mapping = tr(", mapping {m}", "，列映射 {m}", m=plan.layout.mapping_name) if plan.layout.mapping_name else ""
        self._status(tr("{w}: {n:,} rows{m}. Nothing has been written yet.", "{w}：{n:,} 行{m}。尚未写入任何数据。",
                        w=shown(where), n=plan.rows_total, m=shown(mapping)))
        self._update_summary()
        table = self.query_one("#imp-rejects", DataTable)
        table.clear(columns=True)
        if plan.rejects:
            table.add_columns(tr("Row", "行"), tr("Column", "列"), tr("Problem", "问题"))
            for r in plan.rejects[:500]:
                table.add_row(str(r.row), shown(r.column), shown(r.message))
        self._hide("#imp-rejects", not plan.rejects)
        self._hide("#imp-reject-detail", not plan.rejects)
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#imp-rejects")
    def _reject_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The whole of the highlighted reject (the table cuts long messages at 80 columns)."""
        if self.plan is not None and 0 <= event.cursor_row < min(len(self.plan.rejects), 500):
            self.query_one("#imp-reject-detail", Static).update(shown(self.plan.rejects[event.cursor_row].text()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys show in the footer only at the step where they do something."""
        if action == "apply_mapping":
            return self.mapping_step
        if action in ("partial", "rejects"):
            return self.plan is not None and bool(self.plan.rejects)
        if action == "accept_changes":
            return self.plan is not None and bool(self.plan.counts.losses)
        if action == "confirm":
            return self.plan is not None and not (self.outcome is not None and self.outcome.committed)
        return True

    def _update_summary(self) -> None:
        if self.plan is None:
            return
        text = self.plan.summary()
        if self.plan.rejects:
            if self.allow_partial:
                text += "\n" + tr("Partial import accepted: i imports the good rows only",
                                  "已允许部分导入：按 i 只导入正确的行")
            else:
                text += "\n" + tr("All or nothing: p accepts a partial import, r writes the rejected rows to a file",
                                  "全部或全不：按 p 允许部分导入，按 r 导出被拒绝的行")
        losses = self.plan.counts.losses
        if losses:
            text += "\n" + "\n".join(visible(t) for t in losses[:5]) + (
                tr("\n… and {n} more", "\n……还有 {n} 个", n=len(losses) - 5) if len(losses) > 5 else "")
            text += "\n" + (tr("Changes accepted: i writes them", "已接受这些变化：按 i 写入") if self.accept_changes else
                            tr("These updates drop items or change amounts: a accepts them",
                               "这些更新会减少商品或改变金额：按 a 接受"))
        if not self.plan.rejects and not losses:
            text += "\n" + tr("Press i to import", "按 i 确认导入")
        self.query_one("#imp-summary", Static).update(escape(text))  # file text in it is visible() already

    def _committed(self, out) -> None:
        self.busy = False
        self.outcome = out
        self.refresh_bindings()
        self._status(shown(out.message), error=not out.committed)
        if out.committed:
            self.query_one("#imp-summary", Static).update(shown(out.message) + "\n" + tr(
                "Esc closes", "按 Esc 关闭"))

    # ------------------------------------------------------------------ actions
    def action_confirm(self) -> None:
        if self.plan is None or self.busy or (self.outcome is not None and self.outcome.committed):
            return
        if self.plan.rejects and not self.allow_partial:
            self._status(tr("rows were rejected: press p to accept a partial import",
                            "有被拒绝的行：按 p 允许部分导入"), True)
            return
        if self.plan.counts.losses and not self.accept_changes:
            self._status(tr("some updates drop items or change amounts: press a to accept them",
                            "部分更新会减少商品或改变金额：按 a 接受"), True)
            return
        self.busy = True
        self._status(tr("Writing…", "正在写入…"))
        self.commit()

    def action_partial(self) -> None:
        if self.plan is not None and self.plan.rejects and not self.busy:
            self.allow_partial = not self.allow_partial
            self._update_summary()

    def action_accept_changes(self) -> None:
        if self.plan is not None and self.plan.counts.losses and not self.busy:
            self.accept_changes = not self.accept_changes
            self._update_summary()

    def action_rejects(self) -> None:
        if self.plan is not None and self.plan.rejects:
            self.save_rejects()

    def action_close(self) -> None:
        if self.busy:
            return
        self.dismiss(self.outcome)


def choose_import_shop(app, then) -> None:
    """The shop an import goes to, by :func:`core.platform.shops.resolve_shop`'s rule: the only
    shop; with several, the operator names one; with none, the operator is asked for the name of
    the shop to create (nothing is created unless they confirm). ``then(shop_id)`` follows."""
    from dadan.core.platform.shops import NoShops, SeveralShops, UnknownShop, resolve_shop
    from dadan.tui.widgets.desk_prompt import DeskPrompt

    try:
        shop = resolve_shop(None)
    except SeveralShops as exc:
        def named(name: str | None) -> None:
            if name is None:
                return
            try:
                chosen = resolve_shop(name)
            except UnknownShop as unknown:
                app.notify(unknown.message, severity="error")
                return
            then(chosen.id)

        app.push_screen(DeskPrompt(tr("Import into which shop?", "导入到哪个店铺？"), value=exc.names[0],
                                   hint=" · ".join(exc.names)), named)
        return
    except NoShops:
        def create(name: str | None) -> None:
            if name:
                then(resolve_shop(name, create=True).id)

        app.push_screen(DeskPrompt(tr("There is no shop yet: create one for this import?", "还没有店铺：为这次导入新建一个？"),
                                   value=tr("Default shop", "默认店铺"),
                                   hint=tr("Enter creates the shop with this name · Esc cancels the import",
                                           "回车按此名称新建店铺 · Esc 取消导入")), create)
        return
    then(shop.id)
