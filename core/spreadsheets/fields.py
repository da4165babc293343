"""The fields an import knows (order number, goods, money, times, receiver...), the header
texts that name each, and a file's headers -> field columns."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Sequence

from dadan.core.i18n import tr
from dadan.core.spreadsheets.errors import SpreadsheetError


@dataclass(frozen=True)
class FieldSpec:
    key: str
    en: str
    zh: str
    aliases: tuple[str, ...]
    item: bool = False  # belongs to an order line, not the order

    def label(self) -> str:
        return tr(self.en, self.zh)


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("order_sn", "Order number", "订单号",
              ("订单号", "订单编号", "订单号码", "订单sn", "order_sn", "ordersn", "order number", "order no",
               "order id", "order_id", "订单id")),
    FieldSpec("order_status", "Order status", "订单状态", ("订单状态", "order_status", "order status", "status")),
    FieldSpec("after_sale", "After-sale status", "售后状态",
              ("售后状态", "退款状态", "after-sale status", "after sale status", "refund_status", "refund status",
               "after_sales_status")),
    FieldSpec("goods_name", "Goods", "商品",
              ("商品", "商品名称", "商品标题", "商品名", "goods_name", "goods", "product", "product name", "item name",
               "item"), item=True),
    FieldSpec("goods_spec", "Spec", "商品规格",
              ("商品规格", "规格", "sku规格", "规格名称", "goods_spec", "spec", "specification", "variant"), item=True),
    FieldSpec("goods_count", "Quantity", "商品数量",
              ("商品数量(件)", "商品数量", "数量", "件数", "购买数量", "goods_count", "quantity", "qty", "count"),
              item=True),
    FieldSpec("goods_id", "Goods ID", "商品id", ("商品id", "商品编号", "goods_id", "goods id", "product id"), item=True),
    FieldSpec("sku_id", "SKU ID", "样式ID", ("样式id", "skuid", "sku_id", "sku id", "规格id"), item=True),
    FieldSpec("outer_id", "Merchant SKU code", "商家编码-规格维度",
              ("商家编码-规格维度", "商家编码", "sku编码", "规格编码", "outer_id", "merchant sku", "sku code",
               "merchant code", "sku"), item=True),
    FieldSpec("outer_goods_id", "Merchant goods code", "商家编码-商品维度",
              ("商家编码-商品维度", "商品编码", "outer_goods_id", "goods code"), item=True),
    FieldSpec("goods_price", "Unit price (yuan)", "商品单价(元)",
              ("商品单价(元)", "商品单价", "单价", "goods_price", "unit price", "price"), item=True),
    FieldSpec("goods_amount", "Goods total (yuan)", "商品总价(元)",
              ("商品总价(元)", "商品总价", "商品金额", "goods_amount", "goods amount", "goods total")),
    FieldSpec("postage", "Postage (yuan)", "邮费(元)", ("邮费(元)", "邮费", "运费", "postage", "shipping fee")),
    FieldSpec("discount_shop", "Shop discount (yuan)", "店铺优惠折扣(元)", ("店铺优惠折扣(元)", "店铺优惠折扣", "店铺优惠")),
    FieldSpec("discount_platform", "Platform discount (yuan)", "平台优惠折扣(元)",
              ("平台优惠折扣(元)", "平台优惠折扣", "平台优惠")),
    FieldSpec("discount_pay", "Payment discount (yuan)", "多多支付立减金额(元)",
              ("多多支付立减金额(元)", "多多支付立减金额", "支付立减")),
    FieldSpec("discount", "Discount (yuan)", "优惠金额(元)", ("优惠金额", "discount_amount", "discount")),
    FieldSpec("pay_amount", "Paid by buyer (yuan)", "用户实付金额(元)",
              ("用户实付金额(元)", "用户实付金额", "实付金额", "买家实付", "pay_amount", "paid amount", "amount paid",
               "amount")),
    FieldSpec("created_time", "Created", "订单创建时间",
              ("订单创建时间", "创建时间", "下单时间", "created_time", "created at", "order time")),
    FieldSpec("pay_time", "Paid", "支付时间", ("支付时间", "付款时间", "pay_time", "paid at", "payment time")),
    FieldSpec("confirm_time", "Deal time", "订单成交时间",
              ("订单成交时间", "拼单成功时间", "成交时间", "confirm_time", "confirmed at", "deal time")),
    FieldSpec("last_ship_time", "Ship by", "承诺发货时间",
              ("承诺发货时间", "最晚发货时间", "last_ship_time", "ship by", "ship-by time")),
    FieldSpec("shipping_time", "Shipped", "发货时间", ("发货时间", "shipping_time", "shipped at", "ship time")),
    FieldSpec("remark", "Merchant note", "商家备注", ("商家备注", "卖家备注", "remark", "merchant note", "seller note")),
    FieldSpec("buyer_memo", "Buyer note", "买家留言",
              ("买家留言", "买家备注", "buyer_memo", "buyer message", "buyer note")),
    FieldSpec("tracking_number", "Tracking number", "快递单号",
              ("快递单号", "运单号", "物流单号", "运单号码", "tracking_number", "tracking number", "tracking no",
               "waybill", "waybill number")),
    FieldSpec("courier", "Courier", "快递公司",
              ("快递公司", "物流公司", "快递", "承运商", "courier", "carrier", "logistics company", "logistics_id")),
    FieldSpec("receiver_name", "Receiver", "收货人",
              ("收货人", "收件人", "收货人姓名", "receiver_name", "receiver", "recipient", "consignee")),
    FieldSpec("receiver_phone", "Phone", "手机",
              ("手机", "手机号", "收货人手机", "收货人电话", "联系电话", "receiver_phone", "phone", "mobile")),
    FieldSpec("receiver_address", "Address", "详细地址",
              ("详细地址", "收货地址", "地址", "receiver_address", "address")),
    FieldSpec("province", "Province", "省", ("省", "省份", "province")),
    FieldSpec("city", "City", "市", ("市", "城市", "city")),
    FieldSpec("town", "District", "区", ("区", "区县", "县区", "town", "district")),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
TRACKING_FIELDS = ("order_sn", "courier", "tracking_number")
# order-level fields by kind of value
ORDER_TEXT_FIELDS = ("remark", "buyer_memo", "receiver_name", "receiver_phone", "receiver_address", "province",
                     "city", "town")
ORDER_MONEY_FIELDS = ("goods_amount", "postage", "discount_shop", "discount_platform", "discount_pay", "discount",
                      "pay_amount")
TIME_FIELDS = ("created_time", "pay_time", "confirm_time", "last_ship_time", "shipping_time")

_PAREN = str.maketrans({"（": "(", "）": ")", "\u3000": " ", "\ufeff": ""})


def normalize_header(text) -> str:
    s = str(text if text is not None else "").translate(_PAREN).strip().lower()
    return re.sub(r"[\s_]+", "", s)


def _strip_unit(s: str) -> str:
    return re.sub(r"\([^)]*\)$", "", s)


_ALIASES: dict[str, str] = {}
for _f in FIELDS:
    for _a in (_f.key, *_f.aliases):
        for _n in (normalize_header(_a), _strip_unit(normalize_header(_a))):
            _ALIASES.setdefault(_n, _f.key)


def recognise_headers(headers: Sequence) -> dict[str, int]:
    """Header cells -> {field key: column index} for the headers we know (first wins)."""
    out: dict[str, int] = {}
    for i, h in enumerate(headers):
        n = normalize_header(h)
        if not n:
            continue
        key = _ALIASES.get(n) or _ALIASES.get(_strip_unit(n))
        if key and key not in out:
            out[key] = i
    return out


def header_signature(headers: Sequence) -> str:
    names = sorted({normalize_header(h) for h in headers if normalize_header(h)})
    return hashlib.sha1("\x1f".join(names).encode("utf-8")).hexdigest()[:20]

def resolve_mapping(headers: Sequence[str], mapping: dict) -> dict[str, int]:
    """{field: header text or column index} -> {field: column index}; unknown fields/headers
    are errors naming them."""
    norm = [normalize_header(h) for h in headers]
    out: dict[str, int] = {}
    for key, col in mapping.items():
        if key not in FIELD_BY_KEY:
            raise SpreadsheetError(tr("unknown field '{k}' in the column mapping", "列映射中有未知字段“{k}”", k=key))
        if col is None or col == "":
            continue
        if isinstance(col, int) and not isinstance(col, bool):
            if not 0 <= col < len(headers):
                raise SpreadsheetError(tr("column {c} does not exist", "第 {c} 列不存在", c=col + 1))
            out[key] = col
            continue
        n = normalize_header(col)
        if n not in norm:
            raise SpreadsheetError(tr("the file has no column '{h}' (mapped to {f})", "文件中没有“{h}”列（映射到{f}）",
                                      h=col, f=FIELD_BY_KEY[key].label()))
        out[key] = norm.index(n)
    return out


def guess_kind(mapping: dict[str, int]) -> str:
    keys = set(mapping)
    if {"order_sn", "tracking_number", "courier"} <= keys and keys <= set(TRACKING_FIELDS):
        return "tracking"
    return "orders"
