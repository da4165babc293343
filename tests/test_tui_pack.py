"""The pack check screen (F8) on a real SQLite file, at scanner speed: a burst of the waybill and
5 item barcodes packs the parcel exactly once; a wrong item, an extra item and an item of
another parcel in a burst alarm (bell, red reversed banner with crosses) and change nothing;
a blocked order is refused at the first scan; the supervisor's override asks the reason; the
alarm stands out without colour; F8 opens the screen from the app."""

from __future__ import annotations

import pytest

from dadan.core.db import write
from dadan.core.models import AuditEvent, Order
from dadan.core.orders.rules import Flag
from dadan.core.packing.models import PackRecord
from tests.desk_helpers import anyio_backend, harness, make_ctx, wait_idle  # noqa: F401
from tests.pack_helpers import BARCODES, bench, dump
from tests.test_tui_goods import scanner

pytestmark = pytest.mark.anyio
FIVE = (("A12", 3), ("B07", 2))


def _pack_app(ctx):
    from dadan.tui.screens.pack import PackScreen

    app = harness(ctx, PackScreen)
    app.bells = []
    app.bell = lambda: app.bells.append(1)
    return app


async def drained(pilot) -> None:
    s = pilot.app.screen
    await wait_idle(pilot)
    while s.scans.busy:
        await pilot.pause(0.05)
    await wait_idle(pilot)


def banner(app) -> str:
    return str(app.screen.query_one("#pack-banner").render())


async def test_a_burst_of_the_waybill_and_5_items_packs_exactly_once(tmp_path):
    ctx = make_ctx(tmp_path, 0)
    pb = bench(a_lines=FIVE)
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        for code in (pb["w1"].code, *[BARCODES["A12"]] * 3, BARCODES["B07"], "b07"):  # all at once
            scanner(app, code)
        await drained(pilot)
        assert [o.kind for o in s.outcomes] == ["started", "counted", "counted", "counted", "counted", "packed"]
        rec = PackRecord.get()
        assert PackRecord.select().count() == 1 and (rec.waybill_id, rec.actor) == (pb["w1"].id, "tester")
        assert "PACKED" in banner(app) and s.query_one("#pack-banner").has_class("-ok") and not app.bells
        assert "Packed: 5 item(s)" in str(s.query_one("#pack-missing").render()) and s.check is None
        scanner(app, pb["w1"].code)  # the same parcel again
        await drained(pilot)
        assert s.outcomes[-1].kind == "already_packed" and app.bells == [1] and PackRecord.select().count() == 1
        assert "ALREADY PACKED" in banner(app)


async def test_a_wrong_extra_or_other_parcels_item_in_a_burst_alarms_and_changes_nothing(tmp_path):
    ctx = make_ctx(tmp_path, 0)
    pb = bench(a_lines=FIVE)
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        before = dump()
        burst = (pb["w1"].code, BARCODES["A12"], BARCODES["Z9"], BARCODES["C3"], f"2*{BARCODES['A12']}",
                 BARCODES["A12"], BARCODES["B07"], pb["w2"].code)
        for code in burst:
            scanner(app, code)
        await drained(pilot)
        assert [o.kind for o in s.outcomes] == ["started", "counted", "wrong", "other_parcel", "counted", "extra",
                                                 "counted", "other_parcel"]
        assert len(app.bells) == 4 and dump() == before  # nothing written: the parcel is not complete
        assert [(ln.code, ln.scanned) for ln in s.check.lines] == [("A12", 3), ("B07", 1)]
        b = s.query_one("#pack-banner")
        assert b.has_class("-warn") and "✖ ✖ ✖" in str(b.render()) and "ANOTHER PARCEL" in str(b.render())
        assert "Missing 1 of 5: B07 ×1" in str(s.query_one("#pack-missing").render())
        scanner(app, BARCODES["B07"])
        await drained(pilot)
        assert s.outcomes[-1].kind == "packed" and PackRecord.select().count() == 1


async def test_a_blocked_order_is_refused_at_the_first_scan(tmp_path):
    ctx = make_ctx(tmp_path, 0)
    pb = bench()
    with write():
        Order.update(exception_flags=int(Flag.REFUND)).where(Order.id == pb["a"].id).execute()
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        before = dump()
        scanner(app, pb["w1"].code)
        scanner(app, BARCODES["A12"])
        await drained(pilot)
        assert [o.kind for o in app.screen.outcomes] == ["blocked", "unknown"] and len(app.bells) == 2
        assert dump() == before and app.screen.check is None


