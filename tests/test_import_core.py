"""Spreadsheet import: readers for every encoding and shape, Excel damage, grouping, merging
with synced data, all-or-nothing, dry runs that write nothing, mappings, rejects file."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from dadan.core.db import close_database, database, open_database
from dadan.core.models import ColumnMapping, Courier, ImportRun, Order, OrderItem, Shop
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.upsert import upsert_orders
from dadan.core.spreadsheets.commit import commit_import
from dadan.core.spreadsheets.errors import NeedsMapping, NeedsSheet, SpreadsheetError
from dadan.core.spreadsheets.fields import resolve_mapping
from dadan.core.spreadsheets.layout import prepare as prepare_file
from dadan.core.spreadsheets.mappings import SavedMappings
from dadan.core.spreadsheets.plan import plan_import as plan_layout
from dadan.core.spreadsheets.rejects import write_rejects

HEADERS = ["商品", "订单号", "订单状态", "商品总价(元)", "邮费(元)", "店铺优惠折扣(元)", "平台优惠折扣(元)",
           "多多支付立减金额(元)", "用户实付金额(元)", "商家实收金额(元)", "商品数量(件)", "发货时间", "确认收货时间",
           "商品id", "商品规格", "样式ID", "商家编码-规格维度", "商家编码-商品维度", "商家备注", "售后状态", "快递单号",
           "快递公司", "订单成交时间", "承诺发货时间", "收货人", "手机", "省", "市", "区", "详细地址"]

SN1 = "231114-123456789012345"
SN2 = "231114-123456789012346"
SN3 = "231115-000000000000007"


def line(sn=SN1, goods="保温杯", count=1, status="待发货", after="无售后或售后取消", pay="29.90", spec="红色,500ml",
         outer="A12", tracking="", courier="", deal="2023-11-14 10:00:00", **over):
    row = {"商品": goods, "订单号": "\t" + sn if isinstance(sn, str) else sn, "订单状态": status,
           "商品总价(元)": pay, "邮费(元)": "0.00", "店铺优惠折扣(元)": "0.00", "平台优惠折扣(元)": "1.00",
           "多多支付立减金额(元)": "0.00", "用户实付金额(元)": pay, "商家实收金额(元)": pay, "商品数量(件)": count,
           "发货时间": "", "确认收货时间": "", "商品id": "\t3456789012", "商品规格": spec, "样式ID": "\t98765432101",
           "商家编码-规格维度": outer, "商家编码-商品维度": "A", "商家备注": "", "售后状态": after,
           "快递单号": tracking, "快递公司": courier, "订单成交时间": deal, "承诺发货时间": "2023-11-16 10:00:00",
           "收货人": "张三", "手机": "13800000000", "省": "浙江省", "市": "杭州市", "区": "西湖区",
           "详细地址": "文三路 1 号"}
    row.update(over)
    return [row[h] for h in HEADERS]


def write_xlsx(path, rows, headers=HEADERS, sheet="订单列表", extra_sheets=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for r in rows:
        ws.append(r)
    for name, srows in extra_sheets:
        w2 = wb.create_sheet(name)
        for r in srows:
            w2.append(r)
    wb.save(path)
    return path


def csv_text(rows, headers=HEADERS, sep=","):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


@pytest.fixture
def db(tmp_path, request):
    """A SQLite database; a test marked :data:`both_backends` has it on PostgreSQL too."""
    from tests.conftest import Store

    open_database(Store(getattr(request, "param", "sqlite"), tmp_path).url())
    yield database()
    close_database()


# the writing tests (all or nothing, never overwriting) run on SQLite and on PostgreSQL
both_backends = pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def shop(db):
    return Shop.create(name="主店")


def dump(db) -> dict:
    from dadan.core.postgres import is_postgres

    tables = [r[0] for r in db.execute_sql(
        "select table_name from information_schema.tables where table_schema = current_schema() "
        "and table_type = 'BASE TABLE' order by 1" if is_postgres(db) else
        "select name from sqlite_master where type='table' order by name")]
    # (sorted in Python: the free-text index's shadow tables include WITHOUT ROWID ones)
    return {t: sorted(db.execute_sql(f'select * from "{t}"').fetchall(), key=repr) for t in tables}


def prepare(path, **kw):
    """A file's layout as the CLI and the import screen ask for it: saved mappings looked up."""
    return prepare_file(path, saved=SavedMappings(), **kw)


def plan_import(layout, **kw):
    """A plan as the CLI and the import screen make it: couriers known to the database."""
    return plan_layout(layout, couriers=CourierBook.from_database(), **kw)


def plan_for(path, shop, **kw):
    return plan_import(prepare(path, **kw), shop_id=shop.id)


# ------------------------------------------------------------------ readers
SAMPLE = [line(), line(goods="盖子", count=2, outer="B07", spec="黑色"), line(SN2, pay="9.90")]


def _check_two_orders(plan):
    assert not plan.rejects, [r.text() for r in plan.rejects]
    assert plan.counts.new == 2
    by = {r["order_sn"]: r for r in plan.records}
    assert [it["goods_count"] for it in by[SN1]["items"]] == [1, 2]
    assert by[SN1]["items"][1]["outer_id"] == "B07"
    assert by[SN1]["items"][0]["sku_id"] == "98765432101"
    assert by[SN2]["pay_amount_fen"] == 990
    assert by[SN1]["pay_time"] == dt.datetime(2023, 11, 14, 2, 0)  # China time -> UTC
    assert by[SN1]["discount_amount_fen"] == 100
    assert by[SN1]["province"] == "浙江省" and by[SN1]["receiver_name"] == "张三"


def test_xlsx_written_by_openpyxl(tmp_path, shop):
    _check_two_orders(plan_for(write_xlsx(tmp_path / "a.xlsx", SAMPLE), shop))


