"""Data rows -> validated values, a column at a time (:func:`parse_rows`); a row with a bad cell
becomes a :class:`RejectedRow` naming that cell."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Callable, Sequence

from dadan.core.i18n import tr
from dadan.core.orders.couriers import CATALOGUE, CourierBook
from dadan.core.spreadsheets.cells import (
    TOTAL_ROW,
    clean_text,
    is_total_row,
    parse_code,
    parse_count,
    parse_money,
    parse_order_sn,
    parse_order_status,
    parse_refund_status,
    time_parser,
)
from dadan.core.spreadsheets.errors import CellError, SpreadsheetError
from dadan.core.spreadsheets.fields import ORDER_MONEY_FIELDS, TIME_FIELDS
from dadan.core.spreadsheets.layout import Layout
from dadan.core.spreadsheets.reading import cell_text, is_blank

Progress = Callable[[str, int, int], None]  # (phase, done, total); phases: read, check, write


@dataclass
class RejectedRow:
    row: int  # 1-based row number in the sheet
    cells: list[str]
    column: str  # header of the offending column ("" when not one column)
    message: str
    order_sn: str = ""  # when the order number itself was readable

    def text(self) -> str:
        where = tr("row {r}", "第 {r} 行", r=self.row)
        if self.column:
            where += tr(", column {c}", "，{c} 列", c=self.column)
        return f"{where}: {self.message}"


def _converters(layout: Layout, couriers: CourierBook | None, tz: str) -> list[tuple[str, int, Callable]]:
    conv: dict[str, Callable] = {"order_sn": parse_order_sn, "order_status": parse_order_status,
                                 "after_sale": parse_refund_status, "goods_count": parse_count,
                                 "tracking_number": lambda v: parse_code(v, "tracking number", "快递单号"),
                                 "goods_id": lambda v: parse_code(v, "goods id", "商品id"),
                                 "sku_id": lambda v: parse_code(v, "SKU id", "样式ID"),
                                 "outer_id": parse_code, "outer_goods_id": parse_code,
                                 "goods_price": parse_money}
    for k in ORDER_MONEY_FIELDS:
        conv[k] = (lambda v: parse_money(v, allow_negative=True)) if k.startswith("discount") else parse_money
    times = time_parser(tz)
    for k in TIME_FIELDS:
        conv[k] = times
    if couriers is not None:
        def courier(v):
            s = cell_text(v)
            if not s:
                return None
            cid = couriers.lookup_id(s)
            if cid is None:
                raise CellError(tr("unknown courier '{v}'", "未知快递公司“{v}”", v=s))
            return cid
        conv["courier"] = courier
    out = []
    for key, col in layout.mapping.items():
        out.append((key, col, conv.get(key, clean_text)))
    out.sort(key=lambda t: t[0] != "order_sn")  # order number first
    return out


def row_cells(row: Sequence, width: int) -> list[str]:
    """A raw row as text, at least ``width`` cells (a reject's copy of the row)."""
    return [cell_text(c) for c in list(row)[:max(width, len(row))]]


def _parse_line(row: Sequence, i: int, convs, headers: Sequence[str], sn_col: int) -> dict | RejectedRow:
    """One data row, cell by cell: its parsed values, or the reject naming the first bad cell."""
    n = len(row)
    line: dict = {"_row": i + 1}
    try:
        for key, col, fn in convs:
            v = row[col] if col < n else None
            if v is None or v == "":
                if key == "order_sn":
                    raise CellError(tr("the order number is empty", "订单号为空"))
                continue
            try:
                pv = fn(v)
            except CellError:
                line["_col"] = headers[col] if col < len(headers) else str(col + 1)
                raise
            except Exception:  # noqa: BLE001 - a parser bug must not stop the import
                line["_col"] = headers[col] if col < len(headers) else str(col + 1)
                raise CellError(tr("unreadable value '{v}'", "无法读取的值“{v}”", v=cell_text(v))) from None
            if pv is not None and pv != "":
                line[key] = pv
    except CellError as exc:
        col_name = line.get("_col", headers[sn_col] if sn_col < len(headers) else "")
        return RejectedRow(i + 1, row_cells(row, len(headers)), col_name, str(exc), line.get("order_sn", ""))
    return line


_FOOTER_CELLS = 2  # a trailing row without an order number and at most this many cells is a note, not data
_SN_START = frozenset("0123456789\t")  # an order-number cell starting so is no blank or total row
_TEXT_TYPES = {str, type(None)}
_NUMBER_TYPES = {bool, int, float}  # equal across types (1 == 1.0 == True)


class _Bad:
    """A cell value that failed to parse (the row is then parsed again cell by cell)."""


_BAD = _Bad()


def _cell_key(v):
    """A cell as a key: 1, 1.0 and True are equal as dict keys but are different cells."""
    return v if type(v) in _TEXT_TYPES else (type(v), v)


def _parse_column(values: Sequence, fn: Callable, required: bool, text_only: bool = False) -> tuple[list, bool]:
    """Parse one column: each distinct value once (exports repeat the same amounts, times,
    statuses and codes on thousands of rows). Returns (parsed values, any bad). Empty cells
    parse to None; a bad cell to ``_BAD``. ``text_only``: every cell is known to be str or
    None (a CSV file).

    A column whose values nearly all differ (order numbers, times, phones) is parsed value by
    value instead: sharing would only cost there. A bad cell sends it the shared way, which
    marks the bad ones."""
    sample = values[:256]
    try:
        mostly_distinct = len(sample) >= 64 and len(set(map(_cell_key, sample))) * 4 > len(sample) * 3
    except TypeError:  # an unhashable cell
        mostly_distinct = False
    if mostly_distinct:
        try:
            if fn is clean_text:
                out = [_text(v) if type(v) is str else None if v is None else (clean_text(v) or None) for v in values]
            else:
                out = [None if v is None or v == "" or (r := fn(v)) == "" else r for v in values]
        except Exception:  # noqa: BLE001 - a bad cell: the shared way marks it
            pass
        else:
            if not (required and None in out):
                return out, False
    keys, pairs = _distinct(values, text_only)
    results: dict = {}
    bad = False
    if fn is clean_text and not required:  # plain text, the commonest column: inline
        for k, v in pairs:
            results[k] = _text(v) if type(v) is str else (clean_text(v) or None) if v is not None else None
        return list(map(results.__getitem__, keys)), False
    for k, v in pairs:
        if v is None or v == "":
            r = _BAD if required else None
        else:
            try:
                r = fn(v)
            except Exception:  # noqa: BLE001 - CellError or a parser bug: the slow path reports it
                r = _BAD
            if r == "":
                r = None
        if r is _BAD:
            bad = True
        results[k] = r
    return list(map(results.__getitem__, keys)), bad


def _text(v: str) -> str | None:
    """A text cell as :func:`clean_text` reads it, None when empty (without its guard, the
    strip is all most cells need)."""
    s = v.strip()
    if s[:1] in ("=", "'"):
        s = clean_text(v)
    return s or None


def _distinct(values: Sequence, text_only: bool) -> tuple[Sequence, list[tuple]]:
    """A column's cells as keys (one a cell) and its distinct (key, cell) pairs. A cell is its own
    key unless the column holds two kinds of number (1, 1.0 and True are equal keys but
    different cells); an unhashable cell makes every cell its own position."""
    try:
        distinct = dict.fromkeys(values)
    except TypeError:  # an unhashable cell: no sharing
        return range(len(values)), list(enumerate(values))
    if not text_only and not _NUMBER_TYPES.isdisjoint(map(type, distinct)) and len(
            _NUMBER_TYPES.intersection(map(type, values))) > 1:
        keys = list(map(_cell_key, values))
        return keys, list(dict(zip(keys, values)).items())
    return values, [(v, v) for v in distinct]


def _refuse_short_rows(rows: Sequence[Sequence], start: int, end: int, headers: Sequence[str]) -> None:
    """A text file's data row with fewer cells than the header was cut short (a truncated or
    damaged file): the whole file is refused, naming the row and the first missing column."""
    named = max((i + 1 for i, h in enumerate(headers) if h), default=0)
    for i in range(start, end):
        r = rows[i]
        if len(r) < named and not is_blank(r) and not is_total_row(r):
            raise SpreadsheetError(tr(
                "row {r} has {n} cells but the header has {h}, column {c} is missing: the file is cut short "
                "or damaged; export it again",
                "第 {r} 行只有 {n} 个单元格，表头有 {h} 个，缺少“{c}”列：文件不完整或已损坏；请重新导出",
                r=i + 1, n=len(r), h=named, c=headers[len(r)] or str(len(r) + 1)))


@dataclass
class ParsedRows:
    """Validated data rows, a column at a time: ``cols[key][j]`` is the parsed value of field
    ``key`` in the j-th kept row (None where the cell is empty), ``rows[j]`` that row's number
    in the sheet. Rejected rows are not in it."""

    cols: dict[str, list]
    rows: list[int]

    def lines(self, idx: Sequence[int]) -> dict[int, dict]:
        """These rows, each as a dict of its parsed values (None where empty), by position."""
        keys = list(self.cols)
        picked = [[c[j] for j in idx] for c in self.cols.values()]
        return dict(zip(idx, (dict(zip(keys, t)) for t in zip(*picked))))


def parse_rows(layout: Layout, *, tz: str = "Asia/Shanghai", progress: Progress | None = None,
               couriers: CourierBook | None = None,
               strict_courier: bool = False) -> tuple[ParsedRows, list[RejectedRow], int, int]:
    """Validate every data row -> (parsed rows, rejects, rows_total, skipped).

    A courier column is read with ``couriers`` (default: the courier catalogue
    only); ``strict_courier``: an unknown courier rejects its row.

    Cells are parsed a column at a time, each distinct value once; a row with a bad cell is
    parsed again cell by cell so that its reject names the first bad cell."""
    if "courier" not in layout.mapping:
        couriers = None
    elif couriers is None:
        couriers = CATALOGUE
    convs = _converters(layout, couriers, tz)
    if couriers is not None and not strict_courier:
        convs = [(k, c, (lambda v, _b=couriers: _b.lookup_id(cell_text(v))) if k == "courier" else f) for k, c, f in convs]
    headers = layout.headers
    sn_col = layout.mapping.get("order_sn")
    rows = layout.rows
    start = layout.header_index + 1
    # trailing rows without an order number (blank, totals, "exported at ..." notes, also in the
    # order number's column) are footer; one that carries an order's data (goods, receiver) is a
    # row whose order number is missing, rejected as such, not dropped unseen; a short row with an
    # order number is data (a file cut short: refused below)
    end = len(rows)
    while end > start:
        r = rows[end - 1]
        if is_total_row(r):
            end -= 1
            continue
        if sum(1 for v in r if cell_text(v)) > _FOOTER_CELLS:
            break
        sn = cell_text(r[sn_col]) if sn_col is not None and sn_col < len(r) else ""
        if sn and (sn[:1] in _SN_START or type(r[sn_col]) is not str):  # an order number, even on a short row
            break
        end -= 1
    skipped = len(rows) - end
    total = end - start
    if progress:
        progress("check", 0, total)

    if layout.source_kind == "csv":
        _refuse_short_rows(rows, start, end, headers)
    width = max([col for _k, col, _f in convs] + [sn_col]) + 1
    block = rows[start:end]
    if block and min(map(len, block)) < width:
        block = [r if len(r) >= width else list(r) + [None] * (width - len(r)) for r in block]
    needed = sorted({col for _k, col, _f in convs} | {sn_col})

    def transpose(rows_: list) -> dict[int, tuple]:
        """The needed columns of ``rows_`` (only those: a sheet may be wide)."""
        if not rows_:
            return {c: () for c in needed}
        if len(needed) == 1:
            return {needed[0]: tuple(r[needed[0]] for r in rows_)}
        if 2 * len(needed) >= max(map(len, rows_)):  # most columns: one pass over every row
            every = list(zip(*rows_))  # as wide as the shortest row, which reaches every needed one
            return {c: every[c] for c in needed}
        return dict(zip(needed, zip(*map(operator.itemgetter(*needed), rows_))))

    by_col = transpose(block)

    # blank rows and total rows in the middle are skipped; a row whose order number cell starts
    # with a digit (or Excel's tab) is neither
    kept = list(range(len(block)))
    sn_vals = by_col[sn_col]
    suspects = [j for j, v in enumerate(sn_vals) if not (type(v) is str and v[:1] in _SN_START)]
    if suspects:
        drop = set()
        for j in suspects:
            sn_cell, row = sn_vals[j], block[j]
            if sn_cell is None or sn_cell == "" or isinstance(sn_cell, str) and not sn_cell.strip():
                if is_blank(row) or is_total_row(row):
                    drop.add(j)
            elif isinstance(sn_cell, str) and TOTAL_ROW.match(sn_cell.strip()):
                drop.add(j)
        if drop:
            skipped += len(drop)
            kept = [j for j in kept if j not in drop]
            block = [block[j] for j in kept]
            by_col = transpose(block)

    columns: list[list] = []
    any_bad = False
    text_only = layout.source_kind == "csv"  # the csv module reads text only (short rows padded with None)
    for n_done, (key, col, fn) in enumerate(convs):
        parsed, bad = _parse_column(by_col[col], fn, key == "order_sn", text_only)
        columns.append(parsed)
        any_bad = any_bad or bad
        if progress:
            progress("check", total * (n_done + 1) // (len(convs) + 1), total)

    keys = [k for k, _c, _f in convs]
    row_numbers = [start + j + 1 for j in kept]
    rejects: list[RejectedRow] = []
    if any_bad:
        bad = sorted({j for col in columns if _BAD in col for j, v in enumerate(col) if v is _BAD})
        drop = set()
        for j in bad:
            i = row_numbers[j] - 1
            got = _parse_line(rows[i], i, convs, headers, sn_col)
            if isinstance(got, RejectedRow):
                rejects.append(got)
                drop.add(j)
            else:  # accepted cell by cell after all: its values as parsed so
                for key, col in zip(keys, columns):
                    col[j] = got.get(key)
        if drop:
            keep = [j for j in range(len(row_numbers)) if j not in drop]
            columns = [[col[j] for j in keep] for col in columns]
            row_numbers = [row_numbers[j] for j in keep]
    if progress:
        progress("check", total, total)
    return ParsedRows(dict(zip(keys, columns)), row_numbers), rejects, total - (skipped - (len(rows) - end)), skipped