async def test_the_override_asks_a_reason_and_is_audited_and_esc_abandons(tmp_path):
    ctx = make_ctx(tmp_path, 0)
    pb = bench()
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        scanner(app, pb["w1"].code)
        scanner(app, f"2*{BARCODES['A12']}")
        await drained(pilot)
        await pilot.press("f2")  # one line missing: asks the reason at once
        await wait_idle(pilot)
        await pilot.press(*"no label", "enter")
        await drained(pilot)
        assert s.outcomes[-1].kind == "packed"
        ev = AuditEvent.get(AuditEvent.action == "pack_override")
        assert (ev.reason, ev.actor) == ("no label", "tester") and "B07" in PackRecord.get().overrides
        scanner(app, pb["w2"].code)
        await drained(pilot)
        assert s.check is not None and s.check.waybill_code == pb["w2"].code
        await pilot.press("escape")  # abandons the parcel, nothing recorded
        await wait_idle(pilot)
        assert s.check is None and "abandoned" in banner(app) and PackRecord.select().count() == 1
        assert app.screen is s


async def test_without_colour_the_alarm_is_crosses_and_reverse_video(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    ctx = make_ctx(tmp_path, 0)
    pb = bench()
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await wait_idle(pilot)
        scanner(app, pb["w1"].code)
        scanner(app, BARCODES["Z9"])
        await drained(pilot)
        b = app.screen.query_one("#pack-banner")
        assert str(b.render()).startswith("✖ ✖ ✖") and "WRONG ITEM" in str(b.render())
        assert "reverse" in str(b.styles.text_style) and app.bells
        for strip in app.screen._compositor.render_strips():
            for seg in strip:
                for colour in (seg.style.color, seg.style.bgcolor) if seg.style else ():
                    if colour is not None:
                        r, g, bb = colour.get_truecolor()
                        assert r == g == bb, (seg.text, colour)


async def test_f8_opens_the_pack_check_from_the_app_in_chinese(tmp_path):
    from dadan.tui.app import DadanApp
    from dadan.tui.screens.pack import PackScreen
    from tests.desk_helpers import NOW

    ctx = make_ctx(tmp_path, 0, lang="zh")
    pb = bench()
    app = DadanApp(ctx, now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        await pilot.press("f8")
        await wait_idle(pilot)
        assert isinstance(app.screen, PackScreen)
        for code in (pb["w1"].code, f"2*{BARCODES['A12']}", BARCODES["B07"]):
            scanner(app, code)
        await drained(pilot)
        assert "已验货" in banner(app) and PackRecord.select().count() == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_codes_and_counts_are_whole_at_80x24(tmp_path, lang):
    from tests.test_tui_80x24 import has_token, screen_lines

    ctx = make_ctx(tmp_path, 0, lang=lang)
    long_code = "SKU-0001-XL-BLACK-2026"  # no barcode: its merchant code is typed
    pb = bench(a_lines=((long_code, 1200), ("B07", 2)))
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        for code in (pb["w1"].code, f"1199*{long_code.lower()}", BARCODES["Z9"]):
            scanner(app, code)
        await drained(pilot)
        await pilot.pause(0.2)
        await wait_idle(pilot)
        text = "\n".join(screen_lines(app))
        for token in (pb["w1"].code, "261120-A", long_code, "1,199/1,200", "0/2", "✗ 1", "✗ 2", "6900000000999",
                      "1,202"):
            assert has_token(text, token), (token, text)


async def test_a_merged_parcels_order_numbers_are_shown_whole_at_80x24(tmp_path):
    """Three orders in one parcel (合单), full-length order numbers: the parcel line wraps, and
    every number is whole (it was cut with an ellipsis after the first)."""
    from dadan.core.orders.upsert import upsert_orders
    from tests.pack_helpers import printed_parcel, rec, zto_number

    ctx = make_ctx(tmp_path, 0)
    bench()
    sns = [f"261204-24223401872386{i}" for i in range(3)]
    shop_id = Order.get(Order.order_sn == "261120-A").shop_id
    upsert_orders(shop_id, [rec(sn, [("A12", 1)]) for sn in sns], source="api")
    w = printed_parcel([Order.get(Order.order_sn == sn).id for sn in sns], zto_number(9))
    from dadan.core.i18n import set_language

    for lang in ("en", "zh"):
        set_language(lang)
        app = _pack_app(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_idle(pilot)
            scanner(app, w.code)
            await drained(pilot)
            assert app.screen.outcomes[-1].kind == "started"
            from tests.test_tui_80x24 import screen_lines

            shown_text = " ".join(screen_lines(app))
            assert all(sn in shown_text for sn in sns) and ("订单" in shown_text) == (lang == "zh"), shown_text
    set_language("en")
