"""Import benchmark: a 50,000-row merchant-export xlsx (30 columns) and the same as CSV,
end to end (read, validate, upsert into a fresh SQLite file). Prints rows/s.

    .venv/bin/python bench/bench_import.py [ROWS] [RUNS]

Each format is imported RUNS times (default 3), each into a fresh database file; the median
run is held against the targets: xlsx <= 5 s, CSV <= 2 s for 50,000 rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADERS = ["商品", "订单号", "订单状态", "商品总价(元)", "邮费(元)", "店铺优惠折扣(元)", "平台优惠折扣(元)",
           "多多支付立减金额(元)", "用户实付金额(元)", "商家实收金额(元)", "商品数量(件)", "发货时间", "确认收货时间",
           "商品id", "商品规格", "样式ID", "商家编码-规格维度", "商家编码-商品维度", "商家备注", "售后状态", "快递单号",
           "快递公司", "订单成交时间", "承诺发货时间", "支付时间", "收货人", "手机", "省", "市", "区"]


def rows(n: int, seed: int = 5):
    """Export lines as the merchant backend writes them, with the variety of a real day's export:
    every order its own times (deal, pay, ship-by) and masked buyer; regions, products and
    SKUs drawn from the demo catalogue; ~10% two-line orders; some shipped, some in after-sale,
    some with a merchant remark."""
    from dadan.core.demo import PRODUCTS, REGIONS, REMARKS, SURNAMES

    rng = random.Random(seed)
    provinces = list(REGIONS)
    t = dt.datetime(2023, 11, 14, 0, 0, 0)
    sn = ""
    for i in range(n):
        second_line = i % 10 == 1  # the line after a first line of the same order
        if not second_line:
            t += dt.timedelta(seconds=rng.randint(1, 6))
            sn = f"231114-{rng.randrange(10**14, 10**15):015d}"
            paid = t + dt.timedelta(seconds=rng.randint(2, 90))
            shipped = rng.random() < 0.14
            status = "已发货，待收货" if shipped else "待发货"
            after = rng.choices(["无售后或售后取消", "退款中", "退款成功"], [96, 3, 1])[0]
            prov = rng.choice(provinces)
            city = rng.choice(list(REGIONS[prov]))
            town = rng.choice(REGIONS[prov][city])
            buyer = rng.choice(SURNAMES) + "**"
            phone = f"1{rng.choice('3578')}{rng.randrange(10)}****{rng.randrange(10000):04d}"
            remark = rng.choice(REMARKS) if rng.random() < 0.05 else ""
            tracking = ("\t" + f"YT{rng.randrange(10**12, 10**13)}") if shipped else ""
            courier = "圆通快递" if shipped else ""
            ship_time = (paid + dt.timedelta(hours=rng.randint(2, 30))).strftime("%Y-%m-%d %H:%M:%S") if shipped else ""
        goods_id, name, outer_goods_id, skus = rng.choice(PRODUCTS)
        sku_id, outer_id, spec, price = rng.choice(skus)
        count = rng.choice([1, 1, 1, 2, 3])
        goods = price * count
        discount = rng.choice([0, 0, 100, 300])
        yuan = lambda fen: f"{fen / 100:.2f}"  # noqa: E731
        yield [name, "\t" + sn, status, yuan(goods), "0.00", yuan(discount), "0.00", "0.00", yuan(goods - discount),
               yuan(goods - discount), count, ship_time, "", "\t" + goods_id, spec, "\t" + sku_id[1:] + "000000",
               outer_id, outer_goods_id, remark, after, tracking, courier, t.strftime("%Y-%m-%d %H:%M:%S"),
               (paid + dt.timedelta(hours=48)).strftime("%Y-%m-%d %H:%M:%S"), paid.strftime("%Y-%m-%d %H:%M:%S"),
               buyer, phone, prov, city, town]


def write_xlsx(path: Path, n: int) -> Path:
    """The merchant backend's export of ``n`` rows, as xlsx."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("订单列表")
    ws.append(HEADERS)
    for r in rows(n):
        ws.append(r)
    wb.save(path)
    return path


def make_files(d: Path, n: int) -> tuple[Path, Path]:
    x, c = write_xlsx(d / "export.xlsx", n), d / "export.csv"
    with open(c, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows(rows(n))
    return x, c


def run_one(path: Path, d: Path, label: str, n: int) -> float:
    from dadan.core.db import close_database, open_database
    from dadan.core.models import Order, Shop
    from dadan.core.orders.couriers import CourierBook
    from dadan.core.spreadsheets.commit import commit_import
    from dadan.core.spreadsheets.layout import prepare
    from dadan.core.spreadsheets.mappings import SavedMappings
    from dadan.core.spreadsheets.plan import plan_import

    db = d / f"{label}.db"
    open_database(f"sqlite:///{db}")
    shop = Shop.create(name=label)
    t0 = time.perf_counter()
    lay = prepare(path, saved=SavedMappings())
    t1 = time.perf_counter()
    plan = plan_import(lay, shop_id=shop.id, couriers=CourierBook.from_database(), dry_run_counts=False)
    t2 = time.perf_counter()
    out = commit_import(plan, actor="bench")
    t3 = time.perf_counter()
    assert out.committed, out.message
    orders = Order.select().count()
    close_database()
    total = t3 - t0
    print(f"{label:5s} {n:,} rows -> {orders:,} orders: read {t1 - t0:.2f}s, validate {t2 - t1:.2f}s, "
          f"upsert {t3 - t2:.2f}s, total {total:.2f}s = {n / total:,.0f} rows/s")
    return total


def main() -> None:
    import statistics

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        x, c = make_files(d, n)
        print(f"files: xlsx {os.path.getsize(x) / 2**20:.1f} MB, csv {os.path.getsize(c) / 2**20:.1f} MB, "
              f"{len(HEADERS)} columns")
        medians = {}
        for path, label in ((x, "xlsx"), (c, "csv")):
            times = []
            for k in range(runs):
                run_dir = d / f"{label}{k}"
                run_dir.mkdir()
                times.append(run_one(path, run_dir, label, n))
            medians[label] = statistics.median(times)
            print(f"{label:5s} median of {runs}: {medians[label]:.2f}s = {n / medians[label]:,.0f} rows/s "
                  f"(best {min(times):.2f}s, worst {max(times):.2f}s)")
        tx, tc = medians["xlsx"], medians["csv"]
        print(f"targets: xlsx <= 5 s ({'ok' if tx <= 5 else 'MISSED'}), csv <= 2 s ({'ok' if tc <= 2 else 'MISSED'})")


if __name__ == "__main__":
    main()
