"""Shared fixtures for the platform tests: a real SQLite file (or any database URL), a loopback platform server, a
shop pointing at it. Imported by test_pdd*, test_sync*, test_shipping*, test_mockserver*."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dadan.core.config import Paths, SyncSettings
from dadan.core.db import close_database, open_database
from dadan.core.models import Order, Shop
from dadan.core.platform.credentials import CredentialStore
from dadan.core.platform.loopback.platform import MockPlatform
from dadan.core.platform.loopback.server import MockServer
from dadan.core.platform.loopback.world import Mall
from dadan.core.platform.pdd import PddClient, RetryPolicy
from dadan.core.platform.shops import ClientFactory, add_shop

FAST_RETRY = RetryPolicy(attempts=8, base_seconds=0.001, rate_limit_base_seconds=0.002, max_seconds=0.01)


@dataclass
class Env:
    paths: Paths
    platform: MockPlatform
    server: MockServer
    mall: Mall
    shop: Shop
    factory: ClientFactory
    settings: SyncSettings

    def client(self, shop: Shop | None = None) -> PddClient:
        return self.factory(Shop.get_by_id((shop or self.shop).id))

    @property
    def store(self) -> CredentialStore:
        return CredentialStore(self.paths.credentials_file)

    def add_shop(self, name: str) -> tuple[Mall, Shop]:
        mall = self.platform.add_mall(name)
        shop = add_shop(name, client_id=self.platform.client_id, client_secret=self.platform.client_secret,
                        access_token=mall.access_token, refresh_token=mall.refresh_token,
                        gateway_url=self.server.url, paths=self.paths)
        return mall, shop


def make_env(tmp_path, *, seed=0, list_details=True, refresh=True, timeout=0.3, url: str | None = None) -> Env:
    """``url``: the database (a SQLite file in ``tmp_path`` when None)."""
    open_database(url or f"sqlite:///{tmp_path}/dadan.db")
    paths = Paths(config_dir=tmp_path, data_dir=tmp_path)
    platform = MockPlatform(seed=seed, list_details=list_details)
    platform.faults.timeout_sleep = timeout + 0.1
    server = MockServer(platform).start()
    mall = platform.add_mall("shop-a")
    shop = add_shop("shop-a", client_id=platform.client_id, client_secret=platform.client_secret,
                    access_token=mall.access_token, refresh_token=mall.refresh_token if refresh else "",
                    gateway_url=server.url, paths=paths)
    factory = ClientFactory(paths=paths, retry=FAST_RETRY, timeout=timeout)
    settings = SyncSettings(backfill_days=1, detail_concurrency=4)
    return Env(paths, platform, server, mall, shop, factory, settings)


@pytest.fixture
def env(tmp_path):
    e = make_env(tmp_path)
    yield e
    e.server.stop()
    close_database()


@pytest.fixture
def env_both(tmp_path, store):
    """``env`` on each backend (SQLite, PostgreSQL); a module takes it as its own ``env``:
    ``from tests.test_sync_support import env_both as env``."""
    e = make_env(tmp_path, url=store.url())
    yield e
    e.server.stop()
    close_database()


def db_orders(shop_id: int) -> dict[str, Order]:
    return {o.order_sn: o for o in Order.select().where(Order.shop == shop_id)}


def sync(env: Env, shop: Shop | None = None):
    from dadan.core.platform.sync import sync_shop

    shop = Shop.get_by_id((shop or env.shop).id)
    with env.factory(shop) as c:
        return sync_shop(shop, c, env.settings)


def make_waybill_env(tmp_path, *, orders: int, quantity: int, seed: int = 0, timeout: float = 0.3,
                     choose: bool = True, url: str | None = None) -> Env:
    """``make_env`` with ``orders`` synced orders and the shop subscribed to ZTO e-waybills
    (``quantity`` numbers); ``choose``: its branch, first address and standard template chosen."""
    from dadan.core.waybills import accounts

    e = make_env(tmp_path, seed=seed, timeout=timeout, url=url)
    e.platform.generate_orders(e.mall, orders, spread_hours=20)
    e.platform.subscribe(e.mall, "ZTO", quantity=quantity)
    sync(e)
    if choose:
        with e.factory(e.shop) as client:
            accounts.refresh(e.shop, client)
        accounts.use(e.shop, "ZTO", "ZTO-HZ01", address_no=1, actor="tester",
                     template_url="https://file-link.pinduoduo.com/ZTO_std_100x150")
    return e
