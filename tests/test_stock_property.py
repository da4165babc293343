"""Property: for any sequence of orders arriving, refunds, cancellations, shipments (by tracking
number and by the platform), receipts, counts and manual state changes,

- on hand = the sum of the SKU's movements;
- reserved = the lines of the open orders (computed here from the orders, independently);
- the orders flagged short are exactly those the shelf cannot cover, served printed first, then
  by ship-by deadline, from the head of that line until one wants more than is left (computed
  here independently), and none of them is printable;
- a receipt releases exactly the orders it newly covers.

A seeded random loop; ``DADAN_STOCK_EXAMPLES=200`` checks more seeds.
"""

from __future__ import annotations

import datetime as dt
import os
import random

import pytest

from dadan.core.db import database, open_database
from dadan.core.goods import catalogue, ledger
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.models import Goods, StockMovement
from dadan.core.models import AuditEvent, Courier, Order, OrderItem, Shop
from dadan.core.orders import actions
from dadan.core.orders.rules import Flag, blocked_reason
from dadan.core.orders.upsert import upsert_orders
from dadan.core.printing.plan import plan_print
from dadan.core.shipping.outbox import assign_tracking

EXAMPLES = int(os.environ.get("DADAN_STOCK_EXAMPLES", "12"))
PG_EXAMPLES = max(1, EXAMPLES // 4)  # the same scenarios on PostgreSQL: a few by default (each a database)
T0 = dt.datetime(2026, 11, 20, 8, 0)
CODES = ["A12", "b07", "C3", "NOPE"]  # NOPE is not in the catalogue


def _rec(sn: str, rng: random.Random, **kw) -> dict:
    lines = [{"goods_id": "9", "goods_name": f"品{c}", "goods_spec": "", "goods_count": rng.randint(1, 4),
              "outer_id": c if rng.random() < 0.8 else "", "sku_id": c.lower() if c != "NOPE" else "77"}
             for c in rng.sample(CODES, rng.randint(1, 2))]
    base = {"order_sn": sn, "order_status": 1, "refund_status": 1, "after_sales_status": 0,
            "risk_control_status": 0, "is_stock_out": 0, "updated_at": T0, "pay_time": T0,
            "last_ship_time": T0 + dt.timedelta(hours=rng.choice([2, 5, 24, 48, 72])), "province": "浙江省",
            "items": lines}
    base.update(kw)
    return base


def _open(o: Order) -> bool:
    return o.order_status == 1 and o.state in ("new", "printed") and o.refund_status not in (3, 4)


def _line_code(it: OrderItem) -> str:
    return (it.outer_id or it.sku_id).lower()


def expected(goods: dict[str, Goods]) -> tuple[dict[str, int], set[int]]:
    """(reserved by code key, short order ids), from the orders alone."""
    need: dict[str, dict[int, int]] = {k: {} for k in goods}
    orders = {o.id: o for o in Order.select()}
    for it in OrderItem.select():
        o = orders[it.order_id]
        k = _line_code(it)
        if k in need and _open(o):
            need[k][o.id] = need[k].get(o.id, 0) + it.goods_count
    short: set[int] = set()
    for k, by_order in need.items():
        left = goods[k].on_hand
        line = sorted(by_order, key=lambda i: (orders[i].state != "printed", orders[i].last_ship_time is None,
                                               orders[i].last_ship_time or T0, i))
        for i, oid in enumerate(line):  # covered from the head until one wants more than is left
            if by_order[oid] > left:
                short.update(line[i:])
                break
            left -= by_order[oid]
    return {k: sum(v.values()) for k, v in need.items()}, short


def check(where: str) -> set[int]:
    goods = {g.code_key: g for g in Goods.select()}
    for g in goods.values():
        total = sum(m.qty for m in StockMovement.select().where(StockMovement.goods == g.id))
        assert g.on_hand == total, (where, g.code, g.on_hand, total)
    reserved, short = expected(goods)
    for k, g in goods.items():
        assert g.reserved == reserved[k], (where, k, g.reserved, reserved[k])
    flagged = {o.id for o in Order.select().where(Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0)}
    assert flagged == short, (where, sorted(flagged), sorted(short))
    for o in Order.select().where(Order.id.in_(list(short) or [0])):
        assert blocked_reason(o)
    return short


def run(url: str, seed: int) -> None:
    rng = random.Random(seed)
    open_database(url)
    shop = Shop.create(name="s")
    Courier.create(id=115, name="中通快递", code="ZTO")
    catalogue.save([GoodsRecord(code=c, name=c, on_hand=rng.randint(0, 6)) for c in CODES[:3]], actor="t")
    n = 0
    for step in range(rng.randint(15, 40)):
        op = rng.random()
        orders = list(Order.select())
        if op < 0.35 or not orders:
            batch = [_rec(f"261120-{seed:04d}{n + i:06d}", rng) for i in range(rng.randint(1, 4))]
            n += len(batch)
            upsert_orders(shop.id, batch)
        elif op < 0.45:  # refund or cancellation from the platform
            o = rng.choice(orders)
            upsert_orders(shop.id, [_rec(o.order_sn, rng, updated_at=T0 + dt.timedelta(minutes=step + 1),
                                         items=_items(o), **rng.choice([{"refund_status": 4}, {"order_status": 0}]))])
        elif op < 0.55:  # shipped on the platform
            o = rng.choice(orders)
            upsert_orders(shop.id, [_rec(o.order_sn, rng, updated_at=T0 + dt.timedelta(minutes=step + 1),
                                         items=_items(o), order_status=2)])
        elif op < 0.65:  # shipped here with a tracking number (refused while blocked)
            o = rng.choice(orders)
            try:
                assign_tracking(o.id, f"78{seed:04d}{step:06d}", 115, actor="t")
            except Exception as exc:
                assert o.exception_flags or o.state in ("shipped", "confirmed") or o.order_status != 1, exc
        elif op < 0.72:  # printed, or put back to pending by hand
            o = rng.choice(orders)
            actions.set_state([o.id], rng.choice(["printed", "new"]), reason="t", actor="t")
        elif op < 0.9:  # a receipt
            g = rng.choice(list(Goods.select()))
            before = check(f"{seed}/{step} before receipt")
            released_before = AuditEvent.select().where(AuditEvent.action == "stock_release").count()
            ledger.move(g.id, rng.randint(1, 6), "receive", actor="t", reason="in")
            after = check(f"{seed}/{step} after receipt")
            assert after <= before, "a receipt never makes an order short"
            released = AuditEvent.select().where(AuditEvent.action == "stock_release").count() - released_before
            assert released == len(before - after)
        else:  # a count
            g = rng.choice(list(Goods.select()))
            ledger.count(g.id, rng.randint(0, 8), actor="t")
        short = check(f"{seed}/{step}")
        if short:
            ready = {o.id for o in plan_print(list(short), waybill=False).ready}
            assert not ready, f"{seed}/{step}: short orders {sorted(ready)} would print"
    database().close()


def _items(o: Order) -> list[dict]:
    return [{"goods_id": it.goods_id, "goods_name": it.goods_name, "goods_spec": it.goods_spec,
             "goods_count": it.goods_count, "outer_id": it.outer_id, "sku_id": it.sku_id}
            for it in o.items.order_by(OrderItem.position)]


@pytest.mark.parametrize("backend, seed", [("sqlite", s) for s in range(EXAMPLES)]
                         + [("postgresql", s) for s in range(PG_EXAMPLES)])
def test_stock_ledger_property(tmp_path, backend, seed):
    from tests.conftest import Store

    run(Store(backend, tmp_path).url(f"s{seed}.db"), seed)
