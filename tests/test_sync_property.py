"""Property: whatever faults hit a sync and however orders change while it pages, once the
faults stop and a sync completes the database equals the platform's truth — no order lost,
none duplicated, every status current.

A seeded random loop (each seed is one reproducible scenario). The default run checks a few
seeds; ``DADAN_SYNC_EXAMPLES=200`` (or ``-m slow``) checks many more.
"""

from __future__ import annotations

import os
import random

import pytest

from dadan.core.db import close_database
from dadan.core.models import Order, OrderItem
from dadan.core.orders.rules import Flag
from dadan.core.platform.pdd import RetryPolicy
from tests.test_sync_support import db_orders, make_env, sync

DEFAULT_EXAMPLES = int(os.environ.get("DADAN_SYNC_EXAMPLES", "10"))
STATUS_FIELDS = ("order_status", "refund_status", "after_sales_status", "risk_control_status", "is_stock_out")


def run_scenario(tmp_path, seed: int, url: str | None = None) -> None:
    rng = random.Random(seed)
    e = make_env(tmp_path / f"s{seed}", seed=seed, list_details=rng.random() < 0.7, timeout=0.15, url=url)
    try:
        e.factory.retry = RetryPolicy(attempts=6, base_seconds=0.001, rate_limit_base_seconds=0.001,
                                      max_seconds=0.005)
        e.settings.detail_concurrency = rng.choice([1, 3, 6])
        p = e.platform
        p.faults.timeout_sleep = 0.2
        p.faults.slow_sleep = 0.01
        # orders spread over the day, plus a dense burst that needs several pages in one window
        p.generate_orders(e.mall, rng.randint(20, 120), spread_hours=20)
        p.generate_orders(e.mall, rng.randint(0, 230), spread_hours=0.3, end=p.now() - rng.uniform(900, 60000))
        change_rate = rng.uniform(0.1, 0.6)
        created: list[str] = []

        def hook(api, params):  # orders change between pages (and between any two calls)
            if rng.random() < change_rate:
                for _ in range(rng.randint(1, 4)):
                    sn, kind = p.mutate(e.mall)
                    if kind == "new":
                        created.append(sn)

        p.on_request = hook
        p.faults.rate = rng.uniform(0.05, 0.35)
        for _ in range(rng.randint(1, 4)):  # passes under faults: they may fail, must not corrupt
            sync(e)
            p.advance(rng.uniform(0, 1500))
        # quiet platform: faults stop, clock moves past the safety margin, one clean pass
        p.on_request = None
        p.faults.rate = 0.0
        p.faults.queue.clear()
        p.advance(600)
        r = sync(e)
        assert r.ok, (seed, r.error)

        truth = p.truth(e.mall)
        got = db_orders(e.shop.id)
        assert set(got) == set(truth), (seed, set(truth) ^ set(got))
        assert Order.select().count() == len(truth)  # no duplicates
        for sn, o in truth.items():
            row = got[sn]
            for f in STATUS_FIELDS:
                assert getattr(row, f) == o[f], (seed, sn, f)
            assert row.remark == o["remark"], (seed, sn)
            assert row.receiver_address_enc == o["receiver_address"], (seed, sn)
            assert (row.tracking_number or "") == (o["tracking_number"] or ""), (seed, sn)
            assert row.updated_at.strftime("%H:%M:%S") != "" and OrderItem.select().where(
                OrderItem.order == row.id).count() == len(o["item_list"]), (seed, sn)
            if o["order_status"] == 1 and o["refund_status"] in (3, 4):
                assert row.exception_flags & Flag.REFUND, (seed, sn)
            if o["order_status"] == 1 and o["risk_control_status"] == 1:
                assert row.exception_flags & Flag.RISK, (seed, sn)
        assert all(sn in got for sn in created)
    finally:
        e.server.stop()
        close_database()


def test_sync_converges_to_platform_truth_under_faults(tmp_path, store):
    # PostgreSQL: fewer seeds by default (each a database of its own); the same scenarios
    for seed in range(DEFAULT_EXAMPLES if not store.postgres else max(1, DEFAULT_EXAMPLES // 3)):
        run_scenario(tmp_path, seed, store.url(f"s{seed}.db"))


@pytest.mark.slow
def test_sync_converges_many_seeds(tmp_path):
    for seed in range(1000, 1000 + max(100, DEFAULT_EXAMPLES)):
        run_scenario(tmp_path, seed)
