"""Painting a page of one-line text cells cheaply.

Textual's DataTable paints each cell by rendering ``Styled(Padding(cell, 0), pre, post)``
through Rich's whole console pipeline (measure, wrap, join, split into lines, crop, pad):
about 0.1 ms a cell, and a new page at 120x40 is some 300 cells, 40-60 ms before the rows
show. :class:`OneLineCells` gives the same segments for a body cell that is a Rich ``Text``
on a row one line high with no cell padding (every order table cell) by calling only the
steps that matter for one line: the text's own wrap (it crops and justifies), its render, the
pad, and the same style layers in the same order. Anything else (the header, a row
label, a fixed row or column, a taller row, a cell that is not a ``Text``) goes the long way.

A body row under a row cursor is painted whole the same way (:meth:`OneLineCells._render_line_in_row`):
the cursor and hover styles are read once for the row instead of once a cell, and the row's
cells are kept together (a cursor move repaints two rows from this cache, as DataTable's own
cell cache does). tests/test_tui_table_cells.py compares both ways cell by cell and row by
row, cursor row included."""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.widgets import DataTable

_NULL = Style.null()
_JOIN = Text("\n")


def one_line(console, justify: str | None, overflow: str | None, cell: Text, width: int, pre: Style,
             post: Style) -> list[Segment]:
    """What ``console.render_lines(Styled(Padding(cell, (0, 0)), pre, post), options)[0]`` gives
    for ``options`` one line of ``width`` cells with ``no_wrap`` set (``justify`` and
    ``overflow``: the options' own)."""
    plain = cell.plain
    if (not cell.style and not (cell.justify or justify) and "\n" not in plain and "\t" not in plain
            and cell_len(plain) <= width):
        # nothing to wrap, justify or crop, and no base style for the join to turn into a span:
        # the text renders as it is (the common cell: a leading space and the value)
        inner = list(cell.render(console))
    else:
        lines = cell.wrap(
            console, width,
            justify=cell.justify or justify or "default",
            overflow=cell.overflow or overflow or "fold",
            tab_size=(console.tab_size if cell.tab_size is None else cell.tab_size) or 8,
            no_wrap=True if cell.no_wrap is None else cell.no_wrap,
        )
        # a one-line row shows the first line only; the join makes the line's own style a span
        inner = list(_JOIN.join(lines[:1]).render(console))
    inner = Segment.adjust_line_length(inner, width, style=_NULL)  # Padding's own pad ("none")
    return Segment.adjust_line_length(list(Segment.apply_style(inner, pre, post)), width)


_META: dict[tuple[int, int], Style] = {}


def _cell_meta(row: int, column: int) -> Style:
    """``Style.from_meta({"row": row, "column": column})``, made once for each place (a mouse
    click reads it; the styles it is added to are the same page after page)."""
    style = _META.get((row, column))
    if style is None:
        if len(_META) > 20_000:
            _META.clear()
        style = _META[row, column] = Style.from_meta({"row": row, "column": column})
    return style


class Paint(NamedTuple):
    """What every cell of one paint shares (read once per paint)."""

    unpadded: bool  # no cell padding: the only kind the short way paints
    fixed_rows: int
    fixed_columns: int
    show_cursor: bool
    css_foreground: bool  # the cursor's colours by CSS priority
    css_background: bool
    console: object
    justify: str | None
    overflow: str | None
    widths: tuple[int, ...]  # each column's render width
    width: int  # the widget's


