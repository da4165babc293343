"""The field names a label template may use, per template kind.

A template names fields in ``field = "..."`` or inside format strings (``"{receiver_name}
{receiver_phone}"``); :mod:`printers.layout` checks every name against this catalogue so that a
typo is an error when the template is loaded, not a blank spot on a thousand labels.

Values are passed to :func:`printers.raster.render_label` as a plain mapping; the bridge that
builds it from an order lives in ``core/labels.py`` (printers/ never imports core/). Values are
shown with ``str()``; a missing or ``None`` value renders as empty.

List fields (a ``rows`` element's ``source``) hold a list of dicts whose keys are listed in
:data:`ROW_FIELDS`.
"""

from __future__ import annotations

KINDS = ("waybill", "packing", "picklist", "sku", "handover")

_COMMON = {
    "shop_name": "shop (store) name / 店铺名",
    "print_time": "time of printing in the warehouse's zone, 'YYYY-MM-DD HH:MM' / 打印时间",
}

_ORDER = {
    "order_sn": "platform order number / 订单号",
    "receiver_name": "receiver name (plain only when decrypted for printing) / 收件人",
    "receiver_phone": "receiver phone / 收件电话",
    "receiver_address": "full receiver address incl. province, city, town / 收件地址",
    "province": "province / 省",
    "city": "city / 市",
    "town": "district or town / 区县",
    "sender_name": "sender name (settings [sender]) / 寄件人",
    "sender_phone": "sender phone / 寄件电话",
    "sender_address": "sender address / 寄件地址",
    "items_summary": "one-line item summary, e.g. 'A12 红色,XL ×2；B07 ×1' / 商品摘要",
    "item_count": "total number of pieces / 件数",
    "sku_count": "number of distinct order lines / 商品种类数",
    "pay_amount": "amount paid by the buyer in yuan, e.g. '12.50' / 实付金额（元）",
    "goods_amount": "goods total in yuan / 商品总价（元）",
    "postage": "postage in yuan / 邮费（元）",
    "remark": "merchant remark / 商家备注",
    "buyer_memo": "buyer's message / 买家留言",
    "pay_time": "payment time in the warehouse's zone / 支付时间",
    "order_count": "orders in the parcel (a merged parcel holds several) / 包裹订单数",
    "merged_orders": "'合单 3 单：…' with every order number of a merged parcel, empty otherwise / 合单订单",
}

WAYBILL_FIELDS = {
    **_COMMON,
    **_ORDER,
    "courier_name": "courier name, e.g. '中通快递' / 快递公司",
    "tracking_number": "waybill (tracking) number, printed as Code128 / 运单号",
    "route_code": "sort / route code (大头笔), empty when unknown / 分拣码",
    "batch_seq": "position of this label in its batch, e.g. 12 / 批次序号",
    "batch_total": "labels in the batch, e.g. 200 / 批次总数",
    "batch_label": "'12/200' / 批次标记",
    "reprint_mark": "'R2' on the second print of an order, 'R3' ..., empty on the first / 补打标记",
    "wave_label": "the wave (print job) and the parcel's place in it, 'W123 · 7/40' / 波次与序号",
}

PACKING_FIELDS = {
    **_COMMON,
    **_ORDER,
    "courier_name": WAYBILL_FIELDS["courier_name"],
    "tracking_number": WAYBILL_FIELDS["tracking_number"],
    "items": "list of order lines (see ROW_FIELDS['items']) / 商品明细",
    "wave_label": WAYBILL_FIELDS["wave_label"],
}

PICKLIST_FIELDS = {
    **_COMMON,
    "items": "list of SKU rows aggregated over the batch (see ROW_FIELDS['items']) / 拣货明细",
    "order_count": "orders in the batch / 订单数",
    "sku_count": "distinct SKUs in the batch / SKU 数",
    "total_qty": "total pieces in the batch / 总件数",
    "batch_label": "name of the batch, free text / 批次",
    "wave_label": "the wave (print job) whose pick list this is, 'W123' / 波次",
    "parcel_count": "parcels in the wave / 包裹数",
}

SKU_FIELDS = {
    **_COMMON,
    "sku": "merchant SKU code (outer_id, else sku_id), printed as Code128 / 商家编码",
    "name": "goods name / 商品名称",
    "spec": "specification, e.g. '红色,XL' / 规格",
    "price": "unit price in yuan / 单价（元）",
    "goods_id": "platform goods id / 商品 ID",
}

HANDOVER_FIELDS = {
    **_COMMON,
    "courier_name": "the courier the parcels are handed to / 快递公司",
    "handover_no": "the handover's number, e.g. 'H12' / 交接单号",
    "closed_at": "when the handover was closed, in the warehouse's zone / 交接时间",
    "closed_by": "who closed it / 交接人",
    "count": "parcels handed over / 包裹数",
    "items": "list of parcels (see ROW_FIELDS['items']) / 包裹明细",
}

KIND_FIELDS: dict[str, dict[str, str]] = {
    "waybill": WAYBILL_FIELDS,
    "packing": PACKING_FIELDS,
    "picklist": PICKLIST_FIELDS,
    "sku": SKU_FIELDS,
    "handover": HANDOVER_FIELDS,
}

