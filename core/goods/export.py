"""The goods export: every SKU with the goods import's columns, plus 占用 (reserved) and 可用
(available), read-only; so an export imported again changes nothing. CSV (UTF-8 with BOM, long
digit strings kept as text for Excel) or xlsx, written to a temporary name and renamed when complete."""

from __future__ import annotations

from pathlib import Path

from dadan.core.db import id_chunks
from dadan.core.goods.columns import GOODS_KEYS, header_label
from dadan.core.goods.models import Goods, GoodsBarcode
from dadan.core.i18n import tr
from dadan.core.spreadsheets.export import ExportError, make_export_folder, written_whole
from dadan.core.spreadsheets.writers import RowWriter

FORMATS = ("csv", "xlsx")
HEADERS = [header_label(k) for k in GOODS_KEYS] + [header_label("reserved"), header_label("available")]


def goods_format(out: str | Path, fmt: str | None) -> str:
    """The format asked for, else the one the file name says (csv or xlsx)."""
    fmt = fmt or Path(str(out)).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(tr("goods exports are csv or xlsx, not '{f}' (pass --format csv|xlsx)",
                             "商品导出仅支持 csv 或 xlsx，不支持“{f}”（请指定 --format csv|xlsx）", f=fmt))
    return fmt


def _row(g: Goods, barcodes: list[str]) -> list:
    return [g.code, g.name, g.spec, "/".join(barcodes), g.bin, g.weight_g, g.on_hand, g.safety_stock,
            "是" if g.managed else "否", g.platform_goods_id, g.platform_sku_id, g.reserved, g.available]


def _write(w: RowWriter) -> int:
    n = 0
    for batch in id_chunks(Goods, chunk=1000):
        codes: dict[int, list[str]] = {}
        for b, gid in (GoodsBarcode.select(GoodsBarcode.barcode, GoodsBarcode.goods)
                       .where(GoodsBarcode.goods.in_([g.id for g in batch])).order_by(GoodsBarcode.barcode).tuples()):
            codes.setdefault(gid, []).append(b)
        for g in batch:
            w.row(_row(g, codes.get(g.id, [])))
            n += 1
    return n


def export_goods(out: str | Path, fmt: str | None = None) -> tuple[int, Path]:
    """Write every SKU to ``out``; returns (SKUs written, path)."""
    path = Path(out).expanduser()
    fmt = goods_format(path, fmt)
    make_export_folder(path)
    with written_whole(path) as tmp:
        if fmt == "xlsx":
            with RowWriter("xlsx", tmp, HEADERS) as w:
                n = _write(w)
                w.save_xlsx()
        else:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                n = _write(RowWriter("csv", fh, HEADERS))
    return n, path
