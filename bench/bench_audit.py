"""The audit log read at scale: pages newest first, "1–50 of N" counts and the distinct actions,
on a table of ``--events`` audit events (default 1,000,000).

    .venv/bin/python bench/bench_audit.py [--events 1000000] [--runs 5] [--rebuild]

The database (cached under the temp dir as ``dadan-bench-audit-N.db``) holds events spread over
180 days, by 12 operators (one of them doing half the work), of 20 actions, a third of them
on one of 50,000 orders. Each figure is the median of ``--runs`` runs, in milliseconds. Goal:
a page (the first, a deep keyset page, an operator's, an action's, a time window's) <= 100 ms;
counts and free text are printed for information (a count walks every matching index entry).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

NOW = dt.datetime(2026, 11, 20, 4, 0, 0)
GOAL_MS = 100.0
ACTORS = ["amy", "bo", "chen", "dong", "fang", "gao", "hu", "jin", "li", "ma", "niu", "ou"]
ACTIONS = ["release", "hold", "reprint", "ship", "print-resolve", "waybill-cancel", "merge-leave", "split", "pack",
           "goods_save", "note", "state", "settings", "waybill-take", "waybill-ship", "stock_short", "archive",
           "restore", "handover-open", "handover-close"]


def build(path: Path, n: int) -> None:
    from dadan.core.db import close_database, open_database, write
    from dadan.core.models import AuditEvent, Order, Shop, database_proxy

    path.unlink(missing_ok=True)
    open_database(f"sqlite:///{path}")
    rnd = random.Random(1)
    with write():
        shop = Shop.create(name="bench", platform="pdd", mall_id="1")
        orders = [{"shop": shop.id, "order_sn": f"261120-{i:015d}"} for i in range(50_000)]
        for i in range(0, len(orders), 2000):
            Order.insert_many(orders[i:i + 2000]).execute()
    first_order = Order.select(Order.id).order_by(Order.id).first().id
    span = 180 * 86400
    cols = '"at", "actor", "action", "order_id", "target", "reason", "detail"'
    sql = f'INSERT INTO "{AuditEvent._meta.table_name}" ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?)'
    done = 0
    while done < n:
        batch = []
        for _ in range(min(50_000, n - done)):
            at = NOW - dt.timedelta(seconds=rnd.randrange(span))
            actor = "amy" if rnd.random() < 0.5 else rnd.choice(ACTORS)
            action = rnd.choice(ACTIONS)
            oid = first_order + rnd.randrange(50_000) if rnd.random() < 0.33 else None
            batch.append((str(at), actor, action, oid, "", f"reason {rnd.randrange(1000)}",
                          '{"job": %d, "printer": "zebra"}' % rnd.randrange(10_000)))
        with write():
            database_proxy.cursor().executemany(sql, batch)
        done += len(batch)
    database_proxy.execute_sql("ANALYZE")
    close_database()


def _median_ms(runs: int, f) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()

    from dadan.core import audit_query as A
    from dadan.core.db import open_database

    path = Path(tempfile.gettempdir()) / f"dadan-bench-audit-{args.events}.db"
    if args.rebuild or not path.exists():
        t = time.perf_counter()
        build(path, args.events)
        print(f"built {args.events:,} events in {time.perf_counter() - t:.1f} s ({path})")
    open_database(f"sqlite:///{path}")
    tz = "Asia/Shanghai"
    sn = "261120-000000000012345"
    deep = A.events("", limit=1, after=None, tz=tz, now=NOW)[0].key
    for _ in range(40):  # a deep keyset cursor: 100,000 rows down (or the last row), walked once
        rows = A.events("", after=deep, limit=2500, tz=tz, now=NOW)
        if not rows:
            break
        deep = rows[-1].key
    pages = [
        ("first page", ""),
        ("operator (half the log)", "actor:amy"),
        ("operator (a few %)", "actor:ou"),
        ("two operators", "actor:ou actor:niu"),
        ("action", "action:release"),
        ("operator + action", "actor:ou action:release"),
        ("since:7d", "since:7d"),
        ("a day, an operator", "actor:ou since:2026-11-01 until:2026-11-01"),
        ("order", f"order:{sn}"),
    ]
    misses = 0
    print(f"{'page (50 rows)':<50} {'ms':>8}  goal <= {GOAL_MS:.0f} ms")
    for label, q in pages:
        query = A.parse(q, tz=tz, now=NOW)
        ms = _median_ms(args.runs, lambda query=query: A.events(query, limit=50))
        misses += ms > GOAL_MS
        print(f"{label + ' ' + q:<50} {ms:8.1f}  {'ok' if ms <= GOAL_MS else 'MISS'}")
    ms = _median_ms(args.runs, lambda: A.events("", after=deep, limit=50))
    misses += ms > GOAL_MS
    print(f"{'deep keyset page (past 100,000 rows)':<50} {ms:8.1f}  {'ok' if ms <= GOAL_MS else 'MISS'}")
    print()
    print(f"{'for information':<50} {'ms':>8}  rows")
    for label, f in (
        ("count, every event", lambda: A.count("")),
        ("count, actor:ou", lambda: A.count("actor:ou")),
        ("count, action:release", lambda: A.count("action:release")),
        ("distinct actions (index hops)", A.distinct_actions),
        ("distinct operators (index hops)", A.distinct_actors),
        ("free text page 'reason 999'", lambda: A.events('"reason 999"', limit=50)),
    ):
        result = f()
        n = result if isinstance(result, int) else len(result)
        print(f"{label:<50} {_median_ms(args.runs, f):8.1f}  {n:,}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
