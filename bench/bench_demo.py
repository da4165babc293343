"""`dadan demo` benchmark: generation time at 10k / 100k / 1M orders, and the cold start after it.

    .venv/bin/python bench/bench_demo.py [--sizes 10000,100000,1000000] [--runs 3] [--starts 3]

Targets (issue #16): ``dadan demo --orders 1000000`` <= 60 s; cold start to the first order row
<= 1.0 s at 1M, including the first launch after ``dadan demo``.

- Generation: ``dadan demo --orders N`` run as the user runs it (a fresh process, the installed
  command's module, a fresh empty database under a temporary DADAN_HOME), timed from spawn to
  exit; the median of ``--runs`` runs (1M: one run unless ``--runs-1m`` says more); also the
  CPU time (user + system) of its processes, which other work on the machine does not stretch.
- Cold start: after the last demo run, a fresh process opens the app headless at 120x40 and the
  clock stops when the order screen reports its first page painted (bench/bench_tui.py's
  measure). "first" is the first launch after the demo (it must not need to gather statistics
  itself); "median" is over ``--starts`` launches after that one.
- The OS page cache is warm (the demo has just written the file), as on the desk after a demo.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tui import ROOT, _env, cold_start  # noqa: E402
from growth import Figure, record  # noqa: E402

GOAL_DEMO_1M_S = 60.0
GOAL_COLD_START_S = 1.0


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _demo(home: Path, orders: int) -> tuple[float, float]:
    """Wall time from spawn to exit, and the CPU time (user + system) of the demo's processes
    (its second process included): on a shared machine the wall time waits for the cores."""
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    cpu0, t0 = _cpu_children(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "dadan.tui", "demo", "--orders", str(orders)], cwd=ROOT, env=_env(home),
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, _cpu_children() - cpu0


def _stats_present(home: Path) -> bool:
    import sqlite3

    con = sqlite3.connect(home / "dadan.db")
    try:
        return con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0] == 1 and \
            con.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'order'").fetchone()[0] > 0
    finally:
        con.close()


def measure(orders: int, runs: int, starts: int) -> dict:
    home = Path(tempfile.gettempdir()) / f"dadan-bench-demo-{orders}"
    timed = [_demo(home, orders) for _ in range(runs)]
    times, cpus = [t for t, _ in timed], [c for _, c in timed]
    db = home / "dadan.db"
    size = sum(p.stat().st_size for p in home.glob("dadan.db*"))
    stats = _stats_present(home)
    launches = [s[0] for s in cold_start(home, 1 + starts)]
    return {"orders": orders, "times": times, "cpus": cpus, "size_mb": size / 1e6, "db": db, "stats": stats,
            "first_start": launches[0], "starts": launches[1:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated order counts")
    ap.add_argument("--runs", type=int, default=3, help="demo runs per size below 1M (median)")
    ap.add_argument("--runs-1m", type=int, default=1, help="demo runs at 1M and above")
    ap.add_argument("--starts", type=int, default=3, help="cold starts after the first one (median)")
    ap.add_argument("--json", help="append the figures to this file (bench/bench_all.py reads it)")
    args = ap.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    rows = []
    for n in sizes:
        print(f"dadan demo --orders {n:,} ...", file=sys.stderr, flush=True)
        rows.append(measure(n, args.runs if n < 1_000_000 else args.runs_1m, args.starts))

    print("dadan demo benchmark (fresh database each run; times from process spawn to exit)")
    print(f"{'orders':>10} {'runs':>4} {'demo median':>12} {'CPU median':>11} {'orders/s':>10} {'DB size':>9} {'stats':>6}"
          f" {'first start':>12} {'start median':>13}")
    for r in rows:
        med = statistics.median(r["times"])
        goal = ""
        if r["orders"] >= 1_000_000:
            goal = "OK" if med <= GOAL_DEMO_1M_S else "MISSED"
        start_med = statistics.median(r["starts"]) if r["starts"] else r["first_start"]
        cold_ok = "OK" if max(r["first_start"], start_med) <= GOAL_COLD_START_S else "MISSED"
        print(f"{r['orders']:>10,} {len(r['times']):>4} {med:>10.2f} s {statistics.median(r['cpus']):>9.1f} s"
              f" {r['orders'] / med:>10,.0f}"
              f" {r['size_mb']:>6.0f} MB {'yes' if r['stats'] else 'NO':>6} {r['first_start']:>10.3f} s"
              f" {start_med:>11.3f} s   demo {goal or '-'}  cold start {cold_ok}")
    for r in rows:  # (the median hides how far the machine's speed swung between runs)
        print(f"{r['orders']:>10,} each run: " + ", ".join(f"{t:.2f} s" for t in r["times"])
              + "  (CPU " + ", ".join(f"{c:.1f} s" for c in r["cpus"]) + ")")
    print(f"goals: dadan demo --orders 1,000,000 <= {GOAL_DEMO_1M_S:.0f} s; cold start to the first order row "
          f"<= {GOAL_COLD_START_S:.1f} s (first launch after the demo included)")
    figures = []
    for r in rows:
        n = r["orders"]
        figures.append(Figure("`dadan demo` generation", n, statistics.median(r["times"]), "s", GOAL_DEMO_1M_S,
                              goal_at=1_000_000))
        figures.append(Figure("first launch after the demo: cold start to the first row", n, r["first_start"], "s",
                              GOAL_COLD_START_S))
    record(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
