"""The oversell guard finds where the shelf stops covering a SKU's line by walking it from the end
nearer that place (core.goods.guard): from the tail, when the shelf covers most of the line, the
same place, shortfall and covered-but-flagged orders as the walk from the head. An import runs the
guard once, at its end (core.goods.ledger.guard_once): the same flags as the guard after each
piece, one raise event per short order."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from dadan.core.db import close_database, database, open_database, write
from dadan.core.goods import catalogue, guard
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.models import Goods
from dadan.core.models import AuditEvent, Order, Shop
from dadan.core.orders.rules import Flag
from dadan.core.orders.upsert import upsert_orders
from dadan.core.spreadsheets import commit
from tests.test_import_core import line, plan_for, write_xlsx
from tests.test_stock_property import expected

T0 = dt.datetime(2026, 11, 20, 8, 0)


@pytest.fixture
def db(tmp_path):
    from tests.conftest import Store

    open_database(Store("sqlite", tmp_path).url())
    yield database()
    close_database()


def _orders(rng: random.Random, n: int) -> list[dict]:
    return [{"order_sn": f"261120-{i:09d}", "order_status": 1, "refund_status": 1, "updated_at": T0, "pay_time": T0,
             "last_ship_time": T0 + dt.timedelta(hours=rng.choice([2, 5, 24, 48])), "province": "浙江省",
             "items": [{"goods_id": "9", "goods_name": "杯", "goods_spec": "", "goods_count": rng.randint(1, 4),
                        "outer_id": "A12", "sku_id": "a12"}]}
            for i in range(n)]


def test_the_walk_from_the_tail_finds_what_the_walk_from_the_head_finds(db):
    rng = random.Random(7)
    shop = Shop.create(name="s")
    upsert_orders(shop.id, _orders(rng, 120))
    catalogue.save([GoodsRecord(code="A12", name="杯", on_hand=40)], actor="t")  # most of the line short
    g = Goods.get(Goods.code == "A12")
    assert g.reserved > 200
    with write():
        for on_hand in range(0, g.reserved + 3):
            head = guard._boundary_from_head(g.id, on_hand)
            tail = guard._boundary_from_tail(g.id, on_hand, g.reserved)
            assert tail is not None and tail == head[:2], on_hand
            got = guard._boundary(g.id, on_hand, g.reserved)
            assert (got[0], got[1], sorted(got[2])) == (head[0], head[1], sorted(head[2])), on_hand
    tails = [on for on in range(g.reserved + 1) if on * 2 >= g.reserved]
    assert tails  # (the tail walk was the one _boundary took for these)


def test_receipts_release_and_counts_raise_from_either_end(db):
    """The guard through the ledger's own moves, the shelf passing half the line both ways: the
    flags are those the line computed here gives."""
    from dadan.core.goods import ledger

    rng = random.Random(3)
    shop = Shop.create(name="s")
    upsert_orders(shop.id, _orders(rng, 60))
    catalogue.save([GoodsRecord(code="A12", name="杯", on_hand=0)], actor="t")
    g = Goods.get(Goods.code == "A12")
    for target in (g.reserved // 3, g.reserved - 5, g.reserved // 2 + 1, g.reserved - 1, 4, g.reserved):
        ledger.count(g.id, target, actor="t")
        _, short = expected({"a12": Goods.get_by_id(g.id)})
        flagged = {o.id for o in Order.select().where(Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0)}
        assert flagged == short, target


def test_an_import_runs_the_guard_once_with_the_flags_of_every_piece(db, tmp_path, monkeypatch):
    monkeypatch.setattr(commit, "IMPORT_PIECE", 7)  # (several pieces in a small file)
    shop = Shop.create(name="主店")
    catalogue.save([GoodsRecord(code="A12", name="杯", on_hand=20), GoodsRecord(code="B07", name="盖", on_hand=9)],
                   actor="t")
    rng = random.Random(5)
    rows = [line(f"261120-{i:015d}", outer=rng.choice(["A12", "B07"]), count=rng.randint(1, 3),
                 deal="2026-11-20 10:00:00", 承诺发货时间=f"2026-11-{21 + rng.randint(0, 5)} 10:00:00")
            for i in range(40)]
    plan = plan_for(write_xlsx(tmp_path / "o.xlsx", rows), shop)
    assert not plan.rejects, [r.text() for r in plan.rejects]
    out = commit.commit_import(plan, actor="t")
    assert out.committed and plan.counts.new == 40
    _, short = expected({g.code_key: g for g in Goods.select()})
    flagged = {o.id for o in Order.select().where(Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0)}
    assert short and flagged == short
    raised = [e.order_id for e in AuditEvent.select().where(AuditEvent.action == "stock_short")]
    assert sorted(raised) == sorted(short)  # one raise each, never raised and released on the way
    assert not AuditEvent.select().where(AuditEvent.action == "stock_release").exists()


def test_an_import_that_frees_stock_late_in_the_file_raises_no_flag_on_the_way(db, tmp_path, monkeypatch):
    """New orders early in the file, refunds of older orders at its end: the shelf covers the new
    ones in the end, so none is flagged -- not flagged by the first pieces and released by the
    last, as a guard after each piece would (a raise and a release event per order)."""
    monkeypatch.setattr(commit, "IMPORT_PIECE", 7)
    shop = Shop.create(name="主店")
    catalogue.save([GoodsRecord(code="A12", name="杯", on_hand=20)], actor="t")
    old = [line(f"261119-{i:015d}", outer="A12", count=2, deal="2026-11-19 10:00:00") for i in range(10)]
    assert commit.commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", old), shop), actor="t").committed
    assert Goods.get(Goods.code == "A12").reserved == 20
    new = [line(f"261120-{i:015d}", outer="A12", count=2, deal="2026-11-20 10:00:00") for i in range(10)]
    refunded = [line(f"261119-{i:015d}", outer="A12", count=2, deal="2026-11-19 10:00:00", after="退款成功")
                for i in range(10)]
    plan = plan_for(write_xlsx(tmp_path / "b.xlsx", new + refunded), shop)
    assert not plan.rejects, [r.text() for r in plan.rejects]
    assert commit.commit_import(plan, actor="t").committed and plan.counts.new == 10
    assert Goods.get(Goods.code == "A12").reserved == 20
    assert not Order.select().where(Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0).exists()
    assert not AuditEvent.select().where(AuditEvent.action.in_(["stock_short", "stock_release"])).exists()
