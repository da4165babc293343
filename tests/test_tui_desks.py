"""Desks see each other's changes: another process writes to the database, and the order screen
shows it within its change-check interval (core.changes), the cursor still on its order; not
while the operator types."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dadan.tui import change_watch
from tests.test_tui_orders import _build, make_app, make_ctx, orders_screen, settle

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.anyio

_OTHER_DESK = """
import sys
from dadan.core.db import open_database, write
from dadan.core.models import Order
open_database(sys.argv[1])
with write():
    Order.update(pay_amount_fen=123456).where(Order.id == int(sys.argv[2])).execute()
    Order.update(print_count=1).where(Order.id == int(sys.argv[3])).execute()
"""


@pytest.fixture
def anyio_backend():
    return "asyncio"


def other_desk(db: Path, amount_of: int, printed: int) -> None:
    subprocess.run([sys.executable, "-c", _OTHER_DESK, f"sqlite:///{db}", str(amount_of), str(printed)],
                   cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


async def wait_for(pilot, cond, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


async def test_another_desks_write_shows_without_moving_the_cursor(tmp_path, monkeypatch):
    monkeypatch.setattr(change_watch, "CHANGES_SECONDS", 0.2)
    monkeypatch.setattr(change_watch, "TYPING_QUIET_S", 3.0)
    db = _build(tmp_path / "desks.db", 40, 7)
    app = make_app(make_ctx(tmp_path, db))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        tabs = screen.query_one("#view-tabs")
        shown = list(screen.table.rows_shown)
        before = tabs.counts["to_print"]
        assert before == len(shown) > 6
        screen.table.move_cursor(row=3)
        on = shown[3].id

        # the operator is typing: the change waits for the keys to rest
        await pilot.press("down", "up")
        other_desk(db, shown[5].id, shown[-1].id)
        await pilot.pause(0.5)
        assert screen.table.rows_shown[5].pay_amount_fen == shown[5].pay_amount_fen
        assert tabs.counts["to_print"] == before

        assert await wait_for(pilot, lambda: screen.table.rows_shown[5].pay_amount_fen == 123456)
        assert await wait_for(pilot, lambda: tabs.counts["to_print"] == before - 1)
        assert [r.id for r in screen.table.rows_shown] == [r.id for r in shown[:-1]]  # printed elsewhere
        assert screen.table.cursor_row == 3 and screen.current_order().id == on

