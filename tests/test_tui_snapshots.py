"""SVG snapshots of every desk screen at 80x24 and 120x40, on a fixed clock and a fixed demo
database (update with ``pytest tests/test_tui_snapshots.py --snapshot-update``)."""

import pytest

from dadan.core.config import PrinterSettings
from dadan.core.models import Order
from tests.desk_helpers import (
    BARCODE,
    give_tracking,
    harness,
    make_ctx,
    numbered,
    printable_order,
    sample_import_screen,
    stock_catalogue,
    wait_idle,
)

SIZES = [(80, 24), (120, 40)]


def _first_order():
    return Order.select().where(Order.exception_flags == 0).order_by(Order.id).first().id


def _factories():
    from dadan.tui.screens.detail import DetailScreen
    from dadan.tui.screens.exceptions import ExceptionScreen
    from dadan.tui.screens.filter_builder import FilterBuilderScreen
    from dadan.tui.screens.goods import GoodsScreen
    from dadan.tui.screens.help import HelpScreen
    from dadan.tui.screens.preview import PreviewScreen
    from dadan.tui.screens.print_dialog import PrintDialog
    from dadan.tui.screens.print_queue import PrintQueueScreen
    from dadan.tui.screens.receive import ReceiveScreen
    from dadan.tui.screens.scan import ScanScreen
    from dadan.tui.screens.settings import SettingsScreen
    from dadan.tui.screens.tracking import TrackingScreen

    def print_dialog():
        ids = [o.id for o in Order.select().where(Order.order_status == 1).order_by(Order.id).limit(30)]
        return PrintDialog(ids)

    def queue():
        from dadan.core.printing import queue as printing

        ids = numbered([o.id for o in Order.select().where(Order.print_count == 0, Order.exception_flags == 0,
                                                           Order.order_status == 1).order_by(Order.id).limit(5)])
        job = printing.create_job(ids, printer="preview", template="waybill_100x150", actor="tester")
        return PrintQueueScreen(job.id)

    def tracking():
        ids = [o.id for o in Order.select().where(Order.state == "printed", Order.exception_flags == 0)
               .order_by(Order.id).limit(4)]
        return TrackingScreen(ids, logistics_id=115)

    def export_dialog():
        from pathlib import Path

        from dadan.core.orders.selection import Selection
        from dadan.tui.screens.export_dialog import ExportDialog
        from tests.desk_helpers import NOW

        sel = Selection()
        sel.select_all_matching("status:pending printed:no")
        return ExportDialog(sel, now=NOW, folder=Path("/srv/dadan/exports"))  # no tmp path on screen

    return {
        "detail": lambda: DetailScreen(_first_order()),
        "export_dialog": export_dialog,
        "print_dialog": print_dialog,
        "print_queue": queue,
        "exceptions": ExceptionScreen,
        "scan": lambda: ScanScreen(ship_mode=True),
        "tracking": tracking,
        "filter_builder": FilterBuilderScreen,
        "settings": SettingsScreen,
        "help": HelpScreen,
        "preview": lambda: PreviewScreen(order_id=_first_order()),
        "goods": GoodsScreen,
        "receive": ReceiveScreen,
    }


SCREENS = ["detail", "export_dialog", "print_dialog", "print_queue", "exceptions", "scan", "tracking", "filter_builder",
           "settings", "help", "preview", "import", "goods", "receive"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", SCREENS)
def test_screen_snapshot(name, size, tmp_path, snap_compare):
    ctx = make_ctx(tmp_path, 60, seed=3)
    ctx.settings.printers = [PrinterSettings(name="preview", driver="preview", uri="")]  # no tmp path on screen
    if name == "scan":
        give_tracking(printable_order(), "75377700000001")
    if name in ("goods", "receive"):
        stock_catalogue(extra=30)
    factory = (lambda: sample_import_screen(tmp_path)) if name == "import" else _factories()[name]
    app = harness(ctx, factory)
    app.bell = lambda: None

    async def run_before(pilot):
        await wait_idle(pilot, 4)
        if name == "print_queue":  # its first read is a thread worker: wait for its rows, then a repaint
            from textual.widgets import DataTable

            screen = pilot.app.screen
            for _ in range(100):  # rows, then the column widths that follow them on an idle
                shown = "".join(seg.text for strip in screen._compositor.render_strips() for seg in strip)
                if screen.query_one("#pq-items", DataTable).row_count and screen.items[0].order.order_sn in shown:
                    break
                await pilot.pause(0.05)
        if name == "receive":
            await pilot.press(*BARCODE, "enter", *"12*FILL-00003", "enter", *"NOSUCH1", "enter")
            await wait_idle(pilot)
        if name == "scan":
            await pilot.press(*"75377700000001", "enter")
            await wait_idle(pilot)
            await pilot.press(*"NOSUCH1", "enter")
            await wait_idle(pilot)
        await pilot.pause(0.3)
        await wait_idle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_pack_check_snapshot(tmp_path, snap_compare):
    """The pack check (F8) at 80x24: a parcel half checked, a wrong item's alarm."""
    from dadan.tui.screens.pack import PackScreen
    from tests.pack_helpers import BARCODES, bench

    ctx = make_ctx(tmp_path, 0)
    pb = bench(a_lines=(("A12", 3), ("B07", 2)))
    app = harness(ctx, PackScreen)
    app.bell = lambda: None

    async def run_before(pilot):
        await wait_idle(pilot, 4)
        for code in (pb["w1"].code, BARCODES["A12"], f"2*{BARCODES['A12']}", BARCODES["Z9"]):
            await pilot.press(*code, "enter")
            await wait_idle(pilot)
        while pilot.app.screen.scans.busy:
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        await wait_idle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("view", ["80x24", "80x24-charts", "120x40"])
def test_reports_snapshot(view, tmp_path, snap_compare):
    """The reports screen (F11) on the fixed clock: orders of the demo, eight shipped the day
    before with three couriers; at 80x24 the table, then scrolled to the bar charts."""
    import datetime as dt

    from dadan.core.orders.couriers import by_id, example_tracking
    from dadan.core.shipping.outbox import assign_tracking
    from dadan.tui.screens.reports import ReportsScreen
    from tests.desk_helpers import NOW

    ctx = make_ctx(tmp_path, 60, seed=3)
    ids = [o.id for o in Order.select().where(Order.exception_flags == 0, Order.order_status == 1)
           .order_by(Order.id).limit(8)]
    for i, oid in enumerate(ids):
        lid = (115, 115, 115, 85, 85, 121, 115, 85)[i]
        assign_tracking(oid, example_tracking(by_id(lid), 9000 + i), lid, actor="bob",
                        now=NOW - dt.timedelta(hours=20 - i))
    app = harness(ctx, ReportsScreen)
    app.bell = lambda: None

    async def run_before(pilot):
        await wait_idle(pilot, 4)
        for _ in range(100):
            if pilot.app.screen.report is not None:
                break
            await pilot.pause(0.05)
        await wait_idle(pilot)
        if view == "80x24-charts":
            await pilot.press("pagedown")
            await wait_idle(pilot)
        await pilot.pause(0.3)
        await wait_idle(pilot)

    size = (120, 40) if view == "120x40" else (80, 24)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
