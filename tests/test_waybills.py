"""E-waybills end to end on the loopback platform (real HTTP), a real SQLite file and the
loopback TSPL printer: accounts, taking numbers ahead of the printer, the courier's standard
layout, reprint, recycle, ship, and the crash and fault rules."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dadan.core.config import SenderSettings, Settings
from dadan.core.db import close_database, write
from dadan.core.models import AuditEvent, Order, PrintItem, Shipment, Waybill
from dadan.core.orders.couriers import by_code, example_tracking, matches_tracking
from dadan.core.printing import queue as printing
from dadan.core.printing.plan import PrintRefused, plan_print
from dadan.core.printing.worker import PrintWorker
from dadan.core.waybills import accounts, recycle
from dadan.core.waybills.parcels import numbered_parcel
from dadan.core.waybills.shipping import ship_printed
from dadan.printers.profile import PrinterProfile
from tests.fakes import FakeTsplPrinter
from tests.fakes.printers import decode_barcodes
from tests.test_sync_support import make_waybill_env, sync

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "waybill_100x150"
SETTINGS = Settings(sender=SenderSettings(name="仓库", phone="13800000000"))


@pytest.fixture
def wurl(store) -> str:
    return store.url()


@pytest.fixture
def wenv(tmp_path, wurl):
    e = make_waybill_env(tmp_path, orders=260, quantity=1000, seed=3, url=wurl)
    yield e
    e.server.stop()
    close_database()


def printable(n: int) -> list[int]:
    ids = [o.id for o in Order.select().where((Order.order_status == 1) & (Order.exception_flags == 0)
                                              & (Order.print_count == 0)).order_by(Order.id).limit(n)]
    assert len(ids) == n
    return ids


def profile(printer) -> PrinterProfile:
    return PrinterProfile(name="lbl", driver="tspl", uri=printer.uri, width_mm=100, height_mm=150)


def run(env, printer, job_id: int, settings: Settings = SETTINGS) -> PrintWorker:
    worker = PrintWorker(profile(printer), settings=settings, client_factory=env.factory)
    worker.run_pending(job_id)
    return worker


def takes(env) -> int:
    return env.platform.requests["pdd.waybill.get"]


def test_accounts_list_branches_balances_addresses_and_the_default(wenv):
    views = accounts.branches(wenv.shop.id)
    assert [(v.wp_code, v.branch_code, v.quantity, v.chosen, v.default, v.address_no) for v in views] == [
        ("ZTO", "ZTO-HZ01", 1000, True, True, 1)]
    assert len(views[0].addresses) == 2 and views[0].addresses[0]["city"] == "杭州市"
    assert accounts.default_account(wenv.shop.id).wp_code == "ZTO"
    with pytest.raises(Exception, match="no e-waybill subscription for YTO"):
        accounts.use(wenv.shop, "YTO", "X", actor="t")
    with pytest.raises(Exception, match="address 3 does not exist"):
        accounts.use(wenv.shop, "ZTO", "ZTO-HZ01", address_no=3, actor="t")
    assert AuditEvent.select().where(AuditEvent.action == "waybill-account").count() == 1


def test_200_orders_one_job_numbers_taken_in_20_calls_printed_once_reprinted_with_the_same(wenv):
    ids = printable(200)
    before = wenv.platform.balance(wenv.mall, "ZTO")["quantity"]
    plan = plan_print(ids, waybill=True)
    assert plan.to_take == 200 and not plan.no_number and not plan.warnings()
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE, actor="tester")
        # each parcel's row and request id are on record before anything is asked
        assert Waybill.select().where(Waybill.state == "pending").count() == 200
        assert takes(wenv) == 0
        run(wenv, printer, job.id)
        assert printing.job_view(job.id).state == "done"
        assert takes(wenv) <= 20
        assert wenv.platform.balance(wenv.mall, "ZTO")["quantity"] == before - 200
        assert len(printer.labels) == 200
        numbers = {}
        for o in Order.select().where(Order.id.in_(ids)):
            w = numbered_parcel(o.id)
            assert w.state == "printed" and o.tracking_number == w.code and matches_tracking(by_code("ZTO"), w.code)
            assert w.taken_by == "tester" and w.created_by == "tester" and w.taken_at is not None
            numbers[o.id] = w.code
        assert len(set(numbers.values())) == 200
        # every label carries its own order's number as a Code128, in job order
        assert [b for b in printer.barcodes] == [[numbers[i]] for i in ids]
        for k in (0, 99, 199):
            assert numbers[ids[k]] in decode_barcodes(printer.labels[k])
        # printed again: nothing taken, nothing printed
        with pytest.raises(PrintRefused, match="200 already printed"):
            printing.create_job(ids, printer="lbl", template=TEMPLATE)
        # a reprint uses the same number, marked
        again = printing.create_reprint_job(ids[:1], reason="label jammed", printer="lbl", template=TEMPLATE,
                                            actor="tester")
        run(wenv, printer, again.id)
        assert takes(wenv) <= 20 and len(printer.labels) == 201
        assert printer.barcodes[-1] == [numbers[ids[0]]]
        assert any("R2" in t for t in printer.texts[-1])
    assert wenv.platform.balance(wenv.mall, "ZTO")["quantity"] == before - 200
    assert AuditEvent.select().where(AuditEvent.action == "waybill-take").count() == 200
    assert AuditEvent.select().where(AuditEvent.action == "reprint").count() == 1


def test_a_lost_answer_is_asked_again_as_the_same_request(wenv):
    ids = printable(15)
    before = wenv.platform.balance(wenv.mall, "ZTO")["quantity"]
    wenv.platform.faults.queue.extend([("timeout", "pdd.waybill.get"), ("reset", "pdd.waybill.get"),
                                       ("truncated", "pdd.waybill.get")])
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
        run(wenv, printer, job.id)
        assert printing.job_view(job.id).state == "done"
        sent = [b[0] for b in printer.barcodes]
    state = wenv.platform.waybill_state(wenv.mall)
    assert wenv.platform.faults_injected["timeout"] == 1
    # the platform allocated each parcel once, whatever number of times it was asked
    assert len(state) == 15 == len(set(sent))
    assert wenv.platform.balance(wenv.mall, "ZTO")["quantity"] == before - 15
    ours = {w.object_id: w.code for w in Waybill.select()}
    assert {s["object_id"]: code for code, s in state.items()} == ours


def test_kill_minus_9_between_take_and_commit_keeps_one_number_per_parcel(wenv, wurl, tmp_path):
    ids = printable(12)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
        wenv.platform.faults.slow_sleep = 30  # the answer to the first take is held back...
        wenv.platform.faults.queue.append(("slow", "pdd.waybill.get"))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        child = subprocess.Popen([sys.executable, "-m", "tests.fakes.waybill_child", str(tmp_path), printer.uri,
                                  str(job.id), wurl], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not wenv.platform.waybill_state(wenv.mall) and time.monotonic() < deadline:
                time.sleep(0.02)
            allocated = dict(wenv.platform.waybill_state(wenv.mall))
            assert len(allocated) == 10  # ...after the platform allocated ten numbers
            os.kill(child.pid, signal.SIGKILL)  # ...and dadan dies before it hears them
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
        assert Waybill.select().where(Waybill.code != "").count() == 0  # nothing recorded
        assert Waybill.select().where(Waybill.attempts == 1).count() == 10  # but asked for, on record
        assert printer.labels == []
        wenv.platform.faults.slow_sleep = 0.05
        printing.recover_uncertain("lbl")
        run(wenv, printer, job.id)
        assert printing.job_view(job.id).state == "done"
        state = wenv.platform.waybill_state(wenv.mall)
        assert len(state) == 12  # the ten asked again got the same numbers; two new ones
        assert set(allocated) <= set(state)
        printed = [b[0] for b in printer.barcodes]
        assert len(printed) == 12 == len(set(printed)) and set(printed) == set(state)


def test_refund_after_the_take_skips_the_label_lists_the_number_and_cancel_returns_it(wenv):
    ids = printable(12)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
        from dadan.core.waybills.take import take_numbers

        first10 = [it.waybill_id for it in PrintItem.select().where(PrintItem.job == job.id).order_by(PrintItem.seq)]
        with wenv.factory(wenv.shop) as client:
            assert take_numbers(first10[:10], client=client, sender=SETTINGS.sender) == {}
        victim = Order.get_by_id(ids[3])
        code = numbered_parcel(victim.id).code
        wenv.platform.mutate(wenv.mall, "refund", victim.order_sn)
        wenv.platform.advance(400)
        sync(wenv)
        assert Order.get_by_id(victim.id).exception_flags
        run(wenv, printer, job.id)
        items = {it.order_id: it for it in PrintItem.select().where(PrintItem.job == job.id)}
        assert items[victim.id].state == "skipped" and len(printer.labels) == 11
        assert code not in [b[0] for b in printer.barcodes]
    listed = recycle.to_recycle()
    assert [w.code for w in listed] == [code]
    from dadan.core.orders.query import compile_query

    assert [o.id for o in Order.select().where(compile_query("waybill:recycle"))] == [victim.id]
    before = wenv.platform.balance(wenv.mall, "ZTO")["quantity"]
    report = recycle.cancel([w.id for w in listed], reason="refunded", actor="tester", factory=wenv.factory)
    assert report.cancelled == [code] and not report.failed
    assert wenv.platform.balance(wenv.mall, "ZTO")["quantity"] == before + 1
    w = Waybill.get(Waybill.code == code)
    assert (w.state, w.cancel_reason, w.cancelled_by, w.taken_by) == ("cancelled", "refunded", "tester", "")
    assert Order.get_by_id(victim.id).tracking_number == ""
    assert recycle.to_recycle() == []
    assert AuditEvent.select().where(AuditEvent.action == "waybill-cancel").count() == 1
    # a recycled number never ships: typed back, it is refused
    from dadan.core.shipping.outbox import assign_tracking

    with write():
        Order.update(exception_flags=0).where(Order.id == victim.id).execute()
    with pytest.raises(Exception, match="recycled"):
        assign_tracking(victim.id, code, by_code("ZTO").id, actor="t")


def test_a_failed_cancel_stays_visible_with_the_reason(wenv):
    ids = printable(3)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
        run(wenv, printer, job.id)
    o = Order.get_by_id(ids[0])
    w = numbered_parcel(o.id)
    wenv.platform.faults.queue.extend([("busy", "pdd.waybill.cancel")] * 10)
    report = recycle.cancel_orders([o.order_sn], reason="wrong parcel", actor="t", factory=wenv.factory)
    assert report.failed and not report.cancelled
    w = Waybill.get_by_id(w.id)
    assert w.state == "printed" and "busy" in w.cancel_error
    assert AuditEvent.select().where(AuditEvent.action == "waybill-cancel-failed").count() == 1


def test_scan_ship_and_one_key_ship_confirm_with_the_waybill_number(wenv):
    from dadan.core.shipping.outbox import assign_tracking, process_outbox
    from dadan.core.shipping.scan import ship_scan

    ids = printable(4)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
        run(wenv, printer, job.id)
    codes = {i: numbered_parcel(i).code for i in ids}
    # a typed number must match the live waybill
    with pytest.raises(Exception, match="must match"):
        assign_tracking(ids[0], example_tracking(by_code("ZTO"), 1), by_code("ZTO").id, actor="t")
    out = ship_scan(codes[ids[0]], actor="t")
    assert out.ok and out.kind == "shipped"
    report = ship_printed(ids, actor="t")
    assert sorted(sn for sn, _ in report.shipped) == sorted(Order.get_by_id(i).order_sn for i in ids[1:])
    with wenv.factory(wenv.shop) as client:
        process_outbox(lambda shop: client if shop.id == wenv.shop.id else None)
    for i in ids:
        s = Shipment.get(Shipment.order == i)
        assert s.tracking_number == codes[i] and s.logistics_id == by_code("ZTO").id
        assert Waybill.get(Waybill.code == codes[i]).state == "shipped"
    sent = {s["order_sn"]: s["tracking_number"] for s in wenv.platform.sends}
    assert sent == {Order.get_by_id(i).order_sn: codes[i] for i in ids}
    assert all(v["state"] == "shipped" for k, v in wenv.platform.waybill_state(wenv.mall).items() if k in codes.values())


def test_one_key_ship_confirms_printed_orders_holding_a_number_from_a_file(wenv):
    """Offline printing: an order printed with a tracking number from an imported file (no
    e-waybill parcel) ships with that number and its courier, as scanning its label did ("confirm
    shipment with one-key ship"); before, one-key ship passed it by without a word. An order not
    printed yet, or already shipped, is named with the reason when asked (``dadan ship``)."""
    from dadan.core.shipping.outbox import process_outbox
    from dadan.core.waybills.shipping import shippable

    zto = by_code("ZTO")
    offline, unprinted = printable(2)
    number = example_tracking(zto, 7)
    with write():
        Order.update(tracking_number=number, logistics_id=zto.id, print_count=1, state="printed").where(
            Order.id == offline).execute()
    assert shippable([offline, unprinted]) == [offline]
    report = ship_printed([offline, unprinted], actor="t", explain=True)
    assert report.shipped == [(Order.get_by_id(offline).order_sn, number)]
    assert report.skipped == [(Order.get_by_id(unprinted).order_sn, "not printed yet")]
    assert Order.get_by_id(offline).state == "shipped"
    with wenv.factory(wenv.shop) as client:
        process_outbox(lambda shop: client if shop.id == wenv.shop.id else None)
    s = Shipment.get(Shipment.order == offline)
    assert (s.tracking_number, s.logistics_id, s.state) == (number, zto.id, "confirmed")
    again = ship_printed([offline], actor="t", explain=True)
    assert again.shipped == [] and again.skipped == [(Order.get_by_id(offline).order_sn, "already shipped")]
    assert shippable([offline]) == []


def test_a_number_the_platform_gives_twice_is_never_printed_twice(wenv):
    """A platform that lost its own record (the loopback demo killed before it saved) gave a
    number again for another order: the parcel does not take it, its label does not print,
    and the reason names the order that holds the number."""
    import json

    from dadan.core.models import AuditEvent, PrintItem

    first, second = printable(2)
    before = json.loads(json.dumps(wenv.platform.waybills.to_json()))
    with FakeTsplPrinter() as printer:
        run(wenv, printer, printing.create_job([first], printer="lbl", template=TEMPLATE).id)
        code = numbered_parcel(first).code
        wenv.platform.waybills.restore(before)  # the platform forgets it gave that number
        job = printing.create_job([second], printer="lbl", template=TEMPLATE)
        run(wenv, printer, job.id)
        assert len(printer.labels) == 1  # the first order's label only
    assert Order.get_by_id(second).print_count == 0 and Order.get_by_id(second).tracking_number != code
    assert numbered_parcel(second) is None
    (item,) = PrintItem.select().where(PrintItem.job == job.id)
    assert item.state != "sent" and f"which order {Order.get_by_id(first).order_sn} already holds" in item.reason
    assert AuditEvent.select().where(AuditEvent.action == "waybill-duplicate",
                                     AuditEvent.target == f"waybill:{code}").count() == 1


def test_confirm_on_print_queues_the_shipment_with_the_label(wenv):
    ids = printable(2)
    settings = Settings(sender=SETTINGS.sender)
    settings.waybills.confirm_on = "print"
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
        run(wenv, printer, job.id, settings)
    from dadan.core.waybills.parcels import parcels_by_order

    shipped = parcels_by_order(ids, ("shipped",))
    for i in ids:
        (w,) = shipped[i]
        s = Shipment.get(Shipment.order == i)
        assert (s.tracking_number, s.state) == (w.code, "pending")
        assert Order.get_by_id(i).state == "shipped"
    assert Shipment.select().count() == 2


def test_a_waybill_without_a_number_cannot_be_printed(wenv, tmp_path):
    ids = printable(3)
    with write():  # the shop loses its account: nothing to take numbers with
        from dadan.core.models import WaybillAccount

        WaybillAccount.delete().execute()
    plan = plan_print(ids, waybill=True)
    assert plan.ready == [] and len(plan.no_number) == 3
    assert "no courier account" in plan.no_number[0][1]
    with pytest.raises(PrintRefused, match="without a number"):
        printing.create_job(ids, printer="lbl", template=TEMPLATE)
    # a label slipped into the queue without a number is never sent either
    with write():
        job = printing.PrintJob.create(printer="lbl", template=TEMPLATE, total=1, state="queued")
        PrintItem.create(job=job.id, seq=1, order=ids[0], state="queued")
    with FakeTsplPrinter() as printer:
        run(wenv, printer, job.id)
        assert printer.labels == []
    assert printing.job_view(job.id).state == "paused"
    assert "no waybill number" in PrintItem.get(PrintItem.job == job.id).reason


def test_a_balance_below_the_job_is_a_warning_before_anything_is_taken(wenv):
    ids = printable(5)
    with write():
        from dadan.core.models import WaybillBranch

        WaybillBranch.update(quantity=3).execute()
    plan = plan_print(ids, waybill=True)
    assert plan.warnings() and "balance" in plan.warnings()[0] and "3" in plan.warnings()[0]
    assert takes(wenv) == 0


def test_preview_printer_draws_dadans_own_waybill_with_the_real_number(wenv, tmp_path):
    from PIL import Image

    ids = printable(2)
    prof = PrinterProfile(name="pv", driver="preview", uri=str(tmp_path / "pv"))
    job = printing.create_job(ids, printer="pv", template=TEMPLATE)
    PrintWorker(prof, settings=SETTINGS, client_factory=wenv.factory).run_pending(job.id)
    pngs = sorted((tmp_path / "pv").glob("*.png"))
    assert len(pngs) == 2
    for png, oid in zip(pngs, ids):
        assert numbered_parcel(oid).code in decode_barcodes(Image.open(png))
    assert wenv.platform.requests["pdd.cloudprint.cmdprint.render"] == 0
    # the sender address printed is the one registered at the branch that gave the number
    worker = PrintWorker(prof, settings=SETTINGS, client_factory=wenv.factory)
    item = PrintItem.get((PrintItem.job == job.id) & (PrintItem.seq == 1))
    fields = worker.renderer.fields(Order.get_by_id(ids[0]), item, job)
    assert fields["sender_address"] == "浙江省杭州市西湖区文三路 90 号 东部软件园 3 号楼"
    assert fields["tracking_number"] == numbered_parcel(ids[0]).code and fields["courier_name"] == "中通快递"


def test_export_lists_each_orders_waybills(wenv, tmp_path):
    import json

    from dadan.core.spreadsheets.export import export

    ids = printable(2)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
        run(wenv, printer, job.id)
    o = Order.get_by_id(ids[0])
    recycle.cancel_orders([o.order_sn], reason="x", actor="t", factory=wenv.factory)
    out = tmp_path / "o.jsonl"
    export("orders", "jsonl", out, where=Order.id.in_(ids))
    rows = {r["order_sn"]: r for r in map(json.loads, out.read_text().splitlines())}
    first, second = rows[o.order_sn], rows[Order.get_by_id(ids[1]).order_sn]
    assert first["tracking_number"] == "" and [w["state"] for w in first["waybills"]] == ["cancelled"]
    code = numbered_parcel(ids[1]).code
    assert second["tracking_number"] == code
    assert second["waybills"] == [{"code": code, "courier": "ZTO", "state": "printed"}]


def test_scan_refuses_a_recycled_waybill_and_manual_mode_only_checks(wenv):
    from dadan.core.shipping.scan import ship_scan

    ids = printable(2)
    with FakeTsplPrinter() as printer:
        job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
        run(wenv, printer, job.id)
    gone = numbered_parcel(ids[0]).code
    recycle.cancel_orders([Order.get_by_id(ids[0]).order_sn], reason="wrong parcel", actor="t", factory=wenv.factory)
    out = ship_scan(gone, actor="t")
    assert (out.ok, out.kind, out.warn) == (False, "recycled", True) and "recycled" in out.message
    keep = numbered_parcel(ids[1]).code
    checked = ship_scan(keep, actor="t", confirm=False)
    assert (checked.ok, checked.kind) == (True, "checked")
    assert Shipment.select().count() == 0 and Order.get_by_id(ids[1]).state == "printed"


def test_each_background_sync_reads_the_balances_again(wenv):
    from dadan.core.context import Context
    from dadan.core.platform.scheduler import Scheduler

    wenv.platform.subscribe(wenv.mall, "ZTO", quantity=42)  # the branch was topped up / used elsewhere
    assert accounts.balance(wenv.shop.id, "ZTO") == 1000
    settings = Settings()
    settings.sync = wenv.settings
    sched = Scheduler(Context(paths=wenv.paths, settings=settings), factory=wenv.factory, outbox=False)
    assert sched._run_sync(wenv.shop.id) is not None
    assert accounts.balance(wenv.shop.id, "ZTO") == 42


def test_a_number_whose_answer_never_came_is_found_by_its_request_id_and_recycled(wenv):
    from dadan.core.platform.pdd import RetryPolicy
    from dadan.core.platform.shops import ClientFactory
    from dadan.core.waybills.take import take_numbers

    ids = printable(2)
    job = printing.create_job(ids, printer="lbl", template=TEMPLATE)
    parcels = [it.waybill_id for it in PrintItem.select().where(PrintItem.job == job.id).order_by(PrintItem.seq)]
    once = ClientFactory(paths=wenv.paths, retry=RetryPolicy(attempts=1), timeout=0.3)
    before = wenv.platform.balance(wenv.mall, "ZTO")["quantity"]
    # the first parcel's number is allocated and its answer lost; the second's request never got through
    wenv.platform.faults.queue.extend([("timeout", "pdd.waybill.get"), ("http500", "pdd.waybill.get")])
    with once(wenv.shop) as client:
        assert take_numbers(parcels[:1], client=client, sender=SETTINGS.sender)
        assert take_numbers(parcels[1:], client=client, sender=SETTINGS.sender)
    assert Waybill.select().where((Waybill.state == "pending") & (Waybill.attempts == 1)).count() == 2
    assert wenv.platform.balance(wenv.mall, "ZTO")["quantity"] == before - 1
    lost = next(iter(wenv.platform.waybill_state(wenv.mall)))
    for oid in ids:  # both orders are refunded before anyone prints them
        wenv.platform.mutate(wenv.mall, "refund", Order.get_by_id(oid).order_sn)
    wenv.platform.advance(400)
    sync(wenv)
    assert sorted(w.id for w in recycle.to_recycle()) == sorted(parcels)
    report = recycle.cancel(parcels, reason="refunded", actor="t", factory=wenv.factory)
    assert report.cancelled == [lost] and len(report.closed) == 1 and not report.failed
    assert wenv.platform.balance(wenv.mall, "ZTO")["quantity"] == before
    assert wenv.platform.waybill_state(wenv.mall)[lost]["state"] == "cancelled"
    assert [w.state for w in Waybill.select().order_by(Waybill.id)] == ["cancelled", "cancelled"]
    assert recycle.to_recycle() == []
