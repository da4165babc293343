"""Scans of split parcels (拆单) at the desk, on the loopback platform (real HTTP), a real SQLite
file and the loopback TSPL printer, as tests/test_split.py sets them up.

Scan to ship: whichever parcel of a split order is scanned first ships the order (once, with
the first parcel's number); a further parcel scanned after it is recorded with the order, not
a red "already shipped" alarm. The true alarms stay: a parcel of another order already shipped,
a split order shipped elsewhere (another number), a recycled number.

Pack check: an item of the split order's other parcel names that parcel ("of the same order
(1/2)"), not some other order's parcel that happens to hold the SKU; an item held by several
other open parcels names none of them; held by exactly one, that one."""

from __future__ import annotations

from collections import Counter

import pytest

from dadan.core.goods import catalogue
from dadan.core.goods.catalogue import GoodsRecord, code_key
from dadan.core.models import AuditEvent, Order, OrderItem, Shipment, Waybill
from dadan.core.packing import pack_check
from dadan.core.printing import queue as printing
from dadan.core.shipping.outbox import process_outbox
from dadan.core.shipping.scan import ship_scan
from dadan.core.waybills import recycle, split
from tests.fakes import FakeTsplPrinter
from tests.pack_helpers import dump
from tests.test_split import TEMPLATE, run, senv, two_line_order  # noqa: F401  (senv: the fixture)
from tests.test_sync_support import sync


def printed_split(env, o: Order | None = None, *, before: tuple[int, ...] = ()) -> tuple[Order, Waybill, Waybill]:
    """``o`` (default: the first printable order with two lines) split into two parcels (its
    first line; the rest) and printed, after the orders ``before`` (a job of their own). Returns
    the order and its two parcels, numbered and printed."""
    o = o or two_line_order()
    with FakeTsplPrinter() as printer:
        if before:
            run(env, printer, printing.create_job(list(before), printer="lbl", template=TEMPLATE).id)
        first, second = split.split_order(o.id, split.parse_parcels(o, ["#1"]), actor="packer")
        run(env, printer, printing.create_job([o.id], printer="lbl", template=TEMPLATE).id)
    first, second = Waybill.get_by_id(first.id), Waybill.get_by_id(second.id)
    assert first.state == second.state == "printed" and first.code and second.code
    return Order.get_by_id(o.id), first, second


def printable() -> list[Order]:
    return list(Order.select().where((Order.order_status == 1) & (Order.exception_flags == 0)
                                     & (Order.print_count == 0)).order_by(Order.id))


def key_of(it: OrderItem) -> str:
    return code_key((it.outer_id or "").strip() or (it.sku_id or "").strip())


def send_outbox(env) -> None:
    with env.factory(env.shop) as client:
        process_outbox(lambda shop: client)


# ---------------------------------------------------------------------------------- scan to ship
def test_the_other_parcel_of_a_split_order_shipped_by_its_second_is_recorded_not_an_alarm(senv):
    o, first, second = printed_split(senv)
    out = ship_scan(second.code, actor="packer")  # the second parcel first: the order ships
    assert out.ok and out.kind == "shipped" and "parcel 2/2" in out.message and first.code in out.message
    out = ship_scan(first.code, actor="packer")  # then its first parcel: a good parcel of the same order
    assert out.ok and not out.warn and out.kind == "recorded", out.message
    assert out.message == f"parcel 1/2 of {o.order_sn} recorded ({first.code}), the order shipped with {first.code}"
    assert (out.order_sn, out.tracking_number) == (o.order_sn, first.code)
    # the order shipped once, with the first parcel's number; both parcels left
    assert [s.tracking_number for s in Shipment.select().where(Shipment.order == o.id)] == [first.code]
    assert Waybill.get_by_id(first.id).state == Waybill.get_by_id(second.id).state == "shipped"
    send_outbox(senv)
    assert [(s["order_sn"], s["tracking_number"]) for s in senv.platform.sends] == [(o.order_sn, first.code)]
    # confirmed on the platform: its parcels are still its own
    assert Order.get_by_id(o.id).state == "confirmed"
    for code, no in ((second.code, 2), (first.code, 1)):
        out = ship_scan(code, actor="packer")
        assert out.ok and out.kind == "recorded" and f"parcel {no}/2 of {o.order_sn}" in out.message, out.message
    assert Shipment.select().where(Shipment.order == o.id).count() == 1 and len(senv.platform.sends) == 1


