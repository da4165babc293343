"""One order's detail, read in one go: the order, its shop's name, items, tags, print history,
ship confirmations, order events and audit events (newest first)."""

from __future__ import annotations

from dataclasses import dataclass

from dadan.core.models import AuditEvent, Order, OrderEvent, OrderItem, OrderTag, PrintItem, PrintJob, Shipment, Tag
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


def order_detail(order_id: int) -> OrderDetail:
    """Everything the order's detail shows (call in a worker thread, inside a connection)."""
    o = Order.get_by_id(order_id)
    return OrderDetail(
        order=o,
        shop=o.shop.name,
        courier=CourierBook.from_database().display_name(o.logistics_id or None),
        items=list(OrderItem.select().where(OrderItem.order == o.id).order_by(OrderItem.position)),
        tags=[t.name for t in Tag.select().join(OrderTag).where(OrderTag.order == o.id).order_by(Tag.name)],
        prints=list(PrintItem.select(PrintItem, PrintJob).join(PrintJob).where(PrintItem.order == o.id)
                    .order_by(PrintItem.id.desc()).limit(PRINTS_SHOWN)),
        shipments=list(Shipment.select().where(Shipment.order == o.id).order_by(Shipment.id.desc())),
        events=list(OrderEvent.select().where(OrderEvent.order == o.id)
                    .order_by(OrderEvent.at.desc(), OrderEvent.id.desc()).limit(EVENTS_SHOWN)),
        audit=list(AuditEvent.select().where(AuditEvent.order == o.id)
                   .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(EVENTS_SHOWN)),
    )
