"""`dadan sync` with shops that have no credentials (issue #14 items 5 and 12): such a shop is a
note, not a failure; when no shop can sync, the reason is given (the same one the desk's F5
gives, from :func:`dadan.core.platform.shops.why_nothing_syncs`)."""

from __future__ import annotations

import argparse

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


def run_sync(env, *argv) -> int:
    from dadan.tui.commands import sync as cmd

    parser = argparse.ArgumentParser()
    cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sync", *argv])
    return args.func(args, load_context(env.paths))


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
