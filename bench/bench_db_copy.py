"""``dadan db copy`` at size: a demo SQLite database with print history and the ship outbox
copied into PostgreSQL (#20's acceptance: "100k orders with print history and outbox copied;
counts and per-table checksums equal").

    .venv/bin/python bench/bench_db_copy.py [--orders 100000] [--printed 20000] [--rebuild]

The demo database (seed 1, fixed clock) is built once and cached (``bench_tui.build``). A copy
of it gets a history, cached too: print jobs of 100 labels for ``--printed`` orders, every label
sent (one order event each), a ship-confirmation outbox row for every printed order (pending,
confirmed, failed), audit events, goods and stock movements. That copy goes into an empty
database of a throwaway PostgreSQL cluster (``tests/pg_cluster.Cluster``: initdb/pg_ctl on
loopback, removed at exit) with the real ``copy_database``; the rows/s of each table, the
total time and the verification (each table's count and checksum on both sides) are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tui import ROOT, build  # noqa: E402

sys.path.insert(0, str(ROOT))

JOB_SIZE = 100
NOW = dt.datetime(2026, 11, 20, 4, 0, 0)


def add_history(path: Path, printed: int) -> dict[str, int]:
    """Print jobs for ``printed`` orders (all sent), their order events, an outbox row per
    printed order, audit events, goods with stock movements. Plain inserts in one transaction."""
    from dadan.core.db import close_database, open_database, write

    db = open_database(f"sqlite:///{path}")  # migrated to this dadan's schema
    ids = [r[0] for r in db.execute_sql('SELECT id FROM "order" ORDER BY id LIMIT ?', (printed,))]
    at = [str(NOW - dt.timedelta(seconds=len(ids) - i)) for i in range(len(ids))]
    with write():
        cur = db.cursor()
        jobs = len(ids) // JOB_SIZE + (1 if len(ids) % JOB_SIZE else 0)
        first_job = (db.execute_sql("SELECT coalesce(max(id), 0) FROM print_job").fetchone()[0]) + 1
        cur.executemany("INSERT INTO print_job (id, created_at, requested_by, printer, template, kind, state, "
                        "state_reason, reprint_reason, total, finished_at, courier) "
                        "VALUES (?, ?, 'amy', 'preview', 'label_60x40', 'label', 'done', '', '', ?, ?, '')",
                        [(first_job + j, at[j * JOB_SIZE], min(JOB_SIZE, len(ids) - j * JOB_SIZE),
                          at[min(len(ids), (j + 1) * JOB_SIZE) - 1]) for j in range(jobs)])
        cur.executemany("INSERT INTO print_item (job_id, seq, order_id, state, reason, is_reprint, reprint_no, "
                        "claimed_at, sent_at, attempts) VALUES (?, ?, ?, 'sent', '', ?, 0, ?, ?, 1)",
                        [(first_job + i // JOB_SIZE, i % JOB_SIZE + 1, oid, i % 50 == 0, at[i], at[i])
                         for i, oid in enumerate(ids)])
        cur.executemany("INSERT INTO order_event (order_id, at, kind, text) VALUES (?, ?, 'print', ?)",
                        [(oid, at[i], f"label {i % JOB_SIZE + 1}/{JOB_SIZE} sent to preview (job #{first_job + i // JOB_SIZE})")
                         for i, oid in enumerate(ids)])
        db.execute_sql('UPDATE "order" SET print_count = print_count + 1, last_printed_at = ?, '
                       "first_printed_at = coalesce(first_printed_at, ?), "
                       "state = CASE WHEN state = 'new' THEN 'printed' ELSE state END WHERE id <= ?",
                       (at[-1], at[-1], ids[-1]))
        states = ("pending", "confirmed", "confirmed", "failed")
        cur.executemany("INSERT INTO shipment (order_id, tracking_number, logistics_id, state, attempts, "
                        "next_attempt_at, last_error, created_at, created_by, confirmed_at) "
                        "VALUES (?, ?, 85, ?, ?, ?, ?, ?, 'amy', ?)",
                        [(oid, f"YT{oid:013d}", states[i % 4], i % 4, at[i],
                          "超时\ttimeout" if i % 4 == 3 else "", at[i], at[i] if i % 4 in (1, 2) else None)
                         for i, oid in enumerate(ids)])
        cur.executemany("INSERT INTO audit_event (at, actor, action, order_id, target, reason, detail) "
                        "VALUES (?, 'amy', 'print.reprint', ?, 'preview', '补打', '{\"n\": 1}')",
                        [(at[i], oid) for i, oid in enumerate(ids[::10])])
        cur.executemany("INSERT INTO goods (code, code_key, name, spec, bin, weight_g, safety_stock, on_hand, "
                        "reserved, managed, platform_goods_id, platform_sku_id, created_at, updated_at) "
                        "VALUES (?, ?, ?, '', 'A-01', 100, 5, 0, 0, ?, '', '', ?, ?)",
                        [(f"BG{g:04d}", f"bg{g:04d}", f"货品 {g}", g % 2 == 0, at[0], at[0]) for g in range(200)])
        goods = [r[0] for r in db.execute_sql("SELECT id FROM goods WHERE code LIKE 'BG%' ORDER BY id")]
        cur.executemany("INSERT INTO stock_movement (goods_id, qty, kind, order_id, order_sn, actor, at, reason) "
                        "VALUES (?, ?, 'receive', NULL, '', 'amy', ?, '到货')",
                        [(goods[k % len(goods)], 10 + k % 7, at[k % len(at)]) for k in range(5000)])
    counts = {t: db.execute_sql(f'SELECT count(*) FROM "{t}"').fetchone()[0]
              for t in ("order", "print_job", "print_item", "shipment", "order_event", "audit_event", "stock_movement")}
    close_database()
    return counts


def source(orders: int, printed: int, rebuild: bool) -> Path:
    """The cached demo with its history (made once)."""
    demo = build(orders, rebuild) / "dadan.db"
    path = Path(tempfile.gettempdir()) / f"dadan-bench-copy-{orders}-{printed}.db"
    if path.exists() and not rebuild:
        return path
    print(f"adding print history and outbox for {printed:,} orders ...", file=sys.stderr, flush=True)
    tmp = path.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
    conn.backup(dest := sqlite3.connect(tmp))
    conn.close()
    dest.close()
    print(add_history(tmp, printed), file=sys.stderr, flush=True)
    os.replace(tmp, path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--printed", type=int, default=20_000)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("DADAN_HOME", tempfile.mkdtemp(prefix="dadan-bench-copy-home-"))
    from dadan.core.db_copy import copy_database
    from dadan.core.i18n import set_language
    from tests.pg_cluster import Cluster

    set_language("en")
    src = source(args.orders, args.printed, args.rebuild)
    scratch = Path(tempfile.mkdtemp(prefix="dadan-bench-copy-")) / "dadan.db"
    conn = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    conn.backup(dest := sqlite3.connect(scratch))  # the copy notes itself in its source's audit log
    conn.close()
    dest.close()
    print(f"source: {scratch} ({scratch.stat().st_size / 1e6:.0f} MB)", flush=True)
    t0 = time.monotonic()
    cluster = Cluster()
    url = cluster.empty("bench_copy")
    print(f"target: {url} (cluster started in {time.monotonic() - t0:.1f} s)", flush=True)
    print(f"{'table':<20} {'rows':>10} {'seconds':>8} {'rows/s':>10}", flush=True)
    report = copy_database(url, source_url=f"sqlite:///{scratch}", actor="bench", progress=lambda t: print(
        f"{t.name:<20} {t.rows:>10,} {t.seconds:>8.2f} {t.rate:>10,.0f}", flush=True))
    copy_s = report.seconds - report.verify_seconds
    print(f"\ntotal: {report.rows:,} rows in {report.seconds:.1f} s (copy {copy_s:.1f} s, of which indexes built {report.index_seconds:.1f} s, "
          f"{report.rows / copy_s:,.0f} rows/s; verification {report.verify_seconds:.1f} s)")
    print("verification (rows and sha256 per table, source vs target):")
    for t in report.tables:
        same = "OK" if t.ok else "DIFFERS"
        print(f"  {t.name:<20} {t.source_rows:>10,} {t.target_rows:>10,}  {t.target_sum[:16]}  {same}")
    print("counts and per-table checksums equal" if report.ok else "DIFFERENCES FOUND")
    cluster.stop()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
