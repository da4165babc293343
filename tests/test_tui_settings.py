"""Settings: language switch (saved, audited, screens and key labels relabelled), sync interval,
test print; help lists every binding; the label preview draws half-blocks."""

import pytest

from dadan.core.config import load_settings
from dadan.core.i18n import language, set_language
from dadan.core.models import AuditEvent
from dadan.tui.screens.help import HelpScreen
from dadan.tui.screens.preview import PreviewScreen
from dadan.tui.screens.settings import SettingsScreen
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


def footer_labels(screen) -> list[str]:
    from textual.widgets import Footer

    return [str(k.description) for k in screen.query_one(Footer).query("FooterKey")]


async def test_switch_language_and_interval(tmp_path):
    ctx = make_ctx(tmp_path, 20)
    app = harness(ctx, SettingsScreen)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_idle(pilot)
            assert str(app.screen.query_one(".desk-title").content) == "Settings"
            assert {"Back", "Save", "Test print"} <= set(footer_labels(app.screen))
            await pilot.press("f6")
            await wait_idle(pilot)
            assert language() == "zh"
            assert str(app.screen.query_one(".desk-title").content) == "设置"
            # the key labels follow at once (footer, tooltips, help), not at the next start
            labels = footer_labels(app.screen)
            assert {"返回", "保存", "测试打印"} <= set(labels) and "Back" not in labels
            tips = {b.binding.tooltip for b in app.screen.active_bindings.values()}
            assert "向默认打印机发送测试标签" in tips and "Send a test label to the default printer" not in tips
            app.push_screen(HelpScreen())
            await wait_idle(pilot)
            text = str(app.screen.query_one("#help-text").content)
            assert "扫描发货" in text and "补打" in text and "Ship mode" not in text
            assert "返回" in footer_labels(app.screen)
            await pilot.press("escape")
            await wait_idle(pilot)
            await pilot.press("down", "end", "backspace", "backspace", *"5", "enter")  # sync interval
            await wait_idle(pilot)
            assert ctx.settings.sync.interval_minutes == 5
            await pilot.press("f5")  # test print to the preview printer
            await wait_idle(pilot)
            assert list((tmp_path / "home" / "preview").glob("*test*"))
    finally:
        set_language("en")
    saved = load_settings(ctx.paths)
    assert saved.language == "zh" and saved.sync.interval_minutes == 5
    keys = {e.target for e in AuditEvent.select().where(AuditEvent.action == "settings")}
    assert {"language", "sync.interval_minutes"} <= keys


async def test_language_switch_relabels_the_whole_app(tmp_path):
    """In the real app: F9, F6, back home: footer, command palette and help in Chinese, the order
    screen still focused on its rows; and back to English."""
    from dadan.tui.app import DadanApp, ScreenActions
    from dadan.tui.screens.orders import OrdersScreen
    from tests.desk_helpers import NOW

    ctx = make_ctx(tmp_path, 30)
    app = DadanApp(ctx, now=NOW)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_idle(pilot)
            home = app.screen
            assert isinstance(home, OrdersScreen)
            assert {"Print", "Sort", "Help", "Scan"} <= set(footer_labels(home))
            await pilot.press("f9")
            await wait_idle(pilot)
            await pilot.press("f6")
            await wait_idle(pilot)
            assert {"返回", "帮助", "扫描"} <= set(footer_labels(app.screen))
            await pilot.press("escape")
            await wait_idle(pilot)
            assert app.screen is home and home.table.has_focus and home.table.rows_shown
            labels = footer_labels(home)
            assert {"打印", "排序", "帮助", "扫描", "退出"} <= set(labels) and "Print" not in labels
            palette = [label for label, _run, _help in ScreenActions(home)._commands()]
            assert any(p.startswith("倒序") for p in palette) and not any(p.startswith("Reverse") for p in palette)
            await pilot.press("f1")
            await wait_idle(pilot)
            text = str(app.screen.query_one("#help-text").content)
            assert "打印队列" in text and "预览面单" in text and "Print queue" not in text
            await pilot.press("escape", "f9")
            await wait_idle(pilot)
            await pilot.press("f6")  # and back
            await wait_idle(pilot)
            await pilot.press("escape")
            await wait_idle(pilot)
            assert language() == "en" and {"Print", "Sort", "Help"} <= set(footer_labels(home))
    finally:
        set_language("en")


