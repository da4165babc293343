"""The reports screen (F11) and the report figures at 10k / 100k / 1M orders.

    .venv/bin/python bench/bench_reports.py [--orders 10000,100000,1000000] [--runs 5] [--rebuild]

For every size, on a fresh copy of the cached demo database (seed 1, fixed clock; built once
under the temp dir as ``dadan-bench-N``, shared with bench_tui / bench_counts):

- the schema brought up to date on the copy (the report indexes of step 18 built), timed;
- three in ten orders shipped by dadan (``shipped_at`` 2-40 h after payment, one of five
  couriers, a tenth of them after the deadline) with one SQL UPDATE, so the ship figures have
  rows to count;
- ``build_report`` per day (the last 14 days: every demo order is in it), week and month,
  median of ``--runs``;
- the screen: a running desk pushes the reports screen; the clock runs from the push until its
  figures are painted (the worker's read and the draw), median and worst of ``--runs``; goal
  <= 1.0 s at every size.

Each size runs in its own process on its own copy (removed afterwards)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tui import NOW, ROOT, build  # noqa: E402
from bench_writes import scratch_copy  # noqa: E402

SCREEN_GOAL_S = 1.0


def _ship_some() -> float:
    from dadan.core.db import database, write

    t = time.perf_counter()
    with write():
        database().execute_sql(
            'UPDATE "order" SET state = \'shipped\', '
            "shipped_at = CASE WHEN id % 10 = 0 THEN datetime(last_ship_time, '+3 hours') "
            "ELSE datetime(pay_time, '+' || (2 + id % 38) || ' hours') END, "
            "logistics_id = CASE id % 5 WHEN 0 THEN 115 WHEN 1 THEN 85 WHEN 2 THEN 121 WHEN 3 THEN 1 ELSE 44 END "
            "WHERE id % 10 < 3 AND order_status = 1 AND exception_flags = 0")
    return time.perf_counter() - t


def child(db: Path, runs: int, out: Path) -> None:
    from dadan.core.db import close_database, connection, open_database
    from dadan.core.reports.figures import build_report

    t = time.perf_counter()
    open_database(f"sqlite:///{db}")
    figures: dict = {"migrate_s": time.perf_counter() - t}
    figures["ship_update_s"] = _ship_some()
    with connection():
        for period in ("day", "week", "month"):
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                report = build_report(period, tz="Asia/Shanghai", now=NOW)
                times.append(time.perf_counter() - t)
            figures[f"build_{period}_s"] = statistics.median(times)
            if period == "day":
                figures["orders_in_range"] = report.total.orders
                figures["shipped_in_range"] = report.total.shipped
    close_database()
    figures["screen_s"] = _screen(db, runs)
    out.write_text(json.dumps(figures))


def _screen(db: Path, runs: int) -> list[float]:
    """Push the reports screen ``runs`` times on a running app: seconds until its figures are painted."""
    import asyncio

    from textual.app import App
    from textual.widgets import Static

    from dadan.core.config import Paths, Settings
    from dadan.core.context import Context
    from dadan.tui.print_pool import PrintPool
    from dadan.tui.screens.reports import ReportsScreen

    home = db.parent
    ctx = Context(paths=Paths(config_dir=home, data_dir=home).ensure(), settings=Settings(language="en"))
    ctx.settings.database_url = f"sqlite:///{db}"

    class Desk(App):
        def __init__(self):
            super().__init__()
            self.ctx, self.now = ctx, NOW
            self.print_pool = PrintPool(self)

        def compose(self):
            yield Static("desk")

        def on_mount(self):
            self.ctx.open_db()

    times: list[float] = []

    async def main() -> None:
        app = Desk()
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(runs):
                painted = asyncio.Event()
                screen = ReportsScreen()
                show = screen._show

                def shown(key, report, show=show, painted=painted):
                    show(key, report)
                    app.call_after_refresh(painted.set)

                screen._show = shown
                t = time.perf_counter()
                await app.push_screen(screen)
                await asyncio.wait_for(painted.wait(), 60)
                times.append(time.perf_counter() - t)
                app.pop_screen()
                await pilot.pause(0.05)

    asyncio.run(main())
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", default="10000,100000,1000000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--child", nargs=3, metavar=("DB", "RUNS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]), Path(args.child[2]))
        return 0
    ok = True
    rows = []
    for n in (int(x) for x in args.orders.split(",")):
        home = build(n, args.rebuild)
        work = Path(tempfile.gettempdir()) / f"dadan-bench-reports-{n}"
        scratch_copy(home, work)
        out = work / "figures.json"
        try:
            subprocess.run([sys.executable, __file__, "--child", str(work / "dadan.db"), str(args.runs), str(out)],
                           cwd=ROOT, check=True)
            f = json.loads(out.read_text())
        finally:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        med, worst = statistics.median(f["screen_s"]), max(f["screen_s"])
        met = worst <= SCREEN_GOAL_S
        ok &= met
        rows.append((n, f, med, worst, met))
    print(f"{'orders':>10} {'in range':>9} {'shipped':>8} {'migrate':>8} {'day':>7} {'week':>7} {'month':>7} "
          f"{'screen med':>10} {'screen max':>10}  goal <= {SCREEN_GOAL_S:.1f} s")
    for n, f, med, worst, met in rows:
        print(f"{n:>10,} {f['orders_in_range']:>9,} {f['shipped_in_range']:>8,} {f['migrate_s']:>7.2f}s "
              f"{f['build_day_s']:>6.3f}s {f['build_week_s']:>6.3f}s {f['build_month_s']:>6.3f}s "
              f"{med:>9.3f}s {worst:>9.3f}s  {'ok' if met else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
