"""``dadan archive``: the summary line, find / export / restore from the command line, and one-line
errors for bad input; on the real database file of DADAN_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dadan.core.db import close_database, open_database
from dadan.core.models import ArchivedOrder, Order, Shop
from dadan.core.timeutil import to_local
from tests.desk_helpers import run_cli
from tests.test_archive import OLD, _sn, make


def run(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    return run_cli(argv, monkeypatch, capsys, modules=("archive",))


@pytest.fixture
def home_db():
    home = Path(os.environ["DADAN_HOME"])
    open_database(f"sqlite:///{home / 'dadan.db'}")
    shop = Shop.create(name="主店")
    make(shop, 0, 4)
    make(shop, 10, 1, shipped=None, status=1)  # not shipped
    make(shop, 20, 1, exception_flags=1)
    close_database()
    return home


def test_archive_dry_run_then_yes_then_find_export_restore(home_db, monkeypatch, capsys, tmp_path):
    rc, out, _ = run(["archive", "--dry-run"], monkeypatch, capsys)
    assert rc == 0 and out.startswith("would archive 4 orders shipped before") and "kept 1: 1 open exception" in out
    assert out.count("\n") == 1
    rc, _, err = run(["archive"], monkeypatch, capsys)  # not at a terminal: --yes needed
    assert rc == 1 and "--yes" in err and err.count("\n") == 1
    rc, out, _ = run(["archive", "--yes"], monkeypatch, capsys)
    assert rc == 0 and out.startswith("archived 4 orders") and out.count("\n") == 1
    rc, out, _ = run(["archive", "--yes"], monkeypatch, capsys)  # again: nothing left, a run all the same
    assert rc == 0 and out.startswith("archived 0 orders")  # (it said "would archive 0" and left no audit)
    open_database(f"sqlite:///{home_db / 'dadan.db'}")
    from dadan.core.models import AuditEvent

    assert [e.target for e in AuditEvent.select().where(AuditEvent.action == "archive").order_by(AuditEvent.id)] == [
        "4 orders", "0 orders"]
    close_database()
    rc, out, _ = run(["archive", "find", "YT0000000000002"], monkeypatch, capsys)
    assert rc == 0 and _sn(2) in out and "archived" in out and out.count("\n") == 1
    rc, out, err = run(["archive", "find", "240101-0000000000000"], monkeypatch, capsys)
    assert rc == 0 and out.count("\n") == 4 and "more than" not in err
    rc, out, err = run(["archive", "find", "240101-0000000000000", "--limit", "3"], monkeypatch, capsys)
    assert rc == 0 and out.count("\n") == 3 and "(more than 3 match" in err  # (it stopped without a word)
    rc, out, _ = run(["archive", "find", "NOPE"], monkeypatch, capsys)
    assert rc == 1 and "no archived order" in out
    day = f"{to_local(OLD):%Y-%m-%d}"  # the warehouse's date (Asia/Shanghai)
    rc, _, err = run(["archive", "export", "--out", str(tmp_path / "a.csv"), "--from", day, "--to", day],
                     monkeypatch, capsys)
    assert rc == 0 and "8 rows (4 archived orders)" in err
    rc, out, _ = run(["archive", "restore", _sn(1)], monkeypatch, capsys)
    assert rc == 0 and "restored" in out
    rc, _out, err = run(["archive", "restore", _sn(1)], monkeypatch, capsys)  # again: it is in the list now
    assert rc == 1 and f"order {_sn(1)} is in the order list, not in the archive" in err
    open_database(f"sqlite:///{home_db / 'dadan.db'}")
    assert Order.select().where(Order.order_sn == _sn(1)).exists() and ArchivedOrder.select().count() == 3
    close_database()


@pytest.mark.parametrize("argv, words", [
    (["archive", "--older-than", "abc"], "--older-than must be a whole number of days from 1 to 3650"),
    (["archive", "--older-than", "0"], "--older-than must be a whole number of days from 1 to 3650"),
    (["archive", "--older-than", "-5", "--dry-run"], "--older-than must be a whole number of days"),
    (["archive", "restore", "240101-999"], "no archived order 240101-999"),
    (["archive", "export", "--out", "x.csv", "--from", "2026-13-01"], "--from must be a date like 2026-06-30"),
    (["archive", "export", "--out", "x.jsonl"], "archive exports are csv or xlsx"),
    (["archive", "export", "--out", "x.csv", "--from", "2026-06-30", "--to", "2026-06-01"],
     "--to 2026-06-01 is before --from 2026-06-30"),  # (it wrote an empty file)
    (["archive", "export", "--out", "-"], "pass --format csv|xlsx"),  # (it offered jsonl, which it refuses)
])
def test_bad_input_is_one_line(home_db, monkeypatch, capsys, argv, words):
    rc, _, err = run(argv, monkeypatch, capsys)
    assert rc == 1 and words in err and err.startswith("dadan: ") and err.count("\n") == 1


def test_older_than_overrides_the_setting(home_db, monkeypatch, capsys):
    (home_db / "config.toml").write_text("[retention]\narchive_after_days = 3000\n", encoding="utf-8")
    rc, out, _ = run(["archive", "--dry-run"], monkeypatch, capsys)
    assert rc == 0 and out.startswith("would archive 0 orders")
    rc, out, _ = run(["archive", "--dry-run", "--older-than", "100"], monkeypatch, capsys)
    assert rc == 0 and out.startswith("would archive 4 orders")
