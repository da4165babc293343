"""Merged parcels (合单): one buyer's orders in one parcel, under one waybill number.

Orders of one shop with the same ``open_address_id`` (the platform's key for one receiver at
one address) that are awaiting shipment, unprinted, unblocked and without a number of their own
are proposed as one parcel when a waybill job is planned (:func:`group_orders`; the setting
``packing.merge``: ``auto``, ``ask`` in the print dialog, ``never``). The parcel is one
:class:`~dadan.core.models.Waybill` linked to every order (:class:`~dadan.core.models.WaybillOrder`),
its ``open_address_id`` set; the number is taken with every order in ``trade_order_list``; the
job prints one label and one packing slip for it; its shipment confirms every order with the
same number. Orders with different ``open_address_id`` are never merged, nor orders of two
shops or two couriers.

An order whose address changes (its ``open_address_id`` differs from its parcel's) or that
becomes blocked leaves its parcel before the label prints (:func:`leave`, run by every upsert,
every hold and, for the parcel about to print, by the print worker):

- a parcel with no number asked for simply loses the order;
- a parcel whose number was taken (or asked for) keeps the number with the leaving order(s),
  marked to be recycled (``recycle_reason``; :func:`recycle_marked` cancels it on the platform),
  and the orders that stay move to a new parcel that takes a new number; a label queued for the
  old parcel now prints the new one.

A parcel whose label printed keeps its orders: a blocked order there is the exception screen's
business, like any printed order's.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Callable, Iterable, Sequence

from dadan.core import audit
from dadan.core.db import database, write
from dadan.core.i18n import tr
from dadan.core.models import Order, PrintItem, Shop, Waybill, WaybillOrder, utcnow

MODES = ("auto", "ask", "never")
UNPRINTED = ("pending", "live")  # a merged parcel whose label has not printed: its orders may leave
OPEN = ("pending", "live", "printed")
_CHUNK = 900


def mergeable(o: Order) -> bool:
    """May this order join a new merged parcel: it has a receiver key, awaits shipment, is
    unprinted and unblocked, and has no number of its own."""
    return (bool(o.open_address_id) and o.state == "new" and o.order_status == 1 and not o.exception_flags
            and not o.print_count and not o.tracking_number)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def shared_parcels(order_ids: Sequence[int], states: Sequence[str] = OPEN) -> dict[int, int]:
    """order id -> its merged parcel (several orders, in ``states``), for the orders in one."""
    out: dict[int, int] = {}
    ids = list(order_ids)
    st = list(states)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for oid, wid in database().execute_sql(
                f'SELECT wo."order_id", w."id" FROM "waybill_order" wo JOIN "waybill" w ON w."id" = wo."waybill_id" '
                f'WHERE wo."order_id" IN ({_marks(len(chunk))}) AND w."open_address_id" != \'\' '
                f'AND w."state" IN ({_marks(len(st))}) ORDER BY w."id"', chunk + st):
            out[oid] = wid
    return out


def group_orders(orders: Sequence[Order], *, merge: bool, keys: dict[int, tuple] | None = None,
                 shared: dict[int, int] | None = None) -> list[list[Order]]:
    """The parcels these orders print as, in the order of each parcel's first order: orders
    already sharing a merged parcel stay together; with ``merge``, orders that may merge
    (``keys``: order id -> its merge key, for those that may; default: :func:`mergeable` orders
    by (shop, ``open_address_id``)) join; every other order is a parcel of its own. ``shared``:
    :func:`shared_parcels` of these orders, when the caller read it already."""
    if shared is None:
        shared = shared_parcels([o.id for o in orders])
    groups: OrderedDict[tuple, list[Order]] = OrderedDict()
    for o in orders:
        if o.id in shared:
            key: tuple = ("parcel", shared[o.id])
        elif merge and keys is not None:
            key = ("merge",) + keys[o.id] if o.id in keys else ("order", o.id)
        elif merge and mergeable(o):
            key = ("merge", o.shop_id, o.open_address_id)
        else:
            key = ("order", o.id)
        groups.setdefault(key, []).append(o)
    return list(groups.values())


def parcel_orders(waybill_id: int | None, order_id: int | None) -> list[int]:
    """The order ids a label stands for: its parcel's orders (lowest id first, the label's own
    order first), else its order alone."""
    ids: list[int] = []
    if waybill_id:
        ids = [r[0] for r in database().execute_sql(
            'SELECT "order_id" FROM "waybill_order" WHERE "waybill_id" = ? ORDER BY "order_id"', (waybill_id,))]
    if order_id and order_id in ids:
        ids.remove(order_id)
        ids.insert(0, order_id)
    return ids or ([order_id] if order_id else [])


def merge_count(groups: Iterable[Sequence]) -> int:
    """How many orders ride in another order's parcel."""
    return sum(len(g) - 1 for g in groups)


