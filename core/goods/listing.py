"""The goods screen's pages of the catalogue: all SKUs, low stock (available <= safety stock),
short (reserved > on hand), each narrowed by a filter text (a substring of the code, name or
bin, or an exact barcode), counted and read one page at a time (the catalogue may hold tens of
thousands of SKUs; a page is one indexed query); one SKU's stock movements."""

from __future__ import annotations

from dataclasses import dataclass

from dadan.core.db import database
from dadan.core.dialect import as_integer, like_escape
from dadan.core.goods.models import StockMovement

VIEWS = ("all", "low", "short")
_VIEW_SQL = {
    "all": "1 = 1",
    "low": 'g."on_hand" - g."reserved" <= g."safety_stock"',
    "short": 'g."reserved" > g."on_hand"',
}


@dataclass(frozen=True)
class GoodsRow:
    id: int
    code: str
    name: str
    spec: str
    bin: str
    on_hand: int
    reserved: int
    safety_stock: int
    weight_g: int
    managed: bool

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def _where(view: str, text: str) -> tuple[str, list]:
    if view not in _VIEW_SQL:
        raise ValueError(f"unknown goods view {view!r}")
    sql, args = _VIEW_SQL[view], []
    text = (text or "").strip()
    if text:
        like = "%" + like_escape(text.lower()) + "%"
        sql += (' AND (g."code_key" LIKE ? ESCAPE \'\\\' OR lower(g."name") LIKE ? ESCAPE \'\\\' '
                'OR lower(g."bin") LIKE ? ESCAPE \'\\\' '
                'OR g."id" IN (SELECT b."goods_id" FROM "goods_barcode" b WHERE b."barcode" = ?))')
        args += [like, like, like, text]
    return sql, args


def count(view: str = "all", text: str = "") -> int:
    where, args = _where(view, text)
    return database().execute_sql(f'SELECT count(*) FROM "goods" g WHERE {where}', args).fetchone()[0]


def counts(text: str = "") -> dict[str, int]:
    """Every view's count for this filter text, in one pass over the catalogue."""
    where, args = _where("all", text)
    row = database().execute_sql(
        f'SELECT count(*), coalesce(sum({as_integer(_VIEW_SQL["low"])}), 0), '
        f'coalesce(sum({as_integer(_VIEW_SQL["short"])}), 0) '
        f'FROM "goods" g WHERE {where}', args).fetchone()
    return dict(zip(VIEWS, row))


def page(view: str = "all", text: str = "", *, offset: int = 0, limit: int | None = 100) -> list[GoodsRow]:
    """One page of the view, by code (``limit`` None: every SKU from ``offset`` on)."""
    where, args = _where(view, text)
    limit = 2**31 - 1 if limit is None else limit
    rows = database().execute_sql(
        f'SELECT g."id", g."code", g."name", g."spec", g."bin", g."on_hand", g."reserved", g."safety_stock", '
        f'g."weight_g", g."managed" FROM "goods" g WHERE {where} ORDER BY g."code_key" LIMIT ? OFFSET ?',
        [*args, int(limit), int(offset)]).fetchall()
    return [GoodsRow(*r[:9], bool(r[9])) for r in rows]


def barcodes(goods_id: int) -> list[str]:
    return [r[0] for r in database().execute_sql(
        'SELECT "barcode" FROM "goods_barcode" WHERE "goods_id" = ? ORDER BY "barcode"', (goods_id,))]


def browse(text: str = "", *, low: bool = False, short: bool = False, limit: int | None = None) -> list[GoodsRow]:
    """SKUs matching ``text`` (as the screen's filter), low and/or short ones only, by code
    (``dadan goods list``)."""
    view = "short" if short else "low" if low else "all"
    rows = page(view, text, limit=limit or None)
    if low and short:
        rows = [r for r in rows if r.available <= r.safety_stock]
    return rows


def movements(goods_id: int, *, limit: int = 50) -> list[StockMovement]:
    """One SKU's movements, newest first."""
    return list(StockMovement.select().where(StockMovement.goods == goods_id)
                .order_by(StockMovement.at.desc(), StockMovement.id.desc()).limit(limit))