def test_the_second_parcel_after_the_first_is_recorded_with_the_order(senv):
    o, first, second = printed_split(senv)
    out = ship_scan(first.code, actor="packer")
    assert out.ok and out.kind == "shipped" and Waybill.get_by_id(second.id).state == "printed"
    out = ship_scan(second.code, actor="packer")
    assert out.ok and out.kind == "recorded" and out.message == (
        f"parcel 2/2 of {o.order_sn} recorded ({second.code}), the order shipped with {first.code}")
    assert Waybill.get_by_id(second.id).state == "shipped"
    assert AuditEvent.select().where((AuditEvent.action == "waybill-ship")
                                     & (AuditEvent.target == f"waybill:{second.code}")).count() == 1
    assert Shipment.select().where(Shipment.order == o.id).count() == 1


def test_the_slip_of_a_split_order_shipped_by_one_parcel_expects_the_other(senv):
    o, first, second = printed_split(senv)
    assert ship_scan(second.code, actor="packer").kind == "shipped"
    slip = ship_scan(o.order_sn, actor="packer")  # the other parcel's packing slip: no alarm
    assert (slip.ok, slip.warn, slip.kind, slip.order_id) == (False, False, "slip", o.id), slip.message
    out = ship_scan(first.code, actor="packer", expect_order_id=o.id)
    assert out.ok and out.kind == "recorded" and "parcel 1/2" in out.message


def test_with_manual_confirmation_a_split_parcel_is_only_checked(senv):
    o, first, second = printed_split(senv)
    before = dump()
    out = ship_scan(second.code, actor="packer", confirm=False)
    assert out.ok and out.kind == "checked" and "parcel 2/2" in out.message
    assert dump() == before and Order.get_by_id(o.id).state == "printed"


def test_a_parcel_of_another_order_already_shipped_still_alarms(senv):
    o, first, second = printed_split(senv)
    other = next(x for x in printable() if x.id != o.id)
    with FakeTsplPrinter() as printer:
        run(senv, printer, printing.create_job([other.id], printer="lbl", template=TEMPLATE).id)
    code = Order.get_by_id(other.id).tracking_number
    assert ship_scan(second.code, actor="packer").ok and ship_scan(code, actor="packer").kind == "shipped"
    before = dump()
    out = ship_scan(code, actor="packer")  # a plain parcel scanned again: shipped before
    assert not out.ok and out.warn and out.kind == "already_shipped" and other.order_sn in out.message
    out = ship_scan(other.order_sn, actor="packer")  # and its packing slip
    assert not out.ok and out.warn and out.kind == "already_shipped"
    # the split order's parcel, expected the other order's slip: the wrong parcel
    out = ship_scan(first.code, actor="packer", expect_order_id=other.id)
    assert not out.ok and out.warn and out.kind == "mismatch"
    assert dump() == before


