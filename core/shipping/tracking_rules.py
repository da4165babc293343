"""Which tracking number an order may get: the one check every path goes through.

:func:`check_tracking` is called by :func:`core.shipping.outbox.assign_tracking`, so typed and
scanned entry, scan-to-ship, the tracking-number import (planned as a dry run) and the CLI all
get the same refusals (:class:`~core.errors.TrackingRefused`):

- the number must look like a tracking number at all: 4-40 characters of A-Z, 0-9 and ``-``
  (:func:`shape_problem`);
- a courier the catalogue knows (:mod:`core.orders.couriers`) fixes the shape: 圆通 numbers are
  ``YT`` + 13 digits, so ``SF1234567890123`` is refused under 圆通. A courier only the platform
  lists has no known shape: any plausible number passes;
- an order holding a live e-waybill ships with that number and courier only, and a recycled
  (cancelled) e-waybill number never ships (:func:`core.waybills.parcels.waybill_problem`);
- a number already on another order is refused, naming that order (:func:`duplicate_problem`),
  unless the two orders are one parcel (:func:`same_parcel`).
"""

from __future__ import annotations

import re
import unicodedata

from dadan.core.errors import TrackingRefused
from dadan.core.i18n import tr
from dadan.core.models import Order
from dadan.core.order_indexes import has_tracking
from dadan.core.orders.couriers import CourierBook, matches_tracking
from dadan.core.waybills.parcels import waybill_problem

PLAUSIBLE = re.compile(r"[A-Z0-9][A-Z0-9-]{3,39}")


def normalize_tracking(text: str | None) -> str:
    """A typed, scanned or imported number as stored: full-width folded, no spaces, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()


def shape_problem(tracking_number: str, logistics_id: int | None, book: CourierBook) -> str | None:
    """Why ``tracking_number`` cannot be a number of courier ``logistics_id`` (None: it can)."""
    tn = normalize_tracking(tracking_number)
    if not PLAUSIBLE.fullmatch(tn):
        return tr("'{t}' is not a valid tracking number", "“{t}”不是有效的快递单号", t=tracking_number)
    courier = book.courier(logistics_id)
    if courier is not None and not matches_tracking(courier, tn):
        return tr("{c} numbers look like {s}, not {t}", "{c}的单号应为 {s}，不是 {t}",
                  c=courier.name, s=courier.tracking_shape, t=tn)
    return None


def same_parcel(order: Order, other: Order) -> bool:
    """Whether ``order`` and ``other`` travel as ONE parcel under one waybill, so that they may
    share a tracking number: both are orders of one merged parcel (合单) that holds a number
    (:mod:`dadan.core.waybills.merge`). Same shop, same receiver and both awaiting shipment is
    NOT enough, for two separate parcels to one buyer are common."""
    from dadan.core.models import Waybill, WaybillOrder

    mine = (WaybillOrder.select(WaybillOrder.waybill).join(Waybill, on=(WaybillOrder.waybill == Waybill.id))
            .where((WaybillOrder.order == order.id) & Waybill.state.in_(("live", "printed", "shipped"))))
    return WaybillOrder.select().where((WaybillOrder.order == other.id) & WaybillOrder.waybill.in_(mine)).exists()


def duplicate_problem(order: Order, tracking_number: str) -> str | None:
    """Why ``order`` cannot get ``tracking_number``: it is on another order already (that order
    is named); None when it is free or only on orders that are one parcel with ``order``."""
    tn = normalize_tracking(tracking_number)
    others = (Order.select()
              .where(has_tracking() & (Order.tracking_number == tn) & (Order.id != order.id))
              .order_by(Order.id))
    for other in others:
        if not same_parcel(order, other):
            return used_for(tn, other.order_sn)
    return None


def used_for(tracking_number: str, order_sn: str) -> str:
    """The refusal of a number already on order ``order_sn``."""
    return tr("tracking number {t} is already used for order {sn}", "运单号 {t} 已用于订单 {sn}",
              t=tracking_number, sn=order_sn)


def check_tracking(order: Order, tracking_number: str, logistics_id: int | None,
                   book: CourierBook | None = None) -> str:
    """The normalized number, or :class:`TrackingRefused` saying why ``order`` cannot get it
    with courier ``logistics_id`` (call inside the write transaction that assigns it)."""
    book = book if book is not None else CourierBook.from_database()
    why = shape_problem(tracking_number, logistics_id, book)
    if why is None:
        why = waybill_problem(order, normalize_tracking(tracking_number), logistics_id)
    if why is None:
        why = duplicate_problem(order, tracking_number)
    if why is not None:
        raise TrackingRefused(why)
    return normalize_tracking(tracking_number)
