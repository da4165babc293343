"""Settings: language switch (saved, audited, screens relabelled), sync interval, test print;
help lists every binding; the label preview draws half-blocks."""

import pytest

from core.config import load_settings
from core.i18n import language, set_language
from core.models import AuditEvent
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401
from tui.screens.help import HelpScreen
from tui.screens.preview import PreviewScreen
from tui.screens.settings import SettingsScreen

pytestmark = pytest.mark.anyio


async def test_switch_language_and_interval(tmp_path):
    ctx = make_ctx(tmp_path, 20)
    app = harness(ctx, SettingsScreen)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_idle(pilot)
            assert str(app.screen.query_one(".desk-title").content) == "Settings"
            await pilot.press("f6")
            await wait_idle(pilot)
            assert language() == "zh"
            assert str(app.screen.query_one(".desk-title").content) == "设置"
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


async def test_help_lists_every_binding(tmp_path):
    ctx = make_ctx(tmp_path, 0)
    app = harness(ctx, HelpScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_idle(pilot)
        text = str(app.screen.query_one("#help-text").content)
        for needle in ("Print queue", "It printed", "Ship mode", "Release", "Save view", "Reprint", "Test print"):
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