def test_a_parcel_of_a_split_order_shipped_elsewhere_still_alarms(senv):
    from dadan.core.orders.actions import release

    o, first, second = printed_split(senv)
    senv.platform.mutate(senv.mall, "shipped_elsewhere", o.order_sn)  # on the platform, another number
    senv.platform.advance(600)
    assert sync(senv).ok
    o = Order.get_by_id(o.id)
    assert o.order_status == 2 and o.tracking_number not in ("", first.code, second.code)
    before = dump()
    for code in (second.code, first.code):
        out = ship_scan(code, actor="packer")  # flagged by the sync: do not ship
        assert not out.ok and out.warn and out.kind == "blocked" and "shipped elsewhere" in out.message, out.message
    assert dump() == before
    # the flag released (seen), it is still an order shipped with another number: not its parcels'
    release([o.id], reason="seen", actor="boss")
    before = dump()
    for code in (second.code, first.code):
        out = ship_scan(code, actor="packer")
        assert not out.ok and out.warn and out.kind == "already_shipped", out.message
        assert o.order_sn in out.message and o.tracking_number in out.message
    assert dump() == before and Shipment.select().count() == 0
    assert Waybill.get_by_id(first.id).state == Waybill.get_by_id(second.id).state == "printed"


def test_a_recycled_parcel_of_a_split_order_still_alarms(senv):
    o, first, second = printed_split(senv)
    report = recycle.cancel([second.id], reason="packed in one box", actor="packer", factory=senv.factory)
    assert report.cancelled == [second.code]
    assert ship_scan(first.code, actor="packer").kind == "shipped"
    before = dump()
    out = ship_scan(second.code, actor="packer")  # its order shipped, but this number was recycled
    assert not out.ok and out.warn and out.kind == "recycled" and second.code in out.message
    assert dump() == before and Waybill.get_by_id(second.id).state == "cancelled"


# ------------------------------------------------------------------------------------ pack check
def pack_bench(env):
    """A split order: its first parcel holds its first line's SKU (``sku``), held by two or more
    other orders too; its second parcel a SKU no other printed order holds (``lone``). Printed
    before it (their parcels come first, as at the desk): every other printable order but those
    holding ``lone``. Every SKU is in the catalogue with a barcode. Returns (order, first,
    second, sku, lone, {code key: barcode}, the other printed orders)."""
    orders = printable()
    keys = {x.id: {key_of(it) for it in x.items} for x in orders}
    for o in orders:
        lines = list(o.items.order_by(OrderItem.position))
        if len(lines) < 2 or key_of(lines[0]) in {key_of(it) for it in lines[1:]}:
            continue
        sku, lone = key_of(lines[0]), key_of(lines[1])
        others = [x for x in orders if x.id != o.id and lone not in keys[x.id]]
        if sum(sku in keys[x.id] for x in others) >= 2:
            break
    else:
        raise AssertionError("no order fits the bench")
    codes: dict[str, str] = {}
    for it in OrderItem.select():
        codes.setdefault(key_of(it), (it.outer_id or it.sku_id).strip())
    barcodes = {k: f"69{n:011d}" for n, k in enumerate(sorted(codes), 1)}
    catalogue.save([GoodsRecord(code=codes[k], name=k, barcodes=[b], on_hand=100) for k, b in barcodes.items()],
                   actor="tester")
    o, first, second = printed_split(env, o, before=tuple(x.id for x in others))
    return o, first, second, sku, lone, barcodes, [Order.get_by_id(x.id) for x in others]


def pack_all(check: pack_check.PackCheck, barcodes: dict[str, str]) -> None:
    for ln in check.lines:
        out = pack_check.scan(check, f"{ln.missing}*{barcodes[ln.key]}", actor="packer")
        assert out.ok, out.message
    assert check.packed


def test_an_item_of_the_sibling_parcel_names_it_not_another_orders_parcel(senv):
    o, first, second, sku, lone, barcodes, others = pack_bench(senv)
    holders = [x for x in others if sku in {key_of(it) for it in x.items}]
    assert len(holders) >= 2  # the SKU is in other orders' open parcels too
    check, out = pack_check.start(second.code)
    assert out.ok and check.waybill_id == second.id and sku not in {ln.key for ln in check.lines}
    before, lines = dump(), [(ln.code, ln.scanned) for ln in check.lines]
    got = pack_check.scan(check, barcodes[sku], actor="packer")
    assert not got.ok and got.alarm and got.kind == "other_parcel"
    assert f"belongs to parcel {first.code} of the same order (1/2), not {second.code}" in got.message, got.message
    assert not any(x.order_sn in got.message or x.tracking_number in got.message for x in others)
    assert dump() == before and [(ln.code, ln.scanned) for ln in check.lines] == lines
    # its first parcel packed meanwhile: still where the item belongs
    first_check, _ = pack_check.start(first.code)
    pack_all(first_check, barcodes)
    got = pack_check.scan(check, barcodes[sku], actor="packer")
    assert got.kind == "other_parcel" and f"parcel {first.code} of the same order (1/2)" in got.message
    pack_all(check, barcodes)  # the right items still pack the parcel


