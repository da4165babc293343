"""The audit screen (ctrl+l) through Pilot: the filter language, rows, the whole event on Enter,
paging, the export; and its snapshots at 80x24 and 120x40 on a fixed clock."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from dadan.core.db import write
from dadan.core.models import AuditEvent, Order
from tests.desk_helpers import NOW, anyio_backend, harness, make_ctx, wait_idle  # noqa: F401

SIZES = [(80, 24), (120, 40)]


def _events():
    """Real events by two operators (hold, release, a reprint, a note), each an hour older than
    the next; the newest at NOW."""
    from dadan.core.orders import actions
    from dadan.core.printing import queue as printing

    free = [o.id for o in Order.select().where(Order.exception_flags == 0, Order.order_status == 1)
            .order_by(Order.id).limit(4)]
    actions.hold(free, reason="check the address", actor="amy")
    actions.release(free[:2], reason="buyer called back", actor="bo")
    actions.release(free[2:3], reason="address ok", actor="amy")
    actions.set_note(free[3], "ring before delivery", actor="amy")
    printed = Order.select().where(Order.state == "printed", Order.exception_flags == 0).order_by(Order.id).first()
    printing.create_reprint_job([printed.id], reason="label jammed", printer="preview", template="waybill_100x150",
                                actor="bo")
    ids = [e.id for e in AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id)]
    with write():
        for age, i in enumerate(reversed(ids)):
            AuditEvent.update(at=NOW - dt.timedelta(hours=age)).where(AuditEvent.id == i).execute()
    return free, printed


def _shown(screen) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in screen._compositor.render_strips())


async def _wait_rows(pilot, screen):
    for _ in range(100):
        await wait_idle(pilot)
        if screen.page is not None:
            return
        await pilot.pause(0.05)


@pytest.mark.anyio
async def test_filter_rows_detail_paging_and_export(tmp_path, monkeypatch):
    from dadan.tui.screens import audit as audit_screen
    from dadan.tui.screens.audit import AuditEventScreen, AuditScreen

    ctx = make_ctx(tmp_path, 40)
    free, printed = _events()
    app = harness(ctx, AuditScreen)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _wait_rows(pilot, screen)
        assert isinstance(screen, AuditScreen)
        total = AuditEvent.select().count()
        assert screen.page.total == total and [r.id for r in screen.rows] == [
            e.id for e in AuditEvent.select().order_by(AuditEvent.at.desc(), AuditEvent.id.desc())]
        await pilot.press("slash", *"actor:am")
        await wait_idle(pilot)
        await pilot.press("tab")  # Tab completes, as the README says (it moved the focus away)
        assert screen.filter_bar.input.value == "actor:amy" and screen.filter_bar.input.has_focus
        await pilot.press(*" action:release", "enter")
        await wait_idle(pilot)
        assert [(r.actor, r.action) for r in screen.rows] == [("amy", "release")]
        text = _shown(screen)
        assert "1–1 of 1" in text and Order.get_by_id(free[2]).order_sn in text and "address ok" in text
        await pilot.press("enter")
        await wait_idle(pilot)
        assert isinstance(app.screen, AuditEventScreen)
        body = str(app.screen.query_one("#ae-body").render())
        assert '"order_sn": "' + Order.get_by_id(free[2]).order_sn + '"' in body and "Reason: address ok" in body
        await pilot.press("escape")
        await wait_idle(pilot)
        assert app.screen is screen
        # a bad term: the bar shows it, the table empties
        await pilot.press("slash", "end", *" actr:x", "enter")
        await wait_idle(pilot)
        assert "unknown audit filter 'actr'" in _shown(screen) and screen.rows == []
        # paging: 2 rows a page, every row once, newest first
        monkeypatch.setattr(audit_screen, "PAGE", 2)
        screen.filter_bar.set_value("")
        screen._apply("", force=True)
        await wait_idle(pilot)
        seen = [r.id for r in screen.rows]
        pages = [seen[:]]
        while screen.page.last < screen.page.total:
            await pilot.press("right_square_bracket")
            await wait_idle(pilot)
            seen += [r.id for r in screen.rows]
            pages.append([r.id for r in screen.rows])
        assert seen == [e.id for e in AuditEvent.select().order_by(AuditEvent.at.desc(), AuditEvent.id.desc())]
        await pilot.press("left_square_bracket")
        await wait_idle(pilot)
        assert [r.id for r in screen.rows] == pages[-2] and screen.page.first == 2 * (len(pages) - 2) + 1
        assert f"{screen.page.first}–{screen.page.last} of {total}" in _shown(screen)
        # export the filter to csv
        screen.filter_bar.set_value("actor:bo")
        screen._apply("actor:bo", force=True)
        await wait_idle(pilot)
        await pilot.press("e")
        await wait_idle(pilot)
        out = tmp_path / "out" / "bo.csv"
        prompt = app.screen.query_one("#prompt-input")
        prompt.value = str(out)
        await pilot.press("enter")
        for _ in range(50):
            await wait_idle(pilot)
            if out.exists():
                break
            await pilot.pause(0.05)
        rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
        assert [r[1] for r in rows[1:]] == ["bo"] * AuditEvent.select().where(AuditEvent.actor == "bo").count()


@pytest.mark.anyio
async def test_ctrl_l_opens_the_audit_log_in_the_app(tmp_path):
    from dadan.tui.app import DadanApp
    from dadan.tui.screens.audit import AuditScreen

    ctx = make_ctx(tmp_path, 20)
    _events()
    app = DadanApp(ctx, now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        await pilot.press("ctrl+l")
        await _wait_rows(pilot, app.screen)
        assert isinstance(app.screen, AuditScreen) and app.screen.rows
        await pilot.press("escape")
        await wait_idle(pilot)
        assert not isinstance(app.screen, AuditScreen)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_audit_screen_snapshot(size, tmp_path, snap_compare):
    from dadan.tui.screens.audit import AuditScreen

    ctx = make_ctx(tmp_path, 40, seed=3)
    _events()
    app = harness(ctx, AuditScreen)
    app.bell = lambda: None

    async def run_before(pilot):
        await _wait_rows(pilot, pilot.app.screen)
        await pilot.pause(0.3)
        await wait_idle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["16", "no_color", "zh"])
async def test_audit_screen_in_16_colours_without_colour_and_in_chinese(tmp_path, monkeypatch, mode):
    """80x24: order numbers, times and actions whole (a long operator name and a long reason give
    way), only the 16 basic colours, no text in its own background; NO_COLOR: only greys."""
    import textual.constants
    from rich.color import ColorSystem

    from dadan.core import audit
    from dadan.tui.screens.audit import AuditScreen
    from tests.test_tui_colours import EXTENDED, invisible_text, terminal_output

    if mode == "16":
        monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "standard")
    if mode == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    ctx = make_ctx(tmp_path, 30, lang="zh" if mode == "zh" else "en")
    _events()
    o = Order.select().order_by(Order.id.desc()).first()
    with write():
        audit.record("release", actor="张晓明仓库主管夜班第二组", order_id=o.id, reason="买家来电确认地址无误，" * 5,
                     detail={"flags": ["hold"], "order_sn": o.order_sn})
        AuditEvent.update(at=NOW + dt.timedelta(minutes=5)).where(AuditEvent.actor.startswith("张")).execute()
    app = harness(ctx, AuditScreen)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _wait_rows(pilot, screen)
        await pilot.pause(0.2)
        await wait_idle(pilot)
        text = _shown(screen)
        for r in screen.rows:
            assert r.order_sn in text and r.action in text
        assert "11-20 12:05:00" in text and "张晓明" in text
        assert (f"第 1–{len(screen.rows)} 条" if mode == "zh" else f"1–{len(screen.rows)} of") in text
        if mode == "16":
            assert not EXTENDED.search(terminal_output(app)) and not invisible_text(app, ColorSystem.STANDARD)
        if mode == "no_color":
            for strip in screen._compositor.render_strips():
                for seg in strip:
                    for colour in (seg.style.color, seg.style.bgcolor) if seg.style else ():
                        if colour is not None:
                            r, g, b = colour.get_truecolor()
                            assert r == g == b, (seg.text, colour)


@pytest.mark.anyio
async def test_the_filter_completes_fields_and_the_logs_actions_and_operators():
    from dadan.tui.screens.audit import AuditSuggester

    s = AuditSuggester()
    s.values = {"action": ["hold", "print-resolve", "release", "reprint"], "actor": ["amy", "bo"]}
    assert await s.get_suggestion("act") == "actor:"
    assert await s.get_suggestion("actor:amy acti") == "actor:amy action:"
    assert await s.get_suggestion("action:rel") == "action:release"
    assert await s.get_suggestion("since:7d action:rep") == "since:7d action:reprint"
    assert await s.get_suggestion("actor:b") == "actor:bo"
    assert await s.get_suggestion("actor:zz") is None and await s.get_suggestion("jammed ") is None


@pytest.mark.anyio
async def test_a_long_detail_scrolls_inside_the_event_at_80x24(tmp_path):
    from dadan.core import audit
    from dadan.tui.screens.audit import AuditEventScreen, AuditScreen

    ctx = make_ctx(tmp_path, 0)
    with write():
        audit.record("settings", actor="amy", target="printers", reason="new printer",
                     detail={f"key{i:02d}": "v" * 30 for i in range(40)})
    app = harness(ctx, AuditScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await _wait_rows(pilot, app.screen)
        await pilot.press("enter")
        await wait_idle(pilot)
        assert isinstance(app.screen, AuditEventScreen)
        assert "Enter / Esc: close" in _shown(app.screen) and '"key39"' not in _shown(app.screen)
        await pilot.press("end")
        await pilot.pause(0.2)
        assert '"key39"' in _shown(app.screen) and "Enter / Esc: close" in _shown(app.screen)
        await pilot.press("escape")
        await wait_idle(pilot)
        assert isinstance(app.screen, AuditScreen)
