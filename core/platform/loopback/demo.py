"""The running loopback platform behind ``dadan demo --platform``: a server, a demo shop in the
database pointing at it, and a thread that keeps changing its orders."""

from __future__ import annotations

import threading

from dadan.core.platform.loopback.platform import MockPlatform
from dadan.core.platform.loopback.server import MockServer
from dadan.core.platform.loopback.world import Mall

DEMO_SHOP = "拼多多演示店"


STATE_FILE = "loopback-platform.json"  # in the data folder: the same shop, orders and numbers next run
DEMO_COURIERS = ("ZTO", "YTO")  # subscribed e-waybill couriers; the first is the default
DEMO_SENDER = ("演示仓库", "13800000000")
SAVE_EVERY_S = 5.0


class DemoPlatform:
    """A running loopback platform for ``dadan demo --platform``: a server, a demo shop in the
    database pointing at it, and a thread that keeps changing orders (new orders, refunds...)
    and saves the platform's state (``state_file``) so that the next run continues it."""

    def __init__(self, platform: MockPlatform, server: MockServer, mall: Mall, shop_name: str,
                 change_every: float, state_file=None):
        self.platform, self.server, self.mall, self.shop_name = platform, server, mall, shop_name
        self.state_file = state_file
        self.credentials = None  # CredentialStore holding the demo shop's entry
        self._stop = threading.Event()
        self._saved_at = -1
        self._save_lock = threading.Lock()
        platform.after_numbers = self.save  # numbers given are on disk before they leave, as a platform's are
        self._thread = threading.Thread(target=self._changer, args=(change_every,), daemon=True,
                                        name="dadan-mock-changes")
        self._thread.start()

    def _changer(self, every: float) -> None:
        import time

        next_change = time.monotonic() + every
        while not self._stop.wait(min(every, SAVE_EVERY_S)):
            if time.monotonic() >= next_change:
                next_change = time.monotonic() + every
                for _ in range(self.platform.rng.randint(1, 4)):
                    kind = self.platform.rng.choice(("new", "new", "new", "remark", "refund", "after_sale",
                                                     "address", "risk", "cancel", "shipped_elsewhere"))
                    self.platform.mutate(self.mall, kind)
            self.save()

    def save(self) -> None:
        """Write the platform's state if anything was asked of it since the last save."""
        with self._save_lock:  # (the changer's thread and the server's)
            seen = sum(self.platform.requests.values()) + len(self.mall.orders)
            if self.state_file is not None and seen != self._saved_at:
                self.platform.save(self.state_file)
                self._saved_at = seen

    def stop(self) -> None:
        """Stop changing orders and serving (the state is saved); the demo shop's credentials are
        removed (its gateway is gone), so a later ``dadan sync`` reports it as not configured."""
        self._stop.set()
        self.server.stop()
        self.save()
        if self.credentials is not None:
            self.credentials.remove(self.shop_name)


def _platform(ctx, state_file, shop_name: str, orders: int, seed: int | None) -> tuple[MockPlatform, Mall, bool]:
    """The platform of the last run (from ``state_file``), or a new one: (platform, mall, new?)."""
    if state_file is not None and state_file.exists():
        try:
            platform = MockPlatform.load(state_file, seed=seed)
            mall = next(m for m in platform.malls.values() if m.name == shop_name)
            return platform, mall, False
        except (ValueError, KeyError, OSError, StopIteration):
            pass  # unreadable or another shop's: start a new one
    platform = MockPlatform(seed=seed)
    mall = platform.add_mall(shop_name)
    hours = max(1, ctx.settings.sync.backfill_days) * 24
    platform.generate_orders(mall, orders, spread_hours=hours)
    return platform, mall, True


def _waybill_accounts(ctx, shop) -> None:
    """The demo shop's e-waybill accounts: each subscribed courier's first branch and address, the
    first courier the default; and a sender for the waybills if none is set."""
    from dadan.core.config import save_settings
    from dadan.core.platform.shops import ClientFactory
    from dadan.core.platform.waybill_api import standard_templates
    from dadan.core.waybills import accounts

    if not (ctx.settings.sender.name and ctx.settings.sender.phone):
        ctx.settings.sender.name = ctx.settings.sender.name or DEMO_SENDER[0]
        ctx.settings.sender.phone = ctx.settings.sender.phone or DEMO_SENDER[1]
        save_settings(ctx.settings, ctx.paths)
    with ClientFactory(paths=ctx.paths, settings=ctx.settings)(shop) as client:
        accounts.refresh(shop, client)
        for wp in DEMO_COURIERS:
            if accounts.account(shop.id, wp) is not None:
                continue
            branch = next(b for b in accounts.branches(shop.id) if b.wp_code == wp)
            url = accounts.choose_template(standard_templates(client, wp), wp, ctx.settings.printer().height_mm)
            accounts.use(shop, wp, branch.branch_code, address_no=1, actor="demo", template_url=url,
                         make_default=wp == DEMO_COURIERS[0])