@pytest.mark.parametrize("encoding,sep", [
    ("utf-8", ","), ("utf-8-sig", ","), ("gbk", ","), ("gb18030", ","), ("utf-16", "\t"),
    ("utf-16-le", "\t"), ("utf-8", "\t"), ("gbk", "\t"), ("utf-16-be", ","),
])
def test_text_encodings_and_separators(tmp_path, shop, encoding, sep):
    p = tmp_path / "a.csv"
    p.write_bytes(csv_text(SAMPLE, sep=sep).encode(encoding))
    lay = prepare(p)
    assert lay.delimiter == sep
    _check_two_orders(plan_import(lay, shop_id=shop.id))


def test_hand_made_bytes(tmp_path, shop):
    # Excel "Unicode text": UTF-16 LE with BOM, tab separated, CRLF
    text = "订单号\t商品\t商品数量(件)\r\n" + f"\"\t{SN1}\"\t杯子\t2\r\n"
    (tmp_path / "u.txt").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    plan = plan_for(tmp_path / "u.txt", shop)
    assert plan.records[0]["order_sn"] == SN1 and plan.records[0]["items"][0]["goods_count"] == 2
    # GBK bytes, quoted numbers and an ="..." text wrapper
    raw = '订单号,商品,用户实付金额(元),商品数量(件)\r\n="{sn}","杯子","1,299.00","3"\r\n'.format(sn=SN2).encode("gbk")
    (tmp_path / "g.csv").write_bytes(raw)
    plan = plan_for(tmp_path / "g.csv", shop)
    assert plan.records[0]["order_sn"] == SN2
    assert plan.records[0]["pay_amount_fen"] == 129900


@pytest.mark.parametrize("raw,encoding", [
    # UTF-8 with BOM, CRLF
    (b"\xef\xbb\xbf\xe8\xae\xa2\xe5\x8d\x95\xe5\x8f\xb7,\xe5\x95\x86\xe5\x93\x81\r\n"
     b"231114-123456789012345,\xe6\x9d\xaf\r\n", "utf-8-sig"),
    # GB18030: 𠮷 (U+20BB7) has no GBK code, only the four-byte one
    (b"\xb6\xa9\xb5\xa5\xba\xc5,\xc9\xcc\xc6\xb7\r\n231114-123456789012345,\x95\x34\xb2\x35\r\n", "gb18030"),
    # UTF-16 BE with BOM, tab separated (every row ends with its line end, as exporters write it)
    (b"\xfe\xff\x8b\xa2\x53\x55\x53\xf7\x00\x09\x55\x46\x54\xc1\x00\x0a"
     + "231114-123456789012345\t杯\n".encode("utf-16-be"), "utf-16"),
    # UTF-16 LE without BOM
    ("订单号\t商品\n231114-123456789012345\t杯\n".encode("utf-16-le"), "utf-16-le"),
])
def test_hand_made_bytes_of_each_encoding(tmp_path, shop, raw, encoding):
    (tmp_path / "h.csv").write_bytes(raw)
    plan = plan_for(tmp_path / "h.csv", shop)
    assert plan.layout.encoding == encoding
    assert not plan.rejects and plan.records[0]["order_sn"] == SN1
    assert plan.records[0]["items"][0]["goods_name"] == ("𠮷" if encoding == "gb18030" else "杯")


@pytest.mark.parametrize("tail", ["杯", "浙江省杭州市西湖", "\"杯\""])
def test_a_text_file_cut_inside_its_last_row_is_refused(tmp_path, shop, tail):
    """A file that stops without the line end of its last row may have been cut inside that
    row's last cell (an address losing its end): refused, naming the row; nothing written."""
    (tmp_path / "cut.csv").write_bytes(("订单号,商品\r\n231114-123456789012345," + tail).encode("utf-8"))
    with pytest.raises(SpreadsheetError, match="row 2: the file ends in the middle of its last row"):
        plan_for(tmp_path / "cut.csv", shop)
    (tmp_path / "whole.csv").write_bytes(("订单号,商品\r\n231114-123456789012345," + tail + "\r\n").encode("utf-8"))
    assert not plan_for(tmp_path / "whole.csv", shop).rejects


def test_title_row_blank_and_total_rows(tmp_path, shop):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单导出 2023-11-14"])
    ws.append(HEADERS)
    for r in SAMPLE:
        ws.append(r)
    ws.append([None] * 5)
    ws.append(["合计", None, None, "69.70"])
    ws.append(["导出时间：2023-11-14 12:00"])
    wb.save(tmp_path / "t.xlsx")
    plan = plan_for(tmp_path / "t.xlsx", shop)
    assert plan.layout.header_index == 1
    _check_two_orders(plan)
    assert plan.rows_total == 3 and plan.skipped == 3


