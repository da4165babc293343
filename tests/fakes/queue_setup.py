"""A database with orders, for print-queue tests (also used by the kill-test subprocess)."""

from __future__ import annotations

from pathlib import Path

from dadan.core.db import open_database, write
from dadan.core.models import Order, Shop

SMALL_TEMPLATE = str(Path(__file__).with_name("label_60x40.toml"))


def order_sn(i: int) -> str:
    return f"240601-{i:09d}"


def db_url(target: "str | Path") -> str:
    """A database URL (kept as it is) or a SQLite file's path (as its URL)."""
    return target if isinstance(target, str) and "://" in target else f"sqlite:///{target}"


def make_db(target: "str | Path", n_orders: int):
    """Open the database at ``target`` (a URL, or a SQLite file's path) with ``n_orders`` orders."""
    db = open_database(db_url(target))
    with write():
        if not Shop.select().exists():
            shop = Shop.create(name="测试店")
            rows = [dict(shop=shop.id, order_sn=order_sn(i), source="demo", receiver_name=f"张{i}",
                         receiver_phone="13800000000", receiver_address="浙江省杭州市西湖区文三路 1 号",
                         province="浙江省", city="杭州市", tracking_number=f"YT{i:010d}")
                    for i in range(1, n_orders + 1)]
            for s in range(0, len(rows), 100):
                Order.insert_many(rows[s:s + 100]).execute()
    return db


def order_ids() -> list[int]:
    return [o.id for o in Order.select(Order.id).order_by(Order.id)]
