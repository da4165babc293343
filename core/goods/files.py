"""A goods file into the catalogue: :func:`plan_goods` reads an .xlsx/.csv and checks the whole
file first (bad numbers, negative stock, a code twice, a barcode given to two SKUs or held by
another SKU, a missing code: each a rejected row with its reason) and counts what a save would
do; :func:`commit_goods` writes it through :func:`dadan.core.goods.catalogue.save` in one
transaction, only when nothing was rejected (all or nothing).

Only 商家编码 is required. A column the file lacks leaves that field of a SKU already in the
catalogue as it is; an empty cell of a column the file has clears that field (0 for a number),
except 库存 (empty: the stock is left alone; a number different from the shelf records a count
correction) and 条码 (empty: the barcodes are kept; else the cell's barcodes replace them). 占用 and 可用 (written
by the export) are read-only and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from dadan.core.errors import DadanError
from dadan.core.goods import catalogue
from dadan.core.goods.catalogue import EDITABLE, GoodsRecord, code_key, split_barcodes
from dadan.core.goods.columns import GOODS_KEYS, Table, cell, read_table
from dadan.core.goods.models import Goods
from dadan.core.i18n import tr
from dadan.core.operators import require
from dadan.core.spreadsheets.cells import clean_text, parse_code, parse_whole
from dadan.core.spreadsheets.errors import CellError
from dadan.core.spreadsheets.rejects import write_rejected_rows
from dadan.core.spreadsheets.rows import RejectedRow, row_cells

_YES = {"是", "y", "yes", "true", "1", "on", "同步", "√"}
_NO = {"否", "n", "no", "false", "0", "off", "不同步", "", "×"}
_CHUNK = 900


def parse_managed(v) -> bool:
    s = clean_text(v).lower()
    if s in _YES:
        return True
    if s in _NO:
        return False
    raise CellError(tr("'{v}' is not 是/否 (yes/no)", "“{v}”不是 是/否", v=s))


@dataclass
class GoodsPlan:
    """A checked goods file: the records to save, the rejected rows, and what a save would do."""

    table: Table
    records: list[GoodsRecord]
    rejects: list[RejectedRow]
    added: int = 0
    changed: int = 0
    corrected: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejects

    def summary(self, *, done: bool = False) -> str:
        if done:
            return tr("{a:,} SKUs added, {c:,} changed, {k:,} stock corrections, {u:,} unchanged",
                      "新增 {a:,} 个商品，修改 {c:,} 个，库存更正 {k:,} 个，无变化 {u:,} 个",
                      a=self.added, c=self.changed, k=self.corrected, u=self.unchanged)
        return tr("{a:,} SKUs to add, {c:,} to change, {k:,} stock corrections, {u:,} unchanged; {r:,} rows rejected",
                  "将新增 {a:,} 个商品，修改 {c:,} 个，库存更正 {k:,} 个，无变化 {u:,} 个；拒绝 {r:,} 行",
                  a=self.added, c=self.changed, k=self.corrected, u=self.unchanged, r=len(self.rejects))


def _reject(rejects: list[RejectedRow], table: Table, n: int, row: list, key: str, message: str) -> None:
    col = table.mapping.get(key)
    rejects.append(RejectedRow(n, row_cells(row, len(table.headers)),
                               table.headers[col] if col is not None else "", message))


def _parse_row(row: list, mapping: dict[str, int]) -> tuple[dict, str, str]:
    """One data row -> (values of the columns present, "", "") or ({}, column key, reason)."""
    values: dict = {}
    texts = ("name", "spec", "bin")
    ids = {"platform_goods_id": ("goods id", "商品ID"), "platform_sku_id": ("SKU id", "SKU ID")}
    numbers = {"weight_g": ("weight", "重量"), "on_hand": ("stock", "库存"), "safety_stock": ("safety stock", "安全库存")}
    for key in GOODS_KEYS:
        if key not in mapping:
            continue
        v = cell(row, mapping, key)
        try:
            if key == "code":
                values[key] = parse_code(v, "merchant code", "商家编码")
            elif key == "barcodes":
                values[key] = split_barcodes(parse_code(v, "barcode", "条码"))
            elif key in texts:
                values[key] = clean_text(v)
            elif key in ids:
                values[key] = parse_code(v, *ids[key])
            elif key == "managed":
                values[key] = parse_managed(v)
            else:
                n = parse_whole(v, *numbers[key])
                values[key] = n if n is not None or key == "on_hand" else 0
        except CellError as exc:
            return {}, key, str(exc)
    if not values.get("code"):
        return {}, "code", tr("the merchant code (商家编码) is empty", "商家编码为空")
    return values, "", ""


def _existing(keys: list[str]) -> dict[str, Goods]:
    out: dict[str, Goods] = {}
    for start in range(0, len(keys), _CHUNK):
        for g in Goods.select().where(Goods.code_key.in_(keys[start:start + _CHUNK])):
            out[g.code_key] = g
    return out


def _barcode_clashes(records: list[tuple[int, list, GoodsRecord]], table: Table, rejects: list[RejectedRow]) -> None:
    """A barcode names one SKU: rejected when two rows give it, or when another SKU holds it and
    this file does not take it from that SKU (its row lists other barcodes)."""
    given: dict[str, tuple[str, int]] = {}
    for n, row, r in records:
        for b in r.barcodes:
            first = given.setdefault(b, (code_key(r.code), n))
            if first[0] != code_key(r.code):
                _reject(rejects, table, n, row, "barcodes", tr("barcode {b} is also given to row {m}",
                                                               "条码 {b} 也给了第 {m} 行", b=b, m=first[1]))
    by_key = {code_key(r.code): r for _n, _row, r in records}
    owners = catalogue.barcode_owners(given)
    for n, row, r in records:
        for b in r.barcodes:
            owner = owners.get(b)
            if owner is None or code_key(owner) == code_key(r.code):
                continue
            theirs = by_key.get(code_key(owner))
            if theirs is None or not theirs.barcodes or b in theirs.barcodes:
                _reject(rejects, table, n, row, "barcodes", tr("barcode {b} belongs to {c} already",
                                                               "条码 {b} 已属于 {c}", b=b, c=owner))


def plan_goods(path: str | Path) -> GoodsPlan:
    """Read and check a goods file; nothing is written."""
    table = read_table(path, needs=("code",))
    rejects: list[RejectedRow] = []
    parsed: list[tuple[int, list, dict]] = []
    seen: dict[str, int] = {}
    for n, row in table.rows:
        values, key, reason = _parse_row(row, table.mapping)
        if reason:
            _reject(rejects, table, n, row, key, reason)
            continue
        k = code_key(values["code"])
        if k in seen:
            _reject(rejects, table, n, row, "code", tr("merchant code {c} is also on row {m}",
                                                       "商家编码 {c} 在第 {m} 行也出现", c=values["code"], m=seen[k]))
            continue
        seen[k] = n
        parsed.append((n, row, values))
    existing = _existing(list(seen))
    records: list[tuple[int, list, GoodsRecord]] = []
    plan = GoodsPlan(table, [], rejects)
    for n, row, values in parsed:
        g = existing.get(code_key(values["code"]))
        base = GoodsRecord(code=values["code"]) if g is None else GoodsRecord(
            code=g.code, **{f: getattr(g, f) for f in EDITABLE})
        rec = replace(base, **{k: v for k, v in values.items() if k != "code"})
        records.append((n, row, rec))
        corrected = rec.on_hand is not None and rec.on_hand != (g.on_hand if g is not None else 0)
        plan.corrected += corrected
        if g is None:
            plan.added += 1
        else:
            edited = any(getattr(g, f) != getattr(rec, f) for f in EDITABLE)
            plan.changed += edited
            plan.unchanged += not edited and not corrected
    _barcode_clashes(records, table, rejects)
    rejects.sort(key=lambda r: r.row)
    plan.records = [r for _n, _row, r in records]
    return plan


def write_rejects(plan: GoodsPlan, out: str | Path | None = None) -> Path | None:
    """The rejected rows as the order import writes them (``<file>.rejects.xlsx`` by default)."""
    return write_rejected_rows(plan.rejects, plan.table.headers, plan.table.path, out)


def commit_goods(plan: GoodsPlan, *, actor: str) -> GoodsPlan:
    """Save a checked file in one transaction; refused (nothing written) while any row is
    rejected, and without the "stock" permission (a file changes the catalogue and may correct
    stock)."""
    require(actor, "stock", what=f"goods file {plan.table.path.name}")
    if plan.rejects:
        raise DadanError(tr("{n:,} rows rejected: nothing was written", "拒绝 {n:,} 行：未写入任何数据",
                            n=len(plan.rejects)))
    added, changed, corrected = catalogue.save(plan.records, actor=actor,
                                               reason=tr("goods file {f}", "商品文件 {f}", f=plan.table.path.name))
    plan.added, plan.changed, plan.corrected = added, changed, corrected
    return plan
