"""Every desk screen at 80x24, in English and in Chinese, on realistic data (the demo, a finished
print job of 1,484 labels, a paused one, exceptions, pending and failed ship confirmations, a
scan expecting a 22-character order number, a filter with an error): whatever number, count,
order number or time a screen means to show is on screen whole. Labels may shorten (short forms,
"…"), numbers never. The text checked is what the terminal would show (the screen's composed
strips), so a cell cut by a column, a line cut by its widget, or a footer key cut by the
command-palette key all fail here."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.desk_helpers import (  # noqa: F401
    NOW,
    anyio_backend,
    make_ctx,
    sample_import_screen,
    stock_catalogue,
    wait_idle,
)

pytestmark = pytest.mark.anyio

SIZE = (80, 24)
BOX = "▊▎▔▁│┃╭╮╰╯─━▏▕▌▐▋▍▄▂▇▆▅▃"


def screen_lines(app) -> list[str]:
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def region_lines(app, region) -> list[str]:
    """The characters shown inside ``region`` (by cells: a CJK character takes two)."""
    from rich.cells import cell_len

    out = []
    for strip in app.screen._compositor.render_strips()[region.y:region.bottom]:
        x, line = 0, ""
        for seg in strip:
            for ch in seg.text:
                if region.x <= x < region.right:
                    line += ch
                x += cell_len(ch)
        out.append(line)
    return out


def flat(app) -> str:
    """The screen (a modal: its dialog) as one line: frames removed, wrapped lines joined,
    runs of spaces as one."""
    from textual.screen import ModalScreen

    screen = app.screen
    if isinstance(screen, ModalScreen):
        text = " ".join(region_lines(app, screen.children[0].region))
    else:
        text = " ".join(screen_lines(app))
    text = "".join(" " if ch in BOX else ch for ch in text)
    return re.sub(r"\s+", " ", text)


def line_of(app, widget) -> str:
    return screen_lines(app)[widget.region.y]


def has_token(text: str, token: str) -> bool:
    """``token`` whole: not glued to more digits or letters on either side."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(token)}(?![0-9A-Za-z])", text) is not None


class Cuts:
    def __init__(self) -> None:
        self.found: list[str] = []

    def need(self, where: str, text: str, token: str) -> None:
        if not has_token(text, token):
            self.found.append(f"{where}: {token!r} not whole in {text.strip()!r}"[:300])

    def footer(self, app, where: str) -> None:
        """Every key the footer shows is whole (key and description), the palette key too."""
        from textual.widgets import Footer

        footer = app.screen.query_one(Footer)
        line = line_of(app, footer)
        for key in footer.query("FooterKey"):
            if not key.display:
                continue
            shown = f"{key.key_display} {key.description}".strip()
            if shown not in line:
                self.found.append(f"{where} footer: {shown!r} not whole in {line.strip()!r}")


async def settle(pilot, pause: float = 0.2) -> None:
    """Idle, then until two renders 0.1 s apart agree (at most 5 s): a thread worker's rows can
    land just before a picture, ahead of the table's column widths catching up with them."""
    await wait_idle(pilot)
    await pilot.pause(pause)
    await wait_idle(pilot)
    before = None
    for _ in range(50):
        now = screen_lines(pilot.app)
        if now == before:
            return
        before = now
        await pilot.pause(0.1)


def _desk_data() -> dict:
    """A finished job of 1,484 labels, a paused one (15 of 200 done), a failed and three pending
    ship confirmations, a finished sync; the order a packing slip is scanned for."""
    from dadan.core.db import write
    from dadan.core.models import Order, PrintItem, PrintJob, Shipment, Shop, SyncRun

    with write():
        ids = [o.id for o in Order.select(Order.id).order_by(Order.id)]
        done = PrintJob.create(printer="preview", template="waybill_100x150", state="done", total=1484,
                               created_at=NOW - dt.timedelta(hours=2), finished_at=NOW - dt.timedelta(minutes=5))
        PrintItem.insert_many([{"job": done.id, "seq": i, "order": ids[(i - 1) % len(ids)], "state": "sent"}
                               for i in range(1, 1485)]).execute()
        paused = PrintJob.create(printer="preview", template="waybill_100x150", state="paused", total=200,
                                 state_reason="paper out", created_at=NOW - dt.timedelta(minutes=3))
        states = ["sent"] * 15 + ["failed"] * 2 + ["queued"] * 183
        PrintItem.insert_many([{"job": paused.id, "seq": i, "order": ids[-i], "state": s}
                               for i, s in enumerate(states, 1)]).execute()
        printed = (Order.select().where(Order.state == "printed", Order.exception_flags == 0, Order.order_status == 1)
                   .order_by(Order.id).limit(5))
        slip = None
        for n, o in enumerate(printed):
            Shipment.create(order=o.id, tracking_number=f"YT{7770000 + n}", logistics_id=115,
                            state="failed" if n == 0 else "pending" if n < 4 else "confirmed")
            slip = o
        with_tracking = Order.select().where(Order.state == "printed", Order.exception_flags == 0,
                                             Order.order_status == 1, Order.id > slip.id).order_by(Order.id).first()
        Order.update(tracking_number="YT8880001234", logistics_id=115).where(Order.id == with_tracking.id).execute()
        SyncRun.create(shop=Shop.select().first(), started_at=NOW - dt.timedelta(minutes=4),
                       finished_at=NOW - dt.timedelta(minutes=3), ok=True, orders_new=1234, orders_changed=56)
    return {"done": done.id, "paused": paused.id, "slip": with_tracking}


