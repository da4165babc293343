"""The order table paints its cells the short way (tui/widgets/table_cells.py) and gets, cell
by cell and row by row, the very segments Textual's DataTable would: every visible cell of a
page, the cursor row, a hovered row, selected rows, flagged and cancelled orders, CJK text cut
at a column's edge, at 120x40, at 80x24 and under NO_COLOR. A new page is put on the terminal
at once, not at the screen's next frame (OrderList._paint_now)."""

from __future__ import annotations

import shutil

import pytest
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tests.test_tui_orders import make_app, make_ctx, orders_screen, settle, small_db_template  # noqa: F401

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _compare_page(table) -> int:
    """Every visible body cell, painted both ways (cursor and hover on and off): equal."""
    compared = 0
    base = table.rich_style
    for row_index in range(min(table.row_count, table.size.height)):
        for column_index, column in enumerate(table.ordered_columns):
            width = column.get_render_width(table)
            for cursor, hover in ((False, False), (True, False), (False, True), (True, True)):
                table._cell_render_cache.clear()
                table._paint = table.paint_state()  # as in a paint: the short way
                try:
                    fast = table._render_cell(row_index, column_index, base, width, cursor, hover)
                finally:
                    table._paint = None
                table._cell_render_cache.clear()
                slow = DataTable._render_cell(table, row_index, column_index, base, width, cursor, hover)
                assert fast == slow, (row_index, column.key, cursor, hover, fast, slow)
                compared += 1
    return compared


def _compare_rows(table) -> int:
    """Every visible body row painted whole both ways, under the cursor, hovered, or neither:
    equal, with the same mouse meta on every segment."""
    compared = 0
    base = table.rich_style
    for row_index in range(min(table.row_count, table.size.height)):
        row_key = table._row_locations.get_key(row_index)
        other = (row_index + 1) % max(1, table.row_count)
        for cursor_row, hover_row in ((row_index, other), (other, row_index), (other, other), (row_index, row_index)):
            cursor, hover = Coordinate(cursor_row, 0), Coordinate(hover_row, 0)
            table._clear_caches()
            table._paint = table.paint_state()
            try:
                fast = table._render_line_in_row(row_key, 0, base, cursor, hover)
                assert len(table._row_cells) == 1  # painted the short way, not handed to DataTable
            finally:
                table._paint = None
            table._clear_caches()
            slow = DataTable._render_line_in_row(table, row_key, 0, base, cursor, hover)
            assert fast == slow, (row_index, cursor_row, hover_row)
            assert [[s.style._meta for s in cell] for cell in fast[1]] == [[s.style._meta for s in cell] for cell in slow[1]]
            compared += 1
    return compared


@pytest.mark.parametrize("size,no_color", [((120, 40), False), ((80, 24), False), ((120, 40), True)])
async def test_short_way_paints_the_same_segments(tmp_path, small_db_template, monkeypatch, size, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    db = tmp_path / "orders.db"
    shutil.copy(small_db_template, db)
    app = make_app(make_ctx(tmp_path, db))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        for query in ("", "exception:any", "status:cancelled", "province:浙江"):
            screen.set_filter(query)
            await settle(pilot)
            table = screen.table
            table.toggle_select()  # a selected row's mark
            table.move_cursor(row=min(2, max(0, table.row_count - 1)))
            table.hover_coordinate = Coordinate(min(1, max(0, table.row_count - 1)), 0)
            await settle(pilot)
            assert _compare_page(table) > 0 or table.row_count == 0
            assert _compare_rows(table) > 0 or table.row_count == 0


async def test_a_new_page_is_painted_before_the_screen_s_next_frame(tmp_path, small_db_template):
    db = tmp_path / "orders.db"
    shutil.copy(small_db_template, db)
    app = make_app(make_ctx(tmp_path, db))
    frames: list[int] = []
    display = app._display

    def counting(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            frames.append(1)

    app._display = counting
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = orders_screen(app)
        table = screen.table
        painted_inside: list[bool] = []
        apply = table._apply_page

        def watched(res, anchor, cursor):
            before, keys = len(frames), list(table._keys)
            apply(res, anchor, cursor)
            if table._keys != keys:  # new rows (an answer that changes nothing has nothing to paint)
                # a frame went out, and the table's repaint went with it (nothing of it left for the next)
                painted_inside.append(len(frames) > before and not table._repaint_required
                                      and table not in screen._dirty_widgets)

        table._apply_page = watched
        screen.set_filter("status:pending")
        await settle(pilot)
        assert painted_inside and all(painted_inside)
        assert screen.current_query == "status:pending" and table.row_count > 0
