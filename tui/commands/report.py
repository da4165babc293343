"""``dadan report``: orders, parcels, printed, shipped, exceptions, overdue rate, pay -> ship time
per day / week / month; shipped by courier; by shop; by operator (:mod:`dadan.core.reports`);
as text, CSV or xlsx with native charts. Money only with ``--money``."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("report", help="report per day/week/month, with charts in xlsx (报表)")
    p.add_argument("--period", choices=("day", "week", "month"), default="day",
                   help="one row per day, week (Monday to Sunday) or month (default: day)")
    p.add_argument("--from", dest="first", metavar="DATE", help="first day, e.g. 2026-11-01 (local time)")
    p.add_argument("--to", dest="last", metavar="DATE", help="last day, included (default: today)")
    p.add_argument("--money", action="store_true", help="include paid amounts (finance reports)")
    p.add_argument("--format", dest="fmt", choices=("text", "csv", "xlsx"),
                   help="output format (default: from the --out extension, else text)")
    p.add_argument("--out", metavar="FILE", help="write to this file (default: standard output; xlsx needs a file)")
    p.set_defaults(func=run)


def _format(args) -> str:
    from dadan.tui.commands.outfile import text_or_sheet_format

    return text_or_sheet_format(args.fmt, args.out)


def run(args, ctx) -> int:
    import datetime as dt

    from dadan.core.db import connection
    from dadan.core.i18n import tr
    from dadan.core.reports.figures import build_report
    from dadan.core.reports.files import report_csv, report_text, write_report
    from dadan.core.reports.periods import ReportError, default_range, parse_date
    from dadan.core.timeutil import to_local, utcnow

    fmt = _format(args)
    if fmt == "xlsx" and (not args.out or args.out == "-"):
        raise ReportError(tr("xlsx needs a file: add --out report.xlsx", "xlsx 需要文件：加上 --out report.xlsx"))
    tz = ctx.settings.timezone
    now = utcnow()
    first = parse_date(args.first) if args.first else None
    last = parse_date(args.last) if args.last else None
    if first is not None and last is None:
        last = to_local(now, tz).date()
    if last is not None and first is None:
        span_first, _ = default_range(args.period, dt.datetime.combine(last, dt.time()), "UTC")
        first = span_first
    ctx.open_db()
    with connection():
        report = build_report(args.period, first, last, tz=tz, now=now, include_money=args.money,
                              actor=ctx.operator)
    if not args.out or args.out == "-":
        sys.stdout.write(report_csv(report) if fmt == "csv" else report_text(report))
        return 0
    path = write_report(report, args.out, fmt)
    print(tr("report written to {p}", "报表已写入：{p}", p=path), file=sys.stderr)
    return 0
