"""Tracking numbers (issue #14, item 7): a number already on another order is refused, and each
courier's number shape is checked (from the one courier catalogue), on every path: assigning,
the tracking screen, scan-to-ship, the tracking-number import (rows rejected while planning,
the database unchanged) and the CLI. The demo and the loopback platform pass their own checks."""

from __future__ import annotations

import pytest

from dadan.core.db import write
from dadan.core.demo import demo_records
from dadan.core.errors import TrackingRefused
from dadan.core.i18n import set_language
from dadan.core.models import Courier, Order, Shipment
from dadan.core.orders import couriers as C
from dadan.core.platform.loopback.platform import MockPlatform
from dadan.core.shipping.outbox import assign_tracking
from dadan.core.shipping.scan import ship_scan
from dadan.tui.screens.tracking import TrackingScreen
from tests.desk_helpers import NOW, anyio_backend, give_tracking, harness, make_ctx, wait_idle  # noqa: F401
from tests.test_import_core import (  # noqa: F401  (db, shop: fixtures)
    SAMPLE,
    SN1,
    SN2,
    SN3,
    commit_import,
    db,
    dump,
    line,
    plan_for,
    plan_import,
    prepare,
    shop,
    write_xlsx,
)

ZTO, YTO = 115, 85


def _two_ready_orders() -> tuple[Order, Order]:
    a, b = Order.select().where(Order.state == "printed", Order.exception_flags == 0,
                                Order.order_status == 1).order_by(Order.id).limit(2)
    with write():
        Order.update(tracking_number="").where(Order.id.in_([a.id, b.id])).execute()
    return Order.get_by_id(a.id), Order.get_by_id(b.id)


def _snapshot(order_id: int) -> tuple:
    o = Order.get_by_id(order_id)
    return (o.tracking_number, o.logistics_id, o.state, Shipment.select().where(Shipment.order == order_id).count())


def test_a_number_on_another_order_is_refused_naming_it(tmp_path):
    make_ctx(tmp_path, 60)
    a, b = _two_ready_orders()
    assign_tracking(a.id, "75312345678901", ZTO, actor="t")
    before = _snapshot(b.id)
    with pytest.raises(TrackingRefused) as ei:
        assign_tracking(b.id, " 7531 2345 678901 ", ZTO, actor="t")  # spaces do not make it another number
    assert ei.value.field == "tracking_number"
    assert "75312345678901" in ei.value.message and a.order_sn in ei.value.message
    assert "already used for order" in ei.value.message
    assert _snapshot(b.id) == before
    with pytest.raises(TrackingRefused):  # under another courier it is still the same waybill
        assign_tracking(b.id, "75312345678901", 1, actor="t")
    set_language("zh")
    with pytest.raises(TrackingRefused) as ei:
        assign_tracking(b.id, "75312345678901", ZTO, actor="t")
    assert f"运单号 75312345678901 已用于订单 {a.order_sn}" in ei.value.message
    # the same number again on the same order is still the harmless repeat it was
    assert assign_tracking(a.id, "75312345678901", ZTO, actor="t").state == "pending"


def test_a_number_of_the_wrong_shape_for_the_courier_is_refused(tmp_path):
    make_ctx(tmp_path, 60)
    a, _b = _two_ready_orders()
    before = _snapshot(a.id)
    with pytest.raises(TrackingRefused) as ei:
        assign_tracking(a.id, "SF1234567890123", YTO, actor="t")  # an SF number under 圆通
    assert "YT + 13 digits" in ei.value.message and "YTO Express" in ei.value.message
    with pytest.raises(TrackingRefused):
        assign_tracking(a.id, "YT1234567890123", ZTO, actor="t")
    set_language("zh")
    with pytest.raises(TrackingRefused) as ei:
        assign_tracking(a.id, "SF1234567890123", YTO, actor="t")
    assert "YT + 13 位数字" in ei.value.message and "圆通" in ei.value.message
    assert _snapshot(a.id) == before
    assert assign_tracking(a.id, "yt1234567890123", YTO, actor="t").tracking_number == "YT1234567890123"


