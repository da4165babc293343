"""Print throughput: a batch to a loopback TSPL printer that prints at a simulated speed.

    python bench/bench_print.py                      # 500 labels, 150 mm/s, 100x150 waybill
    python bench/bench_print.py --labels 100 --template tests/fakes/label_60x40.toml --width 60 --height 40

Prints: time from request (create_job) to the printer's first byte (target <= 300 ms); the
batch's wall time against the printer's own printing time (target: within 5 %); labels/s; and
dadan's encode time for one label against python-escpos's own ``image()``.
The printer's time is (label height + gap) / speed per label: it, not dadan, should be the
bottleneck.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", type=int, default=500)
    ap.add_argument("--speed", type=float, default=150.0, help="printer speed in mm/s")
    ap.add_argument("--template", default="waybill_100x150")
    ap.add_argument("--width", type=float, default=100.0)
    ap.add_argument("--height", type=float, default=150.0)
    ap.add_argument("--buffer", type=int, default=2, help="labels the printer buffers")
    args = ap.parse_args()

    from dadan.core.db import close_database
    from dadan.core.printing import queue as printing
    from dadan.core.printing.worker import PrintWorker
    from dadan.printers.profile import PrinterProfile
    from tests.fakes import FakeTsplPrinter
    from tests.fakes.queue_setup import make_db, order_ids

    with tempfile.TemporaryDirectory() as tmp:
        make_db(Path(tmp) / "bench.db", args.labels)
        ids = order_ids()
        with FakeTsplPrinter(speed_mm_s=args.speed, buffer_labels=args.buffer) as printer:
            prof = PrinterProfile(name="bench", driver="tspl", uri=printer.uri, width_mm=args.width,
                                  height_mm=args.height)
            worker = PrintWorker(prof, poll_seconds=0.01)
            # warm the template and font caches as a running app would have them
            from dadan.printers.raster import render_label

            render_label(args.template, {"order_sn": "warm"}, dpi=prof.dpi)
            worker.start()
            t0 = time.monotonic()
            job = printing.create_job(ids, printer="bench", template=args.template)
            worker.wake()
            if not printer.wait_printed(args.labels, timeout=args.labels * 5 + 60):
                print("the printer did not finish", file=sys.stderr)
                return 1
            t_end = printer.printed_at[-1]
            worker.stop()
            first_byte = (printer.first_byte_at - t0) * 1000
            per_label = printer.label_seconds()
            own = per_label * args.labels
            wall = t_end - t0
            v = printing.job_view(job.id)
        close_database()

    print(f"labels: {args.labels} x {args.width:g}x{args.height:g} mm at {args.speed:g} mm/s "
          f"(printer buffer {args.buffer} labels); job {v.state} {v.progress()}")
    print(f"request -> first byte: {first_byte:.0f} ms (target <= 300 ms) "
          f"{'OK' if first_byte <= 300 else 'MISSED'}")
    over = (wall / own - 1) * 100
    print(f"batch: {wall:.2f} s; printer's own printing time {own:.2f} s; overhead {over:+.2f} % "
          f"(target <= 5 %) {'OK' if over <= 5 else 'MISSED'}")
    print(f"throughput: {args.labels / wall:.2f} labels/s (printer limit {1 / per_label:.2f} labels/s)")
    encode_compare(args.template)
    return 0


def encode_compare(template: str, n: int = 20) -> None:
    from escpos.printer import Dummy

    from dadan.printers.escpos import EscposDriver
    from dadan.printers.profile import PrinterProfile
    from dadan.printers.raster import render_label
    from dadan.printers.tspl import TsplDriver

    img = render_label(template, {"order_sn": "240601-000000001", "tracking_number": "YT0000000001",
                                  "receiver_name": "张三", "receiver_address": "浙江省杭州市西湖区文三路 1 号"})
    prof = PrinterProfile(driver="escpos", width_mm=80 if img.width <= 576 else 112)
    drv = EscposDriver(prof, cut=False)

    def timeit(f):
        f()
        t = time.perf_counter()
        for _ in range(n):
            f()
        return (time.perf_counter() - t) / n * 1000

    page = drv.page_image(img)
    ours = timeit(lambda: drv.label(img))

    def theirs():
        import contextlib
        import io

        d = Dummy()
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a profile warning per call
            d.image(page, impl="bitImageRaster", center=False)
        return d.output

    lib = timeit(theirs)
    tspl = timeit(lambda: TsplDriver(PrinterProfile(driver="tspl", width_mm=img.width * 25.4 / 203,
                                                          height_mm=img.height * 25.4 / 203)).label(img))
    print(f"encode one {img.width}x{img.height} label: dadan ESC/POS {ours:.2f} ms, python-escpos image() "
          f"{lib:.2f} ms ({lib / ours:.1f}x); dadan TSPL {tspl:.2f} ms")


if __name__ == "__main__":
    sys.exit(main())
