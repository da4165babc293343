"""`make run`'s loopback demo: its first run has a goods catalogue for every SKU the platform
lists, so the synced orders reserve stock and the oversell guard stops those one SKU's single
piece cannot cover; its managed SKUs' stock reaches the platform."""

from __future__ import annotations

from dadan.core.db import close_database
from dadan.core.goods import catalogue
from dadan.core.goods.models import Goods, StockPush
from dadan.core.goods.push_sender import process_pushes
from dadan.core.models import Order, OrderItem, Shop
from dadan.core.orders.rules import Flag
from dadan.core.platform.loopback.demo import run_demo_platform
from dadan.core.platform.loopback.world import listings
from dadan.core.platform.shops import ClientFactory
from dadan.core.platform.sync import sync_shop
from tests.desk_helpers import make_ctx


def test_the_demo_platform_has_a_catalogue_and_its_orders_reserve_stock(tmp_path):
    ctx = make_ctx(tmp_path, 0)
    demo = run_demo_platform(ctx, orders=120, seed=4, change_every=1000)
    try:
        assert Goods.select().count() == sum(len(skus) for skus in listings().values())
        shop = Shop.get(Shop.name == demo.shop_name)
        with ClientFactory(paths=ctx.paths, settings=ctx.settings)(shop) as client:
            sync_shop(shop, client, ctx.settings.sync)
        assert catalogue.missing() == []
        assert sum(g.reserved for g in Goods.select()) > 0
        one = Goods.select().where(Goods.on_hand == 1).get()
        short = Order.select().where(Order.exception_flags.bin_and(int(Flag.STOCK_SHORT)) != 0).count()
        assert (short > 0) == (one.reserved > 1)
        process_pushes(ClientFactory(paths=ctx.paths, settings=ctx.settings))
        managed = list(Goods.select().where(Goods.managed))
        assert len(managed) == 2 and StockPush.select().where(StockPush.state != "done").count() == 0
        for g in managed:  # pushed to the shop that sells it (no order of it: nobody to push to)
            sold = OrderItem.select().where(OrderItem.outer_id == g.code).exists()
            want = max(g.on_hand - g.reserved, 0) if sold else None
            assert demo.platform.stock_quantity(demo.mall, g.platform_goods_id, g.platform_sku_id) == want
    finally:
        demo.stop()
        close_database()
