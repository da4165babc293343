"""The order screen at 100,000 orders on PostgreSQL beside SQLite, in one table.

    .venv/bin/python bench/bench_pg.py [--orders 100000] [--runs 5] [--rebuild]

The SQLite side is the cached demo database of ``bench/bench_tui.py`` (seed 1, fixed clock). The
PostgreSQL side is a throwaway cluster (``tests/pg_cluster.py``: ``initdb`` in a temp folder,
``pg_ctl`` on loopback; Debian's ``postgresql`` package) holding the same rows, copied from
that file (``tests/pg_copy.py``: every model's table over ``COPY``, then ``ANALYZE``), and a
second ``DADAN_HOME`` whose ``config.toml`` names it (``database_url = "postgresql://..."``).
Each backend is measured by the same child processes as the SQLite benches:

- cold start to the first painted order row (``bench_tui.py``'s fresh process), median of ``--runs``;
- a filter keystroke to the updated table, less the filter bar's debounce (its Pilot session:
  six structured filters and a free-text term), median of the presses;
- each built-in view's count and a set of filters' counts and first pages (``bench_counts.py``'s
  queries), medians of ``--runs``;
- the screen settled after launch (every view tab's count and the list's "of N" filled).
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

from bench_tui import ROOT, _env, build  # noqa: E402

HERE = Path(__file__).resolve().parent


def postgres_home(sqlite_home: Path, orders: int) -> tuple[Path, object]:
    """A started throwaway cluster holding a copy of the SQLite demo, and a DADAN_HOME naming it."""
    sys.path.insert(0, str(ROOT))
    from dadan.core.db import close_database, open_database
    from tests.pg_cluster import cluster
    from tests.pg_copy import copy_sqlite

    open_database(f"sqlite:///{sqlite_home / 'dadan.db'}")  # (a cached demo of an older schema: migrated)
    close_database()
    t = time.perf_counter()
    server = cluster()
    url = server.fresh("bench")
    copied = copy_sqlite(sqlite_home / "dadan.db", url)
    close_database()
    print(f"PostgreSQL: {copied['order']:,} orders ({sum(copied.values()):,} rows) copied in "
          f"{time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    home = Path(tempfile.mkdtemp(prefix=f"dadan-bench-pg-{orders}-"))
    (home / "config.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")
    return home, server


def _child(script: str, home: Path, *args: str, timeout: int = 1800) -> dict:
    proc = subprocess.run([sys.executable, str(HERE / script), *args], cwd=ROOT, env=_env(home),
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(home: Path, runs: int) -> dict:
    """The figures of one backend (``home``'s database)."""
    import bench_counts
    import bench_tui

    starts = bench_tui.cold_start(home, runs)
    typing = _child("bench_tui.py", home, "--child-filter", "--runs", str(max(1, runs // 2)))
    queries = _child("bench_counts.py", home, "--child-queries", "--runs", str(runs))
    settled = bench_counts.settle(home, runs)
    return {"start": statistics.median(s[0] for s in starts), "typing": typing, "queries": queries,
            "settled": statistics.median(settled)}


def rows(sqlite: dict, postgres: dict) -> list[tuple[str, float, float, str]]:
    """(label, SQLite, PostgreSQL, unit) of the table."""
    from dadan.tui.widgets.filter_bar import DEBOUNCE_S

    def keys(r: dict) -> list[float]:
        return [t for ts in r["typing"]["keys"].values() for t in ts] + r["typing"]["free_text"]

    out = [("cold start to the first order row", sqlite["start"], postgres["start"], "s"),
           ("screen settled (every count filled)", sqlite["settled"], postgres["settled"], "s"),
           (f"filter keystroke -> rows, less {DEBOUNCE_S * 1000:.0f} ms debounce",
            (statistics.median(keys(sqlite)) - DEBOUNCE_S) * 1000,
            (statistics.median(keys(postgres)) - DEBOUNCE_S) * 1000, "ms")]
    for q in sqlite["typing"]["keys"]:
        out.append((f"  keystroke {q}", (statistics.median(sqlite["typing"]["keys"][q]) - DEBOUNCE_S) * 1000,
                    (statistics.median(postgres["typing"]["keys"][q]) - DEBOUNCE_S) * 1000, "ms"))
    out.append(("  keystroke free text (status:pending 红色)",
                (statistics.median(sqlite["typing"]["free_text"]) - DEBOUNCE_S) * 1000,
                (statistics.median(postgres["typing"]["free_text"]) - DEBOUNCE_S) * 1000, "ms"))
    for a, b in zip(sqlite["queries"]["views"], postgres["queries"]["views"]):
        assert a[2] == b[2], (a, b)  # the same orders counted
        out.append((f"view {a[0]} count ({a[2]:,})", a[3], b[3], "ms"))
    for a, b in zip(sqlite["queries"]["filters"], postgres["queries"]["filters"]):
        assert a[1] == b[1], (a, b)
        out.append((f"{a[0][:34]} count ({a[1]:,})", a[2], b[2], "ms"))
        out.append((f"{a[0][:34]} first page", a[3], b[3], "ms"))
    return out


def _cells(text: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def table(orders: int, runs: int, lines: list[tuple[str, float, float, str]]) -> str:
    width = max(_cells(label) for label, *_ in lines) + 2
    head = f"order screen, {orders:,} orders, medians of {runs} runs"
    out = [head, f"{'':{width}}{'SQLite':>12}{'PostgreSQL':>14}"]
    for label, a, b, unit in lines:
        fmt = (lambda v: f"{v:.3f} s") if unit == "s" else (lambda v: f"{v:.1f} ms")
        out.append(label + " " * (width - _cells(label)) + f"{fmt(a):>12}{fmt(b):>14}")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true", help="build the SQLite demo again")
    args = ap.parse_args()
    sqlite_home = build(args.orders, args.rebuild)
    pg_home, server = postgres_home(sqlite_home, args.orders)
    try:
        sqlite = measure(sqlite_home, args.runs)
        postgres = measure(pg_home, args.runs)
    finally:
        server.stop()
        shutil.rmtree(pg_home, ignore_errors=True)
    print(table(args.orders, args.runs, rows(sqlite, postgres)))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LANG", "zh_CN.UTF-8")
    sys.exit(main())
