"""Scans handled one after another, in the order they were scanned, by one thread worker at a
time: a scanner's burst outruns the database, and a scan must never overtake the one before it
(the receive, pack check and handover screens)."""

from __future__ import annotations

from collections import deque
from typing import Callable


class ScanQueue:
    """``handle(job)`` runs in the worker, once per job in order, inside a database connection;
    ``after()`` (if given) runs there once the queue is empty. A failure (shown by the app's
    error handler) leaves the next scans a worker of their own."""

    def __init__(self, node, handle: Callable[[tuple], None], *, group: str,
                 after: Callable[[], None] | None = None) -> None:
        self._node, self._handle, self._group, self._after = node, handle, group, after
        self._jobs: deque = deque()
        self.busy = False  # a worker is on it (tests wait for it)

    def put(self, job) -> None:
        self._jobs.append(job)
        if not self.busy:
            self.busy = True
            self._start()

    def _start(self) -> None:
        self._node.run_worker(self._drain, thread=True, exclusive=False, exit_on_error=False, group=self._group)

    def _drain(self) -> None:
        from dadan.core.db import connection

        try:
            with connection():
                while self._jobs:
                    self._handle(self._jobs.popleft())
                if self._after is not None:
                    self._after()
        finally:
            self._node.app.call_from_thread(self._drained)

    def _drained(self) -> None:
        self.busy = False
        if self._jobs:  # scanned after the worker looked for the last time
            self.busy = True
            self._start()
