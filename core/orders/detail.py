"""One order's detail, read in one go: the order, its shop's name, items, tags, parcels (a merged
parcel's other orders, a split order's parcels and what each holds), print history, ship
confirmations, order events and audit events (newest first)."""

from __future__ import annotations

from dataclasses import dataclass

from dadan.core.models import (
    AuditEvent,
    Order,
    OrderEvent,
    OrderItem,
    OrderTag,
    PrintItem,
    PrintJob,
    Shipment,
    Tag,
    Waybill,
    WaybillOrder,
)
from dadan.core.orders.couriers import CourierBook

PRINTS_SHOWN = 20
EVENTS_SHOWN = 30


@dataclass
class OrderDetail:
    order: Order
    shop: str  # the shop's name
    courier: str  # the courier's name in the UI language ("" when none)
    items: list[OrderItem]
    tags: list[str]  # names, sorted
    prints: list[PrintItem]  # with their PrintJob, newest first
    shipments: list[Shipment]  # newest first
    events: list[OrderEvent]  # newest first
    audit: list[AuditEvent]  # newest first
    parcels: list["ParcelView"] | None = None  # oldest first


@dataclass
class ParcelView:
    waybill: Waybill
    mates: list[str]  # the other orders riding in it (merged: 合单)
    holds: str  # a split order's parcel: what it holds ("A12×1 B07×2"); "" for all its lines


def parcel_views(order_id: int) -> list[ParcelView]:
    """The order's parcels, oldest first (recycled ones too, marked by their state)."""
    from dadan.core.waybills.split import contents

    out = []
    for w in (Waybill.select().join(WaybillOrder, on=(WaybillOrder.waybill == Waybill.id))
              .where(WaybillOrder.order == order_id).order_by(Waybill.id)):
        mates = [o.order_sn for o in Order.select(Order.order_sn).join(WaybillOrder, on=(WaybillOrder.order == Order.id))
                 .where((WaybillOrder.waybill == w.id) & (Order.id != order_id)).order_by(Order.id)]
        held = contents(w.id) or []
        out.append(ParcelView(w, mates, " ".join(f"{it.outer_id or it.sku_id or it.goods_name}×{q}" for it, q in held)))
    return out


def _prints(order_id: int) -> list[PrintItem]:
    """The labels printed for the order (with their jobs, newest first): its own, and those of
    the parcels it shares (a merged parcel's one label is the first order's print item)."""
    parcels = [w for (w,) in WaybillOrder.select(WaybillOrder.waybill).where(WaybillOrder.order == order_id).tuples()]
    mates = [o for (o,) in WaybillOrder.select(WaybillOrder.order).where(WaybillOrder.waybill.in_(parcels)).tuples()
             if o != order_id] if parcels else []
    mine = PrintItem.order == order_id
    if mates:  # (print_item.order is indexed, its waybill not: the mates' items, then theirs of a shared parcel)
        mine |= PrintItem.order.in_(mates) & PrintItem.waybill.in_(parcels)
    return list(PrintItem.select(PrintItem, PrintJob).join(PrintJob).where(mine)
                .order_by(PrintItem.id.desc()).limit(PRINTS_SHOWN))


def order_detail(order_id: int, *, actor: str | None = None) -> OrderDetail:
    """Everything the order's detail shows (call in a worker thread, inside a connection);
    ``actor``: refused without the "view orders" permission."""
    if actor is not None:
        from dadan.core.operators import view_orders

        view_orders(actor)
    o = Order.get_by_id(order_id)
    return OrderDetail(
        order=o,
        shop=o.shop.name,
        courier=CourierBook.from_database().display_name(o.logistics_id or None),
        items=list(OrderItem.select().where(OrderItem.order == o.id).order_by(OrderItem.position)),
        tags=[t.name for t in Tag.select().join(OrderTag).where(OrderTag.order == o.id).order_by(Tag.name)],
        prints=_prints(o.id),
        shipments=list(Shipment.select().where(Shipment.order == o.id).order_by(Shipment.id.desc())),
        events=list(OrderEvent.select().where(OrderEvent.order == o.id)
                    .order_by(OrderEvent.at.desc(), OrderEvent.id.desc()).limit(EVENTS_SHOWN)),
        audit=list(AuditEvent.select().where(AuditEvent.order == o.id)
                   .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(EVENTS_SHOWN)),
        parcels=parcel_views(o.id),
    )
