"""Import cells that used to come in as silently wrong values, imported from real files (a CSV
written with Python's csv module, an xlsx written with openpyxl): each is now read right or
its row rejected, naming the row and the column with a one-line reason.

- a decimal comma ("19,90", "1,5") was read as a thousands separator (¥1,990.00, 15 pieces);
- order-status text with 签收 in it was "received", even negated (未签收, 已发货，待签收);
- a time zone (Z, +00:00) or AM/PM after a time was cut off;
- "1e2" pieces and "19.999" yuan were rounded into something else.

The forms that were right stay right ("1,990.50", "2026-12-05 10:00:00", "已发货，待收货")."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from dadan.core.goods.files import plan_goods
from dadan.core.models import Order, OrderItem
from dadan.core.spreadsheets.cells import parse_whole
from dadan.core.spreadsheets.commit import commit_import
from dadan.core.spreadsheets.errors import CellError
from tests.test_import_core import HEADERS, db, line, plan_import, prepare, shop, write_xlsx  # noqa: F401

PAY, COUNT, STATUS, PAID_AT = "用户实付金额(元)", "商品数量(件)", "订单状态", "支付时间"
WITH_PAY_TIME = [*HEADERS, PAID_AT]


def sn(i: int) -> str:
    return f"261205-{i:015d}"


def write_csv(path, rows, headers=HEADERS):
    """A UTF-8 CSV as Python's csv module writes it (every cell text, commas quoted)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(headers)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    return path


def plan_file(tmp_path, shop, kind, rows, headers=HEADERS):  # noqa: F811 - the shop fixture's value
    path = tmp_path / f"orders.{kind}"
    (write_csv if kind == "csv" else write_xlsx)(path, rows, headers=headers)
    return plan_import(prepare(path), shop_id=shop.id)


def rows_of(cells: dict, column: str, **over) -> list[list]:
    """One order a row (order numbers sn(1), sn(2)...), ``column`` holding each cell in turn."""
    return [line(sn(i), **{column: cell}, **over) for i, cell in enumerate(cells, 1)]


def outcome(plan, cells: dict, field):
    """{cell: the planned value, or the reject as (row, column, message)}, in the file's order."""
    rejects = {r.row: (r.row, r.column, r.message) for r in plan.rejects}
    by_sn = {r["order_sn"]: r for r in plan.records}
    out = {}
    for i, cell in enumerate(cells, 1):
        out[cell] = rejects[i + 1] if i + 1 in rejects else field(by_sn[sn(i)])
    return out


def pay_fen(rec):
    return rec["pay_amount_fen"]


# ------------------------------------------------------------------ money
GOOD_MONEY = {"1,990.50": 199050, "1,990": 199000, "12,345.60": 1234560, "¥1,234": 123400, "￥1,012.5元": 101250,
              "1，990": 199000, "1,000,000.00": 100000000, "19.990": 1999, "29.90": 2990, "12.5": 1250,
              "RMB 3.00": 300, "1 234.50": 123450}
COMMA = "a comma separates thousands: 1,234.50"
BAD_MONEY = {"19,90": COMMA, "1,5": COMMA, "1,2345": COMMA, "19，90": COMMA, "0,5": COMMA, "1,00,000": COMMA,
             "19 90": "a space separates thousands only",
             "19.999": "has more than two decimals", "12.345": "has more than two decimals",
             "1e2": "scientific notation"}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_decimal_comma_or_a_third_decimal_in_money_rejects_the_row(tmp_path, shop, kind):  # noqa: F811
    cells = {**GOOD_MONEY, **BAD_MONEY}
    plan = plan_file(tmp_path, shop, kind, rows_of(cells, PAY))
    got = outcome(plan, cells, pay_fen)
    assert {c: got[c] for c in GOOD_MONEY} == GOOD_MONEY
    for i, (cell, words) in enumerate(cells.items(), 1):
        if cell in BAD_MONEY:
            row, column, message = got[cell]
            assert (row, column) == (i + 1, PAY) and words in message and f"'{cell}'" in message, got[cell]
            assert "\n" not in message
    assert len(plan.rejects) == len(BAD_MONEY)
    assert plan.rejects[0].text() == ("row 14, column 用户实付金额(元): '19,90' is not an amount in yuan "
                                      "(a comma separates thousands: 1,234.50)")


