"""Scan first, print after at the F8 screen (``packing.on_packed = "print"``), on a real SQLite
file at scanner speed: a burst of the packing slip and its items packs the order once, queues
its label in one print job on the default printer, wakes the printer's worker (the preview
printer draws it) and says "label queued in job #N"; a label the queue refuses is a loud alarm
and nothing is packed; the words fit 80x24 in both languages."""

from __future__ import annotations

import pytest

from dadan.core.db import write
from dadan.core.models import Order, PrintItem, PrintJob
from dadan.core.packing.models import PackRecord
from tests.desk_helpers import anyio_backend, make_ctx, numbered, wait_idle  # noqa: F401
from tests.pack_helpers import BARCODES, bench, dump
from tests.test_tui_goods import scanner
from tests.test_tui_pack import _pack_app, banner, drained

pytestmark = pytest.mark.anyio


def _print_after(tmp_path, lang="en", *, typed=True):
    ctx = make_ctx(tmp_path, 0, lang=lang)
    ctx.settings.packing.on_packed = "print"
    pb = bench()
    c = Order.get(Order.order_sn == "261120-C")  # B07 ×2, A12 ×1, no parcel
    if typed:  # its number typed and its receiver in plain text: the preview prints it alone
        numbered([c.id])
        with write():
            Order.update(receiver_name_enc="", receiver_phone_enc="", receiver_address_enc="", receiver_name="张三",
                         receiver_phone="13800000000", receiver_address="文一路 1 号").where(Order.id == c.id).execute()
    return ctx, pb, c


async def test_a_burst_of_the_slip_and_its_items_packs_and_prints_the_label(tmp_path):
    ctx, _pb, c = _print_after(tmp_path)
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        for code in ("261120-C", BARCODES["B07"], BARCODES["A12"], BARCODES["B07"]):  # all at once
            scanner(app, code)
        await drained(pilot)
        assert [o.kind for o in s.outcomes] == ["started", "counted", "counted", "packed"] and not app.bells
        job_id = s.outcomes[-1].job
        assert [(j.id, j.printer, j.template) for j in PrintJob.select()] == [(job_id, "preview", "waybill_100x150")]
        assert [it.order_id for it in PrintItem.select()] == [c.id]
        r = PackRecord.get()
        assert PackRecord.select().count() == 1 and (r.order_id, r.print_job, r.actor) == (c.id, job_id, "tester")
        assert f"label queued in job #{job_id}" in banner(app) and s.query_one("#pack-banner").has_class("-ok")
        assert f"label queued in job #{job_id}" in str(s.query_one("#pack-missing").render())
        assert f"label in job #{job_id}" in str(s.query_one("#pack-parcel").render())
        preview = ctx.paths.config_dir / "preview"
        for _ in range(200):  # the woken preview printer's worker prints it
            if PrintJob.get_by_id(job_id).state == "done":
                break
            await pilot.pause(0.05)
        assert PrintJob.get_by_id(job_id).state == "done" and list(preview.glob(f"job{job_id:05d}-*.png"))
        scanner(app, "261120-C")  # the same slip again
        await drained(pilot)
        assert s.outcomes[-1].kind == "already_packed" and app.bells == [1] and PackRecord.select().count() == 1


async def test_a_refused_label_is_an_alarm_and_nothing_is_packed(tmp_path):
    ctx, _pb, _c = _print_after(tmp_path, typed=False)  # no number, no courier account
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        s = app.screen
        before = dump()
        for code in ("261120-C", f"2*{BARCODES['B07']}", BARCODES["A12"]):
            scanner(app, code)
        await drained(pilot)
        assert [o.kind for o in s.outcomes] == ["started", "counted", "not_printed"] and app.bells == [1]
        assert "courier account" in banner(app) and s.query_one("#pack-banner").has_class("-warn")
        assert dump() == before and PrintJob.select().count() == 0 and s.check is not None


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_unnumbered_parcel_reads_whole_at_80x24(tmp_path, lang):
    from tests.test_tui_80x24 import has_token, screen_lines

    ctx, _pb, _c = _print_after(tmp_path, lang)
    app = _pack_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_idle(pilot)
        scanner(app, "261120-C")
        scanner(app, BARCODES["B07"])
        await drained(pilot)
        text = "\n".join(screen_lines(app))
        words = ("label prints on the last scan", "no number yet") if lang == "en" else ("最后一件扫完即打印面单", "尚无单号")
        for token in ("261120-C", "B07", "A12", "1/2", "0/1", *words):
            assert has_token(text, token), (token, text)
