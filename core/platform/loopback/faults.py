"""Which faults the loopback platform injects, and drawing the next one for a request."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

FAULT_KINDS = ("timeout", "http500", "busy", "ratelimit", "expire_token", "truncated", "reset", "slow")
# faults that hit after the platform did the work (the answer is lost on the way)
AFTER_WORK = ("timeout", "truncated", "reset", "slow")


@dataclass
class FaultPlan:
    """Which faults to inject. ``queue`` faults are used first, one per request (optionally only
    for one API: ``("busy", "pdd.logistics.online.send")``); then each request fails with
    probability ``rate``, the kind drawn from ``kinds``."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    queue: deque = field(default_factory=deque)
    timeout_sleep: float = 0.4  # longer than the client's timeout in tests
    slow_sleep: float = 0.05
    apis: tuple[str, ...] = ()  # restrict random faults to these APIs (empty: all)

    def draw(self, api: str, rng: random.Random) -> str | None:
        """The fault for the next request to ``api`` (None: none)."""
        if self.queue:
            head = self.queue[0]
            kind, only = (head, None) if isinstance(head, str) else head
            if only is None or only == api:
                self.queue.popleft()
                return kind
        if self.rate and (not self.apis or api in self.apis) and rng.random() < self.rate:
            return rng.choice(self.kinds)
        return None
