"""One "host" of the two-hosts test (its name in ``DADAN_HOST``): at an agreed moment it syncs
one shop from the loopback platform (a thread) and runs the print worker for one job on the
loopback printer, waiting while the other host holds the printer. Prints one JSON line."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from dadan.core.config import Paths, SyncSettings
from dadan.core.db import connection, open_database
from dadan.core.models import Shop
from dadan.core.platform.shops import ClientFactory
from dadan.core.platform.sync import sync_shop
from dadan.core.printing import queue as printing
from dadan.core.printing.plan import PrintRefused
from dadan.core.printing.worker import PrintWorker
from dadan.printers.profile import PrinterProfile
from tests.test_sync_support import FAST_RETRY


def sync(home: Path, shop_id: int, out: dict) -> None:
    try:
        _sync(home, shop_id, out)
    except Exception as exc:  # noqa: BLE001 - reported in the JSON line, for the test to show
        out.update(ok=False, skipped=False, new=0, error=f"{type(exc).__name__}: {exc}")


def _sync(home: Path, shop_id: int, out: dict) -> None:
    with connection():
        factory = ClientFactory(paths=Paths(config_dir=home, data_dir=home), retry=FAST_RETRY, timeout=5)
        shop = Shop.get_by_id(shop_id)
        with factory(shop) as client:
            report = sync_shop(shop, client, SyncSettings(backfill_days=1, detail_concurrency=4))
        out.update(ok=report.ok, skipped=report.skipped, new=report.orders_new, error=report.error)


def print_job(uri: str, job_id: int, out: dict) -> None:
    worker = PrintWorker(PrinterProfile(name="lbl", driver="tspl", uri=uri, width_mm=60, height_mm=40))
    refused = 0
    while printing.get_job(job_id).state in ("queued", "printing"):
        try:
            worker.run_pending(job_id)
        except PrintRefused:  # the other host prints to it now: wait, as a desk's worker does
            refused += 1
            time.sleep(0.05)
    out.update(refused=refused, state=printing.get_job(job_id).state)


def main(url: str, home: str, uri: str, job_id: int, shop_id: int, at: float) -> None:
    open_database(url)
    synced: dict = {}
    printed: dict = {}
    time.sleep(max(0.0, at - time.time()))  # both hosts start at the same instant
    t = threading.Thread(target=sync, args=(Path(home), shop_id, synced))
    t.start()
    print_job(uri, job_id, printed)
    t.join()
    print(json.dumps({"sync": synced, "print": printed}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
