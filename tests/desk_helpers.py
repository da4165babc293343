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


def make_ctx(tmp_path: Path, n: int = 200, *, seed: int = 7, lang: str = "en", url: str = "") -> Context:
    """A desk's context on demo orders; ``url``: its database (default: a SQLite file in the home)."""
    from dadan.core.demo import write_demo

    set_language(lang)
    home = tmp_path / "home"
    paths = Paths(config_dir=home, data_dir=home).ensure()
    settings = Settings(language=lang, operator="tester", database_url=url,
                        printers=[PrinterSettings(name="preview", driver="preview", uri=str(home / "preview"))])
    ctx = Context(paths=paths, settings=settings)
    ctx.open_db()
    # not a new warehouse's first desk: it does not open on "create the administrator" (a test
    # of that first start removes this mark)
    from dadan.core.operators import put_off_first_admin

    put_off_first_admin(home, "tests")
    if n:
        # six in ten with a number entered, as before waybills; the catalogue is each test's own
        write_demo(n, seed, now=NOW, numbers=True, goods=False)
    return ctx


def give_tracking(order: Order, tracking: str, logistics_id: int = 115) -> Order:
    with write():
        Order.update(tracking_number=tracking, logistics_id=logistics_id).where(Order.id == order.id).execute()
    return Order.get_by_id(order.id)


def numbered(ids) -> list[int]:
    """Give each of these orders without a tracking number one of ZTO's shape (as if typed), so
    a waybill template prints them without taking a number; returns ``ids``."""
    from dadan.core.orders.couriers import by_code, example_tracking

    zto = by_code("ZTO")
    with write():
        for i in ids:
            Order.update(tracking_number=example_tracking(zto, 10**9 + i), logistics_id=zto.id).where(
                (Order.id == i) & (Order.tracking_number == "")).execute()
    return list(ids)


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

    from dadan.tui.widgets.desk_footer import DeskFooter
    from dadan.tui.widgets.filter_bar import DEBOUNCE_S, FilterBar

    for _ in range(rounds):
        while any(bar.pending for bar in pilot.app.screen.query(FilterBar)):  # typing not yet announced
            await pilot.pause(DEBOUNCE_S / 2)
        while any(footer.pending for footer in pilot.app.screen.query(DeskFooter)):  # keys not yet settled
            await pilot.pause(0.05)
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
        await pilot.pause()


# ------------------------------------------------------------------ goods and stock
BARCODE = "6901234567890"


def open_line_codes(n: int = 3) -> list[tuple[str, int]]:
    """(code, open orders) of the most-wanted SKUs the open orders carry (the demo's)."""
    from dadan.core.goods import catalogue

    return [(m.code, m.orders) for m in catalogue.missing()[:n]]


def stock_catalogue(extra: int = 0) -> dict:
    """The demo's three most-wanted SKUs in the catalogue: the first short (no stock, orders
    wait), the second plenty, the third low (below its safety stock). ``extra`` filler SKUs."""
    from dadan.core.goods import catalogue
    from dadan.core.goods.catalogue import GoodsRecord

    wanted = open_line_codes(3)
    short, plenty, low = (c for c, _n in wanted)
    recs = [GoodsRecord(code=short, name="保温杯", spec="星空蓝", barcodes=[BARCODE], bin="A-03-2", on_hand=0),
            GoodsRecord(code=plenty, name="抽纸", spec="24包", bin="B-01-1", on_hand=100_000, safety_stock=5),
            GoodsRecord(code=low, name="牙刷", bin="C-9", on_hand=10_000, safety_stock=1_000_000)]
    recs += [GoodsRecord(code=f"FILL-{i:05d}", name=f"填充 {i}", bin=f"Z-{i % 50:02d}", on_hand=i % 7)
             for i in range(extra)]
    catalogue.save(recs, actor="tester")
    return {"short": short, "plenty": plenty, "low": low}


import pytest  # noqa: E402


@pytest.fixture
def anyio_backend():
    return "asyncio"


def sample_import_screen(tmp_path: Path):
    """The import screen on a small export file with one bad row (Excel turned its order number
    into a number), for the first shop."""
    from dadan.core.models import Shop
    from dadan.tui.screens.import_screen import ImportScreen

    path = tmp_path / "orders.csv"
    path.write_text(
        "订单号,订单状态,商品,商品数量(件),用户实付金额(元),商家编码-规格维度,商品规格,支付时间\n"
        "\t261120-123456789012345,待发货,保温杯,2,91.80,C21,星空蓝,2026-11-20 10:00:00\n"
        "2.61120123456789E+20,待发货,抽纸,1,32.90,D01,24包,2026-11-20 10:05:00\n",
        encoding="utf-8-sig",
    )
    return ImportScreen(path, shop_id=Shop.select().first().id, actor="tester")


def run_cli(argv: list[str], monkeypatch, capsys,
            modules: tuple[str, ...] = ("importing", "export")) -> tuple[int, str, str]:
    """``dadan import``/``dadan export`` (or the command ``modules`` given) in this process ->
    (exit code, stdout, stderr)."""
    from dadan.core.db import close_database
    from dadan.tui import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", [f"dadan.tui.commands.{m}" for m in modules])
    try:
        rc = cli.main(argv)
    except SystemExit as exc:
        rc = exc.code
    close_database()
    out = capsys.readouterr()
    return rc, out.out, out.err
