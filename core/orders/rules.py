"""Order rules: exception flags and their labels, why an order is blocked, status labels, and the
text derived from an order (item summary, SKU and search text).

Exception flags are raised on *transitions* (see :mod:`dadan.core.orders.upsert`): a refund that
starts, a risk review that begins, an address whose ciphertext changes. An operator can release a
flag (:mod:`dadan.core.orders.actions`); it comes back only if the condition appears again. Any
flag blocks printing and shipping.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Mapping, Sequence

from dadan.core.i18n import tr
from dadan.core.models import Order


class Flag(enum.IntFlag):
    REFUND = 1  # refunding or refunded
    AFTER_SALE = 2  # after-sale in progress
    CANCELLED = 4
    RISK = 8  # risk_control_status = 1 (platform review): must not ship
    ADDRESS_CHANGED = 16
    SHIPPED_ELSEWHERE = 32  # the platform shows it shipped, but not through dadan
    OUT_OF_STOCK = 64
    SHIP_FAILED = 128  # ship confirmation rejected by the platform
    HOLD = 256  # held by an operator
    STOCK_SHORT = 512  # the shelf cannot cover it (core.goods.guard); stock received releases it


FLAG_KEYS = {
    Flag.REFUND: "refund",
    Flag.AFTER_SALE: "aftersale",
    Flag.CANCELLED: "cancelled",
    Flag.RISK: "risk",
    Flag.ADDRESS_CHANGED: "address",
    Flag.SHIPPED_ELSEWHERE: "shipped_elsewhere",
    Flag.OUT_OF_STOCK: "stockout",
    Flag.SHIP_FAILED: "ship_failed",
    Flag.HOLD: "hold",
    Flag.STOCK_SHORT: "short",
}
FLAG_BY_KEY = {v: k for k, v in FLAG_KEYS.items()}


def flag_label(flag: Flag) -> str:
    return {
        Flag.REFUND: tr("refund", "退款"),
        Flag.AFTER_SALE: tr("after-sale", "售后"),
        Flag.CANCELLED: tr("cancelled", "已取消"),
        Flag.RISK: tr("risk review", "风控审核"),
        Flag.ADDRESS_CHANGED: tr("address changed", "地址变更"),
        Flag.SHIPPED_ELSEWHERE: tr("shipped elsewhere", "已在别处发货"),
        Flag.OUT_OF_STOCK: tr("out of stock", "缺货"),
        Flag.SHIP_FAILED: tr("ship confirmation failed", "发货回传失败"),
        Flag.HOLD: tr("on hold", "已挂起"),
        Flag.STOCK_SHORT: tr("stock short", "库存不足"),
    }[flag]


def flags_of(bits: int) -> list[Flag]:
    return [f for f in Flag if bits & f]


def flags_text(bits: int) -> str:
    return ", ".join(flag_label(f) for f in flags_of(bits))


def blocked_reason(order: Order) -> str:
    """Why this order must not be printed or shipped, or '' if it may."""
    if order.exception_flags:
        return tr("blocked: {why}", "已拦截：{why}", why=flags_text(order.exception_flags))
    return ""


def has_shipped(order: Order) -> bool:
    """The order left: shipped by us (a number given, confirmed) or shown shipped by the platform."""
    return order.state in ("shipped", "confirmed") or order.order_status in (2, 3)


def not_printable(order: Order, *, reprint: bool = False) -> str:
    """Why no label of ``order`` may print now, or '': an exception (:func:`blocked_reason`); an
    order the platform shows cancelled (one that arrived cancelled carries no exception: there
    was nothing to stop); or one already shipped that no label of ours went out for (shipped by
    the platform or another tool, or with a number typed in) -- its label would carry another
    parcel's number. A shipped order's own label may print again, as a reprint."""
    why = blocked_reason(order)
    if why:
        return why
    if order.order_status not in (None, 1, 2, 3):
        return tr("cancelled on the platform", "平台上已取消")
    if has_shipped(order) and not (reprint and order.print_count):
        return tr("already shipped", "已发货")
    return ""


def platform_flags(order_status: int, refund_status: int, after_sales_status: int,
                   risk_control_status: int, is_stock_out: int) -> int:
    """Exception bits implied by the platform's status fields."""
    bits = 0
    if refund_status in (3, 4):
        bits |= Flag.REFUND
    if refund_status == 2 or after_sales_status not in (0, None):
        bits |= Flag.AFTER_SALE
    if risk_control_status == 1:
        bits |= Flag.RISK
    if is_stock_out == 1:
        bits |= Flag.OUT_OF_STOCK
    if order_status not in (1, 2, 3):
        bits |= Flag.CANCELLED
    return int(bits)