def test_money_number_cells_of_an_xlsx_are_read_to_the_fen(tmp_path, shop):  # noqa: F811
    """A number cell is the value Excel holds: 19.9 is 1990 fen however the float stores it
    (no float noise is refused); a number cell with a third decimal is rounded to the fen, as
    Excel shows it (only text with a third decimal is refused)."""
    cells = {19.9: 1990, 0.1 + 0.2: 30, 29.9: 2990, 1990.5: 199050, 12: 1200, 19.999: 2000}
    plan = plan_file(tmp_path, shop, "xlsx", rows_of(cells, PAY))
    assert not plan.rejects
    assert outcome(plan, cells, pay_fen) == cells


# ------------------------------------------------------------------ quantities and stock
def first_count(rec):
    return rec["items"][0]["goods_count"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_quantity_is_a_whole_number_in_digits(tmp_path, shop, kind):  # noqa: F811
    cells = {"1,5": "a comma separates thousands: 1,234", "10,0": "a comma separates thousands",
             "1e2": "scientific notation", "1E2": "scientific notation", "1.5": "not a whole number",
             "2": 2, "2.0": 2, "1,000": 1000, "3件": 3}
    plan = plan_file(tmp_path, shop, kind, rows_of(cells, COUNT))
    got = outcome(plan, cells, first_count)
    for i, (cell, want) in enumerate(cells.items(), 1):
        if isinstance(want, int):
            assert got[cell] == want, cell
        else:
            row, column, message = got[cell]
            assert (row, column) == (i + 1, COUNT) and want in message and message.startswith("quantity"), got[cell]
    assert len(plan.rejects) == 5


def test_quantity_number_cells_of_an_xlsx(tmp_path, shop):  # noqa: F811
    cells = {2.0: 2, 3: 3, 100.0: 100, 2.5: "not a whole number"}
    plan = plan_file(tmp_path, shop, "xlsx", rows_of(cells, COUNT))
    got = outcome(plan, cells, first_count)
    assert {c: got[c] for c in (2.0, 3, 100.0)} == {2.0: 2, 3: 3, 100.0: 100}
    assert got[2.5][:2] == (5, COUNT) and "quantity 2.5 is not a whole number" in got[2.5][2]


def test_stock_counts_of_a_goods_file(tmp_path, db):  # noqa: F811
    """The goods file's 库存 column (read as the order file's quantities are): "1,000" is 1000;
    "1e2", "1,5" and "2.5" reject their row naming the column."""
    path = write_csv(tmp_path / "goods.csv", [["S1", "杯子", "1,000"], ["S2", "碗", "1e2"], ["S3", "盘", "1,5"],
                                              ["S4", "勺", "2.5"], ["S5", "筷", "12"]], headers=["商家编码", "商品名称", "库存"])
    plan = plan_goods(path)
    assert {r.code: r.on_hand for r in plan.records} == {"S1": 1000, "S5": 12}
    got = [(r.row, r.column, r.message) for r in plan.rejects]
    assert [g[:2] for g in got] == [(3, "库存"), (4, "库存"), (5, "库存")]
    assert "scientific notation" in got[0][2] and "a comma separates thousands" in got[1][2]
    assert "not a whole number" in got[2][2]


@pytest.mark.parametrize("cell,want", [("1,000", 1000), ("12,345", 12345), ("1，000", 1000), (5.0, 5), ("+4", 4),
                                       ("1e2", "scientific notation"), ("1,5", "comma"), ("1,2345", "comma"),
                                       (2.5, "not a whole number"), ("-3", "at least 0"), ("半斤", "not a number")])
def test_parse_whole(cell, want):
    try:
        got = parse_whole(cell, "stock", "库存")
    except CellError as exc:
        assert isinstance(want, str) and want in str(exc) and str(exc).startswith("stock")
    else:
        assert got == want


# ------------------------------------------------------------------ order status
STATUSES = {
    # negations of 签收/收货 never read as received
    "已发货，待签收": 2, "已发货,待签收": 2, "已发货 待签收": 2, "未签收": 2, "待签收": 2, "未收货": 2, "待买家签收": 2,
    "待确认收货": 2, "待发货，未签收": 1, "待发货,未签收": 1,
    # the platform's words, as before
    "待发货": 1, "待发货(已成团)": 1, "待发货（已成团）": 1, "已成团待发货": 1, "待成团": 1, "未发货": 1,
    "已发货": 2, "待收货": 2, "已发货，待收货": 2, "已发货,待收货": 2, "已发货待签收": 2,
    "已签收": 3, "已收货": 3, "交易成功": 3, "已完成": 3, "买家已签收": 3, "确认收货": 3, "已发货，已签收": 3,
    "已取消": 0, "交易关闭": 0, "已关闭": 0, "订单取消": 0,
    "pending": 1, "shipped": 2, "received": 3, "completed": 3, "cancelled": 0, "1": 1, "3": 3,
    "拼单成功，待发货": 1,
    # what says two things or nothing plain
    "签收": "ambiguous", "已发货，买家签收": "ambiguous", "待发货，已发货": "ambiguous", "已签收，未签收": "ambiguous",
    "退款成功": "ambiguous", "未取消": "ambiguous", "火星": "unknown order status", "拼单成功": "unknown order status",
}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_order_status_text(tmp_path, shop, kind):  # noqa: F811
    plan = plan_file(tmp_path, shop, kind, rows_of(STATUSES, STATUS))
    got = outcome(plan, STATUSES, lambda rec: rec["order_status"])
    for i, (cell, want) in enumerate(STATUSES.items(), 1):
        if isinstance(want, int):
            assert got[cell] == want, cell
        else:
            row, column, message = got[cell]
            assert (row, column) == (i + 1, STATUS) and want in message and f"'{cell}'" in message, got[cell]
    assert len(plan.rejects) == sum(isinstance(w, str) for w in STATUSES.values())


# ------------------------------------------------------------------ times
CHINA = dt.timedelta(hours=8)
TIMES = {
    "2026-12-05 10:00:00": dt.datetime(2026, 12, 5, 2, 0),  # China time, as the export writes it
    "2026-12-05T02:00:00Z": dt.datetime(2026, 12, 5, 2, 0),
    "2026-12-05T02:00:00+00:00": dt.datetime(2026, 12, 5, 2, 0),
    "2026-12-05T02:00:00.000Z": dt.datetime(2026, 12, 5, 2, 0),
    "2026-12-05 10:00:00+08:00": dt.datetime(2026, 12, 5, 2, 0),
    "2026-12-05 10:00:00 +0800": dt.datetime(2026, 12, 5, 2, 0),
    "2026-12-05 10:00:00 UTC": dt.datetime(2026, 12, 5, 10, 0),
    "2026-12-05T10:00:00-05:00": dt.datetime(2026, 12, 5, 15, 0),
    "2026-12-05 10:00:00 PM": dt.datetime(2026, 12, 5, 22, 0) - CHINA,
    "2026-12-05 10:00:00 AM": dt.datetime(2026, 12, 5, 10, 0) - CHINA,
    "2026-12-05 12:00:00 AM": dt.datetime(2026, 12, 5, 0, 0) - CHINA,
    "2026-12-05 12:30:00 PM": dt.datetime(2026, 12, 5, 12, 30) - CHINA,
    "2026/12/5 下午 3:05": dt.datetime(2026, 12, 5, 15, 5) - CHINA,
    "2026年12月5日 上午9:05": dt.datetime(2026, 12, 5, 9, 5) - CHINA,
    "2026/12/05 10:00": dt.datetime(2026, 12, 5, 2, 0),
    "2026-12-05 10:00:00.5": dt.datetime(2026, 12, 5, 2, 0),
    "2026-12-05": dt.datetime(2026, 12, 4, 16, 0),
    # text the reader cannot read after the time is refused, never cut off
    "2026-12-05 10:00:00 CST": "'CST' at its end cannot be read",
    "2026-12-05 10:00:00 星期六": "'星期六' at its end cannot be read",
    "2026-12-05 10:00:00Zjunk": "'junk' at its end cannot be read",
    "2026-12-05 13:00:00 AM": "impossible date",
    "2026-12-05 10:00:00+25:00": "impossible time-zone offset",
}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_times_keep_their_zone_and_their_half_of_the_day(tmp_path, shop, kind):  # noqa: F811
    rows = [line(sn(i)) + [cell] for i, cell in enumerate(TIMES, 1)]
    plan = plan_file(tmp_path, shop, kind, rows, headers=WITH_PAY_TIME)
    got = outcome(plan, TIMES, lambda rec: rec["pay_time"])
    for i, (cell, want) in enumerate(TIMES.items(), 1):
        if isinstance(want, dt.datetime):
            assert got[cell] == want, cell
        else:
            row, column, message = got[cell]
            assert (row, column) == (i + 1, PAID_AT) and want in message and cell in message, got[cell]
    assert len(plan.rejects) == 5


def test_a_time_cell_of_an_xlsx_is_china_time(tmp_path, shop):  # noqa: F811
    rows = [line(sn(1)) + [dt.datetime(2026, 12, 5, 22, 0)]]
    plan = plan_file(tmp_path, shop, "xlsx", rows, headers=WITH_PAY_TIME)
    assert not plan.rejects and plan.records[0]["pay_time"] == dt.datetime(2026, 12, 5, 14, 0)


# ------------------------------------------------------------------ stored
def test_what_a_partial_import_stores(tmp_path, shop):  # noqa: F811
    """The good rows are stored with the values read right; the bad rows are not stored."""
    rows = [
        line(sn(1), status="已发货，待签收", **{PAY: "1,990.50", COUNT: "2"}) + ["2026-12-05T02:00:00Z"],
        line(sn(2), status="待发货，未签收", **{PAY: "19.90", COUNT: "1,000"}) + ["2026-12-05 10:00:00 PM"],
        line(sn(3), status="已发货，待收货", **{PAY: "19,90"}) + ["2026-12-05 10:00:00"],
        line(sn(4), **{COUNT: "1,5"}) + ["2026-12-05 10:00:00"],
        line(sn(5), **{PAY: "19.999"}) + ["2026-12-05 10:00:00"],
        line(sn(6)) + ["2026-12-05 10:00:00 CST"],
    ]
    plan = plan_file(tmp_path, shop, "csv", rows, headers=WITH_PAY_TIME)
    assert [(r.row, r.column) for r in plan.rejects] == [(4, PAY), (5, COUNT), (6, PAY), (7, PAID_AT)]
    assert not commit_import(plan, actor="t").committed  # rejects: nothing without accepting them
    assert Order.select().count() == 0
    assert commit_import(plan, actor="t", allow_partial=True).committed
    stored = {o.order_sn: (o.order_status, o.pay_amount_fen, o.pay_time) for o in Order.select()}
    assert stored == {sn(1): (2, 199050, dt.datetime(2026, 12, 5, 2, 0)),
                      sn(2): (1, 1990, dt.datetime(2026, 12, 5, 14, 0))}
    counts = {it.order.order_sn: it.goods_count for it in OrderItem.select()}
    assert counts == {sn(1): 2, sn(2): 1000}
