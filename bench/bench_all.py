"""The scale goals (#16) in one growth table: runs every bench at 10k / 100k / 1M orders and prints
their figures side by side, each marked against its goal.

    .venv/bin/python bench/bench_all.py [--sizes 10000,100000,1000000] [--only NAME,...]
                                        [--markdown] [--from FILE]

Each bench builds (or reuses, cached under the temp dir) its demo databases, measures medians of
several runs and appends its figures to one JSON-lines file; this script only runs them in turn
and prints the table. ``--from FILE`` prints the table of an earlier run without measuring.
At 1M the whole run takes about half an hour on a 2-core machine (the demo itself is built at
each size, and the write benches work on copies of the 1M database).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from growth import load, misses, table  # noqa: E402


def _sizes_list(sizes: list[int]) -> str:
    return ",".join(str(n) for n in sizes)


# name -> the bench's command line for these sizes (each bench takes --json FILE)
BENCHES = {
    "demo": lambda sizes: [[HERE / "bench_demo.py", "--sizes", _sizes_list(sizes)]],
    "tui": lambda sizes: [[HERE / "bench_tui.py", "--orders", str(n), "--runs", "3"] for n in sizes],
    "typing": lambda sizes: [[HERE / "bench_typing.py", "--sizes", _sizes_list(sizes), "--runs", "3"]],
    "counts": lambda sizes: [[HERE / "bench_counts.py", "--orders", _sizes_list(sizes), "--runs", "3"]],
    "writes": lambda sizes: [[HERE / "bench_writes.py", "--orders", _sizes_list(sizes), "--runs", "3"]],
    "fulltext": lambda sizes: [[HERE / "bench_fulltext.py", "--orders", _sizes_list(sizes), "--runs", "3"]],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(BENCHES)}")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    ap.add_argument("--from", dest="source", help="print the table of this figures file, measure nothing")
    args = ap.parse_args()
    if args.source:
        figures = load(args.source)
    else:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
        only = [s for s in args.only.split(",") if s] or list(BENCHES)
        unknown = set(only) - set(BENCHES)
        if unknown:
            ap.error(f"unknown bench {', '.join(sorted(unknown))} (choose from {', '.join(BENCHES)})")
        out = Path(tempfile.mkdtemp(prefix="dadan-growth-")) / "figures.jsonl"
        for name in only:
            for cmd in BENCHES[name](sizes):
                print(f"[{name}] {' '.join(str(c) for c in cmd[1:])}", file=sys.stderr, flush=True)
                subprocess.run([sys.executable, str(cmd[0]), *map(str, cmd[1:]), "--json", str(out)], check=True,
                               stdout=sys.stderr)
        print(f"figures: {out}", file=sys.stderr)
        figures = load(out)
    print(table(figures, markdown=args.markdown))
    missed = misses(figures)
    print(f"\n{len(missed)} figure(s) missed their goal" if missed else "\nevery figure with a goal meets it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
