"""Printed parcels as real rows for the handover tests: orders awaiting shipment, each with a
``Waybill`` in state ``printed`` (a number of its courier's shape) linked through ``WaybillOrder``."""

from __future__ import annotations

import uuid

from dadan.core.db import write
from dadan.core.models import Order, Waybill, WaybillOrder
from dadan.core.orders.couriers import by_code, example_tracking
from tests.desk_helpers import NOW


def printed_parcels(n: int, wp_code: str = "ZTO", *, serial0: int = 0) -> list[Waybill]:
    """``n`` unblocked orders awaiting shipment without a number get one printed parcel each."""
    courier = by_code(wp_code)
    orders = list(Order.select().where((Order.order_status == 1) & (Order.exception_flags == 0)
                                       & (Order.tracking_number == "") & (Order.state.in_(("new", "printed")))
                                       & ~Order.id.in_(WaybillOrder.select(WaybillOrder.order)))
                  .order_by(Order.id).limit(n))
    assert len(orders) == n, f"only {len(orders)} orders to make parcels of"
    out = []
    with write():
        for k, o in enumerate(orders):
            w = Waybill.create(shop=o.shop_id, wp_code=wp_code, object_id=uuid.uuid4().hex, package_id=o.order_sn,
                               code=example_tracking(courier, 7_000_000 + serial0 + k), state="printed",
                               taken_at=NOW, printed_at=NOW, print_count=1, created_by="tester")
            WaybillOrder.create(waybill=w.id, order=o.id)
            Order.update(state="printed", print_count=1).where(Order.id == o.id).execute()
            out.append(w)
    return out
