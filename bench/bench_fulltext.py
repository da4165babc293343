"""Free-text filter time as the orders grow: the order list's first page and its "1–50 of N"
count, for terms of every length and frequency, at 10k / 100k / 1M demo orders.

    .venv/bin/python bench/bench_fulltext.py                          # 10k, 100k and 1M
    .venv/bin/python bench/bench_fulltext.py --orders 10000,100000 --runs 7
    .venv/bin/python bench/bench_fulltext.py --database /tmp/copy-of-a-1M-demo.db
    .venv/bin/python bench/bench_fulltext.py --orders 1000000 --days 365   # a year of history

For each size a demo database is written (core.demo.write_demo, the planner's statistics
gathered as the desk does) -- or ``--database`` names an existing one (it is migrated: give a
copy). Then for each filter, as medians of ``--runs`` runs, each timed from the filter's text
as the order list does it (``compile_query`` + ``fetch_page``, ``compile_query`` + ``count``):

- ``page``: the first page (50 rows, newest paid first);
- ``count``: the number of orders matching ("1–50 of N").

Goal (issue #16): each <= 100 ms at 1M. Every count is checked against a plain ``LIKE`` scan.
Also printed: the demo's write time, the index's size and the time to build it for the whole
table (what migration step 6 costs an existing database).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from growth import Figure, record  # noqa: E402

from dadan.core.db import close_database, database, open_database, write  # noqa: E402
from dadan.core.demo import write_demo  # noqa: E402
from dadan.core.models import Order  # noqa: E402
from dadan.core.orders import fulltext  # noqa: E402
from dadan.core.orders.listing import count, ensure_statistics, fetch_page  # noqa: E402
from dadan.core.orders.query import compile_query  # noqa: E402

GOAL_MS = 100.0
# (label, term): share of the demo's orders in brackets; None: a piece of an order number
TERMS = [
    ("order no.", None),
    ("rare 3+ (~1%)", "老客户"),
    ("common 3+ (~14%)", "保温杯"),
    ("spec (~10%)", "黑色,l"),
    ("region", "杭州市 西湖区"),
    ("2 chars common (~20%)", "黑色"),
    ("2 chars rare (~0.7%)", "碑林"),
    ("2 chars none", "红色"),
    ("1 char (~44%)", "色"),
    ("1 char rare (~1%)", "麻"),
    ("1 digit (~87%)", "8"),
    ("no match", "不存在的词"),
]
COMBINED = "status:pending"  # each term also with this structured term


def _median_ms(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def _index_bytes() -> int | None:
    try:
        row = database().execute_sql(
            f"SELECT sum(pgsize) FROM dbstat WHERE name LIKE '{fulltext.TABLE}%'").fetchone()
    except Exception:  # noqa: BLE001 - SQLite built without dbstat
        return None
    return int(row[0] or 0)


def _open(n: int, tmp: Path, given: Path | None, days: int | None = None) -> tuple[str, Path | None]:
    if given is not None:
        open_database(f"sqlite:///{given}")
        return f"{given}", None
    path = tmp / f"fts{n}.db"
    open_database(f"sqlite:///{path}")
    t0 = time.perf_counter()
    write_demo(n, seed=3, days=days)
    return f"demo written in {time.perf_counter() - t0:.1f} s", path


def bench_size(n: int, runs: int, tmp: Path, given: Path | None, days: int | None = None) -> list[tuple]:
    origin, path = _open(n, tmp, given, days)
    ensure_statistics(force=given is None)
    db = database()
    n = count(None)
    rebuild = ""
    if given is None:
        t0 = time.perf_counter()
        with write(db):
            db.execute_sql(f"""INSERT INTO "{fulltext.TABLE}" ("{fulltext.TABLE}") VALUES ('rebuild')""")
        rebuild = f"; index built for the whole table in {time.perf_counter() - t0:.2f} s"
    size = _index_bytes()
    sn = Order.select(Order.order_sn).order_by(Order.id).limit(1).offset(n // 2).scalar()
    print(f"\n{n:,} orders: {origin}{rebuild}" + (f"; index {size / 1e6:.1f} MB" if size is not None else ""))
    print(f"  {'filter':<40} {'rows':>9} {'page ms':>8} {'count ms':>9}  goal <= {GOAL_MS:.0f} ms")
    out = []
    for label, term in TERMS:
        term = term or sn[4:12]
        for structured in ("", COMBINED + " "):
            text = f'{structured}"{term}"'
            page_ms, _ = _median_ms(lambda t=text: fetch_page(compile_query(t)), runs)
            count_ms, rows = _median_ms(lambda t=text: count(compile_query(t)), runs)
            like = Order.search_text.contains(term.lower())
            assert rows == count(like if not structured else compile_query(COMBINED) & like), text
            ok = page_ms <= GOAL_MS, count_ms <= GOAL_MS
            name = f"{label} {structured}{term}"
            key = f"{label}{' + ' + COMBINED if structured else ''}"
            print(f"  {name:<40} {rows:>9,} {page_ms:>8.1f} {count_ms:>9.1f}  "
                  f"{'ok' if ok[0] else 'MISS'}/{'ok' if ok[1] else 'MISS'}", flush=True)
            out.append((n, key, page_ms, count_ms, ok))
    close_database()
    if path is not None:
        path.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", default="10000,100000,1000000", help="comma-separated order counts")
    ap.add_argument("--database", type=Path, help="an existing database instead of a demo (it is migrated: a copy)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--days", type=int, help="a demo over that many days, the older orders shipped (dadan demo --days)")
    ap.add_argument("--json", help="append the figures to this file (bench/bench_all.py reads it)")
    args = ap.parse_args()
    sizes = [0] if args.database else [int(s) for s in args.orders.split(",") if s.strip()]
    results: list[tuple] = []
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            results += bench_size(n, args.runs, Path(d), args.database, args.days)
    sizes = list(dict.fromkeys(r[0] for r in results))
    print(f"\ngrowth: page / count, ms, median of {args.runs}; goal <= {GOAL_MS:.0f} ms each ('!' misses it)")
    print(f"  {'filter':<40}" + "".join(f"{n:>18,}" for n in sizes))
    for name in dict.fromkeys(r[1] for r in results):
        cells = {r[0]: r for r in results if r[1] == name}
        print(f"  {name:<40}" + "".join(
            f"{c[2]:>7.1f}{' ' if c[4][0] else '!'} /{c[3]:>7.1f}{' ' if c[4][1] else '!'}"
            for c in (cells[n] for n in sizes)))
    record(args.json, figures(results))


def figures(results: list[tuple]) -> list[Figure]:
    """For the growth table: the worst page and the worst count over the terms, alone and with
    ``status:pending``, and the page + count of the issue's own example (a two-character term)."""
    out = []
    for n in dict.fromkeys(r[0] for r in results):
        rows = [r for r in results if r[0] == n]
        for combined in (False, True):
            pick = [r for r in rows if (COMBINED in r[1]) == combined]
            how = f" + {COMBINED}" if combined else ""
            out.append(Figure(f"free text{how}: first page, worst of {len(pick)} terms", n,
                              max(r[2] for r in pick), "ms", GOAL_MS, goal_at=1_000_000))
            out.append(Figure(f"free text{how}: count, worst of {len(pick)} terms", n,
                              max(r[3] for r in pick), "ms", GOAL_MS, goal_at=1_000_000))
        common = next(r for r in rows if r[1] == "2 chars common (~20%)")
        out.append(Figure("free text, 2 characters in 20 % of orders: page + count", n,
                          common[2] + common[3], "ms", GOAL_MS, goal_at=1_000_000))
    return out


if __name__ == "__main__":
    main()
