"""core/labels.py: orders -> label fields (items summary, yuan, local time, receiver text,
batch and reprint marks, pick list aggregation) and ``dadan render``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest

from dadan.core.config import Paths, SenderSettings, Settings
from dadan.core.context import Context
from dadan.core.db import open_database, write
from dadan.core.models import Order, OrderItem, Shop, database_proxy
from dadan.core.printing.labels import batch_fields, order_label_fields, packing_fields, picklist_fields, sku_fields
from dadan.printers.fields import sample_values

NOW = dt.datetime(2024, 5, 1, 6, 3)  # UTC -> 14:03 in Shanghai
SENDER = SenderSettings(name="杭州示例仓", phone="0571-88886666", address="浙江省杭州市萧山区建设一路66号")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """A database with demo orders (all with tracking numbers) plus two hand-made ones."""
    from dadan.core.demo import write_demo

    path = tmp_path_factory.mktemp("labels") / "t.db"
    db = open_database(f"sqlite:///{path}")
    write_demo(40, 5, now=NOW)
    with write(db):
        for i, o in enumerate(Order.select().where(Order.tracking_number == "")):
            o.tracking_number = f"YT{7500000000000 + i}"
            o.save()
        shop = Shop.get_or_create(name="手工店")[0]
        a = Order.create(shop=shop, order_sn="240501-000000000000001", pay_amount_fen=1250, province="浙江省",
                         city="杭州市", town="余杭区", receiver_name_mask="张*", receiver_phone_mask="138****1234",
                         address_mask="浙江省杭州市余杭区文一****", pay_time=NOW, tracking_number="78800000000001",
                         remark="送礼品", logistics_id=None)
        OrderItem.create(order=a, position=0, outer_id="A12", goods_name="T恤", goods_spec="红色,XL",
                         goods_count=2, goods_price_fen=500)
        OrderItem.create(order=a, position=1, outer_id="B07", goods_name="袜子", goods_count=1, goods_price_fen=250)
        b = Order.create(shop=shop, order_sn="240501-000000000000002", province="浙江省", city="杭州市",
                         receiver_name="李四", receiver_phone="13900000000", receiver_address="西湖区龙井路1号")
        OrderItem.create(order=b, position=0, outer_id="A12", goods_name="T恤", goods_spec="红色,XL", goods_count=3)
    return db


@pytest.fixture(autouse=True)
def _bind(demo_db):
    database_proxy.initialize(demo_db)


@pytest.fixture(scope="module")
def labels_by_kind(demo_db):
    """Label fields per template kind for the demo orders."""
    database_proxy.initialize(demo_db)
    orders = list(Order.select().order_by(Order.id))
    return {
        "waybill": batch_fields("waybill", orders[:6], sender=SENDER, now=NOW),
        "packing": batch_fields("packing", sorted(orders, key=lambda o: -o.items.count())[:3], sender=SENDER, now=NOW),
        "picklist": batch_fields("picklist", orders, now=NOW, batch_label="#7"),
        "sku": batch_fields("sku", orders[:5], now=NOW),
        "handover": [("handover", sample_values("handover"))],  # a closed handover's list (core.packing.handover_print)
    }


def _order(sn: str) -> Order:
    return Order.get(Order.order_sn == sn)


def test_waybill_fields():
    o = _order("240501-000000000000001")
    f = order_label_fields(o, sender=SENDER, courier_name="中通快递", batch_seq=12, batch_total=200,
                           reprint_no=2, now=NOW)
    assert f["items_summary"] == "A12 红色,XL ×2；B07 ×1"
    assert f["item_count"] == 3 and f["sku_count"] == 2
    assert f["pay_amount"] == "12.50"
    assert f["print_time"] == "2024-05-01 14:03" and f["pay_time"] == "2024-05-01 14:03"
    assert f["batch_label"] == "12/200" and f["reprint_mark"] == "R2"
    assert f["courier_name"] == "中通快递" and f["sender_name"] == "杭州示例仓"
    assert f["tracking_number"] == "78800000000001" and f["shop_name"] == "手工店"
    # no decrypted receiver, no plain one: masked text only
    assert (f["receiver_name"], f["receiver_phone"]) == ("张*", "138****1234")
    assert order_label_fields(o, now=NOW)["reprint_mark"] == ""


def test_receiver_decrypted_for_printing_and_region_prefixed():
    o = _order("240501-000000000000001")
    f = order_label_fields(o, receiver={"name": "张三", "phone": "13812341234", "address": "文一西路998号"}, now=NOW)
    assert (f["receiver_name"], f["receiver_phone"]) == ("张三", "13812341234")
    assert f["receiver_address"] == "浙江省杭州市余杭区文一西路998号"
    plain = order_label_fields(_order("240501-000000000000002"), now=NOW)
    assert plain["receiver_name"] == "李四" and plain["receiver_address"] == "浙江省杭州市西湖区龙井路1号"


def test_courier_name_from_the_courier_table():
    o = _order("240501-000000000000001")
    Order.update(logistics_id=115).where(Order.id == o.id).execute()  # ZTO's logistics id
    assert order_label_fields(Order.get_by_id(o.id), now=NOW)["courier_name"] == "中通快递"


def test_packing_rows_and_sku_fields():
    o = _order("240501-000000000000001")
    f = packing_fields(o, now=NOW)
    assert [(r["seq"], r["sku"], r["qty"], r["price"], r["amount"]) for r in f["items"]] == [
        (1, "A12", 2, "5.00", "10.00"), (2, "B07", 1, "2.50", "2.50")]
    s = sku_fields(o.items.order_by(OrderItem.position)[0])
    assert (s["sku"], s["name"], s["spec"], s["price"]) == ("A12", "T恤", "红色,XL", "5.00")


def test_picklist_aggregates_by_sku_across_the_batch():
    orders = [_order("240501-000000000000001"), _order("240501-000000000000002")]
    f = picklist_fields(orders, now=NOW)
    rows = {r["sku"]: r for r in f["items"]}
    assert rows["A12"]["qty"] == 5 and rows["A12"]["order_count"] == 2
    assert rows["A12"]["orders"] == "240501-000000000000001, 240501-000000000000002"
    assert rows["B07"]["qty"] == 1
    assert (f["order_count"], f["sku_count"], f["total_qty"]) == (2, 2, 6)


def test_batch_fields_waybill_sequence(labels_by_kind):
    waybills = labels_by_kind["waybill"]
    assert [f["batch_label"] for _n, f in waybills] == [f"{i}/6" for i in range(1, 7)]


def test_cli_render_and_templates(tmp_path, demo_db, capsys):
    from dadan.tui.commands import render

    parser = argparse.ArgumentParser()
    render.register(parser.add_subparsers())
    ctx = Context(paths=Paths(tmp_path, tmp_path), settings=Settings(), _db=demo_db)
    out = tmp_path / "png"
    args = parser.parse_args(["render", "240501-000000000000001", "240501-000000000000002",
                              "--template", "waybill_76x130", "--out", str(out), "--dpi", "300"])
    assert args.func(args, ctx) == 0
    files = sorted(Path(p) for p in capsys.readouterr().out.split())
    assert [p.name for p in files] == ["240501-000000000000001_waybill_76x130.png",
                                       "240501-000000000000002_waybill_76x130.png"]
    from PIL import Image

    assert Image.open(files[0]).size[0] == round(76 / 25.4 * 300)
    args = parser.parse_args(["templates"])
    assert args.func(args, ctx) == 0
    listing = capsys.readouterr().out
    assert "waybill_100x150" in listing and "100x150 mm" in listing and "80 mm roll" in listing


def test_cli_render_unknown_order_is_a_clear_error(tmp_path, demo_db):
    from dadan.core.errors import NotFound
    from dadan.tui.commands import render

    parser = argparse.ArgumentParser()
    render.register(parser.add_subparsers())
    ctx = Context(paths=Paths(tmp_path, tmp_path), settings=Settings(), _db=demo_db)
    args = parser.parse_args(["render", "nope", "--out", str(tmp_path)])
    with pytest.raises(NotFound, match="nope"):
        args.func(args, ctx)
