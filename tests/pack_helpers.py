"""Shared set-up for the pack check tests (core, Pilot and tmux): orders through
``upsert_orders``, goods through ``catalogue.save``, and printed parcels holding ZTO-shaped
numbers (as a print job leaves them: a ``printed`` waybill linked to its orders)."""

from __future__ import annotations

import datetime as dt

from dadan.core.db import database, write
from dadan.core.models import Order, Shop, Waybill, WaybillOrder

T0 = dt.datetime(2026, 11, 20, 2, 0, 0)
BARCODES = {"A12": "6900000000012", "B07": "6900000000074", "C3": "6900000000036", "Z9": "6900000000999"}
TABLES = ("order", "order_item", "waybill", "waybill_order", "pack_record", "shipment", "audit_event", "goods",
          "goods_barcode", "stock_movement", "order_event")


def rec(sn: str, lines: list[tuple[str, int]], **kw) -> dict:
    base = {
        "order_sn": sn, "order_status": 1, "refund_status": 1, "after_sales_status": 0,
        "risk_control_status": 0, "is_stock_out": 0, "updated_at": T0, "pay_time": T0,
        "last_ship_time": T0 + dt.timedelta(hours=48), "province": "浙江省", "city": "杭州市",
        "town": "西湖区", "pay_amount_fen": 3990,
        "receiver_name_enc": "~AgAAAA1~1~~", "receiver_phone_enc": "$P1$1$$", "receiver_address_enc": "~AD1~1~~",
        "items": [{"goods_id": "1", "goods_name": f"品{code}", "goods_spec": "", "goods_count": n, "outer_id": code,
                   "sku_id": f"9{i}"} for i, (code, n) in enumerate(lines)],
    }
    base.update(kw)
    return base


def zto_number(serial: int) -> str:
    from dadan.core.orders.couriers import by_code, example_tracking

    return example_tracking(by_code("ZTO"), serial)


def printed_parcel(order_ids: list[int], code: str, *, state: str = "printed") -> Waybill:
    """A parcel of these orders with ``code``, printed (as a print job leaves it)."""
    o = Order.get_by_id(order_ids[0])
    with write():
        w = Waybill.create(shop=o.shop_id, wp_code="ZTO", object_id=f"obj-{code}", package_id=code, code=code,
                           state=state, print_count=1, printed_at=T0)
        for i in order_ids:
            WaybillOrder.insert(waybill=w.id, order=i).execute()
            Order.update(state="printed", print_count=1).where(Order.id == i).execute()
    return w


def bench(shop_name: str = "pack-shop", a_lines: tuple = (("A12", 2), ("B07", 1))) -> dict:
    """Three orders: 261120-A (``a_lines``: A12 ×2, B07 ×1) in parcel 1, 261120-B (C3 ×1) in parcel 2, 261120-C (B07 ×2, A12 ×1) unprinted; the catalogue has A12, B07,
    C3 and Z9 (in no order) with barcodes. Returns the parcels and their numbers."""
    from dadan.core.goods import catalogue
    from dadan.core.goods.catalogue import GoodsRecord
    from dadan.core.orders.upsert import upsert_orders

    shop = Shop.get_or_none(Shop.name == shop_name) or Shop.create(name=shop_name)
    upsert_orders(shop.id, [rec("261120-A", list(a_lines)), rec("261120-B", [("C3", 1)]),
                            rec("261120-C", [("B07", 2), ("A12", 1)])], source="api")
    catalogue.save([GoodsRecord(code=c, name=f"品{c}", barcodes=[b], bin=f"A-0{i}", on_hand=100)
                    for i, (c, b) in enumerate(BARCODES.items())], actor="tester")
    a, b = (Order.get(Order.order_sn == sn) for sn in ("261120-A", "261120-B"))
    w1 = printed_parcel([a.id], zto_number(1))
    w2 = printed_parcel([b.id], zto_number(2))
    return {"w1": w1, "w2": w2, "a": a, "b": b}


def dump() -> dict[str, list]:
    """Every row of the tables a pack check could touch."""
    db = database()
    return {t: sorted(db.execute_sql(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in TABLES}
