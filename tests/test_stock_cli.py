"""``dadan goods`` and ``dadan stock`` on the real database file of DADAN_HOME: import (a file
with rejects writes nothing and says where the rejects went), export, list, missing; receive
from a file, add, count, adjust and the movements; one-line errors for a missing file, a bad
quantity and an unknown code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dadan.core.db import close_database, open_database
from dadan.core.goods.models import Goods, StockMovement
from dadan.core.models import Order, Shop
from dadan.core.orders.rules import Flag
from tests.desk_helpers import run_cli
from tests.test_goods_files import GOOD, csv_file, wait_for, xlsx


def run(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    return run_cli(argv, monkeypatch, capsys, modules=("goods", "stock"))


@pytest.fixture
def home():
    return Path(os.environ["DADAN_HOME"])


def opened(home: Path):
    open_database(f"sqlite:///{home / 'dadan.db'}")


def test_goods_import_export_list_missing(home, tmp_path, monkeypatch, capsys):
    path = xlsx(tmp_path / "goods.xlsx", GOOD)
    rc, out, _ = run(["goods", "import", str(path), "--dry-run"], monkeypatch, capsys)
    assert rc == 0 and "3 SKUs to add" in out and "dry run: nothing was written" in out
    opened(home)
    assert Goods.select().count() == 0
    close_database()
    rc, out, _ = run(["goods", "import", str(path)], monkeypatch, capsys)
    assert rc == 0 and "3 SKUs added, 0 changed, 1 stock corrections" in out
    bad = xlsx(tmp_path / "bad.xlsx", [["A12", "", "", "", "", "", "-1"], ["", "x"]])
    rc, out, _ = run(["goods", "import", str(bad), "--rejects", str(tmp_path / "rej.xlsx")], monkeypatch, capsys)
    assert rc == 1 and "row 2, column 库存" in out and "row 3, column 商家编码" in out
    assert f"rejected rows written to {tmp_path / 'rej.xlsx'}" in out and (tmp_path / "rej.xlsx").exists()
    assert "nothing was written" in out
    rc, _, err = run(["goods", "export", "--out", str(tmp_path / "out.csv")], monkeypatch, capsys)
    assert rc == 0 and "3 SKUs written" in err
    rc, out, _ = run(["goods", "import", str(tmp_path / "out.csv")], monkeypatch, capsys)
    assert rc == 0 and "0 SKUs added, 0 changed, 0 stock corrections, 3 unchanged" in out
    rc, out, _ = run(["goods", "list"], monkeypatch, capsys)
    lines = out.splitlines()
    assert rc == 0 and len(lines) == 4 and lines[0].split()[:2] == ["code", "name"]
    assert lines[1].split()[0] == "0012" and "保温杯" in lines[2]
    rc, out, _ = run(["goods", "list", "--low"], monkeypatch, capsys)  # 0012 and b07: 0 available <= 0
    assert [ln.split()[0] for ln in out.splitlines()[1:]] == ["0012", "b07"]
    rc, out, _ = run(["goods", "list", "6901234567800"], monkeypatch, capsys)
    assert [ln.split()[0] for ln in out.splitlines()[1:]] == ["b07"]
    opened(home)
    shop = Shop.create(name="s")
    wait_for(shop.id, 1, [("b07", 2), ("NEW1", 1)])
    close_database()
    rc, out, _ = run(["goods", "list", "--short"], monkeypatch, capsys)
    assert [ln.split()[0] for ln in out.splitlines()[1:]] == ["b07"]
    rc, out, _ = run(["goods", "missing"], monkeypatch, capsys)
    assert rc == 0 and out.splitlines()[1].split() == ["NEW1", "品NEW1", "红", "1"]


def test_stock_commands(home, tmp_path, monkeypatch, capsys):
    run(["goods", "import", str(xlsx(tmp_path / "goods.xlsx", GOOD))], monkeypatch, capsys)
    opened(home)
    shop = Shop.create(name="s")
    wait_for(shop.id, 1, [("b07", 2)])
    assert Order.get().exception_flags & int(Flag.STOCK_SHORT)
    close_database()
    bad = csv_file(tmp_path / "r0.csv", [["b07", "2"], ["NOPE", "1"]], "utf-8-sig", head=["商家编码", "数量"])
    rc, out, _ = run(["stock", "receive", str(bad)], monkeypatch, capsys)
    assert rc == 1 and "row 3, column 商家编码: NOPE is not in the goods catalogue" in out
    assert "r0.rejects.xlsx" in out and "nothing was written" in out
    good = csv_file(tmp_path / "r.csv", [["b07", "2"]], "utf-8-sig", head=["商家编码", "数量"])
    rc, out, _ = run(["stock", "receive", str(good), "--dry-run"], monkeypatch, capsys)
    assert rc == 0 and "2 units of 1 SKUs to receive" in out
    rc, out, _ = run(["stock", "receive", str(good)], monkeypatch, capsys)
    assert rc == 0 and "received 2 units of 1 SKUs (1 rows); 1 short orders released" in out
    # the same file again (an operator running it twice): refused, nothing received twice
    rc, out, err = run(["stock", "receive", str(good)], monkeypatch, capsys)
    assert rc == 1 and "this file was received already" in out and "add --again" in err
    rc, out, _ = run(["stock", "receive", str(good), "--again"], monkeypatch, capsys)
    assert rc == 0 and "received 2 units" in out
    other = tmp_path / "r-next-day.csv"  # the same lines under another name: another delivery
    other.write_bytes(good.read_bytes())
    rc, out, _ = run(["stock", "receive", str(other)], monkeypatch, capsys)
    assert rc == 0 and "received 2 units" in out
    rc, out, _ = run(["stock", "adjust", "b07", "-4", "--reason", "收了两次"], monkeypatch, capsys)
    assert rc == 0 and "on hand 2" in out
    rc, out, _ = run(["stock", "add", "6901234567800", "5", "--reason", "退货入库"], monkeypatch, capsys)
    assert rc == 0 and out.strip() == "b07: on hand 7, reserved 2, available 5"
    rc, out, _ = run(["stock", "count", "b07", "6"], monkeypatch, capsys)
    assert rc == 0 and out.startswith("correction -1;") and "on hand 6" in out
    rc, out, _ = run(["stock", "count", "b07", "6"], monkeypatch, capsys)
    assert rc == 0 and "the count agrees" in out
    rc, out, _ = run(["stock", "adjust", "b07", "-2", "--reason", "破损"], monkeypatch, capsys)
    assert rc == 0 and "on hand 4" in out
    rc, out, _ = run(["stock", "moves", "B07", "--limit", "3"], monkeypatch, capsys)
    lines = out.splitlines()
    assert rc == 0 and len(lines) == 5 and lines[1].split()[:3] == ["when", "kind", "qty"]
    adjust = lines[2].split()
    assert adjust[2:5] == ["adjust", "-2", "-"] and adjust[-1] == "破损"
    assert lines[3].split()[2:4] == ["count", "-1"] and lines[4].split()[2:4] == ["receive", "5"]
    opened(home)
    g = Goods.get(Goods.code == "b07")
    assert g.on_hand == sum(m.qty for m in StockMovement.select().where(StockMovement.goods == g.id)) == 4
    close_database()


@pytest.mark.parametrize("argv, words", [
    (["goods", "import", "/nonexistent/goods.xlsx"], "cannot open /nonexistent/goods.xlsx"),
    (["stock", "receive", "/nonexistent/r.csv"], "cannot open /nonexistent/r.csv"),
    (["stock", "add", "A12", "abc"], "the quantity must be a whole number of at least 1, not 'abc'"),
    (["stock", "add", "A12", "0"], "the quantity must be a whole number of at least 1"),
    (["stock", "count", "A12", "-1"], "the quantity must be a whole number of at least 0"),
    (["stock", "adjust", "A12", "0", "--reason", "x"], "the quantity must be a whole number other than 0"),
    (["stock", "adjust", "A12", "+2", "--reason", "  "], "an adjustment needs a reason"),
    (["stock", "add", "NOPE", "1"], "no SKU has the code or barcode NOPE"),
    (["stock", "moves", "NOPE"], "no SKU has the code or barcode NOPE"),
    (["stock", "adjust", "b07", "-1", "--reason", "破损"], "cannot take 1 off b07: it has 0 on hand"),
    (["goods", "export", "--out", "x.jsonl"], "goods exports are csv or xlsx"),
    (["goods", "export", "--format", "csv", "--out", ""], "is not a regular file"),
    (["stock", "add", "b07", "99999999999999999999"], "is implausibly large (at most 1,000,000,000)"),
    (["stock", "count", "b07", "99999999999999999999"], "is implausibly large"),
    (["stock", "adjust", "b07", "+99999999999999999999", "--reason", "x"], "is implausibly large"),
])
def test_bad_input_is_one_line(home, tmp_path, monkeypatch, capsys, argv, words):
    run(["goods", "import", str(xlsx(tmp_path / "goods.xlsx", GOOD))], monkeypatch, capsys)
    rc, out, err = run(argv, monkeypatch, capsys)
    assert rc == 1 and words in err and err.startswith("dadan: ") and err.count("\n") == 1 and not out


@pytest.mark.parametrize("argv", [
    ["audit", "--limit", "99999999999999999999"],
    ["wave", "--limit", "99999999999999999999"],
    ["queue", "show", "99999999999999999999"],
    ["queue", "resolve", "99999999999999999999", "--printed"],
    ["stock", "moves", "b07", "--limit", "99999999999999999999"],
])
def test_a_number_too_large_for_the_database_is_refused_as_an_argument(home, monkeypatch, capsys, argv):
    """(SQLite holds integers up to 2**63: such a number used to fail as a traceback when bound.)"""
    rc, _out, err = run_cli(argv, monkeypatch, capsys, modules=("audit", "wave", "print", "stock"))
    assert rc == 2 and "is too large" in err and "Traceback" not in err, err


def test_a_file_error_no_command_foresaw_is_one_line(home, tmp_path, monkeypatch, capsys):
    rc, out, err = run_cli(["backup", str(tmp_path / ("a" * 300 + ".db"))], monkeypatch, capsys, modules=("backup",))
    assert rc == 1 and err.startswith("dadan: ") and "File name too long" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("argv", [
    ["goods", "list", "--limit", "0"],  # showed every row
    ["stock", "moves", "b07", "--limit", "0"],  # showed one
    ["queue", "list", "--limit", "0"],  # said "no print jobs"
    ["audit", "--limit", "-3"],
    ["archive", "find", "240101", "--limit", "0"],
    ["handover", "list", "--limit", "0"],
    ["waybills", "list", "--limit", "0"],
])
def test_a_limit_below_one_is_refused_alike(home, monkeypatch, capsys, argv):
    rc, _out, err = run_cli(argv, monkeypatch, capsys,
                            modules=("goods", "stock", "print", "audit", "archive", "handover", "waybills"))
    assert rc == 2 and "--limit must be 1 or more" in err and "Traceback" not in err, err
