"""``dadan handover``: per courier, the parcels printed, scanned into the open handover, handed
over, and the MISSING numbers (printed, never scanned); the latest handovers; close a courier's
handover (writes its list, 交接单, and per ``[packing] confirm_on_handover`` confirms its parcels
shipped). Scanning parcels in is the handover screen's job (F10)."""

from __future__ import annotations

from dadan.core.visible import visible
from dadan.tui.commands.numbers import limit


def register(sub) -> None:
    h = sub.add_parser("handover", help="handover to the courier: status, list, close (交接)",
                       description="Handover to the courier (交接): parcels printed, scanned, missing; close a "
                                   "courier's handover and write its list. Scan parcels in on the F10 screen.")
    acts = h.add_subparsers(dest="handover_command", metavar="ACTION", required=True)
    s = acts.add_parser("status", help="per courier: printed, scanned, handed over, missing numbers")
    s.add_argument("--courier", metavar="C", help="only this courier (its code, e.g. ZTO)")
    s.set_defaults(func=run_status)
    li = acts.add_parser("list", help="the latest handovers, newest first")
    li.add_argument("--open", dest="only_open", action="store_true", help="only those still open")
    li.add_argument("--limit", type=limit, default=50)
    li.set_defaults(func=run_list)
    c = acts.add_parser("close", help="close the courier's open handover and write its list (交接单)")
    c.add_argument("--courier", metavar="C", required=True)
    c.add_argument("--out", metavar="FILE", help=".xlsx or .csv (default: a new xlsx in the exports folder)")
    c.set_defaults(func=run_close)


def courier_code(text: str) -> str:
    """``--courier``: a courier's code or name (ZTO, zto, 中通, 中通快递) -> its code; one no
    courier has is refused (it reported nothing printed and nothing missing)."""
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.orders.couriers import CourierBook

    code = CourierBook.from_database().code_of(text)
    if code is not None:
        return code
    raise DadanError(tr("no courier is called {t} (its code or name: ZTO, 中通)", "没有名为 {t} 的快递公司（代码或名称：ZTO、中通）",
                        t=text.strip()))


def run_status(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.packing import handover

    ctx.open_db()
    courier = courier_code(args.courier) if args.courier else None
    rows = handover.status(courier=courier, tz=ctx.settings.timezone)
    if not rows:
        print(tr("no parcels to hand over", "没有待交接的包裹"))
        return 0
    for s in rows:
        print(tr("{c}: printed {p}, packed {k}, scanned {s}, handed over {h}, MISSING {m}",
                 "{c}：已打印 {p}，已验货 {k}，已扫描 {s}，已交接 {h}，缺失 {m}", c=visible(s.wp_code), p=s.printed,
                 k=s.packed, s=s.scanned, h=s.handed, m=len(s.missing)))
        for code in s.missing:
            print(f"  {tr('missing', '缺失')} {visible(code)}")
        for code in s.kept_out:
            print(f"  {tr('keep out (blocked: recycle its number)', '拿出（已拦截：回收单号）')} {visible(code)}")
    return 0


def run_list(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.packing import handover
    from dadan.core.timeutil import fmt_local

    ctx.open_db()
    rows = handover.handovers(only_open=args.only_open, limit=args.limit)
    if not rows:
        print(tr("no handovers", "没有交接单"))
        return 0
    tz = ctx.settings.timezone
    for h, n in rows:
        if h.closed_at is None:
            state = tr("open since {t} ({b})", "进行中，{t} 起（{b}）", t=fmt_local(h.opened_at, tz), b=visible(h.opened_by))
        else:
            state = tr("closed {t} ({b}) -> {p}", "已交接 {t}（{b}）-> {p}", t=fmt_local(h.closed_at, tz),
                       b=visible(h.closed_by), p=visible(h.list_path))
        print(f"#{h.id} {visible(h.wp_code)} {n} {tr('parcels', '件')} · {state}")
    return 0


def run_close(args, ctx) -> int:
    from pathlib import Path

    from dadan.core.i18n import tr
    from dadan.core.packing import handover
    from dadan.core.spreadsheets.export import resolve_export_path

    ctx.open_db()
    folder = ctx.paths.exports_dir
    out = resolve_export_path(args.out, folder) if args.out else None
    rep = handover.close(courier_code(args.courier), actor=ctx.operator, folder=Path(folder), out=out,
                         confirm=ctx.settings.packing.confirm_on_handover, tz=ctx.settings.timezone)
    print(tr("closed handover #{h} ({c}): {n} parcels; list written to {p}",
             "已交接 #{h}（{c}）：{n} 件；交接单已写入 {p}", h=rep.handover_id, c=visible(rep.wp_code), n=rep.count,
             p=visible(str(rep.path))))
    from dadan.core.packing.handover_print import queue_handover_list_for, queued_text

    listed = queue_handover_list_for(rep.handover_id, ctx.settings, ctx.operator)
    if listed is not None:
        print(queued_text(listed))
        from dadan.core.printing import queue as printing

        if printing.lease_holder(listed.printer) is None:  # no desk drives that printer: print it here
            from dadan.tui.commands.print import print_in_foreground

            print_in_foreground(ctx, listed.id)
    if ctx.settings.packing.confirm_on_handover:
        print(tr("confirmed shipped: {n} order(s); not confirmed: {k}", "已确认发货：{n} 单；未确认：{k} 单",
                 n=len(rep.shipped), k=len(rep.skipped)))
        for sn, why in rep.skipped:
            print(f"  {visible(sn)}: {visible(why)}")
    return 0
