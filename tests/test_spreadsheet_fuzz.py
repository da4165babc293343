"""Fuzzing the spreadsheet reader: random bytes and random cells give a clean
SpreadsheetError or a result, never a traceback; the generated hostile corpus
(:mod:`tests.hostile_corpus`) runs through the whole import: no traceback, no hang, no change
to the database on a refused file."""

from __future__ import annotations

import datetime as dt
import signal
import tempfile
import time
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dadan.core.db import close_database, open_database
from dadan.core.models import Shop
from dadan.core.orders.couriers import CourierBook
from dadan.core.spreadsheets.commit import commit_import
from dadan.core.spreadsheets.errors import NeedsMapping, NeedsSheet, SpreadsheetError
from dadan.core.spreadsheets.layout import prepare
from dadan.core.spreadsheets.mappings import SavedMappings
from dadan.core.spreadsheets.plan import plan_import
from dadan.core.spreadsheets.rejects import write_rejects
from dadan.core.visible import visible
from tests import hostile_corpus
from tests.test_import_core import dump

KNOWN = ["订单号", "商品", "商品数量(件)", "用户实付金额(元)", "订单状态", "售后状态", "订单成交时间", "快递单号", "快递公司",
         "商品id", "样式ID", "承诺发货时间", "省", "Order number", "qty", "其它"]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@pytest.fixture(scope="module")
def shop_id(tmp_path_factory):
    open_database(f"sqlite:///{tmp_path_factory.mktemp('fz') / 'd.db'}")
    sid = Shop.create(name="fz").id
    yield sid
    close_database()


def _run(path: Path, shop_id: int) -> None:
    try:
        lay = prepare(path, saved=SavedMappings())
    except NeedsMapping as exc:
        lay = exc.layout
        assert len(lay.preview(3, masked=True)) == len(lay.preview(3))
        return
    except SpreadsheetError as exc:
        assert exc.message
        return
    try:
        plan = plan_import(lay, shop_id=shop_id, couriers=CourierBook.from_database())
    except SpreadsheetError as exc:  # a row cut short refuses the whole file
        assert exc.message
        return
    for r in plan.rejects:
        assert r.message and r.row >= 1
    assert plan.counts.rejected == len(plan.rejects)


@SETTINGS
@given(data=st.binary(max_size=2000), prefix=st.sampled_from([b"", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe",
                                                             "订单号,商品\n".encode("gbk")]))
def test_random_bytes(shop_id, data, prefix):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f.csv"
        p.write_bytes(prefix + data)
        _run(p, shop_id)


_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
_cell = st.one_of(
    st.none(), _text, st.integers(min_value=-10**22, max_value=10**22),
    st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2200, 1, 1)),
    st.sampled_from(["231114-123456789012345", "\t231114-123456789012346", "2.31114E+20", "¥1,2.3", "-0", "待发货",
                     "退款中", "2023-02-30", "=1+1", "合计"]),
)


@SETTINGS
@given(headers=st.lists(st.sampled_from(KNOWN) | _text, min_size=1, max_size=8),
       rows=st.lists(st.lists(_cell, max_size=9), max_size=12))
def test_random_cells_xlsx(shop_id, headers, rows):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(headers)
        for r in rows:
            ws.append(r)
        wb.save(p)
        _run(p, shop_id)


@SETTINGS
@given(headers=st.lists(st.sampled_from(KNOWN), min_size=1, max_size=8),
       rows=st.lists(st.lists(_text, max_size=9), max_size=12),
       enc=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]), sep=st.sampled_from([",", "\t"]))
def test_random_cells_csv(shop_id, headers, rows, enc, sep):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep)
    w.writerow(headers)
    for r in rows:
        w.writerow(r)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f.csv"
        p.write_bytes(buf.getvalue().encode(enc))
        _run(p, shop_id)


# ------------------------------------------------------------------ the generated hostile corpus
CORPUS = hostile_corpus.corpus()
CASE_SECONDS = 10  # a case taking longer is a hang


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A database holding the good export (the corpus mangles that same export)."""
    folder = tmp_path_factory.mktemp("corpus")
    db = open_database(f"sqlite:///{folder / 'd.db'}")
    sid = Shop.create(name="corpus").id
    good = folder / "good.csv"
    good.write_bytes(hostile_corpus.base_csv())
    plan = plan_import(prepare(good, saved=SavedMappings()), shop_id=sid, couriers=CourierBook.from_database())
    assert commit_import(plan, actor="t").committed
    yield db, sid, folder
    close_database()


class _Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Hang()


def _import(path: Path, shop_id: int):
    """The CLI's and the screen's way through a file, with no acceptance of rejects or
    changes: (committed, plan or None)."""
    try:
        lay = prepare(path, saved=SavedMappings())
        plan = plan_import(lay, shop_id=shop_id, couriers=CourierBook.from_database())
    except (NeedsMapping, NeedsSheet):
        return False, None
    except SpreadsheetError as exc:
        assert exc.message and "\x1b" not in visible(exc.message)
        return False, None
    for r in plan.rejects:
        assert r.message and r.row >= 1 and "\x1b" not in visible(r.text())
    if plan.rejects:
        assert write_rejects(plan, path.with_suffix(".rejects.xlsx")) is not None
    out = commit_import(plan, actor="corpus")
    return out.committed, plan


def _orders(db) -> dict:
    return {sn: (amount, n) for sn, amount, n in db.execute_sql(
        'SELECT o.order_sn, o.pay_amount_fen, (SELECT count(*) FROM order_item i WHERE i.order_id = o.id) '
        'FROM "order" o').fetchall()}


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_hostile_corpus(loaded, case):
    """0 tracebacks, 0 hangs; a refused file changes nothing; an accepted one never drops an
    order's items or changes its amount (that needs explicit acceptance)."""
    db, sid, folder = loaded
    path = folder / f"case{case.suffix}"
    path.write_bytes(case.data)
    before, orders = dump(db), _orders(db)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        committed, _plan = _import(path, sid)
    except _Hang:
        pytest.fail(f"{case.name}: no answer in {CASE_SECONDS} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    if not committed:
        assert dump(db) == before
    else:
        after = _orders(db)
        assert {sn: after[sn] for sn in orders} == orders


def test_a_zip_bomb_is_refused_at_once(loaded, tmp_path):
    db, sid, _folder = loaded
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(hostile_corpus.zip_bomb())
    before = dump(db)
    t0 = time.monotonic()
    assert _import(path, sid) == (False, None)
    assert time.monotonic() - t0 < 2 and dump(db) == before
