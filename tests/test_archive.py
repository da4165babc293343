"""Retention (``dadan archive``): which orders move, all-or-nothing per batch (kill -9
included), find / export / restore round trip, the CLI's one-line errors; on a real SQLite file."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from dadan.core import audit
from dadan.core.archive import lookup
from dadan.core.archive.move import archive, restore
from dadan.core.config import ConfigError, parse_settings
from dadan.core.db import close_database, database, open_database, write
from dadan.core.errors import NotFound
from dadan.core.models import (
    ArchivedOrder,
    AuditEvent,
    Order,
    OrderTag,
    PrintItem,
    PrintJob,
    Shipment,
    Shop,
    Tag,
    Waybill,
    WaybillOrder,
    utcnow,
)
from dadan.core.orders.fulltext import contains
from dadan.core.orders.upsert import upsert_orders
from dadan.core.spreadsheets import export as E

ROOT = Path(__file__).resolve().parents[1]
NOW = utcnow()
OLD = NOW - dt.timedelta(days=200)
RECENT = NOW - dt.timedelta(days=20)


@pytest.fixture
def db(tmp_path, request):
    """A SQLite database; a test marked :data:`both_backends` has it on PostgreSQL too."""
    from tests.conftest import Store

    open_database(Store(getattr(request, "param", "sqlite"), tmp_path).url())
    yield database()
    close_database()


# the archive paths a sync takes run on SQLite and on PostgreSQL
both_backends = pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)


def _on_sqlite() -> bool:
    from dadan.core.postgres import is_postgres

    return not is_postgres(database())


@pytest.fixture
def shop(db):
    return Shop.create(name="主店")


def _sn(i: int) -> str:
    return f"240101-{i:015d}"


def make(shop, first: int, n: int, *, status: int = 2, shipped=OLD, source: str = "api", **fields) -> list[int]:
    recs = [{"order_sn": _sn(i), "order_status": status, "refund_status": 1,
             "pay_time": dt.datetime(2024, 1, 1, 8), "pay_amount_fen": 1999 + i, "province": "浙江省",
             "city": "杭州市", "town": "西湖区", "remark": f"备注{i}", "tracking_number": f"YT{i:013d}",
             "logistics_id": 85,
             "items": [{"goods_name": "保温杯", "goods_spec": "红色", "goods_count": 2, "outer_id": "A12"},
                       {"goods_name": "杯盖", "goods_count": 1, "outer_id": "B07"}]}
            for i in range(first, first + n)]
    upsert_orders(shop.id, recs, source=source)
    ids = [o.id for o in Order.select(Order.id).where(Order.order_sn.in_([r["order_sn"] for r in recs]))]
    Order.update(shipping_time=shipped, **fields).where(Order.id.in_(ids)).execute()
    return ids


def hot_and_archived() -> tuple[set[str], set[str]]:
    hot = {sn for (sn,) in Order.select(Order.order_sn).tuples()}
    arc = {sn for (sn,) in ArchivedOrder.select(ArchivedOrder.order_sn).tuples()}
    return hot, arc


def rows_of(order_id: int) -> dict[str, list[tuple]]:
    """Everything stored about one order, as stored, ids included."""
    out = {}
    for table in ("order_item", "order_event", "shipment", "waybill_order", "print_item"):
        order = "rowid" if _on_sqlite() else ("waybill_id" if table == "waybill_order" else "id")
        out[table] = database().execute_sql(f'SELECT * FROM "{table}" WHERE order_id = ? ORDER BY {order}',
                                            (order_id,)).fetchall()
    out["order"] = database().execute_sql('SELECT * FROM "order" WHERE id = ?', (order_id,)).fetchall()
    out["tags"] = database().execute_sql('SELECT t.name, t.color FROM order_tag ot JOIN tag t ON t.id = ot.tag_id '
                                         'WHERE ot.order_id = ? ORDER BY t.name', (order_id,)).fetchall()
    out["audit"] = database().execute_sql("SELECT * FROM audit_event WHERE order_id = ? AND action NOT IN "
                                          "('archive', 'restore') ORDER BY id", (order_id,)).fetchall()
    return out


def found(text: str) -> int:
    """Orders the free-text search finds (SQLite's FTS5 index; on PostgreSQL the order rows'
    search text, which the pg_trgm index serves)."""
    where = contains(text) if _on_sqlite() else Order.search_text.contains(text)
    return Order.select().where(where).count()


def fts_ok() -> None:
    if not _on_sqlite():  # SQLite's free-text index (FTS5): PostgreSQL searches the order rows themselves
        return
    database().execute_sql("""INSERT INTO "order_fts" ("order_fts", rank) VALUES ('integrity-check', 1)""")


def test_setting_defaults_to_180_days_and_is_checked_in_one_line():
    assert parse_settings("").retention.archive_after_days == 180
    assert parse_settings("[retention]\narchive_after_days = 365\n").retention.archive_after_days == 365
    for bad, words in (("0", "between 1 and 3650"), ('"x"', "whole number"), ("99999", "between 1 and 3650")):
        with pytest.raises(ConfigError) as exc:
            parse_settings(f"[retention]\narchive_after_days = {bad}\n")
        assert "retention.archive_after_days" in exc.value.message and words in exc.value.message
        assert "\n" not in exc.value.message
    with pytest.raises(ConfigError, match="did you mean 'archive_after_days'"):
        parse_settings("[retention]\narchive_after_day = 10\n")


def test_only_old_shipped_orders_with_nothing_open_move(shop):
    moved = make(shop, 0, 5)  # shipped (platform) 200 days ago
    received = make(shop, 5, 2, status=3)
    confirmed = make(shop, 7, 1, status=1, state="confirmed", shipped_at=OLD)
    by_update = make(shop, 8, 1, shipped=None, updated_at=OLD)  # no ship time: the last update counts
    recent = make(shop, 10, 2, shipped=RECENT)
    unshipped = make(shop, 20, 2, status=1)
    marked_only = make(shop, 30, 1, status=1, state="shipped", shipped_at=OLD)  # platform not told yet
    flagged = make(shop, 40, 1, exception_flags=1)
    after_sale = make(shop, 41, 1, refund_status=3)
    printing_ = make(shop, 42, 1)
    job = PrintJob.create(printer="p", template="t")
    PrintItem.create(job=job, seq=1, order=printing_[0], state="queued")
    outbox = make(shop, 43, 1)
    Shipment.create(order=outbox[0], tracking_number="YT1", logistics_id=85, state="failed")
    live = make(shop, 44, 1)
    wb = Waybill.create(shop=shop, wp_code="YTO", object_id="o1", package_id="p1", code="YT9", state="printed")
    WaybillOrder.create(waybill=wb, order=live[0])
    done_print = make(shop, 45, 1)  # finished labels, confirmed shipment, shipped parcel: nothing open
    PrintItem.create(job=job, seq=2, order=done_print[0], state="sent")
    Shipment.create(order=done_print[0], tracking_number="YT2", logistics_id=85, state="confirmed")
    wb2 = Waybill.create(shop=shop, wp_code="YTO", object_id="o2", package_id="p2", code="YT8", state="shipped")
    WaybillOrder.create(waybill=wb2, order=done_print[0])

    dry = archive(180, actor="ann", dry_run=True)
    assert dry.moved == 10 and Order.select().count() == 20 and ArchivedOrder.select().count() == 0
    res = archive(180, actor="ann", batch=4)
    assert res.moved == 10
    assert res.kept == {"exception": 1, "after_sale": 1, "print": 1, "outbox": 1, "waybill": 1}
    gone = set(moved + received + confirmed + by_update + done_print)
    assert not Order.select().where(Order.id.in_(list(gone))).exists()
    left = set(recent + unshipped + marked_only + flagged + after_sale + printing_ + outbox + live)
    assert {o.id for o in Order.select()} == left
    line = res.summary()
    assert "archived 10 orders shipped before" in line and "kept 5" in line and "open exception" in line
    assert "\n" not in line
    batches = AuditEvent.select().where(AuditEvent.action == "archive")
    assert [a.actor for a in batches] == ["ann"] * 3  # 4 + 4 + 2
    assert archive(180, actor="ann").moved == 0  # nothing twice
    fts_ok()


def test_cut_off_follows_the_days_given(shop):
    make(shop, 0, 3, shipped=NOW - dt.timedelta(days=40))
    assert archive(45, actor="a").moved == 0
    assert archive(30, actor="a").moved == 3


def test_an_order_that_changed_since_the_plan_stays_hot(shop, monkeypatch):
    ids = make(shop, 0, 6)
    from dadan.core.archive import eligibility

    real = eligibility.plan

    def stale_plan(before):  # another terminal raises an exception after the plan was made
        planned = real(before)
        Order.update(exception_flags=1).where(Order.id == ids[2]).execute()
        return planned

    monkeypatch.setattr(eligibility, "plan", stale_plan)
    assert archive(180, actor="a").moved == 5
    assert Order.get_by_id(ids[2]).order_sn == _sn(2)


def test_a_failing_batch_leaves_its_orders_hot_and_the_earlier_batches_archived(shop, monkeypatch):
    make(shop, 0, 10)
    calls = []

    def boom(n):
        calls.append(n)
        if len(calls) == 2:
            raise RuntimeError("disk pulled")

    with pytest.raises(RuntimeError):
        archive(180, actor="a", batch=4, progress=boom)
    hot, arc = hot_and_archived()
    assert len(arc) == 4 and len(hot) == 6 and not hot & arc
    fts_ok()


def test_kill_minus_9_mid_batch_leaves_every_order_hot_or_archived(shop, tmp_path):
    make(shop, 0, 300)
    every = {_sn(i) for i in range(300)}
    close_database()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-m", "tests.fakes.archive_child", str(tmp_path), "50"], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while (line := child.stdout.readline()) and line.strip() != "holding":
            lines.append(line.strip())
        assert line.strip() == "holding", child.stderr.read()
        assert lines == ["moved 50", "moved 100", "moved 150"]  # the third batch moved, not committed
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    open_database(f"sqlite:///{tmp_path / 'dadan.db'}")
    hot, arc = hot_and_archived()
    assert len(arc) == 100 and len(hot) == 200  # two batches committed, the third rolled back
    assert hot | arc == every and not hot & arc
    assert ArchivedOrder.select().count() == 100
    fts_ok()
    assert archive(180, actor="a").moved == 200  # a second run finishes the job
    hot, arc = hot_and_archived()
    assert hot == set() and arc == every


@both_backends
def test_restore_gives_back_the_identical_order_with_items_tags_and_history(shop):
    (oid,) = make(shop, 0, 1, note="内部")
    make(shop, 1, 3)
    red = Tag.create(name="加急", color="red")
    OrderTag.create(order=oid, tag=red)
    with write():
        audit.order_event(oid, "ship", "shipped YT0")
        audit.record("reprint", actor="ann", order_id=oid, reason="smudged")
    Shipment.create(order=oid, tracking_number="YT0000000000000", logistics_id=85, state="confirmed")
    job = PrintJob.create(printer="p", template="t")
    PrintItem.create(job=job, seq=1, order=oid, state="sent")
    wb = Waybill.create(shop=shop, wp_code="YTO", object_id="o1", package_id="p1", code="YT0000000000000",
                        state="shipped")
    WaybillOrder.create(waybill=wb, order=oid)
    before = rows_of(oid)
    assert all(before[t] for t in before)
    assert found("保温杯") == 4

    archive(180, actor="ann")
    assert not Order.select().exists()
    assert rows_of(oid)["print_item"] == [] and PrintItem.select().count() == 1  # the label stays on its job
    assert found("保温杯") == 0  # the free-text index followed
    fts_ok()

    assert restore(_sn(0), actor="bob") == oid
    assert rows_of(oid) == before
    assert found("保温杯") == 1
    fts_ok()
    assert ArchivedOrder.select().count() == 3
    ev = AuditEvent.get(AuditEvent.action == "restore")
    assert ev.actor == "bob" and ev.order_id == oid and ev.target == _sn(0)
    with pytest.raises(NotFound):
        restore(_sn(0), actor="bob")
    with pytest.raises(NotFound):
        restore("nope", actor="bob")


@both_backends
def test_restore_refuses_an_order_synced_again_and_takes_a_new_id_when_its_own_is_taken(shop):
    ids = make(shop, 0, 2)
    archive(180, actor="a")
    make(shop, 0, 1, status=1, shipped=None, source="import")  # an old file brought order 0 back: it is hot
    with pytest.raises(Exception, match="already"):
        restore(_sn(0), actor="a")
    newer = make(shop, 5, 1, status=1, shipped=None)[0]
    assert newer == ids[1] or newer > ids[1]
    restored = restore(_sn(1), actor="a")
    assert Order.get_by_id(restored).order_sn == _sn(1) and len(Order.get_by_id(restored).items) == 2


@both_backends
def test_an_archived_order_the_platform_changes_comes_back_with_its_history(shop):
    """Sync brings an after-sale on an order archived months ago: the order comes back from the
    archive (same id, its events and tags) and takes the change, never a fresh copy beside it."""
    (oid,) = make(shop, 0, 1)
    make(shop, 1, 1)
    with write():
        audit.order_event(oid, "ship", "shipped YT0")
    before = rows_of(oid)
    archive(180, actor="ann")
    assert not Order.select().exists()
    rec = {"order_sn": _sn(0), "order_status": 2, "refund_status": 2, "after_sales_status": 2,
           "pay_time": dt.datetime(2024, 1, 1, 8), "pay_amount_fen": 1999, "updated_at": NOW,
           "items": [{"goods_name": "保温杯", "goods_spec": "红色", "goods_count": 2, "outer_id": "A12"},
                     {"goods_name": "杯盖", "goods_count": 1, "outer_id": "B07"}]}
    res = upsert_orders(shop.id, [rec], source="api")
    assert res.restored == 1 and res.new == 0 and res.changed == 1
    order = Order.get(Order.order_sn == _sn(0))
    assert order.id == oid and order.refund_status == 2
    assert rows_of(oid)["order_event"][: len(before["order_event"])] == before["order_event"]
    hot, arc = hot_and_archived()
    assert hot == {_sn(0)} and arc == {_sn(1)}
    ev = AuditEvent.get(AuditEvent.action == "restore")
    assert ev.actor == "sync" and ev.order_id == oid
    assert found("保温杯") == 1
    fts_ok()


def test_find_by_order_or_tracking_number_exact_or_prefix(shop):
    make(shop, 0, 12)
    archive(180, actor="a")
    assert [a.order_sn for a in lookup.find(_sn(7))] == [_sn(7)]
    assert {a.order_sn for a in lookup.find("240101-00000000000001")} == {_sn(10), _sn(11)}
    assert [a.order_sn for a in lookup.find("YT0000000000003")] == [_sn(3)]
    assert [a.order_sn for a in lookup.find("yt0000000000003")] == [_sn(3)]  # scanners send lower case
    assert len(lookup.find("YT00000000000")) == 12
    assert lookup.find("ZT") == [] and lookup.find("  ") == []
    plan = database().execute_sql('EXPLAIN QUERY PLAN SELECT id FROM archived_order WHERE tracking_number != \'\' '
                                  'AND tracking_number >= ? AND tracking_number < ?', ("YT", "YU")).fetchall()
    assert "archived_order_tracking_number_set" in str(plan)
    plan = database().execute_sql("EXPLAIN QUERY PLAN SELECT id FROM archived_order WHERE order_sn >= ? "
                                  "AND order_sn < ?", ("24", "25")).fetchall()
    assert "archived_order_order_sn_shop_id" in str(plan)
    assert "archived on" in lookup.archived_note("YT0000000000003")
    assert lookup.archived_note("nothing") == ""


def test_export_has_the_order_export_columns_and_filters_by_ship_date(shop, tmp_path):
    make(shop, 0, 3)
    make(shop, 3, 2, shipped=OLD - dt.timedelta(days=30))
    hot_csv = tmp_path / "hot.csv"
    E.export("orders", "csv", hot_csv)
    archive(180, actor="a")
    out = tmp_path / "arc.csv"
    res = E.export("orders", "csv", out, source=lookup.iter_archived)
    assert res.orders == 5 and res.rows == 10
    with open(hot_csv, encoding="utf-8-sig") as fh_hot, open(out, encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh)) == list(csv.reader(fh_hot))  # the same file, from the archive
    day = (OLD - dt.timedelta(days=30)).date()
    only = E.export("orders", "xlsx", tmp_path / "a.xlsx", where=lookup.shipped_between(day, day, "UTC"),
                    source=lookup.iter_archived)
    assert only.orders == 2
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx").active
    assert [c.value for c in ws[1]] == E.ORDER_COLUMNS
    assert {r[1] for r in ws.iter_rows(min_row=2, values_only=True)} == {_sn(3), _sn(4)}


def test_a_scan_of_an_archived_parcel_says_when_it_was_archived(shop):
    from dadan.core.shipping.scan import ship_scan

    make(shop, 0, 1)
    archive(180, actor="a", now=NOW)
    out = ship_scan("YT0000000000000", actor="a", tz="UTC")
    assert out.kind == "unknown" and not out.ok
    assert out.message == (f"WRONG PARCEL: no order has the code YT0000000000000; archived on {NOW:%Y-%m-%d} — "
                           "`dadan archive find YT0000000000000`")
    assert ship_scan("YT404", actor="a").message == "WRONG PARCEL: no order has the code YT404"
