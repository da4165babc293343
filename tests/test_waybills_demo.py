"""The demo's loopback platform: a shop subscribed to e-waybills, accounts chosen, a sender set,
so that a newcomer's first print takes real numbers; and the same platform next run."""

from __future__ import annotations

import stat

from dadan.core.db import close_database
from dadan.core.models import Order, Shop, Waybill
from dadan.core.platform.loopback.demo import STATE_FILE, run_demo_platform
from dadan.core.platform.shops import ClientFactory
from dadan.core.platform.sync import sync_shop
from dadan.core.printing import queue as printing
from dadan.core.printing.worker import PrintWorker, profile_for
from dadan.core.waybills import accounts
from dadan.core.waybills.parcels import numbered_parcel
from tests.desk_helpers import make_ctx


def _sync(ctx, demo):
    shop = Shop.get(Shop.name == demo.shop_name)
    with ClientFactory(paths=ctx.paths, settings=ctx.settings)(shop) as client:
        sync_shop(shop, client, ctx.settings.sync)
    return shop


def test_the_demo_platform_takes_real_numbers_and_keeps_them_next_run(tmp_path):
    ctx = make_ctx(tmp_path, 0)
    demo = run_demo_platform(ctx, orders=40, seed=2, change_every=1000)
    try:
        shop = _sync(ctx, demo)
        awaiting = list(Order.select().where((Order.shop == shop.id) & (Order.order_status == 1)
                                             & (Order.exception_flags == 0)).order_by(Order.id).limit(3))
        assert len(awaiting) == 3 and not any(o.tracking_number for o in awaiting)  # as the platform's are
        assert accounts.default_account(shop.id).wp_code == "ZTO"
        assert {a.wp_code for a in accounts.accounts(shop.id)} == {"ZTO", "YTO"}
        assert ctx.settings.sender.name and ctx.settings.sender.phone
        job = printing.create_job([o.id for o in awaiting], printer="preview", template="waybill_100x150")
        PrintWorker(profile_for(ctx, "preview"), settings=ctx.settings,
                    client_factory=ClientFactory(paths=ctx.paths, settings=ctx.settings)).run_pending(job.id)
        assert printing.job_view(job.id).state == "done"
        numbers = {o.id: numbered_parcel(o.id).code for o in awaiting}
        assert set(numbers.values()) <= set(demo.platform.waybill_state(demo.mall))
    finally:
        demo.stop()
    state = tmp_path / "home" / STATE_FILE
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    again = run_demo_platform(ctx, orders=40, seed=2, change_every=1000)
    try:
        assert again.mall.mall_id == demo.mall.mall_id and set(again.mall.orders) == set(demo.mall.orders)
        assert set(numbers.values()) <= set(again.platform.waybill_state(again.mall))
        assert Shop.get(Shop.name == again.shop_name).sync_cursor is not None  # the same mall: no resync
        assert Waybill.select().count() == 3
    finally:
        again.stop()
        close_database()