def test_a_last_row_with_data_but_no_order_number_is_rejected_not_dropped(tmp_path, shop):
    """The file's last rows without an order number are footer (a note, a total) only when they
    hold no more than a note: a row of goods and receiver whose order number cell is empty (a
    merged cell, a slip) is rejected, naming the row, like such a row in the middle; before, the
    last one was dropped unseen with its goods."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in SAMPLE:
        ws.append(r)
    ws.append(line(sn=None, goods="勺子", outer="C01"))
    ws.append(["导出时间：2023-11-14 12:00", None, "制表：张三"])
    wb.save(tmp_path / "t.xlsx")
    plan = plan_for(tmp_path / "t.xlsx", shop)
    assert [(r.row, r.column) for r in plan.rejects] == [(5, "订单号")]
    assert "order number is empty" in plan.rejects[0].message
    assert plan.rows_total == 4 and plan.skipped == 1
    assert plan.counts.new == 2 and sorted(r["order_sn"] for r in plan.records) == [SN1, SN2]


def test_a_csv_footer_note_in_the_order_number_column_is_footer(tmp_path, shop):
    """A note under a CSV's rows (`导出时间：…`, one cell, in the order number's column) is footer,
    not a row cut short that refused the whole file as damaged; a short row that starts with an
    order number still is."""
    body = "订单号,商品,商品数量(件)\n231114-123456789012345,保温杯,1\n231114-123456789012346,盖子,2\n"
    (tmp_path / "n.csv").write_text(body + "导出时间：2023-11-14 12:00\n", encoding="utf-8")
    plan = plan_for(tmp_path / "n.csv", shop)
    assert plan.rows_total == 2 and plan.skipped == 1 and not plan.rejects
    (tmp_path / "c.csv").write_text(body + "231114-123456789012347,杯\n", encoding="utf-8")
    with pytest.raises(SpreadsheetError, match="row 4 has 2 cells but the header has 3"):
        plan_for(tmp_path / "c.csv", shop)


def test_an_order_line_given_twice_is_rejected_not_doubled(tmp_path, shop):
    """The same line twice (every field the same: a file, or part of it, pasted twice) doubled
    what the order reserves and ships: its order is rejected, naming both rows."""
    p = write_xlsx(tmp_path / "d.xlsx", [*SAMPLE, SAMPLE[0]])
    plan = plan_for(p, shop)
    assert sorted(r.row for r in plan.rejects) == [2, 3, 5]
    assert all(f"rows 2 and 5 of order {SN1} are the same line twice" in r.message for r in plan.rejects)
    assert [r["order_sn"] for r in plan.records] == [SN2]
    # two lines of one goods that differ (another spec): still one order of two lines
    other = write_xlsx(tmp_path / "o.xlsx", [*SAMPLE, line(spec="蓝色,500ml")])
    plan = plan_for(other, shop)
    assert not plan.rejects and len(next(r for r in plan.records if r["order_sn"] == SN1)["items"]) == 3


def test_a_file_naming_another_shop_is_not_imported_into_this_one(tmp_path, shop):
    """dadan's own export names each order's shop (店铺): imported into another shop, those
    orders were made again under it (one order number in two shops). Rows naming another shop
    are rejected with both names; rows naming this shop, or none, pass; a shop still to be made
    (--create-shop: no shop id yet) checks nothing."""
    rows = [{**dict(zip(HEADERS, r)), "店铺": name} for r, name in zip(SAMPLE, ("其他店", "其他店", ""))]
    headers = ["店铺", *HEADERS]
    p = write_xlsx(tmp_path / "s.xlsx", [[r[h] for h in headers] for r in rows], headers=headers)
    plan = plan_for(p, shop)
    assert sorted(r.row for r in plan.rejects) == [2, 3]
    assert all("the file gives shop 其他店; this import is into shop 主店" in r.message for r in plan.rejects)
    assert [r["order_sn"] for r in plan.records] == [SN2]
    same = write_xlsx(tmp_path / "m.xlsx", [["主店", *r] for r in SAMPLE], headers=headers)
    assert not plan_for(same, shop).rejects
    assert not plan_import(prepare(p), shop_id=None).rejects


def test_several_sheets(tmp_path, shop):
    p = write_xlsx(tmp_path / "m.xlsx", SAMPLE, sheet="订单", extra_sheets=[("说明", [["本表为导出"]]), ("空", [])])
    lay = prepare(p)
    assert lay.sheet == "订单"
    # two order sheets: ask
    wb = openpyxl.load_workbook(p)
    ws = wb.create_sheet("订单2")
    ws.append(HEADERS)
    ws.append(line(SN3))
    wb.save(p)
    with pytest.raises(NeedsSheet) as exc:
        prepare(p)
    assert "订单2" in exc.value.sheets
    plan = plan_for(p, shop, sheet="订单2")
    assert [r["order_sn"] for r in plan.records] == [SN3]
    with pytest.raises(SpreadsheetError):
        prepare(p, sheet="nope")


def test_english_headers(tmp_path, shop):
    headers = ["Order number", "Goods", "Quantity", "Paid amount", "Order status", "province"]
    p = write_xlsx(tmp_path / "e.xlsx", [[SN1, "cup", 2, "¥5.00", "pending", "浙江省"]], headers=headers)
    plan = plan_for(p, shop)
    assert plan.records[0]["items"][0]["goods_count"] == 2
    assert plan.records[0]["pay_amount_fen"] == 500 and plan.records[0]["order_status"] == 1


# ------------------------------------------------------------------ excel damage and bad values
@pytest.mark.parametrize("cell", [2.31114123456789e20, 231114123456789012345, "2.31114E+20", "2.31114123456789E+20",
                                  "231114123456789000000"])
def test_order_number_turned_into_number(tmp_path, shop, cell):
    rows = [line(), line(SN2, **{"订单号": cell})]
    plan = plan_for(write_xlsx(tmp_path / "d.xlsx", rows), shop)
    assert len(plan.rejects) == 1
    rej = plan.rejects[0]
    assert rej.row == 3 and rej.column == "订单号"
    assert "Excel" in rej.message and "export the file again" in rej.message


def test_order_number_damaged_in_csv(tmp_path, shop):
    text = csv_text([line(), line(**{"订单号": "2.31114E+20"})])
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    plan = plan_for(tmp_path / "d.csv", shop)
    assert [r.row for r in plan.rejects] == [3]
    assert "Excel" in plan.rejects[0].message and plan.rejects[0].cells[1] == "2.31114E+20"


@pytest.mark.parametrize("over,column,words", [
    ({"订单号": "12345"}, "订单号", "not a Pinduoduo order number"),
    ({"订单成交时间": "2023-02-30 10:00:00"}, "订单成交时间", "impossible date"),
    ({"订单成交时间": "2023-13-01"}, "订单成交时间", "impossible date"),
    ({"订单成交时间": "昨天"}, "订单成交时间", "not a date"),
    ({"商品数量(件)": -1}, "商品数量(件)", "at least 1"),
    ({"商品数量(件)": "1.5"}, "商品数量(件)", "whole number"),
    ({"用户实付金额(元)": "$5.00"}, "用户实付金额(元)", "not in yuan"),
    ({"用户实付金额(元)": "五元"}, "用户实付金额(元)", "not an amount"),
    ({"用户实付金额(元)": "-3.00"}, "用户实付金额(元)", "negative"),
    ({"订单状态": "火星"}, "订单状态", "unknown order status"),
    ({"商品id": "3.45679E+09"}, "商品id", "Excel"),
])
def test_bad_values_rejected_per_row(tmp_path, shop, over, column, words):
    rows = [line(SN2), line(SN1, **over)]
    plan = plan_for(write_xlsx(tmp_path / "b.xlsx", rows), shop)
    assert [r.row for r in plan.rejects] == [3]
    assert plan.rejects[0].column == column
    assert words in plan.rejects[0].message
    assert [r["order_sn"] for r in plan.records] == [SN2]


@pytest.mark.parametrize("cell,fen", [("¥12.50", 1250), ("￥1,012.5元", 101250), (" 12 ", 1200), (12.5, 1250),
                                      ("RMB 3.00", 300), ("12.340", 1234)])
def test_money_with_currency_signs(tmp_path, shop, cell, fen):
    plan = plan_for(write_xlsx(tmp_path / "m.xlsx", [line(**{"用户实付金额(元)": cell})]), shop)
    assert not plan.rejects and plan.records[0]["pay_amount_fen"] == fen


def test_times_as_excel_dates_and_serials(tmp_path, shop):
    rows = [line(SN1, deal=dt.datetime(2023, 11, 14, 10, 0)), line(SN2, deal=45244.5), line(SN3, deal="2023/11/14 9:05")]
    plan = plan_for(write_xlsx(tmp_path / "t.xlsx", rows), shop)
    assert not plan.rejects
    by = {r["order_sn"]: r["pay_time"] for r in plan.records}
    assert by[SN1] == dt.datetime(2023, 11, 14, 2, 0)
    assert by[SN2] == dt.datetime(2023, 11, 14, 4, 0)
    assert by[SN3] == dt.datetime(2023, 11, 14, 1, 5)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_long_files_parse_like_short_ones_and_name_their_bad_cells(tmp_path, shop, kind):
    # a column whose values nearly all differ (order numbers, times, phones) is parsed value by
    # value in a long file; it must give what a short file gives, and still name a bad cell
    def row(i):
        over = {"手机": f"138{i:08d}", "承诺发货时间": f"2023-11-16 {i % 24:02d}:{i % 60:02d}:00"}
        if i == 50:
            over["订单号"] = "2.31114E+20"
        if i == 120:
            over["承诺发货时间"] = "2023-02-30 10:00:00"
        return line(f"231114-{i:015d}", deal=f"2023-11-14 {i % 24:02d}:{i % 60:02d}:{i % 59:02d}", **over)

    rows = [row(i) for i in range(200)]

    def write(name, rs):
        if kind == "csv":
            path = tmp_path / f"{name}.csv"
            path.write_text(csv_text(rs), encoding="utf-8-sig")
            return path
        return write_xlsx(tmp_path / f"{name}.xlsx", rs)

    plan = plan_for(write("long", rows), shop)
    assert [(r.row, r.column) for r in plan.rejects] == [(52, "订单号"), (122, "承诺发货时间")]
    assert "Excel" in plan.rejects[0].message and "impossible" in plan.rejects[1].message
    short = []
    for start in range(0, 200, 40):  # short files share each distinct value's parse
        short += list(plan_for(write(f"short{start}", rows[start:start + 40]), shop).records)
    assert list(plan.records) == short and len(short) == 198


def test_a_bad_line_rejects_its_whole_order(tmp_path, shop):
    rows = [line(SN1), line(SN1, goods="盖子", count=-2), line(SN2)]
    plan = plan_for(write_xlsx(tmp_path / "o.xlsx", rows), shop)
    assert sorted(r.row for r in plan.rejects) == [2, 3]
    assert [r["order_sn"] for r in plan.records] == [SN2]


def test_status_text_mapping(tmp_path, shop):
    rows = [line(SN1, status="已发货，待收货", after="退款中"), line(SN2, status="已取消"), line(SN3, status="交易成功",
                                                                                            after="退款成功")]
    plan = plan_for(write_xlsx(tmp_path / "s.xlsx", rows), shop)
    by = {r["order_sn"]: r for r in plan.records}
    assert by[SN1]["order_status"] == 2 and by[SN1]["refund_status"] == 3
    assert by[SN2]["order_status"] == 0
    assert by[SN3]["order_status"] == 3 and by[SN3]["refund_status"] == 4


# ------------------------------------------------------------------ writing and merging
@both_backends
def test_dry_run_writes_nothing_and_commit_writes(tmp_path, db, shop):
    p = write_xlsx(tmp_path / "a.xlsx", SAMPLE + [line(SN3, tracking="YT1234567890123", courier="圆通")])
    before = dump(db)
    plan = plan_for(p, shop)
    assert (plan.counts.new, plan.counts.updated, plan.counts.unchanged) == (3, 0, 0)
    assert dump(db) == before
    out = commit_import(plan, actor="tester")
    assert out.committed
    assert Order.select().count() == 3 and OrderItem.select().count() == 4
    o = Order.get(Order.order_sn == SN3)
    assert o.source == "import" and o.logistics_id == 85 and o.tracking_number == "YT1234567890123"
    run = ImportRun.get()
    assert run.committed and run.orders_new == 3 and run.actor == "tester"
    assert run.started_at <= run.finished_at
    assert not [k for k in vars(plan) if k.startswith("_")]  # the commit's options are not left on the plan
    # the same file again: unchanged, never duplicated
    plan2 = plan_for(p, shop)
    assert (plan2.counts.new, plan2.counts.updated, plan2.counts.unchanged) == (0, 0, 3)
    commit_import(plan2, actor="tester")
    assert Order.select().count() == 3 and OrderItem.select().count() == 4


@both_backends
def test_rejected_file_leaves_database_byte_for_byte(tmp_path, db, shop):
    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", SAMPLE), shop), actor="t")
    Order.update(state="printed", print_count=1).where(Order.order_sn == SN1).execute()
    before = dump(db)
    rows = [line(SN1, pay="99.00", goods="新商品"), line(SN3), line(SN2, **{"订单号": 2.31114123456789e20})]
    plan = plan_for(write_xlsx(tmp_path / "bad.xlsx", rows), shop)
    assert plan.counts.rejected == 1 and plan.counts.new == 1
    out = commit_import(plan, actor="t")
    assert not out.committed
    assert dump(db) == before
    # the rejects file: original columns plus the error
    rej = write_rejects(plan)
    assert rej.stat().st_mode & 0o777 == 0o600  # owner-only: the rows carry buyers' data
    ws = openpyxl.load_workbook(rej).active
    values = list(ws.values)
    assert values[0][:2] == ("row", "error") and "订单号" in values[0]
    assert values[1][0] == 4 and "Excel" in values[1][1]
    # SN1 would lose an item and change its amount: accepting the rejects is not enough
    out = commit_import(plan, actor="t", allow_partial=True)
    assert not out.committed and plan.counts.losses and dump(db) == before
    # accepting a partial import and the changes writes the good orders
    out = commit_import(plan, actor="t", allow_partial=True, accept_changes=True)
    assert out.committed and Order.select().count() == 3


def test_a_refused_import_of_changed_orders_leaves_rows_and_index_as_they_were(tmp_path, db, shop):
    from dadan.core.orders import fulltext

    def found(text):
        return {o.order_sn for o in Order.select(Order.order_sn).where(fulltext.contains(text))}

    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", [line(商家备注="原来的备注"), line(SN2)]), shop), actor="t")
    assert found("原来的备注") == {SN1}
    before = dump(db)
    rows = [line(商家备注="改过的备注"), line(SN2, 商家备注="改过的备注"), line(SN3, **{"订单号": 2.31114123456789e20})]
    plan = plan_for(write_xlsx(tmp_path / "b.xlsx", rows), shop)
    assert plan.counts.rejected == 1
    out = commit_import(plan, actor="t")
    assert not out.committed and dump(db) == before  # the free-text index's tables included
    out = commit_import(plan, actor="t", allow_partial=True)
    assert out.committed and plan.counts.updated == 2
    assert found("改过的备注") == {SN1, SN2} and found("原来的备注") == set()
    db.execute_sql(f"""INSERT INTO "{fulltext.TABLE}" ("{fulltext.TABLE}") VALUES ('integrity-check')""")


@both_backends
def test_import_after_sync_never_overwrites_platform_data(tmp_path, db, shop):
    synced = {"order_sn": SN1, "order_status": 1, "refund_status": 1, "pay_amount_fen": 2990,
              "updated_at": dt.datetime(2023, 11, 14, 5, 0), "province": "浙江省", "remark": "平台备注",
              "items": [{"goods_name": "保温杯", "goods_count": 1, "outer_id": "A12"}]}
    upsert_orders(shop.id, [synced], source="api")
    Order.update(state="shipped", print_count=2, tracking_number="ZT123456789", logistics_id=115).execute()
    before = Order.get(Order.order_sn == SN1)
    rows = [line(SN1, status="已取消", after="退款成功", pay="1.00", goods="别的", count=5, remark="旧备注",
                 **{"商家备注": "旧备注"}), line(SN2)]
    plan = plan_for(write_xlsx(tmp_path / "old.xlsx", rows), shop)
    out = commit_import(plan, actor="t")
    assert out.committed
    after = Order.get(Order.order_sn == SN1)
    for f in ("order_status", "refund_status", "pay_amount_fen", "remark", "state", "print_count",
              "tracking_number", "logistics_id", "updated_at", "items_summary", "exception_flags"):
        assert getattr(after, f) == getattr(before, f), f
    # only empty fields were filled in
    assert after.receiver_name == "张三"
    assert Order.select().count() == 2


@both_backends
def test_import_never_clears_print_or_ship_state(tmp_path, db, shop):
    p = write_xlsx(tmp_path / "a.xlsx", SAMPLE)
    commit_import(plan_for(p, shop), actor="t")
    Order.update(state="printed", print_count=3).where(Order.order_sn == SN1).execute()
    rows = [line(SN1, remark="x", **{"商家备注": "新备注"}), line(SN1, goods="盖子", count=2, outer="B07", spec="黑色")]
    commit_import(plan_for(write_xlsx(tmp_path / "b.xlsx", rows), shop), actor="t")
    o = Order.get(Order.order_sn == SN1)
    assert o.state == "printed" and o.print_count == 3 and o.remark == "新备注"


def test_plain_receiver_text_gets_its_masked_forms(tmp_path, db, shop):
    rows = [line(SN1), line(SN2, **{"收货人": "欧阳娜", "手机": "13912345678", "详细地址": "浙江省杭州市西湖区文三路 2 号"}),
            line(SN3, **{"收货人": "李**", "手机": "139****0000"})]  # a newer export: masked already
    commit_import(plan_for(write_xlsx(tmp_path / "r.xlsx", rows), shop), actor="t")
    got = {o.order_sn: (o.receiver_name_mask, o.receiver_phone_mask, o.address_mask, o.receiver_name)
           for o in Order.select()}
    assert got == {SN1: ("张*", "138****0000", "浙江省杭州市西湖区****", "张三"),
                   SN2: ("欧**", "139****5678", "浙江省杭州市西湖区****", "欧阳娜"),
                   SN3: ("李**", "139****0000", "浙江省杭州市西湖区****", "李**")}


def test_masking_forms():
    from dadan.core.masking import mask_address, mask_name, mask_phone, mask_phones_in

    assert [mask_name(n) for n in ("张三", "欧阳娜", "王", "", "张**")] == ["张*", "欧**", "王**", "", "张**"]
    assert mask_phone("+86 138-0000-1234") == "138****1234" and mask_phone("0571-88886666") == "****6666"
    assert mask_address("北京市东城区景山前街 4 号") == "北京市东城区****"
    assert mask_address("文三路 1 号", region="浙江省杭州市西湖区") == "浙江省杭州市西湖区****"
    # an order number's digits are no phone number
    assert mask_phones_in(f"{SN1} 13912345678") == f"{SN1} 139****5678"


@both_backends
def test_a_later_file_with_a_refund_blocks_the_imported_order(tmp_path, db, shop):
    from dadan.core.orders.rules import Flag

    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", [line(SN1)]), shop), actor="t")
    Order.update(state="printed", print_count=1).execute()
    plan = plan_for(write_xlsx(tmp_path / "b.xlsx", [line(SN1, after="退款中")]), shop)
    assert plan.counts.updated == 1
    commit_import(plan, actor="t")
    o = Order.get(Order.order_sn == SN1)
    assert o.refund_status == 3 and o.exception_flags & Flag.REFUND
    assert (o.state, o.print_count) == ("printed", 1)


# ------------------------------------------------------------------ mappings
def test_unknown_layout_needs_mapping_then_reuses_it(tmp_path, db, shop):
    headers = ["单据", "货品", "件", "钱"]
    p = write_xlsx(tmp_path / "u.xlsx", [[SN1, "杯子", 2, "3.00"], [SN2, "盘子", 1, "4.00"]], headers=headers)
    with pytest.raises(NeedsMapping) as exc:
        prepare(p)
    lay = exc.value.layout
    assert lay.headers == headers and lay.preview(1)[0][0] == SN1
    mapping = {"order_sn": "单据", "goods_name": "货品", "goods_count": "件", "pay_amount": "钱"}
    SavedMappings().save("仓库格式", lay.headers, mapping)
    assert ColumnMapping.select().count() == 1
    lay2 = prepare(p)  # found by header signature
    assert lay2.mapping_name == "仓库格式"
    plan = plan_import(lay2, shop_id=shop.id)
    assert plan.counts.new == 2 and plan.records[0]["items"][0]["goods_count"] == 2
    assert prepare(p, mapping_name="仓库格式").mapping == lay2.mapping
    with pytest.raises(SpreadsheetError):
        prepare(p, mapping_name="nope")
    with pytest.raises(SpreadsheetError):
        resolve_mapping(headers, {"order_sn": "不存在"})



def test_parsing_looks_at_the_database_only_when_handed_it(tmp_path, db, shop):
    """Saved mappings and the cached courier list count only when the caller passes them."""
    headers = ["单据", "货品", "快递单号", "快递公司"]
    p = write_xlsx(tmp_path / "u.xlsx", [[SN1, "杯子", "SD12345678", "闪电快递"]], headers=headers)
    SavedMappings().save("仓库格式", headers, {"order_sn": "单据", "goods_name": "货品", "tracking_number": "快递单号",
                                           "courier": "快递公司"})
    with pytest.raises(NeedsMapping):
        prepare_file(p)  # no saved mappings handed in: none is looked up
    with pytest.raises(SpreadsheetError, match="no saved column mapping"):
        prepare_file(p, mapping_name="仓库格式")
    lay = prepare(p)
    assert lay.mapping_name == "仓库格式" and lay.kind == "orders"
    Courier.create(id=9001, name="闪电快递", code="sdkd")
    assert plan_layout(lay, shop_id=shop.id).records[0].get("logistics_id") is None  # built-in couriers only
    assert plan_import(lay, shop_id=shop.id).records[0]["logistics_id"] == 9001
    assert CourierBook().lookup_id("闪电快递") is None and CourierBook.from_database().lookup_id("sdkd") == 9001
    plan = plan_import(lay, shop_id=shop.id, dry_run_counts=False)
    assert plan.counts.new == 1 and ImportRun.select().count() == 0

# ------------------------------------------------------------------ clean errors for bad files
@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", b"\xd0\xcf\x11\xe0broken", b"\x00\x01\x02\x03" * 10,
                                     b"\xff\xfe", "只有一行".encode("utf-8")])
def test_bad_files_give_clean_errors(tmp_path, content):
    p = tmp_path / "x.xlsx"
    p.write_bytes(content)
    with pytest.raises(SpreadsheetError) as exc:
        prepare_file(p)
    assert exc.value.message


def test_missing_file(tmp_path):
    with pytest.raises(SpreadsheetError, match="cannot open"):
        prepare_file(tmp_path / "nope.csv")


# ------------------------------------------------------------------ tracking numbers in bulk
@both_backends
def test_tracking_file(tmp_path, db, shop):
    from dadan.core.models import Shipment

    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", SAMPLE + [line(SN3)]), shop), actor="t")
    Order.update(exception_flags=1).where(Order.order_sn == SN3).execute()
    headers = ["订单号", "快递公司", "快递单号"]
    good = [[SN1, "中通", "\t75312345678901"], [SN2, "圆通速递", "YT9876543210123"]]
    p = write_xlsx(tmp_path / "t.xlsx", good + [[SN3, "中通", "75300000000001"],
                                                ["231114-999999999999999", "中通", "75300000000002"],
                                                [SN1, "火星快递", "X1234567"]], headers=headers)
    before = dump(db)
    lay = prepare(p)
    assert lay.kind == "tracking"
    plan = plan_import(lay, shop_id=shop.id)
    assert dump(db) == before
    msgs = {r.row: r.message for r in plan.rejects}
    assert set(msgs) == {4, 5, 6}
    assert "unknown courier" in msgs[6] and "no order" in msgs[5]
    assert plan.counts.updated == 2
    out = commit_import(plan, actor="t")
    assert not out.committed and dump(db) == before
    out = commit_import(plan, actor="t", allow_partial=True)
    assert out.committed and out.counts.updated == 2
    assert out.message.startswith("imported: 2 tracking numbers assigned (ship confirmations queued)")
    o = Order.get(Order.order_sn == SN1)
    assert (o.tracking_number, o.logistics_id) == ("75312345678901", 115)
    assert Shipment.select().count() == 2
    # again: unchanged, nothing queued twice
    plan = plan_import(prepare(write_xlsx(tmp_path / "t2.xlsx", good, headers=headers)), shop_id=shop.id)
    assert plan.counts.unchanged == 2 and plan.counts.updated == 0


@both_backends
def test_tracking_file_with_empty_cells_rejects_those_rows(tmp_path, db, shop):
    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", SAMPLE), shop), actor="t")
    headers = ["订单号", "快递公司", "快递单号"]
    p = write_xlsx(tmp_path / "t.xlsx", [[SN1, "中通", ""], [SN2, "", "YT9876543210123"]], headers=headers)
    before = dump(db)
    plan = plan_import(prepare(p), shop_id=shop.id)
    msgs = {r.row: (r.column, r.message) for r in plan.rejects}
    assert msgs == {2: ("快递单号", "the tracking number is empty"), 3: ("快递公司", "the courier is empty")}
    assert not commit_import(plan, actor="t").committed and dump(db) == before


@both_backends
def test_tracking_file_naming_an_order_twice(tmp_path, db, shop):
    from dadan.core.models import Shipment

    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", SAMPLE + [line(SN3)]), shop), actor="t")
    headers = ["订单号", "快递公司", "快递单号"]
    rows = [[SN1, "中通", "75312345678901"], [SN2, "中通", "75312345678902"], [SN1, "中通", "75312345678901"],
            [SN3, "中通", "75312345678903"], [SN3, "圆通", "YT9876543210123"]]
    before = dump(db)
    plan = plan_import(prepare(write_xlsx(tmp_path / "t.xlsx", rows, headers=headers)), shop_id=shop.id)
    # the same row twice is one assignment; different numbers for one order reject both rows
    assert {r.row: r.column for r in plan.rejects} == {5: "订单号", 6: "订单号"}
    assert "different tracking numbers on rows 5, 6" in plan.rejects[0].message
    assert plan.counts.updated == 2 and dump(db) == before
    assert commit_import(plan, actor="t", allow_partial=True).committed
    assert Shipment.select().count() == 2 and Order.get(Order.order_sn == SN3).tracking_number == ""


def test_equal_looking_cells_of_different_types_are_parsed_apart(tmp_path, shop):
    # cells are parsed once per distinct value: 1, 1.0 and TRUE are equal in Python but are
    # different cells, and a bad value repeated on several rows rejects each of those rows
    sns = [f"231114-1234567890123{i:02d}" for i in range(6)]
    rows = [line(sns[0], count=1), line(sns[1], count=True), line(sns[2], count=1.0),
            line(sns[3], **{"用户实付金额(元)": "五元"}), line(sns[4], count="2"), line(sns[5], **{"用户实付金额(元)": "五元"})]
    plan = plan_for(write_xlsx(tmp_path / "t.xlsx", rows), shop)
    assert {r.row: r.column for r in plan.rejects} == {3: "商品数量(件)", 5: "用户实付金额(元)", 7: "用户实付金额(元)"}
    assert "TRUE" in plan.rejects[0].message
    counts = {r["order_sn"]: r["items"][0]["goods_count"] for r in plan.records}
    assert counts == {sns[0]: 1, sns[2]: 1, sns[4]: 2}


def test_a_wide_sheet_reads_only_the_mapped_columns(tmp_path, shop):
    headers = HEADERS + [f"备用{i}" for i in range(150)]
    rows = [line() + ["x"] * 150, line(SN2)]  # the second row is short: padded
    plan = plan_for(write_xlsx(tmp_path / "w.xlsx", rows, headers=headers), shop)
    assert not plan.rejects and [r["order_sn"] for r in plan.records] == [SN1, SN2]


def test_a_device_pipe_or_folder_is_refused_before_it_is_read(tmp_path):
    """A device (``/dev/zero`` never ends), a pipe or a folder has no size to check against the
    limit: refused in one line before a byte is read (a pipe is never opened: that would wait
    for a writer)."""
    import os

    from dadan.core.spreadsheets.reading import open_source

    pipe = tmp_path / "orders.csv"
    os.mkfifo(pipe)
    for path in ("/dev/zero", "/dev/null", pipe, tmp_path):
        with pytest.raises(SpreadsheetError, match="not a file"):
            open_source(path)


def test_a_column_the_file_lacks_leaves_the_lines_field_alone(tmp_path, shop):
    """A file without a unit-price column (dadan's own export is one) imported over orders whose
    lines have prices leaves the prices as they are: the order is unchanged, with or without
    --accept-changes. A line the file does change (another count), or a price it does give, is
    written."""
    sn = "261206-999900000000401"
    head = ["订单号", "订单状态", "商品", "商品数量(件)", "商家编码-规格维度"]

    def imported(name, rows, headers=head, **kw):
        p = tmp_path / name
        p.write_text(csv_text(rows, headers), encoding="utf-8")
        out = commit_import(plan_for(p, shop), actor="t", **kw)
        assert out.committed, out.message
        return out.counts

    imported("priced.csv", [[sn, "待发货", "杯子", 1, "A12", "10.00"], [sn, "待发货", "碗", 2, "A13", "10.00"]],
             headers=[*head, "商品单价(元)"])

    def prices():
        return [it.goods_price_fen for it in OrderItem.select().order_by(OrderItem.position)]

    assert prices() == [1000, 1000]
    same = [[sn, "待发货", "杯子", 1, "A12"], [sn, "待发货", "碗", 2, "A13"]]
    assert imported("no-price.csv", same).unchanged == 1 and prices() == [1000, 1000]
    assert imported("no-price-2.csv", same, accept_changes=True).unchanged == 1 and prices() == [1000, 1000]
    assert imported("count.csv", [same[0], [sn, "待发货", "碗", 3, "A13"]], accept_changes=True).updated == 1
    assert prices() == [1000, 1000] and [it.goods_count for it in OrderItem.select().order_by(OrderItem.position)] == [1, 3]
    assert imported("repriced.csv", [[*same[0], "12.00"], [sn, "待发货", "碗", 3, "A13", "10.00"]],
                    headers=[*head, "商品单价(元)"], accept_changes=True).updated == 1
    assert prices() == [1200, 1000]


def test_numbers_to_print_in_an_orders_file_are_checked_as_a_tracking_files(tmp_path, shop):
    """An orders file's tracking numbers of orders awaiting shipment (numbers taken elsewhere,
    printed by dadan) pass the tracking file's checks: a courier dadan knows, a number of its
    shape, on no other order of the database or of the file; a refused row rejects its order.
    The same file again passes (the orders hold their numbers), and a shipped order's number is
    the platform's record, taken as it is."""
    head = ["订单号", "商品", "商品数量(件)", "订单状态", "快递公司", "快递单号"]
    book = CourierBook.from_database()

    def plan(name, rows):
        p = tmp_path / name
        p.write_text(csv_text(rows, head), encoding="utf-8")
        return plan_layout(prepare_file(p), shop_id=shop.id, couriers=book)

    first = plan("first.csv", [["261206-000000000000001", "杯子", 1, "待发货", "圆通快递", "YT7568018400001"]])
    assert not first.rejects and commit_import(first, actor="t").committed
    again = plan("again.csv", [["261206-000000000000001", "杯子", 1, "待发货", "圆通快递", "YT7568018400001"]])
    assert not again.rejects and again.counts.unchanged == 1
    p = plan("bad.csv", [
        ["261206-000000000000002", "杯子", 1, "待发货", "圆通快递", "YT12"],  # not a YTO number's shape
        ["261206-000000000000003", "杯子", 1, "待发货", "火星快递", "ZZ123456"],  # a courier nobody knows
        ["261206-000000000000004", "杯子", 1, "待发货", "圆通快递", "YT7568018400001"],  # order ...001's
        ["261206-000000000000005", "杯子", 1, "待发货", "圆通快递", "YT7568018400002"],
        ["261206-000000000000006", "杯子", 1, "待发货", "圆通快递", "YT7568018400002"],  # ...005's, in the file
        ["261206-000000000000005", "碗", 1, "待发货", "圆通快递", "YT7568018400002"],  # (its own order: fine)
        ["261206-000000000000007", "杯子", 1, "已发货", "火星快递", "ZZ1"],  # shipped: the platform's record
    ])
    assert [(r.row, r.column) for r in p.rejects] == [(2, "快递单号"), (3, "快递公司"), (4, "快递单号"), (6, "快递单号")]
    assert "already used for order 261206-000000000000001" in p.rejects[2].message
    assert "also given to order 261206-000000000000005" in p.rejects[3].message
    assert sorted(r["order_sn"] for r in p.records) == ["261206-000000000000005", "261206-000000000000007"]