def test_a_courier_only_the_platform_lists_takes_any_plausible_number(tmp_path):
    make_ctx(tmp_path, 60)
    a, b = _two_ready_orders()
    with write():
        Courier.create(id=777, name="火星快递", code="HXKD")
        Courier.create(id=778, name="极兔速递", code="JTSD")  # in the catalogue without an id: its shape holds
    with pytest.raises(TrackingRefused):
        assign_tracking(a.id, "HX!", 777, actor="t")
    with pytest.raises(TrackingRefused):
        assign_tracking(a.id, "HX1", 777, actor="t")  # 3 characters: not a tracking number
    assert assign_tracking(a.id, "hx-0001", 777, actor="t").tracking_number == "HX-0001"
    with pytest.raises(TrackingRefused) as ei:
        assign_tracking(b.id, "75312345678901", 778, actor="t")
    assert "JT + 13 digits" in ei.value.message
    assert assign_tracking(b.id, "JT2099306666983", 778, actor="t").state == "pending"


def test_scan_to_ship_refuses_a_waybill_already_on_another_order(tmp_path):
    make_ctx(tmp_path, 60)
    a, b = _two_ready_orders()
    assign_tracking(a.id, "75312345678901", ZTO, actor="t")
    give_tracking(b, "75312345678901")  # the same waybill stuck on a second order's record
    before = _snapshot(b.id)
    out = ship_scan("75312345678901", actor="t", now=NOW)
    assert out.order_id == b.id and not out.ok and out.kind == "refused" and out.warn
    assert a.order_sn in out.message
    assert _snapshot(b.id) == before


def test_scan_to_ship_refuses_a_waybill_of_the_wrong_shape(tmp_path):
    make_ctx(tmp_path, 60)
    a, _b = _two_ready_orders()
    give_tracking(a, "SF1234567890123", YTO)
    out = ship_scan("SF1234567890123", actor="t", now=NOW)
    assert not out.ok and out.kind == "refused" and "YT + 13 digits" in out.message
    assert _snapshot(a.id)[2:] == ("printed", 0)


@pytest.mark.anyio
async def test_tracking_screen_refuses_the_same_number_for_the_next_order(tmp_path):
    ctx = make_ctx(tmp_path, 60)
    a, b = _two_ready_orders()
    app = harness(ctx, lambda: TrackingScreen([a.id, b.id], logistics_id=ZTO))
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        await pilot.press(*"75312345678901", "enter")
        await wait_idle(pilot)
        assert scr.assigned == 1
        await pilot.press(*"75312345678901", "enter")  # the cursor moved on to b
        await wait_idle(pilot)
        status = scr.query_one("#trk-status")
        assert scr.assigned == 1 and status.has_class("-warn")
        assert "already used for order" in str(status.content) and a.order_sn in str(status.content)
        await pilot.press(*"SF1234567890123", "enter")
        await wait_idle(pilot)
        assert scr.assigned == 1 and "12-15 digits starting with 7" in str(status.content)
    assert _snapshot(b.id) == ("", b.logistics_id, "printed", 0)
    assert Order.get_by_id(a.id).tracking_number == "75312345678901"


def test_import_rejects_rows_with_a_taken_number_or_a_wrong_shape_while_planning(tmp_path, db, shop):
    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", SAMPLE + [line(SN3)]), shop), actor="t")
    sn4 = "231115-000000000000008"
    commit_import(plan_for(write_xlsx(tmp_path / "b.xlsx", [line(sn4)]), shop), actor="t")
    a = Order.get(Order.order_sn == SN1)
    assign_tracking(a.id, "75312345678901", ZTO, actor="t")
    headers = ["订单号", "快递公司", "快递单号"]
    rows = [[SN2, "中通", "75312345678901"],  # already on SN1
            [SN3, "圆通", "SF1234567890123"],  # an SF number under 圆通
            [sn4, "中通", "75399999999999"]]  # fine
    before = dump(db)
    plan = plan_import(prepare(write_xlsx(tmp_path / "t.xlsx", rows, headers=headers)), shop_id=shop.id)
    assert dump(db) == before
    got = {r.row: (r.column, r.message) for r in plan.rejects}
    assert set(got) == {2, 3}
    assert got[2][0] == "快递单号" and SN1 in got[2][1] and "already used for order" in got[2][1]
    assert got[3][0] == "快递单号" and "YT + 13 digits" in got[3][1]
    assert "row 2, column 快递单号" in plan.rejects[0].text()
    assert plan.counts.updated == 1
    out = commit_import(plan, actor="t")
    assert not out.committed and dump(db) == before
    assert commit_import(plan, actor="t", allow_partial=True).committed
    assert [Order.get(Order.order_sn == sn).tracking_number for sn in (SN2, SN3, sn4)] == ["", "", "75399999999999"]


