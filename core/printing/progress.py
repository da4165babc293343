"""Print progress: which print job is "the current one", and how far it got.

One rule for every display of a job's progress (the status line, the progress line under the
desk screens, the print queue), so they never disagree:

- The current job is the **oldest open job** (queued, printing or paused): the printers work
  through jobs in order, so it is the one being printed. A display that keeps a finished job
  on screen for a while (the progress line) falls back to the job it followed, then to the
  newest job.
- A job's **done** count is its labels that need nothing more: sent, skipped (blocked or
  already printed when their turn came) and cancelled. Failed and uncertain labels are not
  done: they wait for a retry or an operator's decision. Progress reads ``done/total``.
"""

from __future__ import annotations

from typing import Mapping

from dadan.core.models import PrintJob

OPEN_JOB_STATES = ("queued", "printing", "paused")
DONE_ITEM_STATES = ("sent", "skipped", "cancelled")


def done_count(counts: Mapping[str, int]) -> int:
    """Labels of a job that need nothing more, from its item counts by state."""
    return sum(counts.get(s, 0) for s in DONE_ITEM_STATES)


def progress_label(done: int, total: int) -> str:
    return f"{done}/{total}"


def open_job_id() -> int | None:
    """The current job: the oldest open one, or None when no job is open."""
    job = PrintJob.select(PrintJob.id).where(PrintJob.state.in_(OPEN_JOB_STATES)).order_by(PrintJob.id).first()
    return job.id if job is not None else None


def current_job_id(follow: int | None = None) -> int | None:
    """The open job; when none is open, ``follow`` (the job a display was showing), else the
    newest job; None when there is no job at all."""
    jid = open_job_id()
    if jid is not None or follow is not None:
        return jid if jid is not None else follow
    job = PrintJob.select(PrintJob.id).order_by(PrintJob.id.desc()).first()
    return job.id if job is not None else None