# ------------------------------------------------------------------ leaving a parcel
def _why_leave(o: Order, w: Waybill) -> str:
    from dadan.core.orders.rules import blocked_reason

    why = blocked_reason(o)
    if why:
        return why
    if o.open_address_id != w.open_address_id:
        return tr("address changed", "地址变更")
    if o.state != "new" or o.order_status != 1:
        return tr("no longer awaiting shipment", "已不是待发货")
    return ""


def to_leave(order_ids: Sequence[int] | None = None, *, waybill_ids: Sequence[int] | None = None
             ) -> dict[int, list[tuple[Order, str]]]:
    """Unprinted merged parcels (of these orders, or these parcels) -> their orders that must
    leave, with the reason."""
    ids: list[int] = []
    if order_ids is not None:
        ids += list(shared_parcels(list(order_ids), UNPRINTED).values())
    if waybill_ids is not None:
        ids += [w.id for w in _unprinted_merged().where(Waybill.id.in_(list(waybill_ids)))]
    out: dict[int, list[tuple[Order, str]]] = {}
    for wid in dict.fromkeys(ids):
        w = Waybill.get_by_id(wid)
        for o in Order.select().join(WaybillOrder, on=(WaybillOrder.order == Order.id)).where(
                WaybillOrder.waybill == wid).order_by(Order.id):
            why = _why_leave(o, w)
            if why:
                out.setdefault(wid, []).append((o, why))
    return out


def _unprinted_merged():
    """Merged parcels waiting for their label (read through the parcels' state index)."""
    return Waybill.select(Waybill.id).where(Waybill.state.in_(UNPRINTED) & (Waybill.open_address_id != ""))


def leave(order_ids: Sequence[int] | None = None, *, waybill_ids: Sequence[int] | None = None,
          actor: str) -> int:
    """Take the orders that must leave their unprinted merged parcels out of them (inside the
    caller's transaction, or one of its own). Returns how many orders left."""
    if not _unprinted_merged().exists():  # the common case on every upsert: no merged parcel waits
        return 0
    todo = to_leave(order_ids, waybill_ids=waybill_ids)
    if not todo:
        return 0
    n = 0
    with write(join=True):
        for wid, leaving in todo.items():
            n += _leave_parcel(Waybill.get_by_id(wid), leaving, actor)
    return n


