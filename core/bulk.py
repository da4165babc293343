"""Bulk work (a sync window, an import of 50,000 rows) allocates hundreds of thousands of small
containers that all stay alive until the work is done. Python's cyclic garbage collector would
walk them again and again while they pile up (a third of an import's time), yet none of them
form cycles that need collecting before the call returns. :func:`gc_paused` switches the
collector off for the duration of such a call."""

from __future__ import annotations

import functools
import gc
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)


def gc_paused(fn: F) -> F:
    """Run ``fn`` with the cyclic garbage collector off (reference counting still frees
    everything as usual). Nested and concurrent calls are safe: only the call that switched
    the collector off switches it on again."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return call  # type: ignore[return-value]
