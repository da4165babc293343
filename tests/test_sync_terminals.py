"""Several terminals on one database, each running `dadan sync` in its own process against the
loopback platform: only the holder of the shop's lease syncs, the others say so and change
nothing, and the database ends equal to the platform's truth."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from pathlib import Path

from dadan.core.db import close_database, open_database
from dadan.core.models import Order, SyncRun
from tests.test_sync_support import db_orders, make_env, sync

ROOT = Path(__file__).resolve().parents[1]
LIST_API = "pdd.order.number.list.increment.get"


def start_sync(home: Path) -> subprocess.Popen:
    env = {**os.environ, "DADAN_HOME": str(home), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "LC_ALL": ""}
    return subprocess.Popen([sys.executable, "-m", "dadan.tui", "sync"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_only_the_lease_holder_syncs_across_processes(tmp_path, store):
    url = store.url()
    e = make_env(tmp_path, timeout=30, url=url)
    if store.postgres:  # the terminals (processes as on other hosts) find the server in their config
        (tmp_path / "config.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")
    try:
        p = e.platform
        p.generate_orders(e.mall, 250, spread_hours=30)
        rng = random.Random(5)
        gate = threading.Event()  # holds the first terminal inside its first window
        inside = threading.Event()

        def hook(api, params):
            if api == LIST_API and not gate.is_set():
                inside.set()
                gate.wait(60)
            if rng.random() < 0.3:  # orders keep changing while terminals sync
                p.mutate(e.mall)

        p.on_request = hook
        close_database()  # the terminals open the file themselves

        first = start_sync(tmp_path)
        assert inside.wait(60), first.communicate(timeout=5)
        # the first terminal holds the lease and is half-way through a window: two more start
        others = [start_sync(tmp_path), start_sync(tmp_path)]
        outs = [o.communicate(timeout=60) for o in others]
        gate.set()
        out_first = first.communicate(timeout=120)

        assert first.returncode == 0, out_first
        for o, (out, err) in zip(others, outs):
            assert o.returncode == 1, (out, err)
            assert "skipped (another terminal is syncing this shop" in out, (out, err)
        for out, err in outs + [out_first]:
            assert "Traceback" not in err and "database is locked" not in out + err, err

        # a later terminal finds the lease free and syncs on from the committed cursor
        later = start_sync(tmp_path)
        out_later = later.communicate(timeout=120)
        assert later.returncode == 0, out_later

        open_database(url)
        runs = list(SyncRun.select().order_by(SyncRun.started_at))
        assert len(runs) == 2 and all(r.ok and r.finished_at for r in runs)  # skipped terminals record none
        assert runs[0].finished_at <= runs[1].started_at and runs[0].holder != runs[1].holder
        assert runs[0].orders_new > 200  # the first terminal backfilled (the last minutes wait behind the margin)

        # the platform goes quiet; one more pass behind the safety margin, then compare
        p.on_request = None
        p.advance(600)
        assert sync(e).ok
        truth = p.truth(e.mall)
        got = db_orders(e.shop.id)
        assert set(got) == set(truth) and Order.select().count() == len(truth)
        for sn, o in truth.items():
            row = got[sn]
            assert (row.order_status, row.refund_status, row.risk_control_status, row.remark) == (
                o["order_status"], o["refund_status"], o["risk_control_status"], o["remark"]), sn
    finally:
        e.server.stop()
        close_database()
