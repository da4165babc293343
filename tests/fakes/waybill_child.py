"""Print a waybill job in this process, taking numbers from the loopback platform (the kill test
SIGKILLs it while a number's answer is on its way)."""

from __future__ import annotations

import sys
from pathlib import Path

from dadan.core.config import Paths, SenderSettings, Settings
from dadan.core.db import open_database
from dadan.core.platform.pdd import RetryPolicy
from dadan.core.platform.shops import ClientFactory
from dadan.core.printing.worker import PrintWorker
from dadan.printers.profile import PrinterProfile


def main(home: str, uri: str, job_id: int, url: str = "") -> None:
    open_database(url or f"sqlite:///{home}/dadan.db")
    paths = Paths(config_dir=Path(home), data_dir=Path(home))
    settings = Settings(sender=SenderSettings(name="仓库", phone="13800000000"))
    factory = ClientFactory(paths=paths, retry=RetryPolicy(attempts=2, base_seconds=0.01), timeout=30)
    prof = PrinterProfile(name="lbl", driver="tspl", uri=uri, width_mm=100, height_mm=150)
    print("ready", flush=True)
    PrintWorker(prof, settings=settings, client_factory=factory).run_pending(job_id)
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:5])
