"""Other desks' changes on a screen: every ``CHANGES_SECONDS`` the screen asks the database's
change counter (:func:`dadan.core.changes.version`: one pragma on SQLite, one one-row read on
PostgreSQL) whether anything changed; when it did, the screen re-reads what it shows. Not while
the operator types (a filter bar's pending burst, keys its home scanner saw in the last
``TYPING_QUIET_S``): the next tick does it."""

from __future__ import annotations

import time
from typing import Callable

CHANGES_SECONDS = 2.0  # how often a screen asks whether another desk changed something (cheap)
TYPING_QUIET_S = 1.0  # no repaint from another desk's change until the keys rested this long


def _version() -> int | None:
    from dadan.core import changes

    try:
        return changes.version()
    except Exception:  # noqa: BLE001 - the server away for a moment: look again next time
        return None


class ChangeWatch:
    """Owned by a screen (``ChangeWatch(screen, refresh).start()`` on mount): calls ``refresh``
    when another desk (on any host) or a worker of this one changed the database, unless the
    operator is typing."""

    def __init__(self, screen, refresh: Callable[[], None]):
        self.screen, self._refresh = screen, refresh
        self._seen: int | None = None

    def start(self) -> "ChangeWatch":
        self._seen = _version()
        self.screen.set_interval(CHANGES_SECONDS, self.check)
        return self

    def typing(self) -> bool:
        from dadan.tui.widgets.filter_bar import FilterBar
        from dadan.tui.widgets.home_scan import HomeScanner

        if any(bar.pending for bar in self.screen.query(FilterBar)):
            return True
        scanner = self.screen.query_one_optional(HomeScanner)
        return scanner is not None and time.monotonic() - scanner.last_key < TYPING_QUIET_S

    def check(self) -> None:
        if self.screen.app.screen is not self.screen or self.typing():
            return
        version = _version()
        if version is None or version == self._seen:
            return
        self._seen = version
        self._refresh()


class WatchesChanges:
    """Mixed into a screen that shows orders (it has ``refresh_orders``), before ``Screen``: on
    mount (Textual calls each class's handler) it starts its :class:`ChangeWatch`,
    ``screen.changes``."""

    def on_mount(self) -> None:
        self.changes = ChangeWatch(self, self.refresh_orders).start()
