"""Export from the order screen: ``e``, choose what and the format, Enter. The files are real
(read back with openpyxl / csv / json) and hold exactly the orders of the current filter or the
selection; a folder that cannot be written is an error notification; Esc writes nothing; the
database is never changed."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from dadan.core.db import write
from dadan.core.models import AuditEvent, Order
from dadan.core.orders.query import compile_query
from dadan.tui.screens.export_dialog import ExportDialog
from dadan.tui.screens.orders import OrdersScreen
from tests.desk_helpers import (  # noqa: F401
    NOW,
    anyio_backend,
    blocked_order,
    make_ctx,
    printable_order,
    wait_idle,
)

pytestmark = pytest.mark.anyio

STAMP = "20261120-1200"  # NOW (04:00 UTC) in Shanghai


def _app(ctx):
    from dadan.tui.app import DadanApp

    app = DadanApp(ctx, now=NOW)
    app.bell = lambda: None
    return app


async def _settle(pilot, rounds: int = 4):
    await wait_idle(pilot, rounds)


def _notes(app, severity: str | None = None) -> list[str]:
    return [n.message for n in app._notifications if severity is None or n.severity == severity]


def _fingerprint() -> list[tuple]:
    """Everything an export could touch by mistake."""
    orders = list(Order.select(Order.id, Order.state, Order.print_count, Order.updated_at, Order.tracking_number,
                               Order.exception_flags).order_by(Order.id).tuples())
    return orders + [("audit", AuditEvent.select().count())]


def _sheet(path) -> list[list]:
    wb = load_workbook(path, read_only=True)
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    return rows


def _column(rows: list[list], header: str) -> list:
    i = rows[0].index(header)
    return [r[i] for r in rows[1:]]


def _sns(ids) -> set[str]:
    return {o.order_sn for o in Order.select(Order.order_sn).where(Order.id.in_(list(ids)))}


async def _open_dialog(pilot) -> ExportDialog:
    await pilot.press("e")
    await _settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


async def test_export_the_current_filter_to_xlsx(tmp_path):
    ctx = make_ctx(tmp_path, 200)
    query = "province:广东"
    want = {o.order_sn for o in Order.select().where(compile_query(query, now=NOW, tz=ctx.settings.timezone))}
    assert 0 < len(want) < Order.select().count()
    exports = ctx.paths.exports_dir
    assert not exports.exists()  # made by the first export
    before = _fingerprint()
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        home = app.screen
        home.set_filter(query)
        await _settle(pilot)
        dialog = await _open_dialog(pilot)
        scope = str(dialog.query_one("#ex-scope").render())
        assert f"{len(want)} orders of the current filter: {query}" in scope
        await pilot.press("c", "x")  # csv, then back to xlsx
        assert dialog.fmt == "xlsx"
        target = exports / f"orders_{STAMP}.xlsx"
        assert dialog.query_one("#ex-path").value == str(target)
        await pilot.press("enter")
        await _settle(pilot)
        assert app.screen is home
        rows = _sheet(target)
        assert set(_column(rows, "订单号")) == want
        lines = sum(o.items.count() for o in Order.select().where(Order.order_sn.in_(list(want))))
        assert len(rows) - 1 == lines  # one row per order line
        assert f"{lines:,} rows ({len(want):,} orders) written to {target}" in _notes(app, "information")[-1]
        assert f"Writing {target}…" in _notes(app, "information")[-2]  # (said when it began)
        assert not _notes(app, "error")
    assert _fingerprint() == before
    assert sorted(p.name for p in exports.iterdir()) == [target.name]  # no temporary file left


async def test_export_only_the_selected_orders(tmp_path):
    ctx = make_ctx(tmp_path, 200)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        home = app.screen
        await pilot.press("space", "down", "space", "space")  # rows 0, 2 and 3 (space moves down)
        picked = set(home.selection.ids)
        assert len(picked) == 3
        dialog = await _open_dialog(pilot)
        assert "3 selected orders" in str(dialog.query_one("#ex-scope").render())
        await pilot.press("enter")
        await _settle(pilot)
        rows = _sheet(ctx.paths.exports_dir / f"orders_{STAMP}.xlsx")
        assert set(_column(rows, "订单号")) == _sns(picked)
        assert home.selection.ids == picked  # the selection stays for the next step


async def test_export_all_matching_but_the_unticked_as_jsonl(tmp_path):
    ctx = make_ctx(tmp_path, 200)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        home = app.screen
        where = compile_query(home.current_query, now=NOW, tz=ctx.settings.timezone)
        await pilot.press("a")  # every order of the view...
        unticked = home.current_order().id
        await pilot.press("space")  # ...but this one
        dialog = await _open_dialog(pilot)
        # a name without a folder goes to the exports folder; its extension picks the format
        await pilot.press("tab", "tab")
        assert dialog.query_one("#ex-path").has_focus
        await pilot.press("ctrl+u", *"selection.jsonl")
        assert dialog.fmt == "jsonl"
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, OrdersScreen)
        out = ctx.paths.exports_dir / "selection.jsonl"
        got = {json.loads(line)["order_sn"] for line in out.read_text(encoding="utf-8").splitlines()}
        want = {o.order_sn for o in Order.select().where(where, Order.id != unticked)}
        assert got == want and len(want) > 100


async def test_ship_file_has_the_merchant_backend_header(tmp_path):
    from dadan.core.spreadsheets import export as E

    ctx = make_ctx(tmp_path, 200)
    order = printable_order()
    other = blocked_order()
    with write():  # marked shipped in dadan, confirmation not taken by the platform yet
        Order.update(state="shipped", tracking_number="ZT7770000001", logistics_id=115).where(
            Order.id == order.id).execute()
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        app.screen.set_filter(f"sn:{order.order_sn},{other.order_sn}")
        await _settle(pilot)
        dialog = await _open_dialog(pilot)
        assert "2 orders of the current filter" in str(dialog.query_one("#ex-scope").render())
        await pilot.press("s")
        assert dialog.kind == "ship"
        target = ctx.paths.exports_dir / f"ship_{STAMP}.xlsx"
        assert dialog.query_one("#ex-path").value == str(target)
        await pilot.press("enter")
        await _settle(pilot)
        rows = _sheet(target)
        assert rows[0] == ["订单号", "快递公司", "快递单号"]
        assert rows[1:] == [[order.order_sn, "中通快递", "ZT7770000001"]]  # not the blocked one
        note = _notes(app, "information")[-1]
        assert f"1 rows (1 orders) written to {target}" in note
        assert E.left_out_message("ship", 1) in note  # the blocked order, counted


async def test_a_folder_that_cannot_be_written_is_an_error_notification(tmp_path):
    from dadan.tui.widgets.error_modal import ErrorModal

    ctx = make_ctx(tmp_path, 50)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file")
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        home = app.screen
        dialog = await _open_dialog(pilot)
        await pilot.press("tab", "tab", "ctrl+u")
        dialog.query_one("#ex-path").insert_text_at_cursor(str(blocker / "out.xlsx"))  # (pasted: ~80 keys)
        assert dialog.query_one("#ex-path").value == str(blocker / "out.xlsx")
        await pilot.press("enter")
        await _settle(pilot)
        assert app.screen is home and not isinstance(app.screen, ErrorModal)
        (error,) = _notes(app, "error")
        assert str(blocker) in error and "Traceback" not in error
        assert blocker.read_text() == "a regular file"
        # the desk goes on: the next export works
        dialog = await _open_dialog(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        assert (ctx.paths.exports_dir / f"orders_{STAMP}.xlsx").is_file()
        assert "written to" in _notes(app, "information")[-1]


async def test_escape_cancels_and_writes_nothing(tmp_path):
    ctx = make_ctx(tmp_path, 50)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        home = app.screen
        await _open_dialog(pilot)
        await pilot.press("d", "j", "escape")
        await _settle(pilot)
        assert app.screen is home
        assert not _notes(app)
    assert not ctx.paths.exports_dir.exists()


async def test_the_export_binding_is_listed_in_help_and_palette(tmp_path):
    from dadan.tui.app import ScreenActions
    from dadan.tui.screens.help import binding_lines

    ctx = make_ctx(tmp_path, 20)
    app = _app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        labels = [label for label, _run, _help in ScreenActions(app.screen)._commands()]
        assert "Export  (e)" in labels
        assert any(line.strip().startswith("e ") and "Export" in line for line in binding_lines(app))
