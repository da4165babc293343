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
    assert run("queue", "pause", "2") == 1 and "job #2 is done: nothing to pause" in capsys.readouterr().err
    assert run("printers", "calibrate") == 0 and (paths.preview_dir / "calibration.png").exists()


def test_print_with_a_template_that_does_not_load_is_refused_before_queuing(tmp_path, monkeypatch, capsys):
    """`dadan print --template nosuch` says so in one line and exits non-zero, as `dadan render`
    does, and queues nothing (it used to queue a job that paused)."""
    from dadan.core.db import open_database
    from dadan.core.models import PrintJob
    from dadan.core.printing import queue as printing
    from dadan.printers.errors import TemplateError
    from dadan.tui import cli

    home = tmp_path / "home"
    make_db(Paths(config_dir=home, data_dir=home).database_file, 3)
    close_database()
    monkeypatch.setenv("DADAN_HOME", str(home))
    for argv in (["print", order_sn(1), "--template", "nosuch", "--yes"],
                 ["print", order_sn(1), "--template", str(tmp_path / "missing.toml"), "--yes"],
                 ["render", order_sn(1), "--template", "nosuch", "--out", str(tmp_path / "out")]):
        rc = cli.main(argv)
        close_database()
        err = capsys.readouterr().err
        assert rc == 1 and "Traceback" not in err, argv
        assert len(err.strip().splitlines()) == 1 and err.startswith("dadan: Template error:"), err
    open_database(f"sqlite:///{home / 'dadan.db'}")
    assert PrintJob.select().count() == 0
    with pytest.raises(TemplateError, match="nosuch"):
        printing.create_job([1], printer="lbl", template="nosuch")
    with pytest.raises(TemplateError, match="nosuch"):
        printing.create_reprint_job([1], reason="torn", printer="lbl", template="nosuch")
    assert PrintJob.select().count() == 0
    close_database()


def test_import_dry_run_writes_no_file(tmp_path, monkeypatch, capsys):
    """`dadan import FILE --dry-run` lists the rejected rows but writes no rejects file (nor a
    saved column mapping): a dry run writes nothing at all."""
    from dadan.core.spreadsheets.mappings import SavedMappings
    from dadan.tui import cli
    from tests.test_import_core import SAMPLE, line, write_xlsx

    monkeypatch.setenv("DADAN_HOME", str(tmp_path / "home"))
    load_context().open_db()  # a desk's database, to save no mapping in
    close_database()
    src = tmp_path / "in"
    src.mkdir()
    p = write_xlsx(src / "a.xlsx", [*SAMPLE, line("240601-bad", pay="not money")])
    before = sorted(x.name for x in src.iterdir())
    rc = cli.main(["import", str(p), "--dry-run", "--save-mapping", "mine"])
    close_database()
    out = capsys.readouterr().out
    assert rc == 1 and "rejected" in out and "nothing was written" in out, out
    assert sorted(x.name for x in src.iterdir()) == before
    assert "rejected rows written" not in out
    load_context().open_db()
    assert SavedMappings().load("mine") is None
    close_database()


def test_an_import_dry_run_exits_as_the_import_would(tmp_path, monkeypatch, capsys):
    """The dry run's exit code is the import's with the same options: rejected rows fail it,
    unless --partial imports the good ones; --partial with every row rejected imports nothing
    and fails (it said "imported: 0 new" and exited 0)."""
    from dadan.tui import cli
    from tests.test_import_core import SAMPLE, line, write_xlsx

    monkeypatch.setenv("DADAN_HOME", str(tmp_path / "home"))
    load_context().open_db()
    close_database()
    some = write_xlsx(tmp_path / "some.xlsx", [*SAMPLE, line("240601-bad", pay="not money")])
    none = write_xlsx(tmp_path / "none.xlsx", [line("240601-bad", pay="not money")])
    SHOP = ("--shop", "甲店", "--create-shop")
    codes = {}
    for name, p in (("some", some), ("none", none)):
        for partial in ((), ("--partial",)):
            dry = cli.main(["import", str(p), "--dry-run", *partial, *SHOP])
            close_database()
            codes[name, bool(partial)] = dry
    assert codes == {("some", False): 1, ("some", True): 0, ("none", False): 1, ("none", True): 1}
    capsys.readouterr()
    assert cli.main(["import", str(none), "--partial", *SHOP]) == 1
    close_database()
    assert "imported: 0 new" in capsys.readouterr().out  # (nothing to import: said, and failed)
    assert cli.main(["import", str(some), "--partial", *SHOP]) == 0
    close_database()


