"""Handover to the courier (交接) on a real SQLite file: 100 printed parcels, 98 scanned -> 2
missing by number and a list of exactly the 98; refusals change nothing; closing with the
confirm setting queues the shipments with the numbers."""

from __future__ import annotations

import csv

import pytest

from dadan.core.db import close_database, write
from dadan.core.models import Order, Shipment, Waybill, WaybillOrder
from dadan.core.packing import handover
from dadan.core.packing.handover_models import Handover, HandoverParcel
from tests.desk_helpers import NOW, make_ctx
from tests.handover_helpers import printed_parcels


@pytest.fixture
def ctx(tmp_path):
    c = make_ctx(tmp_path, 400)
    yield c
    close_database()


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [[c.lstrip("\t") for c in r] for r in csv.reader(fh)]  # long digit strings: kept as text


def test_100_printed_98_scanned_two_missing_and_the_list_holds_exactly_the_98(ctx, tmp_path):
    parcels = printed_parcels(100)
    codes = [w.code for w in parcels]
    for c in codes[:40] + codes[42:]:
        r = handover.scan(c, actor="tester", now=NOW)
        assert r.ok, r.message
    (s,) = handover.status(now=NOW)
    assert (s.wp_code, s.printed, s.scanned, s.handed) == ("ZTO", 100, 98, 0)
    assert s.missing == codes[40:42]
    rep = handover.close("ZTO", actor="tester", folder=tmp_path, out=tmp_path / "list.csv", now=NOW)
    assert rep.count == 98 and rep.shipped == [] and Shipment.select().count() == 0
    rows = _rows(tmp_path / "list.csv")
    assert rows[0][:6] == ["快递公司", "交接单号", "交接时间", "序号", "运单号", "订单号"]
    assert [r[4] for r in rows[1:]] == codes[:40] + codes[42:]
    sn = {w.code: Order.get_by_id(WaybillOrder.get(WaybillOrder.waybill == w.id).order_id).order_sn for w in parcels}
    assert all(r[5] == sn[r[4]] and r[0] == "ZTO" for r in rows[1:])
    (after,) = handover.status(now=NOW)
    assert (after.scanned, after.handed, after.missing, after.handover_id) == (0, 98, codes[40:42], None)
    assert oct((tmp_path / "list.csv").stat().st_mode & 0o777) == "0o600"
    # the xlsx default, in the folder given
    handover.scan(codes[40], actor="tester", now=NOW)
    rep2 = handover.close("ZTO", actor="tester", folder=tmp_path / "exports", now=NOW)
    assert rep2.path.parent == tmp_path / "exports" and rep2.path.suffix == ".xlsx" and rep2.path.exists()


def _snapshot():
    return (Handover.select().count(), HandoverParcel.select().count(),
            list(Waybill.select(Waybill.id, Waybill.state).tuples()))


def test_refusals_change_nothing(ctx):
    zto = printed_parcels(3)
    yto = printed_parcels(1, "YTO", serial0=100)
    assert handover.scan(zto[0].code, actor="t", courier="ZTO", now=NOW).ok
    before = _snapshot()
    wrong = handover.scan(yto[0].code, actor="t", courier="ZTO", now=NOW)
    assert wrong.kind == "wrong_courier" and wrong.alarm and "YTO" in wrong.message
    twice = handover.scan(zto[0].code, actor="t", courier="ZTO", now=NOW)
    assert twice.kind == "twice" and "already scanned" in twice.message
    assert handover.scan("ZT000NOPE", actor="t", now=NOW).kind == "unknown"
    with write():
        Waybill.update(state="cancelled").where(Waybill.id == zto[1].id).execute()
        Order.update(exception_flags=1).where(
            Order.id == WaybillOrder.get(WaybillOrder.waybill == zto[2].id).order_id).execute()
    before = _snapshot()
    recycled = handover.scan(zto[1].code, actor="t", now=NOW)
    assert recycled.kind == "recycled" and "recycled" in recycled.message
    blocked = handover.scan(zto[2].code, actor="t", now=NOW)
    assert blocked.kind == "blocked" and "blocked" in blocked.message
    assert _snapshot() == before
    # the parcel the scan refuses is not missing: it is to keep out (its number to recycle)
    (s,) = handover.status(courier="ZTO", now=NOW)
    assert (s.missing, s.kept_out) == ([], [zto[2].code])
    # without a chosen courier, a YTO parcel opens the YTO handover
    assert handover.scan(yto[0].code, actor="t", now=NOW).ok
    assert sorted(h.wp_code for h, _n in handover.handovers(only_open=True)) == ["YTO", "ZTO"]


