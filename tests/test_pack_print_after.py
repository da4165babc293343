"""Scan first, print after (``packing.on_packed = "print"``) on a real SQLite file and the real
print queue: the packing slip of an order without a number starts a check over its lines; the
last correct scan records the pack once and queues exactly one print job with that order (and
the preview printer prints it); a wrong item alarms and queues nothing; a blocked order is
refused; packing it again is refused; a print job the queue refuses (no courier account) leaves
no pack record; an open parcel without a number (merged) is checked over all its orders."""

from __future__ import annotations

import json

import pytest

from dadan.core.db import open_database, write
from dadan.core.models import AuditEvent, Order, PrintItem, PrintJob, Waybill, WaybillOrder
from dadan.core.orders.rules import Flag
from dadan.core.packing import pack_check
from dadan.core.packing.models import PackRecord
from tests.desk_helpers import numbered
from tests.pack_helpers import BARCODES, bench, dump, rec

WAYBILL = "waybill_100x150"
TO = {"printer": "preview", "template": WAYBILL}


@pytest.fixture
def pb(tmp_path):
    open_database(f"sqlite:///{tmp_path}/pack.db")
    out = bench()
    out["c"] = Order.get(Order.order_sn == "261120-C")  # B07 ×2, A12 ×1, unprinted, no parcel
    return out


def started(code: str) -> pack_check.PackCheck:
    check, out = pack_check.start(code, on_packed="print")
    assert out.ok and out.kind == "started", out.message
    return check


def jobs() -> list[tuple[int, list[int]]]:
    return [(j.id, [it.order_id for it in PrintItem.select().where(PrintItem.job == j.id).order_by(PrintItem.seq)])
            for j in PrintJob.select().order_by(PrintJob.id)]


def test_the_last_scan_packs_and_queues_exactly_one_label(pb, tmp_path):
    from dadan.core.printing.worker import PrintWorker
    from dadan.printers.profile import PrinterProfile

    numbered([pb["c"].id])  # its number typed: the waybill template prints without taking one
    with write():  # its receiver in plain text (as imported): the preview prints without the platform
        Order.update(receiver_name_enc="", receiver_phone_enc="", receiver_address_enc="", receiver_name="张三",
                     receiver_phone="13800000000", receiver_address="文一路 1 号").where(Order.id == pb["c"].id).execute()
    check = started("261120-C")
    assert check.print_after and check.waybill_id is None and check.order_sns() == ["261120-C"]
    assert [(ln.code, ln.expected) for ln in check.lines] == [("B07", 2), ("A12", 1)]
    assert "order 261120-C" in check.name
    assert pack_check.scan(check, "261120-C", actor="p", on_packed="print", **TO).kind == "same"
    assert pack_check.scan(check, f"2*{BARCODES['B07']}", actor="p", on_packed="print", **TO).kind == "counted"
    assert jobs() == [] and PackRecord.select().count() == 0
    out = pack_check.scan(check, BARCODES["A12"], actor="p", on_packed="print", **TO)
    assert (out.ok, out.kind) == (True, "packed") and out.job and f"job #{out.job}" in out.message
    assert jobs() == [(out.job, [pb["c"].id])] and check.packed and check.print_job == out.job
    job = PrintJob.get_by_id(out.job)
    assert (job.printer, job.template, job.requested_by, job.state) == ("preview", WAYBILL, "p", "queued")
    r = PackRecord.get()
    assert (r.order_id, r.waybill_id, r.order_sns, r.print_job, r.actor) == (pb["c"].id, None, "261120-C", out.job, "p")
    assert json.loads(r.items) == [{"code": "B07", "qty": 2}, {"code": "A12", "qty": 1}]
    ev = AuditEvent.get(AuditEvent.action == "pack")
    assert ev.target == "order:261120-C" and json.loads(ev.detail)["print_job"] == out.job
    # packing it again: refused, whether the label waits or has printed
    again, no = pack_check.start("261120-C", on_packed="print")
    assert again is None and no.kind == "already_packed" and f"#{out.job}" in no.message
    folder = tmp_path / "pv"
    PrintWorker(PrinterProfile(name="preview", driver="preview", uri=str(folder))).run_pending(out.job)
    assert PrintJob.get_by_id(out.job).state == "done", PrintJob.get_by_id(out.job).state_reason
    assert list(folder.glob(f"job{out.job:05d}-*.png"))
    assert Order.get_by_id(pb["c"].id).print_count == 1
    again, no = pack_check.start("261120-C", on_packed="print")
    assert again is None and no.kind == "already_packed"
    assert PackRecord.select().count() == 1 and len(jobs()) == 1


