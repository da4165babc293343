"""The one-line print progress shown under the desk screens, and the words for job and label
states.

The line shows the current job (:mod:`dadan.core.printing.progress`: the oldest open job, else
the one it followed; ``done/total``, the same numbers the status line shows) and what its
printer's worker (``app.print_pool``, :mod:`dadan.tui.print_pool`) last said. It polls the
database twice a second in a thread worker (so it also sees jobs started by another terminal)
and redraws only when its text changes. It takes no row while there is nothing to show: it
appears while a job is queued, printing or paused, and for a while after it finished. When the
job it shows changes state (or another job becomes current), and while it prints at most
every ``LABELS_REFRESH_S`` seconds, it posts :class:`~dadan.tui.messages.PrintJobChanged`, so
the screen under it can re-read its orders (never once per label).
"""

from __future__ import annotations

import datetime as dt
import time

from textual import work
from textual.widgets import Static

from dadan.core.i18n import tr
from dadan.core.timeutil import utcnow
from dadan.tui.messages import PrintJobChanged

RECENT = dt.timedelta(minutes=10)  # a finished job stays on the progress line this long
LABELS_REFRESH_S = 10.0  # while a job prints, the orders under the line re-read at most this often


def _recent(view, now: dt.datetime) -> bool:
    """Worth showing: open, or finished less than RECENT ago."""
    if view.state in ("queued", "printing", "paused"):
        return True
    return (view.finished_at or view.created_at) >= now - RECENT


def job_state_label(state: str) -> str:
    return {
        "queued": tr("waiting", "等待中"), "printing": tr("printing", "打印中"), "paused": tr("paused", "已暂停"),
        "done": tr("done", "完成"), "cancelled": tr("cancelled", "已取消"),
    }.get(state, state)


def item_state_label(state: str) -> str:
    return {
        "queued": tr("queued", "排队"), "sending": tr("sending", "发送中"), "sent": tr("sent", "已发送"),
        "skipped": tr("skipped", "已跳过"), "uncertain": tr("uncertain", "待确认"), "failed": tr("failed", "失败"),
        "cancelled": tr("cancelled", "已取消"),
    }.get(state, state)


def progress_text(view, printer_status: str = "") -> str:
    """``Job #3 printing 12/40 · skipped 1 · printer: ready`` from a ``core.printing.queue.JobView``."""
    parts = [tr("Job #{j} {s} {p}", "任务 #{j} {s} {p}", j=view.id, s=job_state_label(view.state), p=view.progress())]
    for key in ("skipped", "failed", "uncertain"):
        n = view.counts.get(key, 0)
        if n:
            parts.append(f"{item_state_label(key)} {n}")
    if view.state_reason and view.state in ("paused", "cancelled"):
        parts.append(view.state_reason)
    if printer_status and view.state in ("queued", "printing", "paused"):
        parts.append(tr("{p}: {s}", "{p}：{s}", p=view.printer, s=printer_status))
    return " · ".join(parts)


class DeskPrintProgress(Static):
    """``Job #3 printing 12/40 · preview: idle`` — the current job, else the last one seen."""

    DEFAULT_CSS = """
    DeskPrintProgress { height: 1; padding: 0 1; background: $boost; display: none; }
    DeskPrintProgress.-shown { display: block; }
    DeskPrintProgress.-paused { color: $warning; text-style: bold; }
    DeskPrintProgress.-done { color: $success; }
    """

    def __init__(self, *, interval: float = 0.5, idle_interval: float = 5.0, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.interval = interval  # while a job is queued or printing
        self.idle_interval = idle_interval  # otherwise (jobs from other terminals show up within it)
        self.last_job: int | None = None
        self.text = ""
        self._timer = None
        self._polled = False  # the first reading only learns where things stand
        self._seen: tuple[int, str] | None = None  # (job, state) last shown
        self._told = (0, 0.0)  # labels done, monotonic time: when PrintJobChanged was last posted

    def on_mount(self) -> None:
        self.poll()

    def follow(self, job_id: int | None) -> None:
        """Show ``job_id`` (None: the open job, else the newest) from now on."""
        self.last_job = job_id
        self.poll()

    @work(thread=True, exclusive=True, exit_on_error=False, group="print-progress")
    def poll(self) -> None:
        from dadan.core.db import connection
        from dadan.core.printing import queue as printing
        from dadan.core.printing.progress import OPEN_JOB_STATES, current_job_id

        with connection():
            # a job that finished while another screen was on top shows for a while too
            job_id = current_job_id(follow=self.last_job)
            view = printing.job_view(job_id) if job_id is not None else None
        if view is not None and not _recent(view, utcnow()):
            view = None
        if view is None:
            text, state, job, done, active = "", "", None, 0, ""
        else:
            self.last_job = view.id
            text, state = progress_text(view, self.app.print_pool.status_text(view.printer)), view.state
            job, done = view.id, view.done
            active = view.progress() if view.state in OPEN_JOB_STATES else ""
        self.app.call_from_thread(self._show, text, state, job, done, active)

    def _tell_status_lines(self, active: str, state: str) -> None:
        """The screen's status line shows the same count as this line as it changes (its own
        read comes every 15 s: the two lines read 2/82 and 6/82 at once)."""
        from dadan.tui.widgets.status_line import StatusLine

        for line in self.screen.query(StatusLine):
            line.set_print_active(active, state)

    def _tell(self, job: int | None, state: str, done: int) -> None:
        """Post PrintJobChanged when the job changed state, or printed more labels and the last
        post is ``LABELS_REFRESH_S`` old (the first reading only learns where things stand)."""
        seen = (job, state) if job is not None else None
        now = time.monotonic()
        progressed = state == "printing" and done != self._told[0] and now - self._told[1] >= LABELS_REFRESH_S
        if self._polled and seen is not None and (seen != self._seen or progressed):
            self.post_message(PrintJobChanged(job, state))
            self._told = (done, now)
        self._polled, self._seen = True, seen

    def _show(self, text: str, state: str, job: int | None, done: int, active: str = "") -> None:
        self._tell(job, state, done)
        self._tell_status_lines(active, state)
        # re-arm after each read (never overlapping); fast only while something prints
        if self._timer is not None:
            self._timer.stop()
        active = state in ("queued", "printing")
        self._timer = self.set_timer(self.interval if active else self.idle_interval, self.poll)
        self.set_class(state == "paused", "-paused")
        self.set_class(state == "done", "-done")
        self.set_class(bool(text), "-shown")
        if text != self.text:
            self.text = text
            self.update(text)
