"""Backups of a database that holds many orders, while a desk keeps writing (#19).

    .venv/bin/python bench/bench_backup.py [--orders 10000,100000,1000000] [--rebuild]

For each size, a demo database (seed 1, built on first use and cached under the temp dir, as
``bench_writes.py`` does) is copied into a scratch folder. There:

- a writer process commits one small transaction (an audit event) every 10 ms and times each
  commit, first alone (the baseline), then while ``dadan.core.backup.backup`` copies the file;
- the backup's time and size, then ``verify`` (full ``integrity_check``) and ``restore`` of the
  copy into another folder.

Printed: backup seconds and MB/s, verify and restore seconds, and the writer's commit latency
(median and worst) alone and during the backup: the online backup copies in steps with pauses,
so the writer is never held up for long. No goal of the issue applies; the figures are recorded
for the growth table.
"""

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

from bench_tui import build  # noqa: E402
from bench_writes import scratch_copy  # noqa: E402
from growth import Figure, record  # noqa: E402

WRITER = """
import json, sqlite3, sys, time
from pathlib import Path
db, stop, out = sys.argv[1:4]
conn = sqlite3.connect(db, timeout=30, isolation_level=None)
conn.execute("PRAGMA busy_timeout = 30000")
conn.execute("PRAGMA synchronous = full")  # as the desks run (core.db.SQLITE_PRAGMAS)
lat = []
print("ready", flush=True)
while not Path(stop).exists():
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO audit_event (at, actor, action, target, reason, detail) "
                 "VALUES (datetime('now'), 'bench', 'bench.write', '', '', '')")
    conn.execute("COMMIT")
    lat.append(time.perf_counter() - t0)
    time.sleep(0.01)
Path(out).write_text(json.dumps(lat))
"""


def _writer_latencies(db: Path, work: Path, seconds: float | None, during=None) -> list[float]:
    stop, out = work / "stop", work / "lat.json"
    stop.unlink(missing_ok=True)
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(stop), str(out)], text=True,
                         stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == "ready"
    result = None
    if during is not None:
        result = during()
    else:
        time.sleep(seconds)
    stop.touch()
    p.wait(60)
    return json.loads(out.read_text()), result


def measure(home: Path, work: Path) -> dict[str, float]:
    from dadan.core import backup as bk
    from dadan.core.config import Paths, Settings
    from dadan.core.db import close_database

    db = scratch_copy(home, work)
    paths = Paths(config_dir=work, data_dir=work)
    settings = Settings()
    alone, _ = _writer_latencies(db, work, 2.0)
    t0 = time.perf_counter()
    during, result = _writer_latencies(db, work, None, lambda: bk.backup(settings=settings, paths=paths))
    backup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = bk.verify(result.path)
    verify_s = time.perf_counter() - t0
    assert report.integrity == "ok", report.integrity
    restored = work / "restored"
    t0 = time.perf_counter()
    bk.restore(result.path, settings=settings, paths=Paths(config_dir=restored, data_dir=restored), actor="bench")
    restore_s = time.perf_counter() - t0
    close_database()
    return {"backup_s": result.seconds, "backup_wall_s": backup_s, "mb": result.size / 1e6,
            "verify_s": verify_s, "restore_s": restore_s,
            "alone_ms": statistics.median(alone) * 1e3, "alone_max_ms": max(alone) * 1e3,
            "during_ms": statistics.median(during) * 1e3 if during else 0.0,
            "during_max_ms": max(during) * 1e3 if during else 0.0, "during_n": len(during)}


def main() -> None:
    import shutil

    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", default="10000,100000,1000000")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--json", help="append the figures to this file (bench/bench_all.py reads it)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.orders.split(",")]
    scratch = Path(tempfile.gettempdir()) / "dadan-bench-writes"
    scratch.mkdir(exist_ok=True)
    table = {}
    for n in sizes:
        home = build(n, args.rebuild, scratch / f"demo-{n}")
        print(f"{n:,} orders ...", file=sys.stderr, flush=True)
        work = scratch / f"backup-{n}"
        try:
            table[n] = measure(home, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    rows = [("database size", "mb", "{:,.0f} MB"), ("backup (online, in steps)", "backup_s", "{:,.2f} s"),
            ("verify (integrity_check)", "verify_s", "{:,.2f} s"), ("restore (copy + migrate + audit)", "restore_s",
                                                                    "{:,.2f} s"),
            ("writer commit, alone: median", "alone_ms", "{:,.1f} ms"), ("writer commit, alone: worst", "alone_max_ms",
                                                                        "{:,.1f} ms"),
            ("writer commit during the backup: median", "during_ms", "{:,.1f} ms"),
            ("writer commit during the backup: worst", "during_max_ms", "{:,.1f} ms"),
            ("writer commits during the backup", "during_n", "{:,.0f}")]
    print("\nbackup of a database of N orders while a desk writes")
    print("| measure | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for label, key, fmt in rows:
        print(f"| {label} | " + " | ".join(fmt.format(table[n][key]) for n in sizes) + " |")
    record(args.json, [Figure(label, n, table[n][key], fmt.split()[-1] if " " in fmt else "")
                       for label, key, fmt in rows if key in ("backup_s", "verify_s", "restore_s", "during_max_ms")
                       for n in sizes])


if __name__ == "__main__":
    main()
