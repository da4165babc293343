"""Small helpers shared by the desk screens (detail, print, queue, exceptions, scan, ...).

Screens reach the application's context through ``self.app.ctx`` and its clock through
``self.app.now`` (a datetime, a callable returning one, or None for the real time), so tests and
snapshots run on a fixed clock. Failed thread workers go to the app's one error handler.
"""

from __future__ import annotations

import datetime as dt

from textual.screen import Screen

from dadan.core.timeutil import DEFAULT_TZ, fmt_local, utcnow
from dadan.tui.widgets.error_modal import WorkerErrorsToApp


def app_now(app) -> dt.datetime:
    now = getattr(app, "now", None)
    if callable(now):
        now = now()
    return now or utcnow()


class DeskMixin(WorkerErrorsToApp):
    """``ctx``, ``actor``, ``tz``, ``now()``, ``fmt()`` and worker-error reporting for screens."""

    @property
    def ctx(self):
        return self.app.ctx  # type: ignore[attr-defined]

    @property
    def actor(self) -> str:
        return self.ctx.operator

    @property
    def tz(self) -> str:
        return self.ctx.settings.timezone or DEFAULT_TZ

    def now(self) -> dt.datetime:
        return app_now(self.app)  # type: ignore[attr-defined]

    def fmt(self, t: dt.datetime | None, fmt: str = "%m-%d %H:%M") -> str:
        return fmt_local(t, self.tz, fmt) if t else "—"

    def on_descendant_focus(self, event) -> None:
        """No blinking cursors unless animations are on (each blink redraws over SSH)."""
        from textual.widgets import Input

        node = getattr(event, "widget", None) or getattr(event, "control", None)
        if isinstance(node, Input) and not self._animations():
            node.cursor_blink = False

    def _animations(self) -> bool:
        try:
            return bool(self.ctx.settings.ui.animations)
        except AttributeError:
            return False


class DeskScreen(DeskMixin, Screen):
    """A full screen of the desk; Escape goes back."""

    DEFAULT_CSS = """
    DeskScreen { layout: vertical; }
    DeskScreen .desk-title { height: 1; padding: 0 1; background: $primary; color: $text; text-style: bold; }
    DeskScreen .desk-hint { height: auto; padding: 0 1; color: $text-muted; }
    """
