"""Sync benchmark: an initial sync of 10,000 orders from the loopback platform, end to end
(HTTP, signing, JSON, conversion, upsert, cursor), and the database upsert rate alone.

    .venv/bin/python bench/bench_sync.py [--orders 10000] [--bare]

Targets: >= 2,000 orders/s end to end; >= 20,000 orders/s for the upsert alone.
``--bare`` makes the list return bare order numbers so every order needs a detail call.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dadan.core.config import Paths, SyncSettings  # noqa: E402
from dadan.core.db import close_database, open_database  # noqa: E402
from dadan.core.models import Order, Shop  # noqa: E402
from dadan.core.orders.upsert import upsert_orders  # noqa: E402
from dadan.core.platform.loopback.platform import MockPlatform  # noqa: E402
from dadan.core.platform.loopback.server import MockServer  # noqa: E402
from dadan.core.platform.shops import ClientFactory, add_shop  # noqa: E402
from dadan.core.platform.sync import order_record, sync_shop  # noqa: E402


def sync_from_loopback(n: int, tmp: Path, *, seed: int, name: str, bare: bool = False):
    """A shop named ``name`` on a loopback platform holding ``n`` orders, synced once over HTTP
    into the open database: (the sync's report, its seconds, the shop)."""
    paths = Paths(tmp, tmp)
    platform = MockPlatform(seed=seed, list_details=not bare)
    mall = platform.add_mall(name)
    platform.generate_orders(mall, n, spread_hours=70)
    with MockServer(platform) as server:
        shop = add_shop(name, client_id=platform.client_id, client_secret=platform.client_secret,
                        access_token=mall.access_token, gateway_url=server.url, paths=paths)
        settings = SyncSettings(backfill_days=3, detail_concurrency=8)
        t0 = time.perf_counter()
        with ClientFactory(paths=paths, settings=None, timeout=30)(Shop.get_by_id(shop.id)) as client:
            report = sync_shop(Shop.get_by_id(shop.id), client, settings)
        secs = time.perf_counter() - t0
    assert report.ok, report.error
    return report, secs, shop


def bench_end_to_end(n: int, bare: bool, tmp: Path) -> None:
    open_database(f"sqlite:///{tmp}/e2e.db")
    report, secs, _shop = sync_from_loopback(n, tmp, seed=7, name="bench", bare=bare)
    stored = Order.select().count()
    print(f"initial sync: {stored} orders in {secs:.2f} s = {stored / secs:,.0f} orders/s end to end "
          f"({report.windows} windows, {report.api_calls} API calls{', bare list + details' if bare else ''}) "
          f"[target >= 2,000]")
    close_database()


def bench_upsert(n: int, tmp: Path) -> None:
    open_database(f"sqlite:///{tmp}/upsert.db")
    platform = MockPlatform(seed=8)
    mall = platform.add_mall("bench")
    platform.generate_orders(mall, n, spread_hours=70)
    records = [order_record(o) for o in platform.truth(mall).values()]
    shop = Shop.create(name="bench")
    t0 = time.perf_counter()
    res = upsert_orders(shop.id, records)
    secs = time.perf_counter() - t0
    print(f"upsert (insert): {res.new} orders in {secs:.2f} s = {res.new / secs:,.0f} orders/s [target >= 20,000]")
    # the same records again: the unchanged path (what every window overlap costs)
    t0 = time.perf_counter()
    res = upsert_orders(shop.id, records)
    secs = time.perf_counter() - t0
    print(f"upsert (unchanged): {res.unchanged} orders in {secs:.2f} s = {res.unchanged / secs:,.0f} orders/s")
    # every order changed (a remark): the update path
    for r in records:
        r["remark"] = "bench"
    t0 = time.perf_counter()
    res = upsert_orders(shop.id, records)
    secs = time.perf_counter() - t0
    print(f"upsert (changed): {res.changed} orders in {secs:.2f} s = {res.changed / secs:,.0f} orders/s")
    close_database()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--bare", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        bench_end_to_end(args.orders, args.bare, Path(d))
        bench_upsert(args.orders, Path(d))


if __name__ == "__main__":
    main()
