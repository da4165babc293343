"""The change counter (core.changes) on SQLite and PostgreSQL: it moves when another process
writes, and with this process's own writes; reading it changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dadan.core import changes
from dadan.core.db import close_database, write
from dadan.core.models import Order
from tests.fakes.queue_setup import make_db

ROOT = Path(__file__).resolve().parents[1]

_OTHER_DESK = """
import sys
from dadan.core.db import open_database, write
from dadan.core.models import Order
open_database(sys.argv[1])
with write():
    Order.update(pay_amount_fen=4321).where(Order.id == int(sys.argv[2])).execute()
"""


@pytest.fixture
def url(store):
    url = store.url()
    make_db(url, 3)
    yield url
    close_database()


def other_desk_writes(url: str, order_id: int) -> None:
    subprocess.run([sys.executable, "-c", _OTHER_DESK, url, str(order_id)], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_version_moves_with_another_desks_write_and_with_our_own(url):
    first = changes.version()
    assert changes.version() == first  # reading is not a change
    oid = Order.select(Order.id).first().id
    other_desk_writes(url, oid)
    second = changes.version()
    assert second != first
    assert Order.get_by_id(oid).pay_amount_fen == 4321
    assert changes.version() == second
    with write():
        Order.update(pay_amount_fen=1).where(Order.id == oid).execute()
    assert changes.version() not in (first, second)


def test_a_write_transaction_that_wrote_nothing_is_no_change(url):
    first = changes.version()
    with write():
        Order.update(pay_amount_fen=1).where(Order.id == -1).execute()  # no row
        Order.select().count()
    assert changes.version() == first  # (on PostgreSQL the counter's row is not touched either)
