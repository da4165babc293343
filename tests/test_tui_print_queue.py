"""Print queue: pause/resume/cancel, decide an uncertain label, reprint with a reason."""

import pytest

from dadan.core.models import AuditEvent, Order, PrintItem, PrintJob
from dadan.core.printing import queue as printing
from dadan.tui.screens.print_queue import PrintQueueScreen
from tests.desk_helpers import anyio_backend, harness, make_ctx, numbered, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


def _fresh(n):
    return numbered([o.id for o in Order.select().where(Order.print_count == 0, Order.exception_flags == 0,
                                                        Order.order_status == 1).order_by(Order.id).limit(n)])


async def test_queue_pause_cancel_and_resolve_uncertain(tmp_path):
    ctx = make_ctx(tmp_path, 80)
    ids = _fresh(3)
    job = printing.create_job(ids, printer="preview", template="waybill_100x150", actor="t")
    # simulate a crash mid-send on the first label
    printing.start_job(job.id)
    claim = printing.claim_next(job.id)
    printing.mark_failed(claim.item.id, "printer went silent", uncertain=True)
    app = harness(ctx, lambda: PrintQueueScreen(job.id))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scr = app.screen
        assert scr.job_id == job.id and [i.state for i in scr.items][0] == "uncertain"
        await pilot.press("g")  # resume refused while a label is uncertain: error shown, job stays paused
        await wait_idle(pilot)
        assert PrintJob.get_by_id(job.id).state == "paused"
        await pilot.press("tab", "x")  # it did not print: queued again
        await wait_idle(pilot)
        assert PrintItem.get_by_id(claim.item.id).state == "queued"
        await pilot.press("c")
        await wait_idle(pilot)
        assert PrintJob.get_by_id(job.id).state == "cancelled"
        assert AuditEvent.select().where(AuditEvent.action == "print-resolve").count() == 1


async def test_reprint_from_queue_with_reason(tmp_path):
    ctx = make_ctx(tmp_path, 80)
    ids = _fresh(1)
    job = printing.create_job(ids, printer="preview", template="waybill_100x150", actor="t")
    app = harness(ctx, lambda: PrintQueueScreen(job.id))
    async with app.run_test(size=(120, 40)) as pilot:
        app.print_pool.wake()
        for _ in range(40):
            await pilot.pause(0.1)
            if PrintJob.get_by_id(job.id).state == "done":
                break
        assert PrintJob.get_by_id(job.id).state == "done"
        await wait_idle(pilot)
        await pilot.press("tab", "r")
        await pilot.pause()
        await pilot.press(*"smudged", "enter")
        await wait_idle(pilot)
        for _ in range(40):
            await pilot.pause(0.1)
            if Order.get_by_id(ids[0]).print_count == 2:
                break
    assert Order.get_by_id(ids[0]).print_count == 2
    ev = AuditEvent.get(AuditEvent.action == "reprint")
    assert ev.reason == "smudged" and ev.order_id == ids[0]