def test_the_rows_of_one_order_naming_two_receivers_reject_the_order(tmp_path, shop):
    """Two rows of one order number with different receivers (or provinces) cannot be one
    parcel: the order is rejected, both rows named (the second receiver was dropped silently).
    A row leaving the receiver empty agrees with the others."""
    head = ["订单号", "商品", "商品数量(件)", "收货人", "手机", "详细地址", "省"]
    p = tmp_path / "two.csv"
    p.write_text(csv_text([
        ["261206-000000000000125", "杯子", 1, "张三丰", "13812345678", "文三路90号", "浙江省"],
        ["261206-000000000000125", "碗", 1, "李四", "13900000000", "南京路1号", "浙江省"],
        ["261206-000000000000126", "杯子", 1, "王五", "13900000001", "南京路2号", "上海"],
        ["261206-000000000000126", "碗", 1, "", "", "", ""],
        ["261206-000000000000127", "杯子", 1, "赵六", "13900000002", "南京路3号", "上海"],
        ["261206-000000000000127", "碗", 1, "赵六", "13900000002", "南京路3号", "江苏"],
    ], head), encoding="utf-8")
    plan = plan_for(p, shop)
    assert [(r.row, r.order_sn) for r in plan.rejects] == [(2, "261206-000000000000125"), (3, "261206-000000000000125"),
                                                          (6, "261206-000000000000127"), (7, "261206-000000000000127")]
    assert "different values of Receiver" in plan.rejects[0].message and "Province" in plan.rejects[2].message
    assert [r["order_sn"] for r in plan.records] == ["261206-000000000000126"]
