"""Settings: language, sync interval, printer offsets, the sender (寄件人) printed on waybills,
when e-waybill shipments are confirmed (scan/print/manual), shops and their credentials
(masked), e-waybill branches (F9: choose, default courier, refresh — tui/screens/waybill_accounts.py),
printers (test print, calibration grid), templates (preview). Ctrl+S saves the fields whose value
differs from the one loaded (compared as the setting's type: ``0.0`` is the offset ``0``), validated
and written to the audit log (``core.desk_settings.change_settings``); a blank or unreadable number
is refused naming its field, and nothing is saved."""

from __future__ import annotations

import math

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, language, tr
from dadan.tui.widgets.desk_base import DeskScreen
from dadan.tui.widgets.desk_footer import DeskFooter


def _mask(text: str) -> str:
    return (text[:4] + "****") if len(text) > 4 else ("****" if text else "—")


def _labels() -> dict[str, str]:
    """The form's fields and their labels (with the values a word field takes), in order."""
    return {
        "language": tr("Language (auto/zh/en)", "语言（auto/zh/en）"),
        "interval": tr("Sync every (minutes)", "同步间隔（分钟）"),
        "offset_x": tr("Printer offset X (mm)", "打印偏移 X（毫米）"),
        "offset_y": tr("Printer offset Y (mm)", "打印偏移 Y（毫米）"),
        "sender_name": tr("Sender name", "寄件人"),
        "sender_phone": tr("Sender phone", "寄件人电话"),
        "sender_address": tr("Sender address", "寄件地址"),
        "confirm_on": tr("Ship: scan/print/manual", "回传(scan/print/manual)"),
        "merge": tr("Merge: auto/ask/never", "合单(auto/ask/never)"),
        "on_packed": tr("Packed: nothing/ship/print", "验货后(nothing/ship/print)"),
    }


# the setting behind each field: (section, name); the offsets are the default printer's
_SETTING = {"language": ("", "language"), "interval": ("sync", "interval_minutes"),
            "sender_name": ("sender", "name"), "sender_phone": ("sender", "phone"),
            "sender_address": ("sender", "address"), "confirm_on": ("waybills", "confirm_on"),
            "merge": ("packing", "merge"), "on_packed": ("packing", "on_packed")}
_WHOLE, _DECIMAL = ("interval",), ("offset_x", "offset_y")


def _texts(s) -> dict[str, str]:
    """The form's text for each field, from the settings."""
    p = s.printer()
    return {"language": s.language, "interval": str(s.sync.interval_minutes), "offset_x": f"{p.offset_x_mm:g}",
            "offset_y": f"{p.offset_y_mm:g}", "sender_name": s.sender.name, "sender_phone": s.sender.phone,
            "sender_address": s.sender.address, "confirm_on": s.waybills.confirm_on, "merge": s.packing.merge,
            "on_packed": s.packing.on_packed}


def _value(key: str, text: str):
    """A field's text as its setting's type (``0`` and ``0.0`` are the same offset); a number
    field that is blank or not a number: ValueError."""
    text = text.strip()
    if key in _WHOLE:
        return int(text)
    if key in _DECIMAL:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(text)
        return value
    return text


def _apply(s, key: str, value, printer: str) -> None:
    if key in _DECIMAL:
        from dadan.core.config import PrinterSettings

        if not s.printers:  # the default printer, written out to hold its offset
            s.printers = [PrinterSettings()]
        for p in s.printers:
            if p.name == printer:
                setattr(p, f"{key}_mm", value)
        return
    section, name = _SETTING[key]
    setattr(getattr(s, section) if section else s, name, value)


