"""Pack check (验货) on a real SQLite file: the right items pack the parcel once (a record, and
with ``on_packed = "ship"`` its shipment queued with the waybill's number); a wrong item, an
extra item and an item of another open parcel alarm and change nothing (every table the same
before and after); a blocked order is refused at the first scan; a supervisor's override is
audited and kept; the packing slip opens the same check; a packed parcel says so."""

from __future__ import annotations

import json

import pytest

from dadan.core.config import parse_settings
from dadan.core.db import open_database, write
from dadan.core.errors import ConfigError
from dadan.core.models import AuditEvent, Order, Shipment, Waybill
from dadan.core.orders.rules import Flag
from dadan.core.packing import pack_check
from dadan.core.packing.models import PackRecord
from tests.pack_helpers import BARCODES, bench, dump


@pytest.fixture
def pb(tmp_path):
    open_database(f"sqlite:///{tmp_path}/pack.db")
    return bench()


def started(code: str) -> pack_check.PackCheck:
    check, out = pack_check.start(code)
    assert out.ok and out.kind == "started", out.message
    return check


def test_right_items_pack_the_parcel_once(pb):
    w1 = pb["w1"]
    check = started(w1.code)
    assert [(ln.code, ln.expected, ln.barcodes) for ln in check.lines] == [
        ("A12", 2, (BARCODES["A12"],)), ("B07", 1, (BARCODES["B07"],))]
    assert check.order_sns() == ["261120-A"]
    out = pack_check.scan(check, BARCODES["A12"], actor="packer")
    assert (out.ok, out.kind) == (True, "counted") and [(ln.code, ln.missing) for ln in check.missing()] == [
        ("A12", 1), ("B07", 1)]
    assert PackRecord.select().count() == 0  # progress is the screen's until the parcel is complete
    assert pack_check.scan(check, "b07", actor="packer").kind == "counted"  # a merchant code, any case
    out = pack_check.scan(check, BARCODES["A12"], actor="packer")
    assert (out.ok, out.kind) == (True, "packed") and "PACKED" in out.message and check.packed
    rec = PackRecord.get()
    assert (rec.waybill_id, rec.waybill_code, rec.order_sns, rec.actor) == (w1.id, w1.code, "261120-A", "packer")
    assert json.loads(rec.items) == [{"code": "A12", "qty": 2}, {"code": "B07", "qty": 1}] and rec.overrides == ""
    assert AuditEvent.get(AuditEvent.action == "pack").target == f"waybill:{w1.code}"
    assert Shipment.select().count() == 0 and Waybill.get_by_id(w1.id).state == "printed"  # on_packed = nothing
    again, out = pack_check.start(w1.code)
    assert again is None and out.kind == "already_packed" and "packer" in out.message and out.alarm
    from dadan.core.timeutil import fmt_local  # the time it was packed, in the warehouse's time zone

    for tz in ("Asia/Shanghai", "UTC"):
        _, out = pack_check.start(w1.code, tz=tz)
        assert f"at {fmt_local(rec.packed_at, tz)}" in out.message and "UTC" not in out.message, out.message
    assert pack_check.scan(check, BARCODES["A12"], actor="packer").kind == "already_packed"
    assert PackRecord.select().count() == 1


def test_on_packed_ship_queues_the_shipment_with_the_waybill_number(pb):
    w1 = pb["w1"]
    check = started("261120-A")  # the packing slip opens the same parcel
    assert check.waybill_id == w1.id
    assert pack_check.scan(check, f"2*{BARCODES['A12']}", actor="packer").kind == "counted"  # a typed quantity
    out = pack_check.scan(check, BARCODES["B07"], actor="packer", on_packed="ship")
    assert out.kind == "packed" and out.shipped == 1
    s = Shipment.get(Shipment.order == pb["a"].id)
    assert (s.tracking_number, s.state) == (w1.code, "pending")
    assert Order.get_by_id(pb["a"].id).state == "shipped" and Waybill.get_by_id(w1.id).state == "shipped"
    assert PackRecord.select().count() == 1


