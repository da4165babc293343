"""The goods screen (F6) and the receive / count screen (F7) on a real SQLite file: the
catalogue listed, filtered and paged; the low, short and missing views; an edit with a bad
number refused with nothing changed; a scanner's burst of 20 codes adds exactly 20; an unknown
code rings and changes nothing; a count records the difference; a receipt releases a short
order; an order flagged short shows its shortfalls in the order detail."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable

from dadan.core.goods import catalogue
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.models import Goods, StockMovement
from dadan.core.models import AuditEvent, Order
from dadan.core.orders.rules import Flag
from tests.desk_helpers import BARCODE, anyio_backend, harness, make_ctx, stock_catalogue, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio

def goods(code: str) -> Goods:
    return Goods.get(Goods.code_key == code.lower())


def short_orders() -> list[int]:
    return [o.id for o in Order.select(Order.id).where(Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0)]


def scanner_key(app, ch: str) -> None:
    """One key of a USB scanner: a character of the code, or "enter"."""
    from textual import events

    if ch == "enter":
        app.post_message(events.Key("enter", "\r"))
    else:
        app.post_message(events.Key(ch if ch.isalnum() else "asterisk" if ch == "*" else "minus", ch))


def scanner(app, code: str) -> None:
    """A USB scanner: every character and Enter, handed to the app together."""
    for key in [*code, "enter"]:
        scanner_key(app, key)


def _goods_app(ctx, factory):
    app = harness(ctx, factory)
    app.bells = []
    app.bell = lambda: app.bells.append(1)
    return app


async def _type(pilot, text: str) -> None:
    await pilot.press(*text)
    await wait_idle(pilot)


def _codes(screen) -> list[str]:
    return [r.code for r in screen.rows]


async def test_goods_screen_lists_pages_filters_and_views(tmp_path):
    from dadan.tui.screens.goods import PAGE, GoodsScreen

    ctx = make_ctx(tmp_path, 200)
    skus = stock_catalogue(extra=250)
    still_missing = [m.code for m in catalogue.missing()]
    app = _goods_app(ctx, GoodsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        assert s.total == 253 and len(s.rows) == PAGE == s.query_one(DataTable).row_count  # one page in widgets
        by_key = sorted([*skus.values(), *(f"FILL-{i:05d}" for i in range(250))], key=str.lower)
        assert _codes(s) == by_key[:PAGE]
        await pilot.press("right_square_bracket")
        await wait_idle(pilot)
        assert s.start == PAGE and len(s.rows) == PAGE and _codes(s) == by_key[PAGE:2 * PAGE]
        await pilot.press("slash")
        await _type(pilot, "a-03")  # a bin, case-insensitive
        assert _codes(s) == [skus["short"]] and s.start == 0
        s.query_one("#goods-filter").value = ""
        await wait_idle(pilot)
        await _type(pilot, BARCODE)  # an exact barcode
        assert _codes(s) == [skus["short"]]
        s.query_one("#goods-filter").value = "抽纸"  # a name
        await wait_idle(pilot)
        assert _codes(s) == [skus["plenty"]]
        s.query_one("#goods-filter").value = ""
        await wait_idle(pilot)
        await pilot.press("escape")  # from the filter to the table (the screen stays)
        assert isinstance(app.screen, GoodsScreen)
        await pilot.press("2")
        await wait_idle(pilot)
        low = _codes(s)
        assert skus["low"] in low and skus["short"] in low and skus["plenty"] not in low
        assert all(r.on_hand - r.reserved <= r.safety_stock for r in s.rows)
        await pilot.press("3")
        await wait_idle(pilot)
        assert _codes(s) == [skus["short"]] and s.rows[0].reserved > s.rows[0].on_hand == 0
        await pilot.press("4")
        await wait_idle(pilot)
        assert [m.code for m in s.rows] == still_missing and still_missing
        first = s.rows[0]
        await pilot.press("a")
        await wait_idle(pilot)
        added = goods(first.code)
        assert (added.name, added.spec) == (first.name, first.spec) and added.reserved > 0  # its orders reserve now
        assert first.code not in [m.code for m in s.rows] and len(s.rows) == len(still_missing) - 1


async def test_edit_form_refuses_a_bad_number_and_saves_a_good_one(tmp_path):
    from dadan.tui.screens.goods import GoodsScreen
    from dadan.tui.screens.goods_form import GoodsForm

    ctx = make_ctx(tmp_path, 60)
    skus = stock_catalogue()
    app = _goods_app(ctx, GoodsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        s.query_one(DataTable).move_cursor(row=_codes(s).index(skus["plenty"]))
        await pilot.press("enter")
        await wait_idle(pilot)
        form = app.screen
        assert isinstance(form, GoodsForm) and form.query_one("#gf-name").value == "抽纸"
        before = Goods.get_by_id(form.row.id)
        audits = AuditEvent.select().count()
        form.query_one("#gf-safety_stock").value = "12x"
        form.query_one("#gf-bin").value = "Q-1"
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
        assert app.screen is form and "12x" in form.error and app.bells
        assert Goods.get_by_id(form.row.id).__data__ == before.__data__ and AuditEvent.select().count() == audits
        form.query_one("#gf-safety_stock").value = "7"
        form.query_one("#gf-barcodes").value = BARCODE  # the short SKU's barcode: refused
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
        assert app.screen is form and BARCODE in form.error
        assert Goods.get_by_id(form.row.id).__data__ == before.__data__
        form.query_one("#gf-barcodes").value = "6900000000017, 6900000000024"
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
        assert app.screen is s
        after = goods(skus["plenty"])
        assert (after.safety_stock, after.bin, after.name) == (7, "Q-1", "抽纸")
        assert catalogue.find("6900000000024").id == after.id and catalogue.find(BARCODE).code == skus["short"]
        assert "Q-1" in str(s.query_one(DataTable).get_row(str(after.id))[2])


async def test_a_burst_of_20_scans_receives_exactly_20_and_releases_short_orders(tmp_path):
    from dadan.tui.screens.receive import ReceiveScreen

    ctx = make_ctx(tmp_path, 200)
    skus = stock_catalogue()
    g = goods(skus["short"])
    waiting = short_orders()
    assert g.on_hand == 0 and g.reserved > 20 and waiting
    app = _goods_app(ctx, ReceiveScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        for _ in range(20):
            scanner(app, BARCODE)
        await wait_idle(pilot)
        while s.scans.busy:
            await pilot.pause(0.05)
        await wait_idle(pilot)
        assert goods(skus["short"]).on_hand == 20
        moves = list(StockMovement.select().where(StockMovement.goods == g.id, StockMovement.kind == "receive"))
        assert [m.qty for m in moves] == [1] * 20 and {m.actor for m in moves} == {"tester"}
        assert len(s.outcomes) == 20 and s.session[g.id][2:] == [20, 20] and not app.bells
        released = set(waiting) - set(short_orders())
        assert released and s.released == len(released)
        assert f"{len(released)} short order(s) released" in str(s.query_one("#recv-total").render())
        for oid in released:
            assert not Order.get_by_id(oid).exception_flags & int(Flag.STOCK_SHORT)
        for _ in range(20):  # at scanner speed: a key every 2 ms, the app reading between them
            for key in [*BARCODE, "enter"]:
                scanner_key(app, key)
                await asyncio.sleep(0.002)
        await wait_idle(pilot)
        while s.scans.busy:
            await pilot.pause(0.05)
        assert goods(skus["short"]).on_hand == 40 and len(s.outcomes) == 40 and s.session[g.id][2] == 40
        scanner(app, f"5*{skus['plenty']}")  # a typed quantity first
        await wait_idle(pilot)
        assert goods(skus["plenty"]).on_hand == 100_005


async def test_unknown_code_alarms_and_changes_nothing(tmp_path):
    from dadan.tui.screens.receive import ReceiveScreen

    ctx = make_ctx(tmp_path, 60)
    stock_catalogue()
    app = _goods_app(ctx, ReceiveScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        moves, hands = StockMovement.select().count(), [g.on_hand for g in Goods.select().order_by(Goods.id)]
        scanner(app, "6999999999999")
        await wait_idle(pilot)
        banner = s.query_one("#recv-banner")
        assert app.bells == [1] and banner.has_class("-warn") and "6999999999999" in str(banner.render())
        assert s.outcomes == [None] and not s.session
        assert StockMovement.select().count() == moves
        assert [g.on_hand for g in Goods.select().order_by(Goods.id)] == hands


async def test_count_mode_records_the_difference(tmp_path):
    from dadan.tui.screens.receive import ReceiveScreen

    ctx = make_ctx(tmp_path, 60)
    skus = stock_catalogue()
    app = _goods_app(ctx, ReceiveScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        await pilot.press("f2")
        assert s.count_mode
        scanner(app, skus["low"].lower())  # a typed code, any case
        await wait_idle(pilot)
        assert s.counting is not None and s.counting.on_hand == 10_000
        assert s.query_one("#recv-input").placeholder.startswith("Type the pieces counted")  # not "Scan a barcode"
        await _type(pilot, "9988.5")  # a slip of the finger: no such count
        await pilot.press("enter")
        await wait_idle(pilot)
        assert goods(skus["low"]).on_hand == 10_000
        assert "Not a count: 9988.5" in str(s.query_one("#recv-banner").render())  # said so, not "UNKNOWN CODE"
        assert s.counting is not None  # still counting the same SKU
        await _type(pilot, "9988")
        await pilot.press("enter")
        await wait_idle(pilot)
        g = goods(skus["low"])
        last = StockMovement.select().where(StockMovement.goods == g.id).order_by(StockMovement.id.desc()).first()
        assert g.on_hand == 9_988 and (last.kind, last.qty) == ("count", -12)
        assert "-12" in str(s.query_one("#recv-banner").render()) and s.counting is None
        scanner(app, skus["plenty"])
        await wait_idle(pilot)
        scanner(app, BARCODE)  # another SKU's barcode, all digits: the next SKU to count, not a quantity
        await wait_idle(pilot)
        assert s.counting.code == skus["short"] and goods(skus["plenty"]).on_hand == 100_000
        scanner(app, f"3*{BARCODE}")  # counted at once: the short SKU holds 3
        await wait_idle(pilot)
        assert goods(skus["short"]).on_hand == 3
        # a count that finds the shelf empty makes its open orders short: said, with the alarm
        before = len(short_orders())
        scanner(app, f"0*{skus['plenty']}")
        await wait_idle(pilot)
        banner = s.query_one("#recv-banner")
        now_short = len(short_orders()) - before
        assert now_short > 0 and banner.has_class("-warn")
        assert f"{now_short} order(s) now SHORT" in str(banner.render())


async def test_detail_shows_a_short_orders_shortfalls(tmp_path):
    from dadan.core.goods.guard import shortfalls
    from dadan.tui.screens.detail import DetailScreen

    ctx = make_ctx(tmp_path, 200)
    skus = stock_catalogue()
    oid = short_orders()[-1]
    (code, n), = shortfalls(oid)
    assert code == skus["short"] and n > 0
    app = _goods_app(ctx, lambda: DetailScreen(oid))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_idle(pilot)
        assert f"Stock short: {code} ×{n}" in str(app.screen.query_one("#detail-main").content)



async def test_without_colour_an_unknown_code_and_the_views_still_stand_out(tmp_path, monkeypatch):
    """NO_COLOR: the alarm is crosses and reverse video; the active view is bracketed; no hue."""
    from dadan.tui.screens.goods import GoodsScreen

    monkeypatch.setenv("NO_COLOR", "1")
    ctx = make_ctx(tmp_path, 60)
    stock_catalogue()
    app = _goods_app(ctx, GoodsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await wait_idle(pilot)
        await pilot.press("2")
        await wait_idle(pilot)
        assert "[2 Low stock" in str(app.screen.query_one("#goods-tabs").render())
        await pilot.press("r")
        await wait_idle(pilot)
        scanner(app, "NOPE404")
        await wait_idle(pilot)
        banner = app.screen.query_one("#recv-banner")
        assert str(banner.render()).startswith("✖ ✖ ✖") and "UNKNOWN CODE NOPE404" in str(banner.render())
        assert "reverse" in str(banner.styles.text_style) and app.bells
        for strip in app.screen._compositor.render_strips():
            for seg in strip:
                for colour in (seg.style.color, seg.style.bgcolor) if seg.style else ():
                    if colour is not None:
                        r, g, b = colour.get_truecolor()
                        assert r == g == b, (seg.text, colour)


def test_listing_counts_agree_with_each_view_and_filters_literally(tmp_path, store):
    """One pass counts what each view lists; ``%`` and ``_`` in a filter are literal (on both
    backends: PostgreSQL sums no booleans)."""
    from dadan.core.goods import listing

    make_ctx(tmp_path, 60, url=store.url() if store.postgres else "")
    stock_catalogue(extra=40)
    catalogue.save([GoodsRecord(code="X%1", name="百分_号", bin="P_1")], actor="tester")
    for text in ("", "fill-0001", "z-0", BARCODE, "%", "_", "百分_", "nothing"):
        got = listing.counts(text)
        for view in listing.VIEWS:
            rows = listing.page(view, text, limit=1000)
            assert got[view] == listing.count(view, text) == len(rows), (view, text)
    assert [r.code for r in listing.page("all", "%")] == ["X%1"]
    assert [r.code for r in listing.page("all", "_")] == ["X%1"]
    assert [r.code for r in listing.browse("x%")] == ["X%1"]  # every match, no page size


def test_a_typed_quantity_needs_a_star():
    from dadan.core.goods.catalogue import parse_scan

    assert parse_scan("12*6901234567890") == (12, "6901234567890")
    assert parse_scan(" 3 × A12 ") == (3, "A12")
    assert parse_scan("3XL-RED") == (None, "3XL-RED")  # a code, not 3 of "L-RED"
    assert parse_scan("6901234567890") == (None, "6901234567890")
