"""Reading the catalogue for people: SKUs by text (code, name, spec, bin or barcode), the low
(available <= safety stock) and short (reserved > on hand) ones; one SKU's stock movements."""

from __future__ import annotations

from dadan.core.goods.models import Goods, GoodsBarcode, StockMovement


def browse(text: str = "", *, low: bool = False, short: bool = False, limit: int | None = None) -> list[Goods]:
    """SKUs matching ``text`` (a part of the code, name, spec or bin; or a whole barcode), by code."""
    q = Goods.select()
    t = (text or "").strip()
    if t:
        q = q.where(Goods.code.contains(t) | Goods.name.contains(t) | Goods.spec.contains(t) | Goods.bin.contains(t)
                    | Goods.id.in_(GoodsBarcode.select(GoodsBarcode.goods).where(GoodsBarcode.barcode == t)))
    if low:
        q = q.where(Goods.on_hand - Goods.reserved <= Goods.safety_stock)
    if short:
        q = q.where(Goods.reserved > Goods.on_hand)
    q = q.order_by(Goods.code_key)
    return list(q.limit(limit) if limit else q)


def movements(goods_id: int, *, limit: int = 50) -> list[StockMovement]:
    """One SKU's movements, newest first."""
    return list(StockMovement.select().where(StockMovement.goods == goods_id)
                .order_by(StockMovement.at.desc(), StockMovement.id.desc()).limit(limit))