class SettingsScreen(DeskScreen):
    DEFAULT_CSS = """
    SettingsScreen #set-body { height: 1fr; padding: 0 1; }
    SettingsScreen .set-row { height: 1; }
    SettingsScreen .set-row Label { width: 28; }
    SettingsScreen .set-row Input { width: 1fr; height: 1; border: none; padding: 0 1; }
    SettingsScreen .set-row Input:focus { background: $accent 30%; }
    SettingsScreen .set-section { height: auto; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "back", Bilingual("Back", "返回"), id="settings.back", tooltip=Bilingual("Back", "返回")),
        Binding("ctrl+s", "save", Bilingual("Save", "保存"), id="settings.save",
                tooltip=Bilingual("Save the settings (audited)", "保存设置（记录审计）")),
        Binding("f6", "toggle_language", Bilingual("中文/English", "English/中文"), id="settings.language",
                tooltip=Bilingual("Switch the language between Chinese and English", "在中文和英文之间切换")),
        Binding("f5", "test_print", Bilingual("Test print", "测试打印"), id="settings.test_print",
                tooltip=Bilingual("Send a test label to the default printer", "向默认打印机发送测试标签")),
        Binding("f7", "calibrate", Bilingual("Calibrate", "校准"), id="settings.calibrate",
                tooltip=Bilingual("Print the millimetre grid to set the offsets", "打印毫米网格以设置偏移")),
        Binding("f8", "preview", Bilingual("Preview", "预览"), id="settings.preview",
                tooltip=Bilingual("Preview the printer's template in the terminal", "在终端中预览打印机模板")),
        Binding("f9", "waybill_accounts", Bilingual("E-waybills", "电子面单"), id="settings.waybills",
                tooltip=Bilingual("E-waybill accounts: branches, balances, default courier", "电子面单账号：网点、余额、默认快递")),
        # priority: the fields' scrolling container would take up/down once the rows overflow
        Binding("down", "focus_next", "", show=False, id="settings.next", priority=True,
                tooltip=Bilingual("Next field", "下一项")),
        Binding("up", "focus_previous", "", show=False, id="settings.prev", priority=True,
                tooltip=Bilingual("Previous field", "上一项")),
    ]

    def compose(self) -> ComposeResult:
        s = self.ctx.settings
        yield Label(tr("Settings", "设置"), classes="desk-title")
        self.loaded_texts = _texts(s)  # what the form shows: only a field that differs from it is saved
        with VerticalScroll(id="set-body"):
            for key, label in _labels().items():
                with Horizontal(classes="set-row"):
                    yield Label(label)
                    yield Input(self.loaded_texts[key], id=f"set-{key}")
            yield Static("", id="set-shops", classes="set-section")
            yield Static("", id="set-waybills", classes="set-section", markup=False)
            yield Static("", id="set-printers", classes="set-section")
            yield Static("", id="set-templates", classes="set-section")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#set-language", Input).focus()
        self.load()

    def action_focus_next(self) -> None:
        self.focus_next()

    def action_focus_previous(self) -> None:
        self.focus_previous()

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings-load")
    def load(self) -> None:
        from dadan.core.db import connection
        from dadan.core.models import Shop
        from dadan.core.waybills.accounts import branches
        from dadan.printers.layout import list_templates

        with connection():
            shops = list(Shop.select().order_by(Shop.name))
            waybills = branches()
        creds = {}
        try:
            from dadan.core.platform.credentials import CredentialStore

            store = CredentialStore(self.ctx.paths.credentials_file)
            creds = {sh.name: store.get(sh.name) for sh in shops}
        except Exception:  # noqa: BLE001 - unreadable credentials: shown as unknown
            pass
        templates = [(t.name, t.title, t.size_text) for t in list_templates()]
        self.app.call_from_thread(self._show, shops, creds, templates, waybills)

    def _show(self, shops, creds, templates, waybills) -> None:
        from dadan.core.platform.shops import auth_words
        from dadan.tui.screens.waybill_accounts import branch_line

        s = self.ctx.settings
        lines = [tr("[b]Shops[/b]", "[b]店铺[/b]")]
        for sh in shops:
            c = creds.get(sh.name)
            secret = tr("set", "已设置") if c is not None and c.client_secret else tr("not set", "未设置")
            token = tr("set", "已设置") if c is not None and c.access_token else tr("not set", "未设置")
            lines.append(escape(f"  {sh.name}  client {_mask(sh.client_id)}  " +
                                tr("secret {a} · token {b} · auth {c}", "密钥 {a} · 令牌 {b} · 授权 {c}",
                                   a=secret, b=token, c=auth_words(sh.auth_state))))
        if not shops:
            lines.append("  " + tr("none (dadan shops add)", "无（dadan shops add）"))
        self.query_one("#set-shops", Static).update("\n".join(lines))
        wlines = [tr("E-waybills (F9 choose branch, default courier, refresh; * default ✓ chosen)",
                     "电子面单（F9 选择网点、默认快递、刷新；* 默认 ✓ 已选）")]
        wlines += ["  " + branch_line(b) for b in waybills] or ["  " + tr("none yet (F9, then r)", "暂无（F9 后按 r）")]
        self.query_one("#set-waybills", Static).update("\n".join(wlines))
        default = s.printer().name
        plines = [tr("[b]Printers[/b] (F5 test print · F7 calibration grid)", "[b]打印机[/b]（F5 测试打印 · F7 校准网格）")]
        for p in (s.printers or [s.printer()]):
            star = "*" if p.name == default else " "
            plines.append(escape(f" {star}{p.name} {p.driver} {p.uri or '-'} {p.width_mm:g}x{p.height_mm:g}mm "
                                 f"{p.dpi}dpi {p.template} X{p.offset_x_mm:+g} Y{p.offset_y_mm:+g}"))
        self.query_one("#set-printers", Static).update("\n".join(plines))
        tlines = [tr("[b]Templates[/b] (F8 preview)", "[b]模板[/b]（F8 预览）")]
        tlines += [escape(f"  {n:<16} {size:<12} {title}") for n, title, size in templates]
        self.query_one("#set-templates", Static).update("\n".join(tlines))

    # -- saving
    def _form(self) -> dict[str, str]:
        return {i.id.removeprefix("set-"): i.value.strip() for i in self.query(".set-row Input").results(Input)}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        """Save the fields whose value differs from the one loaded (as the setting's type); a
        blank or unreadable number is refused, naming its field, and nothing is saved."""
        labels, changed = _labels(), {}
        for key, text in self._form().items():
            try:
                value = _value(key, text)
            except ValueError:
                self._refuse_number(key, labels[key], text)
                return
            if value != _value(key, self.loaded_texts[key]):
                changed[key] = value
        if not changed:
            self.notify(tr("Nothing changed", "没有改动"))
            return
        printer = self.ctx.settings.printer().name

        def mutate(s) -> None:
            for key, value in changed.items():
                _apply(s, key, value, printer)

        self.save(mutate)

    def _refuse_number(self, key: str, label: str, text: str) -> None:
        kind = tr("a whole number", "整数") if key in _WHOLE else tr("a number", "数字")
        if text:
            message = tr("{f} needs {k}, not '{v}'", "{f}需要填{k}，不能是“{v}”", f=label, k=kind, v=text)
        else:
            message = tr("{f} is empty: type {k}", "{f}为空：请填{k}", f=label, k=kind)
        self.query_one(f"#set-{key}", Input).focus()
        self._refuse(message)

    def action_toggle_language(self) -> None:
        new = "en" if language() == "zh" else "zh"

        def mutate(s) -> None:
            s.language = new

        self.save(mutate)

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings-save")
    def save(self, mutate) -> None:
        from dadan.core.db import connection
        from dadan.core.desk_settings import change_settings

        try:
            with connection():
                diff = change_settings(self.ctx, mutate, actor=self.actor)
        except DadanError as exc:  # invalid value: say which
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._saved, diff)

    def _failed(self, exc: DadanError) -> None:
        self._refuse(exc.message)

    def _refuse(self, message: str) -> None:
        self.app.bell()
        self.notify(message, title=tr("Not saved", "未保存"), severity="error", timeout=8)

    async def _saved(self, diff: dict) -> None:
        self.loaded_texts = _texts(self.ctx.settings)  # the next save compares with what is saved now
        if not diff:
            self.notify(tr("Nothing changed", "没有改动"))
            return
        if "language" in diff:
            from dadan.tui.relabel import relabel

            await relabel(self.app)
            self.query_one("#set-language", Input).focus()
        self.notify(tr("Saved: {k}", "已保存：{k}", k=", ".join(diff)))

    # -- printers and templates
    def action_test_print(self) -> None:
        self.printer_job(False)

    def action_calibrate(self) -> None:
        self.printer_job(True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings-print")
    def printer_job(self, calibration: bool) -> None:
        from dadan.core.desk_settings import send_test_print

        where = send_test_print(self.ctx, calibration=calibration)  # a failure: the app's error modal
        self.app.call_from_thread(self.notify, tr("Sent to {w}", "已发送到 {w}", w=where))

    def action_waybill_accounts(self) -> None:
        from dadan.tui.screens.waybill_accounts import WaybillAccountsScreen

        self.app.push_screen(WaybillAccountsScreen(), lambda _r: self.load())

    def action_preview(self) -> None:
        from dadan.tui.screens.preview import PreviewScreen

        self.app.push_screen(PreviewScreen(self.ctx.settings.printer().template))

    def action_back(self) -> None:
        self.dismiss()

