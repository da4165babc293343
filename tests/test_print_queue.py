"""The print queue end to end: loopback printers, faults, crash recovery, reprints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dadan.core.db import close_database, write
from dadan.core.models import AuditEvent, Order, OrderEvent, PrintItem
from dadan.core.orders.rules import Flag
from dadan.core.printing import queue as printing
from dadan.core.printing.plan import PrintRefused
from dadan.core.printing.worker import LabelRenderer, PrintWorker
from dadan.printers.profile import PrinterProfile
from tests.fakes import FakeEscposPrinter, FakeTsplPrinter, decode_barcodes
from tests.fakes.queue_setup import SMALL_TEMPLATE, make_db, order_ids, order_sn

ROOT = Path(__file__).resolve().parents[1]


def tspl(uri: str, **kw) -> PrinterProfile:
    return PrinterProfile(name="lbl", driver="tspl", uri=uri, width_mm=60, height_mm=40, **kw)


def escpos(uri: str, **kw) -> PrinterProfile:
    return PrinterProfile(name="lbl", driver="escpos", uri=uri, width_mm=80, **kw)


PROFILES = {"tspl": tspl, "escpos": escpos}


def slow_printer(driver: str):
    """A loopback printer that takes ~28 ms a label and buffers one."""
    if driver == "escpos":
        return FakeEscposPrinter(label_seconds=0.028)
    return FakeTsplPrinter(speed_mm_s=1500, buffer_labels=1)


@pytest.fixture
def db200(store):
    db = make_db(store.url(), 200)
    yield db
    close_database()


@pytest.fixture
def db20(store):
    db = make_db(store.url(), 20)
    yield db
    close_database()


def states(job_id: int) -> list[str]:
    return [i.state for i in PrintItem.select().where(PrintItem.job == job_id).order_by(PrintItem.seq)]


def decoded(printer) -> list[str]:
    out = []
    for im in printer.labels:
        codes = decode_barcodes(im)
        assert len(codes) == 1, codes
        out.append(codes[0])
    return out


def test_tspl_batch_of_200_each_order_once_in_order(db200):
    ids = order_ids()
    job = printing.create_job(ids, printer="lbl", template=SMALL_TEMPLATE, actor="t")
    assert PrintItem.select().where(PrintItem.job == job.id).count() == 200  # committed first
    with FakeTsplPrinter() as printer:
        PrintWorker(tspl(printer.uri)).run_pending(job.id)
    assert printer.errors == []
    assert decoded(printer) == [order_sn(i) for i in range(1, 201)]
    v = printing.job_view(job.id)
    assert v.state == "done" and v.counts == {"sent": 200}
    assert Order.select().where(Order.print_count == 1, Order.state == "printed").count() == 200
    assert OrderEvent.select().where(OrderEvent.kind == "print").count() == 200


def test_escpos_batch_of_200_each_order_once_in_order(db200):
    job = printing.create_job(order_ids(), printer="r80", template=SMALL_TEMPLATE)
    prof = PrinterProfile(name="r80", driver="escpos", width_mm=80)
    with FakeEscposPrinter() as printer:
        PrintWorker(PrinterProfile(**{**prof.__dict__, "uri": printer.uri})).run_pending(job.id)
        for _ in range(300):
            if len(printer.labels) == 200:
                break
            time.sleep(0.01)
    assert printer.errors == [] and printer.cuts == 200
    assert decoded(printer) == [order_sn(i) for i in range(1, 201)]
    assert printer.labels[0].width == 576
    assert printing.job_view(job.id).state == "done"


def test_connection_closed_mid_label_pauses_then_operator_check_finishes(db200):
    # the printer drops the connection in the middle of label 58: dadan wrote all of it and
    # cannot know whether it printed, so the label waits for the operator (never resent by itself)
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter(close_after=57) as printer:
        worker = PrintWorker(tspl(printer.uri))
        worker.run_pending(job.id)
        v = printing.job_view(job.id)
        assert v.state == "paused"
        assert "closed the connection" in v.state_reason and "printer status: ready" in v.state_reason
        assert v.counts == {"sent": 57, "uncertain": 1, "queued": 142}
        unc = printing.job_items(job.id, ["uncertain"])[0]
        assert unc.seq == 58 and "check whether it printed" in unc.reason
        assert len(printer.labels) == 57
        printing.resolve_uncertain(unc.id, printed=False, actor="op")  # not on the printer: send it
        assert printing.resume_job(job.id) == 143
        worker.run_pending(job.id)
    assert printing.job_view(job.id).state == "done"
    assert decoded(printer) == [order_sn(i) for i in range(1, 201)]  # none lost, none doubled
    assert Order.select().where(Order.print_count != 1).count() == 0


def test_connection_lost_after_a_whole_label_leaves_it_uncertain_not_resent(db20):
    # the printer takes label 7 whole (and prints it), then the connection breaks before it
    # answers the status query: the label may have printed, so it must not be sent again
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter(drop_after_print=7) as printer:
        worker = PrintWorker(tspl(printer.uri))
        worker.run_pending(job.id)
        v = printing.job_view(job.id)
        assert v.state == "paused" and v.counts == {"sent": 6, "uncertain": 1, "queued": 13}
        unc = printing.job_items(job.id, ["uncertain"])[0]
        assert unc.seq == 7 and "check whether it printed" in unc.reason
        with pytest.raises(PrintRefused, match="decide first"):
            printing.resume_job(job.id)
        worker.run_pending(job.id)
        assert len(printer.labels) == 7  # nothing resent on its own
        printing.resolve_uncertain(unc.id, printed=True, actor="op")  # it is on the printer
        printing.resume_job(job.id)
        worker.run_pending(job.id)
    assert printing.job_view(job.id).state == "done"
    assert decoded(printer) == [order_sn(i) for i in range(1, 21)]  # each once
    assert Order.select().where(Order.print_count != 1).count() == 0


@pytest.mark.parametrize("driver", ["tspl", "escpos"])
def test_killed_mid_batch_leaves_one_uncertain_and_resends_nothing(store, driver):
    url = store.url()
    make_db(url, 60)
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    profile = PROFILES[driver]
    with slow_printer(driver) as printer:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen([sys.executable, "-m", "tests.fakes.print_child", url, printer.uri,
                                  str(job.id), driver], cwd=ROOT, env=env, stdout=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while len(printer.labels) < 15 and time.monotonic() < deadline:
                time.sleep(0.005)
            assert child.poll() is None, "the worker finished before it could be killed"
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
        received = decoded(printer)
        assert printing.lease_holder("lbl") is None  # the dead holder's lease is stale

        before = {i.seq: i.state for i in printing.job_items(job.id)}
        assert list(before.values()).count("sending") <= 1
        n = printing.recover_uncertain()
        items = printing.job_items(job.id)
        sent = [i.order.order_sn for i in items if i.state == "sent"]
        unc = [i for i in items if i.state == "uncertain"]
        assert n == len(unc) <= 1
        assert sent == received[:len(sent)]  # every item marked sent reached the printer
        assert set(received) - set(sent) <= {i.order.order_sn for i in unc}
        assert printing.job_view(job.id).state == "paused"

        # a new worker (as at the next start-up) sends nothing on its own
        count = len(printer.labels)
        PrintWorker(profile(printer.uri)).run_pending()
        time.sleep(0.1)
        assert len(printer.labels) == count
        with pytest.raises(PrintRefused, match="decide first"):
            printing.resume_job(job.id)

        # the operator decides: it printed if the printer has it
        for it in unc:
            printing.resolve_uncertain(it.id, printed=it.order.order_sn in received, actor="op")
        printing.resume_job(job.id)
        PrintWorker(profile(printer.uri)).run_pending(job.id)
    assert printing.job_view(job.id).state == "done"
    assert sorted(decoded(printer)) == [order_sn(i) for i in range(1, 61)]
    assert Order.select().where(Order.print_count != 1).count() == 0
    close_database()


def test_escpos_printer_dropping_mid_label_loses_nothing_and_doubles_nothing(db20):
    # the printer resets in the middle of label 8, discarding what it had not read: a label still
    # in the socket buffer is not printed, so only the printer's status answer after a label may
    # mark it sent (issue #14: "database 21 sent, printer 20")
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeEscposPrinter(close_after=7) as printer:
        worker = PrintWorker(escpos(printer.uri))
        worker.run_pending(job.id)
        v = printing.job_view(job.id)
        assert v.state == "paused" and "closed the connection" in v.state_reason
        assert printer.errors == [] and len(printer.labels) == 7
        assert v.counts["sent"] == 7  # every label marked sent is on the printer
        assert v.counts.get("uncertain", 0) + v.counts.get("failed", 0) == 1
        for it in printing.job_items(job.id, ["uncertain"]):
            printing.resolve_uncertain(it.id, printed=it.order.order_sn in decoded(printer), actor="op")
        assert printing.resume_job(job.id) == 13
        worker.run_pending(job.id)
    assert printing.job_view(job.id).state == "done"
    assert decoded(printer) == [order_sn(i) for i in range(1, 21)]  # none lost, none doubled
    assert Order.select().where(Order.print_count != 1).count() == 0


def test_escpos_connection_lost_after_a_whole_label_leaves_it_uncertain_not_resent(db20):
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeEscposPrinter(drop_after_print=7) as printer:
        worker = PrintWorker(escpos(printer.uri))
        worker.run_pending(job.id)
        v = printing.job_view(job.id)
        assert v.state == "paused" and v.counts == {"sent": 6, "uncertain": 1, "queued": 13}
        unc = printing.job_items(job.id, ["uncertain"])[0]
        assert unc.seq == 7 and "check whether it printed" in unc.reason
        worker.run_pending(job.id)
        assert len(printer.labels) == 7  # nothing resent on its own
        printing.resolve_uncertain(unc.id, printed=True, actor="op")
        printing.resume_job(job.id)
        worker.run_pending(job.id)
    assert printing.job_view(job.id).state == "done"
    assert decoded(printer) == [order_sn(i) for i in range(1, 21)]
    assert Order.select().where(Order.print_count != 1).count() == 0


def test_escpos_status_in_words_and_paper_out_pauses(db20):
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeEscposPrinter(paper_out=True, cover_open=True) as printer:
        worker = PrintWorker(escpos(printer.uri))
        worker.run_pending(job.id)
        v = printing.job_view(job.id)
        assert v.state == "paused" and "paper out" in v.state_reason and "cover open" in v.state_reason
        assert printer.labels == []
        printer.paper_out = printer.cover_open = False
        printing.resume_job(job.id)
        worker.run_pending(job.id)
    assert printing.job_view(job.id).state == "done"
    assert decoded(printer) == [order_sn(i) for i in range(1, 21)]


def test_refund_after_queueing_is_skipped_with_reason(db20):
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    target = Order.get(Order.order_sn == order_sn(9))

    def on_event(ev):
        if ev.kind == "label-sent" and ev.seq == 3:  # the refund arrives while the batch prints
            with write():
                Order.update(refund_status=3, exception_flags=int(Flag.REFUND)).where(Order.id == target.id).execute()

    with FakeTsplPrinter() as printer:
        PrintWorker(tspl(printer.uri), on_event=on_event).run_pending(job.id)
    item = PrintItem.get(PrintItem.job == job.id, PrintItem.seq == 9)
    assert item.state == "skipped" and item.reason == "blocked: refund"
    assert order_sn(9) not in decoded(printer) and len(printer.labels) == 19
    assert printing.job_view(job.id).state == "done"
    assert Order.get_by_id(target.id).print_count == 0


def test_already_printed_needs_reprint_with_reason(db20):
    ids = order_ids()[:3]
    job = printing.create_job(ids, printer="lbl", template=SMALL_TEMPLATE)
    with pytest.raises(PrintRefused, match="3 already queued"):
        printing.create_job(ids, printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter() as printer:
        PrintWorker(tspl(printer.uri)).run_pending(job.id)
        with pytest.raises(PrintRefused, match="already printed"):
            printing.create_job(ids, printer="lbl", template=SMALL_TEMPLATE)
        with pytest.raises(PrintRefused, match="needs a reason"):
            printing.create_reprint_job(ids, reason=" ", printer="lbl", template=SMALL_TEMPLATE)
        rj = printing.create_reprint_job(ids[:1], reason="label torn", printer="lbl", template=SMALL_TEMPLATE,
                                         actor="li")
        PrintWorker(tspl(printer.uri)).run_pending(rj.id)
    ev = AuditEvent.get(AuditEvent.action == "reprint")
    assert (ev.actor, ev.reason, ev.order_id) == ("li", "label torn", ids[0])
    item = PrintItem.get(PrintItem.job == rj.id)
    assert item.is_reprint and item.reprint_no == 2 and item.state == "sent"
    fields = LabelRenderer(tspl("")).fields(item.order, item, rj)
    assert fields["reprint_mark"] == "R2"
    assert Order.get_by_id(ids[0]).print_count == 2
    assert decoded(printer) == [order_sn(1), order_sn(2), order_sn(3), order_sn(1)]


def test_skip_excluded_and_blocked_at_request(db20):
    ids = order_ids()
    with write():
        Order.update(exception_flags=int(Flag.HOLD)).where(Order.id == ids[0]).execute()
    with pytest.raises(PrintRefused, match="1 blocked"):
        printing.create_job(ids, printer="lbl", template=SMALL_TEMPLATE)
    job = printing.create_job(ids, printer="lbl", template=SMALL_TEMPLATE, skip_excluded=True)
    assert job.total == 19


def test_paper_out_pauses_in_words_and_resume_finishes(db20):
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter(paper_out=True) as printer:
        PrintWorker(tspl(printer.uri)).run_pending(job.id)
        v = printing.job_view(job.id)
        assert (v.state, v.state_reason, v.counts) == ("paused", "printer 'lbl': paper out", {"queued": 20})
        printer.load_paper()
        printing.resume_job(job.id)
        PrintWorker(tspl(printer.uri)).run_pending(job.id)
    assert printing.job_view(job.id).state == "done" and len(printer.labels) == 20


def test_paper_runs_out_mid_batch(db20):
    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter(paper_out_after=5, speed_mm_s=4000, buffer_labels=1) as printer:
        PrintWorker(tspl(printer.uri)).run_pending(job.id)
        v = printing.job_view(job.id)
        assert v.state == "paused" and v.state_reason == "printer 'lbl': paper out"
        assert v.counts.get("failed", 0) == 0 and v.counts.get("uncertain", 0) == 0
        printer.load_paper()
        printing.resume_job(job.id)
        PrintWorker(tspl(printer.uri)).run_pending(job.id)
    assert decoded(printer) == [order_sn(i) for i in range(1, 21)]


def test_pause_resume_cancel(db20):
    ids = order_ids()
    job = printing.create_job(ids[:10], printer="lbl", template=SMALL_TEMPLATE)
    printing.pause_job(job.id, actor="wang")
    assert printing.job_view(job.id).state_reason == "paused by wang"
    with FakeTsplPrinter() as printer:
        PrintWorker(tspl(printer.uri)).run_pending(job.id)
        assert printer.labels == []
        printing.resume_job(job.id)

        def pause_at_4(ev):
            if ev.kind == "label-sent" and ev.seq == 4:
                printing.pause_job(job.id, actor="wang")

        PrintWorker(tspl(printer.uri), on_event=pause_at_4).run_pending(job.id)
        assert printing.job_view(job.id).counts == {"sent": 4, "queued": 6}
        assert printing.cancel_job(job.id, actor="wang") == 6
        assert printing.job_view(job.id).state == "cancelled"
        assert printing.job_view(job.id).progress() == "4/10"  # what went out, not "10/10"
        with pytest.raises(PrintRefused):
            printing.resume_job(job.id)
    assert len(printer.labels) == 4


def test_second_worker_cannot_take_a_live_lease(db20):
    assert printing.acquire_lease("lbl", "a:1:x") is True  # not this host: trusted until it expires
    assert printing.acquire_lease("lbl", "b:2:y") is False
    assert printing.acquire_lease("lbl", "a:1:x") is True
    printing.release_lease("lbl", "a:1:x")
    assert printing.acquire_lease("lbl", "b:2:y") is True


def test_background_worker_thread_and_preview(db20, tmp_path):
    out = tmp_path / "preview"
    prof = PrinterProfile(name="preview", driver="preview", uri=str(out), width_mm=60, height_mm=40)
    events = []
    worker = PrintWorker(prof, poll_seconds=0.05, on_event=events.append).start()
    try:
        job = printing.create_job(order_ids()[:3], printer="preview", template=SMALL_TEMPLATE)
        worker.wake()
        deadline = time.monotonic() + 10
        while printing.job_view(job.id).state != "done" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()
    assert printing.job_view(job.id).state == "done"
    assert sorted(p.name for p in out.iterdir()) == [
        f"job{job.id:05d}-0001-240601-000000001.png", f"job{job.id:05d}-0002-240601-000000002.png",
        f"job{job.id:05d}-0003-240601-000000003.png", f"job{job.id:05d}.pdf"]
    assert [e.kind for e in events] == ["job-started", "label-sent", "label-sent", "label-sent", "job-finished"]


def test_receivers_decrypted_at_print_time_in_batches(db20):
    ids = order_ids()[:5]
    with write():
        Order.update(receiver_name_enc="~enc~").where(Order.id.in_(ids)).execute()
    calls = []

    def receivers(orders, errors):
        calls.append([o.id for o in orders])
        out = {}
        for o in orders:
            if o.id == ids[3]:
                errors[o.id] = "reauthorize shop 测试店"
            else:
                out[o.id] = {"name": "李四", "phone": "13900000000", "address": "上海市"}
        return out

    job = printing.create_job(ids, printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter() as printer:
        prof = tspl(printer.uri)
        PrintWorker(prof, renderer=LabelRenderer(prof, receivers=receivers)).run_pending(job.id)
    assert calls[0] == ids  # one batch for the whole job
    v = printing.job_view(job.id)
    assert v.state == "paused" and v.counts == {"sent": 3, "failed": 1, "queued": 1}
    assert "reauthorize shop" in printing.job_items(job.id, ["failed"])[0].reason



def test_cancelled_or_shipped_orders_never_print_a_first_label(db20):
    """An order the platform shows cancelled (one that arrived so carries no exception), or one
    shipped without a label of ours (shipped by the platform, a number typed in), is left out
    with the reason, at the request and again when its label is claimed; a shipped order's own
    label may still be reprinted."""
    from dadan.core.printing.plan import plan_print

    ids = order_ids()
    cancelled, by_platform, typed, mine, late = ids[:5]
    with write():
        Order.update(order_status=0).where(Order.id == cancelled).execute()
        Order.update(order_status=2, state="confirmed").where(Order.id == by_platform).execute()
        Order.update(state="shipped").where(Order.id == typed).execute()
        Order.update(state="shipped", print_count=1).where(Order.id == mine).execute()
    plan = plan_print([cancelled, by_platform, typed, late])
    assert dict((o.id, why) for o, why in plan.blocked) == {
        cancelled: "cancelled on the platform", by_platform: "already shipped", typed: "already shipped"}
    assert [o.id for o in plan.ready] == [late]
    assert [o.id for o in plan_print([mine], reprint=True).ready] == [mine]
    assert [o.id for o in plan_print([cancelled], reprint=True).ready] == []
    job = printing.create_job([late], printer="lbl", template=SMALL_TEMPLATE)
    with write():  # shipped with a typed number after it was queued
        Order.update(state="shipped").where(Order.id == late).execute()
    with FakeTsplPrinter() as printer:
        PrintWorker(tspl(printer.uri)).run_pending(job.id)
    assert printer.labels == [] and states(job.id) == ["skipped"]
    assert printing.job_items(job.id)[0].reason == "already shipped"
    reprint = printing.create_reprint_job([mine], reason="torn", printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter() as printer:
        PrintWorker(tspl(printer.uri)).run_pending(reprint.id)
    assert decoded(printer) == [Order.get_by_id(mine).order_sn]
