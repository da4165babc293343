"""Issue #14, items 9-11 and 5d: truncated files, updates that take data away, control
characters, a full database, workbooks that would exhaust memory, terminal injection, and the
item price taken from the file's goods total."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dadan.core.db import close_database
from dadan.core.errors import DatabaseError
from dadan.core.models import Order, OrderItem
from dadan.core.spreadsheets.commit import commit_import
from dadan.core.spreadsheets.errors import SpreadsheetError
from dadan.core.spreadsheets.reading import open_source
from dadan.core.spreadsheets.rejects import write_rejects
from dadan.core.visible import visible
from tests.desk_helpers import run_cli
from tests.test_import_core import HEADERS, SAMPLE, SN1, SN2, csv_text, db, dump, line, plan_for, shop, write_xlsx

__all__ = ["db", "shop"]  # fixtures


def _home_db():
    import os

    from dadan.core.db import open_database

    return open_database(f"sqlite:///{Path(os.environ['DADAN_HOME']) / 'data' / 'dadan.db'}")


# ------------------------------------------------------------------ 9: truncated files
def _good_csv(tmp_path) -> Path:
    p = tmp_path / "good.csv"
    p.write_bytes(csv_text(SAMPLE).encode("utf-8"))
    return p


def test_a_utf8_file_cut_inside_a_character_is_refused_naming_row_and_column(tmp_path, shop):
    data = csv_text(SAMPLE).encode("utf-8")
    cut = data.index("西湖区".encode()) + 4  # inside 湖
    (tmp_path / "cut.csv").write_bytes(data[:cut])
    with pytest.raises(SpreadsheetError) as exc:
        plan_for(tmp_path / "cut.csv", shop)
    assert "row 2" in exc.value.message and "区" in exc.value.message


def test_a_bad_byte_in_a_bom_file_is_refused_not_replaced(tmp_path, shop):
    data = b"\xef\xbb\xbf" + csv_text(SAMPLE).encode("utf-8")
    i = data.index("思".encode()) if "思" in csv_text(SAMPLE) else data.index("西湖区".encode())
    (tmp_path / "bad.csv").write_bytes(data[:i] + b"\xff" + data[i + 1:])
    with pytest.raises(SpreadsheetError) as exc:
        plan_for(tmp_path / "bad.csv", shop)
    assert "row 2, column 区" in exc.value.message


def test_an_unclosed_quote_at_the_end_is_refused(tmp_path, shop):
    text = csv_text(SAMPLE) + SN2 + ',"半个'
    (tmp_path / "q.csv").write_text(text, encoding="utf-8")
    with pytest.raises(SpreadsheetError) as exc:
        plan_for(tmp_path / "q.csv", shop)
    assert "row 5" in exc.value.message and "quote" in exc.value.message


def test_a_row_cut_to_three_cells_refuses_the_file(tmp_path, db, shop):
    commit_import(plan_for(_good_csv(tmp_path), shop), actor="t")
    before = dump(db)
    rows = csv_text(SAMPLE).splitlines(keepends=True)
    rows[2] = ",".join(rows[2].split(",")[:3]) + "\r\n"
    (tmp_path / "short.csv").write_text("".join(rows), encoding="utf-8")
    with pytest.raises(SpreadsheetError) as exc:
        plan_for(tmp_path / "short.csv", shop)
    assert "row 3 has 3 cells" in exc.value.message and HEADERS[3] in exc.value.message
    assert dump(db) == before


def test_cli_refuses_a_cut_file_with_exit_1_and_writes_nothing(tmp_path, monkeypatch, capsys):
    good = _good_csv(tmp_path)
    assert run_cli(["import", str(good), "--shop", "主店", "--create-shop"], monkeypatch, capsys)[0] == 0
    data = good.read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(data[: data.rindex("西湖区".encode()) + 4])
    db = _home_db()
    before = dump(db)
    close_database()
    rc, out, err = run_cli(["import", str(cut), "--shop", "主店"], monkeypatch, capsys)
    assert rc == 1 and "Traceback" not in err and "row 4" in err
    db = _home_db()
    assert dump(db) == before
    close_database()


def _two_item_order_then_one(tmp_path, shop):
    commit_import(plan_for(write_xlsx(tmp_path / "a.xlsx", SAMPLE), shop), actor="t")
    return write_xlsx(tmp_path / "b.xlsx", [line(pay="15.00"), line(SN2, pay="9.90")])


def test_an_update_that_drops_an_item_or_changes_the_amount_needs_acceptance(tmp_path, db, shop):
    p = _two_item_order_then_one(tmp_path, shop)
    before = dump(db)
    plan = plan_for(p, shop)
    assert len(plan.counts.losses) == 1 and plan.counts.losses[0].startswith(SN1)
    assert "items 2 -> 1" in plan.counts.losses[0] and "¥29.90 -> ¥15.00" in plan.counts.losses[0]
    assert "drop items or change an amount" in plan.summary()
    out = commit_import(plan, actor="t")
    assert not out.committed and "lose items" in out.message and dump(db) == before
    out = commit_import(plan, actor="t", accept_changes=True)
    assert out.committed
    o = Order.get(Order.order_sn == SN1)
    assert o.pay_amount_fen == 1500 and OrderItem.select().where(OrderItem.order == o).count() == 1


def test_cli_lists_losses_and_needs_accept_changes(tmp_path, monkeypatch, capsys):
    a = write_xlsx(tmp_path / "a.xlsx", SAMPLE)
    assert run_cli(["import", str(a), "--shop", "主店", "--create-shop"], monkeypatch, capsys)[0] == 0
    b = write_xlsx(tmp_path / "b.xlsx", [line(pay="15.00"), line(SN2, pay="9.90")])
    rc, out, err = run_cli(["import", str(b), "--shop", "主店"], monkeypatch, capsys)
    assert rc == 1 and f"{SN1}: items 2 -> 1" in out and "--accept-changes" in out
    rc, out, err = run_cli(["import", str(b), "--shop", "主店", "--accept-changes"], monkeypatch, capsys)
    assert rc == 0, out + err


# ------------------------------------------------------------------ 5d: the item's price
def test_item_price_comes_from_the_goods_total_when_no_unit_price(tmp_path, shop):
    rows = [line(pay="59.00"), line(SN2, count=2, pay="118.00")]
    plan = plan_for(write_xlsx(tmp_path / "p.xlsx", rows), shop)
    by = {r["order_sn"]: r for r in plan.records}
    assert by[SN1]["items"][0]["goods_price_fen"] == 5900
    assert by[SN2]["items"][0]["goods_price_fen"] == 5900
    commit_import(plan, actor="t")
    assert OrderItem.get(OrderItem.order == Order.get(Order.order_sn == SN1)).goods_price_fen == 5900


def test_item_prices_of_a_two_line_order_come_from_each_lines_total(tmp_path, shop):
    rows = [line(pay="29.90"), line(goods="盖子", count=2, pay="10.00")]
    plan = plan_for(write_xlsx(tmp_path / "p.xlsx", rows), shop)
    assert [it["goods_price_fen"] for it in plan.records[0]["items"]] == [2990, 500]


def test_an_order_with_too_many_lines_is_rejected(tmp_path, shop, monkeypatch):
    from dadan.core.spreadsheets import grouping

    monkeypatch.setattr(grouping, "MAX_LINES_PER_ORDER", 3)
    rows = [line(goods=f"g{i}") for i in range(4)] + [line(SN2)]
    plan = plan_for(write_xlsx(tmp_path / "m.xlsx", rows), shop)
    assert sorted(r.row for r in plan.rejects) == [2, 3, 4, 5]
    assert "4 lines (at most 3)" in plan.rejects[0].message
    assert [r["order_sn"] for r in plan.records] == [SN2]


# ------------------------------------------------------------------ 10: control characters, full disk, bombs
EVIL = "\x1b]0;pwned\x07\x1b[2J\x08\x0b\x9b"


def test_control_characters_in_a_cell_do_not_break_the_rejects_file(tmp_path, shop):
    (tmp_path / "c.csv").write_text(csv_text([line(), line(SN2, **{"商品": EVIL, "订单成交时间": EVIL})]),
                                    encoding="utf-8")
    plan = plan_for(tmp_path / "c.csv", shop)
    assert plan.rejects
    out = write_rejects(plan, tmp_path / "r.xlsx")
    values = list(openpyxl.load_workbook(out).active.values)
    assert any("␛]0;pwned␇␛[2J" in str(v) for v in values[1])


def test_control_characters_do_not_break_xlsx_exports(tmp_path, db, shop):
    from dadan.core.spreadsheets.export import export

    (tmp_path / "c.csv").write_text(csv_text([line(goods="杯" + EVIL, 商家备注=EVIL[:8])]),
                                    encoding="utf-8")
    commit_import(plan_for(tmp_path / "c.csv", shop), actor="t")
    for kind in ("orders", "picklist"):
        export(kind, "xlsx", tmp_path / f"{kind}.xlsx")
        cells = [str(v) for row in openpyxl.load_workbook(tmp_path / f"{kind}.xlsx").active.values for v in row]
        assert any("杯␛]0;pwned␇␛[2J" in v for v in cells)


def test_a_full_database_is_one_error_and_changes_nothing(tmp_path, db, shop, monkeypatch):
    big = [line(f"231114-{i:015d}", 商家备注="x" * 400) for i in range(400)]
    plan = plan_for(write_xlsx(tmp_path / "big.xlsx", big), shop)
    before = dump(db)
    pages = db.execute_sql("pragma page_count").fetchone()[0]
    db.execute_sql(f"pragma max_page_count = {pages + 2}")
    with pytest.raises(DatabaseError) as exc:
        commit_import(plan, actor="t")
    assert "full" in exc.value.message and exc.value.__cause__ is None
    db.execute_sql("pragma max_page_count = 1073741823")
    assert dump(db) == before


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_full_server_disk_is_one_error_and_changes_nothing_on_postgresql(tmp_path, db, shop):
    # PostgreSQL's disk fills up while an import writes (SQLSTATE 53100, as the server says it
    # when it cannot extend a table's file), after 300 of the 400 orders went in: one error,
    # and the transaction leaves nothing behind
    big = [line(f"231114-{i:015d}", 商家备注="x" * 400) for i in range(400)]
    plan = plan_for(write_xlsx(tmp_path / "big.xlsx", big), shop)
    before = dump(db)
    db.execute_sql("""CREATE FUNCTION disk_fills() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.order_sn = '231114-000000000000300' THEN
            RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device' USING ERRCODE = 'disk_full';
        END IF; RETURN NEW; END $$""")
    db.execute_sql('CREATE TRIGGER disk_fills BEFORE INSERT ON "order" FOR EACH ROW EXECUTE FUNCTION disk_fills()')
    with pytest.raises(DatabaseError) as exc:
        commit_import(plan, actor="t")
    assert "full" in exc.value.message and exc.value.__cause__ is None
    db.execute_sql('DROP TRIGGER disk_fills ON "order"')
    assert dump(db) == before


def test_cli_prints_one_line_when_the_database_is_full(tmp_path, monkeypatch, capsys):
    from dadan.core import db as core_db

    big = write_xlsx(tmp_path / "big.xlsx", [line(f"231114-{i:015d}", 商家备注="x" * 400) for i in range(400)])
    small = write_xlsx(tmp_path / "s.xlsx", [line()])
    assert run_cli(["import", str(small), "--shop", "主店", "--create-shop"], monkeypatch, capsys)[0] == 0
    db = _home_db()
    pages = db.execute_sql("pragma page_count").fetchone()[0]
    before = dump(db)
    close_database()
    monkeypatch.setitem(core_db.SQLITE_PRAGMAS, "max_page_count", pages + 2)
    rc, out, err = run_cli(["import", str(big), "--shop", "主店"], monkeypatch, capsys)
    assert rc == 1 and "Traceback" not in err and err.count("\n") == 1 and "full" in err
    monkeypatch.delitem(core_db.SQLITE_PRAGMAS, "max_page_count")
    db = _home_db()
    assert dump(db) == before
    close_database()


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单号", "商品"])
    ws.append([SN1, "杯"])
    wb.save(buf)
    return buf.getvalue()


def rewrite_sheet(path: Path, edit) -> Path:
    """A copy of a small workbook whose first sheet's XML went through ``edit``."""
    src = zipfile.ZipFile(io.BytesIO(_xlsx_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            out.writestr(info.filename, data)
    return path


def far_cell(data: bytes) -> bytes:
    return data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'
                                         b"</row></sheetData>")


def huge_dimension(data: bytes) -> bytes:
    return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)


