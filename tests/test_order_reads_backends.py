"""The order screen's reads give the same answers on SQLite and PostgreSQL: every built-in and
saved view, exception group, a set of filters over every field, their counts, first pages in
several sorts and the page after, and an order's detail -- read from a SQLite demo and from the
same rows copied into a PostgreSQL database."""

from __future__ import annotations

import datetime as dt

from dadan.core.db import close_database, open_database
from dadan.core.models import Order
from dadan.core.orders import exception_groups, views
from dadan.core.orders.detail import order_detail
from dadan.core.orders.listing import count, ensure_statistics, fetch_page
from dadan.core.orders.query import compile_query
from dadan.core.orders.selection import Selection
from tests.pg_copy import demo_file, demo_on_postgres

NOW = dt.datetime(2026, 11, 21, 4, 0, 0)
N = 1500
FILTERS = [
    "保温杯", "保", "杯 红", '"x%"', "a_b", "-保温杯", "goods:保温", "sku:A12", "sku=a12", "sku:a", "-sku:b",
    "province:浙江", "province:浙江,江苏", "-province:浙江", "city:杭", "town:西", "sn:2611", "sn:26*",
    "tracking:yes", "tracking:no", "tracking:YT", "status:pending", "status:shipped,received", "state:printed",
    "printed:no", "exception:any", "exception:refund", "blocked:yes", "overdue:yes", "due<2h", "due<20h",
    "paid<2h", "paid:today", "paid>=2026-11-20", "created:yesterday", "updated<3d", "courier:中通", "courier:none",
    "amount>100", "qty>=3", "flag:red", "flag:none", "tag:加急", "-tag:加急", "shop:nosuch", "source:demo",
    "remark:yes", "remark:加急", "memo:no", "reprint:yes", "waybill:none", "waybill:recycle", "stock:low",
    "stock:short", "status:pending province:浙江 sku:A12 printed:no due<20h tag:加急",
    "memo:yes", "memo:尽快", "remark:no", "-remark:no", "flag:yes", "tracking:no status:pending",
    "province:浙江 remark:no flag:none", "city:杭州 -tracking:no", "due<1d", "courier:中通 status:pending",
    "-courier:中通", "courier!=中通", "-flag:red", "-due<2h", "-paid<2h", "status:pending -overdue:yes",
]
SORTS = ["-pay_time", "pay_time", "last_ship_time", "-updated_at", "order_sn", "-province", "logistics_id"]


def _saved() -> None:
    from dadan.core.db import write

    with write():  # orders without a pay time or a deadline (imported ones): SQLite sorts them first
        Order.update(pay_time=None).where(Order.id % 17 == 0).execute()
        Order.update(last_ship_time=None).where(Order.id % 19 == 0).execute()
    views.save_view("浙江加急", "province:浙江 tag:加急", "-pay_time")
    views.save_view("big", "amount>200 -exception:any", "pay_amount_fen")


def _reads() -> dict:
    out: dict = {}
    queries = [(q, "") for q in FILTERS] + [(v.query, v.sort) for v in views.all_views()]
    for q, sort in queries:
        where = compile_query(q, now=NOW)
        ids = Order.select(Order.id).order_by(Order.id)
        out[q, "ids"] = [r[0] for r in (ids.where(where) if where is not None else ids).tuples()]
        out[q, "count"] = count(where)
        for s in [sort] if sort else SORTS:
            first = fetch_page(where, s, limit=25)
            out[q, s] = [r.id for r in first.rows], first.has_next
            if first.has_next:
                out[q, s, "next"] = [r.id for r in fetch_page(where, s, after=first.last_key, limit=25).rows]
    out["views"] = [(v.key, v.name, v.query, v.sort) for v in views.all_views()]
    out["groups"] = exception_groups.group_counts(now=NOW)
    for g in exception_groups.GROUPS:
        out[g.key] = [o.id for o in exception_groups.group_orders(g.key, now=NOW)]
    every = Selection(query="", all_matching=True)
    out["selection"] = every.order_ids(now=NOW)
    out["selection", 7] = every.order_ids(now=NOW, limit=7)
    assert out["selection", 7] == out["selection"][:7]  # (the first of them, read as the tracking screen reads them)
    for oid in (1, N // 2, N):
        d = order_detail(oid)
        out[oid] = (d.order.order_sn, d.shop, d.courier, [i.id for i in d.items], d.tags, [p.id for p in d.prints],
                    [e.id for e in d.events], [a.id for a in d.audit], len(d.parcels or []))
    return out


def test_the_order_screens_reads_are_the_same_on_both_backends():
    path = demo_file(N, 5, NOW, _saved)
    open_database(f"sqlite:///{path}")
    try:
        ensure_statistics(force=True)
        sqlite = _reads()
    finally:
        close_database()
    demo_on_postgres(N, 5, NOW, _saved)
    try:
        postgres = _reads()
    finally:
        close_database()
    assert sqlite.keys() == postgres.keys()
    differ = [k for k in sqlite if sqlite[k] != postgres[k]]
    assert not differ, [(k, sqlite[k], postgres[k]) for k in differ[:3]]
    # the sample means something: most filters find orders, and pages go on
    assert sum(bool(sqlite[q, "ids"]) for q in FILTERS) > len(FILTERS) * 2 // 3
    assert sum(1 for k in sqlite if isinstance(k, tuple) and k[-1] == "next") > 50