async def test_help_lists_every_binding(tmp_path):
    ctx = make_ctx(tmp_path, 0)
    app = harness(ctx, HelpScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_idle(pilot)
        text = str(app.screen.query_one("#help-text").content)
        for needle in ("Print queue", "It printed", "Ship mode", "Release", "Save view", "Reprint", "Test print",
                       "Scan an order or tracking number"):
            assert needle in text


async def test_preview_draws_half_blocks(tmp_path):
    ctx = make_ctx(tmp_path, 5)
    app = harness(ctx, PreviewScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        await pilot.pause(0.2)
        art = str(app.screen.query_one("#pv-label").content)
        assert set(art) & set("▀▄█") and "waybill" in str(app.screen.query_one("#pv-info").content)
        await pilot.press("t")
        await wait_idle(pilot)


async def test_the_sender_is_set_in_settings_and_printed_on_labels(tmp_path):
    """Issue #14 item 5: the sender (寄件人) is set on the Settings screen: saved to [sender],
    validated (a wrong phone is refused, nothing saved), audited, and read by the printer workers
    already running."""
    from textual.widgets import Input

    from dadan.core.printing.worker import WorkerPool

    ctx = make_ctx(tmp_path, 5)
    pool = WorkerPool(ctx)  # built before the change, as the desk's workers are
    app = harness(ctx, SettingsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        screen = app.screen

        async def fill(name: str, phone: str, address: str) -> None:
            screen.query_one("#set-sender_name", Input).value = name
            screen.query_one("#set-sender_phone", Input).value = phone
            screen.query_one("#set-sender_address", Input).value = address
            screen.query_one("#set-sender_address", Input).focus()
            await pilot.press("ctrl+s")
            await wait_idle(pilot)

        await fill("杭州仓", "0571-8888 66x6", "浙江省杭州市余杭区仓前街道 1 号")
        refused = [str(n.message) for n in app._notifications if n.severity == "error"]
        assert any("sender.phone" in m for m in refused), refused
        assert ctx.settings.sender.name == "" and load_settings(ctx.paths).sender.name == ""

        await fill("杭州仓", "0571-88886666", "浙江省杭州市余杭区仓前街道 1 号")
    saved = load_settings(ctx.paths).sender
    assert (saved.name, saved.phone, saved.address) == ("杭州仓", "0571-88886666", "浙江省杭州市余杭区仓前街道 1 号")
    assert "[sender]" in ctx.paths.config_file.read_text(encoding="utf-8")
    keys = {e.target for e in AuditEvent.select().where(AuditEvent.action == "settings")}
    assert {"sender.name", "sender.phone", "sender.address"} <= keys
    for worker in pool.workers.values():  # the next label carries the new sender
        assert worker.renderer.settings.sender.phone == "0571-88886666"


def test_sender_settings_are_checked_in_config_toml():
    from dadan.core.config import parse_settings
    from dadan.core.errors import ConfigError

    ok = parse_settings('[sender]\nname = "杭州仓"\nphone = "+86 138 0000 0000"\naddress = "浙江省"\n')
    assert ok.sender.phone == "+86 138 0000 0000"
    for bad in ('phone = "call me"', 'phone = "123"', 'name = "a\\u001b[2Jb"', 'address = "one\\ntwo"'):
        with pytest.raises(ConfigError) as ei:
            parse_settings(f"[sender]\n{bad}\n")
        assert "sender." in ei.value.message


async def test_printer_offsets_saved_in_settings_move_the_next_jobs_labels(tmp_path):
    """The offsets typed on the settings screen apply from the next print job of the desk's
    running printer workers, without a restart; a job's labels all come out alike."""
    from PIL import Image, ImageOps
    from textual.widgets import Input

    from dadan.core.models import Order
    from dadan.core.printing import queue as printing
    from dadan.core.printing.worker import WorkerPool

    ctx = make_ctx(tmp_path, 20)
    pool = WorkerPool(ctx)  # built before the change, as the desk's workers are
    worker = pool.workers["preview"]
    first, second = Order.select().where(Order.state == "new", Order.exception_flags == 0,
                                         Order.order_status == 1).order_by(Order.id).limit(2)

    def print_slip(order) -> int:
        """The leftmost inked column of the order's packing slip, printed as a job of its own."""
        job = printing.create_job([order.id], printer="preview", template="packing_80", actor="tester")
        worker.run_pending(job.id)
        png = max((tmp_path / "home" / "preview").glob(f"job{job.id:05d}-*.png"))
        return ImageOps.invert(Image.open(png).convert("L")).getbbox()[0]

    before = print_slip(first)
    app = harness(ctx, SettingsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        field = app.screen.query_one("#set-offset_x", Input)
        field.value = "5"
        field.focus()
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
    assert load_settings(ctx.paths).printer("preview").offset_x_mm == 5
    after = print_slip(second)
    assert after - before == round(5 * worker.profile.dpi / 25.4)  # 5 mm to the right, in dots


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_settings_label_shows_whole_at_80x24(tmp_path, lang):
    """Each setting's label, with the values it takes (``Packed: nothing/ship/print``), shows
    whole beside its field; the longest was cut (``Packed:`` and a blank)."""
    from textual.widgets import Label

    from tests.test_tui_80x24 import region_lines

    ctx = make_ctx(tmp_path, 10, lang=lang)
    app = harness(ctx, SettingsScreen)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_idle(pilot)
            for label in app.screen.query(".set-row Label").results(Label):
                text = str(label.render())
                assert region_lines(app, label.region)[0].strip() == text.strip(), text
            shops = str(app.screen.query_one("#set-shops").render())  # (the shop's state in words too)
            assert ("授权 未配置凭证" if lang == "zh" else "auth no credentials") in shops, shops
    finally:
        set_language("en")
