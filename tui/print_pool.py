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
        self._stopped = False  # the app is closing: nothing starts the workers again

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

        if self._stopped:
            return
        self._start().wake(printer)
        for screen in self.app.screen_stack:
            for line in screen.query(DeskPrintProgress):
                line.follow(None)

    def recover_at_start(self) -> None:
        """At the desk's start (in a worker thread): jobs a dadan that stopped while printing
        left get their true state, as ``dadan queue recover`` gives them (only printers no live
        dadan drives): a label that was being sent becomes uncertain and pauses its job, a job
        stopped between labels waits again, none shows "printing". The operator is told which
        of this desk's printers' jobs wait; they print when resumed (``F4``, ``g``), not at
        once: the desk may have been closed to stop them."""
        from dadan.core.db import connection
        from dadan.core.printing import queue as printing
        from dadan.core.printing.worker import desk_printers

        with connection():
            uncertain = printing.recover_uncertain()
            mine = set(desk_printers(self.app.ctx.settings))
            waiting = [v.id for v in printing.list_jobs(open_only=True)
                       if v.printer in mine and printing.lease_holder(v.printer) is None]
        if not waiting:
            return
        jobs = ", ".join(f"#{j}" for j in sorted(waiting)[:5]) + (" …" if len(waiting) > 5 else "")
        text = tr("Print job {j} is not finished: F4 shows it, g goes on.",
                  "打印任务 {j} 未完成：按 F4 查看，按 g 继续。", j=jobs)
        if uncertain:
            text += " " + tr("{n} label(s) may or may not have printed: decide first (v / x).",
                             "{n} 张标签不确定是否已打印：请先确认（v / x）。", n=uncertain)
        self.app.call_from_thread(self.app.notify, text, title=tr("Print queue", "打印队列"), timeout=15)

    def printing_job(self) -> int | None:
        """The job one of this desk's printers is printing now (None when none is)."""
        if self._pool is None:
            return None
        return next((w.current_job for w in self._pool.workers.values() if w.current_job is not None), None)

    def status_text(self, printer: str) -> str:
        """The printer's status in words, as its worker last saw it."""
        if self._pool is None:
            return tr("not started", "未启动")
        return self._pool.status().get(printer, tr("not configured", "未配置"))

    def stop(self) -> None:
        self._stopped = True
        if self._pool is not None:
            self._pool.stop()
            self._pool = None

    def _on_event(self, event) -> None:  # from a printer's worker thread: refresh progress now
        if self._stopped:  # the app is closing: its loop may never run the call (the worker would wait for it)
            return
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

        if self._stopped or not self.app.screen_stack:
            return
        for line in self.app.screen.query(DeskPrintProgress):
            line.poll()
