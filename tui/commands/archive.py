"""``dadan archive``: move shipped orders older than ``[retention] archive_after_days`` out of
the hot tables; find, export and restore archived orders. Archiving and restoring need the
"settings" permission (checked in core: :mod:`dadan.core.archive.move`)."""

from __future__ import annotations

import sys

from dadan.core.visible import visible
from dadan.tui.commands.numbers import limit


def register(sub) -> None:
    a = sub.add_parser("archive", help="archive old shipped orders; find, export, restore them (归档)",
                       description="Move shipped orders older than [retention] archive_after_days (default 180) "
                                   "out of the order list into the archive, in the same database file.")
    a.add_argument("--older-than", metavar="DAYS", help="shipped more than DAYS days ago (default: the setting)")
    a.add_argument("--dry-run", action="store_true", help="only count what would move")
    a.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    a.set_defaults(func=run_archive)
    acts = a.add_subparsers(dest="archive_command", metavar="ACTION")
    f = acts.add_parser("find", help="archived orders by order or tracking number (exact or prefix)")
    f.add_argument("text", metavar="TEXT")
    f.add_argument("--limit", type=limit, default=50)
    f.set_defaults(func=run_find)
    e = acts.add_parser("export", help="export archived orders with the order export's columns")
    e.add_argument("--format", dest="fmt", choices=("csv", "xlsx"), help="default: from the --out extension")
    e.add_argument("--out", required=True, metavar="FILE")
    e.add_argument("--from", dest="start", metavar="DATE", help="shipped on or after DATE (YYYY-MM-DD)")
    e.add_argument("--to", dest="end", metavar="DATE", help="shipped on or before DATE (YYYY-MM-DD)")
    e.set_defaults(func=run_export)
    r = acts.add_parser("restore", help="bring an archived order back to the order list")
    r.add_argument("order_sn", metavar="ORDER_SN")
    r.set_defaults(func=run_restore)


def days_arg(text: str | None, default: int) -> int:
    from dadan.core.config import ARCHIVE_DAYS_RANGE
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr

    if text is None:
        return default
    lo, hi = ARCHIVE_DAYS_RANGE
    try:
        days = int(text.strip())
    except ValueError:
        days = None
    if days is None or not lo <= days <= hi:
        raise DadanError(tr("--older-than must be a whole number of days from {lo} to {hi}, not {t!r}",
                            "--older-than 须为 {lo} 到 {hi} 之间的整天数，而不是 {t!r}", lo=lo, hi=hi, t=text))
    return days


def date_arg(option: str, text: str | None):
    import datetime as dt

    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise DadanError(tr("{o} must be a date like 2026-06-30, not {t!r}", "{o} 须为日期（如 2026-06-30），而不是 {t!r}",
                            o=option, t=text)) from None


def run_archive(args, ctx) -> int:
    from dadan.core.archive.move import archive
    from dadan.core.i18n import tr
    from dadan.core.operators import require
    from dadan.tui.commands.print import confirm

    days = days_arg(args.older_than, ctx.settings.retention.archive_after_days)
    ctx.open_db()
    if not args.dry_run:  # refused before asking (the archive checks again)
        require(ctx.operator, "settings", what=f"archive orders shipped over {days} days ago")
    planned = archive(days, actor=ctx.operator, dry_run=True)
    if args.dry_run:
        print(planned.summary())
        return 0
    if planned.moved and not confirm(tr("archive {n:,} orders shipped before {d:%Y-%m-%d}?", "归档 {d:%Y-%m-%d} 前发货的 {n:,} 个订单？",
                      n=planned.moved, d=planned.before), args.yes):
        return 1
    tty = sys.stderr.isatty()

    def progress(n: int) -> None:
        if tty:
            print(f"\r{n:,}", end="", file=sys.stderr, flush=True)

    result = archive(days, actor=ctx.operator, progress=progress)
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    print(result.summary())
    return 0


def run_find(args, ctx) -> int:
    from dadan.core.archive.lookup import find
    from dadan.core.i18n import tr
    from dadan.core.models import Shop
    from dadan.core.timeutil import fmt_local

    ctx.open_db()
    tz = ctx.settings.timezone
    found = find(args.text, limit=args.limit + 1)  # (one more: whether the list was cut)
    more, found = len(found) > args.limit, found[:args.limit]
    if not found:
        print(tr("no archived order has the number {t}", "归档中没有单号为 {t} 的订单", t=visible(args.text)))
        return 1
    shops = dict(Shop.select(Shop.id, Shop.name).tuples())
    for a in found:
        print(f"{visible(a.order_sn)}  {visible(shops.get(a.shop_id, ''))}  {visible(a.tracking_number) or '-'}  "
              + tr("shipped {s}  archived {d} by {w}", "发货 {s}  归档 {d}（{w}）",
                   s=fmt_local(a.shipped_at, tz, "%Y-%m-%d"), d=fmt_local(a.archived_at, tz, "%Y-%m-%d"),
                   w=visible(a.archived_by)))
    if more:
        print(tr("(more than {n:,} match: type more of the number, or --limit N)",
                 "（匹配超过 {n:,} 个：请输入更多位单号，或用 --limit N）", n=args.limit), file=sys.stderr)
    return 0


def run_export(args, ctx) -> int:
    from dadan.core.archive.lookup import iter_archived, shipped_between
    from dadan.core.i18n import tr
    from dadan.core.spreadsheets import export as E

    start, end = date_arg("--from", args.start), date_arg("--to", args.end)
    if start is not None and end is not None and end < start:
        raise E.ExportError(tr("--to {e} is before --from {s}", "--to {e} 早于 --from {s}", s=start, e=end))
    fmt = E.format_for(args.out, args.fmt, ("csv", "xlsx"))
    if fmt not in ("csv", "xlsx"):
        raise E.ExportError(tr("archive exports are csv or xlsx, not {f}", "归档导出仅支持 csv 或 xlsx，不支持 {f}", f=fmt))
    ctx.open_db()
    tz = ctx.settings.timezone
    res = E.export("orders", fmt, args.out, where=shipped_between(start, end, tz), tz=tz, source=iter_archived,
                   actor=ctx.operator)
    print(tr("{n:,} rows ({o:,} archived orders) written to {p}", "已写入 {n:,} 行（{o:,} 个归档订单）：{p}",
             n=res.rows, o=res.orders, p=res.path), file=sys.stderr)
    return 0


def run_restore(args, ctx) -> int:
    from dadan.core.archive.move import restore_order
    from dadan.core.i18n import tr

    ctx.open_db()
    restore_order(args.order_sn, actor=ctx.operator)
    print(tr("order {sn} restored to the order list", "订单 {sn} 已恢复到订单列表", sn=visible(args.order_sn.strip())))
    return 0
