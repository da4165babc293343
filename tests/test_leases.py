"""Leases across hosts (``core.leases``), on SQLite and PostgreSQL: a holder on another host is
trusted until expiry, a dead one on this host is taken over at once, hosts starting together
never both take a lease, and a live print worker renews its lease and stops when it lost it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dadan.core import leases
from dadan.core.db import close_database, write
from dadan.core.models import Lease, Shop, utcnow
from dadan.core.platform.sync import sync_lease_name, sync_shop
from dadan.core.printing import queue as printing
from dadan.core.printing import worker as worker_module
from dadan.core.printing.plan import PrintRefused
from dadan.core.printing.worker import PrintWorker
from dadan.printers.profile import PrinterProfile
from tests.fakes import FakeTsplPrinter
from tests.fakes.queue_setup import SMALL_TEMPLATE, make_db, order_ids
from tests.test_sync_support import make_env, sync

ROOT = Path(__file__).resolve().parents[1]
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def db(store):
    yield make_db(store.url(), 12)
    close_database()


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_the_host_name_can_be_overridden(db, monkeypatch):
    monkeypatch.setenv("DADAN_HOST", "bench-pc")
    assert leases.make_holder().startswith(f"bench-pc:{os.getpid()}:")


def test_a_dead_holder_on_this_host_is_taken_over_at_once_one_elsewhere_only_after_expiry(db, monkeypatch):
    monkeypatch.setenv("DADAN_HOST", "office")
    dead = f"office:{_dead_pid()}:aaaa"
    assert leases.acquire("print:lbl", dead, MINUTE)
    assert leases.current_holder("print:lbl") is None  # its process is gone
    assert leases.acquire("print:lbl", leases.make_holder(), MINUTE)

    # the same dead pid on another host: this host cannot tell, so it trusts the expiry
    other = f"bench:{_dead_pid()}:bbbb"
    with write():
        Lease.update(holder=other, expires_at=utcnow() + MINUTE).execute()
    assert leases.current_holder("print:lbl") == other
    assert not leases.acquire("print:lbl", leases.make_holder(), MINUTE)
    with write():
        Lease.update(expires_at=utcnow() - dt.timedelta(seconds=1)).execute()
    mine = leases.make_holder()
    assert leases.acquire("print:lbl", mine, MINUTE)
    assert leases.current_holder("print:lbl") == mine


def test_hosts_starting_at_once_never_both_take_a_lease(store):
    url = store.url()
    make_db(url, 0)
    close_database()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("sync:1", "print:lbl"):
        at = time.time() + 2.5  # all children are up by then; they ask within a millisecond
        children = [subprocess.Popen([sys.executable, "-m", "tests.fakes.lease_child", url, name, str(at)],
                                     cwd=ROOT, env={**env, "DADAN_HOST": f"host{i}"}, stdout=subprocess.PIPE,
                                     text=True) for i in range(4)]
        outs = [c.communicate(timeout=60)[0].split() for c in children]
        assert all(c.returncode == 0 for c in children)
        took = [o[1] for o in outs if o[0] == "took"]
        assert len(took) == 1, outs
        assert sorted(o[0] for o in outs) == ["refused"] * 3 + ["took"]
        make_db(url, 0)
        assert leases.current_holder(name) == took[0]  # another host's: trusted
        close_database()


def test_a_live_worker_renews_its_lease_during_a_long_job(db, monkeypatch):
    monkeypatch.setattr(worker_module, "LEASE_RENEW_S", 0.0)  # renew before every label
    expiries: list[dt.datetime] = []

    def seen(event):
        if event.kind == "label-sent":
            expiries.append(Lease.get(Lease.name == "print:lbl").expires_at)
            time.sleep(0.01)

    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter() as printer:
        PrintWorker(PrinterProfile(name="lbl", driver="tspl", uri=printer.uri, width_mm=60, height_mm=40),
                    on_event=seen).run_pending(job.id)
    assert printing.job_view(job.id).state == "done"
    assert len(expiries) == 12 and all(a < b for a, b in zip(expiries, expiries[1:]))  # renewed each time


def test_a_worker_that_lost_its_lease_sends_no_further_label(db, monkeypatch):
    monkeypatch.setattr(worker_module, "LEASE_RENEW_S", 0.0)
    thief = "elsewhere:1:cafe"  # another host took over after this worker stalled past the expiry

    def seen(event):
        if event.kind == "label-sent" and event.seq == 5:
            with write():
                Lease.update(holder=thief, expires_at=utcnow() + MINUTE).execute()

    job = printing.create_job(order_ids(), printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter() as printer:
        worker = PrintWorker(PrinterProfile(name="lbl", driver="tspl", uri=printer.uri, width_mm=60, height_mm=40),
                             on_event=seen)
        with pytest.raises(PrintRefused, match="in use by another"):
            worker.run_pending(job.id)
        assert len(printer.labels) == 5
    counts = printing.item_counts(job.id)
    assert counts == {"sent": 5, "queued": 7}  # nothing in flight: the new holder prints the rest
    assert leases.current_holder("print:lbl") == thief


# ------------------------------------------------------------------ sync: renewed with each window
def test_a_live_sync_renews_its_lease_window_by_window_and_stops_when_it_lost_it(tmp_path, store):
    env = make_env(tmp_path, url=store.url())
    try:
        env.platform.generate_orders(env.mall, 40, spread_hours=20)
        name = sync_lease_name(env.shop.id)
        expiries: list[dt.datetime] = []
        shop = Shop.get_by_id(env.shop.id)
        with env.factory(shop) as client:
            report = sync_shop(shop, client, env.settings, lease_ttl=60,
                               progress=lambda r: expiries.append(Lease.get(Lease.name == name).expires_at))
        assert report.ok and report.windows == len(expiries) > 10
        assert all(a <= b for a, b in zip(expiries, expiries[1:])) and expiries[0] < expiries[-1]

        # another host takes the lease over half-way (this desk stalled past the expiry): the
        # next window is not written, the pass stops and says why
        env.platform.generate_orders(env.mall, 5, spread_hours=0.1)
        env.platform.advance(3 * 3600)

        def steal(_report):
            with write():
                Lease.update(holder="elsewhere:1:cafe", expires_at=utcnow() + MINUTE).where(Lease.name == name).execute()

        shop = Shop.get_by_id(env.shop.id)
        with env.factory(shop) as client:
            report = sync_shop(shop, client, env.settings, lease_ttl=60, progress=steal)
        assert not report.ok and report.windows == 1 and "took over" in report.error
        assert leases.current_holder(name) == "elsewhere:1:cafe"
        assert sync(env).skipped  # and this desk leaves the shop to it
    finally:
        env.server.stop()
        close_database()


def test_a_worker_says_printing_while_its_job_prints_and_done_after(db):
    """The printer's status beside the progress line (``lbl: printing``) while labels go out; it
    said "idle" throughout a job."""
    statuses: list[str] = []
    job = printing.create_job(order_ids()[:3], printer="lbl", template=SMALL_TEMPLATE)
    with FakeTsplPrinter() as printer:
        w = PrintWorker(PrinterProfile(name="lbl", driver="tspl", uri=printer.uri, width_mm=60, height_mm=40),
                        on_event=lambda e: statuses.append(w.status_text) if e.kind == "label-sent" else None)
        w.run_pending(job.id)
    assert statuses == ["printing"] * 3 and w.status_text == f"job #{job.id} done"
