"""Waves on paper (#18 point 3): the wave mark (``W<job> · <seq>/<total>``) on every waybill and
packing slip, in the platform's custom area too; a wave's pick list as a print job of its own
(one label, rows in walk order with bin, total quantity and parcel count, a merged parcel
counted once), rendered by the real print worker on the preview printer; ``dadan print`` with
``[packing] pick_list_printer`` queueing and printing the pick list first; an unknown pick list
printer refused in one line with nothing queued. All on a real SQLite file."""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from pathlib import Path

import pytest

from dadan.core.config import PackingSettings, Paths, PrinterSettings, Settings, parse_settings
from dadan.core.context import load_context
from dadan.core.db import close_database, open_database, write
from dadan.core.errors import ConfigError
from dadan.core.goods import catalogue
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.models import Order, PrintItem, PrintJob, Shop, Waybill, WaybillOrder, utcnow
from dadan.core.orders.upsert import upsert_orders
from dadan.core.packing import wave_print
from dadan.core.packing.waves import no_bin_label
from dadan.core.printing import queue as printing
from dadan.core.printing.worker import LabelRenderer, PrintWorker
from dadan.core.waybills.cloudprint import custom_lines
from dadan.printers.profile import PrinterProfile

T0 = dt.datetime(2026, 11, 20, 8, 0)
BINS = {"K1": "B-02-1", "K2": "A-10-1", "K3": "A-3-2", "K4": "C-1-1", "K5": ""}  # K6: not catalogued
# order -> lines (code, qty): single-SKU and multi-SKU parcels, a SKU without a bin, one not catalogued
ORDERS = {
    "o1": [("K1", 2)], "o2": [("K2", 1), ("K1", 1)], "o3": [("K3", 3)], "o4": [("K4", 1), ("K5", 2)],
    "o5": [("K1", 1)], "o6": [("K6", 4), ("K3", 1)], "o7": [("K2", 2)], "o8": [("K3", 1), ("k4", 1)],
}


def _rec(sn: str, lines) -> dict:
    return {"order_sn": sn, "order_status": 1, "refund_status": 1, "after_sales_status": 0,
            "risk_control_status": 0, "is_stock_out": 0, "updated_at": T0, "pay_time": T0,
            "last_ship_time": T0 + dt.timedelta(hours=24), "province": "浙江省",
            "items": [{"goods_id": "9", "goods_name": f"品{c}", "goods_spec": "规格", "goods_count": q,
                       "outer_id": c, "sku_id": "88"} for c, q in lines]}


def sn(key: str) -> str:
    return f"261120-0000000{key[1:]}"


def make_world(db_path: Path) -> dict[str, int]:
    open_database(f"sqlite:///{db_path}")
    shop = Shop.create(name="波次店")
    catalogue.save([GoodsRecord(code=c, name=f"商品{c}", spec="规格", bin=b, on_hand=100) for c, b in BINS.items()],
                   actor="t")
    upsert_orders(shop.id, [_rec(sn(k), v) for k, v in ORDERS.items()])
    with write():  # numbers imported with the orders: printed as they are
        for o in Order.select():
            Order.update(tracking_number=f"YT{o.id:010d}").where(Order.id == o.id).execute()
    return {k: Order.get(Order.order_sn == sn(k)).id for k in ORDERS}


@pytest.fixture
def world(tmp_path):
    ids = make_world(tmp_path / "w.db")
    yield ids
    close_database()


def expected_rows(parcels: list[list[str]]) -> list[tuple]:
    """Independent of core.packing.waves: per SKU (case-folded), its bin, total quantity and the
    number of parcels holding it; sorted by the bin's (letter, number, number), no bin last."""
    qty: dict[str, int] = {}
    held: dict[str, set[int]] = {}
    for n, parcel in enumerate(parcels):
        for key in parcel:
            for code, q in ORDERS[key]:
                k = code.upper()
                qty[k] = qty.get(k, 0) + q
                held.setdefault(k, set()).add(n)

    def place(k: str):
        b = BINS.get(k, "")
        if not b:
            return (1, "", 0, 0, k)
        a, x, y = b.split("-")
        return (0, a, int(x), int(y), k)

    return [(BINS.get(k, "") or no_bin_label(), k, qty[k], len(held[k])) for k in sorted(qty, key=place)]


def preview(out: Path, name: str = "p80") -> PrinterProfile:
    return PrinterProfile(name=name, driver="preview", uri=str(out), width_mm=80, height_mm=150)


