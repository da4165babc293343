"""Acceptance of issue #20: two processes as two hosts (``DADAN_HOST``) against ONE PostgreSQL
database, at the same time, each run the print worker for the same 500-label job on one loopback
printer and sync the same shop from the loopback platform. No label doubled, no order lost or
duplicated."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from dadan.core.db import close_database
from dadan.core.models import Order, PrintItem
from dadan.core.printing import queue as printing
from tests.fakes import FakeTsplPrinter, decode_barcodes
from tests.fakes.queue_setup import SMALL_TEMPLATE, make_db, order_ids, order_sn
from tests.pg_cluster import fresh_url
from tests.test_sync_support import make_env

ROOT = Path(__file__).resolve().parents[1]
LABELS = 500
SYNCED = 300


def test_two_hosts_print_one_job_and_sync_one_shop_at_once(tmp_path):
    url = fresh_url()
    make_db(url, LABELS)  # the shop whose 500 orders print
    printed_ids = order_ids()
    env = make_env(tmp_path, url=url, timeout=5)  # the shop both hosts sync
    try:
        env.platform.generate_orders(env.mall, SYNCED, spread_hours=20)
        truth = set(env.platform.truth(env.mall))
        job = printing.create_job(printed_ids, printer="lbl", template=SMALL_TEMPLATE)
        with FakeTsplPrinter(speed_mm_s=3000) as printer:
            at = time.time() + 3.0  # both are up by then
            base = {**os.environ, "PYTHONPATH": str(ROOT)}
            hosts = [subprocess.Popen([sys.executable, "-m", "tests.fakes.host_child", url, str(tmp_path),
                                       printer.uri, str(job.id), str(env.shop.id), str(at)],
                                      cwd=ROOT, env={**base, "DADAN_HOST": name}, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
                     for name in ("bench-pc", "office-pc")]
            outs = [h.communicate(timeout=240) for h in hosts]
            assert all(h.returncode == 0 for h in hosts), [o[1][-3000:] for o in outs]
            reports = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
            labels = list(printer.labels)

        # print: every label reached the printer exactly once
        assert [r["print"]["state"] for r in reports] == ["done", "done"], reports
        sent = collections.Counter(decode_barcodes(im)[0] for im in labels)
        assert len(labels) == LABELS
        assert sent == collections.Counter(order_sn(i) for i in range(1, LABELS + 1))  # 0 doubled, 0 missing
        assert PrintItem.select().where(PrintItem.job == job.id, PrintItem.state != "sent").count() == 0
        assert Order.select().where(Order.id.in_(printed_ids), Order.print_count != 1).count() == 0

        # sync: the database holds exactly the platform's orders of the shop, each once
        assert all(r["sync"]["ok"] or r["sync"]["skipped"] for r in reports), reports
        assert sum(r["sync"]["new"] for r in reports) == SYNCED, reports
        held = [o.order_sn for o in Order.select(Order.order_sn).where(Order.shop == env.shop.id)]
        assert len(held) == len(set(held)) == SYNCED
        assert set(held) == truth
    finally:
        env.server.stop()
        close_database()
