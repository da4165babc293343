"""Render time per label: waybill 100x150 @ 203 dpi with barcode and CJK text.

    .venv/bin/python bench/bench_render.py [--labels 300] [--dpi 203] [--template waybill_100x150]

Prints median and p95 per label and labels per second for a batch of distinct labels
(different tracking numbers, receivers and item summaries, as in a real batch). Target:
median <= 10 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dadan.printers.fonts import find_cjk_font  # noqa: E402
from dadan.printers.layout import load_template  # noqa: E402
from dadan.printers.raster import render_label  # noqa: E402

STREETS = ["文一西路", "建设一路", "解放路", "人民大道", "友好北路", "中山东路", "龙井路"]
CITIES = ["浙江省杭州市余杭区", "广东省深圳市南山区", "新疆维吾尔自治区乌鲁木齐市沙依巴克区", "江苏省苏州市工业园区"]


def fields(i: int, rng: random.Random) -> dict:
    n_items = rng.choice((1, 1, 2, 3))
    items = "；".join(f"{rng.choice('ABCDEFG')}{rng.randrange(10, 99)} 红色,XL ×{rng.randrange(1, 4)}" for _ in range(n_items))
    return {
        "courier_name": "中通快递", "tracking_number": f"7881{rng.randrange(10**9, 10**10)}",
        "route_code": f"浙A {rng.randrange(100, 999)}-{rng.randrange(10, 99)}",
        "receiver_name": "张伟", "receiver_phone": f"138{rng.randrange(10**7, 10**8)}",
        "receiver_address": f"{rng.choice(CITIES)}{rng.choice(STREETS)}{rng.randrange(1, 999)}号"
                            f"{rng.randrange(1, 30)}幢{rng.randrange(101, 2505)}室" * rng.choice((1, 1, 2)),
        "sender_name": "杭州示例仓", "sender_phone": "0571-88886666", "sender_address": "浙江省杭州市萧山区建设一路66号",
        "items_summary": items, "item_count": n_items, "order_sn": f"240501-{rng.randrange(10**14, 10**15)}",
        "remark": "送小礼品" if i % 7 == 0 else "", "buyer_memo": "", "batch_label": f"{i + 1}/200",
        "print_time": "2024-05-01 14:03", "reprint_mark": "", "shop_name": "示例旗舰店",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=int, default=300)
    ap.add_argument("--dpi", type=int, default=203)
    ap.add_argument("--template", default="waybill_100x150")
    args = ap.parse_args()
    template = load_template(args.template)
    font = find_cjk_font()
    rng = random.Random(1)
    batch = [fields(i, rng) for i in range(args.labels)]
    render_label(template, batch[0], dpi=args.dpi, font_path=font)  # warm caches: fonts, base image
    times = []
    start = time.perf_counter()
    for f in batch:
        t0 = time.perf_counter()
        render_label(template, f, dpi=args.dpi, font_path=font)
        times.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - start
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"{args.template} @ {args.dpi} dpi, {args.labels} labels")
    print(f"median {statistics.median(times):.2f} ms/label, p95 {p95:.2f} ms, "
          f"{args.labels / total:.0f} labels/s")


if __name__ == "__main__":
    main()
