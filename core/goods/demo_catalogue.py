"""The demo's goods catalogue: every SKU the demo's orders carry, with barcodes, bin locations,
weights and stock -- enough for nearly every open order, while one SKU runs short by a few units
so the oversell guard has orders to show."""

from __future__ import annotations

import datetime as dt
import random
from typing import Sequence

from dadan.core.db import write
from dadan.core.goods import catalogue, ledger
from dadan.core.goods.catalogue import GoodsRecord
from dadan.core.goods.models import Goods

ACTOR = "demo"
SHORT_BY = 3  # the short SKU's last orders by deadline miss this many


def add_demo_goods(products: Sequence, seed: int, now: dt.datetime) -> int:
    """Add the SKUs of ``products`` (the demo's ``(goods_id, name, outer_goods_id, [(sku_id,
    outer_id, spec, price_fen)])``) the catalogue lacks, and receive their stock: what their open
    orders reserve plus a margin, and for one of them a few units less. Returns SKUs added."""
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
        return 0
    with write(join=True):
        catalogue.save(records, actor=ACTOR, settle=False)
        ids = [g.id for g in Goods.select(Goods.id).where(Goods.code_key.in_([catalogue.code_key(r.code)
                                                                              for r in records]))]
        ledger.settle_goods(ids, actor=ACTOR, rebalance=False)
        short = rng.choice(ids)
        for g in Goods.select().where(Goods.id.in_(ids)).order_by(Goods.id):
            qty = g.reserved - SHORT_BY if g.id == short else g.reserved + rng.randint(g.safety_stock, 3 * g.safety_stock)
            if qty > 0:
                ledger.move(g.id, qty, "receive", actor=ACTOR, reason="demo stock", now=now)
    return len(records)
