"""Split parcels (拆单) end to end on the loopback platform (real HTTP), a real SQLite file and
the loopback TSPL printer: one order in two parcels takes two numbers and prints two labels,
each listing its part; the shipment is confirmed once, with the first parcel's number; the
second is recorded with it."""

from __future__ import annotations

import pytest

from dadan.core.config import SenderSettings, Settings
from dadan.core.db import close_database
from dadan.core.errors import DadanError
from dadan.core.models import AuditEvent, Order, OrderItem, PrintItem, Shipment, Waybill
from dadan.core.printing import queue as printing
from dadan.core.printing.plan import plan_print
from dadan.core.printing.worker import PrintWorker
from dadan.core.shipping.outbox import process_outbox
from dadan.core.shipping.scan import ship_scan
from dadan.core.waybills import split
from dadan.core.waybills.shipping import ship_printed
from dadan.printers.profile import PrinterProfile
from tests.fakes import FakeTsplPrinter
from tests.test_sync_support import make_waybill_env

TEMPLATE = "waybill_100x150"
SETTINGS = Settings(sender=SenderSettings(name="仓库", phone="13800000000"))


@pytest.fixture
def senv(tmp_path):
    e = make_waybill_env(tmp_path, orders=60, quantity=500, seed=5)
    yield e
    e.server.stop()
    close_database()


def two_line_order() -> Order:
    """A printable order with two or more lines (or a line of several pieces)."""
    for o in Order.select().where((Order.order_status == 1) & (Order.exception_flags == 0) & (Order.print_count == 0)
                                  ).order_by(Order.id):
        items = list(o.items)
        if len(items) >= 2:
            return o
    raise AssertionError("no order with two lines")


def run(env, printer, job_id: int, settings: Settings = SETTINGS) -> None:
    prof = PrinterProfile(name="lbl", driver="tspl", uri=printer.uri, width_mm=100, height_mm=150)
    PrintWorker(prof, settings=settings, client_factory=env.factory).run_pending(job_id)


def test_one_order_in_two_parcels_two_numbers_two_labels_shipment_confirmed_once(senv):
    o = two_line_order()
    lines = list(o.items.order_by(OrderItem.position))
    code = lines[0].outer_id or lines[0].sku_id
    parcels = split.parse_parcels(o, [f"{code}*{lines[0].goods_count}"])
    assert parcels == [{lines[0].id: lines[0].goods_count}, {it.id: it.goods_count for it in lines[1:]}]
    first, second = split.split_order(o.id, parcels, actor="packer")
    plan = plan_print([o.id], waybill=True)
    assert plan.to_take == 2 and len(plan.ready) == 1 and plan.labels == 2
    with FakeTsplPrinter() as printer:
        job = printing.create_job([o.id], printer="lbl", template=TEMPLATE, actor="packer")
        assert job.total == 2
        assert [it.waybill_id for it in PrintItem.select().where(PrintItem.job == job.id).order_by(PrintItem.seq)] == [
            first.id, second.id]
        run(senv, printer, job.id)
        assert len(printer.labels) == 2
    first, second = Waybill.get_by_id(first.id), Waybill.get_by_id(second.id)
    assert first.state == second.state == "printed" and first.code and second.code and first.code != second.code
    assert printer.barcodes == [[first.code], [second.code]]
    o = Order.get_by_id(o.id)
    assert o.tracking_number == first.code and o.print_count == 1 and o.state == "printed"
    # the platform took each number for this order, each parcel with its own items
    state = senv.platform.waybill_state(senv.mall)
    assert state[first.code]["orders"] == state[second.code]["orders"] == [o.order_sn]
    assert state[first.code]["package_id"] != state[second.code]["package_id"]
    # each label lists its own part of the order
    assert any(f"{o.order_sn} 1/2" in t for t in printer.texts[0])
    assert any(f"{o.order_sn} 2/2" in t for t in printer.texts[1])
    # one-key ship: the order is confirmed once, with the first parcel's number; the second follows it
    report = ship_printed([o.id], actor="packer")
    assert sorted(report.shipped) == sorted([(o.order_sn, first.code), (o.order_sn, second.code)])
    with senv.factory(senv.shop) as client:
        process_outbox(lambda shop: client)
    assert [(s["order_sn"], s["tracking_number"]) for s in senv.platform.sends] == [(o.order_sn, first.code)]
    assert [s.tracking_number for s in Shipment.select().where(Shipment.order == o.id)] == [first.code]
    assert Waybill.get_by_id(first.id).state == Waybill.get_by_id(second.id).state == "shipped"
    assert AuditEvent.select().where(AuditEvent.action == "split").count() == 1


