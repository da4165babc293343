"""One "host" trying to take a lease at an agreed moment (the lease race test starts several,
each with its own ``DADAN_HOST``): prints ``took`` or ``refused``."""

from __future__ import annotations

import datetime as dt
import sys
import time

from dadan.core import leases
from dadan.core.db import open_database


def main(url: str, name: str, at: float) -> None:
    open_database(url)
    holder = leases.make_holder()
    time.sleep(max(0.0, at - time.time()))  # every host asks at the same instant
    took = leases.acquire(name, holder, dt.timedelta(seconds=60))
    print(("took " if took else "refused ") + holder, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