def test_print_of_more_orders_than_one_job_takes_is_one_line_and_queues_nothing(tmp_path, monkeypatch, capsys):
    """``dadan print --query`` over the limit of one job (core.printing.plan.MAX_JOB_ORDERS): one
    line saying how many and what to do, exit 1, no job."""
    from dadan.core.db import open_database
    from dadan.core.models import PrintJob
    from dadan.core.printing import plan as print_plan
    from dadan.tui import cli

    home = tmp_path / "home"
    make_db(Paths(config_dir=home, data_dir=home).database_file, 12)
    close_database()
    monkeypatch.setenv("DADAN_HOME", str(home))
    monkeypatch.setattr(print_plan, "MAX_JOB_ORDERS", 10)
    rc = cli.main(["print", "--query", "status:pending", "--template", SMALL_TEMPLATE, "--yes"])
    close_database()
    err = capsys.readouterr().err
    assert rc == 1 and "orders: one print job takes at most 10; narrow the filter" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    open_database(f"sqlite:///{home / 'dadan.db'}")
    assert PrintJob.select().count() == 0


def test_order_numbers_and_a_filter_name_each_order_once_in_their_order(cli):
    """``dadan print SN... --query Q``: the numbers given first, in their order, then the filter's
    orders (oldest paid first) but those already named -- each once."""
    import argparse as ap

    from dadan.core.models import Order
    from dadan.tui.commands.print import orders_for

    run, _paths = cli
    everyone = [i for (i,) in Order.select(Order.id).order_by(Order.pay_time, Order.id).tuples()]
    sn = {o.id: o.order_sn for o in Order.select(Order.id, Order.order_sn)}
    named = [everyone[3], everyone[1]]
    # (-sn:none: every order, as no order number starts with "none")
    ids = orders_for(ap.Namespace(order_sn=[sn[i] for i in named], query="-sn:none"))
    assert ids == named + [i for i in everyone if i not in named]


@pytest.mark.parametrize("template", ["picklist_80", "sku_40x30", "handover_80"])
def test_print_with_a_template_that_is_no_orders_label_is_refused(cli, template):
    """A pick list, a SKU label or a handover list printed "for" orders printed nothing of them
    (an empty or blank label) and counted each order printed, so its waybill then needed a
    reprint: refused before anything is queued."""
    from dadan.core.models import Order, PrintJob
    from dadan.printers.errors import TemplateError

    run, _paths = cli
    with pytest.raises(TemplateError, match="orders print with a waybill or packing slip template"):
        run("print", order_sn(1), "--template", template, "--yes")
    assert PrintJob.select().count() == 0
    assert Order.select().where(Order.print_count != 0).count() == 0


def test_print_with_a_courier_code_nobody_has_is_refused(cli):
    """`--courier NOPE` was ignored when the orders held numbers already, and printed."""
    from dadan.core.models import PrintJob
    from dadan.core.printing.plan import PrintRefused

    run, _paths = cli
    with pytest.raises(PrintRefused, match="no courier has the code NOPE"):
        run("print", order_sn(1), "--template", SMALL_TEMPLATE, "--courier", "NOPE", "--yes")
    assert PrintJob.select().count() == 0


def test_print_of_a_filter_that_matches_nothing_says_so(cli):
    from dadan.core.errors import DadanError

    run, _paths = cli
    with pytest.raises(DadanError, match="no order matches the filter province:火星"):
        run("print", "--query", "province:火星", "--template", SMALL_TEMPLATE, "--yes")