def test_scanning_either_parcel_ships_the_order_with_the_first_number(senv):
    o = two_line_order()
    first, second = split.split_order(o.id, split.parse_parcels(o, ["#1"]), actor="packer")
    with FakeTsplPrinter() as printer:
        run(senv, printer, printing.create_job([o.id], printer="lbl", template=TEMPLATE).id)
    first, second = Waybill.get_by_id(first.id), Waybill.get_by_id(second.id)
    out = ship_scan(second.code, actor="packer")  # the second parcel first
    assert out.ok and "2/2" in out.message and first.code in out.message
    assert Order.get_by_id(o.id).tracking_number == first.code and Order.get_by_id(o.id).state == "shipped"
    out = ship_scan(first.code, actor="packer")  # the other parcel of the same order: recorded, no alarm
    assert out.ok and out.kind == "recorded"
    assert Shipment.select().count() == 1 and Shipment.get().tracking_number == first.code
    assert Waybill.get_by_id(second.id).state == "shipped"


def test_a_reprint_of_a_split_order_prints_every_parcel_with_its_number(senv):
    o = two_line_order()
    split.split_order(o.id, split.parse_parcels(o, ["#1"]), actor="packer")
    with FakeTsplPrinter() as printer:
        run(senv, printer, printing.create_job([o.id], printer="lbl", template=TEMPLATE).id)
        again = printing.create_reprint_job([o.id], reason="jam", printer="lbl", template=TEMPLATE)
        run(senv, printer, again.id)
        assert printer.barcodes[2:] == printer.barcodes[:2] and len(printer.labels) == 4
    assert Order.get_by_id(o.id).print_count == 2


def test_split_refusals_and_undo(senv):
    o = two_line_order()
    lines = list(o.items.order_by(OrderItem.position))
    with pytest.raises(DadanError, match="at least two parcels"):
        split.split_order(o.id, [{it.id: it.goods_count for it in lines}], actor="t")
    with pytest.raises(DadanError, match="exactly one parcel"):
        split.split_order(o.id, [{lines[0].id: lines[0].goods_count}, {lines[0].id: 1}], actor="t")
    with pytest.raises(DadanError, match="has no item"):
        split.parse_parcels(o, ["NO-SUCH-CODE"])
    with pytest.raises(DadanError, match="left to put"):
        split.parse_parcels(o, [f"#1*{lines[0].goods_count + 1}"])
    made = split.split_order(o.id, split.parse_parcels(o, ["#1"]), actor="t")
    assert len(made) == 2
    assert split.unsplit(o.id, actor="t") == 2
    assert split.split_parcels([o.id]) == {}
    plan = plan_print([o.id], waybill=True)
    assert plan.to_take == 1
    # once numbers are taken the split stays until they are recycled
    split.split_order(o.id, split.parse_parcels(o, ["#1"]), actor="t")
    with FakeTsplPrinter() as printer:
        run(senv, printer, printing.create_job([o.id], printer="lbl", template=TEMPLATE).id)
    with pytest.raises(DadanError, match="cannot be split"):
        split.split_order(o.id, split.parse_parcels(o, ["#1"]), actor="t")
    with pytest.raises(DadanError, match="have numbers"):
        split.unsplit(o.id, actor="t")


