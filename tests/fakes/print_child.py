"""Run a print worker in this process until the job is done (the kill test SIGKILLs it)."""

from __future__ import annotations

import sys

from dadan.core.db import open_database
from dadan.core.printing.worker import PrintWorker
from dadan.printers.profile import PrinterProfile


def main(db_url: str, uri: str, job_id: int, driver: str = "tspl") -> None:
    open_database(db_url)
    if driver == "escpos":
        prof = PrinterProfile(name="lbl", driver="escpos", uri=uri, width_mm=80)
    else:
        prof = PrinterProfile(name="lbl", driver="tspl", uri=uri, width_mm=60, height_mm=40)
    print("ready", flush=True)
    PrintWorker(prof).run_pending(job_id)
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:5])
