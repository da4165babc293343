"""The loopback platform itself, decryption at print time, the scheduler and the CLI."""

from __future__ import annotations

import argparse
import time

import httpx

from dadan.core.models import Order, Shop, SyncRun
from dadan.core.platform.decrypt import receivers_for_print
from dadan.core.platform.loopback.world import decrypt
from dadan.core.platform.pdd import PddClient, sign
from tests.test_sync_support import FAST_RETRY, db_orders, env, sync  # noqa: F401


def test_server_checks_signature_and_window_span(env):
    p = {"type": "pdd.time.get", "client_id": env.platform.client_id, "timestamp": str(int(time.time())),
         "data_type": "JSON"}
    p["sign"] = sign(p, env.platform.client_secret)
    assert "time_get_response" in httpx.post(env.server.url, data=p).json()
    p["sign"] = "0" * 32
    assert httpx.post(env.server.url, data=p).json()["error_response"]["error_code"] == 20004
    c = env.client()
    import pytest

    from dadan.core.platform.pdd import BadRequest

    with pytest.raises(BadRequest):
        c.increment_orders(1_700_000_000, 1_700_000_000 + 1801, 1)


def test_decrypt_for_print_batches_and_keeps_plain_text_out_of_db(env):
    env.platform.generate_orders(env.mall, 120, spread_hours=5)
    assert sync(env).ok
    orders = list(Order.select())
    plain_order = orders[0]
    Order.update(receiver_name_enc="", receiver_phone_enc="", receiver_address_enc="",
                 receiver_name="张三").where(Order.id == plain_order.id).execute()
    orders = list(Order.select())
    errors: dict = {}
    got = receivers_for_print(orders, factory=env.factory, errors=errors)
    assert plain_order.id not in got and not errors
    assert len(got) == 119
    # 119 orders x 3 ciphertexts in batches of <= 100
    assert env.platform.requests["pdd.open.decrypt.batch"] == 4
    o = orders[1]
    assert got[o.id]["address"] == decrypt(o.receiver_address_enc)
    assert got[o.id]["phone"].startswith("1") and got[o.id]["name"]
    assert not Order.select().where(Order.receiver_address == got[o.id]["address"]).exists()


def test_decrypt_quota_exhausted_reports_per_order(env):
    env.platform.generate_orders(env.mall, 5, spread_hours=5)
    assert sync(env).ok
    env.platform.decrypt_limit = 0
    env.factory.retry = type(FAST_RETRY)(attempts=1)
    errors: dict = {}
    assert receivers_for_print(list(Order.select()), factory=env.factory, errors=errors) == {}
    assert len(errors) == 5


def test_scheduler_runs_sync_job_and_sync_now(env, tmp_path):
    from dadan.core.config import Settings
    from dadan.core.context import Context
    from dadan.core.platform.scheduler import Scheduler

    env.platform.generate_orders(env.mall, 30, spread_hours=5)
    settings = Settings()
    settings.sync = env.settings
    ctx = Context(paths=env.paths, settings=settings)
    events = []
    sched = Scheduler(ctx, factory=env.factory, on_event=lambda k, p: events.append((k, p)), outbox=False)
    sched.start()
    try:
        deadline = time.time() + 10
        while not any(k == "sync" for k, _ in events) and time.time() < deadline:
            time.sleep(0.05)
        [st] = sched.status()
        assert st.last_sync_ok and st.next_run_at is not None and not st.running
        assert len(db_orders(env.shop.id)) == 30
        assert sched.sync_now() == 1
        deadline = time.time() + 10
        while sum(k == "sync" for k, _ in events) < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert sum(k == "sync" for k, _ in events) == 2
        assert SyncRun.select().count() == 2
    finally:
        sched.stop()


def test_the_scheduler_merges_the_free_text_index_after_a_sync_and_the_outbox(env):
    """Writers leave the free-text index in pieces (merging off their transactions); the
    scheduler's jobs merge them afterwards, and searches answer the same."""
    from dadan.core.config import Settings
    from dadan.core.context import Context
    from dadan.core.orders import fulltext
    from dadan.core.orders.upsert import upsert_orders
    from dadan.core.platform.scheduler import Scheduler
    from tests.test_fulltext import assert_index_consistent, fts_segments

    def write_pieces(tag: str) -> None:
        for k in range(5):  # five small imports, each its own transaction and piece of index
            upsert_orders(env.shop.id, [{"order_sn": f"{tag}-{k}", "remark": f"{tag}备注{k}", "items": []}],
                          source="import")

    def found(tag: str) -> set[int]:
        return {o.id for o in Order.select(Order.id).where(fulltext.contains(f"{tag}备注"))}

    settings = Settings()
    settings.sync = env.settings
    sched = Scheduler(Context(paths=env.paths, settings=settings), factory=env.factory)  # jobs run here
    write_pieces("甲")
    before = fts_segments()
    assert before >= 5
    sched._run_outbox()
    assert fts_segments() < before and len(found("甲")) == 5
    env.platform.generate_orders(env.mall, 20, spread_hours=5)
    write_pieces("乙")
    before = fts_segments()
    assert sched._run_sync(env.shop.id).ok
    assert fts_segments() < before and len(found("乙")) == 5 and len(db_orders(env.shop.id)) == 30
    assert_index_consistent()


