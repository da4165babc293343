"""Pick waves (#18): planning the wave of a 500-parcel print job in a database of N orders.

    .venv/bin/python bench/bench_wave.py [--orders 10000,100000,1000000] [--runs 7] [--json FILE]

For each size, the cached demo database (``bench_tui.build``: seed 1, fixed clock; built on first
use) is copied into a scratch directory (the cache is never written). Into the copy goes a
catalogue of 20,000 SKUs: the demo's SKUs with bin locations (one without a bin, one missing), the
rest made up. Then 500 printable orders (``status:pending printed:no blocked:no``, oldest paid
first) are planned as a wave (``waves.plan_wave``: their lines, the catalogue's bins, the parcel
order and the pick list). Goal: < 200 ms. A wave of 10,000 parcels (or as many as are printable)
is timed too, for the scaling (no goal). The first (cold) run is shown apart from the median of
``--runs`` runs. Each size runs in its own process.
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
WAVE = 500
BIG = 10_000  # a big job, for the scaling (no goal)
GOAL_MS = 200.0


def _catalogue() -> None:
    from dadan.core.demo import PRODUCTS
    from dadan.core.goods import catalogue
    from dadan.core.goods.catalogue import GoodsRecord

    records = []
    for n, (_gid, name, _outer, skus) in enumerate(PRODUCTS):
        for m, (_sku, outer, spec, _price) in enumerate(skus):
            if n == 1 and m == 0:
                continue  # missing from the catalogue
            bin_location = "" if n == 2 and m == 0 else f"{'ABCD'[n % 4]}-{n + 1:02d}-{m + 1}"
            records.append(GoodsRecord(code=outer, name=name, spec=spec, bin=bin_location, on_hand=10**6))
    records += [GoodsRecord(code=f"BENCH-{i:05d}", name=f"商品 {i}", bin=f"Z-{i // 100:03d}-{i % 100}")
                for i in range(SKUS - len(records))]
    catalogue.save(records, actor="bench", settle=False)


def child(db: Path, runs: int, out: Path) -> None:
    from dadan.core.db import close_database, open_database
    from dadan.core.models import Order
    from dadan.core.orders.query import compile_query
    from dadan.core.packing.waves import plan_wave

    open_database(f"sqlite:///{db}")
    _catalogue()
    printable = [o.id for o in Order.select(Order.id).where(compile_query("status:pending printed:no blocked:no"))
                 .order_by(Order.pay_time, Order.id).limit(BIG)]
    figures = {}
    for size, key in ((WAVE, "ms"), (BIG, "big_ms")):
        ids = printable[:size]
        times = []
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            wave = plan_wave(ids)
            times.append((time.perf_counter() - t0) * 1000)
        assert len(wave.parcels) == len(ids) and wave.picks
        print(f"  {wave.summary()}", file=sys.stderr, flush=True)
        figures[key] = statistics.median(times[1:])
        figures.setdefault("cold_ms", times[0])
    close_database()
    out.write_text(json.dumps(figures))


def main() -> None:
    args, sizes, table = sizes_on_copies(__file__, child, "dadan-bench-wave", default_runs=7)
    label = f"plan a {WAVE}-parcel wave (lines, bins, parcel order, pick list)"
    print(f"\npick waves in a database of N orders and {SKUS:,} SKUs (median of {args.runs} runs; goal < {GOAL_MS:.0f} ms)")
    print("| measure | goal | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    print(f"| {label} | < {GOAL_MS:.0f} ms | " + " | ".join(
        f"{table[n]['ms']:,.1f} ms {'ok' if table[n]['ms'] < GOAL_MS else 'MISSED'}" for n in sizes) + " |")
    print("| the same, first run (cold) | — | " + " | ".join(f"{table[n]['cold_ms']:,.1f} ms" for n in sizes) + " |")
    print(f"| plan a {BIG:,}-parcel wave (as many as printable) | — | "
          + " | ".join(f"{table[n]['big_ms']:,.1f} ms" for n in sizes) + " |")
    record(args.json, [Figure(label, n, table[n]["ms"], "ms", GOAL_MS) for n in sizes])


if __name__ == "__main__":
    main()