def test_close_with_confirm_queues_the_shipments_with_the_numbers(ctx, tmp_path):
    parcels = printed_parcels(5)
    for w in parcels[:4]:
        assert handover.scan(w.code, actor="t", now=NOW).ok
    rep = handover.close("ZTO", actor="t", folder=tmp_path, confirm=True, now=NOW)
    assert len(rep.shipped) == 4 and rep.skipped == []
    got = {s.tracking_number: s.state for s in Shipment.select()}
    assert got == {w.code: "pending" for w in parcels[:4]}
    assert [Waybill.get_by_id(w.id).state for w in parcels] == ["shipped"] * 4 + ["printed"]
    (s,) = handover.status(now=NOW)
    assert (s.printed, s.handed, s.missing) == (5, 4, [parcels[4].code])
    with pytest.raises(Exception, match="no open handover"):
        handover.close("ZTO", actor="t", folder=tmp_path, now=NOW)


def test_parcels_found_complete_at_the_pack_check_are_counted_packed(ctx):
    from dadan.core.packing import pack_check
    from tests.pack_helpers import BARCODES, bench

    b = bench()
    check, outcome = pack_check.start(b["w1"].code)
    assert check is not None, outcome
    for code, qty in (("A12", 2), ("B07", 1)):
        for _ in range(qty):
            outcome = pack_check.scan(check, BARCODES[code], actor="packer")
    assert pack_check.packed(b["w1"].id) is not None, outcome
    (s,) = [s for s in handover.status(now=NOW) if s.wp_code == "ZTO"]
    assert (s.printed, s.packed) == (2, 1)
    handover.scan(b["w1"].code, actor="tester", now=NOW)
    (s,) = [s for s in handover.status(now=NOW) if s.wp_code == "ZTO"]
    assert (s.packed, s.scanned, s.missing) == (1, 1, [b["w2"].code])


def test_the_closed_handover_list_prints_on_the_handover_printer(ctx, tmp_path):
    """``[packing] handover_printer``: closing queues the list (交接单) there — one label listing
    exactly the scanned parcels — and the preview printer draws it; "" queues nothing; an
    unknown printer is a one-line error."""
    from dadan.core.config import PrinterSettings
    from dadan.core.errors import ConfigError
    from dadan.core.models import PrintItem, PrintJob
    from dadan.core.packing.handover_print import handover_list_fields, queue_handover_list_for
    from dadan.core.printing.worker import PrintWorker
    from dadan.printers.profile import profile_from

    parcels = printed_parcels(12)
    codes = [w.code for w in parcels]
    for c in codes[:10]:
        assert handover.scan(c, actor="tester", now=NOW).ok
    rep = handover.close("ZTO", actor="tester", folder=tmp_path, now=NOW)
    settings = ctx.settings
    assert queue_handover_list_for(rep.handover_id, settings) is None  # no printer set: the file only
    settings.printers = [PrinterSettings(name="p80", driver="preview", uri=str(tmp_path / "p80"), width_mm=80,
                                         height_mm=0, template="packing_80")]
    settings.packing.handover_printer = "nope"
    with pytest.raises(ConfigError, match="no printer named 'nope'"):
        queue_handover_list_for(rep.handover_id, settings)
    settings.packing.handover_printer = "p80"
    job = queue_handover_list_for(rep.handover_id, settings, "tester")
    assert (job.kind, job.printer, job.total, job.handover_id) == ("handover", "p80", 1, rep.handover_id)
    fields = handover_list_fields(PrintJob.get_by_id(job.id), settings)
    assert fields["count"] == 10 and [r["waybill"] for r in fields["items"]] == codes[:10]
    assert fields["handover_no"] == f"H{rep.handover_id}" and fields["closed_by"] == "tester"
    PrintWorker(profile_from(settings.printers[0]), settings=settings).run_pending(job.id)
    assert PrintItem.get(PrintItem.job == job.id).state == "sent"
    assert list((tmp_path / "p80").glob(f"job{job.id:05d}-*.png"))
