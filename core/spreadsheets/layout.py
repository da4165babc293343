"""A sheet ready to parse: :func:`prepare` opens a file, picks the sheet, finds the header row
and decides which column is which field (:class:`Layout`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from dadan.core.bulk import gc_paused
from dadan.core.i18n import tr
from dadan.core.masking import mask_cell, mask_phones_in
from dadan.core.spreadsheets.errors import NeedsMapping, NeedsSheet, SpreadsheetError
from dadan.core.spreadsheets.fields import (
    FIELD_BY_KEY,
    guess_kind,
    header_signature,
    recognise_headers,
    resolve_mapping,
)
from dadan.core.spreadsheets.reading import Source, cell_text, is_blank, open_source

if TYPE_CHECKING:
    from dadan.core.spreadsheets.mappings import SavedMappings


def find_header(rows: Sequence[Sequence], limit: int = 15) -> tuple[int, dict[str, int]]:
    """The header row among the first ``limit`` rows: the one with most recognised headers
    (a title row above the table is allowed). Falls back to the first non-blank row."""
    best, best_map = -1, {}
    for i, row in enumerate(rows[:limit]):
        found = recognise_headers(row)
        score = len(found) + (3 if "order_sn" in found else 0)
        if found and score > len(best_map) + (3 if "order_sn" in best_map else 0):
            best, best_map = i, found
    if best < 0:
        best = next((i for i, r in enumerate(rows[:limit]) if not is_blank(r)), 0)
    return best, best_map


# header words of columns holding a buyer's name, phone or address (masked in previews)
_PRIVATE_HEADER_WORDS = ("收货人", "收件人", "姓名", "联系", "电话", "手机", "地址", "receiver", "consignee", "recipient",
                         "buyer name", "customer name", "phone", "mobile", "address", "contact")


@dataclass
class Layout:
    """A sheet ready to parse: where the header is and which column is which field."""

    path: Path
    source_kind: str  # xlsx | csv
    sheet: str
    sheets: list[str]
    rows: list[list]  # every raw row of the sheet (header included)
    header_index: int
    headers: list[str]
    mapping: dict[str, int]  # field key -> column index
    kind: str = "orders"  # orders | tracking
    mapping_name: str = ""  # the saved mapping used, if any
    encoding: str = ""
    delimiter: str = ""
    sha256: str = ""  # of the file as read, when known

    @property
    def signature(self) -> str:
        return header_signature(self.headers)

    @property
    def data_rows(self) -> int:
        return max(0, len(self.rows) - self.header_index - 1)

    def preview(self, n: int = 5, *, masked: bool = False) -> list[list[str]]:
        """The first ``n`` data rows as text; ``masked``: buyer names, phones and addresses
        masked (columns mapped or named as such, and any mobile number elsewhere)."""
        start = self.header_index + 1
        rows = [[cell_text(c) for c in r] for r in self.rows[start : start + n]]
        if masked:
            private = self._private_columns()
            rows = [[mask_cell(c) if i in private else mask_phones_in(c) for i, c in enumerate(r)] for r in rows]
        return rows

    def _private_columns(self) -> set[int]:
        cols = {self.mapping[k] for k in ("receiver_name", "receiver_phone", "receiver_address") if k in self.mapping}
        for i, h in enumerate(self.headers):
            if any(w in h.lower() for w in _PRIVATE_HEADER_WORDS):
                cols.add(i)
        return cols

    def missing(self) -> list[str]:
        need = ("order_sn", "tracking_number", "courier") if self.kind == "tracking" else ("order_sn",)
        return [k for k in need if k not in self.mapping]

    def with_mapping(self, mapping: dict[str, int | str], *, kind: str | None = None) -> "Layout":
        """A copy with ``mapping`` ({field: column index or header text}) applied."""
        resolved = resolve_mapping(self.headers, mapping)
        lay = Layout(**{**self.__dict__, "mapping": resolved})
        if kind:
            lay.kind = kind
        return lay


def _pick_sheet(src: Source) -> str:
    if len(src.sheet_names) == 1:
        return src.sheet_names[0]
    with_orders, non_empty = [], []
    for name in src.sheet_names:
        head = src.rows(name, nrows=15)
        if any(not is_blank(r) for r in head):
            non_empty.append(name)
        _, found = find_header(head)
        if "order_sn" in found:
            with_orders.append(name)
    if len(with_orders) == 1:
        return with_orders[0]
    if not with_orders and len(non_empty) == 1:
        return non_empty[0]
    if not non_empty:
        raise SpreadsheetError(tr("every sheet of the workbook is empty", "工作簿的所有工作表都是空的"))
    raise NeedsSheet(tr("the workbook has several sheets ({s}); choose one with --sheet NAME",
                        "工作簿有多个工作表（{s}），请用 --sheet 名称 选择一个", s=", ".join(src.sheet_names)),
                     sheets=list(src.sheet_names))


@gc_paused
def prepare(path: str | Path, *, sheet: str | None = None, mapping: dict | None = None,
            mapping_name: str | None = None, kind: str = "auto", saved: SavedMappings | None = None) -> Layout:
    """Open ``path``, pick the sheet, find the header row and the column mapping.

    Order of precedence for the mapping: ``mapping`` (explicit), ``mapping_name`` (a mapping of
    ``saved``), a mapping of ``saved`` whose header signature matches, then automatic
    recognition. Without ``saved`` no saved mapping is looked up (and ``mapping_name`` names
    none). Raises :class:`NeedsSheet` or :class:`NeedsMapping` when it must ask."""
    src = open_source(path)
    if sheet is not None and sheet not in src.sheet_names:
        raise SpreadsheetError(tr("no sheet named '{s}' (sheets: {all})", "没有名为“{s}”的工作表（现有：{all}）",
                                  s=sheet, all=", ".join(src.sheet_names)))
    name = sheet or _pick_sheet(src)
    rows = src.rows(name)
    if not rows or all(is_blank(r) for r in rows[:50]) and all(is_blank(r) for r in rows):
        raise SpreadsheetError(tr("the sheet '{s}' is empty", "工作表“{s}”是空的", s=name))
    hidx, found = find_header(rows)
    headers = [cell_text(h).lstrip("\ufeff") for h in rows[hidx]]
    lay = Layout(path=Path(path), source_kind=src.kind, sheet=name, sheets=list(src.sheet_names), rows=rows,
                 header_index=hidx, headers=headers, mapping=found, encoding=src.encoding,
                 delimiter=src.delimiter, sha256=src.sha256)
    chosen: dict | None = None
    if mapping:
        chosen = mapping
    elif mapping_name:
        chosen = saved.load(mapping_name) if saved is not None else None
        if chosen is None:
            raise SpreadsheetError(tr("no saved column mapping named '{n}'", "没有名为“{n}”的已保存列映射",
                                      n=mapping_name))
        lay.mapping_name = mapping_name
    elif saved is not None:
        hit = saved.find(headers)
        if hit:
            lay.mapping_name, chosen = hit
    if chosen is not None:
        lay.mapping = resolve_mapping(headers, chosen)
    lay.kind = guess_kind(lay.mapping) if kind == "auto" else kind
    if lay.missing():
        raise NeedsMapping(tr(
            "the columns of '{s}' were not recognised (missing: {m}); map them in the import screen "
            "or pass --mapping NAME",
            "无法识别“{s}”的列（缺少：{m}）；请在导入界面中设置列映射，或使用 --mapping 名称",
            s=name, m=", ".join(FIELD_BY_KEY[k].label() for k in lay.missing())), layout=lay)
    return lay
