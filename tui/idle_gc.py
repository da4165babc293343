"""Python's full garbage collections at moments nobody waits on.

Every page of orders the desk paints leaves cyclic garbage behind (Textual's caches and styling
nodes of the rows it replaced). Python's collector clears it in its youngest generations
cheaply, but about one Enter in four also met a *full* collection, which walks every object
the desk holds (some hundreds of thousands): 20-60 ms added to that key's rows at 1,000,000
orders (bench/bench_typing.py).

:class:`IdleCollector` keeps the young collections as they are and stops Python from starting
a full one by itself (its threshold set out of reach while the desk runs). It runs the full
collection when it falls due -- after :data:`FULL_AFTER` young collections, Python's own
default -- at the first check with no key, scan or click for :data:`QUIET_S`. A desk that is
never quiet that long (a scan burst) still collects once :data:`FORCE_AFTER` are pending, so
memory stays bounded. Nothing is frozen or left uncollected: the garbage is the same, only
its moment moves."""

from __future__ import annotations

import gc
import time
from typing import Callable

FULL_AFTER = 10  # young collections before a full one falls due (Python's own third threshold)
FORCE_AFTER = 20  # collected even while keys keep coming (memory stays within a few collections of Python's own)
QUIET_S = 0.5  # no key, scan or click for this long: nobody waits on the pause
CHECK_S = 0.25  # how often the desk asks (tick)
_OUT_OF_REACH = 1_000_000  # a third threshold Python never reaches by itself


class IdleCollector:
    """``last_input()``: the monotonic time of the last key, scan or click."""

    def __init__(self, last_input: Callable[[], float], clock: Callable[[], float] = time.monotonic) -> None:
        self._last_input = last_input
        self._clock = clock
        self._saved: tuple[int, int, int] | None = None
        self.collections = 0  # full collections run here

    def start(self) -> None:
        """Python no longer starts full collections by itself (:meth:`tick` does)."""
        if self._saved is None:
            self._saved = gc.get_threshold()
            gc.set_threshold(self._saved[0], self._saved[1], _OUT_OF_REACH)

    def stop(self) -> None:
        """Python's own thresholds again."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def tick(self) -> bool:
        """Run the full collection if it is due and the desk is quiet (or long overdue).
        True when it ran."""
        if self._saved is None or not gc.isenabled():  # (a bulk write has it off meanwhile: core.bulk)
            return False
        pending = gc.get_count()[2]
        if pending < FULL_AFTER:
            return False
        if pending < FORCE_AFTER and self._clock() - self._last_input() < QUIET_S:
            return False
        gc.collect()
        self.collections += 1
        return True