def far_cell_spelled_otherwise(data: bytes) -> bytes:
    """XML's other spellings of the attribute: blanks around "=", single quotes."""
    return data.replace(b"</sheetData>", b"<row r = '1048576'>\n<c\tr\n=\t'XFD1048576'><v>1</v></c></row></sheetData>")


def far_cell_after_many_rows(data: bytes) -> bytes:
    """The far cell after megabytes of ordinary rows: it comes in a later chunk of the stream."""
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>' % (i, i, b"x" * 40)
                    for i in range(2, 40_000))
    tail = b'<row r="40000"><c r="A1048576"><v>1</v></c><c r="AD40000"><v>1</v></c></row>'
    return re.sub(rb"<sheetData>.*</sheetData>", lambda m: b"<sheetData>" + rows + tail + b"</sheetData>", data,
                  flags=re.S)


@pytest.mark.parametrize("edit", [far_cell, huge_dimension, far_cell_spelled_otherwise, far_cell_after_many_rows])
def test_a_workbook_claiming_a_huge_sheet_is_refused_before_the_reader(tmp_path, edit):
    p = rewrite_sheet(tmp_path / "h.xlsx", edit)
    assert p.stat().st_size < (400_000 if edit is far_cell_after_many_rows else 8000)
    code = ("import sys\nfrom dadan.core.spreadsheets.reading import open_source\n"
            "from dadan.core.spreadsheets.errors import SpreadsheetError\n"
            "try:\n    s = open_source(sys.argv[1]); s.rows(s.sheet_names[0])\n"
            "except SpreadsheetError as e:\n    print(e.message); sys.exit(3)\n")
    r = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr[-500:]
    assert "cells" in r.stdout


