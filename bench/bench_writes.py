"""Writes into a database that already holds many orders: upsert, sync and import (#16).

    .venv/bin/python bench/bench_writes.py [--orders 10000,100000,1000000] [--runs 3] [--rebuild]

For each size, a demo database (seed 1, fixed clock; built on first use and cached under the
temp dir, as ``bench_typing.py`` does) is copied into a scratch directory and every run writes
into that copy (the cache is never written):

- upsert new: 10,000 loopback-platform orders for a shop that holds none of them;
- upsert changed: the same 10,000 again with a changed remark (their search text changes, so
  the free-text index re-indexes every one);
- sync: ``sync_shop`` of 10,000 orders from the loopback platform over HTTP (signing, JSON,
  conversion, upsert, cursor), end to end;
- import: a 50,000-row merchant-export xlsx (``bench_import.rows``) read, validated and
  committed as ``dadan import`` does, twice: with stock for its orders received first (not
  timed: the shelf covers them, as on a normal day), and without (the demo's catalogue is sized
  for the demo's orders: the oversell guard flags each of the file's orders short, an order
  event and an audit event each).

The free-text index's merging is not part of a write (the desk's scheduler merges after its jobs:
``fulltext.tidy``): each size's copy is merged first (as a desk running the scheduler keeps it),
and after each run's two upserts the merging they left is timed and printed on its own row.

Each run uses a new shop (its orders are new to it). Medians of ``--runs`` runs, each marked
against its goal: upsert >= 20,000 orders/s (new and changed), sync >= 2,000 orders/s, import
<= 3.5 s (both imports). Each size runs in its own process. Each run also prints the CPU time of the upserts
and the import (the figures a machine shared with other work cannot show).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tui import ROOT, build  # noqa: E402
from growth import Figure, record  # noqa: E402

BATCH = 10_000
IMPORT_ROWS = 50_000
GOALS = {  # (goal, higher is better)
    "upsert_new": (20_000, True),
    "upsert_changed": (20_000, True),
    "sync": (2_000, True),
    "import_s": (3.5, False),
    "import_short_s": (3.5, False),
}


def _xlsx(path: Path) -> Path:
    from bench_import import write_xlsx

    return path if path.exists() else write_xlsx(path, IMPORT_ROWS)


def _tidy() -> float:
    """Seconds to merge the free-text index's pieces the writes left (what the scheduler's jobs
    do after them)."""
    from dadan.core.orders.fulltext import tidy

    t0 = time.perf_counter()
    tidy(budget_s=3600)
    return time.perf_counter() - t0


def _upsert(run: int) -> tuple[float, float]:
    from dadan.core.models import Shop
    from dadan.core.orders.upsert import upsert_orders
    from dadan.core.platform.loopback.platform import MockPlatform
    from dadan.core.platform.sync import order_record

    platform = MockPlatform(seed=100 + run)
    mall = platform.add_mall(f"upsert-{run}")
    platform.generate_orders(mall, BATCH, spread_hours=70)
    records = [order_record(o) for o in platform.truth(mall).values()]
    shop = Shop.create(name=f"bench-upsert-{run}")
    t0, c0 = time.perf_counter(), time.process_time()
    res = upsert_orders(shop.id, records)
    new_s, new_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert res.new == len(records), res
    for r in records:
        r["remark"] = f"改 bench {run}"
    t0, c0 = time.perf_counter(), time.process_time()
    res = upsert_orders(shop.id, records)
    changed_s, changed_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert res.changed == len(records), res
    print(f"  (CPU time: upsert new {len(records) / new_cpu:,.0f}/s, changed {len(records) / changed_cpu:,.0f}/s)",
          file=sys.stderr, flush=True)
    return len(records) / new_s, len(records) / changed_s


def _sync(run: int, tmp: Path) -> float:
    from bench_sync import sync_from_loopback

    from dadan.core.models import Order

    _report, secs, shop = sync_from_loopback(BATCH, tmp, seed=200 + run, name=f"bench-sync-{run}")
    stored = Order.select().where(Order.shop == shop.id).count()
    assert stored == BATCH, stored
    return stored / secs


def _import(run: int, xlsx: Path, *, covered: bool) -> float:
    """Seconds to read, check and commit the file for a new shop. ``covered``: stock for every
    order line of the file and every open order before it is received first (not timed), so the
    shelf covers its orders; else
    the shelf (the demo's catalogue, sized for the demo's orders) covers none of them and the
    oversell guard flags each one short (an order event and an audit event each)."""
    from dadan.core.db import write
    from dadan.core.goods import ledger
    from dadan.core.goods.catalogue import code_key
    from dadan.core.goods.models import Goods
    from dadan.core.models import Shop
    from dadan.core.orders.couriers import CourierBook
    from dadan.core.spreadsheets.commit import commit_import
    from dadan.core.spreadsheets.layout import prepare
    from dadan.core.spreadsheets.mappings import SavedMappings
    from dadan.core.spreadsheets.plan import plan_import

    shop = Shop.create(name=f"bench-import-{run}-{'covered' if covered else 'short'}")
    t0, c0 = time.perf_counter(), time.process_time()
    lay = prepare(xlsx, saved=SavedMappings())
    t1 = time.perf_counter()
    plan = plan_import(lay, shop_id=shop.id, couriers=CourierBook.from_database(), dry_run_counts=False)
    t2 = time.perf_counter()
    if covered:
        need: dict[str, int] = {}
        for rec in plan.records:
            for it in rec["items"]:
                # (the ledger's line code: the merchant code, else the platform's SKU id)
                code = code_key((it.get("outer_id") or "").strip() or it.get("sku_id") or "")
                need[code] = need.get(code, 0) + int(it["goods_count"])
        with write():
            for g in Goods.select().where(Goods.code_key.in_(list(need))):  # (and for every order before them)
                ledger.move(g.id, max(0, g.reserved - g.on_hand) + need[g.code_key], "receive", actor="bench",
                            reason="stock for the file")
    t3 = time.perf_counter()
    out = commit_import(plan, actor="bench")
    secs = time.perf_counter() - t3 + t2 - t0
    assert out.committed, out.message
    print(f"  (import, the shelf covering {'its orders' if covered else 'none'}: read {t1 - t0:.2f} s, "
          f"check {t2 - t1:.2f} s, write {t0 + secs - t2:.2f} s; CPU time {time.process_time() - c0:.2f} s)",
          file=sys.stderr, flush=True)
    return secs


def _drop_secondary_order_indexes() -> int:
    """The floor experiment (``--floor``): every index of the order table but its unique key
    dropped (in the scratch copy), so an upsert pays only for the rows, the free-text index, the
    SKU pairs and the commit. How many were dropped."""
    from dadan.core.db import write
    from dadan.core.models import database_proxy as db

    names = [r[0] for r in db.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'order' AND sql IS NOT NULL "
        "AND sql NOT LIKE 'CREATE UNIQUE%'").fetchall()]
    with write():
        for name in names:
            db.execute_sql(f'DROP INDEX "{name}"')
    return len(names)


def child(db: Path, runs: int, xlsx: Path, out: Path) -> None:
    from dadan.core.db import close_database, open_database

    open_database(f"sqlite:///{db}")
    print(f"  the cached index merged first, as the scheduler keeps it: {_tidy():.2f} s", file=sys.stderr, flush=True)
    if os.environ.get("BENCH_WRITES_FLOOR"):
        dropped = _drop_secondary_order_indexes()
        print(f"  floor: {dropped} secondary indexes of the order table dropped", file=sys.stderr, flush=True)
        upserts = [_upsert(run) for run in range(runs)]
        figures = {"upsert_new": [u[0] for u in upserts], "upsert_changed": [u[1] for u in upserts]}
        close_database()
        out.write_text(json.dumps(figures))
        return
    figures: dict[str, list[float]] = {k: [] for k in (*GOALS, "tidy_s")}
    for run in range(runs):
        new, changed = _upsert(run)
        figures["upsert_new"].append(new)
        figures["upsert_changed"].append(changed)
        figures["tidy_s"].append(_tidy())
        figures["sync"].append(_sync(run, db.parent))
        figures["import_s"].append(_import(run, xlsx, covered=True))
        figures["import_short_s"].append(_import(run, xlsx, covered=False))
        print(f"  run {run + 1}: " + ", ".join(f"{k} {v[-1]:,.1f}" for k, v in figures.items())
              + f" (then merging the sync and import left: {_tidy():.2f} s)", file=sys.stderr, flush=True)
    close_database()
    out.write_text(json.dumps(figures))


def sizes_on_copies(script: str, child, scratch_name: str, *, default_runs: int):
    """The command line shared by benchmarks that measure each size on a fresh copy of its cached
    demo database, in a process of their own (``--orders``, ``--runs``, ``--rebuild``, ``--json``;
    ``--child DB RUNS OUT`` runs ``child(db, runs, out)`` and exits). Returns (args, sizes,
    size -> the child's figures)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", default="10000,100000,1000000")
    ap.add_argument("--runs", type=int, default=default_runs)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--json", help="append the figures to this file (bench/bench_all.py reads it)")
    ap.add_argument("--child", nargs=3, metavar=("DB", "RUNS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        db, runs, out = args.child
        child(Path(db), int(runs), Path(out))
        sys.exit(0)
    sizes = [int(s) for s in args.orders.split(",")]
    scratch = Path(tempfile.gettempdir()) / scratch_name
    scratch.mkdir(exist_ok=True)
    figures: dict[int, dict] = {}
    for n in sizes:
        home = build(n, args.rebuild)
        print(f"{n:,} orders: {args.runs} runs ...", file=sys.stderr, flush=True)
        figures[n] = on_a_copy(script, home, scratch / f"db-{n}", args.runs)
    return args, sizes, figures


def on_a_copy(script: str, home: Path, work: Path, runs: int, *args: str) -> dict:
    """The figures of ``script --child DB RUNS *args OUT`` run in a process of its own on a fresh
    copy of ``home``'s database in ``work`` (removed afterwards)."""
    db = scratch_copy(home, work)
    out = work / "figures.json"
    try:
        subprocess.run([sys.executable, script, "--child", str(db), str(runs), *args, str(out)], cwd=ROOT, check=True)
        return json.loads(out.read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def scratch_copy(home: Path, work: Path) -> Path:
    """A fresh copy of ``home``'s database in the empty folder ``work``, written out to the disk
    before timing: a warehouse's database is at rest, not a gigabyte of unwritten page cache
    whose write-back the first commit's sync would pay."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    shutil.copyfile(home / "dadan.db", work / "dadan.db")
    fd = os.open(work / "dadan.db", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return work / "dadan.db"


def _mark(key: str, value: float) -> str:
    goal, higher = GOALS[key]
    ok = value >= goal if higher else value <= goal
    text = f"{value:,.2f} s" if key.endswith("_s") else f"{value:,.0f}/s"
    return f"{text} {'ok' if ok else 'MISSED'}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", default="10000,100000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--json", help="append the figures to this file (bench/bench_all.py reads it)")
    ap.add_argument("--floor", action="store_true",
                    help="upserts only, with the order table's secondary indexes dropped: what the rows, "
                         "free text, SKU pairs and commit cost alone")
    ap.add_argument("--child", nargs=4, metavar=("DB", "RUNS", "XLSX", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        db, runs, xlsx, out = args.child
        child(Path(db), int(runs), Path(xlsx), Path(out))
        return
    sizes = [int(s) for s in args.orders.split(",")]
    scratch = Path(tempfile.gettempdir()) / "dadan-bench-writes"
    scratch.mkdir(exist_ok=True)
    if args.floor:
        os.environ["BENCH_WRITES_FLOOR"] = "1"  # (read by the child)
    xlsx = _xlsx(scratch / f"export-{IMPORT_ROWS}.xlsx")
    table: dict[int, dict[str, float]] = {}
    for n in sizes:
        home = build(n, args.rebuild, scratch / f"demo-{n}")
        print(f"{n:,} orders: {args.runs} runs ...", file=sys.stderr, flush=True)
        figures = on_a_copy(__file__, home, scratch / f"db-{n}", args.runs, str(xlsx))
        table[n] = {k: statistics.median(v) for k, v in figures.items()}
    if args.floor:
        print(f"\nthe floor: upserts with only the order table's unique key (median of {args.runs} runs)")
        print("| measure | goal | " + " | ".join(f"{n:,}" for n in sizes) + " |")
        print("|---|---|" + "---|" * len(sizes))
        for key, label in (("upsert_new", "new"), ("upsert_changed", "changed")):
            print(f"| upsert {BATCH:,} {label} orders, no secondary index | >= 20,000/s | "
                  + " | ".join(_mark(key, table[n][key]) for n in sizes) + " |")
        return
    labels = {"upsert_new": f"upsert {BATCH:,} new orders", "upsert_changed": f"upsert {BATCH:,} changed orders",
              "sync": f"sync {BATCH:,} orders (loopback HTTP)",
              "import_s": f"import {IMPORT_ROWS:,}-row xlsx (the shelf covers its orders)",
              "import_short_s": f"import {IMPORT_ROWS:,}-row xlsx (the shelf covers none: each flagged short)"}
    goals = {"upsert_new": ">= 20,000/s", "upsert_changed": ">= 20,000/s", "sync": ">= 2,000/s", "import_s": "<= 3.5 s",
             "import_short_s": "<= 3.5 s"}
    print(f"\nwrites into a database of N orders (median of {args.runs} runs)")
    print("| measure | goal | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for key in GOALS:
        print(f"| {labels[key]} | {goals[key]} | " + " | ".join(_mark(key, table[n][key]) for n in sizes) + " |")
    print("| free-text merging the two upserts left (scheduler, off the write path) | — | "
          + " | ".join(f"{table[n]['tidy_s']:.2f} s" for n in sizes) + " |")
    record(args.json, [
        Figure(f"{labels[key]} into a database of that size", n, table[n][key], "s" if key.endswith("_s") else "orders/s",
               GOALS[key][0], higher_is_better=GOALS[key][1])
        for key in GOALS for n in sizes])


if __name__ == "__main__":
    main()
