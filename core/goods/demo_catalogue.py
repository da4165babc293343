"""The demo's goods catalogue: every SKU the demo's orders carry, with barcodes, bin locations,
weights and stock -- enough for nearly every open order, while one SKU runs short by a few units
so the oversell guard has orders to show."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Sequence

from dadan.core.db import write
from dadan.core.goods import catalogue, ledger
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.models import Goods

ACTOR = "demo"
SHORT_BY = 3  # the short SKU's last orders by deadline miss this many


@dataclass
class DemoGoods:
    """The SKUs :func:`list_demo_goods` added, and the draws that stock them."""

    ids: list[int]
    rng: random.Random


def add_demo_goods(products: Sequence, seed: int, now: dt.datetime) -> int:
    """Add the SKUs of ``products`` (the demo's ``(goods_id, name, outer_goods_id, [(sku_id,
    outer_id, spec, price_fen)])``) the catalogue lacks, and receive their stock: what their open
    orders reserve plus a margin, and for one of them a few units less. Returns SKUs added."""
    with write(join=True):
        added = list_demo_goods(products, seed)
        if added is None:
            return 0
        stock_demo_goods(added, now)
    return len(added.ids)


def list_demo_goods(products: Sequence, seed: int) -> DemoGoods | None:
    """The first half of :func:`add_demo_goods`: the SKUs, neither reserving nor stocked yet (for
    a demo that writes its orders after them: :func:`dadan.core.goods.ledger.reserve_new_orders`).
    None when the catalogue lists them all."""
    rng = random.Random(seed)
    have = {k for (k,) in Goods.select(Goods.code_key).tuples()}
    records = []
    for n, (goods_id, name, _outer_goods_id, skus) in enumerate(products):
        for m, (sku_id, outer_id, spec, _price) in enumerate(skus):
            if catalogue.code_key(outer_id) in have:
                continue
            records.append(GoodsRecord(
                code=outer_id, name=name, spec=spec, barcodes=[f"69{int(goods_id) % 10**8:08d}{m:02d}{n % 10}"],
                bin=f"{'ABCD'[n % 4]}-{n + 1:02d}-{m + 1}", weight_g=rng.choice([120, 250, 480, 900, 1500]),
                safety_stock=rng.choice([5, 10, 20]), platform_goods_id=str(goods_id), platform_sku_id=str(sku_id)))
    if not records:
        return None
    with write(join=True):
        catalogue.save(records, actor=ACTOR, settle=False)
        ids = [g.id for g in Goods.select(Goods.id).where(Goods.code_key.in_([catalogue.code_key(r.code)
                                                                              for r in records]))]
    return DemoGoods(ids, rng)


def stock_demo_goods(added: DemoGoods, now: dt.datetime, *, lines_written: bool = False) -> None:
    """The second half of :func:`add_demo_goods`: the SKUs start reserving for their open orders
    (``lines_written``: their demand rows were written with the orders), and their stock is
    received: what they reserve plus a margin, for one of them a few units less."""
    rng = added.rng
    with write(join=True):
        ledger.settle_goods(added.ids, actor=ACTOR, rebalance=False, lines_written=lines_written)
        short = rng.choice(added.ids)
        for g in Goods.select().where(Goods.id.in_(added.ids)).order_by(Goods.id):
            qty = g.reserved - SHORT_BY if g.id == short else g.reserved + rng.randint(g.safety_stock, 3 * g.safety_stock)
            if qty > 0:
                ledger.move(g.id, qty, "receive", actor=ACTOR, reason="demo stock", now=now)