def test_a_zip_bomb_is_refused_from_the_zip_directory(tmp_path):
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<x/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b" " * (1 << 20)
            for _ in range(600):
                fh.write(chunk)
    assert p.stat().st_size < 2 * 2**20
    with pytest.raises(SpreadsheetError) as exc:
        open_source(p)
    assert "unpacks to 600 MB" in exc.value.message


def test_a_zip_member_longer_than_its_directory_says_is_refused(tmp_path):
    p = tmp_path / "liar.xlsx"
    body = b"<worksheet><sheetData>" + b" " * 200_000 + b"</sheetData></worksheet>"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", body)
    raw = bytearray(p.read_bytes())
    size = len(body).to_bytes(4, "little")
    for at in [m.start() for m in re.finditer(re.escape(size), bytes(raw))]:
        raw[at:at + 4] = (100).to_bytes(4, "little")  # the local header and the directory both lie
    p.write_bytes(bytes(raw))
    with pytest.raises(SpreadsheetError):
        open_source(p)


# ------------------------------------------------------------------ 11: terminal injection
def test_visible_marks_controls_and_bidi_overrides():
    assert visible("a\x1b]0;t\x07\x1b[2Jb") == "a␛]0;t␇␛[2Jb"
    assert visible("\x7f\x9b\u202e") == "␡\\x9b<U+202E>"
    assert visible("思明区 ok") == "思明区 ok" and visible(None) == ""