def test_import_file_giving_one_number_to_two_orders_rejects_the_second(tmp_path, db, shop):
    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", SAMPLE), shop), actor="t")
    headers = ["订单号", "快递公司", "快递单号"]
    rows = [[SN1, "中通", "75312345678901"], [SN2, "中通", "75312345678901"]]
    before = dump(db)
    plan = plan_import(prepare(write_xlsx(tmp_path / "t.xlsx", rows, headers=headers)), shop_id=shop.id)
    assert [(r.row, r.column) for r in plan.rejects] == [(3, "快递单号")] and SN1 in plan.rejects[0].message
    assert not commit_import(plan, actor="t").committed and dump(db) == before


def test_cli_import_refuses_a_taken_number(tmp_path, monkeypatch, capsys):
    from tests.test_export import _cli

    p = write_xlsx(tmp_path / "a.xlsx", SAMPLE)
    assert _cli(["import", str(p), "--shop", "主店", "--create-shop"], tmp_path, monkeypatch, capsys)[0] == 0
    t = write_xlsx(tmp_path / "t.xlsx", [[SN1, "中通", "75312345678901"], [SN2, "中通", "75312345678901"]],
                   headers=["订单号", "快递公司", "快递单号"])
    rc, out, err = _cli(["import", str(t), "--shop", "主店"], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "Traceback" not in err
    assert f"row 3, column 快递单号: tracking number 75312345678901 is already used for order {SN1}" in out
    assert "nothing was written" in out
    rc, out, err = _cli(["import", str(t), "--shop", "主店", "--partial"], tmp_path, monkeypatch, capsys)
    assert rc == 0 and "1 tracking numbers assigned" in out, out + err


@pytest.mark.parametrize("courier", C.COURIERS, ids=lambda c: c.code)
def test_every_catalogue_example_has_its_couriers_shape(courier):
    for serial in (0, 7, 123456789012, 9999999999999):
        assert C.matches_tracking(courier, C.example_tracking(courier, serial))


def test_demo_waybills_match_their_courier():
    recs = [r for r in demo_records(2000, seed=1, now=NOW, numbers=True) if r["tracking_number"]]
    assert len(recs) > 500
    bad = [(r["logistics_id"], r["tracking_number"]) for r in recs
           if not C.matches_tracking(C.by_id(r["logistics_id"]), r["tracking_number"])]
    assert not bad, bad[:5]
    numbers = [r["tracking_number"] for r in recs]
    assert len(set(numbers)) == len(numbers)  # no waybill on two demo orders


def test_loopback_waybills_match_their_courier():
    platform = MockPlatform(seed=5)
    mall = platform.add_mall("m")
    platform.generate_orders(mall, 600, spread_hours=48)
    for _ in range(60):
        platform.mutate(mall, "shipped_elsewhere")
    shipped = [o for o in platform.truth(mall).values() if o["tracking_number"]]
    assert len(shipped) > 60
    assert {o["logistics_id"] for o in shipped} > {ZTO}  # several couriers, each with its own shape
    bad = [(o["logistics_id"], o["tracking_number"]) for o in shipped
           if not C.matches_tracking(C.by_id(o["logistics_id"]), o["tracking_number"])]
    assert not bad, bad[:5]


def test_demo_orders_awaiting_shipment_carry_no_number_as_the_platforms_do():
    recs = list(demo_records(500, seed=1, now=NOW))
    awaiting = [r for r in recs if r["order_status"] == 1]
    assert awaiting and not any(r["tracking_number"] or r["logistics_id"] for r in awaiting)
    shipped = [r for r in recs if r["order_status"] in (2, 3)]
    assert shipped and all(r["tracking_number"] for r in shipped)
    # the same seed gives the same orders with or without entered numbers
    with_numbers = list(demo_records(500, seed=1, now=NOW, numbers=True))
    assert [r["order_sn"] for r in with_numbers] == [r["order_sn"] for r in recs]
    entered = [r for r in with_numbers if r["order_status"] == 1 and r["tracking_number"]]
    assert len(awaiting) * 0.5 < len(entered) < len(awaiting)
