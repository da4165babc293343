"""Free-text filter time as the orders grow: the FTS5 trigram index against the LIKE scan it
replaces, at 10k / 100k / 1M demo orders.

    .venv/bin/python bench/bench_fulltext.py                    # 10k and 100k
    .venv/bin/python bench/bench_fulltext.py --sizes 10000,100000,1000000 --runs 7

For each size a demo database is written (core.demo.write_demo, the planner's statistics
gathered as the desk does), then for each term, as medians of ``--runs`` runs:

- ``sql``: the bare SQL of the order list's first page (51 rows, newest paid first) and of its
  count, executed directly;
- ``desk``: the same through ``core.orders.query.compile_query`` + ``core.orders.listing``
  (``fetch_page`` + ``count``), as the order list asks for them;
- ``like``: the LIKE scan the same terms used before the index (page + count), for comparison.

Goal (issue #16): ``desk`` <= 100 ms at 1M and <= ``sql`` + 50 ms. Terms of fewer than three
characters cannot use a trigram index: they are shown too (``[scan]``), against the same goal.
Also printed: the demo's write time, the index's size and the time to build it for the whole
table (what migration step 4 costs an existing database).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dadan.core.db import close_database, database, open_database, write  # noqa: E402
from dadan.core.demo import write_demo  # noqa: E402
from dadan.core.models import Order  # noqa: E402
from dadan.core.orders import fulltext  # noqa: E402
from dadan.core.orders.listing import count, ensure_statistics, fetch_page  # noqa: E402
from dadan.core.orders.query import compile_query  # noqa: E402

GOAL_MS = 100.0
LIMIT_ABOVE_SQL_MS = 50.0
# (label, term): goods (~10%), spec (~20%), a remark (~1%), a district, a rare order-number piece, no match
TERMS = [("goods", "保温杯"), ("spec", "黑色,l"), ("remark", "老客户"), ("region", "杭州市 西湖区"),
         ("order no.", None), ("no match", "不存在的词"), ("2 chars", "红色")]


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _page_and_count_sql(expr) -> list[tuple[str, list]]:
    """The SQL of the first page (newest paid first, the columns the table shows) and of the count."""
    shown = (Order.id, Order.order_sn, Order.state, Order.province, Order.city, Order.items_summary,
             Order.pay_amount_fen, Order.pay_time, Order.last_ship_time, Order.receiver_name_mask)
    page = (Order.select(*shown).where(expr & Order.pay_time.is_null(False))
            .order_by(Order.pay_time.desc(), Order.id.desc()).limit(51))
    total = Order.select(Order.id).where(expr)
    return [page.sql(), (f"SELECT count(*) FROM ({total.sql()[0]})", total.sql()[1])]


def _run_sql(statements: list[tuple[str, list]]) -> None:
    cur = database().cursor()
    for sql, params in statements:
        cur.execute(sql, params).fetchall()


def _index_bytes() -> int | None:
    try:
        row = database().execute_sql(
            f"SELECT sum(pgsize) FROM dbstat WHERE name LIKE '{fulltext.TABLE}%'").fetchone()
    except Exception:  # noqa: BLE001 - SQLite built without dbstat
        return None
    return int(row[0] or 0)


def bench_size(n: int, runs: int, tmp: Path) -> list[tuple]:
    path = tmp / f"fts{n}.db"
    open_database(f"sqlite:///{path}")
    t0 = time.perf_counter()
    write_demo(n, seed=3)
    demo_s = time.perf_counter() - t0
    ensure_statistics(force=True)
    db = database()
    t0 = time.perf_counter()
    with write(db):
        db.execute_sql(f"""INSERT INTO "{fulltext.TABLE}" ("{fulltext.TABLE}") VALUES ('rebuild')""")
    rebuild_s = time.perf_counter() - t0
    size = _index_bytes()
    sn = Order.select(Order.order_sn).order_by(Order.id).limit(1).offset(n // 2).scalar()
    print(f"\n{n:,} orders: demo written in {demo_s:.1f} s; index built for the whole table in {rebuild_s:.2f} s"
          + (f"; index {size / 1e6:.1f} MB" if size is not None else "")
          + f"; database {path.stat().st_size / 1e6:.0f} MB")
    print(f"  {'term':<22} {'rows':>8} {'sql ms':>8} {'desk ms':>8} {'like ms':>8}  goal")
    out = []
    for label, term in TERMS:
        term = term or sn[4:12]
        expr = compile_query(f'"{term}"')
        like = Order.search_text.contains(term.lower())
        rows = count(expr)
        assert rows == count(like), term
        statements = _page_and_count_sql(expr)
        sql_ms = _median_ms(lambda s=statements: _run_sql(s), runs)
        desk_ms = _median_ms(lambda t=term: (fetch_page(compile_query(f'"{t}"')), count(compile_query(f'"{t}"'))), runs)
        like_ms = _median_ms(lambda e=like: (fetch_page(e), count(e)), max(1, runs // 2))
        scan = "" if len(term) >= fulltext.MIN_CHARS else " [scan]"
        ok = desk_ms <= GOAL_MS and desk_ms <= sql_ms + LIMIT_ABOVE_SQL_MS
        print(f"  {label + ' ' + term + scan:<22} {rows:>8,} {sql_ms:>8.1f} {desk_ms:>8.1f} {like_ms:>8.1f}  "
              f"{'ok' if ok else 'MISS'}")
        out.append((n, label, term + scan, rows, sql_ms, desk_ms, like_ms, ok))
    close_database()
    path.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated order counts")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results: list[tuple] = []
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            results += bench_size(n, args.runs, Path(d))
    print(f"\ngrowth: desk time (page + count), ms, median of {args.runs}; goal <= {GOAL_MS:.0f} ms at every size "
          f"and <= bare SQL + {LIMIT_ABOVE_SQL_MS:.0f} ms")
    print(f"  {'term':<22}" + "".join(f"{n:>12,}" for n in sizes))
    for label, _term in TERMS:
        cells = {r[0]: r for r in results if r[1] == label}
        name = next(r[2] for r in results if r[1] == label)
        print(f"  {label + ' ' + name:<22}" + "".join(
            f"{cells[n][5]:>9.1f} {'ok' if cells[n][7] else '!!'}" for n in sizes))


if __name__ == "__main__":
    main()
