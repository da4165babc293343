"""Stock at scale (#17): the ledger's work after a sync, and the print check, in a database of N
orders and a catalogue of 20,000 SKUs.

    .venv/bin/python bench/bench_stock.py [--orders 10000,100000,1000000] [--runs 3] [--json FILE]

For each size, the cached demo database (``bench_tui.build``: seed 1, fixed clock; built on first
use) is copied into a scratch directory (the cache is never written). Into the copy:

- catalogue: 20,000 SKUs saved in one ``catalogue.save`` (the demo's and the loopback platform's
  SKUs among them, each with stock for its open orders but one short by a few units; the rest
  made up): the figure is the save, with every open order of those SKUs settled;
- stock after a sync: ``dadan sync`` of 10,000 loopback-platform orders of SKUs in the catalogue
  (over HTTP, as ``bench_writes.py``); the figure is the time spent in the ledger
  (``ledger.settle_orders``: reservations, shelf movements, the oversell guard, the platform
  push queue) during that sync. Goal: < 1 s at 1,000,000 orders;
- print check: ``plan_print`` of 500 pending orders (what a 500-parcel job checks before it is
  queued: blocked, short, printed, queued already). Goal: < 100 ms.

Medians of ``--runs`` runs (each sync a new shop). Each size runs in its own process.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_writes import sizes_on_copies  # noqa: E402
from growth import Figure, record  # noqa: E402

SKUS = 20_000
SYNC = 10_000
JOB = 500
GOALS = {"settle_s": 1.0, "print_check_ms": 100.0}


def _catalogue() -> float:
    from dadan.core.demo import PRODUCTS
    from dadan.core.goods import catalogue
    from dadan.core.goods.catalogue import GoodsRecord
    from dadan.core.platform.loopback.world import listings

    codes = [outer for *_g, skus in PRODUCTS for _sku, outer, _spec, _price in skus]
    codes += [outer for skus in listings().values() for outer in skus.values()]
    codes += [f"BENCH-{i:05d}" for i in range(SKUS - len(codes))]
    records = [GoodsRecord(code=c, name=f"商品 {c}", barcodes=[f"69{i:011d}"], bin=f"Z-{i // 100:03d}-{i % 100}",
                           safety_stock=5, on_hand=10**6 if i else 1) for i, c in enumerate(codes)]
    t0 = time.perf_counter()
    catalogue.save(records, actor="bench")
    return time.perf_counter() - t0


def _sync(run: int, tmp: Path) -> float:
    from bench_sync import sync_from_loopback

    from dadan.core.goods import ledger

    spent = []
    real = ledger.settle_orders

    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            spent.append(time.perf_counter() - t0)

    ledger.settle_orders = timed
    try:
        sync_from_loopback(SYNC, tmp, seed=300 + run, name=f"bench-stock-{run}")
    finally:
        ledger.settle_orders = real
    return sum(spent)


def _print_check(runs: int) -> float:
    from dadan.core.db import database
    from dadan.core.printing.plan import plan_print

    ids = [r[0] for r in database().execute_sql(
        'SELECT "id" FROM "order" WHERE "order_status" = 1 AND "state" IN (\'new\', \'printed\') '
        'ORDER BY "last_ship_time" LIMIT ?', (JOB,))]
    times = []
    for _ in range(max(runs, 5)):
        t0 = time.perf_counter()
        plan = plan_print(ids, waybill=False)
        times.append((time.perf_counter() - t0) * 1000)
    assert len(plan.ready) + plan.excluded == len(ids)
    return statistics.median(times)


def child(db: Path, runs: int, out: Path) -> None:
    from dadan.core.db import close_database, open_database

    open_database(f"sqlite:///{db}")
    figures: dict[str, list[float]] = {"catalogue_s": [_catalogue()], "settle_s": [], "print_check_ms": []}
    for run in range(runs):
        figures["settle_s"].append(_sync(run, db.parent))
        figures["print_check_ms"].append(_print_check(runs))
        print(f"  run {run + 1}: " + ", ".join(f"{k} {v[-1]:,.3f}" for k, v in figures.items()),
              file=sys.stderr, flush=True)
    close_database()
    out.write_text(json.dumps(figures))


def main() -> None:
    args, sizes, figures = sizes_on_copies(__file__, child, "dadan-bench-stock", default_runs=3)
    table = {n: {k: statistics.median(v) for k, v in f.items()} for n, f in figures.items()}
    labels = {"catalogue_s": f"save a {SKUS:,}-SKU catalogue (settles their open orders)",
              "settle_s": f"stock recomputation during a sync of {SYNC:,} orders",
              "print_check_ms": f"print check of a {JOB}-parcel job"}
    goals = {"catalogue_s": "—", "settle_s": "< 1 s at 1,000,000", "print_check_ms": "< 100 ms"}
    print(f"\nstock in a database of N orders and {SKUS:,} SKUs (median of {args.runs} runs)")
    print("| measure | goal | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for key, label in labels.items():
        cells = []
        for n in sizes:
            v = table[n][key]
            text = f"{v:,.1f} ms" if key.endswith("_ms") else f"{v:,.2f} s"
            goal = GOALS.get(key)
            cells.append(text if goal is None else f"{text} {'ok' if v < goal else 'MISSED'}")
        print(f"| {label} | {goals[key]} | " + " | ".join(cells) + " |")
    record(args.json, [
        Figure(labels[k], n, table[n][k], "ms" if k.endswith("_ms") else "s", GOALS.get(k), higher_is_better=False)
        for k in labels for n in sizes])


if __name__ == "__main__":
    main()