def test_cli_reject_messages_carry_no_escape_sequences(tmp_path, monkeypatch, capsys):
    p = tmp_path / "e.csv"
    p.write_text(csv_text([line(), line(SN2, **{"订单成交时间": "\x1b]0;pwned\x07\x1b[2J"})]), encoding="utf-8")
    rc, out, err = run_cli(["import", str(p), "--dry-run"], monkeypatch, capsys)
    assert rc == 1
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "␛]0;pwned␇␛[2J" in out


def test_the_one_line_error_carries_no_escape_sequences(tmp_path, monkeypatch, capsys):
    p = tmp_path / "\x1b[2Jevil.xlsx"
    rc, out, err = run_cli(["import", str(p)], monkeypatch, capsys)
    assert rc == 1 and "\x1b" not in err and "␛[2Jevil" in err


def test_order_table_cells_show_platform_text_visible():
    import datetime as dt

    from dadan.core.orders.listing import OrderRow
    from dadan.tui.widgets.order_table import RenderContext, _columns

    evil = "\x1b]0;t\x07[b]x"
    row = OrderRow(id=1, order_sn="231114-1234\x1b[2J", state="new", order_status=1, exception_flags=0,
                   province=evil, city="", items_summary=evil, item_count=1, pay_amount_fen=100,
                   pay_time=dt.datetime(2023, 11, 14), last_ship_time=None, logistics_id=None, print_count=0,
                   receiver_name=evil, remark_tag=None, updated_at=None, tracking_number="")
    ctx = RenderContext(now=dt.datetime(2023, 11, 14), tz="Asia/Shanghai", due_soon=dt.timedelta(hours=6),
                        is_selected=lambda _id: False, couriers=None)
    cells = {c.key: c.render(row, ctx) for c in _columns(2) if c.key in ("sn", "region", "receiver", "items")}
    for key, cell in cells.items():
        text = cell.plain
        assert "\x1b" not in text and "␛" in text, key
    assert cells["items"].plain == "␛]0;t␇[b]x"


@pytest.mark.parametrize("cut", ["无售后或售后", "无售后或", "售后", "售后取"])
def test_a_cut_after_sale_text_is_not_read_as_a_refund(tmp_path, shop, cut):
    plan = plan_for(write_xlsx(tmp_path / "r.xlsx", [line(), line(SN2, after=cut)]), shop)
    assert [(r.row, r.column) for r in plan.rejects] == [(3, "售后状态")]
    assert "cut short" in plan.rejects[0].message