async def _orders_screen(app, pilot, cuts: Cuts) -> None:
    from dadan.tui.widgets.desk_printing import DeskPrintProgress
    from dadan.tui.widgets.status_line import StatusLine

    screen = app.screen
    tabs = screen.tabs
    parts = line_of(app, tabs).split("│")
    assert len(parts) == len(tabs.views), parts
    for view, part in zip(tabs.views, parts):
        n = tabs.counts[view.key]
        if not (has_token(part, f"{n:,}") or has_token(part, str(n))):
            cuts.found.append(f"tab {view.key}: count {n} not whole in {part!r}")
    info = screen.query_one("#info-line")
    cuts.need("info line", line_of(app, info), f"{tabs.counts[tabs.active]:,}")
    _order_rows(app, cuts, "to print")
    status = screen.query_one(StatusLine)
    info_s = status.info
    line = line_of(app, status)
    assert info_s is not None and info_s.print_active == "15/200", info_s
    cuts.need("status line", line, info_s.print_active)
    cuts.need("status line", line, str(info_s.ship_pending))
    cuts.need("status line", line, str(info_s.ship_failed))
    progress = screen.query_one(DeskPrintProgress)
    cuts.need("print progress", line_of(app, progress), "15/200")
    cuts.footer(app, "orders")
    await pilot.press("3")  # the exceptions view: the state column names each exception
    await settle(pilot, 0.3)
    assert screen.tabs.active == "exceptions"
    _order_rows(app, cuts, "exceptions view")
    await pilot.press("1")
    await settle(pilot)


def _order_rows(app, cuts: Cuts, where: str) -> None:
    """Each row's cells, but the labels (items, region), whole on the row's line."""
    table = app.screen.table
    lines = screen_lines(app)
    visible = table.region.height - 1  # one header line
    assert table.rows_shown
    for i, r in enumerate(table.rows_shown[:visible]):
        row = lines[table.region.y + 1 + i - int(table.scroll_y)]
        cells = table.get_row(str(r.id))
        for key, cell in zip([c.key for c in table.columns.values()], cells):
            if key.value in ("items", "region", "courier", "mark"):
                continue  # labels: may shorten
            text = str(cell.plain if hasattr(cell, "plain") else cell).strip()
            if text:
                cuts.need(f"{where} row {i} {key.value}", row, text)
        cuts.need(f"{where} row {i} order number", row, r.order_sn)  # whole, never a short form


async def _print_queue(app, pilot, cuts: Cuts, data: dict) -> None:
    from textual.widgets import DataTable

    await pilot.press("f4")
    await settle(pilot)
    screen = app.screen
    jobs = screen.query_one("#pq-jobs", DataTable)
    items = screen.query_one("#pq-items", DataTable)
    # the queue reads in a thread worker and refreshes every second; each table's column widths
    # follow its rows on the next idle, so give the screen up to 10 s (a loaded CI machine) to
    # show a finished picture: both jobs' progress and the first label's order number
    first_sn = screen.items[0].order.order_sn if screen.items else ""
    for _ in range(100):
        shown = "\n".join(screen_lines(app))
        if all(want in shown for want in ("1484/1484", "15/200", first_sn)):
            break
        await pilot.pause(0.1)
    lines = screen_lines(app)
    job_lines = lines[jobs.region.y:jobs.region.bottom]
    cuts.need("print queue job #1", next((ln for ln in job_lines if "#1 " in ln), ""), "1484/1484")
    cuts.need("print queue job #2", next((ln for ln in job_lines if "#2 " in ln), ""), "15/200")
    item_lines = "\n".join(lines[items.region.y:items.region.bottom])
    for it in screen.items[: items.region.height - 1]:
        cuts.need("print queue label", item_lines, it.order.order_sn)
    cuts.footer(app, "print queue")
    await pilot.press("escape")
    await settle(pilot)


