"""Archive in this process, announcing each batch from inside its transaction; at the third
batch it stops there (the kill test SIGKILLs it while the batch is uncommitted)."""

from __future__ import annotations

import sys
import time

from dadan.core.archive.move import archive
from dadan.core.db import open_database


def main(home: str, batch: int) -> None:
    open_database(f"sqlite:///{home}/dadan.db")
    batches = 0

    def progress(moved: int) -> None:
        nonlocal batches
        batches += 1
        print(f"moved {moved}", flush=True)
        if batches == 3:
            print("holding", flush=True)
            time.sleep(60)

    archive(30, actor="child", batch=batch, progress=progress)
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
