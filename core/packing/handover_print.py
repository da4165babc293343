"""The handover list on paper (交接单): closing a courier's handover prints its list — courier,
time, count, every waybill number with its orders, a line for the courier's signature — on
``[packing] handover_printer`` (an 80 mm printer; "" prints nothing, the file is written anyway).

A handover-list job is a :class:`~dadan.core.models.PrintJob` of kind ``handover`` with ONE
:class:`~dadan.core.models.PrintItem` (no order) whose job names the handover
(``handover_id``); the print worker renders it with :func:`handover_list_fields`.
"""

from __future__ import annotations

from dadan.core.db import write
from dadan.core.i18n import tr
from dadan.core.models import PrintJob, utcnow
from dadan.core.printing.plan import PrintRefused
from dadan.core.timeutil import DEFAULT_TZ, to_local

TEMPLATE = "handover_80"


def handover_list_fields(job: PrintJob, settings=None) -> dict:
    """The handover template's fields for a handover-list job: one row per parcel, in scan order."""
    from dadan.core.orders.couriers import CourierBook
    from dadan.core.packing.handover import list_rows
    from dadan.core.packing.handover_models import Handover

    tz = settings.timezone if settings is not None else DEFAULT_TZ
    h = Handover.get_by_id(job.handover_id)
    rows = list_rows(h.id, tz)
    book = CourierBook.from_database()
    name = book.official_name(book.lookup_id(h.wp_code)) or h.wp_code
    return {
        "shop_name": "",
        "print_time": f"{to_local(utcnow(), tz):%Y-%m-%d %H:%M}",
        "courier_name": name,
        "handover_no": f"H{h.id}",
        "closed_at": f"{to_local(h.closed_at, tz):%Y-%m-%d %H:%M}" if h.closed_at else "",
        "closed_by": h.closed_by,
        "count": len(rows),
        "items": [{"seq": r[3], "waybill": r[4], "orders": r[5]} for r in rows],
    }


def queue_handover_list(handover_id: int, *, printer: str, template: str = TEMPLATE, actor: str = "") -> PrintJob:
    """Queue the list of closed handover ``handover_id`` on ``printer``: one job, one label."""
    from dadan.core.packing.handover_models import Handover
    from dadan.core.printing.queue import create_sheet_job

    with write():
        h = Handover.get_or_none(Handover.id == handover_id)
        if h is None or h.closed_at is None:
            raise PrintRefused(tr("handover #{h} is not closed", "交接 #{h} 尚未完成", h=handover_id))
        return create_sheet_job("handover", printer=printer, template=template, actor=actor, handover_id=h.id)


def queue_handover_list_for(handover_id: int, settings, actor: str = "") -> PrintJob | None:
    """After a handover closed: its list on ``[packing] handover_printer`` (None when that is "")."""
    from dadan.core.config import packing_printer

    name = packing_printer(settings, "handover_printer")
    if not name:
        return None
    return queue_handover_list(handover_id, printer=name, actor=actor)


def queued_text(job: PrintJob) -> str:
    return tr("handover list queued on {p} (job #{j})", "交接单已加入 {p}（任务 #{j}）", p=job.printer, j=job.id)
