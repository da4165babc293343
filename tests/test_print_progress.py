"""One progress rule (core.printing.progress): which job is the current one, and its done/total
with skipped and cancelled labels counted as done, failed and uncertain ones not."""

from __future__ import annotations

import pytest

from dadan.core.db import close_database, write
from dadan.core.models import PrintItem, PrintJob
from dadan.core.printing import queue as printing
from dadan.core.printing.progress import current_job_id, done_count, open_job_id
from tests.fakes.queue_setup import SMALL_TEMPLATE, make_db, order_ids


@pytest.fixture
def db(tmp_path):
    make_db(tmp_path / "dadan.db", 12)
    yield
    close_database()


def _set_states(job_id: int, states: list[str]) -> None:
    items = list(PrintItem.select().where(PrintItem.job == job_id).order_by(PrintItem.seq))
    with write():
        for item, state in zip(items, states):
            PrintItem.update(state=state).where(PrintItem.id == item.id).execute()


def test_done_counts_sent_skipped_and_cancelled_only():
    counts = {"sent": 3, "skipped": 2, "cancelled": 1, "failed": 4, "uncertain": 5, "queued": 6, "sending": 7}
    assert done_count(counts) == 6
    assert done_count({}) == 0


def test_the_current_job_is_the_oldest_open_one(db):
    ids = order_ids()
    assert open_job_id() is None and current_job_id() is None
    first = printing.create_job(ids[:4], printer="lbl", template=SMALL_TEMPLATE, actor="t")
    second = printing.create_job(ids[4:10], printer="lbl", template=SMALL_TEMPLATE, actor="t")
    assert open_job_id() == first.id == current_job_id(follow=second.id)
    _set_states(first.id, ["sent", "skipped", "failed", "uncertain"])
    view = printing.job_view(first.id)
    assert (view.done, view.total, view.progress()) == (2, 4, "2/4")
    with write():  # the first job finishes: the next open one is current
        PrintJob.update(state="done").where(PrintJob.id == first.id).execute()
    assert open_job_id() == second.id == current_job_id(follow=first.id)
    with write():  # nothing open: a display keeps the job it followed, else the newest
        PrintJob.update(state="cancelled").where(PrintJob.id == second.id).execute()
    assert open_job_id() is None
    assert current_job_id(follow=first.id) == first.id
    assert current_job_id() == second.id
