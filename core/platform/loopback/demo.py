"""The running loopback platform behind ``dadan demo --platform``: a server, a demo shop in the
database pointing at it, and a thread that keeps changing its orders."""

from __future__ import annotations

import threading

from dadan.core.platform.loopback.platform import MockPlatform
from dadan.core.platform.loopback.server import MockServer
from dadan.core.platform.loopback.world import Mall

DEMO_SHOP = "拼多多演示店"


class DemoPlatform:
    """A running loopback platform for ``dadan demo --platform``: a server, a demo shop in the
    database pointing at it, and a thread that keeps changing orders (new orders, refunds...)."""

    def __init__(self, platform: MockPlatform, server: MockServer, mall: Mall, shop_name: str,
                 change_every: float):
        self.platform, self.server, self.mall, self.shop_name = platform, server, mall, shop_name
        self.credentials = None  # CredentialStore holding the demo shop's entry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._changer, args=(change_every,), daemon=True,
                                        name="dadan-mock-changes")
        self._thread.start()

    def _changer(self, every: float) -> None:
        while not self._stop.wait(every):
            for _ in range(self.platform.rng.randint(1, 4)):
                kind = self.platform.rng.choice(("new", "new", "new", "remark", "refund", "after_sale",
                                                 "address", "risk", "cancel", "shipped_elsewhere"))
                self.platform.mutate(self.mall, kind)

    def stop(self) -> None:
        """Stop changing orders and serving; the demo shop's credentials are removed (its
        gateway is gone), so a later ``dadan sync`` reports it as not configured."""
        self._stop.set()
        self.server.stop()
        if self.credentials is not None:
            self.credentials.remove(self.shop_name)


def run_demo_platform(ctx, *, orders: int = 400, seed: int | None = None, change_every: float = 20.0,
                      shop_name: str = DEMO_SHOP) -> DemoPlatform:
    """Start a loopback platform with ``orders`` orders over the backfill period, register (or
    re-point) the demo shop at it with working credentials, and return the running handle.
    The caller (``dadan demo --platform``) starts the scheduler as usual and calls ``.stop()``
    on exit. No real credentials or network are involved."""
    from dadan.core.db import write
    from dadan.core.models import Shop
    from dadan.core.platform.credentials import CredentialStore, ShopCredentials

    platform = MockPlatform(seed=seed)
    mall = platform.add_mall(shop_name)
    hours = max(1, ctx.settings.sync.backfill_days) * 24
    platform.generate_orders(mall, orders, spread_hours=hours)
    server = MockServer(platform).start()
    ctx.open_db()
    CredentialStore(ctx.paths.credentials_file).put(shop_name, ShopCredentials(
        client_secret=platform.client_secret, access_token=mall.access_token,
        refresh_token=mall.refresh_token, access_token_expires_at=platform.tokens[mall.access_token].expires_at))
    with write():
        shop = Shop.get_or_none(Shop.name == shop_name)
        if shop is None:
            Shop.create(name=shop_name, client_id=platform.client_id, gateway_url=server.url,
                        mall_id=mall.mall_id, auth_state="ok")
        else:  # a new port, a new mall: start its sync afresh
            Shop.update(client_id=platform.client_id, gateway_url=server.url, mall_id=mall.mall_id,
                        auth_state="ok", sync_cursor=None).where(Shop.id == shop.id).execute()
    demo = DemoPlatform(platform, server, mall, shop_name, change_every)
    demo.credentials = CredentialStore(ctx.paths.credentials_file)
    return demo
