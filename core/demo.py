"""Deterministic, realistic demo data: `dadan demo [--orders N] [--seed S]`.

Same seed and clock -> same orders. Real provinces, cities and districts; masked names and
phones on screen (plain fake receivers kept for printing previews); multi-item orders with
specs; some refunds, after-sales, risk holds and stock-outs; ship-by times from overdue to
days ahead; several SKUs and couriers; tags, remarks and buyer memos.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import sys
from bisect import bisect
from itertools import accumulate, islice
from pathlib import Path
from typing import Iterator

from peewee import OperationalError, SqliteDatabase

from dadan.core.bulk import gc_paused
from dadan.core.db import database, indexes_built_after, write
from dadan.core.demo_process import FIRST_ID, MadeElsewhere
from dadan.core.dialect import insert_ignore
from dadan.core.errors import DadanError
from dadan.core.goods import ledger
from dadan.core.goods.demo_catalogue import ACTOR as GOODS_ACTOR
from dadan.core.goods.demo_catalogue import add_demo_goods, list_demo_goods, stock_demo_goods
from dadan.core.goods.models import Goods, StockDemand
from dadan.core.i18n import tr
from dadan.core.masking import mask_name, mask_phone
from dadan.core.models import Courier, Order, OrderTag, Shop, Tag, utcnow
from dadan.core.orders import fts_scratch, fulltext
from dadan.core.orders.couriers import COURIERS, by_code, by_id, example_tracking
from dadan.core.orders.listing import ensure_statistics
from dadan.core.orders.upsert import UpsertResult, insert_new_orders, prepare_new_orders, upsert_orders
from dadan.core.platform.loopback.world import open_address_id

DEMO_SHOP = "演示店铺"

# province -> city -> districts (real names)
REGIONS: dict[str, dict[str, list[str]]] = {
    "浙江省": {"杭州市": ["西湖区", "余杭区", "滨江区", "拱墅区"], "宁波市": ["鄞州区", "海曙区", "北仑区"],
             "温州市": ["鹿城区", "瓯海区"], "金华市": ["义乌市", "婺城区"]},
    "江苏省": {"南京市": ["玄武区", "鼓楼区", "江宁区"], "苏州市": ["姑苏区", "吴中区", "昆山市"],
             "无锡市": ["梁溪区", "滨湖区"]},
    "广东省": {"广州市": ["天河区", "越秀区", "番禺区", "白云区"], "深圳市": ["南山区", "福田区", "宝安区", "龙岗区"],
             "东莞市": ["南城街道", "虎门镇"], "佛山市": ["禅城区", "顺德区"]},
    "上海市": {"上海市": ["浦东新区", "徐汇区", "闵行区", "静安区", "宝山区"]},
    "北京市": {"北京市": ["朝阳区", "海淀区", "丰台区", "东城区"]},
    "山东省": {"济南市": ["历下区", "市中区"], "青岛市": ["市南区", "黄岛区", "崂山区"], "临沂市": ["兰山区"]},
    "河南省": {"郑州市": ["金水区", "二七区", "中原区"], "洛阳市": ["洛龙区", "西工区"]},
    "四川省": {"成都市": ["武侯区", "锦江区", "高新区", "双流区"], "绵阳市": ["涪城区"]},
    "湖北省": {"武汉市": ["洪山区", "江汉区", "武昌区"], "宜昌市": ["西陵区"]},
    "湖南省": {"长沙市": ["岳麓区", "雨花区", "天心区"], "株洲市": ["天元区"]},
    "福建省": {"福州市": ["鼓楼区", "台江区"], "厦门市": ["思明区", "湖里区"], "泉州市": ["丰泽区", "晋江市"]},
    "安徽省": {"合肥市": ["蜀山区", "包河区"], "芜湖市": ["镜湖区"]},
    "河北省": {"石家庄市": ["长安区", "桥西区"], "保定市": ["竞秀区"]},
    "陕西省": {"西安市": ["雁塔区", "未央区", "碑林区"]},
    "重庆市": {"重庆市": ["渝中区", "江北区", "渝北区", "沙坪坝区"]},
    "天津市": {"天津市": ["和平区", "南开区", "河西区"]},
    "辽宁省": {"沈阳市": ["和平区", "浑南区"], "大连市": ["中山区", "甘井子区"]},
    "江西省": {"南昌市": ["东湖区", "红谷滩区"]},
    "广西壮族自治区": {"南宁市": ["青秀区", "西乡塘区"]},
    "云南省": {"昆明市": ["五华区", "盘龙区"]},
    "黑龙江省": {"哈尔滨市": ["南岗区", "道里区"]},
    "新疆维吾尔自治区": {"乌鲁木齐市": ["天山区", "沙依巴克区"]},
}
# rough order share per province (bigger e-commerce provinces first)
_PROVINCE_WEIGHTS = [14, 11, 16, 7, 5, 7, 6, 5, 4, 4, 4, 3, 3, 2, 2, 2, 2, 1, 1, 1, 0.5, 0.5]

STREETS = ["文一西路", "人民路", "解放路", "建设路", "中山路", "长江路", "滨江大道", "科技园路", "和平街", "新华路",
           "东风路", "学院路", "幸福里", "光明街", "金沙大道"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞雪梅婷宇浩"

# (goods_id, goods_name, outer_goods_id, [(sku_id, outer_id, spec, price_fen)])
PRODUCTS = [
    ("350012341", "纯棉短袖T恤男夏季宽松圆领", "TS01", [("S1001", "A12", "白色,L", 3990), ("S1002", "A13", "白色,XL", 3990),
                                                 ("S1003", "A14", "黑色,L", 3990), ("S1004", "A15", "黑色,XL", 3990)]),
    ("350012342", "加厚保暖羽绒服女中长款", "DJ02", [("S2001", "B07", "米白,M", 29900), ("S2002", "B08", "黑色,L", 29900)]),
    ("350012343", "不锈钢保温杯500ml大容量", "BW03", [("S3001", "C21", "星空蓝", 4590), ("S3002", "C22", "樱花粉", 4590)]),
    ("350012344", "抽纸整箱家用实惠装24包", "ZJ04", [("S4001", "D01", "24包", 3290)]),
    ("350012345", "儿童运动鞋防滑软底", "XZ05", [("S5001", "E31", "粉色,30码", 8900), ("S5002", "E32", "蓝色,32码", 8900),
                                          ("S5003", "E33", "蓝色,34码", 8900)]),
    ("350012346", "手机壳适用iPhone15防摔", "SJ06", [("S6001", "F11", "透明", 1290), ("S6002", "F12", "磨砂黑", 1290)]),
    ("350012347", "五常大米10斤装新米", "DM07", [("S7001", "G01", "5kg", 5980)]),
    ("350012348", "数据线Type-C快充1米", "SX08", [("S8001", "H01", "1米", 990), ("S8002", "H02", "2米", 1490)]),
    ("350012349", "洗衣凝珠持久留香100颗", "XY09", [("S9001", "J05", "100颗", 2990)]),
    ("350012350", "冬季加绒打底裤女外穿", "DK10", [("S1101", "K21", "黑色,均码", 3590), ("S1102", "K22", "灰色,均码", 3590)]),
]
_PRODUCT_WEIGHTS = [18, 6, 10, 14, 6, 12, 8, 12, 8, 6]
MEMOS = ["请尽快发货", "不要放驿站", "送人的，不要放价格单", "麻烦发顺丰", "周末不在家", "多送个袋子谢谢"]
REMARKS = ["已电话确认地址", "赠品：挂钩一个", "老客户，优先发", "缺货等补", "换发白色"]


# couriers of orders shipped already, and of orders with a waybill number taken (by weight)
_SHIPPED_WITH = tuple(by_code(code).id for code in ("ZTO", "YTO", "YUNDA", "STO", "SF"))
_WAYBILL_FROM = tuple(by_code(code).id for code in ("ZTO", "YTO", "YUNDA", "STO"))
_COSTLY_WITH = by_code("SF").id  # dear parcels go by SF


def _waybill_no(logistics_id: int, serial: int) -> str:
    """A waybill number shaped like the courier's (the catalogue's example, filled in)."""
    return example_tracking(by_id(logistics_id), serial)


def _draws(rng: random.Random):
    """``rng.randrange(a, b)`` and ``rng.choice(seq)`` without their argument checks (millions
    of calls): the same draw, ``a + below(b - a)`` / ``seq[below(len(seq))]``, where ``below``
    is the way :class:`random.Random` draws below ``n``: ``n.bit_length()`` random bits, again
    until under ``n``."""
    getrandbits = rng.getrandbits

    def below(n: int) -> int:
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return r

    def randrange(a: int, b: int) -> int:
        return a + below(b - a)

    def choice(seq):
        return seq[below(len(seq))]

    return randrange, choice


def _cumulative(weights) -> tuple[list, float, int]:
    """What ``Random.choices(population, weights=weights)`` computes on every call: the
    cumulative weights, their total and the last index (computed once here; a pick is then
    ``population[bisect(cum, random() * total, 0, hi)]``, the very draw ``choices`` makes)."""
    cum = list(accumulate(weights))
    return cum, cum[-1] + 0.0, len(cum) - 1


_PROVINCE_PICK = _cumulative(_PROVINCE_WEIGHTS)
_PRODUCT_PICK = _cumulative(_PRODUCT_WEIGHTS)
_LINES, _LINES_PICK = (1, 2, 3, 4), _cumulative((70, 20, 7, 3))
_COUNTS, _COUNTS_PICK = (1, 2, 3, 5), _cumulative((80, 14, 4, 2))
_WAYBILL_PICK = _cumulative((5, 3, 2, 1))
_CITIES = {prov: tuple(cities) for prov, cities in REGIONS.items()}
_DISCOUNTS = (0, 0, 0, 100, 300, 500)


def demo_records(n: int, seed: int = 1, *, now: dt.datetime | None = None,
                 numbers: bool = False, days: int | None = None) -> Iterator[dict]:
    """Yield ``n`` order records (the shape :func:`dadan.core.orders.upsert.upsert_orders` takes).
    Orders awaiting shipment carry no tracking number, as the platform's do (the number is taken
    when the waybill prints); ``numbers``: most of them come with one already entered, as after a
    tracking-number import (for trying scan-to-ship without a platform).

    Pay times fall in the last three days, denser recently. ``days``: in the last ``days`` days
    instead, and every order paid more than two days before ``now`` was shipped by then (received,
    once a week old), as on a desk that keeps a year of orders: only the last two days' orders
    await shipment.

    The draws are those of ``random.Random(seed)`` in a fixed order (weighted picks made as
    ``choices`` makes them), so a seed gives the same orders on every run."""
    rng = random.Random(seed)
    rand = rng.random
    randrange, choice = _draws(rng)
    day_text: dict[dt.date, str] = {}
    now = (now or utcnow()).replace(microsecond=0)
    provinces = list(REGIONS)
    products = range(len(PRODUCTS))
    seen: set[str] = set()
    buyer: tuple | None = None
    minute, second, hour = dt.timedelta(minutes=1), dt.timedelta(seconds=1), dt.timedelta(hours=1)
    span = (days or 3) * 24 * 60  # minutes
    for _ in range(n):
        # pay times over the span, denser recently
        pay = now - int(rng.triangular(5, span, 8 * 60)) * minute
        created = pay - randrange(20, 600) * second
        china_day = (pay + 8 * hour).date()
        day = day_text.get(china_day) or day_text.setdefault(china_day, f"{china_day:%y%m%d}-")
        sn = f"{day}{randrange(10**14, 10**15):015d}"
        while sn in seen:
            sn = f"{day}{randrange(10**14, 10**15):015d}"
        seen.add(sn)
        cum, total, hi = _PROVINCE_PICK
        prov = provinces[bisect(cum, rand() * total, 0, hi)]
        city = choice(_CITIES[prov])
        town = choice(REGIONS[prov][city])
        name = choice(SURNAMES) + "".join(choice(GIVEN) for _ in range(choice((1, 2))))
        phone = f"1{choice('3456789')}{randrange(10**8, 10**9)}"
        street = f"{choice(STREETS)}{randrange(1, 999)}号{randrange(1, 30)}幢{randrange(101, 2505)}室"
        if rand() < 0.04 and buyer is not None:  # a buyer's second order, to the same address: they may merge
            prov, city, town, name, phone, street = buyer
        buyer = (prov, city, town, name, phone, street)
        items = []
        cum, total, hi = _LINES_PICK
        n_lines = _LINES[bisect(cum, rand() * total, 0, hi)]
        if n_lines > 1:
            picked = rng.sample(products, n_lines)
        else:
            cum, total, hi = _PRODUCT_PICK
            picked = (bisect(cum, rand() * total, 0, hi),)
        goods_fen = 0
        for pidx in picked:
            goods_id, goods_name, outer_goods_id, skus = PRODUCTS[pidx]
            sku_id, outer_id, spec, price = choice(skus)
            cum, total, hi = _COUNTS_PICK
            count = _COUNTS[bisect(cum, rand() * total, 0, hi)]
            goods_fen += price * count
            items.append({
                "goods_id": goods_id, "goods_name": goods_name, "goods_spec": spec,
                "goods_count": count,
                "sku_id": sku_id, "outer_id": outer_id, "outer_goods_id": outer_goods_id,
                "goods_price_fen": price,
            })
        discount = min(choice(_DISCOUNTS), goods_fen // 2)
        roll = rand()
        order_status, refund_status, after_sales = 1, 1, 0
        shipping_time = None
        if roll < 0.07:
            order_status = 2
            shipping_time = pay + randrange(2, 30) * hour
        elif roll < 0.10:
            order_status = 3
            shipping_time = pay + randrange(2, 20) * hour
        elif days and now - pay > 48 * hour:  # shipped long since
            order_status = 3 if now - pay > 168 * hour else 2
            shipping_time = pay + randrange(2, 30) * hour
        risk = 1 if rand() < 0.01 else 0
        stock_out = 1 if rand() < 0.01 else 0
        r2 = rand()
        if r2 < 0.02:
            refund_status = 3
        elif r2 < 0.03:
            refund_status = 4
        elif r2 < 0.05:
            refund_status, after_sales = 2, 6
        logistics_id = None
        tracking = ""
        if order_status in (2, 3):
            logistics_id = choice(_SHIPPED_WITH)
            tracking = _waybill_no(logistics_id, randrange(10**11, 10**12))
        elif rand() < 0.6:
            # drawn whether kept or not, so that the same seed gives the same orders either way
            if goods_fen > 20000:
                entered_by = _COSTLY_WITH
            else:
                cum, total, hi = _WAYBILL_PICK
                entered_by = _WAYBILL_FROM[bisect(cum, rand() * total, 0, hi)]
            entered = _waybill_no(entered_by, randrange(10**11, 10**12))
            if numbers:
                logistics_id, tracking = entered_by, entered
        yield {
            "order_sn": sn,
            "order_status": order_status,
            "refund_status": refund_status,
            "after_sales_status": after_sales,
            "risk_control_status": risk,
            "is_stock_out": stock_out,
            "trade_type": 0,
            "created_time": created,
            "confirm_time": pay,
            "pay_time": pay,
            "updated_at": max(pay, shipping_time or pay),
            "last_ship_time": pay + 48 * hour,
            "shipping_time": shipping_time,
            "pay_amount_fen": goods_fen - discount,
            "goods_amount_fen": goods_fen,
            "discount_amount_fen": discount,
            "postage_fen": 0,
            "province": prov,
            "city": city,
            "town": town,
            "receiver_name_mask": mask_name(name),
            "receiver_phone_mask": mask_phone(phone),
            "address_mask": f"{prov}{city}{town}{street[:4]}****",
            "receiver_name": name,
            "receiver_phone": phone,
            "receiver_address": f"{prov}{city}{town}{street}",
            "open_address_id": open_address_id(name, phone, f"{prov}{city}{town}{street}"),
            "buyer_memo": choice(MEMOS) if rand() < 0.08 else "",
            "remark": choice(REMARKS) if rand() < 0.06 else "",
            "remark_tag": randrange(1, 6) if rand() < 0.05 else None,  # rng.randint(1, 5)
            "tracking_number": tracking,
            "logistics_id": logistics_id,
            "items": items,
        }


def seed_couriers() -> None:
    with write():
        Courier.insert_many(
            [{"id": c.id, "name": c.name_zh, "code": c.code, "available": True} for c in COURIERS if c.id is not None]
        ).on_conflict_ignore().execute()


_DEMO_CACHE_KIB = 1_000_000  # page cache while the demo writes (pages are allocated as used) ...
_DEMO_CACHE_SHARE = 4  # ... but no more than this share of the machine's memory
# page cache while the order table's indexes are built at the end: SQLite sorts each index in
# runs of about this size and merges them, faster than one sort of a million keys in memory
# (at 1,000,000 orders 1.4 s an index, against 2 s)
_INDEX_BUILD_CACHE_KIB = 64_000


def _demo_cache_kib() -> int:
    """The page cache while the demo writes: :data:`_DEMO_CACHE_KIB` (a 1,000,000-order demo fills
    it; pages are allocated as used, a 100,000-order one takes ~130 MB), but no more than a
    quarter of the machine's memory: a low-spec desk would swap (a smaller cache writes pages
    out as the load goes; at 200 MB a 1,000,000-order demo measured about as fast)."""
    try:
        memory_kib = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 1024
    except (ValueError, OSError, AttributeError):  # (a platform that does not say)
        return _DEMO_CACHE_KIB
    return max(_INDEX_BUILD_CACHE_KIB, min(_DEMO_CACHE_KIB, memory_kib // _DEMO_CACHE_SHARE))


@contextlib.contextmanager
def _page_cache(kib: int):
    """This SQLite page cache for this connection while the demo writes (the indexes of a
    million orders do not fit the usual one) or builds the indexes; the setting it had afterwards."""
    db = database()
    if not isinstance(db, SqliteDatabase):
        yield
        return
    before = db.execute_sql("PRAGMA cache_size").fetchone()[0]
    db.execute_sql(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA cache_size = {int(before)}")


@contextlib.contextmanager
def _journal_in_place(on: bool):
    """``on``: SQLite's rollback journal instead of its WAL for the demo's transaction into a
    database holding no orders, when no other connection has it open (else the WAL stays).
    Through the WAL every page of a big demo is written twice -- into the log, then copied into
    the database by the checkpoint at its commit (at 1,000,000 orders 1.3 GB, about 6 s) --
    where the journal writes each new page once, straight into the database, and keeps only
    the few pages the database had, for a rollback: a demo killed halfway is undone on the
    next open, as before. The WAL is back when the block ends."""
    db = database()
    if not on or not isinstance(db, SqliteDatabase):
        yield
        return
    timeout = db.execute_sql("PRAGMA busy_timeout").fetchone()[0]
    db.execute_sql("PRAGMA busy_timeout = 0")
    try:
        mode = db.execute_sql("PRAGMA journal_mode = delete").fetchone()[0]
    except OperationalError:  # another connection has the database open: it keeps the WAL
        mode = "wal"
    finally:
        db.execute_sql(f"PRAGMA busy_timeout = {int(timeout)}")
    try:
        yield
    finally:
        if mode != "wal":
            db.execute_sql("PRAGMA journal_mode = wal")


# from this many orders into an empty order table, a second process makes them (generation
# and the insert parameters) while this one writes
_MADE_ELSEWHERE_FROM = 50_000


@gc_paused
def write_demo(n: int = 2000, seed: int = 1, *, now: dt.datetime | None = None, shop_name: str = DEMO_SHOP,
               chunk: int = 5000, progress=None, numbers: bool = False, goods: bool = True,
               days: int | None = None) -> int:
    """Write ``n`` demo orders (idempotent for the same seed and clock). Returns orders written.
    ``numbers``, ``days``: see :func:`demo_records`. ``chunk``: orders per workflow batch (the printed
    orders and tags are drawn a batch at a time, so it is part of what a seed gives). ``goods``:
    a goods catalogue with stock for the orders' SKUs (:mod:`dadan.core.goods.demo_catalogue`).

    One write transaction: every order, and the planner's statistics of the order table
    (``ANALYZE``), so that the first launch afterwards walks the right indexes at once. Into
    an empty order table every order is new: they are inserted without an upsert's look-ups,
    its secondary indexes are built once at the end (:func:`dadan.core.db.indexes_built_after`;
    the partial ones few of the first batch's orders enter are filled as it goes), their SKU
    pairs and free text indexed a batch at a time (:func:`dadan.core.orders.fulltext.index_queued`)
    and, the goods catalogue written first, their stock reservations
    (:func:`dadan.core.goods.ledger.reserve_new_orders`),
    while a second process makes the next batch of a big demo. That process also builds the
    free-text index of what it made (SQLite), while this one builds the table's indexes: this
    one adopts it before committing (:mod:`dadan.core.orders.fts_scratch`) and then closes its
    connection (FTS5 keeps what it last read of the index in it)."""
    now = (now or utcnow()).replace(microsecond=0)
    seed_couriers()
    if n <= 0:
        with write():
            Shop.get_or_create(name=shop_name, defaults={"client_id": "demo", "auth_state": "unconfigured"})
        return 0
    index = None  # the free-text index made by the second process, when it makes one
    with _journal_in_place(n >= _MADE_ELSEWHERE_FROM and not has_orders()), write(), contextlib.ExitStack() as stack:
        shop, _ = Shop.get_or_create(name=shop_name, defaults={"client_id": "demo", "auth_state": "unconfigured"})
        tags = {name: Tag.get_or_create(name=name)[0].id for name in _TAGS}
        with _page_cache(_INDEX_BUILD_CACHE_KIB), indexes_built_after(Order, keep_partial=True) as load, \
                indexes_built_after(StockDemand) if load.empty else contextlib.nullcontext(), \
                _page_cache(_demo_cache_kib()):
            # into an empty order table the catalogue comes first, and each batch reserves as it
            # is written (else a pass over every order afterwards)
            added = list_demo_goods(PRODUCTS, seed) if goods and load.empty else None
            reserve = load.empty and ledger.keeps_stock()  # (the demand rows written with the orders)
            if load.empty and n >= _MADE_ELSEWHERE_FROM and not getattr(sys, "frozen", False):  # (an interpreter to start)
                index = _index_file()
                made = stack.enter_context(_made_elsewhere(n, seed, now, numbers, chunk, shop.id, days, index=index))
            else:
                made = _batches(n, seed, now, numbers, chunk, shop.id if load.empty else None, days)
            with fulltext.deferred(text=index is None):
                written = _write_batches(made, shop.id, tags, now, load, index is not None, reserve, progress, n)
        if index is not None:  # (the indexes were built meanwhile)
            fts_scratch.adopt_index(made.index_made())
        ensure_statistics(force=True)  # before the goods: their reservations and stock read the orders by plan
        if reserve:  # the demand rows are in: the reserved quantities, the guard, the demo's stock
            ours = set(added.ids) if added is not None else set()
            before = [g for (g,) in Goods.select(Goods.id).tuples() if g not in ours]  # (a catalogue imported first)
            ledger.settle_goods(before, actor=GOODS_ACTOR, lines_written=True)
            if added is not None:
                stock_demo_goods(added, now, lines_written=True)
        elif goods:
            add_demo_goods(PRODUCTS, seed, now)
    if index is not None:
        database().close()  # the next statement opens a connection that reads the adopted index
    return written


def _write_batches(made, shop_id: int, tags: dict[str, int], now: dt.datetime, load, text_elsewhere: bool,
                   reserve: bool, progress, n: int) -> int:
    """Write the demo's batches (inside :func:`write_demo`'s blocks); how many orders.
    ``text_elsewhere``: the second process indexes their text, numbering them from
    :data:`dadan.core.demo_process.FIRST_ID`: each batch's ids are checked to run on.
    ``reserve``: each batch's demand rows too (new orders into an empty table: a batch's ids
    are the range from its first to its last)."""
    written = 0
    read_ahead = getattr(made, "read_ahead", None)  # (made elsewhere: the next batch unpickled meanwhile)
    for records, prepared, printed, tagged in made:
        if prepared is not None:
            ids = insert_new_orders(shop_id, prepared)
        else:
            ids = _ids_of(shop_id, records, upsert_orders(shop_id, records, source="demo", now=now))
        first = FIRST_ID + written
        if text_elsewhere and ids != list(range(first, first + len(ids))):
            raise DadanError(tr("the demo orders were not numbered as their free-text index says",
                                "演示订单的编号与其全文索引不符"))
        _apply_workflow(ids, printed, tagged, tags, now)
        if read_ahead:
            read_ahead()
        if reserve and ids:
            ledger.reserve_new_orders(ids[0], ids[-1])
        fulltext.index_queued(text=not text_elsewhere)  # while the second process makes the next batch
        if not written:
            load.thin_out()
        written += len(ids)
        if progress:
            progress(written, n)
    return written


def _index_file() -> Path | None:
    """Where the second process of a big demo builds the free-text index: beside the database
    file. None where there is none to build or no file to put it beside (PostgreSQL: its
    trigram index is the table's own; a database in memory)."""
    db = database()
    if not isinstance(db, SqliteDatabase) or db.database in ("", ":memory:") or db.database.startswith("file:"):
        return None
    path = Path(db.database)
    return path.with_name(f".{path.name}.demo-index")


_TAGS = ("加急", "赠品", "大客户")


def _batches(n: int, seed: int, now: dt.datetime, numbers: bool, chunk: int,
             new_in_shop: int | None, days: int | None = None) -> Iterator[tuple]:
    """The demo a batch at a time: (records, their insert as new orders or None, positions of
    those printed already, (position, tag name) of those tagged). ``new_in_shop``: the shop the
    orders are known to be new in: the insert is prepared (and the records left out)."""
    records = demo_records(n, seed, now=now, numbers=numbers, days=days)
    rng = random.Random(seed * 7919 + 1)
    from_items: dict = {}  # some tens of thousands of kinds of goods among a million orders
    while batch := list(islice(records, chunk)):
        printed = [i for i, r in enumerate(batch) if r["order_status"] == 1 and rng.random() < 0.1]
        tagged = []
        for i in range(len(batch)):
            x = rng.random()
            if x < 0.06:
                tagged.append((i, "加急" if x < 0.03 else "赠品" if x < 0.05 else "大客户"))
        if new_in_shop is None:
            yield batch, None, printed, tagged
        else:
            yield None, prepare_new_orders(new_in_shop, batch, "demo", now, from_items), printed, tagged


_made_elsewhere = MadeElsewhere


def _ids_of(shop_id: int, batch: list[dict], res: UpsertResult) -> list[int]:
    """The ids of this batch's orders, in order: those the upsert just gave when all are new
    (its ids follow the records' order), else read back."""
    sns = [r["order_sn"] for r in batch]
    if res.new == len(batch):
        return res.new_ids
    ids: dict[str, int] = {}
    for i in range(0, len(sns), 400):
        part = sns[i : i + 400]
        ids.update(Order.select(Order.order_sn, Order.id)
                   .where((Order.shop == shop_id) & Order.order_sn.in_(part)).tuples())
    return [ids[sn] for sn in sns]


def _apply_workflow(ids: list[int], printed: list[int], tagged: list[tuple[int, str]], tags: dict[str, int],
                    now: dt.datetime) -> None:
    """Some awaiting orders printed already; tags on a few (by their positions in ``ids``)."""
    stamp = now.isoformat(" ")
    cur = database().cursor()
    cur.executemany('UPDATE "order" SET "state" = \'printed\', "print_count" = 1, "first_printed_at" = ?, '
                    '"last_printed_at" = ? WHERE "id" = ? AND "state" = \'new\'',
                    [(stamp, stamp, ids[i]) for i in printed])
    cur.executemany(insert_ignore(f'INSERT OR IGNORE INTO "{OrderTag._meta.table_name}" ("{OrderTag.order.column_name}", '
                                  f'"{OrderTag.tag.column_name}") VALUES (?, ?)'),
                    [(ids[i], tags[name]) for i, name in tagged])


def has_orders() -> bool:
    return Order.select(Order.id).limit(1).exists()
