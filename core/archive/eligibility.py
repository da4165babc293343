"""Which orders ``dadan archive`` may move: shipped, shipped before the cut-off, and with
nothing still open on them.

Shipped: the platform says shipped or received (``order_status`` 2, 3), or dadan's shipment was
confirmed (``state = 'confirmed'``). The ship time is dadan's ``shipped_at``, else the
platform's ``shipping_time``, else the last update (the platform's, else dadan's own).

Kept, whatever their age (the first reason that applies is the one counted): an open exception
(any flag), an after-sale in progress (``refund_status`` 2 or 3), a print job label not finished
(queued, sending or uncertain), a ship confirmation not taken by the platform (pending,
sending or failed) and an e-waybill number not shipped (pending, live or printed).
"""

from __future__ import annotations

import datetime as dt

from peewee import SQL, fn

from dadan.core.i18n import tr
from dadan.core.models import Order, PrintItem, Shipment, Waybill, WaybillOrder

OPEN_PRINT_STATES = ("queued", "sending", "uncertain")
OPEN_SHIPMENT_STATES = ("pending", "sending", "failed")
UNSHIPPED_WAYBILL_STATES = ("pending", "live", "printed")
AFTER_SALE_OPEN = (2, 3)


def ship_time():
    return fn.COALESCE(Order.shipped_at, Order.shipping_time, Order.updated_at, Order.local_updated_at)


def shipped():
    return Order.order_status.in_((2, 3)) | (Order.state == "confirmed")


def cutoff(days: int, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=days)


def old_and_shipped(before: dt.datetime):
    return shipped() & (ship_time() < before)


def _open_print():
    return Order.id.in_(PrintItem.select(PrintItem.order).where(
        PrintItem.state.in_(OPEN_PRINT_STATES) & PrintItem.order.is_null(False)))


def _open_shipment():
    return Order.id.in_(Shipment.select(Shipment.order).where(Shipment.state.in_(OPEN_SHIPMENT_STATES)))


def _unshipped_waybill():
    return Order.id.in_(WaybillOrder.select(WaybillOrder.order).join(Waybill)
                        .where(Waybill.state.in_(UNSHIPPED_WAYBILL_STATES)))


# (key, the condition that keeps an order, its words): checked in this order
KEEPERS = (
    ("exception", lambda: Order.exception_flags != SQL("0"), ("open exception", "有未处理异常")),
    ("after_sale", lambda: Order.refund_status.in_(AFTER_SALE_OPEN), ("after-sale in progress", "售后处理中")),
    ("print", _open_print, ("label not printed yet", "面单未打完")),
    ("outbox", _open_shipment, ("ship confirmation pending", "发货回传未完成")),
    ("waybill", _unshipped_waybill, ("e-waybill number not shipped", "电子面单未发货")),
)


def keeper_words(key: str) -> str:
    for k, _cond, (en, zh) in KEEPERS:
        if k == key:
            return tr(en, zh)
    raise KeyError(key)


def archivable():
    """Orders nothing keeps (combine with :func:`old_and_shipped`)."""
    cond = None
    for _key, keep, _words in KEEPERS:
        term = ~keep()
        cond = term if cond is None else (cond & term)
    return cond


def plan(before: dt.datetime) -> tuple[list[int], dict[str, int]]:
    """The ids of the orders shipped before ``before`` that may move (id order), and how many of
    those shipped before it are kept, by reason."""
    old = old_and_shipped(before)
    flags = [keep().alias(key) for key, keep, _words in KEEPERS]
    ids: list[int] = []
    kept: dict[str, int] = {}
    for row in Order.select(Order.id, *flags).where(old).order_by(Order.id).tuples().iterator():
        reason = next((key for (key, _k, _w), hit in zip(KEEPERS, row[1:]) if hit), None)
        if reason is None:
            ids.append(row[0])
        else:
            kept[reason] = kept.get(reason, 0) + 1
    return ids, kept