def test_a_wrong_item_alarms_and_queues_nothing(pb):
    from dadan.core.orders.upsert import upsert_orders

    upsert_orders(pb["c"].shop_id, [rec("261120-D", [("C3", 1)])], source="api")  # another unnumbered order
    numbered([pb["c"].id])
    check = started("261120-C")
    pack_check.scan(check, f"2*{BARCODES['B07']}", actor="p", on_packed="print", **TO)
    before = dump()
    for code, kind in ((BARCODES["Z9"], "wrong"), (BARCODES["B07"], "extra"), (BARCODES["C3"], "other_parcel"),
                       ("261120-A", "other_parcel"), (pb["w2"].code, "other_parcel"), ("261120-D", "other_parcel")):
        out = pack_check.scan(check, code, actor="p", on_packed="print", **TO)
        assert out.alarm and out.kind == kind and not out.job
    assert "ANOTHER ORDER" in out.message
    assert dump() == before and jobs() == [] and not check.packed
    assert pack_check.scan(check, BARCODES["A12"], actor="p", on_packed="print", **TO).kind == "packed"


def test_a_blocked_shipped_or_queued_order_is_refused(pb):
    with write():
        Order.update(exception_flags=int(Flag.REFUND)).where(Order.id == pb["c"].id).execute()
    before = dump()
    check, out = pack_check.start("261120-C", on_packed="print")
    assert check is None and out.kind == "blocked" and out.alarm and "261120-C" in out.message
    assert dump() == before
    with write():
        Order.update(exception_flags=0, order_status=2).where(Order.id == pb["c"].id).execute()
    check, out = pack_check.start("261120-C", on_packed="print")
    assert check is None and out.kind == "not_open"
    from dadan.core.printing.queue import create_job

    with write():
        Order.update(order_status=1).where(Order.id == pb["c"].id).execute()
    job = create_job([numbered([pb["c"].id])[0]], printer="preview", template=WAYBILL, actor="desk")
    check, out = pack_check.start("261120-C", on_packed="print")
    assert check is None and out.kind == "not_open" and f"#{job.id}" in out.message


def test_blocked_while_checking_refuses_the_last_scan(pb):
    numbered([pb["c"].id])
    check = started("261120-C")
    pack_check.scan(check, f"2*{BARCODES['B07']}", actor="p", on_packed="print", **TO)
    with write():
        Order.update(exception_flags=int(Flag.REFUND)).where(Order.id == pb["c"].id).execute()
    before = dump()
    out = pack_check.scan(check, BARCODES["A12"], actor="p", on_packed="print", **TO)
    assert out.kind == "blocked" and not check.packed and check.line("a12").scanned == 0
    assert dump() == before and jobs() == []


def test_a_refused_print_job_records_no_pack(pb):
    # no typed number and no courier account: the waybill job is refused, so nothing is packed
    check = started("261120-C")
    pack_check.scan(check, f"2*{BARCODES['B07']}", actor="p", on_packed="print", **TO)
    before = dump()
    out = pack_check.scan(check, BARCODES["A12"], actor="p", on_packed="print", **TO)
    assert out.alarm and out.kind == "not_printed" and "courier account" in out.message
    assert dump() == before and jobs() == [] and not check.packed and check.line("a12").scanned == 0
    out = pack_check.scan(check, BARCODES["A12"], actor="p", on_packed="print", printer="", template="")
    assert out.kind == "not_printed" and dump() == before  # no printer named: nothing either
    # a template that needs no number (a packing slip): the same check packs now
    out = pack_check.scan(check, BARCODES["A12"], actor="p", on_packed="print", printer="preview",
                          template="packing_80")
    assert out.kind == "packed" and jobs() == [(out.job, [pb["c"].id])] and PackRecord.select().count() == 1


