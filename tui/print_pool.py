"""The app's printer workers: one :class:`~dadan.core.printing.worker.WorkerPool` per app.

The app creates its :class:`PrintPool` (``app.print_pool``) when it is built; the worker
threads (one per configured printer) start the first time something asks a printer to work
(:meth:`PrintPool.wake`) and stop with the app (:meth:`PrintPool.stop`). A printer's event
(a label sent, a problem) refreshes the progress lines on the screen at once.
"""

from __future__ import annotations

from dadan.core.i18n import tr


class PrintPool:
    def __init__(self, app) -> None:
        self.app = app
        self._pool = None  # core.printing.worker.WorkerPool once started

    def _start(self):
        if self._pool is None:
            from dadan.core.printing.worker import WorkerPool

            self._pool = WorkerPool(self.app.ctx, on_event=self._on_event)
            self._pool.start()
        return self._pool

    def wake(self, printer: str | None = None) -> None:
        """Start the workers if need be and tell ``printer``'s (or every one's) to look for work.
        The progress lines of every screen leave the job they followed for the one just queued
        (from the order detail, the queue or the pack check alike). (Main thread.)"""
        from dadan.tui.widgets.desk_printing import DeskPrintProgress

        self._start().wake(printer)
        for screen in self.app.screen_stack:
            for line in screen.query(DeskPrintProgress):
                line.follow(None)

    def status_text(self, printer: str) -> str:
        """The printer's status in words, as its worker last saw it."""
        if self._pool is None:
            return tr("not started", "未启动")
        return self._pool.status().get(printer, tr("not configured", "未配置"))

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool = None

    def _on_event(self, event) -> None:  # from a printer's worker thread: refresh progress now
        try:
            self.app.call_from_thread(self._poll_progress_lines)
            if getattr(event, "kind", "") in ("job-finished", "job-paused"):  # orders printed: what shows them
                self.app.call_from_thread(self._jobs_ended)
        except RuntimeError:  # the app is shutting down
            pass

    def _jobs_ended(self) -> None:
        from dadan.tui.messages import OrdersChanged

        self.app.post_message(OrdersChanged("printed"))

    def _poll_progress_lines(self) -> None:
        from dadan.tui.widgets.desk_printing import DeskPrintProgress

        for line in self.app.screen.query(DeskPrintProgress):
            line.poll()
