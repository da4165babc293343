"""Python's full garbage collections, as far as possible at moments nobody waits on.

Every page of orders the desk paints leaves cyclic garbage behind (Textual's caches and styling
nodes of the rows it replaced). Python's collector clears it in its youngest generations
cheaply, but about one Enter in four also met a *full* collection, which walks every object
the desk holds: 20-60 ms added to that key's rows at 1,000,000 orders (bench/bench_typing.py).

:class:`IdleCollector` runs the full collection early, at the first check with no key, scan or
click for :data:`QUIET_S`, once :data:`EARLY_AFTER` young collections have passed since the
last one -- half of what Python waits for (its third threshold, 10) -- so that a burst of keys
seldom finds one due. Python's own thresholds stay as they are: work that allocates without
pause (a long select-all, a worker's page) still gets its full collections from Python when
they are due, and memory stays where it was (peak RSS at 1,000,000 orders: bench/bench_tui.py).
Leaving them to quiet moments alone raised that peak by 6-30 MB."""

from __future__ import annotations

import gc
import time
from typing import Callable

EARLY_AFTER = 5  # young collections since the last full one: collect at the next quiet moment
QUIET_S = 0.5  # no key, scan or click for this long: nobody waits on the pause
CHECK_S = 0.25  # how often the desk asks (tick)


class IdleCollector:
    """``last_input()``: the monotonic time of the last key, scan or click."""

    def __init__(self, last_input: Callable[[], float], clock: Callable[[], float] = time.monotonic) -> None:
        self._last_input = last_input
        self._clock = clock
        self.collections = 0  # full collections run here

    def tick(self) -> bool:
        """Run the full collection early if young ones have passed and the desk is quiet.
        True when it ran."""
        if not gc.isenabled():  # (a bulk write has it off meanwhile: core.bulk)
            return False
        if gc.get_count()[2] < EARLY_AFTER or self._clock() - self._last_input() < QUIET_S:
            return False
        gc.collect()
        self.collections += 1
        return True