_ITEM_ROW = {
    "seq": "1-based row number / 序号",
    "sku": "merchant SKU code / 商家编码",
    "name": "goods name / 商品名称",
    "spec": "specification / 规格",
    "qty": "quantity / 数量",
}

#: kind -> list field -> the keys of each row dict
ROW_FIELDS: dict[str, dict[str, dict[str, str]]] = {
    "handover": {
        "items": {
            "seq": "1-based row number / 序号",
            "waybill": "the parcel's waybill number / 运单号",
            "orders": "its order numbers / 订单号",
        }
    },
    "packing": {
        "items": {
            **_ITEM_ROW,
            "price": "unit price in yuan / 单价（元）",
            "amount": "line total in yuan / 小计（元）",
            "order_mark": "the line's order number in a merged parcel, empty otherwise / 所属订单（合单）",
        }
    },
    "picklist": {
        "items": {
            **_ITEM_ROW,
            "orders": "order numbers containing this SKU, comma-separated / 订单号",
            "order_count": "number of orders containing this SKU / 订单数",
            "bin": "bin location, e.g. 'A-03-2' (a wave's pick list; empty: no bin) / 库位",
            "parcels": "number of the wave's parcels holding this SKU / 包裹数",
        }
    },
}


def fields_for(kind: str) -> dict[str, str]:
    """Field name -> description for a template kind (empty for an unknown kind)."""
    return KIND_FIELDS.get(kind, {})


def row_fields_for(kind: str, source: str) -> dict[str, str] | None:
    """Row keys of the list field ``source`` of ``kind``; None when it is not a list field."""
    return ROW_FIELDS.get(kind, {}).get(source)


_SAMPLE_ORDER = {
    "shop_name": "dadan 测试店",
    "print_time": "2026-01-01 09:00",
    "order_sn": "TEST-0000001",
    "receiver_name": "测试收件人",
    "receiver_phone": "138****0000",
    "receiver_address": "浙江省杭州市西湖区 测试地址 1 号",
    "province": "浙江省",
    "city": "杭州市",
    "town": "西湖区",
    "sender_name": "测试寄件人",
    "sender_phone": "139****0000",
    "sender_address": "浙江省义乌市 测试仓库",
    "items_summary": "A12 红色,XL ×2；B07 ×1",
    "item_count": 3,
    "sku_count": 2,
    "pay_amount": "59.00",
    "goods_amount": "59.00",
    "postage": "0.00",
    "remark": "测试备注",
    "buyer_memo": "测试留言",
    "pay_time": "2026-01-01 08:00",
    "courier_name": "测试 TEST",
    "tracking_number": "TEST0000001",
    "route_code": "310-TEST",
    "batch_seq": 1,
    "batch_total": 1,
    "batch_label": "1/1",
    "reprint_mark": "R2",
    "merged_orders": "合单 2 单：TEST-0000001 TEST-0000002",
    "wave_label": "W1 · 1/1",
}

_SAMPLE_ROWS = {
    "packing": [{"seq": 1, "sku": "A12", "name": "测试商品", "spec": "红色,XL", "qty": 2, "price": "19.50",
                 "amount": "39.00", "order_mark": "TEST-0000001"},
                {"seq": 2, "sku": "B07", "name": "测试配件", "spec": "黑色", "qty": 1, "price": "20.00",
                 "amount": "20.00", "order_mark": "TEST-0000002"}],
    "picklist": [{"seq": 1, "sku": "A12", "name": "测试商品", "spec": "红色,XL", "qty": 2, "orders": "TEST-0000001",
                  "order_count": 1, "bin": "A-01-1", "parcels": 1},
                 {"seq": 2, "sku": "B07", "name": "测试配件", "spec": "黑色", "qty": 1, "orders": "TEST-0000001",
                  "order_count": 1, "bin": "B-02-3", "parcels": 1}],
}

_SAMPLE_ROWS["handover"] = [{"seq": 1, "waybill": "78000010000001", "orders": "TEST-0000001"},
                            {"seq": 2, "waybill": "78000010000002", "orders": "TEST-0000002 TEST-0000003"}]

_SAMPLE_OTHER = {
    "handover_no": "H1",
    "closed_at": "2026-01-01 18:00",
    "closed_by": "张三",
    "count": 2,
    "order_count": 1,
    "total_qty": 3,
    "sku": "A12",
    "name": "测试商品",
    "spec": "红色,XL",
    "price": "19.50",
    "goods_id": "TEST3456789",
}


def sample_values(kind: str) -> dict[str, object]:
    """A realistic, non-empty value for every field of ``kind`` (test prints and previews
    without an order), so that every element of a template shows something."""
    catalogue = {**_SAMPLE_ORDER, **_SAMPLE_OTHER}
    if kind == "picklist":
        catalogue["sku_count"] = 2
        catalogue["batch_label"] = "TEST"
        catalogue["wave_label"] = "W1"
        catalogue["parcel_count"] = 1
    values = {name: catalogue[name] for name in fields_for(kind) if name in catalogue}
    for source in ROW_FIELDS.get(kind, {}):
        values[source] = [dict(row) for row in _SAMPLE_ROWS[kind]]
    return values