async def _exceptions(app, pilot, cuts: Cuts) -> None:
    from textual.widgets import DataTable, OptionList

    from dadan.core.orders.exception_groups import GROUPS
    from dadan.core.timeutil import humanize_delta

    await pilot.press("f3")
    await settle(pilot)
    screen = app.screen
    lines = screen_lines(app)
    groups = screen.query_one(OptionList)
    pane = [ln.split("▎")[0].strip(BOX + " ") for ln in lines[groups.region.y:groups.region.bottom]]  # ▎: its right edge
    shown = [ln for ln in pane if ln]
    want = [str(screen.counts.get(g.key, 0)) for g in GROUPS]
    got = [ln.rsplit(" ", 1)[-1] for ln in shown]
    if got != want:
        cuts.found.append(f"exception groups: counts {got} (want {want}) in {shown}")
    table = screen.query_one(DataTable)
    rows = "\n".join(lines[table.region.y:table.region.bottom])
    for o in screen.orders[: table.region.height - 1]:
        cuts.need("exception row", rows, o.order_sn)
        cuts.need("exception ship-by", rows, screen.fmt(o.last_ship_time))
        if o.last_ship_time < screen.now():
            cuts.need("exception overdue", rows, humanize_delta(o.last_ship_time - screen.now()))
    cuts.need("exception status", line_of(app, screen.query_one("#exc-status")), str(len(screen.orders)))
    cuts.footer(app, "exceptions")
    await pilot.press("l")
    await settle(pilot)
    dialog = flat(app)
    for needle in (("Release 1 order(s): why?", "解除 1 单：原因？"),
                   ("Recorded with your name; the orders can then be printed and shipped.", "将记录操作人；解除后可打印和发货。"),
                   ("Enter: confirm · Esc: cancel", "回车：确认 · Esc：取消")):
        text = needle[1] if app.ctx.settings.language == "zh" else needle[0]
        if text not in dialog:
            cuts.found.append(f"release dialog: {text!r} not whole in {dialog!r}")
    await pilot.press("escape")
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)


async def _scan(app, pilot, cuts: Cuts, data: dict) -> None:
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press("f2")  # scan to ship
    sn = data["slip"].order_sn
    await pilot.press(*sn, "enter")
    await settle(pilot)
    screen = app.screen
    assert screen.expect_sn == sn
    banner = screen.query_one("#scan-banner")
    cuts.need("scan mode", "\n".join(screen_lines(app)[:banner.region.y]), sn)
    cuts.footer(app, "scan")
    await pilot.press("escape")
    await settle(pilot)


async def _pushed(app, pilot, cuts: Cuts, screen, where: str, needles, *, footer: bool = True) -> None:
    app.push_screen(screen)
    await settle(pilot, 0.3)
    text = flat(app)
    for needle in needles(app.screen):
        if needle not in text:
            cuts.found.append(f"{where}: {needle!r} not whole in {text!r}"[:400])
    if footer:
        cuts.footer(app, where)
    app.screen.dismiss()
    await settle(pilot)


async def _other_screens(app, pilot, cuts: Cuts, tmp_path, data: dict) -> None:
    from pathlib import Path

    from dadan.core.models import Order
    from dadan.core.orders.selection import Selection
    from dadan.core.timeutil import fen_to_yuan
    from dadan.tui.screens.detail import DetailScreen
    from dadan.tui.screens.export_dialog import ExportDialog
    from dadan.tui.screens.filter_builder import FilterBuilderScreen
    from dadan.tui.screens.help import HelpScreen
    from dadan.tui.screens.print_dialog import PrintDialog
    from dadan.tui.screens.settings import SettingsScreen
    from dadan.tui.screens.tracking import TrackingScreen

    o = Order.select().where(Order.exception_flags != 0).order_by(Order.id).first()
    await _pushed(app, pilot, cuts, DetailScreen(o.id), "detail",
                  lambda s: [o.order_sn, f"¥{fen_to_yuan(o.pay_amount_fen)}", s.fmt(o.last_ship_time)])
    ids = [x.id for x in Order.select().where(Order.order_status == 1).order_by(Order.id).limit(30)]

    def dialog_numbers(s):
        plan = s.plan
        return [f"{len(ids)}", f"{len(plan.ready)}"]

    await _pushed(app, pilot, cuts, PrintDialog(ids), "print dialog", dialog_numbers, footer=False)
    fb = FilterBuilderScreen({"status": "pendng", "province": "浙江"})

    def fb_error(s):
        err = str(s.query_one("#fb-count").render())
        assert not s.valid, err
        return [err]

    await _pushed(app, pilot, cuts, fb, "filter builder", fb_error)
    printed = [x.id for x in Order.select().where(Order.state == "printed").order_by(Order.id).limit(4)]
    await _pushed(app, pilot, cuts, TrackingScreen(printed, logistics_id=115), "tracking",
                  lambda s: [r["sn"] for r in s.rows])
    await _pushed(app, pilot, cuts, SettingsScreen(), "settings", lambda s: [])
    await _pushed(app, pilot, cuts, sample_import_screen(tmp_path), "import",
                  lambda s: ["2.61120123456789E+20"])
    sel = Selection()
    sel.select_all_matching("status:pending printed:no")
    await _pushed(app, pilot, cuts, ExportDialog(sel, now=NOW, folder=Path("/srv/dadan/exports")), "export dialog",
                  lambda s: [], footer=False)
    await _pushed(app, pilot, cuts, HelpScreen(), "help", lambda s: [])


