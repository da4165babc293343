"""Import benchmark: a 50,000-row merchant-export xlsx (30 columns) and the same as CSV,
end to end (read, validate, upsert into a fresh SQLite file). Prints rows/s.

    .venv/bin/python bench/bench_import.py [ROWS]

Targets: xlsx <= 5 s, CSV <= 2 s for 50,000 rows.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADERS = ["商品", "订单号", "订单状态", "商品总价(元)", "邮费(元)", "店铺优惠折扣(元)", "平台优惠折扣(元)",
           "多多支付立减金额(元)", "用户实付金额(元)", "商家实收金额(元)", "商品数量(件)", "发货时间", "确认收货时间",
           "商品id", "商品规格", "样式ID", "商家编码-规格维度", "商家编码-商品维度", "商家备注", "售后状态", "快递单号",
           "快递公司", "订单成交时间", "承诺发货时间", "支付时间", "收货人", "手机", "省", "市", "区"]


def rows(n: int):
    for i in range(n):
        sn = f"231114-{i // 2 if i % 10 < 2 else i:015d}"  # ~10% two-line orders
        yield ["保温杯 500ml 不锈钢", "\t" + sn, "待发货" if i % 7 else "已发货，待收货", "29.90", "0.00", "1.00", "0.00",
               "0.00", "28.90", "28.90", 1 + i % 3, "", "", "\t" + str(3000000000 + i % 500), "红色,500ml",
               "\t" + str(90000000000 + i % 2000), f"A{i % 300:03d}", "A", "", "无售后或售后取消", "", "",
               "2023-11-14 10:00:00", "2023-11-16 10:00:00", "2023-11-14 10:00:05", "张三", "138****0000", "浙江省",
               "杭州市", "西湖区"]


def make_files(d: Path, n: int) -> tuple[Path, Path]:
    import openpyxl

    x, c = d / "export.xlsx", d / "export.csv"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("订单列表")
    ws.append(HEADERS)
    for r in rows(n):
        ws.append(r)
    wb.save(x)
    with open(c, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows(rows(n))
    return x, c


def run_one(path: Path, d: Path, label: str, n: int) -> float:
    from core import spreadsheets as S
    from core.db import close_database, open_database
    from core.models import Order, Shop

    db = d / f"{label}.db"
    open_database(f"sqlite:///{db}")
    shop = Shop.create(name=label)
    t0 = time.perf_counter()
    lay = S.prepare(path)
    t1 = time.perf_counter()
    plan = S.plan_import(lay, shop_id=shop.id, dry_run_counts=False)
    t2 = time.perf_counter()
    out = S.commit_import(plan, actor="bench")
    t3 = time.perf_counter()
    assert out.committed, out.message
    orders = Order.select().count()
    close_database()
    total = t3 - t0
    print(f"{label:5s} {n:,} rows -> {orders:,} orders: read {t1 - t0:.2f}s, validate {t2 - t1:.2f}s, "
          f"upsert {t3 - t2:.2f}s, total {total:.2f}s = {n / total:,.0f} rows/s")
    return total


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        x, c = make_files(d, n)
        print(f"files: xlsx {os.path.getsize(x) / 2**20:.1f} MB, csv {os.path.getsize(c) / 2**20:.1f} MB, "
              f"{len(HEADERS)} columns")
        tx = run_one(x, d, "xlsx", n)
        tc = run_one(c, d, "csv", n)
        print(f"targets: xlsx <= 5 s ({'ok' if tx <= 5 else 'MISSED'}), csv <= 2 s ({'ok' if tc <= 2 else 'MISSED'})")


if __name__ == "__main__":
    main()
