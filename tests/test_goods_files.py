"""Goods files on a real SQLite file: an .xlsx and CSV (UTF-8 with BOM, GBK) imported into the
catalogue, a file with rejects and a dry run leaving the database exactly as it was, the export
imported again changing nothing, the 库存 column recording count corrections, and a receive file
releasing short orders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from dadan.core.db import database, open_database
from dadan.core.errors import DadanError
from dadan.core.goods import catalogue
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.export import export_goods
from dadan.core.goods.files import commit_goods, plan_goods, write_rejects
from dadan.core.goods.models import Goods, GoodsBarcode, StockMovement
from dadan.core.goods.receiving import commit_receive, plan_receive
from dadan.core.models import Order, Shop
from dadan.core.orders.rules import Flag
from dadan.core.orders.upsert import upsert_orders
from dadan.core.spreadsheets.reading import open_source

HEAD = ["商家编码", "商品名称", "规格", "条码", "库位", "重量(克)", "库存", "安全库存", "同步平台库存", "商品ID", "SKU ID"]
GOOD = [
    ["A12", "保温杯", "500ml 白", "6901234567892, 6901234567893", "A-03-2", 420, 10, 3, "是", "9001", "77001"],
    ["b07", "杯盖", "", "6901234567800", "B-01-1", "35", "0", "", "否", "", ""],
    ["0012", "吸管", "10支装", "", "", "", "", "", "", "", ""],
]
T0 = dt.datetime(2026, 11, 20, 8, 0)


@pytest.fixture
def db(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'g.db'}")
    yield tmp_path
    database().close()


def xlsx(path: Path, rows: list[list], head: list[str] = HEAD) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(head)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def csv_file(path: Path, rows: list[list], encoding: str, head: list[str] = HEAD) -> Path:
    lines = [",".join(f'"{c}"' for c in head)] + [",".join(f'"{c}"' for c in r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def wait_for(shop_id: int, n: int, lines: list[tuple[str, int]]) -> None:
    """An order awaiting shipment (order number ``n``) with lines of (merchant code, count)."""
    upsert_orders(shop_id, [{
        "order_sn": f"261120-{n:015d}", "order_status": 1, "refund_status": 1, "after_sales_status": 0,
        "risk_control_status": 0, "is_stock_out": 0, "updated_at": T0, "pay_time": T0,
        "last_ship_time": T0 + dt.timedelta(hours=24), "province": "浙江省",
        "items": [{"goods_id": "9", "goods_name": f"品{code}", "goods_spec": "红", "goods_count": count,
                   "outer_id": code, "sku_id": str(i)} for i, (code, count) in enumerate(lines)]}])


def dump() -> tuple:
    q = database().execute_sql
    return tuple(q(f'SELECT * FROM "{t}" ORDER BY 1, 2').fetchall()
                 for t in ("goods", "goods_barcode", "stock_movement", "stock_demand", "stock_push", "audit_event"))


def imported(path: Path, actor: str = "t"):
    plan = plan_goods(path)
    assert plan.ok, [r.text() for r in plan.rejects]
    return commit_goods(plan, actor=actor)


@pytest.mark.parametrize("kind", ["xlsx", "utf-8-sig", "gbk"])
def test_good_file_fills_the_catalogue(db, kind):
    rows = [list(r) for r in GOOD]
    if kind == "xlsx":
        rows[1][3] = 6901234567800  # a barcode typed into Excel: a number cell
    path = xlsx(db / "g.xlsx", rows) if kind == "xlsx" else csv_file(db / "g.csv", rows, kind)
    plan = plan_goods(path)
    assert plan.ok and (plan.added, plan.changed, plan.corrected) == (3, 0, 1)
    commit_goods(plan, actor="t")
    assert (plan.added, plan.changed, plan.corrected) == (3, 0, 1)
    a = catalogue.find("6901234567893")
    assert (a.code, a.name, a.spec, a.bin, a.weight_g, a.on_hand, a.safety_stock, a.managed) == \
        ("A12", "保温杯", "500ml 白", "A-03-2", 420, 10, 3, True)
    assert (a.platform_goods_id, a.platform_sku_id) == ("9001", "77001")
    assert catalogue.find("B07").code == "b07" and catalogue.find("6901234567800").code == "b07"
    straw = catalogue.find("0012")
    assert straw.name == "吸管" and straw.on_hand == 0 and not straw.managed
    m = StockMovement.get(StockMovement.goods == a.id)
    assert (m.kind, m.qty, m.actor) == ("count", 10, "t")


def test_rejects_leave_the_database_unchanged(db):
    imported(xlsx(db / "first.xlsx", GOOD[:1]))
    catalogue.save([GoodsRecord(code="Z9", barcodes=["6900000000009"])], actor="t")
    before = dump()
    bad = [
        ["C1", "好的", "", "6911111111111", "", "", "5", "", "", "", ""],
        ["C2", "负库存", "", "", "", "", "-3", "", "", "", ""],
        ["C3", "坏重量", "", "", "", "半斤", "", "", "", "", ""],
        ["", "没编码", "", "", "", "", "", "", "", "", ""],
        ["c1", "重复", "", "", "", "", "", "", "", "", ""],
        ["C4", "抢条码", "", "6911111111111", "", "", "", "", "", "", ""],
        ["C5", "别人的条码", "", "6900000000009", "", "", "", "", "", "", ""],
        ["C6", "小数", "", "", "", "", "2.5", "", "", "", ""],
        ["C7", "同步?", "", "", "", "", "", "", "也许", "", ""],
        ["C8", "坏条码", "", "6.90123E+12", "", "", "", "", "", "", ""],
    ]
    path = xlsx(db / "bad.xlsx", bad)
    plan = plan_goods(path)
    reasons = {r.row: r.text() for r in plan.rejects}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "must be at least 0" in reasons[3] and "库存" in reasons[3]
    assert "not a number" in reasons[4] and "重量(克)" in reasons[4]
    assert "merchant code" in reasons[5]
    assert "also on row 2" in reasons[6]
    assert "6911111111111 is also given to row 2" in reasons[7]
    assert "belongs to Z9" in reasons[8]
    assert "not a whole number" in reasons[9]
    assert "是/否" in reasons[10]
    assert "turned into a number by Excel" in reasons[11] and "条码" in reasons[11]
    with pytest.raises(DadanError):
        commit_goods(plan, actor="t")
    out = write_rejects(plan)
    assert out == db / "bad.rejects.xlsx"
    rows = open_source(out).rows(open_source(out).sheet_names[0])
    assert rows[0][:4] == ["row", "error", "column", "商家编码"] and len(rows) == 10
    assert dump() == before


def test_dry_run_counts_and_writes_nothing(db):
    imported(xlsx(db / "first.xlsx", GOOD))
    before = dump()
    changed = [list(GOOD[0]), list(GOOD[1]), ["N1", "新品", "", "", "", "", "4", "", "", "", ""]]
    changed[0][6] = 8  # a count correction
    changed[1][1] = "杯盖(新)"  # an edit
    plan = plan_goods(xlsx(db / "c.xlsx", changed))
    assert plan.ok and (plan.added, plan.changed, plan.corrected, plan.unchanged) == (1, 1, 2, 0)
    assert dump() == before


def test_export_then_import_changes_nothing(db):
    imported(xlsx(db / "first.xlsx", GOOD))
    for fmt in ("xlsx", "csv"):
        before = dump()
        n, path = export_goods(db / f"out.{fmt}")
        assert n == 3
        rows = open_source(path).rows(open_source(path).sheet_names[0])
        assert rows[0][-2:] == ["占用", "可用"]
        plan = plan_goods(path)
        assert plan.ok and (plan.added, plan.changed, plan.corrected, plan.unchanged) == (0, 0, 0, 3)
        commit_goods(plan, actor="t")
        assert dump() == before


def test_stock_column_records_count_corrections(db):
    imported(xlsx(db / "first.xlsx", GOOD))
    a = catalogue.find("A12")
    plan = imported(xlsx(db / "count.xlsx", [["A12", "", "", "", "", "", 7]],
                         head=["商家编码", "备用", "x", "y", "z", "w", "库存"]))
    assert (plan.changed, plan.corrected) == (0, 1)
    a2 = Goods.get_by_id(a.id)
    assert a2.on_hand == 7 and a2.name == "保温杯" and a2.bin == "A-03-2"  # absent columns kept
    m = StockMovement.select().where(StockMovement.goods == a.id).order_by(StockMovement.id.desc()).first()
    assert (m.kind, m.qty) == ("count", -3)
    assert GoodsBarcode.select().where(GoodsBarcode.goods == a.id).count() == 2  # barcodes kept


def test_receive_file_releases_short_orders(db):
    imported(xlsx(db / "first.xlsx", GOOD))
    shop = Shop.create(name="s")
    wait_for(shop.id, 1, [("B07", 2)])
    o = Order.get(Order.order_sn == "261120-000000000000001")
    assert o.exception_flags & int(Flag.STOCK_SHORT)
    bad = plan_receive(xlsx(db / "r0.xlsx", [["NOPE", 3], ["6901234567800", "x"]], head=["商家编码", "数量"]))
    assert [r.row for r in bad.rejects] == [2, 3]
    path = csv_file(db / "r.csv", [["", "6901234567800", 1, "到货"], ["b07", "", 1, ""]], "gbk",
                    head=["商家编码", "条码", "数量", "备注"])
    plan = plan_receive(path)
    assert plan.ok and plan.units == 2
    commit_receive(plan, actor="t")
    assert plan.released == 1
    assert not Order.get_by_id(o.id).exception_flags & int(Flag.STOCK_SHORT)
    moves = list(StockMovement.select().where(StockMovement.kind == "receive").order_by(StockMovement.id))
    assert [(m.qty, m.reason) for m in moves] == [(1, "到货"), (1, "receive file r.csv")]