@pytest.mark.parametrize("what", ["wrong", "extra", "other_parcel", "other_waybill", "unknown", "zero"])
def test_a_wrong_extra_or_other_parcels_item_alarms_and_changes_nothing(pb, what):
    check = started(pb["w1"].code)
    pack_check.scan(check, BARCODES["A12"], actor="packer")
    pack_check.scan(check, BARCODES["A12"], actor="packer")  # A12 complete: one more is extra
    code = {"wrong": BARCODES["Z9"], "extra": BARCODES["A12"], "other_parcel": BARCODES["C3"],
            "other_waybill": pb["w2"].code, "unknown": "NOPE-404", "zero": f"0*{BARCODES['B07']}"}[what]
    before, lines = dump(), [(ln.code, ln.scanned) for ln in check.lines]
    out = pack_check.scan(check, code, actor="packer")
    assert not out.ok and out.alarm and out.kind == {"other_waybill": "other_parcel", "unknown": "wrong"}.get(what, what)
    if what == "other_parcel":
        assert pb["w2"].code in out.message and "261120-B" in out.message
    assert dump() == before and [(ln.code, ln.scanned) for ln in check.lines] == lines and not check.packed
    assert pack_check.scan(check, BARCODES["B07"], actor="packer").kind == "packed"  # the check goes on


def test_an_item_of_an_unprinted_order_is_simply_wrong_and_a_packed_parcels_item_too(pb):
    c = started(pb["w2"].code)
    assert pack_check.scan(c, BARCODES["C3"], actor="p").kind == "packed"
    check = started(pb["w1"].code)
    assert pack_check.scan(check, BARCODES["C3"], actor="p").kind == "wrong"  # parcel 2 is packed: not open


def test_a_blocked_order_is_refused_at_the_first_scan(pb):
    with write():
        Order.update(exception_flags=int(Flag.REFUND)).where(Order.id == pb["a"].id).execute()
    before = dump()
    check, out = pack_check.start(pb["w1"].code)
    assert check is None and out.kind == "blocked" and "261120-A" in out.message and out.alarm
    check, out = pack_check.start("261120-A")
    assert check is None and out.kind == "blocked"
    assert dump() == before


def test_blocked_while_checking_refuses_the_last_scan_and_changes_nothing(pb):
    check = started(pb["w1"].code)
    pack_check.scan(check, f"2*{BARCODES['A12']}", actor="packer")
    with write():
        Order.update(exception_flags=int(Flag.REFUND)).where(Order.id == pb["a"].id).execute()
    before = dump()
    out = pack_check.scan(check, BARCODES["B07"], actor="packer")
    assert out.kind == "blocked" and not check.packed and check.line("b07").scanned == 0
    assert dump() == before


def test_a_supervisor_override_counts_an_item_with_a_reason_audited(pb):
    check = started(pb["w1"].code)
    pack_check.scan(check, f"2*{BARCODES['A12']}", actor="packer")
    before = dump()
    out = pack_check.override(check, "B07", "", actor="boss")
    assert out.kind == "no_reason" and dump() == before and check.line("b07").scanned == 0
    assert pack_check.override(check, "Z9", "no label", actor="boss").kind == "wrong" and dump() == before
    out = pack_check.override(check, "B07", "barcode torn off", actor="boss")
    assert out.kind == "packed"
    ev = AuditEvent.get(AuditEvent.action == "pack_override")
    assert (ev.actor, ev.reason, ev.target) == ("boss", "barcode torn off", f"waybill:{pb['w1'].code}")
    assert json.loads(ev.detail)["code"] == "B07"
    rec = PackRecord.get()
    assert json.loads(rec.overrides) == [{"code": "B07", "qty": 1, "reason": "barcode torn off", "actor": "boss"}]


def test_parcels_that_cannot_be_checked_say_why(pb):
    for state, kind in (("cancelled", "not_open"), ("shipped", "not_open")):
        with write():
            Waybill.update(state=state).where(Waybill.id == pb["w2"].id).execute()
        check, out = pack_check.start(pb["w2"].code)
        assert check is None and out.kind == kind and out.alarm
    check, out = pack_check.start("261120-C")
    assert check is None and out.kind == "no_parcel"
    check, out = pack_check.start("NOTHING-HERE")
    assert check is None and out.kind == "unknown"


def test_the_setting_is_checked():
    assert parse_settings("").packing.on_packed == "nothing"
    assert parse_settings('[packing]\non_packed = "ship"\n').packing.on_packed == "ship"
    assert parse_settings('[packing]\non_packed = "print"\n').packing.on_packed == "print"
    with pytest.raises(ConfigError):
        parse_settings('[packing]\non_packed = "fly"\n')