def test_dadan_split_from_the_command_line(senv, tmp_path):
    from tests.test_waybills_cli import dadan

    o = two_line_order()
    code = o.items.order_by(OrderItem.position)[0].outer_id
    close_database()  # the command is another process
    rc, out, err = dadan(tmp_path, "split", o.order_sn, "--parcel", f"{code.lower()}")
    assert rc == 0 and "2 parcels" in out and "pending" in out, err
    rc, out, err = dadan(tmp_path, "split", o.order_sn, "--parcel", "#9")
    assert rc != 0 and "has no line #9" in err and len(err.strip().splitlines()) == 1
    rc, out, err = dadan(tmp_path, "split", o.order_sn, "--undo")
    assert rc == 0 and "split undone (2 parcels closed)" in out
    rc, out, err = dadan(tmp_path, "split", o.order_sn)
    assert rc == 0 and "is not split" in out


def test_the_pack_check_of_a_split_parcel_expects_only_its_part(senv):
    from dadan.core.packing import pack_check

    o = two_line_order()
    lines = list(o.items.order_by(OrderItem.position))
    first, second = split.split_order(o.id, split.parse_parcels(o, ["#1"]), actor="packer")
    with FakeTsplPrinter() as printer:
        run(senv, printer, printing.create_job([o.id], printer="lbl", template=TEMPLATE).id)
    second = Waybill.get_by_id(second.id)
    check, out = pack_check.start(second.code)
    assert out.ok and check.expected == sum(it.goods_count for it in lines[1:])
    own = (lines[0].outer_id or lines[0].sku_id)
    if all((it.outer_id or it.sku_id) != own for it in lines[1:]):  # the first parcel's item is not in this one
        got = pack_check.scan(check, own, actor="packer")
        assert not got.ok and got.alarm and check.scanned == 0
    # the slip (order number) names the first parcel not packed yet
    check1, out1 = pack_check.start(o.order_sn)
    assert out1.ok and check1.waybill_id == first.id and check1.expected == lines[0].goods_count


def test_a_line_is_named_by_its_whole_code_any_case_or_by_the_goods_part_when_one_line_has_it(senv):
    """``A12*1`` names the line ``A12-黑色-XL`` when no other line's code starts with ``A12-``
    (the example the split dialog and the README give); a whole code in any case, with an ``x``
    in it (``-xl``), is read as a code, and ``x2`` at the end as a quantity; a goods part two
    lines share is refused, naming both."""
    from dadan.core.db import write

    o = two_line_order()
    lines = list(o.items.order_by(OrderItem.position))
    with write():
        OrderItem.update(outer_id="A12-黑色-XL", goods_count=3).where(OrderItem.id == lines[0].id).execute()
        OrderItem.update(outer_id="B07-白色-M").where(OrderItem.id == lines[1].id).execute()
    rest = {it.id: it.goods_count for it in lines[1:]}
    assert split.parse_parcels(o, ["A12*1"]) == [{lines[0].id: 1}, {lines[0].id: 2, **rest}]
    assert split.parse_parcels(o, ["a12-黑色-xl"]) == [{lines[0].id: 3}, rest]
    assert split.parse_parcels(o, ["a12-黑色-xl x2"]) == [{lines[0].id: 2}, {lines[0].id: 1, **rest}]
    assert split.parse_text(o, "a12 ×1; b07") == [{lines[0].id: 1}, {lines[1].id: lines[1].goods_count},
                                                  {lines[0].id: 2, **{i: q for i, q in rest.items() if i != lines[1].id}}]
    with write():
        OrderItem.update(outer_id="A12-白色-L").where(OrderItem.id == lines[1].id).execute()
    with pytest.raises(DadanError, match="A12-黑色-XL, A12-白色-L"):
        split.parse_parcels(o, ["A12*1"])
