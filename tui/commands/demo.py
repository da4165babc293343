"""``dadan demo``: write deterministic demo orders into the database."""

from __future__ import annotations

import argparse
import sys


def _whole_number(low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:,} and {high:,}")
        return n

    return parse


def register(sub) -> None:
    p = sub.add_parser("demo", help="write realistic demo orders (写入演示订单)")
    p.add_argument("--orders", type=_whole_number(0, 1_000_000), default=2000, metavar="N", help="how many orders (default 2000)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (same seed, same orders)")
    p.add_argument("--if-empty", action="store_true", help="only when the database has no orders yet")
    p.add_argument("--platform", action="store_true", help="sync live from a loopback demo platform (no credentials)")
    p.add_argument("--days", type=_whole_number(1, 3650), metavar="D",
                   help="pay times over the last D days, orders paid over two days ago shipped: a desk with "
                        "history (default: the last 3 days, most awaiting shipment) (订单分布在最近 D 天，两天前的已发货)")
    p.add_argument("--numbers", action="store_true",
                   help="orders awaiting shipment come with a tracking number, as if imported (offline printing)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from dadan.core.demo import has_orders, write_demo
    from dadan.core.i18n import tr
    from dadan.core.operators import put_off_first_admin

    put_off_first_admin(ctx.paths.data_dir, "demo data")  # a demo's desk opens on its orders
    if getattr(args, "platform", False):
        from dadan.tui.commands.sync import run_demo_platform_cli

        return run_demo_platform_cli(args, ctx)
    ctx.open_db()
    if args.if_empty and has_orders():
        return 0
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            print(f"\r{done:,}/{total:,}", end="", file=sys.stderr, flush=True)

    n = write_demo(args.orders, args.seed, progress=progress, numbers=args.numbers, days=args.days)
    if tty:
        print(file=sys.stderr)
    print(tr("wrote {n:,} demo orders to {db}", "已写入 {n:,} 个演示订单：{db}", n=n, db=ctx.database_url))
    return 0
