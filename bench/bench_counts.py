"""View counts, "1–50 of N" and the settled order screen, at 10k / 100k / 1M orders.

    .venv/bin/python bench/bench_counts.py [--orders 10000,100000,1000000] [--runs 5] [--rebuild] [--days 365]

For every size, on a demo database (seed 1, fixed clock) built once and cached under the temp
dir (``dadan-bench-counts-N``; ``--days D``: a demo over D days whose older orders are shipped,
``dadan-bench-counts-N-Dd``, the shape of a desk's year of history):

- each built-in view's count (``listing.count`` of its filter), median of ``--runs`` runs;
- every field of the filter language (sku, province, city, town, courier, due, paid, created,
  updated, overdue, exception, tag, shop, state, remark, memo, flag, sn, tracking, amount, qty,
  source, reprint, stock): count and first page (``listing.fetch_page`` in the view's sort),
  each the median of ``--runs`` runs; goal <= 100 ms each (free text: ``bench_fulltext.py``);
- the screen settled after launch: a fresh ``python`` process is spawned, and the clock runs
  until the order list's count and every view tab's count are filled; goal <= 1.0 s.

Each size runs in its own process (the figures of one size are not warmed by another's).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tui import NOW, ROOT, _env, build  # noqa: E402
from growth import Figure, record  # noqa: E402

GOAL_MS = 100.0
SETTLE_GOAL_S = 1.0
FILTERS = [  # (filter, sort)
    ("sku:A12", "-pay_time"),
    ("sku=a12", "-pay_time"),
    ("province:浙江", "-pay_time"),
    ("courier:zto", "-pay_time"),
    ("due<4h", "last_ship_time"),
    ("paid:today", "-pay_time"),
    ("exception:refund", "-pay_time"),
    ("tag:加急", "-pay_time"),
    ("shop:演示店铺", "-pay_time"),
    ("state:printed", "-pay_time"),
    ("status:pending province:广东 due<4h", "-pay_time"),
    ("status:pending due<4h", "-pay_time"),  # the due-soon filter typed in a view sorted by pay time
    # every other field of the filter language, in the default sort (core.orders.page_plan picks
    # their pages' plans: walks that meet their orders late, sorts of many, terms no index serves)
    ("courier:zto status:pending", "-pay_time"),
    ("tag:赠品", "-pay_time"),
    ("due<4h", "-pay_time"),
    ("due<1d", "-pay_time"),
    ("overdue:yes", "-pay_time"),
    ("paid<7d", "-pay_time"),
    ("updated<1d", "-pay_time"),
    ("created<1d", "-pay_time"),
    ("city:杭州", "-pay_time"),
    ("town:西湖", "-pay_time"),
    ("remark:yes", "-pay_time"),
    ("remark:加急", "-pay_time"),
    ("memo:yes", "-pay_time"),
    ("memo:尽快", "-pay_time"),
    ("flag:red", "-pay_time"),
    ("shop:没有这家店", "-pay_time"),
    ("sn:2611", "-pay_time"),
    ("tracking:yes", "-pay_time"),
    ("tracking:no", "-pay_time"),
    ("amount>500", "-pay_time"),
    ("qty>3", "-pay_time"),
    ("source:import", "-pay_time"),
    ("reprint:yes", "-pay_time"),
    ("stock:short", "-pay_time"),
    ("exception:any", "-pay_time"),
    ("-status:pending", "-pay_time"),
]


def _median_ms(runs: int, f, *args) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f(*args)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def child_queries(runs: int) -> None:
    """Print one JSON line: {"views": [[name, query, n, count_ms]], "filters": [[query, n,
    count_ms, page_ms]]}."""
    from dadan.core.context import load_context
    from dadan.core.orders import listing
    from dadan.core.orders.query import compile_query
    from dadan.core.orders.views import builtin_views

    ctx = load_context()
    ctx.open_db()
    out: dict = {"views": [], "filters": []}
    for v in builtin_views():
        where = compile_query(v.query, now=NOW)
        n = listing.count(where)
        out["views"].append([v.key, v.query, n, _median_ms(runs, listing.count, where)])
    for q, sort in FILTERS:
        where = compile_query(q, now=NOW)
        n = listing.count(where)
        listing.fetch_page(where, sort)
        c = _median_ms(runs, listing.count, where)
        p = _median_ms(runs, listing.fetch_page, where, sort)
        out["filters"].append([q, n, c, p])
    print(json.dumps(out))


def child_settle(fd: int) -> None:
    """Run the app headless; write the seconds since import when every count is filled."""
    from textual import events, on

    from dadan.core.context import load_context
    from dadan.tui.app import DadanApp
    from dadan.tui.widgets.order_list import OrderList
    from dadan.tui.widgets.view_tabs import ViewTabs

    class BenchApp(DadanApp):
        @on(events.Mount)  # (DadanApp.on_mount runs too: Textual calls each class's handler)
        def _start_polling(self) -> None:
            self.set_interval(0.005, self._poll)

        def _poll(self) -> None:
            try:
                tabs = self.screen.query_one(ViewTabs)
                table = self.screen.query_one(OrderList)
            except Exception:  # noqa: BLE001 - the order screen is not up yet
                return
            if tabs.views and all(v.key in tabs.counts for v in tabs.views) and table.state.total is not None:
                os.write(fd, b"settled\n")
                self.exit()

    BenchApp(load_context(), now=NOW).run(headless=True, size=(120, 40))


def settle(home: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        r, w = os.pipe()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--child-settle", str(w)], cwd=ROOT, env=_env(home),
                                pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(w)
        with os.fdopen(r) as fh:
            line = fh.readline()
        elapsed = time.perf_counter() - t0
        _, err = proc.communicate(timeout=120)
        if not line:
            raise SystemExit(f"child failed:\n{err.decode()[-2000:]}")
        out.append(elapsed)
    return out


def _mark(ms: float) -> str:
    return "OK" if ms <= GOAL_MS else "MISSED"


def run_size(n: int, runs: int, rebuild: bool, days: int | None = None) -> dict:
    name = f"dadan-bench-counts-{n}" + (f"-{days}d" if days else "")
    home = build(n, rebuild, Path(tempfile.gettempdir()) / name, days)
    proc = subprocess.run([sys.executable, __file__, "--child-queries", "--runs", str(runs)], cwd=ROOT,
                          env=_env(home), capture_output=True, text=True, timeout=1800)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["settle"] = settle(home, runs)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", default="10000,100000,1000000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--days", type=int, help="a demo over that many days, the older orders shipped "
                                             "(dadan demo --days; 365: a year of history)")
    ap.add_argument("--json", help="append the figures to this file (bench/bench_all.py reads it)")
    ap.add_argument("--child-queries", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child-settle", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_queries:
        child_queries(args.runs)
        return 0
    if args.child_settle is not None:
        child_settle(args.child_settle)
        return 0

    sizes = [int(s) for s in args.orders.split(",") if s.strip()]
    results = {n: run_size(n, args.runs, args.rebuild, args.days) for n in sizes}
    if args.days:
        print(f"demo over {args.days} days: the orders paid more than two days ago are shipped")
    print(f"view counts and first pages, median of {args.runs} runs (goal <= {GOAL_MS:.0f} ms each; "
          f"settled <= {SETTLE_GOAL_S:.1f} s)")
    print(f"{'':48}" + "".join(f"{f'{n:,} orders':>20}" for n in sizes))

    def row(label: str, figures: list[float]) -> None:
        print(f"{label:<48}" + "".join(f"{ms:>10.1f} ms {_mark(ms):>6}" for ms in figures))

    first = results[sizes[0]]
    for i, (key, query, _n, _t) in enumerate(first["views"]):
        row(f"view {key} count ({query[:26]})", [r["views"][i][3] for r in results.values()])
    for i, (query, *_rest) in enumerate(first["filters"]):
        row(f"{query[:36]} count", [r["filters"][i][2] for r in results.values()])
        row(f"{query[:36]} first page", [r["filters"][i][3] for r in results.values()])
    settled = [statistics.median(r["settle"]) for r in results.values()]
    print(f"{'settled after launch (all counts filled)':<48}"
          + "".join(f"{s:>11.3f} s {'OK' if s <= SETTLE_GOAL_S else 'MISSED':>6}" for s in settled))
    figures = []
    for n, r in results.items():
        figures.append(Figure("view counts, the slowest of the built-in views", n, max(v[3] for v in r["views"]),
                              "ms", GOAL_MS, goal_at=1_000_000))
        counted = max(r["filters"], key=lambda f: f[2])
        paged = max(r["filters"], key=lambda f: f[3])
        figures.append(Figure(f"structured filters, the slowest count of {len(r['filters'])}", n,
                              counted[2], "ms", GOAL_MS, goal_at=1_000_000, note=counted[0]))
        figures.append(Figure(f"structured filters, the slowest first page of {len(r['filters'])}", n,
                              paged[3], "ms", GOAL_MS, goal_at=1_000_000, note=paged[0]))
        over = [f for f in r["filters"] if f[2] > GOAL_MS]
        figures.append(Figure(f"structured filters counted in more than {GOAL_MS:.0f} ms", n, len(over), "",
                              0, goal_at=1_000_000))
        figures.append(Figure("screen settled after launch (every count filled)", n, statistics.median(r["settle"]),
                              "s", SETTLE_GOAL_S, goal_at=1_000_000))
    record(args.json, figures)
    print("matches: " + "; ".join(f"{n:,}: " + ", ".join(f"{q} {m:,}" for q, m, *_ in r["filters"])
                                  for n, r in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