def _leave_parcel(w: Waybill, leaving: list[tuple[Order, str]], actor: str) -> int:
    members = [link.order_id for link in WaybillOrder.select(WaybillOrder.order).where(WaybillOrder.waybill == w.id)]
    out = {o.id for o, _ in leaving}
    stay = sorted(i for i in members if i not in out)
    if not stay:
        return 0  # every order must leave: the parcel keeps them (blocked, it never prints)
    now = utcnow()
    asked = w.state != "pending" or w.attempts > 0
    if not asked:  # no number: the parcel just loses them
        WaybillOrder.delete().where((WaybillOrder.waybill == w.id) & WaybillOrder.order.in_(sorted(out))).execute()
        if len(stay) == 1:
            Waybill.update(open_address_id="").where(Waybill.id == w.id).execute()
        target = w
    else:  # the number goes with the leaving orders, to be recycled; the rest take a new one
        target = Waybill.create(shop=w.shop_id, wp_code=w.wp_code, object_id=f"dd{uuid.uuid4().hex}",
                                package_id=uuid.uuid4().hex[:16], state="pending", created_at=now, created_by=actor,
                                open_address_id=w.open_address_id if len(stay) > 1 else "")
        WaybillOrder.update(waybill=target.id).where(
            (WaybillOrder.waybill == w.id) & WaybillOrder.order.in_(stay)).execute()
        why = tr("orders left the merged parcel: {w}", "订单离开合单包裹：{w}",
                 w="; ".join(f"{o.order_sn} {r}" for o, r in leaving))
        Waybill.update(recycle_reason=why).where(Waybill.id == w.id).execute()
        if w.code:
            Order.update(tracking_number="", logistics_id=None, local_updated_at=now).where(
                Order.id.in_(stay) & (Order.tracking_number == w.code) & Order.state.in_(("new", "printed"))).execute()
    # a label queued for the old parcel prints the parcel its staying orders are in now
    for it in PrintItem.select().where((PrintItem.waybill == w.id) & PrintItem.state.in_(("queued", "failed"))):
        it.waybill = target.id
        if it.order_id in out:
            it.order = stay[0]
        it.save()
    for o, reason in leaving:
        audit.record("merge-leave", actor=actor, order_id=o.id, target=f"waybill:{w.code or w.object_id}",
                     reason=reason, detail={"parcel": w.id, "staying": stay, "new_parcel": target.id})
        audit.order_event(o.id, "waybill", tr("left the merged parcel {p}: {r}", "已离开合单包裹 {p}：{r}",
                                              p=w.code or f"#{w.id}", r=reason))
    return len(leaving)


# ------------------------------------------------------------------ recycling left numbers
def marked(limit: int = 200) -> list[Waybill]:
    """Parcels whose number must be recycled because orders left them (oldest first)."""
    return list(Waybill.select().where(
        (Waybill.recycle_reason != "") & (Waybill.state.in_(("live", "printed")) |
                                          ((Waybill.state == "pending") & (Waybill.attempts > 0))))
        .order_by(Waybill.id).limit(limit))


def recycle_marked(factory: Callable[[Shop], object] | None = None, *, actor: str = "dadan"):
    """Cancel on the platform the numbers of parcels orders left (the outbox job's turn, and
    ``dadan sync --outbox``). Returns the :class:`~dadan.core.waybills.recycle.CancelReport`,
    or None when there was nothing to do. A failure stays on the parcel and is tried again."""
    from dadan.core.waybills.recycle import CancelReport, cancel

    todo = marked()
    if not todo:
        return None
    if factory is None:
        from dadan.core.platform.shops import ClientFactory

        factory = ClientFactory()
    report = CancelReport()
    for w in todo:
        got = cancel([w.id], reason=w.recycle_reason, actor=actor, factory=factory)
        report.cancelled += got.cancelled
        report.failed += got.failed
        report.closed += got.closed
    return report


def label_orders(waybill_id: int | None, order_id: int | None) -> list[int]:
    """The orders one label stands for, its own order first: its parcel's orders; for a label
    without a parcel (a packing slip), the merged parcel its order rides in, if any; else the
    order alone."""
    if not waybill_id and order_id:
        waybill_id = shared_parcels([order_id]).get(order_id)
    return parcel_orders(waybill_id, order_id)


def leave_at_head(job_id: int, *, actor: str) -> int:
    """Before the next label of a job prints: orders that must leave its merged parcel leave it
    (:func:`leave`). Returns how many left."""
    row = database().execute_sql(
        'SELECT w."id" FROM "print_item" i JOIN "waybill" w ON w."id" = i."waybill_id" '
        'WHERE i."job_id" = ? AND i."state" = \'queued\' ORDER BY i."seq" LIMIT 1', (job_id,)).fetchone()
    if row is None:
        return 0
    w = Waybill.get_or_none(Waybill.id == row[0])
    if w is None or not w.open_address_id or w.state not in UNPRINTED:
        return 0
    with write():
        return leave(waybill_ids=[w.id], actor=actor)
