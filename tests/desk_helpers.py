"""Shared set-up for the desk-screen tests: a small demo database on a fixed clock, a context
pointing at a temporary DADAN_HOME, and a tiny harness app that hosts one screen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dadan.core.config import Paths, PrinterSettings, Settings
from dadan.core.context import Context
from dadan.core.db import write
from dadan.core.i18n import set_language
from dadan.core.models import Order

NOW = dt.datetime(2026, 11, 20, 4, 0, 0)  # naive UTC: 12:00 in Shanghai


def make_ctx(tmp_path: Path, n: int = 200, *, seed: int = 7, lang: str = "en") -> Context:
    from dadan.core.demo import write_demo

    set_language(lang)
    home = tmp_path / "home"
    paths = Paths(config_dir=home, data_dir=home).ensure()
    settings = Settings(language=lang, operator="tester",
                        printers=[PrinterSettings(name="preview", driver="preview", uri=str(home / "preview"))])
    ctx = Context(paths=paths, settings=settings)
    ctx.open_db()
    if n:
        write_demo(n, seed, now=NOW)
    return ctx


def give_tracking(order: Order, tracking: str, logistics_id: int = 115) -> Order:
    with write():
        Order.update(tracking_number=tracking, logistics_id=logistics_id).where(Order.id == order.id).execute()
    return Order.get_by_id(order.id)


def printable_order(**extra) -> Order:
    q = Order.select().where(Order.state == "printed", Order.exception_flags == 0, Order.order_status == 1)
    return q.order_by(Order.id).first()


def blocked_order() -> Order:
    return Order.select().where(Order.exception_flags != 0, Order.order_status == 1).order_by(Order.id).first()


# ------------------------------------------------------------------ a harness app for one screen
def harness(ctx, screen_factory=None, *, now=NOW):
    """A minimal app with ``ctx``/``now`` (like DadanApp) whose base screen shows the print
    progress line; ``screen_factory()`` (if given) is pushed on mount."""
    from textual.app import App
    from textual.widgets import Footer, Static

    from dadan.tui.print_pool import PrintPool
    from dadan.tui.widgets.desk_printing import DeskPrintProgress

    class Harness(App):
        CSS = "Screen { background: $background; }"

        def __init__(self):
            super().__init__()
            self.ctx, self.now = ctx, now
            self.print_pool = PrintPool(self)

        def compose(self):
            yield Static("harness", id="home")
            yield DeskPrintProgress(id="progress")
            yield Footer()

        def on_mount(self):
            if screen_factory is not None:
                self.push_screen(screen_factory())

        def on_unmount(self):
            self.print_pool.stop()

    return Harness()


async def wait_idle(pilot, rounds: int = 3):
    """Let workers finish and their results paint (a superseded exclusive worker is fine)."""
    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
        await pilot.pause()


import pytest  # noqa: E402


@pytest.fixture
def anyio_backend():
    return "asyncio"