def test_an_item_of_several_other_parcels_names_none_and_of_only_one_names_it(senv):
    o, first, second, sku, lone, barcodes, others = pack_bench(senv)
    check, out = pack_check.start(second.code)
    assert out.ok
    held = Counter(k for x in others for k in {key_of(it) for it in x.items})
    mine = {key_of(it) for it in o.items}
    several = next(k for k, n in held.items() if n >= 2 and k not in mine)
    before = dump()
    got = pack_check.scan(check, barcodes[several], actor="packer")
    assert not got.ok and got.alarm and got.kind == "other_parcel"
    assert f"is not in parcel {second.code}" in got.message, got.message
    assert not any(x.order_sn in got.message or x.tracking_number in got.message for x in others)
    assert first.code not in got.message and o.order_sn not in got.message
    # held by one open parcel only: that one is named
    single = next(k for k, n in held.items() if n == 1 and k not in mine)
    holder = next(x for x in others if single in {key_of(it) for it in x.items})
    got = pack_check.scan(check, barcodes[single], actor="packer")
    assert got.kind == "other_parcel" and (
        f"belongs to parcel {holder.tracking_number} (order {holder.order_sn})" in got.message), got.message
    assert dump() == before
    # another order's parcel: the split order's second-parcel SKU is in that parcel only (not in
    # its first, though the order holds it)
    target = next(x for x in others if lone not in {key_of(it) for it in x.items})
    other_check, out = pack_check.start(target.tracking_number)
    assert out.ok
    got = pack_check.scan(other_check, barcodes[lone], actor="packer")
    assert got.kind == "other_parcel" and (
        f"belongs to parcel {second.code} (order {o.order_sn})" in got.message), got.message
    # packed, the second parcel is no longer open: nothing names it
    pack_all(check, barcodes)
    got = pack_check.scan(other_check, barcodes[lone], actor="packer")
    assert got.kind == "wrong" and second.code not in got.message, got.message


def _pack_and_ship(code: str, barcodes: dict[str, str]) -> pack_check.PackOutcome:
    check, out = pack_check.start(code)
    assert out.ok, out.message
    for ln in check.lines:
        out = pack_check.scan(check, f"{ln.missing}*{barcodes[ln.key]}", actor="packer", on_packed="ship")
        assert out.ok, out.message
    assert check.packed
    return out


@pytest.mark.parametrize("second_first", [True, False])
def test_packing_and_shipping_a_split_orders_parcels_in_either_order(senv, second_first):
    """``on_packed = "ship"``: the first parcel packed ships the order (with the first parcel's
    number); the other is still checked at the bench (it was refused, "shipped already", once
    the order had shipped) and, packed, is recorded as leaving with its order (it was left
    printed)."""
    o, first, second, _sku, _lone, barcodes, _others = pack_bench(senv)
    one, other = (second, first) if second_first else (first, second)
    out = _pack_and_ship(one.code, barcodes)
    assert out.shipped == 1
    assert Order.get_by_id(o.id).state == "shipped" and Order.get_by_id(o.id).tracking_number == first.code
    out = _pack_and_ship(other.code, barcodes)  # not "NOT PACKABLE: ... shipped already"
    assert out.shipped == 0
    assert {Waybill.get_by_id(w.id).state for w in (first, second)} == {"shipped"}
    assert Shipment.select().where(Shipment.order == o.id).count() == 1
