"""The operator's actions on orders: release and hold exceptions, note, manual state, tags, and
looking an order up by its number. Each change is audited."""

from __future__ import annotations

from typing import Iterable

from dadan.core import audit
from dadan.core.db import write
from dadan.core.errors import DadanError
from dadan.core.goods import ledger
from dadan.core.i18n import tr
from dadan.core.models import Order, OrderTag, Tag, utcnow
from dadan.core.operators import require
from dadan.core.orders.rules import FLAG_KEYS, STATES, Flag, flag_label, flags_of, flags_text
from dadan.core.waybills import merge

_TAG_BATCH = 900  # tag rows per insert: below SQLite's variable limit


def _ids(order_ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in order_ids))


def release(order_ids: Iterable[int], *, reason: str, actor: str, flags: int | None = None) -> int:
    """Clear exception flags (all, or ``flags``) with a reason; audited. Returns orders changed."""
    if not reason.strip():
        raise DadanError(tr("a reason is required to release an exception", "解除异常需要填写原因"))
    if flags is not None and flags & Flag.STOCK_SHORT and not flags & ~Flag.STOCK_SHORT:
        raise DadanError(tr("stock short is released by stock: receive or count it (dadan stock)",
                            "库存不足由库存解除：请入库或盘点（dadan stock）"))
    require(actor, "release", what=f"release {len(_ids(order_ids))} order(s)")
    n = 0
    released: list[int] = []
    with write():
        for o in Order.select().where(Order.id.in_(_ids(order_ids))):
            # the oversell guard's flag stays: only stock received or counted releases it
            clear = (o.exception_flags if flags is None else (o.exception_flags & flags)) & ~Flag.STOCK_SHORT
            if not clear:
                continue
            Order.update(exception_flags=o.exception_flags & ~clear, local_updated_at=utcnow()).where(
                Order.id == o.id
            ).execute()
            audit.record("release", actor=actor, order_id=o.id, reason=reason,
                         detail={"order_sn": o.order_sn, "flags": [FLAG_KEYS[f] for f in flags_of(clear)]})
            audit.order_event(o.id, "release", flags_text(clear))
            n += 1
            if clear & Flag.REFUND:
                released.append(o.id)
        # a refund released while the platform still says refunded: the order is going to ship,
        # so it reserves its goods again (and the oversell guard weighs it) like any other
        ledger.settle_orders(released, actor=actor)
    return n


def hold(order_ids: Iterable[int], *, reason: str, actor: str) -> int:
    """Hold orders (nothing prints or ships until released) with a reason; audited. Returns
    orders changed."""
    if not reason.strip():
        raise DadanError(tr("a reason is required to hold an order", "挂起订单需要填写原因"))
    require(actor, "release", what=f"hold {len(_ids(order_ids))} order(s)")
    n = 0
    with write():
        for o in Order.select().where(Order.id.in_(_ids(order_ids))):
            if o.exception_flags & Flag.HOLD:
                continue
            Order.update(exception_flags=o.exception_flags | Flag.HOLD, local_updated_at=utcnow()).where(
                Order.id == o.id
            ).execute()
            audit.record("hold", actor=actor, order_id=o.id, reason=reason, detail={"order_sn": o.order_sn})
            audit.order_event(o.id, "flag", flag_label(Flag.HOLD))
            n += 1
        merge.leave(_ids(order_ids), actor=actor)  # a held order leaves its merged parcel
    return n


def set_note(order_id: int, note: str, *, actor: str) -> None:
    with write():
        Order.update(note=note, local_updated_at=utcnow()).where(Order.id == order_id).execute()
        audit.record("note", actor=actor, order_id=order_id, detail={"note": note})
        audit.order_event(order_id, "note", note)


def set_state(order_ids: Iterable[int], state: str, *, reason: str, actor: str) -> int:
    """A manual workflow-state change (audited)."""
    if state not in STATES:
        raise DadanError(tr("unknown state '{s}'", "未知状态“{s}”", s=state))
    changed: list[int] = []
    with write():
        for o in Order.select().where(Order.id.in_(_ids(order_ids))):
            if o.state == state:
                continue
            Order.update(state=state, local_updated_at=utcnow()).where(Order.id == o.id).execute()
            audit.record("state", actor=actor, order_id=o.id, reason=reason,
                         detail={"order_sn": o.order_sn, "from": o.state, "to": state})
            changed.append(o.id)
        ledger.settle_orders(changed, actor=actor)
        merge.leave(changed, actor=actor)
    return len(changed)


def add_tag(order_ids: Iterable[int], tag_name: str, *, actor: str) -> int:
    tag_name = tag_name.strip()
    if not tag_name:
        return 0
    with write():
        tag, _ = Tag.get_or_create(name=tag_name)
        rows = [{"order": i, "tag": tag.id} for i in _ids(order_ids)]
        for i in range(0, len(rows), _TAG_BATCH):
            OrderTag.insert_many(rows[i : i + _TAG_BATCH]).on_conflict_ignore().execute()
    return len(rows)


def remove_tag(order_ids: Iterable[int], tag_name: str, *, actor: str) -> int:
    with write():
        tag = Tag.get_or_none(Tag.name == tag_name.strip())
        if tag is None:
            return 0
        return OrderTag.delete().where((OrderTag.tag == tag.id) & (OrderTag.order.in_(_ids(order_ids)))).execute()


def order_by_sn(order_sn: str, shop_id: int | None = None) -> Order | None:
    q = Order.select().where(Order.order_sn == order_sn.strip())
    if shop_id is not None:
        q = q.where(Order.shop == shop_id)
    return q.first()
