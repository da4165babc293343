"""Exports: stable JSON Lines, CSV/xlsx with formula neutralising, the bulk-ship file, pick
lists, daily reports, streaming in chunks, and the CLI's clean errors."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from dadan.core.db import close_database, database, open_database
from dadan.core.models import Order, Shop
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.upsert import upsert_orders
from dadan.core.spreadsheets import export as E
from dadan.core.spreadsheets.layout import prepare
from dadan.core.spreadsheets.mappings import SavedMappings
from dadan.core.spreadsheets.plan import plan_import
from dadan.core.spreadsheets.writers import csv_cell
from tests.desk_helpers import run_cli


@pytest.fixture
def db(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'dadan.db'}")
    yield database()
    close_database()


def _orders(shop_id, n=5):
    recs = []
    for i in range(n):
        recs.append({"order_sn": f"231114-{i:015d}", "order_status": 1, "refund_status": 1,
                     "pay_time": dt.datetime(2023, 11, 14, 2 + i % 20, 0), "pay_amount_fen": 1000 + i,
                     "last_ship_time": dt.datetime(2023, 11, 16, 2, 0), "province": "浙江省", "city": "杭州市",
                     "town": "西湖区", "remark": "=HYPERLINK(\"http://x\")" if i == 0 else "",
                     "items": [{"goods_name": "杯子", "goods_spec": "红色", "goods_count": 1 + i % 2, "outer_id": "A12"},
                               {"goods_name": "@盖子", "goods_count": 1, "outer_id": "B07"}][: 1 + i % 2]})
    upsert_orders(shop_id, recs, source="api")


@pytest.fixture
def shop(db):
    s = Shop.create(name="主店")
    _orders(s.id)
    return s


def test_jsonl_stable_keys(tmp_path, shop):
    out = tmp_path / "o.jsonl"
    res = E.export("orders", "jsonl", out)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert res.orders == 5 and len(lines) == 5
    assert list(lines[0]) == list(E.JSONL_KEYS)
    assert lines[0]["shop"] == "主店" and lines[0]["last_ship_time"] == "2023-11-16T02:00:00Z"
    assert lines[1]["items"][1]["goods_name"] == "@盖子" and list(lines[1]["items"][0]) == list(E.ITEM_KEYS)
    assert lines[0]["exceptions"] == []


def test_csv_and_xlsx_neutralise_formulas_and_reimport(tmp_path, shop):
    E.export("orders", "csv", tmp_path / "o.csv")
    raw = (tmp_path / "o.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 1 + 5 + 2  # header + one row per line
    flat = [c for r in rows for c in r]
    assert not any(c[:1] in ("=", "+", "-", "@") for c in flat if c)
    assert "'=HYPERLINK(\"http://x\")" in flat and "'@盖子" in flat
    E.export("orders", "xlsx", tmp_path / "o.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "o.xlsx")
    cells = [c for r in wb.active.iter_rows(values_only=True) for c in r]
    assert not any(isinstance(c, str) and c[:1] in "=+-@" for c in cells)
    assert wb.active["A1"].data_type == "s"
    # what we export can be imported again
    plan = plan_import(prepare(tmp_path / "o.xlsx", saved=SavedMappings()), shop_id=shop.id,
                       couriers=CourierBook.from_database())
    assert not plan.rejects and plan.counts.unchanged == 5


def _sn(i: int) -> str:
    return f"231114-{i:015d}"


def _order(i: int):
    return Order.get(Order.order_sn == _sn(i))


def test_ship_file_holds_what_dadan_shipped_and_the_platform_has_not_taken(tmp_path, shop):
    from dadan.core.orders.rules import Flag
    from dadan.core.shipping.outbox import assign_tracking

    for i in range(5):
        assign_tracking(_order(i).id, f"7531234567890{i}", 115, actor="t")
    Order.update(exception_flags=int(Flag.REFUND)).where(Order.order_sn == _sn(1)).execute()  # refund after packing
    Order.update(exception_flags=int(Flag.SHIP_FAILED)).where(Order.order_sn == _sn(2)).execute()  # upload fixes it
    Order.update(state="confirmed").where(Order.order_sn == _sn(3)).execute()  # the platform took it
    Order.update(state="printed").where(Order.order_sn == _sn(4)).execute()  # a waybill printed, never shipped
    res = E.export("ship", "csv", tmp_path / "s.csv")
    assert (res.orders, res.left_out) == (2, 3)
    rows = list(csv.reader((tmp_path / "s.csv").read_text(encoding="utf-8-sig").splitlines()))
    # long digit strings are tab-prefixed, as the merchant backend writes them, so Excel keeps every digit
    assert rows == [["订单号", "快递公司", "快递单号"], [_sn(0), "中通快递", "\t75312345678900"],
                    [_sn(2), "中通快递", "\t75312345678902"]]
    # the ship file reads back as a tracking file: the same assignments, nothing to change
    plan = plan_import(prepare(tmp_path / "s.csv", saved=SavedMappings()), shop_id=shop.id,
                       couriers=CourierBook.from_database())
    assert plan.kind == "tracking" and not plan.rejects and plan.counts.unchanged == 2
    assert "3 orders left out" in E.left_out_message("ship", res.left_out)


def test_picklist_counts_only_what_is_left_to_pack(tmp_path, shop):
    from dadan.core.orders.rules import Flag
    from dadan.core.shipping.outbox import assign_tracking

    assign_tracking(_order(3).id, "75312345678903", 115, actor="t")  # packed and shipped
    Order.update(exception_flags=int(Flag.HOLD)).where(Order.order_sn == _sn(4)).execute()
    res = E.export("picklist", "jsonl", tmp_path / "p.jsonl")
    assert (res.orders, res.left_out) == (3, 2)
    pick = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert pick == [{"outer_id": "A12", "goods_name": "杯子", "goods_spec": "红色", "quantity": 4, "orders": 3},
                    {"outer_id": "B07", "goods_name": "@盖子", "goods_spec": "", "quantity": 1, "orders": 1}]


def test_daily_report_money_is_a_number_in_xlsx(tmp_path, shop):
    from decimal import Decimal

    E.export("daily", "xlsx", tmp_path / "d.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "d.xlsx").active
    vals = list(ws.values)
    assert vals[0][:4] == ("日期", "订单数", "件数", "实付金额(元)")
    assert vals[1][:3] == ("2023-11-14", 5, 9)
    assert Decimal(str(vals[1][3])) == Decimal("50.10") and ws["D2"].number_format == "0.00"
    E.export("daily", "csv", tmp_path / "d.csv")
    rows = list(csv.reader((tmp_path / "d.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1] == ["2023-11-14", "5", "9", "50.10", "0", "0", "0"]


def test_csv_keeps_long_numbers_and_leading_zeros_as_text_for_excel():
    assert csv_cell("75312345678901") == "\t75312345678901"
    assert csv_cell("007") == "\t007"
    assert csv_cell("12345") == "12345" and csv_cell("0") == "0"
    assert csv_cell("231114-123456789012345") == "231114-123456789012345"
    assert csv_cell("=1+1") == "'=1+1" and csv_cell(None) == "" and csv_cell(3) == 3


def test_streams_in_chunks(tmp_path, shop, monkeypatch):
    seen = []
    real = E.iter_orders

    def spy(where=None, *, chunk=1000, on_batch=None):
        for o, items in real(where, chunk=chunk, on_batch=on_batch):
            seen.append(o.id)
            yield o, items

    monkeypatch.setattr(E, "iter_orders", spy)
    calls = []
    db = database()
    orig = db.execute_sql

    def counting(sql, params=None, *a, **kw):
        if sql.lstrip().upper().startswith("SELECT") and "LIMIT" in sql.upper():
            calls.append(sql)
        return orig(sql, params, *a, **kw)

    monkeypatch.setattr(db, "execute_sql", counting)
    E.export("orders", "jsonl", tmp_path / "o.jsonl", chunk=2)
    assert len(seen) == 5
    assert len(calls) == 4  # 3 chunks of at most 2 orders, then an empty one


def test_where_filter_and_errors(tmp_path, shop):
    res = E.export("orders", "jsonl", tmp_path / "o.jsonl", where=Order.pay_amount_fen > 1002)
    assert res.orders == 2
    with pytest.raises(E.ExportError):
        E.export("orders", "xlsx", "-")
    with pytest.raises(E.ExportError):
        E.export("nope", "csv", tmp_path / "x.csv")
    with pytest.raises(E.ExportError):
        E.format_for(tmp_path / "x.doc", None)
    with pytest.raises(E.ExportError):
        E.export("orders", "csv", tmp_path / "missing" / "x.csv")
    assert not list(tmp_path.glob(".*.part"))


# ------------------------------------------------------------------ CLI
def _cli(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DADAN_HOME", str(tmp_path / "home"))
    return run_cli(argv, monkeypatch, capsys)


def test_cli_export_and_import(tmp_path, monkeypatch, capsys):
    from tests.test_import_core import SAMPLE, write_xlsx

    p = write_xlsx(tmp_path / "a.xlsx", SAMPLE)
    rc, out, err = _cli(["import", str(p), "--dry-run"], tmp_path, monkeypatch, capsys)
    assert rc == 0 and "2 new" in out and "nothing was written" in out
    assert not list((tmp_path / "home").rglob("*.db*"))  # not even a new, empty database file
    rc, out, err = _cli(["import", str(p), "--shop", "主店", "--create-shop"], tmp_path, monkeypatch, capsys)
    assert rc == 0 and "imported: 2 new, 0 updated" in out, err
    rc, out, err = _cli(["import", str(p), "--shop", "主店"], tmp_path, monkeypatch, capsys)
    assert rc == 0 and "imported: 0 new, 0 updated, 2 unchanged" in out, err
    rc, out, err = _cli(["export", "--format", "jsonl", "--out", "-", "--query", "province:浙江"], tmp_path,
                        monkeypatch, capsys)
    assert rc == 0 and len(out.splitlines()) == 2 and json.loads(out.splitlines()[0])["shop"] == "主店"
    rc, out, err = _cli(["export", "--out", str(tmp_path / "x.csv"), "--query", "status:"], tmp_path, monkeypatch,
                        capsys)
    assert rc == 1 and "Traceback" not in err and err.startswith("dadan:")
    rc, out, err = _cli(["export", "--format", "pdf", "--out", "x"], tmp_path, monkeypatch, capsys)
    assert rc == 2 and "usage" in err
    rc, out, err = _cli(["export"], tmp_path, monkeypatch, capsys)
    assert rc == 2 and "usage" in err
    rc, out, err = _cli(["import", str(tmp_path / "nope.xlsx")], tmp_path, monkeypatch, capsys)
    assert rc == 1 and "cannot open" in err


@pytest.mark.parametrize("query", ["qty>99999999999999999999999", "amount>1e309", "due<99999999h", "provnce:浙江"])
@pytest.mark.parametrize("command", [["export", "--out", "{tmp}/x.csv"], ["print", "--yes"]])
def test_cli_bad_filter_is_one_line_without_traceback(tmp_path, monkeypatch, capsys, command, query):
    from dadan.tui import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", ["dadan.tui.commands.export", "dadan.tui.commands.print"])
    monkeypatch.setenv("DADAN_HOME", str(tmp_path / "home"))
    rc = cli.main([a.format(tmp=tmp_path) for a in command] + ["--query", query])
    close_database()
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("dadan: Filter error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "Overflow" not in err
    assert not (tmp_path / "x.csv").exists()


def test_export_file_names_and_folders(tmp_path):
    """The default name is KIND_YYYYMMDD-HHMM.EXT in local time; a typed name without a folder
    goes into the exports folder; a missing folder is created, a file in its place is an error."""
    folder = tmp_path / "exports"
    now = dt.datetime(2026, 11, 20, 4, 0)  # naive UTC: 12:00 in Shanghai
    assert E.default_export_name("orders", "xlsx", now, "Asia/Shanghai") == "orders_20261120-1200.xlsx"
    assert E.default_export_path(folder, "ship", "csv", dt.datetime(2026, 11, 20, 17, 30), "Asia/Shanghai") == (
        folder / "ship_20261121-0130.csv")  # the local day, not the UTC one
    assert E.default_export_path(folder, "daily", "jsonl", now, "UTC") == folder / "daily_20261120-0400.jsonl"
    assert E.resolve_export_path("  picks.csv ", folder) == folder / "picks.csv"
    assert E.resolve_export_path("sub/x.jsonl", folder) == folder / "sub" / "x.jsonl"
    assert E.resolve_export_path(str(tmp_path / "abs.xlsx"), folder) == tmp_path / "abs.xlsx"
    assert E.resolve_export_path("~/r.xlsx", folder) == Path("~/r.xlsx").expanduser()
    E.make_export_folder(folder / "deep" / "a.xlsx")
    assert (folder / "deep").is_dir()
    E.make_export_folder(folder / "deep" / "b.xlsx")  # an existing folder is fine
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(E.ExportError, match="is not a folder"):
        E.make_export_folder(blocker / "sub" / "a.xlsx")


def test_an_xlsx_export_longer_than_a_sheet_goes_on_in_the_next_sheet(tmp_path, db, monkeypatch):
    """Excel opens no sheet over 1,048,576 rows (a year of orders, one row per item, is more): the
    rows go on in ``dadan (2)``, ``dadan (3)``, each with the header, none lost or repeated."""
    from dadan.core.spreadsheets import writers

    monkeypatch.setattr(writers, "XLSX_SHEET_ROWS", 4)  # (the header and three rows a sheet)
    s = Shop.create(name="主店")
    _orders(s.id, n=5)  # 7 item rows
    out = tmp_path / "o.xlsx"
    res = E.export("orders", "xlsx", out)
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["dadan", "dadan (2)", "dadan (3)"]
    sheets = [list(ws.iter_rows(values_only=True)) for ws in wb.worksheets]
    assert [len(rows) for rows in sheets] == [4, 4, 2] and all(rows[0] == sheets[0][0] for rows in sheets)
    body = [r for rows in sheets for r in rows[1:]]
    assert len(body) == res.rows == 7
    assert len(set(body)) == 7  # (each row once)


def test_an_xlsx_exports_rows_wait_beside_it_owner_only_never_in_the_system_temp_folder(tmp_path, db, monkeypatch):
    """A write-only xlsx keeps each sheet's rows in a file until it is saved (a year of orders:
    over a gigabyte of buyers' data). They wait beside the export, owner-only, as the export's
    own partial file does from its first byte, and are gone when it is written, when it fails,
    and (a killed desk's) when the same file is exported again; the system's temp folder (often
    a /tmp held in memory) gets nothing."""
    import tempfile

    from dadan.core.spreadsheets import writers

    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.setattr(writers, "XLSX_SHEET_ROWS", 4)  # (two sheets: two waiting files)
    s = Shop.create(name="主店")
    _orders(s.id, n=5)
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    out = out_dir / "o.xlsx"
    stale = out_dir / ".o.xlsx.part.sheet7"  # a killed export's
    stale.write_text("buyers")
    seen = []

    def progress(_n):  # mid-export: what lies in the folders
        seen.append({p.name: p.stat().st_mode & 0o777 for p in out_dir.iterdir()})

    E.export("orders", "xlsx", out, chunk=2, progress=progress)
    assert seen[0] == {".o.xlsx.part": 0o600, ".o.xlsx.part.sheet1": 0o600}  # (the stale one gone)
    assert {".o.xlsx.part.sheet2"} <= set(seen[1]) and set(seen[1].values()) == {0o600}
    assert seen[-1] == {".o.xlsx.part": 0o600}  # (saved: the rows are in it)
    assert sorted(p.name for p in out_dir.iterdir()) == ["o.xlsx"] and (out.stat().st_mode & 0o777) == 0o600
    assert list(system_tmp.iterdir()) == []
    assert openpyxl.load_workbook(out, read_only=True).sheetnames == ["dadan", "dadan (2)", "dadan (3)"]

    def fail(n):
        if n >= 4:
            raise OSError(28, "No space left on device")

    with pytest.raises(E.ExportError, match="No space left on device"):
        E.export("orders", "xlsx", out_dir / "p.xlsx", chunk=2, progress=fail)
    assert sorted(p.name for p in out_dir.iterdir()) == ["o.xlsx"] and list(system_tmp.iterdir()) == []


def test_an_export_never_replaces_what_is_not_a_regular_file(tmp_path, db, monkeypatch, capsys):
    """``--out`` naming a pipe, a folder or a device (``/dev/null`` as root) is refused in one
    line and left as it was; a symbolic link is written through: the file it names gets the
    export, the link stays a link."""
    import os
    import stat

    s = Shop.create(name="主店")
    _orders(s.id, n=2)
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    to_pipe = tmp_path / "to-pipe.csv"
    to_pipe.symlink_to(pipe)
    for target in (pipe, folder, to_pipe):
        with pytest.raises(E.ExportError, match="not a regular file"):
            E.export("orders", "csv", target)
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and folder.is_dir() and to_pipe.is_symlink()
    assert not list(tmp_path.glob(".*.part"))
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    E.export("orders", "csv", link)
    assert link.is_symlink() and "old" not in real.read_text() and real.read_text().count("\n") >= 3
    for name in ("", str(pipe)):  # (the command line: one line)
        rc, _out, err = _cli(["export", "--format", "csv", "--out", name], tmp_path, monkeypatch, capsys)
        assert rc != 0 and err.startswith("dadan:") and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
