"""The columns of a goods file (the catalogue's import and export, and a receive file): their
Chinese headers as a merchant writes them, the English and other names accepted, and a sheet
read into its header and data rows (:func:`read_table`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from dadan.core.i18n import tr
from dadan.core.spreadsheets.cells import is_total_row
from dadan.core.spreadsheets.errors import SpreadsheetError
from dadan.core.spreadsheets.fields import normalize_header
from dadan.core.spreadsheets.reading import cell_text, is_blank, open_source


@dataclass(frozen=True)
class Column:
    key: str
    zh: str  # the header an export writes
    aliases: tuple[str, ...]


COLUMNS: tuple[Column, ...] = (
    Column("code", "商家编码", ("商家编码", "商家编码-规格维度", "sku编码", "规格编码", "编码", "code", "merchant code",
                             "sku code", "outer_id", "sku")),
    Column("name", "商品名称", ("商品名称", "商品", "名称", "品名", "name", "goods name", "goods", "product")),
    Column("spec", "规格", ("规格", "商品规格", "规格名称", "spec", "specification", "variant")),
    Column("barcodes", "条码", ("条码", "条形码", "商品条码", "barcode", "barcodes", "ean")),
    Column("bin", "库位", ("库位", "货位", "仓位", "bin", "location", "bin location")),
    Column("weight_g", "重量(克)", ("重量(克)", "重量(g)", "重量", "weight(g)", "weight", "weight_g", "grams")),
    Column("on_hand", "库存", ("库存", "现有库存", "库存数量", "实际库存", "on hand", "on_hand", "stock")),
    Column("safety_stock", "安全库存", ("安全库存", "库存预警", "safety stock", "safety_stock")),
    Column("managed", "同步平台库存", ("同步平台库存", "同步库存", "managed", "sync stock", "push stock")),
    Column("platform_goods_id", "商品ID", ("商品id", "平台商品id", "goods_id", "goods id", "platform goods id")),
    Column("platform_sku_id", "SKU ID", ("skuid", "sku id", "sku_id", "样式id", "规格id", "platform sku id")),
    Column("reserved", "占用", ("占用", "已占用", "reserved")),  # export only: read-only
    Column("available", "可用", ("可用", "可用库存", "available")),  # export only: read-only
    Column("qty", "数量", ("数量", "入库数量", "收货数量", "qty", "quantity", "count")),  # a receive file
    Column("reason", "备注", ("备注", "原因", "reason", "note", "remark")),  # a receive file
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
GOODS_KEYS = ("code", "name", "spec", "barcodes", "bin", "weight_g", "on_hand", "safety_stock", "managed",
              "platform_goods_id", "platform_sku_id")
_ALIASES = {normalize_header(a): c.key for c in COLUMNS for a in (c.key, *c.aliases)}


def header_label(key: str) -> str:
    return COLUMN_BY_KEY[key].zh


def recognise(headers: Sequence) -> dict[str, int]:
    """Header cells -> {column key: index} for the headers known here (first wins)."""
    out: dict[str, int] = {}
    for i, h in enumerate(headers):
        key = _ALIASES.get(normalize_header(h))
        if key and key not in out:
            out[key] = i
    return out


@dataclass
class Table:
    """A goods file's sheet: its headers, which column is which, and its data rows with their
    1-based row numbers (blank and total rows left out)."""

    path: Path
    headers: list[str]
    mapping: dict[str, int]
    rows: list[tuple[int, list]]


def read_table(path: str | Path, *, needs: Sequence[str]) -> Table:
    """The first sheet whose header row (among its first 15 rows) names one of ``needs``."""
    source = open_source(path)
    for sheet in source.sheet_names:
        raw = source.rows(sheet)
        for i, row in enumerate(raw[:15]):
            mapping = recognise(row)
            if any(k in mapping for k in needs):
                headers = [cell_text(c) for c in row]
                data = [(n, list(r)) for n, r in enumerate(raw[i + 1:], start=i + 2)
                        if not is_blank(r) and not is_total_row(r)]
                return Table(source.path, headers, mapping, data)
    raise SpreadsheetError(tr("{p} has no column {c}: the header row must name it",
                              "{p} 中没有“{c}”列：表头须含此列", p=source.path.name,
                              c=" / ".join(header_label(k) for k in needs)))


def cell(row: list, mapping: dict[str, int], key: str):
    """The raw cell of column ``key`` in ``row`` (None when the file lacks the column or the row is short)."""
    col = mapping.get(key)
    return row[col] if col is not None and col < len(row) else None