def test_cli_sync_and_shops(env, capsys):
    from dadan.core.config import Settings
    from dadan.core.context import Context
    from dadan.tui.commands import sync as cmd

    env.platform.generate_orders(env.mall, 12, spread_hours=5)
    settings = Settings()
    settings.sync = env.settings
    ctx = Context(paths=env.paths, settings=settings)
    ctx._db = True  # already open
    assert cmd.run(argparse.Namespace(shop=None, outbox=False), ctx) == 0
    out = capsys.readouterr().out
    assert "shop-a" in out and "12 new" in out
    assert cmd.run_shops(argparse.Namespace(shops_command="list"), ctx) == 0
    assert "shop-a" in capsys.readouterr().out
    env.platform.expire_token(env.mall.access_token)
    env.platform.revoke_refresh(env.mall)
    env.platform.advance(120)
    assert cmd.run(argparse.Namespace(shop="shop-a", outbox=False), ctx) == 1
    captured = capsys.readouterr()
    assert "re-authorise" in captured.out + captured.err
    assert Shop.get_by_id(env.shop.id).auth_state == "reauthorize"


def test_client_repr_has_no_secret():
    c = PddClient(client_id="1", client_secret="TOPSECRET", access_token="TOKEN123")
    assert "TOPSECRET" not in repr(c) and "TOKEN123" not in repr(c)


def test_sync_now_asked_while_a_sync_runs_syncs_once_more_after_it(env):
    """"Sync now" pressed while the shop's sync job runs (here: from its own "sync" event, inside
    the job) is not lost to APScheduler's one-instance rule: the job syncs once more right after,
    and the orders made meanwhile arrive."""
    from dadan.core.config import Settings
    from dadan.core.context import Context
    from dadan.core.platform.scheduler import Scheduler

    env.platform.generate_orders(env.mall, 10, spread_hours=5)
    settings = Settings()
    settings.sync = env.settings
    events: list = []
    sched = None

    def on_event(kind, payload):
        events.append((kind, payload))
        if kind == "sync" and sum(k == "sync" for k, _ in events) == 1:
            env.platform.advance(300)
            env.platform.generate_orders(env.mall, 5, spread_hours=0.01)  # made during the first sync
            assert sched.sync_now() == 1

    sched = Scheduler(Context(paths=env.paths, settings=settings), factory=env.factory, on_event=on_event,
                      outbox=False)
    sched.start()
    try:
        deadline = time.time() + 15
        while sum(k == "sync" for k, _ in events) < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert sum(k == "sync" for k, _ in events) == 2, events
        assert len(db_orders(env.shop.id)) == 15 and SyncRun.select().count() == 2
        assert not sched.status()[0].running
    finally:
        sched.stop()


def test_a_sync_job_reads_the_platforms_courier_list_when_it_is_empty_or_a_day_old(env):
    """The courier list (the tracking entry's choices) is read through the shop a sync job
    talks to, over HTTP, when empty or a day old; a fresh one is not read again."""
    import datetime as dt

    from dadan.core.config import Settings
    from dadan.core.context import Context
    from dadan.core.db import write
    from dadan.core.models import Courier, utcnow
    from dadan.core.platform.scheduler import Scheduler

    with write():
        Courier.delete().execute()
    settings = Settings()
    settings.sync = env.settings
    sched = Scheduler(Context(paths=env.paths, settings=settings), factory=env.factory)
    calls = env.platform.requests.get("pdd.logistics.companies.get", 0)
    assert sched._run_sync(env.shop.id).ok
    listed = Courier.select().count()
    assert listed > 0 and env.platform.requests.get("pdd.logistics.companies.get", 0) == calls + 1
    assert sched._run_sync(env.shop.id).ok  # fresh: not read again
    assert env.platform.requests.get("pdd.logistics.companies.get", 0) == calls + 1
    with write():
        Courier.update(updated_at=utcnow() - dt.timedelta(days=2)).execute()
    assert sched._run_sync(env.shop.id).ok
    assert env.platform.requests.get("pdd.logistics.companies.get", 0) == calls + 2 and Courier.select().count() == listed
