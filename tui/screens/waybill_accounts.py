"""E-waybill accounts (Settings → F9): every branch (网点) each shop subscribed to, as the
platform last listed it (courier, branch, balance, registered sender addresses), the branch
chosen to pay for each courier's numbers and the shop's default courier.

``r`` asks the platform again (``pdd.waybill.search``, every shop with credentials; a failure is
one line), Enter chooses the highlighted branch for its courier (and, when it has several, which
sender address: asked), ``d`` makes its courier the shop's default. Each choice is saved and
audited (:func:`dadan.core.waybills.accounts.use`)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr
from dadan.core.visible import visible
from dadan.tui.cells import crop
from dadan.tui.shown import shown
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter
from dadan.tui.widgets.desk_prompt import DeskPrompt

BRANCH_CELLS = 18  # the branch's name gives way; its code, the balance and the counts never


def branch_line(b) -> str:
    """One branch in words, for the Settings summary."""
    mark = "*" if b.default else ("✓" if b.chosen else " ")
    return tr("{m}{s} {c} {code} {name} balance {q}, {a} address(es)", "{m}{s} {c} {code} {name} 余额 {q}，地址 {a} 个",
              m=mark, s=visible(b.shop), c=b.courier, code=visible(b.branch_code), name=visible(b.branch_name),
              q=b.quantity, a=len(b.addresses))


class WaybillAccountsScreen(DeskScreen):
    DEFAULT_CSS = """
    WaybillAccountsScreen #wa-table { height: 1fr; scrollbar-size-vertical: 1; }
    WaybillAccountsScreen #wa-addresses { height: auto; max-height: 5; padding: 0 1; }
    WaybillAccountsScreen #wa-status { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="waybills.back", tooltip=Bilingual("Back", "返回")),
        Binding("r", "refresh", Bilingual("Refresh", "刷新"), id="waybills.refresh",
                tooltip=Bilingual("Ask the platform for the shops' couriers, branches and balances",
                                  "从平台读取店铺的快递、网点和余额")),
        Binding("enter", "use", Bilingual("Use branch", "使用网点"), id="waybills.use",
                tooltip=Bilingual("Pay for this courier's numbers from this branch (asks the address)",
                                  "此快递的单号由此网点出（选择发货地址）")),
        Binding("d", "make_default", Bilingual("Default courier", "默认快递"), id="waybills.default",
                tooltip=Bilingual("Make this courier the shop's default for waybill jobs", "设为店铺打印面单的默认快递")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.branches: list = []

    def compose(self) -> ComposeResult:
        yield Label(tr("E-waybill accounts", "电子面单账号"), classes="desk-title")
        yield DataTable(id="wa-table", cursor_type="row")
        yield Static("", id="wa-addresses", markup=False)
        yield Static(tr("* default ✓ chosen · Enter use branch · d default courier · r refresh from platform",
                        "* 默认 ✓ 已选 · 回车 使用网点 · d 默认快递 · r 从平台刷新"), id="wa-status", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column(" ", key="mark", width=1)
        t.add_column(tr("Shop", "店铺"), key="shop")
        t.add_column(tr("Courier", "快递"), key="courier")
        t.add_column(tr("Branch", "网点"), key="branch")
        t.add_column(tr("Balance", "余额"), key="balance")
        t.add_column(tr("Addr", "地址"), key="addr")
        t.focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="wa-load")
    def load(self) -> None:
        from dadan.core.db import connection
        from dadan.core.waybills import accounts

        with connection():
            rows = accounts.branches()
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list) -> None:
        self.branches = rows
        t = self.query_one(DataTable)
        at = t.cursor_row
        t.clear()
        for i, b in enumerate(rows):
            mark = "*" if b.default else ("✓" if b.chosen else " ")
            addr = f"{b.address_no}/{len(b.addresses)}" if b.chosen else str(len(b.addresses))
            t.add_row(mark, shown(b.shop), f"{b.courier} {b.wp_code}",
                      shown(f"{visible(b.branch_code)} {crop(visible(b.branch_name), BRANCH_CELLS)}"), str(b.quantity),
                      addr, key=str(i))
        if rows:
            t.move_cursor(row=min(at, len(rows) - 1))
        else:
            self.query_one("#wa-addresses", Static).update(
                tr("No subscribed courier cached yet: r asks the platform.", "还没有已订购的快递：按 r 从平台读取。"))
        self._addresses()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # Enter on the table: choose the branch
        self.action_use()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._addresses()

    def _current(self):
        if not self.branches:
            return None
        return self.branches[min(self.query_one(DataTable).cursor_row, len(self.branches) - 1)]

    def _addresses(self) -> None:
        from dadan.core.waybills.accounts import address_text

        b = self._current()
        if b is None:
            return
        lines = [f"{'>' if b.address_no == i else ' '}{i}. {visible(address_text(a))}"
                 for i, a in enumerate(b.addresses, 1)]
        self.query_one("#wa-addresses", Static).update(
            "\n".join(lines) or tr("This branch has no registered sender address.", "此网点没有登记发货地址。"))

    def _say(self, text: str, *, error: bool = False) -> None:
        if error:
            self.app.bell()
        self.query_one("#wa-status", Static).update(text)

    def action_refresh(self) -> None:
        self._say(tr("Asking the platform…", "正在从平台读取…"))
        self.refresh_from_platform()

    @work(thread=True, exclusive=True, exit_on_error=False, group="wa-refresh")
    def refresh_from_platform(self) -> None:
        from dadan.core.db import connection
        from dadan.core.platform.shops import ClientFactory, shops_with_credentials
        from dadan.core.waybills import accounts

        done, errors = 0, []
        with connection():
            try:
                shops = shops_with_credentials(self.ctx.paths)
            except DadanError as exc:
                shops, errors = [], [exc.message]
            done, failed = accounts.refresh_shops(shops, ClientFactory(paths=self.ctx.paths, settings=self.ctx.settings))
            errors += [f"{name}: {why}" for name, why in failed.items()]
            if not shops and not errors:
                errors.append(tr("no shop has platform credentials (dadan shops add)", "没有店铺配置了平台凭证（dadan shops add）"))
        text = tr("{n} branch(es) from {s} shop(s)", "{s} 个店铺，{n} 个网点", n=done, s=len(shops))
        if errors:
            text += tr("; failed: {e}", "；失败：{e}", e="; ".join(errors))
        self.app.call_from_thread(self._refreshed, text, bool(errors))

    def _refreshed(self, text: str, failed: bool) -> None:
        self._say(text, error=failed)
        self.load()

    def action_use(self) -> None:
        b = self._current()
        if b is None:
            self.app.bell()
            return
        if len(b.addresses) <= 1:
            self.choose(b, 1, False)
            return

        def answered(text: str | None) -> None:
            if text is None:
                return
            if not text.strip().isdigit():
                self._say(tr("Not an address number: {v}", "不是地址编号：{v}", v=text), error=True)
                return
            self.choose(b, int(text), False)

        self.app.push_screen(DeskPrompt(tr("{c} at {b}: sender address 1 to {n}?", "{c} 网点 {b}：发货地址 1 到 {n}？",
                                           c=b.courier, b=b.branch_code, n=len(b.addresses)),
                                        value=str(b.address_no or 1)), answered)

    def action_make_default(self) -> None:
        b = self._current()
        if b is None:
            self.app.bell()
            return
        self.choose(b, None, True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="wa-choose")
    def choose(self, b, address_no: int | None, default: bool) -> None:
        from dadan.core.db import connection
        from dadan.core.models import Shop
        from dadan.core.waybills import accounts

        try:
            with connection():
                shop = Shop.get(Shop.name == b.shop)
                if default:
                    accounts.set_default(shop, b.wp_code, actor=self.actor)
                    text = tr("{c} is now the default courier of {s}", "{c} 已设为 {s} 的默认快递", c=b.courier, s=b.shop)
                else:
                    accounts.use(shop, b.wp_code, b.branch_code, address_no=address_no or 1, actor=self.actor)
                    text = tr("{c} numbers now come from {b}, address {n}", "{c} 单号改由网点 {b} 出，地址 {n}",
                              c=b.courier, b=b.branch_code, n=address_no or 1)
        except DadanError as exc:
            self.app.call_from_thread(self._say, exc.message, error=True)
            return
        self.app.call_from_thread(self._refreshed, text, False)

    def action_back(self) -> None:
        self.dismiss()