def test_an_open_parcel_without_a_number_is_checked_over_all_its_orders(pb):
    from dadan.core.orders.upsert import upsert_orders

    upsert_orders(pb["c"].shop_id, [rec("261120-D", [("C3", 1), ("A12", 1)])], source="api")
    d = Order.get(Order.order_sn == "261120-D")
    numbered([pb["c"].id, d.id])
    with write():
        w = Waybill.create(shop=d.shop_id, wp_code="ZTO", object_id="dd-merged", package_id="merged01", state="pending")
        for o in (pb["c"], d):
            WaybillOrder.insert(waybill=w.id, order=o.id).execute()
    check = started("261120-D")  # the slip of the parcel's second order
    assert check.order_sns() == ["261120-C", "261120-D"] and check.parcel_id == w.id and check.waybill_id is None
    assert [(ln.code, ln.expected) for ln in check.lines] == [("B07", 2), ("A12", 2), ("C3", 1)]
    for code in (f"2*{BARCODES['B07']}", f"2*{BARCODES['A12']}"):
        assert pack_check.scan(check, code, actor="p", on_packed="print", **TO).kind == "counted"
    out = pack_check.scan(check, BARCODES["C3"], actor="p", on_packed="print", **TO)
    assert out.kind == "packed" and jobs() == [(out.job, [pb["c"].id, d.id])]
    r = PackRecord.get()
    assert (r.order_id, r.order_sns) == (pb["c"].id, "261120-C 261120-D")
    check, no = pack_check.start("261120-C", on_packed="print")
    assert check is None and no.kind == "already_packed"


def test_a_printed_parcel_takes_the_normal_path_and_the_old_call_still_refuses(pb):
    check = started(pb["w1"].code)  # numbered already: checked by its waybill, nothing printed on packing
    assert not check.print_after and check.waybill_id == pb["w1"].id
    pack_check.scan(check, f"2*{BARCODES['A12']}", actor="p", on_packed="print", **TO)
    out = pack_check.scan(check, BARCODES["B07"], actor="p", on_packed="print", **TO)
    assert out.kind == "packed" and not out.job and jobs() == []
    check, out = pack_check.start("261120-C")  # the setting not passed: as before
    assert check is None and out.kind == "no_parcel"


def test_an_override_on_a_check_before_printing_is_audited_by_order(pb):
    numbered([pb["c"].id])
    check = started("261120-C")
    pack_check.scan(check, f"2*{BARCODES['B07']}", actor="p", on_packed="print", **TO)
    out = pack_check.override(check, "A12", "torn barcode", actor="boss", on_packed="print", **TO)
    assert out.kind == "packed" and out.job
    assert AuditEvent.get(AuditEvent.action == "pack_override").target == "order:261120-C"
    assert json.loads(PackRecord.get().overrides)[0]["reason"] == "torn barcode"


def test_migration_16_keeps_old_pack_records(tmp_path):
    from dadan.core import db as dbmod
    from dadan.core.models import SchemaVersion

    db = open_database(f"sqlite:///{tmp_path}/old.db")
    pb = bench()
    with write():
        db.execute_sql('DROP TABLE "pack_record"')
        db.execute_sql('CREATE TABLE "pack_record" ("id" INTEGER NOT NULL PRIMARY KEY, "waybill_id" INTEGER NOT NULL '
                       'REFERENCES "waybill" ("id") ON DELETE CASCADE, "waybill_code" VARCHAR(255) NOT NULL, '
                       '"order_sns" TEXT NOT NULL, "actor" VARCHAR(255) NOT NULL, "packed_at" DATETIME NOT NULL, '
                       '"items" TEXT NOT NULL, "overrides" TEXT NOT NULL)')
        db.execute_sql('CREATE UNIQUE INDEX "pack_record_waybill_id" ON "pack_record" ("waybill_id")')
        db.execute_sql('INSERT INTO "pack_record" VALUES (7, ?, ?, ?, ?, ?, ?, ?)',
                       (pb["w1"].id, pb["w1"].code, "261120-A", "old", "2026-11-20 02:00:00", "[]", ""))
        SchemaVersion.delete().where(SchemaVersion.version >= 16).execute()
    assert dbmod.migrate(db) == dbmod.SCHEMA_VERSION
    r = PackRecord.get_by_id(7)
    assert (r.waybill_id, r.order_id, r.actor, r.print_job) == (pb["w1"].id, None, "old", None)
    assert "order_id" in {c.name for c in db.get_columns("pack_record")}
    assert {i.name for i in db.get_indexes("pack_record")} >= {"pack_record_waybill_id", "pack_record_order_id"}
    check, out = pack_check.start(pb["w1"].code)
    assert check is None and out.kind == "already_packed"
