"""The ``stock:`` term: orders by the stock of their SKUs (:mod:`dadan.core.goods`).

- ``stock:short`` (缺货, 不足): orders the oversell guard finds short (their ``short`` flag);
- ``stock:low`` (低): open orders waiting for a SKU whose available quantity (on hand - reserved)
  is at or below its safety stock, read from the demand rows (only open orders have them).
"""

from __future__ import annotations

from peewee import SQL, Expression

from dadan.core.models import Order
from dadan.core.order_indexes import has_exception
from dadan.core.orders.rules import Flag

VALUES = {"short": "short", "缺货": "short", "不足": "short", "库存不足": "short", "缺库存": "short",
          "low": "low", "低": "low", "低库存": "low"}


def matches(value: str) -> Expression | None:
    """The orders of ``stock:value``, or None for a value it does not know."""
    kind = VALUES.get(value.strip().lower())
    if kind == "short":
        return has_exception() & (Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0)
    if kind == "low":
        return Order.id.in_(SQL('(SELECT d."order_id" FROM "stock_demand" d JOIN "goods" g ON g."id" = d."goods_id" '
                                'WHERE g."on_hand" - g."reserved" <= g."safety_stock")'))
    return None
