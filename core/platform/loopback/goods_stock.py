"""The loopback platform's stock per listed SKU: ``pdd.goods.quantity.update`` checks its
parameters as the platform does, sets (``update_type`` 1) or adds/subtracts (2) the quantity of
one (mall, goods_id, sku_id), and refuses a subtraction that would take it below 0. Every shop
lists the world's goods (:func:`.world.listings`); a SKU may be named by ``outer_id`` instead of
``sku_id``."""

from __future__ import annotations

from dadan.core.platform.loopback.errors import ApiError
from dadan.core.platform.loopback.world import Mall, listings


class GoodsStock:
    def __init__(self) -> None:
        self.listed = listings()
        self.quantities: dict[tuple[str, str, str], int] = {}  # (mall_id, goods_id, sku_id) -> quantity
        self.updates: list[dict] = []  # every accepted update, in order

    def quantity(self, mall: Mall, goods_id, sku_id) -> int | None:
        """The platform's stock of one SKU (None: never set)."""
        return self.quantities.get((mall.mall_id, str(goods_id), str(sku_id)))

    def update(self, mall: Mall, p: dict[str, str]) -> dict:
        goods_id = p.get("goods_id", "").strip()
        if not goods_id.isdigit():
            raise ApiError(10001, "参数错误", "goods_id is required")
        skus = self.listed.get(goods_id)
        if skus is None:
            raise ApiError(30001, "业务错误", "商品不存在", "isv.goods.not_found")
        sku_id = p.get("sku_id", "").strip()
        outer_id = p.get("outer_id", "").strip()
        if not sku_id and not outer_id:
            raise ApiError(10001, "参数错误", "sku_id or outer_id is required")
        if not sku_id:
            sku_id = next((s for s, o in skus.items() if o.lower() == outer_id.lower()), "")
        if sku_id not in skus:
            raise ApiError(30001, "业务错误", "商品规格不存在", "isv.sku.not_found")
        try:
            quantity = int(p.get("quantity", ""))
            update_type = int(p.get("update_type") or "1")
        except ValueError:
            raise ApiError(10001, "参数错误", "quantity and update_type must be integers") from None
        if update_type not in (1, 2):
            raise ApiError(10001, "参数错误", "update_type must be 1 (set) or 2 (add)")
        key = (mall.mall_id, goods_id, sku_id)
        if update_type == 1:
            if quantity < 0:
                raise ApiError(10001, "参数错误", "库存不能为负数")
            new = quantity
        else:
            new = self.quantities.get(key, 0) + quantity
            if new < 0:
                raise ApiError(30001, "业务错误", "库存不足，扣减后库存不能小于0", "isv.stock.not_enough")
        self.quantities[key] = new
        self.updates.append({"mall_id": mall.mall_id, "goods_id": goods_id, "sku_id": sku_id,
                             "quantity": quantity, "update_type": update_type})
        return {"goods_quantity_update_response": {"is_success": True}}

    def to_json(self) -> list[list]:
        return [[m, g, s, q] for (m, g, s), q in self.quantities.items()]

    def restore(self, rows: list[list]) -> None:
        self.quantities.update({(str(m), str(g), str(s)): int(q) for m, g, s, q in rows})
