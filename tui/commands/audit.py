"""``dadan audit``: read the audit log — who did what, when and why — filtered with the audit
query language (:mod:`dadan.core.audit_query`), as text, CSV, xlsx or JSON Lines."""

from __future__ import annotations

import sys

from dadan.tui.commands.numbers import limit

QUERY_HELP = ("filter, e.g. 'actor:amy action:release since:7d' "
              "(actor: action: order: since: until:, free text in the reason/detail)")


def register(sub) -> None:
    p = sub.add_parser("audit", help="read the audit log: who did what, when, why (审计日志)",
                       description="The audit log newest first. Query terms: actor:NAME (operator; several: "
                                   "either), action:ACTION, order:ORDER_SN, since:/until: (2026-11-20, "
                                   "\"2026-11-20 14:30\", today, yesterday, 7d, 2h, 30m; warehouse time), "
                                   "and free text found in the reason, target or detail.")
    p.add_argument("--query", "-q", default="", metavar="Q", help=QUERY_HELP)
    p.add_argument("--limit", type=limit, metavar="N",
                   help="at most N events (default: 50 as text, every match in a file)")
    p.add_argument("--format", dest="fmt", choices=("text", "csv", "xlsx", "jsonl"),
                   help="default: from the --out extension, else text")
    p.add_argument("--out", metavar="FILE", help="write to FILE ('-' or none: standard output)")
    p.add_argument("--actions", action="store_true", help="list the actions and operators in the log")
    p.set_defaults(func=run)


def _format(args) -> str:
    from dadan.core.spreadsheets.export import format_for

    if args.fmt:
        return args.fmt
    if args.out and args.out != "-":
        return format_for(args.out, None)
    return "text"


def run(args, ctx) -> int:
    from dadan.core import audit_query as A
    from dadan.core.errors import DadanError, QuerySyntaxError
    from dadan.core.i18n import tr
    from dadan.core.visible import visible

    fmt = _format(args)
    tz = ctx.settings.timezone
    ctx.open_db()
    if args.actions:
        print(tr("actions: {a}", "操作：{a}", a=", ".join(A.distinct_actions()) or "—"))
        print(tr("operators: {a}", "操作员：{a}", a=", ".join(visible(x) for x in A.distinct_actors()) or "—"))
        return 0
    try:
        query = A.parse(args.query, tz=tz)
    except QuerySyntaxError as exc:  # one line, with where the bad term starts
        raise QuerySyntaxError(tr("{m} (at character {p} of the query)", "{m}（查询的第 {p} 个字符处）",
                                  m=exc.message, p=exc.position + 1),
                               position=exc.position, token=exc.token, source=exc.source) from None
    if fmt == "text":
        if args.out and args.out != "-":
            raise DadanError(tr("--format text goes to the terminal; use .csv, .xlsx or .jsonl for --out",
                                "--format text 只输出到终端；--out 请用 .csv、.xlsx 或 .jsonl"))
        page = A.page(query, limit=args.limit or 50, tz=tz)
        for r in page.rows:
            print(_line(r, tz))
        print(page.range_text(), file=sys.stderr)
        return 0
    out = args.out or "-"
    n = A.export_events(query, fmt, out, tz=tz, limit=args.limit, actor=ctx.operator)
    if out != "-":
        print(tr("{n:,} events written to {p}", "已写入 {n:,} 条事件：{p}", n=n, p=out), file=sys.stderr)
    return 0


def _line(r, tz: str) -> str:
    from dadan.core.timeutil import to_local
    from dadan.core.visible import visible

    parts = [f"{to_local(r.at, tz):%Y-%m-%d %H:%M:%S}", visible(r.actor) or "—", visible(r.action), r.order_sn or "—"]
    tail = " · ".join(visible(x) for x in (r.target, r.reason, r.detail_words(skip=("order_sn",))) if x)
    return "  ".join(parts) + (f"  {tail}" if tail else "")
