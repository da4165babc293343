"""The courier catalogue (core/orders/couriers.py): one id, code and name per courier, used by the
demo data, the loopback platform, labels, audit text, the filter language and imports."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pytest

from dadan.core.db import close_database, open_database
from dadan.core.i18n import set_language
from dadan.core.models import Courier as CourierRow
from dadan.core.models import Order, OrderEvent, Shop, database_proxy
from dadan.core.orders import couriers as C
from dadan.core.orders.query import compile_query
from dadan.core.orders.upsert import upsert_orders
from tests.test_sync_support import env  # noqa: F401

NOW = dt.datetime(2026, 11, 21, 4, 0, 0)
SN = "231114-123456789012345"


@pytest.fixture
def db(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'c.db'}")
    yield
    close_database()


@pytest.fixture
def shop(db):
    s = Shop.create(name="主店")
    upsert_orders(s.id, [{"order_sn": SN, "order_status": 1, "refund_status": 1, "pay_time": NOW,
                          "pay_amount_fen": 1000, "last_ship_time": NOW + dt.timedelta(days=2),
                          "province": "浙江省", "city": "杭州市", "town": "西湖区",
                          "items": [{"goods_name": "杯子", "goods_count": 1, "outer_id": "A12"}]}], source="api")
    return s


def test_catalogue_is_consistent():
    ids = [c.id for c in C.COURIERS if c.id is not None]
    codes = [c.code for c in C.COURIERS]
    assert len(set(ids)) == len(ids) and len(set(codes)) == len(codes)
    # the platform's published sample ids (docs/pdd-api facts) and the ids stored data already holds
    assert {c.code: c.id for c in C.COURIERS} == {
        "STO": 1, "HT": 3, "SF": 44, "YTO": 85, "ZTO": 115, "EMS": 118, "JD": 120, "YUNDA": 121, "DB": 131,
        "YZXB": 132, "JTSD": None}
    owners: dict[str, set[str]] = {}
    for c in C.COURIERS:
        for k in (c.code, c.name_zh, c.name_en, *c.aliases):
            owners.setdefault(C.normalize(k), set()).add(c.code)
    assert all(len(v) == 1 for v in owners.values()), "an alias names two couriers"
    for c in C.COURIERS:
        assert C.by_code(c.code) is c and (c.id is None or C.by_id(c.id) is c)
        assert C.resolve(c.name_zh) is c and C.resolve(c.name_en) is c


@pytest.mark.parametrize("text,code", [
    ("中通", "ZTO"), ("中通快递", "ZTO"), ("ZTO", "ZTO"), ("zto", "ZTO"), ("ＺＴＯ", "ZTO"), (" 中通 快递 ", "ZTO"),
    ("115", "ZTO"), ("１１５", "ZTO"), ("中通快递有限公司", "ZTO"),
    ("邮政EMS", "EMS"), ("邮政ems", "EMS"), ("ＥＭＳ", "EMS"), ("EMS", "EMS"), ("中国邮政速递", "EMS"), ("118", "EMS"),
    ("中国邮政EMS标准快递", "EMS"),
    ("邮政", "YZXB"), ("邮政快递包裹", "YZXB"), ("中国邮政", "YZXB"), ("yzxb", "YZXB"),
    ("顺丰", "SF"), ("顺丰速运", "SF"), ("顺丰快递", "SF"), ("sf", "SF"), ("SF Express", "SF"), ("44", "SF"),
    ("圆通速递", "YTO"), ("圆通快递", "YTO"), ("YTO", "YTO"),
    ("百世汇通", "HT"), ("HTKY", "HT"), ("京东配送", "JD"), ("京东物流", "JD"), ("韵达速递", "YUNDA"),
    ("德邦物流", "DB"), ("申通", "STO"), ("极兔", "JTSD"), ("J&T Express", "JTSD"), ("jtsd", "JTSD"),
])
def test_resolve_names_aliases_codes_and_ids(text, code):
    assert C.resolve(text) is C.by_code(code)


@pytest.mark.parametrize("text", ["", "  ", "火星快递", "999", "nosuch", "快递"])
def test_resolve_unknown(text):
    assert C.resolve(text) is None


def test_display_name_follows_the_ui_language_and_falls_back(db):
    book = C.CATALOGUE
    try:
        assert book.display_name(115) == "ZTO Express" and book.display_name(None) == ""
        set_language("zh")
        assert book.display_name(115) == "中通快递" and book.display_name(44) == "顺丰速运"
    finally:
        set_language("en")
    assert book.official_name(44) == "顺丰速运" and book.official_name(None) == ""
    # an id the catalogue lacks: the platform's cached name (handed in), else the id
    assert C.CourierBook.from_database().display_name(777) == book.official_name(777) == "777"
    CourierRow.create(id=777, name="火星快递", code="HX")
    book = C.CourierBook.from_database()
    assert book.display_name(777) == book.official_name(777) == "火星快递"
    assert book.lookup_id("火星快递") == book.lookup_id("hx") == book.lookup_id("777") == 777
    # the catalogue wins over an old cached name for a courier it knows
    CourierRow.create(id=44, name="顺丰快递", code="SF")
    assert C.CourierBook.from_database().official_name(44) == "顺丰速运"
    # J&T has no published id: found through the platform's list by its code
    assert C.CourierBook.from_database().lookup_id("极兔") is None
    CourierRow.create(id=384, name="极兔速递", code="JTSD")
    book = C.CourierBook.from_database()
    assert book.lookup_id("极兔") == book.lookup_id("J&T") == 384


def test_short_name_for_narrow_columns(db):
    assert [C.CATALOGUE.short_name(i) for i in (115, 118, 132, None)] == ["ZTO", "EMS", "YZXB", ""]
    CourierRow.create(id=777, name="火星快递", code="HX")
    book = C.CourierBook.from_database()
    try:
        set_language("zh")
        assert [book.short_name(i) for i in (115, 118, 132, 44)] == ["中通", "EMS", "邮政", "顺丰"]
        assert book.short_name(777) == "火星" and book.short_name(778) == "778"
    finally:
        set_language("en")
    assert book.short_name(777) == "火星快递"


def test_the_catalogue_alone_needs_no_database():
    opened = database_proxy.obj
    database_proxy.initialize(None)
    try:
        book = C.CATALOGUE
        assert book.display_name(777) == "777" and book.display_name(121) == "Yunda Express"
        assert book.lookup_id("火星快递") is None and book.lookup_id("韵达") == 121
    finally:
        database_proxy.initialize(opened)


@pytest.mark.parametrize("code,good,bad", [
    ("ZTO", ["75312345678901", "788123456789", "73 1234 5678 9012"],
     ["YT1234567890", "12345", "7531234567890123", "612345678901"]),
    ("STO", ["773012345678901", "268812345678"], ["SF1234567890123", "77301234567"]),
    ("SF", ["SF1234567890123", "sf1234567890123", "ＳＦ１２３４５６７８９０１２"], ["SF12345", "YT1234567890123", "123456789012"]),
    ("YTO", ["YT1234567890123", "yt 7512 3456 7890 1"], ["1234567890123", "YT12345", "YT1234567890", "SF1234567890123"]),
    ("YUNDA", ["4312345678901", "312345678901234"], ["43123456789", "YD1234567890123"]),
    ("EMS", ["1012345678901", "EA123456789CN"], ["101234567890", "SF1234567890123", "EA12345678CN"]),
    ("YZXB", ["9812345678901", "RR123456789CN"], ["98123456789012345"]),
    ("JD", ["JDVA12345678901", "JD0012345678901"], ["1234567890123", "JD123"]),
    ("DB", ["DPK200012345678", "123456789"], ["DPK123", "SF1234567890123"]),
    ("HT", ["557012345678", "70123456789012"], ["55701234567", "YT1234567890"]),
    ("JTSD", ["JT2099306666983"], ["JT12345", "2099306666983"]),
])
def test_tracking_patterns(code, good, bad):
    c = C.by_code(code)
    assert all(C.matches_tracking(c, n) for n in good), good
    assert not any(C.matches_tracking(c, n) for n in bad), bad


def test_demo_data_uses_the_catalogue(db):
    from dadan.core.demo import demo_records, write_demo

    used = {r["logistics_id"] for r in demo_records(400, seed=3, now=NOW)} - {None}
    assert used and used <= {c.id for c in C.COURIERS}
    write_demo(60, 3, now=NOW)
    seeded = {(r.id, r.name, r.code) for r in CourierRow.select()}
    assert seeded == {(c.id, c.name_zh, c.code) for c in C.COURIERS if c.id is not None}


def test_loopback_platform_lists_the_catalogue(env):  # noqa: F811
    from dadan.core.shipping.outbox import couriers

    listed = {(c.id, c.name, c.code) for c in couriers(env.factory)}
    assert env.platform.requests["pdd.logistics.companies.get"] == 1
    assert listed == {(c.id, c.name_zh, c.code) for c in C.COURIERS if c.id is not None}


def test_labels_and_audit_text_use_the_platform_name(shop):
    from dadan.core.printing.labels import order_label_fields
    from dadan.core.shipping.outbox import assign_tracking

    o = Order.get(Order.order_sn == SN)
    assign_tracking(o.id, "SF1234567890123", 44, actor="t")
    o = Order.get_by_id(o.id)
    assert order_label_fields(o, now=NOW)["courier_name"] == "顺丰速运" == C.CATALOGUE.official_name(44)
    assert OrderEvent.get(OrderEvent.kind == "ship").text == "顺丰速运 SF1234567890123"


def test_detail_screen_shows_the_display_name(shop):
    from dadan.core.orders.detail import order_detail

    o = Order.get(Order.order_sn == SN)
    assert order_detail(o.id).courier == ""
    Order.update(logistics_id=121, tracking_number="4312345678901").where(Order.id == o.id).execute()
    assert order_detail(o.id).courier == C.CATALOGUE.display_name(121) == "Yunda Express"


def test_filter_and_import_resolve_yzems_to_the_same_courier(tmp_path, shop):
    """``courier:邮政EMS`` in the filter and 邮政EMS in an imported tracking file are one courier."""
    from dadan.core.spreadsheets.commit import commit_import
    from dadan.core.spreadsheets.layout import prepare
    from dadan.core.spreadsheets.plan import plan_import

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单号", "快递公司", "快递单号"])
    ws.append(["\t" + SN, "邮政EMS", "1012345678901"])
    wb.save(tmp_path / "t.xlsx")
    plan = plan_import(prepare(tmp_path / "t.xlsx"), shop_id=shop.id, couriers=C.CourierBook.from_database())
    out = commit_import(plan, actor="t")
    assert out.committed
    o = Order.get(Order.order_sn == SN)
    assert o.logistics_id == C.resolve("邮政EMS").id == 118
    expr = compile_query("courier:邮政EMS", now=NOW)
    assert [r.id for r in Order.select(Order.id).where(expr)] == [o.id]
    for text in ("courier:EMS", "courier:118", "courier:ｅｍｓ", "快递:中国邮政速递"):
        assert [r.id for r in Order.select(Order.id).where(compile_query(text, now=NOW))] == [o.id], text
    assert not Order.select().where(compile_query("courier:邮政", now=NOW)).exists()  # 邮政快递包裹, not EMS


def _ship_file(tmp_path, shop) -> list[list[str]]:
    from dadan.core.shipping.outbox import assign_tracking
    from dadan.core.spreadsheets import export as E

    recs = [{"order_sn": f"231114-{i:015d}", "order_status": 1, "refund_status": 1, "pay_time": NOW,
             "pay_amount_fen": 100, "last_ship_time": NOW, "province": "浙江省", "city": "杭州市", "town": "西湖区",
             "items": [{"goods_name": "杯子", "goods_count": 1}]} for i, _ in enumerate(C.COURIERS)]
    upsert_orders(shop.id, recs, source="api")
    numbered = [c for c in C.COURIERS if c.id is not None]
    for i, c in enumerate(numbered):
        assign_tracking(Order.get(Order.order_sn == f"231114-{i:015d}").id, C.example_tracking(c, i), c.id, actor="t")
    E.export("ship", "csv", tmp_path / "s.csv")
    rows = list(csv.reader((tmp_path / "s.csv").read_text(encoding="utf-8-sig").splitlines()))[1:]
    assert len(rows) == len(numbered)
    return rows


def test_bulk_ship_file_names_resolve_through_the_catalogue(tmp_path, shop):
    for sn, name, _tn in _ship_file(tmp_path, shop):
        assert C.resolve(name).id == Order.get(Order.order_sn == sn.strip()).logistics_id, name


def test_bulk_ship_file_uses_the_catalogue_names(tmp_path, shop):
    for sn, name, _tn in _ship_file(tmp_path, shop):
        assert name == C.CATALOGUE.official_name(Order.get(Order.order_sn == sn.strip()).logistics_id)


def test_the_platform_list_is_read_only_when_the_catalogue_misses_and_then_once():
    reads = []

    def rows():
        reads.append(1)
        return [CourierRow(id=777, name="火星快递", code="HX")]

    book = C.CourierBook(rows)
    assert book.official_name(44) == "顺丰速运" and book.lookup_id("中通") == 115 and reads == []
    assert book.official_name(777) == "火星快递" and book.lookup_id("hx") == 777 and reads == [1]
    assert C.CourierBook(rows).loaded() and reads == [1, 1]