def _goods_data() -> dict:
    """The catalogue: a short SKU, one with 100,000 on hand, one below a safety stock of
    1,000,000, a long merchant code with a long bin, and 150 more (two pages)."""
    from dadan.core.goods import catalogue
    from dadan.core.goods.catalogue import GoodsRecord

    skus = stock_catalogue(extra=150)
    catalogue.save([GoodsRecord(code="SKU-0001-XL-BLACK-2026", name="加厚保温杯大容量户外运动水杯不锈钢 " * 2,
                                spec="1000ml 黑色", bin="A-03-2-17", on_hand=1_234_567, safety_stock=99_999)],
                   actor="tester")
    return skus


def _goods_rows(app, cuts: Cuts, where: str, columns: tuple[str, ...]) -> None:
    """Each shown row's codes and numbers whole on its line (the name may shorten)."""
    table = app.screen.query_one("#goods-table, #recv-table")
    lines = screen_lines(app)
    assert table.row_count, where
    for i in range(min(table.row_count, table.region.height - 1)):
        row = lines[table.region.y + 1 + i]
        for key, cell in zip([c.key.value for c in table.columns.values()], table.get_row_at(i)):
            if key in columns:
                cuts.need(f"{where} row {i} {key}", row, str(cell.plain if hasattr(cell, "plain") else cell).strip())


async def _goods_screens(app, pilot, cuts: Cuts) -> None:
    from tests.desk_helpers import BARCODE

    _goods_data()
    await pilot.press("f6")
    await settle(pilot)
    screen = app.screen
    assert screen.total == 154
    tabs = line_of(app, screen.query_one("#goods-tabs"))
    for view in ("all", "low", "short"):
        cuts.need(f"goods tab {view}", tabs, f"{screen.counts[view]:,}")
    cuts.need("goods status", line_of(app, screen.query_one("#goods-status")), "154")
    _goods_rows(app, cuts, "goods", ("code", "bin", "on_hand", "reserved", "available", "safety_stock"))
    await pilot.press("slash", *"sku-0001", "enter")
    await settle(pilot)
    assert [r.code for r in screen.rows] == ["SKU-0001-XL-BLACK-2026"]
    _goods_rows(app, cuts, "goods long code", ("code", "bin", "on_hand", "reserved", "available", "safety_stock"))
    screen.query_one("#goods-filter").value = ""
    await pilot.press("4")
    await settle(pilot)
    _goods_rows(app, cuts, "goods missing", ("code", "orders"))
    cuts.footer(app, "goods")
    await pilot.press("r")
    await settle(pilot)
    for code in (BARCODE, "12*SKU-0001-XL-BLACK-2026"):
        await pilot.press(*code, "enter")
        await settle(pilot)
    recv = app.screen
    _goods_rows(app, cuts, "receive", ("code", "qty", "on_hand"))
    cuts.need("receive banner", " ".join(screen_lines(app)), "1,234,579")
    cuts.need("receive total", line_of(app, recv.query_one("#recv-total")), "+13")
    cuts.footer(app, "receive")
    await pilot.press("escape")
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_screen_shows_numbers_whole_at_80x24(tmp_path, lang):
    from dadan.tui.app import DadanApp
    from dadan.tui.relabel import relabel_classes

    ctx = make_ctx(tmp_path, 1600, lang=lang)
    relabel_classes()
    data = _desk_data()
    app = DadanApp(ctx, now=NOW)
    app.bell = lambda: None
    cuts = Cuts()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, 0.5)
        await _orders_screen(app, pilot, cuts)
        await _print_queue(app, pilot, cuts, data)
        await _exceptions(app, pilot, cuts)
        await _scan(app, pilot, cuts, data)
        await _other_screens(app, pilot, cuts, tmp_path, data)
        await _goods_screens(app, pilot, cuts)
    assert not cuts.found, "\n".join(cuts.found)
