"""The desk in 16 colours (TEXTUAL_COLOR_SYSTEM=standard, an old terminal or a plain SSH TERM)
and with NO_COLOR: what reaches the terminal uses only the 16 basic colours, no text is drawn in
its own background colour, and without colour the cursor row, the selected orders, exceptions
and a wrong scan still stand out by characters, weight and reverse video."""

import re

import pytest
import textual.constants
from rich.color import ColorSystem
from textual import events

from tests.desk_helpers import NOW, anyio_backend, make_ctx, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio

EXTENDED = re.compile(r"\x1b\[[0-9;]*(?:38|48);[25];")  # 256-colour or truecolour SGR


def _app(ctx):
    from dadan.tui.app import DadanApp

    app = DadanApp(ctx, now=NOW)
    app.bell = lambda: None
    return app


def terminal_output(app) -> str:
    """The bytes the app would write for a full repaint, in its console's colour system."""
    return app.screen._compositor.render_update(full=True).render_segments(app.console)


def strips(app):
    return app.screen._compositor.render_strips()


def screen_text(app) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in strips(app))


def _readable(ch: str) -> bool:
    return ch.isalnum() or ch in "!✓✖·…/:¥" or "\u4e00" <= ch <= "\u9fff"


def invisible_text(app, system=ColorSystem.STANDARD) -> list[tuple[int, str]]:
    """Text whose colour equals its background once reduced to ``system``."""
    bad = []
    for y, strip in enumerate(strips(app)):
        for seg in strip:
            style = seg.style
            if style is None or not any(_readable(ch) for ch in seg.text):
                continue
            fg, bg = style.color, style.bgcolor
            if fg is None or bg is None:
                continue
            if fg.downgrade(system).get_truecolor() == bg.downgrade(system).get_truecolor():
                bad.append((y, seg.text))
    return bad


async def _scan_unknown(pilot, app):
    for ch in "NOSUCH404":
        app.post_message(events.Key(ch, ch))
    app.post_message(events.Key("enter", "\r"))
    await wait_idle(pilot)
    await pilot.pause(0.2)
    await wait_idle(pilot)


async def test_sixteen_colours(tmp_path, monkeypatch):
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "standard")
    ctx = make_ctx(tmp_path, 60)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.console.color_system == "standard"
        await wait_idle(pilot)
        await pilot.press("space")  # select the first order (the cursor moves to the second)
        await _scan_unknown(pilot, app)
        out = terminal_output(app)
        assert not EXTENDED.search(out) and "\x1b[" in out
        text = screen_text(app)
        assert "To print" in text and "✓" in text and "✖ NOT FOUND NOSUCH404 ✖" in text
        assert not invisible_text(app)
        # the cursor row keeps its own background among the 16 colours
        rows = strips(app)
        table = app.screen.table
        cursor_y = table.region.y + 1 + table.cursor_row  # one header line
        bg = {seg.style.bgcolor.downgrade(ColorSystem.STANDARD).number for seg in rows[cursor_y]
              if seg.style and seg.style.bgcolor and seg.text.strip()}
        other = {seg.style.bgcolor.downgrade(ColorSystem.STANDARD).number for seg in rows[cursor_y + 2]
                 if seg.style and seg.style.bgcolor and seg.text.strip()}
        assert bg and other and bg.isdisjoint(other)
        # every desk screen
        for key in ("f1", "f2", "f3", "f4", "f9"):
            await pilot.press(key)
            await wait_idle(pilot)
            await pilot.pause(0.1)
            assert not EXTENDED.search(terminal_output(app)), key
            assert not invisible_text(app), (key, invisible_text(app))
            await pilot.press("escape")
            await wait_idle(pilot)


async def test_no_color(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    ctx = make_ctx(tmp_path, 60)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await wait_idle(pilot)
        await pilot.press("3")  # the exceptions view: every row carries "!" in its state
        await pilot.pause(0.2)
        await wait_idle(pilot)
        await pilot.press("space")
        await _scan_unknown(pilot, app)
        rows = strips(app)
        # no hue anywhere: only greys
        for strip in rows:
            for seg in strip:
                for colour in (seg.style.color, seg.style.bgcolor) if seg.style else ():
                    if colour is not None:
                        r, g, b = colour.get_truecolor()
                        assert r == g == b, (seg.text, colour)
        table = app.screen.table
        cursor_y = table.region.y + 1 + table.cursor_row
        cursor_text = [seg for seg in rows[cursor_y] if seg.text.strip()]
        other_text = [seg for seg in rows[cursor_y + 2] if seg.text.strip() and not seg.text.strip().startswith("!")]
        assert all(seg.style.bold for seg in cursor_text)  # the cursor row: bold
        assert not any(seg.style.bold for seg in other_text)
        marks = [seg for strip in rows for seg in strip if seg.text == "✓"]
        assert marks and all(seg.style.bold for seg in marks)  # selected: a bold tick
        marked = [seg for strip in rows for seg in strip if seg.text.strip().startswith("!")]
        flags = [seg for seg in marked if seg.text.strip()[1:2].isalpha()]  # "!refund": the state column
        overdue = [seg for seg in marked if seg.text.strip()[1:2] in "-0123456789"]  # "!-15h41m": ship-by
        assert flags and all(seg.style.bold and seg.style.reverse for seg in flags)
        assert overdue and all(seg.style.bold for seg in overdue)
        warn = [seg for strip in rows for seg in strip if "NOT FOUND" in seg.text]
        assert warn and warn[0].text.startswith("✖") and warn[0].style.reverse