STATES = ("new", "printed", "shipped", "confirmed")


def state_label(state: str) -> str:
    return {
        "new": tr("new", "待打印"),
        "printed": tr("printed", "已打印"),
        "shipped": tr("shipped", "已发货"),
        "confirmed": tr("confirmed", "已回传"),
    }.get(state, state)


def order_status_label(status: int) -> str:
    return {
        1: tr("awaiting shipment", "待发货"),
        2: tr("shipped", "已发货待签收"),
        3: tr("received", "已签收"),
    }.get(status, tr("cancelled", "已取消"))


def refund_status_label(status: int) -> str:
    return {
        1: tr("none", "无售后"),
        2: tr("after-sale", "售后中"),
        3: tr("refunding", "退款中"),
        4: tr("refunded", "退款成功"),
    }.get(status, str(status))


def receiver_hash(name_enc: str, phone_enc: str, address_enc: str) -> str:
    if not (name_enc or phone_enc or address_enc):
        return ""
    h = hashlib.sha1("\x1f".join((name_enc, phone_enc, address_enc)).encode("utf-8"))
    return h.hexdigest()[:20]


def item_summary(items: Sequence[Mapping]) -> str:
    """``A12 红色,XL ×2；B07 ×1`` — merchant code (or name) + spec + count."""
    parts = []
    for it in items:
        code = (it.get("outer_id") or "").strip() or (it.get("goods_name") or "").strip()[:12]
        spec = (it.get("goods_spec") or "").strip()
        label = f"{code} {spec}".strip() if spec else code
        parts.append(f"{label} ×{int(it.get('goods_count') or 0)}")
    return "；".join(parts)


_SKU_KEYS = ("outer_id", "sku_id", "goods_id", "outer_goods_id")


def sku_text(items: Sequence[Mapping]) -> str:
    codes = []
    for it in items:
        for key in _SKU_KEYS:
            v = it.get(key)
            if v:
                v = (v if type(v) is str else str(v)).strip().lower()
                if v:
                    codes.append(v)
    return "|" + "|".join(dict.fromkeys(codes)) + "|" if codes else ""


# the record fields free-text filters search, then each item's
SEARCH_FIELDS = ("order_sn", "province", "city", "town", "remark", "buyer_memo", "tracking_number",
                 "receiver_name_mask")


def search_text_of(values: Sequence, items: Sequence[Mapping] = (), item_words: str | None = None) -> str:
    """Free-text filters' text: ``values`` of :data:`SEARCH_FIELDS`, then each item's words
    (``item_words``, when :func:`item_search_words` of the items is known already)."""
    parts = [p if type(p) is str else str(p) for p in values if p]
    words = item_search_words(items) if item_words is None else item_words
    if words:
        parts.append(words)
    return " ".join(parts).lower()


def item_search_words(items: Sequence[Mapping]) -> str:
    """The items' part of :func:`search_text_of`, before lower-casing."""
    parts = []
    for it in items:
        g = it.get
        parts += (g("goods_name"), g("goods_spec"), g("outer_id"))
    return " ".join([p if type(p) is str else str(p) for p in parts if p])


# every item field item_summary, sku_text and item_search_words read
ITEM_TEXT_KEYS = ("goods_count", "outer_id", "goods_name", "goods_spec", "sku_id", "goods_id", "outer_goods_id")


def search_text(rec: Mapping, items: Sequence[Mapping]) -> str:
    get = rec.get  # spelled out: faster than map() over SEARCH_FIELDS
    return search_text_of((get("order_sn"), get("province"), get("city"), get("town"), get("remark"),
                           get("buyer_memo"), get("tracking_number"), get("receiver_name_mask")), items)