# ------------------------------------------------------------------ the wave mark
def test_every_waybill_and_packing_slip_carries_the_wave_and_its_place(world, tmp_path):
    order = list(world.values())
    for template in ("waybill_100x150", "packing_80"):
        job = printing.create_job(order[:5], printer="lbl", template=template) if template != "packing_80" else \
            printing.create_job(order[5:], printer="lbl", template=template)
        renderer = LabelRenderer(preview(tmp_path))
        for item in printing.job_items(job.id):
            fields = renderer.fields(item.order, item, job)
            assert fields["wave_label"] == f"W{job.id} · {item.seq}/{job.total}"
            renderer.render(template, fields)  # it fits the template
    assert custom_lines(None, seq=7, total=40, wave=123)[0] == "W123 · 7/40"
    assert custom_lines(None, seq=7, total=40)[0] == "7/40"


def test_the_printed_labels_show_the_mark(world, tmp_path):
    """The real worker renders the waybill job through the preview printer: one PNG per label."""
    out = tmp_path / "prev"
    job = printing.create_job(list(world.values())[:3], printer="lbl", template="waybill_76x130")
    PrintWorker(PrinterProfile(name="lbl", driver="preview", uri=str(out), width_mm=76, height_mm=130)
                ).run_pending(job.id)
    assert printing.job_view(job.id).sent == 3
    assert len(list(out.glob(f"job{job.id:05d}-*.png"))) == 3


# ------------------------------------------------------------------ the pick list
def test_pick_list_job_lists_every_sku_once_in_walk_order_and_prints(world, tmp_path):
    keys = list(ORDERS)
    job = printing.create_job([world[k] for k in keys], printer="lbl", template="waybill_100x150")
    pick = wave_print.queue_pick_list(job.id, printer="p80", actor="t")
    assert (pick.kind, pick.total, pick.wave_job_id, pick.printer) == ("picklist", 1, job.id, "p80")
    [item] = printing.job_items(pick.id)
    assert item.order_id is None and item.seq == 1

    fields = LabelRenderer(preview(tmp_path)).fields(None, item, PrintJob.get_by_id(pick.id))
    rows = [(r["bin"], r["sku"], r["qty"], r["parcels"]) for r in fields["items"]]
    assert rows == expected_rows([[k] for k in keys])
    assert len({r[1] for r in rows}) == len(rows)  # every SKU once
    assert fields["wave_label"] == f"W{job.id}" and fields["parcel_count"] == len(keys)
    assert fields["total_qty"] == sum(q for v in ORDERS.values() for _c, q in v)

    out = tmp_path / "prev"
    PrintWorker(preview(out), settings=Settings()).run_pending(pick.id)
    assert printing.job_view(pick.id).state == "done"
    [png] = out.glob(f"job{pick.id:05d}-*.png")
    assert png.stat().st_size > 0
    assert printing.job_view(job.id).state == "queued"  # the labels are untouched


def test_a_merged_parcel_counts_once_and_cancelled_labels_leave_the_list(world, tmp_path):
    """One item per parcel (the merged shape): a waybill holding o1 and o5 (both K1) is one parcel
    of K1; a cancelled label's parcel is not picked."""
    with write():
        shop = Shop.get()
        job = PrintJob.create(printer="lbl", template="waybill_100x150", kind="label", state="queued", total=3,
                              created_at=utcnow())
        wb = Waybill.create(shop=shop.id, wp_code="ZTO", object_id=uuid.uuid4().hex, package_id="p1",
                            code="ZT0001", state="live")
        for k in ("o1", "o5"):
            WaybillOrder.create(waybill=wb.id, order=world[k])
        PrintItem.create(job=job.id, seq=1, order=world["o1"], waybill=wb.id, state="queued")
        PrintItem.create(job=job.id, seq=2, order=world["o2"], state="queued")
        PrintItem.create(job=job.id, seq=3, order=world["o3"], state="cancelled")
    assert wave_print.wave_parcels(job.id) == [[world["o1"], world["o5"]], [world["o2"]]]
    pick = wave_print.queue_pick_list(job.id, printer="p80")
    fields = wave_print.pick_list_fields(PrintJob.get_by_id(pick.id))
    rows = [(r["bin"], r["sku"], r["qty"], r["parcels"]) for r in fields["items"]]
    assert rows == expected_rows([["o1", "o5"], ["o2"]])
    assert ("B-02-1", "K1", 4, 2) in rows  # 2 + 1 + 1 pieces in 2 parcels, not 3
    assert fields["order_count"] == 3 and fields["parcel_count"] == 2


