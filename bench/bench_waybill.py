"""E-waybill print throughput: numbers taken from the loopback platform (``pdd.waybill.get``, 10
parcels a call) and the courier's standard layout rendered by it (``pdd.cloudprint.cmdprint.render``)
for a job sent to a loopback TSPL printer printing at a simulated speed.

    python bench/bench_waybill.py                  # 500 parcels, 150 mm/s, 100x150 mm
    python bench/bench_waybill.py --parcels 100 --latency-ms 30

Prints: the key (job queued) -> the first label's bytes taken by the printer (target <= 1 s); the batch's wall time
against the printer's own printing time (target: within 5 %); calls made; numbers taken. Each
platform answer can be delayed (``--latency-ms``, default 20 ms, like a nearby gateway): taking
and rendering run ahead of the printer, so the printer, not dadan, is the bottleneck.
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
    ap.add_argument("--parcels", type=int, default=500)
    ap.add_argument("--speed", type=float, default=150.0, help="printer speed in mm/s")
    ap.add_argument("--buffer", type=int, default=2, help="labels the printer buffers")
    ap.add_argument("--latency-ms", type=float, default=20.0, help="delay of every platform answer")
    args = ap.parse_args()

    from dadan.core.config import SenderSettings, Settings
    from dadan.core.db import close_database
    from dadan.core.models import Order
    from dadan.core.printing import queue as printing
    from dadan.core.printing.worker import PrintWorker
    from dadan.printers.profile import PrinterProfile
    from tests.fakes import FakeTsplPrinter
    from tests.test_sync_support import make_waybill_env

    with tempfile.TemporaryDirectory() as tmp:
        env = make_waybill_env(Path(tmp), orders=int(args.parcels * 1.25) + 20, quantity=args.parcels * 2,
                               seed=5, timeout=10)
        ids = [o.id for o in Order.select().where((Order.order_status == 1) & (Order.exception_flags == 0))
               .order_by(Order.id).limit(args.parcels)]
        if len(ids) < args.parcels:
            print(f"only {len(ids)} printable orders", file=sys.stderr)
            return 1
        hook_delay = args.latency_ms / 1000

        def slow(api, params):  # every answer waits as a real gateway's would
            time.sleep(hook_delay)

        env.platform.on_request = slow
        settings = Settings(sender=SenderSettings(name="仓库", phone="13800000000"))
        with FakeTsplPrinter(speed_mm_s=args.speed, buffer_labels=args.buffer) as printer:
            prof = PrinterProfile(name="bench", driver="tspl", uri=printer.uri, width_mm=100, height_mm=150)
            worker = PrintWorker(prof, settings=settings, poll_seconds=0.01, client_factory=env.factory)
            worker.start()
            before = dict(env.platform.requests)
            t0 = time.monotonic()
            job = printing.create_job(ids, printer="bench", template="waybill_100x150")
            worker.wake()
            if not printer.wait_printed(args.parcels, timeout=args.parcels * 5 + 60):
                print("the printer did not finish", file=sys.stderr)
                return 1
            t_end = printer.printed_at[-1]
            worker.stop()
            first_label = worker.first_send_at - t0  # the first label's bytes taken by the printer
            own = printer.label_seconds() * args.parcels
            wall = t_end - t0
            v = printing.job_view(job.id)
            numbered = sum(1 for b in printer.barcodes if b)
        calls = {k: env.platform.requests[k] - before.get(k, 0) for k in env.platform.requests}
        env.server.stop()
        close_database()

    print(f"parcels: {args.parcels} x 100x150 mm at {args.speed:g} mm/s (printer buffer {args.buffer}); "
          f"platform answers delayed {args.latency_ms:g} ms; job {v.state} {v.progress()}")
    print(f"key -> first label's bytes at the printer: {first_label * 1000:.0f} ms (target <= 1000 ms) "
          f"{'OK' if first_label <= 1 else 'MISSED'}")
    over = (wall / own - 1) * 100
    print(f"batch: {wall:.2f} s; printer's own printing time {own:.2f} s; overhead {over:+.2f} % "
          f"(target <= 5 %) {'OK' if over <= 5 else 'MISSED'}")
    print(f"numbers taken: {calls.get('pdd.waybill.get', 0)} calls for {args.parcels} parcels; "
          f"renders: {calls.get('pdd.cloudprint.cmdprint.render', 0)}; labels with their number's Code128: "
          f"{numbered}/{args.parcels}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
