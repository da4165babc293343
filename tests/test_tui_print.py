"""Print flow: filter -> select -> print dialog -> one key -> progress line -> done."""

import asyncio

import pytest

from dadan.core.models import AuditEvent, Order, PrintJob
from dadan.core.orders.selection import Selection
from dadan.tui.screens.print_dialog import PrintDialog
from tests.desk_helpers import anyio_backend, harness, make_ctx, numbered, wait_idle  # noqa: F401

pytestmark = pytest.mark.anyio


async def _wait_job_done(pilot, job_id, timeout=30.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        await pilot.pause(0.2)
        if PrintJob.get_by_id(job_id).state in ("done", "paused", "cancelled"):
            return PrintJob.get_by_id(job_id)
    raise AssertionError("print job did not finish")


async def test_filter_select_print_progress_done(tmp_path):
    ctx = make_ctx(tmp_path, 120)
    query = "status:pending province:浙江"
    sel = Selection()
    sel.select_all_matching(query)
    ids = sel.order_ids()
    printable = [o.id for o in Order.select().where(Order.id.in_(ids), Order.print_count == 0,
                                                    Order.exception_flags == 0).order_by(Order.id)]
    numbered(printable[::2])  # a waybill needs a number: the others have none and no courier account
    want = Order.select().where(Order.id.in_(ids), Order.print_count == 0, Order.exception_flags == 0,
                                Order.tracking_number != "").count()
    without = Order.select().where(Order.id.in_(ids), Order.print_count == 0, Order.exception_flags == 0,
                                   Order.tracking_number == "").count()
    assert 0 < want < len(ids) + 1 and without > 0
    app = harness(ctx)
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        assert not app.query_one("#progress").display  # nothing printing: no row taken
        app.push_screen(PrintDialog(selection=sel), results.append)
        await wait_idle(pilot)
        body = str(app.screen.query_one("#pd-body").content)
        assert f"Will print: {want}" in body
        assert f"Without a number (skipped): {without} — no number and no courier account" in body
        await pilot.press("enter")
        await wait_idle(pilot)
        assert results and results[0]
        job = await _wait_job_done(pilot, results[0])
        assert job.state == "done", job.state_reason
        await pilot.pause(0.7)
        line = str(app.query_one("#progress").content)
        assert f"Job #{job.id} done {want}/{want}" in line
        assert app.query_one("#progress").display  # recently finished: still shown
    assert Order.select().where(Order.id.in_(ids), Order.print_count == 0, Order.exception_flags == 0,
                                Order.tracking_number != "").count() == 0
    # never a label without a number
    assert Order.select().where(Order.id.in_(ids), Order.print_count == 0, Order.exception_flags == 0,
                                Order.tracking_number == "").count() == without


async def test_select_all_reads_relative_filters_on_the_desks_clock(tmp_path):
    from dadan.core.orders.listing import count
    from dadan.core.orders.query import compile_query
    from tests.desk_helpers import NOW

    ctx = make_ctx(tmp_path, 120)
    query = "paid<12h"  # relative to the desk's clock (NOW), not the machine's
    want = count(compile_query(query, now=NOW, tz=ctx.settings.timezone))
    assert want > 0 and count(compile_query(query, tz=ctx.settings.timezone)) != want
    sel = Selection()
    sel.select_all_matching(query)
    app = harness(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(PrintDialog(selection=sel))
        await wait_idle(pilot)
        assert len(app.screen.order_ids) == want


async def test_reprint_with_reason(tmp_path):
    ctx = make_ctx(tmp_path, 80)
    printed = [o.id for o in Order.select().where(Order.print_count > 0, Order.exception_flags == 0,
                                                  Order.tracking_number != "").limit(2)]
    app = harness(ctx)
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(PrintDialog(printed), results.append)
        await wait_idle(pilot)
        await pilot.press("enter")  # nothing new to print: a bell, the dialog stays
        await wait_idle(pilot)
        assert not results
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")  # empty reason refused
        await pilot.pause()
        assert not results
        await pilot.press(*"jam", "enter")
        await wait_idle(pilot)
        assert results and results[0]
        job = await _wait_job_done(pilot, results[0])
        assert job.kind == "reprint" and job.reprint_reason == "jam" and job.state == "done"
    ev = AuditEvent.select().where(AuditEvent.action == "reprint")
    assert ev.count() == 2 and {e.reason for e in ev} == {"jam"}
    assert all(Order.get_by_id(i).print_count == 2 for i in printed)


async def test_progress_line_hidden_when_idle_and_for_old_jobs(tmp_path):
    """At 80x24 the progress line costs a row only while there is something to show."""
    import datetime as dt

    from dadan.core.db import write
    from dadan.core.printing import queue as printing
    from dadan.core.timeutil import utcnow

    ctx = make_ctx(tmp_path, 20)
    ids = numbered([o.id for o in Order.select().where(Order.exception_flags == 0, Order.order_status == 1).limit(2)])
    app = harness(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        line = app.query_one("#progress")
        assert not line.display and line.region.height == 0
        job = printing.create_job(ids, printer="preview", template="waybill_100x150", actor="tester")
        line.poll()  # a job queued (here or by another terminal): the line appears
        await wait_idle(pilot)
        assert line.display and line.region.height == 1 and f"Job #{job.id}" in str(line.content)
        with write():  # finished long ago: the line goes away again
            PrintJob.update(state="done", finished_at=utcnow() - dt.timedelta(minutes=30)).where(
                PrintJob.id == job.id).execute()
        line.poll()
        await wait_idle(pilot)
        assert not line.display


def test_switchable_templates_follow_the_templates_own_kind(tmp_path):
    from dadan.printers.errors import TemplateError
    from dadan.printers.layout import TEMPLATES_DIR
    from dadan.printers.template_choice import prints_waybills, switchable_templates, template_names

    waybills = ["waybill_100x150", "waybill_76x130"]
    assert template_names("waybill") == waybills
    assert template_names("sku") == ["sku_40x30", "sku_60x40"]
    assert switchable_templates("waybill_76x130") == waybills
    not_labels = ["packing_80", *waybills]  # a pick list, a SKU label, a handover list: no order's label
    assert switchable_templates("sku_40x30") == not_labels
    # the kind is read from the template, not its name
    custom = tmp_path / "my_label.toml"
    custom.write_text((TEMPLATES_DIR / "waybill_76x130.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert switchable_templates(str(custom)) == waybills
    named_like_one = tmp_path / "waybill_but_sku.toml"
    named_like_one.write_text((TEMPLATES_DIR / "sku_40x30.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert switchable_templates(str(named_like_one)) == not_labels
    assert switchable_templates("no_such_template") == not_labels
    for other in ("picklist_80", "sku_40x30", "handover_80"):  # an order printed with one: refused, nothing queued
        with pytest.raises(TemplateError, match="orders print with a waybill or packing slip template"):
            prints_waybills(other)


async def test_template_key_cycles_the_waybills(tmp_path):
    ctx = make_ctx(tmp_path, 5)
    app = harness(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(PrintDialog([Order.select().first().id]))
        await wait_idle(pilot)
        scr = app.screen
        first = scr.template
        assert first.startswith("waybill")
        seen = []
        for _ in range(3):
            await pilot.press("t")
            seen.append(scr.template)
        assert set(seen) == {"waybill_100x150", "waybill_76x130"} and seen[1] == first
        assert "Template: " + seen[-1] in str(scr.query_one("#pd-body").content)


async def test_status_line_and_progress_line_show_the_same_job_and_numbers(tmp_path):
    """Two open jobs, the older one part sent, part skipped, one failed: both displays name the
    older job (the current one) and the same done/total (core.printing.progress); a job no printer is
    working on reads "waiting", not "printing"."""
    from dadan.core.db import write
    from dadan.core.models import PrintItem
    from dadan.core.printing import queue as printing
    from dadan.tui.app import DadanApp
    from tests.desk_helpers import NOW

    ctx = make_ctx(tmp_path, 40)
    ids = [o.id for o in Order.select().where(Order.exception_flags == 0, Order.order_status == 1,
                                              Order.print_count == 0).order_by(Order.id).limit(9)]
    numbered(ids)
    older = printing.create_job(ids[:5], printer="preview", template="waybill_100x150", actor="tester")
    newer = printing.create_job(ids[5:], printer="preview", template="waybill_100x150", actor="tester")
    items = list(PrintItem.select().where(PrintItem.job == older.id).order_by(PrintItem.seq))
    with write():
        for item, state in zip(items, ["sent", "skipped", "failed"]):
            PrintItem.update(state=state).where(PrintItem.id == item.id).execute()
    app = DadanApp(ctx, now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_idle(pilot, 5)
        status = str(app.screen.query_one("#status-line").render())
        progress = str(app.screen.query_one("#print-progress").content)
        assert "waiting 2/5" in status
        assert progress.startswith(f"Job #{older.id} ") and " 2/5 " in progress, progress
        assert f"#{newer.id}" not in progress
        with write():  # two more labels out: both lines say so together, long before the status line's own read
            PrintItem.update(state="sent").where(PrintItem.id.in_([items[2].id, items[3].id])).execute()
        for _ in range(30):
            await pilot.pause(0.1)
            if " 4/5 " in str(app.screen.query_one("#print-progress").content):
                break
        await pilot.pause(0.1)
        assert " 4/5 " in str(app.screen.query_one("#print-progress").content)
        assert "waiting 4/5" in str(app.screen.query_one("#status-line").render())



async def test_the_print_dialog_queues_the_waves_pick_list_on_the_80mm_printer(tmp_path):
    """With ``[packing] pick_list_printer`` set, one key queues the labels and the wave's pick list
    on the 80 mm printer (both printed by the app's print pool) and says so."""
    from dadan.core.config import PrinterSettings

    ctx = make_ctx(tmp_path, 20)
    ctx.settings.printers.append(PrinterSettings(name="p80", driver="preview", uri=str(tmp_path / "p80"),
                                                 width_mm=80, template="picklist_80"))
    ctx.settings.packing.pick_list_printer = "p80"
    ids = numbered([o.id for o in Order.select().where(Order.print_count == 0, Order.exception_flags == 0)
                    .order_by(Order.id).limit(3)])
    app = harness(ctx)
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(PrintDialog(ids), results.append)
        await wait_idle(pilot)
        await pilot.press("enter")
        await wait_idle(pilot)
        job = await _wait_job_done(pilot, results[0])
        assert job.state == "done", job.state_reason
        pick = PrintJob.get(PrintJob.wave_job == job.id)
        assert (pick.kind, pick.printer) == ("picklist", "p80")
        assert (await _wait_job_done(pilot, pick.id)).state == "done"
        said = [str(n.message) for n in app._notifications]
        assert any(f"pick list queued on p80 (job #{pick.id})" in s for s in said), said
    assert list((tmp_path / "p80").glob(f"job{pick.id:05d}-*.png"))


async def test_a_view_too_big_for_one_print_job_is_refused_in_one_line(tmp_path, monkeypatch):
    """``p`` on a whole view of more orders than one print job takes: the dialog says so (how
    many, the most a job takes, what to do) without reading the orders' ids, and Enter queues
    nothing; ticked orders within the limit still plan."""
    from dadan.core.printing import plan as print_plan

    ctx = make_ctx(tmp_path, 120)
    monkeypatch.setattr(print_plan, "MAX_JOB_ORDERS", 20)
    sel = Selection()
    sel.select_all_matching("status:pending")
    n = sel.count()
    assert n > 20
    app = harness(ctx)
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        app.push_screen(PrintDialog(selection=sel), results.append)
        await wait_idle(pilot)
        body = str(app.screen.query_one("#pd-body").content)
        assert f"{n:,} orders: one print job takes at most 20; narrow the filter" in body, body
        assert app.screen.order_ids == []  # (refused on the count: no id read)
        await pilot.press("enter")
        await wait_idle(pilot)
        assert not results and isinstance(app.screen, PrintDialog)
        await pilot.press("escape")
        await wait_idle(pilot)
        few = [o.id for o in Order.select().where(Order.print_count == 0).limit(5)]
        app.push_screen(PrintDialog(few))
        await wait_idle(pilot)
        assert "Selected: 5" in str(app.screen.query_one("#pd-body").content)
    assert PrintJob.select().count() == 0
