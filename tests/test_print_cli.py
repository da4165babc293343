"""`dadan print` / `queue` / `printers` through their argparse front (preview printer)."""

from __future__ import annotations

import argparse

import pytest

from dadan.core.config import Paths
from dadan.core.context import load_context
from dadan.core.db import close_database
from tests.fakes.queue_setup import SMALL_TEMPLATE, make_db, order_sn


@pytest.fixture
def cli(tmp_path):
    from dadan.tui.commands import print as cmd

    paths = Paths(config_dir=tmp_path, data_dir=tmp_path)
    make_db(paths.database_file, 5)
    ctx = load_context(paths)
    parser = argparse.ArgumentParser()
    cmd.register(parser.add_subparsers(dest="command"))

    def run(*argv):
        args = parser.parse_args(list(argv))
        return args.func(args, ctx)

    yield run, paths
    close_database()


def test_print_queue_and_printers(cli, capsys):
    run, paths = cli
    assert run("print", order_sn(1), order_sn(2), "--template", SMALL_TEMPLATE, "--yes") == 0
    assert "job #1: 2 of 2 labels sent" in capsys.readouterr().out
    assert len(list(paths.preview_dir.glob("job00001-*.png"))) == 2
    assert run("print", order_sn(1), "--template", SMALL_TEMPLATE, "--yes") == 1  # already printed
    assert "already printed" in capsys.readouterr().err
    assert run("print", order_sn(1), "--template", SMALL_TEMPLATE, "--yes", "--reprint", "torn") == 0
    assert run("queue") == 0
    out = capsys.readouterr().out
    assert "#2" in out and "reprint" in out and "done" in out
    assert run("queue", "show", "2") == 0 and " R2 " in capsys.readouterr().out
    assert run("printers", "calibrate") == 0 and (paths.preview_dir / "calibration.png").exists()
