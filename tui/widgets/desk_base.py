"""Small helpers shared by the desk screens (detail, print, queue, exceptions, scan, ...).

Screens reach the application's context through ``self.app.ctx`` and its clock through
``self.app.now`` (a datetime, a callable returning one, or None for the real time), so tests and
snapshots run on a fixed clock. Errors from thread workers come back here and are shown in words.
"""

from __future__ import annotations

import datetime as dt

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from dadan.core.i18n import tr
from dadan.core.timeutil import DEFAULT_TZ, fmt_local, utcnow


def app_now(app) -> dt.datetime:
    now = getattr(app, "now", None)
    if callable(now):
        now = now()
    return now or utcnow()


def error_text(exc: BaseException | None) -> tuple[str, str]:
    """(title, message) of an error, in words."""
    if exc is None:
        return tr("Error", "错误"), ""
    title = getattr(exc, "title", None) or tr("Error", "错误")
    return str(title), str(getattr(exc, "message", None) or exc)


def show_error(app, exc: BaseException | None) -> None:
    """One place that turns an error into something on screen (the app's modal if it has one)."""
    handler = getattr(app, "show_error", None)
    if callable(handler):
        handler(exc)
        return
    title, message = error_text(exc)
    app.notify(message, title=title, severity="error", timeout=8)


class DeskMixin:
    """``ctx``, ``actor``, ``tz``, ``now()``, ``fmt()`` and worker-error reporting for screens."""

    @property
    def ctx(self):
        return self.app.ctx  # type: ignore[attr-defined]

    @property
    def actor(self) -> str:
        return self.ctx.operator

    @property
    def tz(self) -> str:
        return getattr(self.ctx.settings, "timezone", DEFAULT_TZ) or DEFAULT_TZ

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

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            show_error(self.app, event.worker.error)  # type: ignore[attr-defined]


class DeskScreen(DeskMixin, Screen):
    """A full screen of the desk; Escape goes back."""

    DEFAULT_CSS = """
    DeskScreen { layout: vertical; }
    DeskScreen .desk-title { height: 1; padding: 0 1; background: $primary; color: $text; text-style: bold; }
    DeskScreen .desk-hint { height: auto; padding: 0 1; color: $text-muted; }
    """
