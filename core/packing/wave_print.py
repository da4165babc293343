"""Waves on paper (波次): a waybill print job is a wave (its number is the job's id, each label's
place in it the item's ``seq``: ``W123 · 7/40`` on every label and slip), and the wave's pick
list prints on the 80 mm printer as a job of its own.

A pick-list job is a :class:`~dadan.core.models.PrintJob` of kind ``picklist`` with ONE
:class:`~dadan.core.models.PrintItem` (no order) whose ``wave_job`` names the waybill job. The
print worker renders it with :func:`pick_list_fields`: the wave's parcels (each item of the
wave job in ``seq`` order; a parcel's orders are its waybill's ``WaybillOrder`` rows, else the
item's order) planned by :func:`dadan.core.packing.waves.plan_parcels`, one row per (bin, SKU)
in walk order. Labels left out of the wave (cancelled, skipped) are left out of its pick list.

:func:`queue_pick_list_for` is what the print dialog and ``dadan print`` call once a waybill job
is queued: with ``[packing] pick_list_printer`` set it queues the pick list there, right after
the labels' job is created and before any label prints (the 80 mm printer is another printer,
so the pick list comes out while the labels are being taken and printed; ``dadan print`` prints
it first in the foreground).
"""

from __future__ import annotations

from dadan.core.db import write
from dadan.core.i18n import tr
from dadan.core.models import PrintItem, PrintJob, WaybillOrder
from dadan.core.printing.plan import PrintRefused

PICK_TEMPLATE = "picklist_80"
_OUT_OF_WAVE = ("cancelled", "skipped")


def wave_parcels(job_id: int) -> list[list[int]]:
    """The wave job's parcels in ``seq`` order, each a list of order ids."""
    items = list(PrintItem.select(PrintItem.id, PrintItem.order, PrintItem.waybill)
                 .where((PrintItem.job == job_id) & PrintItem.state.not_in(_OUT_OF_WAVE))
                 .order_by(PrintItem.seq))
    waybill_ids = [it.waybill_id for it in items if it.waybill_id]
    held: dict[int, list[int]] = {}
    for start in range(0, len(waybill_ids), 900):
        for wb, oid in (WaybillOrder.select(WaybillOrder.waybill, WaybillOrder.order)
                        .where(WaybillOrder.waybill.in_(waybill_ids[start:start + 900])).tuples()):
            held.setdefault(wb, []).append(oid)
    parcels = []
    for it in items:
        orders = held.get(it.waybill_id) if it.waybill_id else None
        if not orders and it.order_id:
            orders = [it.order_id]
        if orders:
            parcels.append(sorted(orders, key=lambda o: (o != it.order_id, o)))  # the item's order first
    return parcels


def pick_list_fields(job: PrintJob, settings=None) -> dict:
    """The picklist template's fields for a pick-list job (its wave's pick list)."""
    from dadan.core.packing.waves import plan_parcels
    from dadan.core.printing.labels import wave_pick_fields

    wave = plan_parcels(wave_parcels(job.wave_job_id))
    return wave_pick_fields(wave, job.wave_job_id, tz=settings.timezone if settings is not None else "Asia/Shanghai")


def queue_pick_list(job_id: int, *, printer: str, template: str = PICK_TEMPLATE, actor: str = "") -> PrintJob:
    """Queue the pick list of waybill job ``job_id`` on ``printer``: one job, one label."""
    from dadan.core.printing.queue import create_sheet_job

    with write():
        wave = PrintJob.get_or_none(PrintJob.id == job_id)
        if wave is None:
            raise PrintRefused(tr("no print job #{j}", "没有打印任务 #{j}", j=job_id))
        return create_sheet_job("picklist", printer=printer, template=template, actor=actor, wave_job=wave.id)


def check_pick_list_printer(settings) -> str:
    """The configured pick list printer's name ("" = none); an unknown name is a ConfigError."""
    from dadan.core.config import packing_printer

    return packing_printer(settings, "pick_list_printer")


def queue_pick_list_for(job: PrintJob, settings, actor: str = "") -> PrintJob | None:
    """After a waybill job is queued: its pick list on ``[packing] pick_list_printer`` (None
    when that is "", or when the job is not a first print of waybills)."""
    from dadan.printers.template_choice import prints_waybills

    name = check_pick_list_printer(settings)
    if not name or job.kind != "label" or not prints_waybills(job.template):
        return None
    return queue_pick_list(job.id, printer=name, actor=actor)


def queued_text(pick: PrintJob) -> str:
    return tr("pick list queued on {p} (job #{j})", "拣货单已加入 {p}（任务 #{j}）", p=pick.printer, j=pick.id)
