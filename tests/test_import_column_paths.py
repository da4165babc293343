"""The column-at-a-time paths of the import check give exactly what the cell-by-cell parsers
give: the time parser bound to a zone, the sharing of distinct cells, and the item lists that
rows of the same goods share."""

from __future__ import annotations

import datetime as dt

import pytest

from dadan.core.models import OrderItem, Shop
from dadan.core.spreadsheets.cells import parse_time, time_parser
from dadan.core.spreadsheets.commit import commit_import
from dadan.core.spreadsheets.errors import CellError
from dadan.core.spreadsheets.rows import _BAD, _parse_column, clean_text
from tests.test_import_core import SN1, SN2, SN3, db, line, plan_for, write_xlsx  # noqa: F401

CELLS = ["2023-11-14 10:00:00", " 2023-11-14 10:00:00\t", "2023-02-30 10:00:00", "1999-12-31 23:59:59",
         "2101-01-01 00:00:00", "2023/11/14 9:05", "2023年11月14日 09:05", "2023-11-14T10:00:00", "20231114",
         "2023-11-14 10:00+08", "２０２3-11-14 10:00:00", "2023-11-14 1a:00:00", "2023-11-14 10:00:0Z",
         "2023-11-14 10:00:00.5", "2023-11-14 24:00:00", "2024-03-10 02:30:00", "2024-11-03 01:30:00", "明天", "", 45244.5, 3.0,
         dt.datetime(2023, 11, 14, 10, 0, 0, 5), dt.date(2023, 11, 14), dt.time(9, 5)]


def _outcome(fn, v):
    try:
        return fn(v)
    except CellError as exc:
        return ("refused", str(exc))


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "UTC"])
def test_the_zone_bound_time_parser_reads_every_cell_as_parse_time(tz):
    fast = time_parser(tz)
    for v in CELLS:
        assert _outcome(fast, v) == _outcome(lambda c: parse_time(c, tz), v), v
    assert fast("2023-11-14 10:00:00") == dt.datetime(2023, 11, 14, 10) - dt.timedelta(
        hours={"Asia/Shanghai": 8, "America/New_York": -5, "UTC": 0}[tz])


def _count(v):
    if v is True or v == "x":
        raise CellError("bad")
    return int(v)


@pytest.mark.parametrize("n", [8, 300])  # a short column, and one long enough to be sampled
def test_shared_cells_of_one_kind_of_number_or_several(n):
    floats = [float(i % 3 + 1) for i in range(n)]
    assert _parse_column(floats, _count, False) == ([i % 3 + 1 for i in range(n)], False)
    mixed = [[1, 1.0, True, "1", None][i % 5] for i in range(n)]
    got, bad = _parse_column(mixed, _count, False)
    assert bad and got == [[1, 1, _BAD, 1, None][i % 5] for i in range(n)]
    distinct = [f"{i:06d}" if i % 7 else "x" for i in range(n)]  # nearly all differ, a bad one among them
    got, bad = _parse_column(distinct, _count, True)
    assert bad and got == [i if i % 7 else _BAD for i in range(n)]
    unhashable = [[1], 2.0] * (n // 2)
    assert _parse_column(unhashable, lambda v: str(v), False) == (["[1]", "2.0"] * (n // 2), False)


@pytest.mark.parametrize("n", [8, 300])
def test_text_cells_read_as_clean_text_reads_them(n):
    cells = [[" 红色 ", '="0012"', "'0034", "", None, "  ", "=SUM(A1)", 12.0, f"备注{n}"][i % 9] for i in range(n)]
    cells += [f"地址{i}" for i in range(n)]  # and a run of distinct ones
    want = [clean_text(v) or None if v is not None else None for v in cells]
    assert _parse_column(cells, clean_text, False) == (want, False)


def test_orders_of_the_same_goods_each_get_their_own_items(tmp_path, db):
    shop = Shop.create(name="主店")
    rows = [line(SN1), line(SN2), line(SN3, count=2), line(SN3, goods="盖子", outer="B07")]
    plan = plan_for(write_xlsx(tmp_path / "same.xlsx", rows), shop)
    assert not plan.rejects
    by = {r["order_sn"]: r for r in plan.records}
    assert by[SN1]["items"] == by[SN2]["items"] and len(by[SN3]["items"]) == 2
    assert commit_import(plan, actor="t").committed
    stored = {}
    for it in OrderItem.select().order_by(OrderItem.order, OrderItem.position):
        stored.setdefault(it.order.order_sn, []).append((it.goods_name, it.goods_count, it.outer_id))
    assert stored == {SN1: [("保温杯", 1, "A12")], SN2: [("保温杯", 1, "A12")],
                      SN3: [("保温杯", 2, "A12"), ("盖子", 1, "B07")]}