# ------------------------------------------------------------------ who calls it
def test_queue_pick_list_for_follows_the_setting(world):
    job = printing.create_job([world["o1"]], printer="lbl", template="waybill_100x150")
    printers = [PrinterSettings(name="lbl"), PrinterSettings(name="p80", width_mm=80)]
    assert wave_print.queue_pick_list_for(job, Settings(printers=printers)) is None  # "": none
    pick = wave_print.queue_pick_list_for(job, Settings(printers=printers,
                                                        packing=PackingSettings(pick_list_printer="p80")), "ann")
    assert pick is not None and pick.wave_job_id == job.id and pick.requested_by == "ann"
    assert wave_print.queued_text(pick).endswith(f"p80 (job #{pick.id})")
    before = PrintJob.select().count()
    with pytest.raises(ConfigError, match="no printer named 'nope'"):
        wave_print.queue_pick_list_for(job, Settings(printers=printers,
                                                     packing=PackingSettings(pick_list_printer="nope")))
    assert PrintJob.select().count() == before
    packing = printing.create_job([world["o2"]], printer="lbl", template="packing_80")
    assert wave_print.queue_pick_list_for(packing, Settings(printers=printers, packing=PackingSettings(
        pick_list_printer="p80"))) is None  # a wave is a waybill job


def test_settings_refuse_an_unknown_pick_list_printer():
    text = "[[printers]]\nname='lbl'\n[[printers]]\nname='p80'\n[packing]\npick_list_printer = '{}'\n"
    assert parse_settings(text.format("p80")).packing.pick_list_printer == "p80"
    with pytest.raises(ConfigError) as exc:
        parse_settings(text.format("p58"))
    msg = exc.value.message
    assert "\n" not in msg and "packing.pick_list_printer" in msg and "'p58'" in msg and "lbl, p80" in msg


CONFIG = """\
default_printer = "lbl"
[[printers]]
name = "lbl"
driver = "preview"
uri = "{out}"
width_mm = 100
height_mm = 150
template = "waybill_100x150"
[[printers]]
name = "p80"
driver = "preview"
uri = "{out}"
width_mm = 80
template = "picklist_80"
[packing]
pick_list_printer = "{pick}"
"""


def _cli(tmp_path, pick: str):
    from dadan.tui.commands import print as cmd

    paths = Paths(config_dir=tmp_path, data_dir=tmp_path)
    make_world(paths.ensure().database_file)
    close_database()
    (tmp_path / "config.toml").write_text(CONFIG.format(out=tmp_path / "prev", pick="p80"), encoding="utf-8")
    ctx = load_context(paths)
    ctx.settings.packing.pick_list_printer = pick
    parser = argparse.ArgumentParser()
    cmd.register(parser.add_subparsers(dest="command"))
    return ctx, lambda *argv: (lambda a: a.func(a, ctx))(parser.parse_args(list(argv)))


def test_dadan_print_queues_and_prints_the_pick_list_first(tmp_path, capsys):
    ctx, run = _cli(tmp_path, "p80")
    try:
        assert run("print", *(sn(k) for k in ORDERS), "--yes") == 0
        err = capsys.readouterr().err
        jobs = list(PrintJob.select().order_by(PrintJob.id))
        assert [(j.kind, j.printer, j.state) for j in jobs] == [("label", "lbl", "done"), ("picklist", "p80", "done")]
        labels, pick = jobs
        assert pick.wave_job_id == labels.id
        assert f"pick list queued on p80 (job #{pick.id})" in err
        pngs = sorted(ctx.paths.preview_dir.glob("job*.png"), key=lambda p: p.stat().st_mtime_ns)
        assert pngs[0].name.startswith(f"job{pick.id:05d}-")  # printed before any label
        assert len(pngs) == 1 + len(ORDERS)
    finally:
        close_database()


def test_dadan_print_with_an_unknown_pick_list_printer_queues_nothing(tmp_path, capsys):
    ctx, run = _cli(tmp_path, "p58")
    try:
        with pytest.raises(ConfigError, match="no printer named 'p58'"):
            run("print", sn("o1"), "--yes")
        ctx.open_db()
        assert PrintJob.select().count() == 0
    finally:
        close_database()