def _goods_catalogue() -> None:
    """A first run's goods catalogue: every SKU the platform's shops list, with a barcode, a bin
    and stock, two of them managed (their stock pushed to the platform); one SKU holds a single
    piece, so the oversell guard has orders to stop once the sync brings them."""
    from dadan.core.goods import catalogue
    from dadan.core.goods.catalogue import GoodsRecord
    from dadan.core.goods.models import Goods
    from dadan.core.platform.loopback.world import GOODS, listings

    if Goods.select().exists():
        return
    names = {str(goods_id): name for goods_id, (_code, name, *_rest) in zip(listings(), GOODS)}
    records = []
    for n, (goods_id, skus) in enumerate(listings().items()):
        for m, (sku_id, outer_id) in enumerate(sorted(skus.items(), key=lambda kv: kv[1])):
            spec = outer_id.split("-", 1)[1].replace("-", ",")
            records.append(GoodsRecord(
                code=outer_id, name=names[goods_id], spec=spec, barcodes=[f"69{int(sku_id) % 10**9:09d}{n % 10}{m % 10}"],
                bin=f"{'ABCD'[n % 4]}-{n + 1:02d}-{m + 1}", weight_g=200 + 100 * n, safety_stock=5,
                on_hand=1 if not records else 20 + (7 * n + 11 * m) % 100, managed=len(records) < 2,
                platform_goods_id=goods_id, platform_sku_id=sku_id))
    catalogue.save(records, actor="demo", reason="demo catalogue")


def run_demo_platform(ctx, *, orders: int = 400, seed: int | None = None, change_every: float = 20.0,
                      shop_name: str = DEMO_SHOP, keep_state: bool = True) -> DemoPlatform:
    """Start a loopback platform — the last run's (``loopback-platform.json`` in the data folder)
    or a new one with ``orders`` orders over the backfill period, subscribed to the e-waybills of
    :data:`DEMO_COURIERS` — register (or re-point) the demo shop at it with working credentials
    and e-waybill accounts, and return the running handle. The caller (``dadan demo
    --platform``) starts the scheduler as usual and calls ``.stop()`` on exit. No real
    credentials or network are involved."""
    from dadan.core.db import write
    from dadan.core.models import Shop
    from dadan.core.platform.credentials import CredentialStore, ShopCredentials

    state_file = ctx.paths.data_dir / STATE_FILE if keep_state else None
    platform, mall, new = _platform(ctx, state_file, shop_name, orders, seed)
    for wp in DEMO_COURIERS:
        if wp not in platform.subscribed(mall):
            platform.subscribe(mall, wp, quantity=5000)
    server = MockServer(platform).start()
    ctx.open_db()
    CredentialStore(ctx.paths.credentials_file).put(shop_name, ShopCredentials(
        client_secret=platform.client_secret, access_token=mall.access_token,
        refresh_token=mall.refresh_token, access_token_expires_at=platform.tokens[mall.access_token].expires_at))
    with write():
        shop = Shop.get_or_none(Shop.name == shop_name)
        if shop is None:
            shop = Shop.create(name=shop_name, client_id=platform.client_id, gateway_url=server.url,
                               mall_id=mall.mall_id, auth_state="ok")
        else:  # a new port (and for a new mall, its sync starts afresh)
            changes = dict(client_id=platform.client_id, gateway_url=server.url, mall_id=mall.mall_id,
                           auth_state="ok")
            if new or shop.mall_id != mall.mall_id:
                changes["sync_cursor"] = None
            Shop.update(**changes).where(Shop.id == shop.id).execute()
    _waybill_accounts(ctx, Shop.get_by_id(shop.id))
    _goods_catalogue()
    demo = DemoPlatform(platform, server, mall, shop_name, change_every, state_file)
    demo.credentials = CredentialStore(ctx.paths.credentials_file)
    demo.save()
    return demo
