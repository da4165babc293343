"""`dadan sync` with shops that have no credentials (issue #14 items 5 and 12): such a shop is a
note, not a failure; when no shop can sync, the reason is given (the same one the desk's F5
gives, from :func:`dadan.core.platform.shops.why_nothing_syncs`)."""

from __future__ import annotations

import argparse
import json

import pytest

from dadan.core.context import load_context
from dadan.core.db import close_database
from dadan.core.i18n import set_language
from dadan.core.platform.shops import resolve_shop, why_nothing_syncs
from tests.test_sync_support import db_orders, make_env


@pytest.fixture
def loopback(tmp_path):
    e = make_env(tmp_path)
    set_language("en")
    yield e
    e.server.stop()
    close_database()


def run_command(env, *argv) -> int:
    """``dadan sync ...`` or ``dadan shops ...`` (their module's parser) in the env's home."""
    from dadan.tui.commands import sync as cmd

    parser = argparse.ArgumentParser()
    cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return args.func(args, load_context(env.paths))


def run_sync(env, *argv) -> int:
    return run_command(env, "sync", *argv)


def run_shops(env, *argv) -> int:
    return run_command(env, "shops", *argv)


def test_a_shop_without_a_client_id_is_refused(loopback):
    """`dadan shops add NAME --client-id ''` made a shop that could never sign a request."""
    from dadan.core.errors import DadanError
    from dadan.core.models import Shop

    with pytest.raises(DadanError, match="a shop needs its client id"):
        run_shops(loopback, "add", "空店", "--client-id", " ")
    assert not Shop.select().where(Shop.name == "空店").exists()


def test_an_import_only_shop_is_skipped_with_a_note(loopback, capsys):
    loopback.platform.generate_orders(loopback.mall, 12, spread_hours=5)
    resolve_shop("imports", create=True)  # made by `dadan import --create-shop`: no credentials
    assert run_sync(loopback) == 0
    out = capsys.readouterr().out
    assert "imports: skipped" in out and "dadan shops add" in out
    assert len(db_orders(loopback.shop.id)) == 12
    # named explicitly, the shop without credentials is an error
    assert run_sync(loopback, "--shop", "imports") == 1


def test_no_shop_with_credentials_says_why(loopback, capsys):
    loopback.store.remove("shop-a")
    assert "no shop has platform credentials" in why_nothing_syncs(loopback.paths)
    assert run_sync(loopback) == 1
    err = capsys.readouterr().err
    assert "no shop has platform credentials (shop-a)" in err and "dadan shops add" in err


def test_a_shops_credentials_are_removed_and_it_is_no_longer_synced(loopback, capsys):
    """`dadan shops remove NAME` (a token that leaked, a shop no longer sold on): its credentials
    leave the store, it is skipped by the next sync with a note, its orders stay; adding and
    removing credentials are audit events that never hold a secret. A desk's scheduler drops
    the shop's job at its next run instead of reporting the same error every interval."""
    from dadan.core.models import AuditEvent, Order
    from dadan.core.platform.scheduler import Scheduler

    loopback.platform.generate_orders(loopback.mall, 8, spread_hours=5)
    assert run_sync(loopback) == 0
    kept = len(db_orders(loopback.shop.id))
    assert kept == 8
    ctx = load_context(loopback.paths)
    events = []
    sched = Scheduler(ctx, factory=loopback.factory, on_event=lambda k, p: events.append((k, p)))
    sched.start()
    try:
        assert sched._sched.get_job(f"sync:{loopback.shop.id}") is not None
        capsys.readouterr()
        assert run_shops(loopback, "remove", "shop-a") == 0
        assert "credentials removed" in capsys.readouterr().out
        assert "shop-a" not in loopback.store.names() and "shop-a" not in loopback.paths.credentials_file.read_text()
        assert resolve_shop("shop-a").auth_state == "unconfigured"
        sched._run_sync(loopback.shop.id)  # the job's next run
        assert [k for k, _ in events] == ["error"] and "no credentials" in events[0][1]
        assert sched._sched.get_job(f"sync:{loopback.shop.id}") is None
    finally:
        sched.stop()
    loopback.platform.generate_orders(loopback.mall, 5, spread_hours=1)
    assert run_sync(loopback) == 1  # (no shop can sync: said why)
    assert Order.select().where(Order.shop == loopback.shop.id).count() == kept
    actions = [(e.target, json.loads(e.detail))
               for e in AuditEvent.select().where(AuditEvent.action == "shop").order_by(AuditEvent.id)]
    assert actions[0][0] == "shop-a" and actions[0][1]["credentials"] == "set"  # (the env's `shops add`)
    assert actions[-1] == ("shop-a", {"credentials": "removed"})
    assert all("secret" not in str(d) and "token" not in str(d) for _t, d in actions)
    assert run_shops(loopback, "list") == 0 and "no credentials" in capsys.readouterr().out


def test_removing_an_unknown_shop_is_one_line_and_changes_nothing(loopback):
    from dadan.core.errors import DadanError

    before = loopback.paths.credentials_file.read_bytes()
    with pytest.raises(DadanError) as exc:
        run_shops(loopback, "remove", "shop-x")
    assert "shop-x" in exc.value.message and "\n" not in exc.value.message
    for blank in ("", "  "):  # (a blank name is not "the only shop")
        with pytest.raises(DadanError, match="name the shop"):
            run_shops(loopback, "remove", blank)
    assert loopback.paths.credentials_file.read_bytes() == before