class OneLineCells(DataTable):
    """A DataTable whose one-line ``Text`` body cells are painted without the Rich pipeline
    (same segments, same cache as DataTable's own ``_render_cell``)."""

    _paint: Paint | None = None  # set during a paint; outside one a cell is painted the long way
    _row_cells: LRUCache | None = None  # a body row's painted cells, by what they depend on

    def render_lines(self, crop):
        self._paint = self.paint_state()
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def paint_state(self) -> Paint:
        options = self.app.console_options
        return Paint(not self.cell_padding, self.fixed_rows, self.fixed_columns, self.show_cursor,
                     self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
                     self.app.console, options.justify, options.overflow,
                     tuple(c.get_render_width(self) for c in self.ordered_columns), self.size.width)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        if self._row_cells is not None:
            self._row_cells.clear()

    def _styles(self, paint: Paint, cursor: bool, hover: bool, *, css: bool = True) -> tuple[Style, Style]:
        """A body cell's component style and post style (DataTable's own, cached there)."""
        return self._get_styles_to_render_cell(
            False, False, False, hover, cursor, paint.show_cursor, self._show_hover_cursor,
            css and paint.css_foreground, css and paint.css_background,
        )

    @staticmethod
    def _paint_cell(paint: Paint, cell: Text, row_index: int, column_index: int, width: int, base_style: Style,
                    styles: tuple[Style, Style]) -> list[Segment]:
        """One body cell's line, as DataTable's ``_render_cell`` paints it."""
        component_style, post_style = styles
        return one_line(paint.console, paint.justify, paint.overflow, cell, width,
                        base_style + _cell_meta(row_index, column_index) + component_style, post_style)

    def _render_line_in_row(self, row_key, line_no, base_style, cursor_location, hover_location):
        """A body row of one line under a row cursor, with no row labels, fixed columns or
        zebra stripes (the order table): the same pair of (fixed, scrollable) cell lines as
        DataTable's, cached under the same key. Anything else goes the long way."""
        paint = self._paint
        if (paint is None or not paint.unpadded or paint.fixed_columns or line_no or self.cursor_type != "row"
                or self.zebra_stripes or (self._labelled_row_exists and self.show_row_labels)):
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        cache_key = (row_key, line_no, base_style, cursor_location, hover_location, "row", paint.show_cursor,
                     self._show_hover_cursor, self._update_count, self._pseudo_class_state)
        cached = self._row_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row_index = self._row_locations.get(row_key)
        row = self.rows.get(row_key)
        if row_index is None or row_index < max(0, paint.fixed_rows) or row is None or row.height != 1:
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        key = (row_key, row_index, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
               self._pseudo_class_state, paint.widths, paint.width)
        if self._row_cells is None:
            self._row_cells = LRUCache(1000)
        scrollable = self._row_cells.get(key)
        if scrollable is None:
            scrollable = self._paint_row(row_index, base_style, cursor, hover, paint)
            if scrollable is None:
                return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
            self._row_cells[key] = scrollable
        pair = ([], scrollable)
        self._row_render_cache[cache_key] = pair
        return pair

    def _paint_row(self, row_index: int, row_style: Style, cursor: bool, hover: bool, paint: Paint):
        """The row's cells and the space after them, as ``_render_line_in_row`` gives them, or
        None when a cell is not one-line ``Text``."""
        cells = self._get_row_renderables(row_index).cells
        widths = paint.widths
        if len(cells) < len(widths) or not all(isinstance(c, Text) for c in cells[: len(widths)]):
            return None
        styles = self._styles(paint, cursor, hover)
        out = [self._paint_cell(paint, cell, row_index, column_index, width, row_style, styles)
               for column_index, (cell, width) in enumerate(zip(cells, widths))]
        # the rest of the line, as DataTable extends a row under a row cursor
        extend_style, _ = self._styles(paint, cursor, hover, css=False)
        extend_style = row_style + extend_style + Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        remaining = max(0, paint.width - sum(widths) - self._row_label_column_width)
        out.append([Segment(" " * remaining, extend_style)])
        return out

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False):
        paint = self._paint
        if (paint is None or not paint.unpadded or row_index < max(0, paint.fixed_rows)
                or column_index < max(0, paint.fixed_columns)):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
               self._pseudo_class_state)
        cache = self._cell_render_cache
        if key in cache:
            return cache[key]
        row = self.rows.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        cell = cells[column_index] if column_index < len(cells) else None
        if row is None or row.height != 1 or not isinstance(cell, Text):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        lines = [self._paint_cell(paint, cell, row_index, column_index, width, base_style,
                                  self._styles(paint, cursor, hover))]
        cache[key] = lines
        return lines
