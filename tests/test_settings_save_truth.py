"""Settings (F9) Ctrl+S at 80x24 saves, reports and audits only what really changed: on a desk
with no printer configured, ``abc`` or a blank in "Printer offset Y" had saved the blank as 0,
reported every printer field (``Saved: printers.0.bline_mm, printers.0.density, …``) and written
14 audit events ``from=—``. A blank or unreadable number is refused naming its field, and
nothing is saved; a form saved as it was loaded (``0.0`` for ``0``) is no change; a real change
is saved, reported and audited once."""

import json

import pytest
from textual.widgets import Input

from dadan.core.config import load_settings
from dadan.core.models import AuditEvent
from dadan.tui.screens.settings import SettingsScreen
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


def desk_without_printers(tmp_path):
    """A desk whose config.toml names no printer (it prints on the default one)."""
    ctx = make_ctx(tmp_path, 5)
    ctx.settings.printers = []
    return ctx


def settings_events() -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == "settings").order_by(AuditEvent.id))


def messages(app, severity: str | None = None) -> list[str]:
    return [str(n.message) for n in app._notifications if severity is None or n.severity == severity]


async def type_into(pilot, key: str, text: str) -> None:
    """Empty the field and type ``text`` into it, as at the desk, then Ctrl+S."""
    field = pilot.app.screen.query_one(f"#set-{key}", Input)
    field.focus()
    await pilot.pause()
    await pilot.press("end", *["backspace"] * len(field.value), *text)
    await pilot.press("ctrl+s")
    await wait_idle(pilot)


@pytest.mark.parametrize("typed, words", [("abc", "Printer offset Y (mm) needs a number, not 'abc'"),
                                          ("", "Printer offset Y (mm) is empty: type a number")])
async def test_an_unreadable_or_blank_offset_is_refused_naming_the_field(tmp_path, typed, words):
    ctx = desk_without_printers(tmp_path)
    app = harness(ctx, SettingsScreen)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        # another field changed as well: nothing is saved while one number is wrong
        app.screen.query_one("#set-sender_name", Input).value = "杭州仓"
        await type_into(pilot, "offset_y", typed)
        refused = messages(app, "error")
        assert refused == [words], messages(app)
        assert not [m for m in messages(app) if m.startswith("Saved")]
        assert app.focused is app.screen.query_one("#set-offset_y", Input)  # there to mend
    assert not ctx.paths.config_file.exists()
    assert ctx.settings.printers == [] and ctx.settings.sender.name == ""
    assert settings_events() == []


async def test_a_whole_number_field_refuses_a_fraction(tmp_path):
    ctx = desk_without_printers(tmp_path)
    app = harness(ctx, SettingsScreen)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        await type_into(pilot, "interval", "5.5")
        assert messages(app, "error") == ["Sync every (minutes) needs a whole number, not '5.5'"]
    assert ctx.settings.sync.interval_minutes == 10 and settings_events() == []


async def test_the_form_saved_as_loaded_is_no_change(tmp_path):
    """``0.0`` for an offset of 0, ``10`` for the interval, the same words: nothing to save,
    nothing reported or audited, no file written."""
    ctx = desk_without_printers(tmp_path)
    app = harness(ctx, SettingsScreen)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.screen.query_one("#set-offset_x", Input).value = "0.0"
        app.screen.query_one("#set-offset_y", Input).value = " 0 "
        app.screen.query_one("#set-interval", Input).value = "10"
        app.screen.query_one("#set-merge", Input).value = "ask "
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
        assert messages(app) == ["Nothing changed"]
    assert not ctx.paths.config_file.exists() and ctx.settings.printers == []
    assert settings_events() == []


async def test_one_offset_changed_is_saved_reported_and_audited_once(tmp_path):
    ctx = desk_without_printers(tmp_path)
    app = harness(ctx, SettingsScreen)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        await type_into(pilot, "offset_y", "2.5")
        assert messages(app) == ["Saved: printers.0.offset_y_mm"]
        await pilot.press("ctrl+s")  # again, with nothing new
        await wait_idle(pilot)
        assert messages(app)[-1] == "Nothing changed"
    saved = load_settings(ctx.paths).printer()
    assert (saved.offset_x_mm, saved.offset_y_mm) == (0.0, 2.5)
    assert ctx.settings.printer().offset_y_mm == 2.5
    events = settings_events()
    assert [(e.target, json.loads(e.detail)) for e in events] == [("printers.0.offset_y_mm", {"from": 0.0, "to": 2.5})]


async def test_with_printers_configured_only_the_changed_fields_are_saved(tmp_path):
    """A configured printer, a changed sender name and offset X, the other fields as loaded:
    those two are saved, reported and audited, nothing else."""
    ctx = make_ctx(tmp_path, 5)
    app = harness(ctx, SettingsScreen)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.screen.query_one("#set-sender_name", Input).value = "杭州仓"
        await type_into(pilot, "offset_x", "-1.5")
        assert messages(app) == ["Saved: printers.0.offset_x_mm, sender.name"]
    assert {e.target: json.loads(e.detail) for e in settings_events()} == {
        "printers.0.offset_x_mm": {"from": 0.0, "to": -1.5}, "sender.name": {"from": "", "to": "杭州仓"}}
    saved = load_settings(ctx.paths)
    assert saved.printer("preview").offset_x_mm == -1.5 and saved.sender.name == "杭州仓"


async def test_a_save_keeps_what_was_added_to_the_file_after_the_desk_started(tmp_path):
    """The desk writes its changes into config.toml as the file is now: sections added by hand
    (or by another desk) after it started stay. It wrote its own copy from its start, so an
    idle sign-out set meanwhile was silently switched off by the next save."""
    from dadan.core.config import save_settings

    ctx = desk_without_printers(tmp_path)
    save_settings(ctx.settings, ctx.paths)
    app = harness(ctx, SettingsScreen)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        edited = ctx.paths.config_file.read_text(encoding="utf-8")
        ctx.paths.config_file.write_text(
            edited + "\n[operators]\nidle_sign_out_minutes = 30\n\n[retention]\narchive_after_days = 90\n",
            encoding="utf-8")
        await type_into(pilot, "offset_y", "2.5")
        assert messages(app) == ["Saved: printers.0.offset_y_mm"]
    saved = load_settings(ctx.paths)
    assert saved.operators.idle_sign_out_minutes == 30 and saved.retention.archive_after_days == 90
    assert saved.printer().offset_y_mm == 2.5
