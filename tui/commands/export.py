"""``dadan export``: filtered orders, the bulk-ship file, pick lists and daily reports."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("export", help="export orders, bulk-ship file, pick list or daily report (导出)")
    p.add_argument("kind", nargs="?", default="orders", choices=("orders", "ship", "picklist", "daily"),
                   help="what to export (default: orders)")
    p.add_argument("--format", dest="fmt", choices=("jsonl", "csv", "xlsx"),
                   help="file format (default: from the --out extension)")
    p.add_argument("--out", required=True, metavar="FILE", help="output file ('-' for standard output)")
    p.add_argument("--query", "-q", default="", metavar="Q", help="filter, e.g. 'status:pending province:浙江'")
    p.add_argument("--shop", metavar="NAME", help="only this shop")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.models import Order
    from dadan.core.platform.shops import resolve_shop
    from dadan.core.spreadsheets import export as E

    fmt = E.format_for(args.out, args.fmt) if args.out != "-" else (args.fmt or "jsonl")
    ctx.open_db()
    tz = ctx.settings.timezone
    where = None
    if args.query.strip():
        from dadan.core.orders.query import compile_query

        where = compile_query(args.query, tz=tz)
    if args.shop:
        cond = Order.shop == resolve_shop(args.shop).id
        where = cond if where is None else (where & cond)
    tty = sys.stderr.isatty() and args.out != "-"

    def progress(n: int) -> None:
        if tty:
            print(f"\r{n:,}", end="", file=sys.stderr, flush=True)

    res = E.export(args.kind, fmt, args.out, where=where, tz=tz, progress=progress, actor=ctx.operator)
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    if args.out != "-":
        print(tr("{n:,} rows ({o:,} orders) written to {p}", "已写入 {n:,} 行（{o:,} 个订单）：{p}",
                 n=res.rows, o=res.orders, p=res.path), file=sys.stderr)
    if res.left_out:
        print(E.left_out_message(args.kind, res.left_out), file=sys.stderr)
    return 0
