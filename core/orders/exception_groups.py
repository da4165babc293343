"""Exception groups for the exception screen: each group is a filter in the one filter
language (so the screen, the filter bar and the CLI agree on what "risk review" means) and the
flags that releasing from that group clears."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dadan.core.i18n import tr
from dadan.core.models import Order
from dadan.core.orders import dialect
from dadan.core.orders.query import compile_query
from dadan.core.orders.rules import Flag
from dadan.core.timeutil import DEFAULT_TZ


@dataclass(frozen=True)
class Group:
    key: str
    query: str
    flags: int | None  # what release clears from this group (None: every flag)

    @property
    def label(self) -> str:
        return {
            "refund": tr("Refund / after-sale", "退款 / 售后"),
            "address": tr("Address changed", "地址变更"),
            "risk": tr("Risk review", "风控审核"),
            "stockout": tr("Out of stock / short", "缺货 / 库存不足"),
            "ship_failed": tr("Ship confirmation failed", "发货回传失败"),
            "overdue": tr("Overdue", "超时未发"),
            "hold": tr("On hold", "已挂起"),
            "other": tr("Cancelled / shipped elsewhere", "已取消 / 别处发货"),
            "recycle": tr("Number to recycle", "待回收单号"),
        }[self.key]


GROUPS: tuple[Group, ...] = (
    Group("refund", "exception:refund,aftersale", int(Flag.REFUND | Flag.AFTER_SALE)),
    Group("address", "exception:address", int(Flag.ADDRESS_CHANGED)),
    Group("risk", "exception:risk", int(Flag.RISK)),
    Group("stockout", "exception:stockout,short", int(Flag.OUT_OF_STOCK | Flag.STOCK_SHORT)),
    Group("ship_failed", "exception:ship_failed", int(Flag.SHIP_FAILED)),
    Group("overdue", "overdue:yes", None),
    Group("hold", "exception:hold", int(Flag.HOLD)),
    Group("other", "exception:cancelled,shipped_elsewhere", int(Flag.CANCELLED | Flag.SHIPPED_ELSEWHERE)),
    # blocked orders whose parcel holds a live number: recycle it (releasing clears nothing here)
    Group("recycle", "waybill:recycle", 0),
)
BY_KEY = {g.key: g for g in GROUPS}


def _where(group: Group, now: dt.datetime | None, tz: str):
    return compile_query(group.query, now=now, tz=tz)


def group_counts(*, now: dt.datetime | None = None, tz: str = DEFAULT_TZ) -> dict[str, int]:
    return {g.key: Order.select(Order.id).where(_where(g, now, tz)).count() for g in GROUPS}


def group_orders(key: str, *, now: dt.datetime | None = None, tz: str = DEFAULT_TZ, limit: int = 500) -> list[Order]:
    """Orders of one group, most urgent (earliest ship-by) first."""
    g = BY_KEY[key]
    return list(Order.select().where(_where(g, now, tz)).order_by(dialect.nulls_first(Order.last_ship_time), Order.id).limit(limit))
