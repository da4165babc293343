"""``dadan print`` (queue labels and print them), ``dadan queue`` (jobs: list, show, pause,
resume/retry, cancel, resolve uncertain labels) and ``dadan printers`` (list, status, test,
calibrate)."""

from __future__ import annotations

import sys

from dadan.core.visible import visible
from dadan.tui.commands.numbers import limit, whole


def register(sub) -> None:
    p = sub.add_parser("print", help="print labels for orders (打印面单)",
                       description="Queue one label per order and print them. Orders already printed need "
                                   "--reprint REASON; blocked orders are left out.")
    p.add_argument("order_sn", nargs="*", metavar="ORDER_SN",
                   help="order numbers (printed in the wave's pick-walk order; --in-order: in this order)")
    p.add_argument("--query", "-q", metavar="Q", help="a filter, e.g. 'status:pending printed:no province:浙江'")
    p.add_argument("--template", "-t", metavar="NAME", help="label template (default: the printer's)")
    p.add_argument("--printer", "-p", metavar="NAME", help="printer profile (default: default_printer)")
    p.add_argument("--reprint", metavar="REASON", help="print again orders already printed (audited)")
    p.add_argument("--courier", metavar="CODE", help="courier whose e-waybill numbers to take (wp_code, e.g. ZTO; "
                   "default: each shop's default courier)")
    m = p.add_mutually_exclusive_group()
    m.add_argument("--merge", dest="merge", action="store_true", default=None,
                   help="merge one buyer's orders into one parcel (合单; default: setting packing.merge)")
    m.add_argument("--no-merge", dest="merge", action="store_false", help="one parcel per order")
    p.add_argument("--in-order", action="store_true",
                   help="print in the order given, not in the pick-walk order of the wave (setting packing.waves)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--wait", action="store_true",
                   help="wait until the job is finished even when another dadan is printing it")
    p.set_defaults(func=run_print)

    q = sub.add_parser("queue", help="print jobs: list, show, pause, resume, cancel, resolve (打印队列)")
    qs = q.add_subparsers(dest="queue_command", metavar="ACTION")
    ls = qs.add_parser("list", help="recent jobs (open ones with --open)")
    ls.add_argument("--open", action="store_true", help="only queued, printing and paused jobs")
    ls.add_argument("--limit", type=limit, default=20)
    ls.set_defaults(func=run_queue, queue_command="list")
    for name, helptext in (("show", "a job's labels and their states"), ("pause", "pause a job"),
                           ("resume", "resume a paused job; failed labels are sent again (also: retry)"),
                           ("retry", "same as resume"), ("cancel", "cancel what has not been sent")):
        a = qs.add_parser(name, help=helptext)
        a.add_argument("job", type=whole, metavar="JOB")
        if name in ("resume", "retry"):
            a.add_argument("--print", dest="print_now", action="store_true",
                           help="print it now in this terminal")
        a.set_defaults(func=run_queue, queue_command=name)
    r = qs.add_parser("resolve", help="decide on a label that may or may not have printed")
    r.add_argument("item", type=whole, nargs="?", metavar="ITEM", help="item id (see `dadan queue show JOB`)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--printed", action="store_true", help="it printed: count it as sent")
    g.add_argument("--not-printed", action="store_true", help="it did not print: send it again on resume")
    r.add_argument("--note", default="", help="why (kept in the audit log)")
    r.set_defaults(func=run_queue, queue_command="resolve")
    rc = qs.add_parser("recover", help="mark labels left 'sending' by a crash as uncertain")
    rc.set_defaults(func=run_queue, queue_command="recover")
    q.set_defaults(func=run_queue, queue_command="list", open=False, limit=20)

    pr = sub.add_parser("printers", help="printer profiles: list, status, test, calibrate (打印机)")
    ps = pr.add_subparsers(dest="printers_command", metavar="ACTION")
    pl = ps.add_parser("list", help="configured printers")
    pl.set_defaults(func=run_printers, printers_command="list")
    for name, helptext in (("status", "ask the printer its status (TSPL and ESC/POS printers that answer)"),
                           ("test", "print a sample label with the printer's template"),
                           ("calibrate", "print a millimetre grid to set offset_x_mm / offset_y_mm")):
        a = ps.add_parser(name, help=helptext)
        a.add_argument("name", nargs="?", metavar="NAME")
        a.set_defaults(func=run_printers, printers_command=name)
    pr.set_defaults(func=run_printers, printers_command="list")


# ------------------------------------------------------------------ print
def orders_for(args) -> list[int]:
    from dadan.core.errors import DadanError, NotFound
    from dadan.core.i18n import tr
    from dadan.core.models import Order

    ids: list[int] = []
    if args.order_sn:
        found: dict[str, list[int]] = {}
        for o in Order.select(Order.id, Order.order_sn).where(Order.order_sn.in_(args.order_sn)):
            found.setdefault(o.order_sn, []).append(o.id)
        missing = [sn for sn in args.order_sn if sn not in found]
        if missing:
            raise NotFound(tr("no order {sn}", "没有订单 {sn}", sn=missing[0]))
        for sn in dict.fromkeys(args.order_sn):
            ids.extend(found[sn])
    if args.query:
        from dadan.core.orders.query import compile_query

        expr = compile_query(args.query)
        q = Order.select(Order.id).order_by(Order.pay_time, Order.id)
        if expr is not None:
            q = q.where(expr)
        given = set(ids)  # (once: a year's filter is hundreds of thousands of orders)
        ids.extend(i for (i,) in q.tuples() if i not in given)
    if not ids and args.query:
        raise DadanError(tr("no order matches the filter {q}", "没有订单符合筛选条件 {q}", q=args.query))
    if not ids:
        raise DadanError(tr("no orders: give order numbers or --query", "没有订单：请给出订单号或 --query"))
    return ids


def confirm(question: str, yes: bool) -> bool:
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr

    if yes:
        return True
    if not sys.stdin.isatty():
        raise DadanError(tr("{q} — add --yes to confirm when not at a terminal", "{q} — 非交互运行时请加 --yes 确认",
                            q=question))
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes", "是")


def _progress(ev) -> None:
    if ev.kind == "label-sent" and sys.stderr.isatty():
        print(f"\r{ev.seq}/{ev.total}", end="", file=sys.stderr, flush=True)


def print_in_foreground(ctx, job_id: int) -> int:
    from dadan.core.i18n import tr
    from dadan.core.printing import queue as printing
    from dadan.core.printing.worker import PrintWorker, profile_for

    job = printing.get_job(job_id)
    holder = printing.lease_holder(job.printer)
    if holder is None:
        from dadan.core.platform.shops import ClientFactory

        worker = PrintWorker(profile_for(ctx, job.printer), settings=ctx.settings,
                             preview_dir=ctx.paths.preview_dir, on_event=_progress,
                             client_factory=ClientFactory(paths=ctx.paths, settings=ctx.settings))
        try:
            worker.run_pending(job_id)
        finally:
            if sys.stderr.isatty():
                print(file=sys.stderr)
    else:
        import time

        print(tr("printer '{p}' is driven by another dadan; waiting for job #{j}",
                 "打印机 '{p}' 正由另一个 dadan 驱动；等待任务 #{j}", p=job.printer, j=job_id), file=sys.stderr)
        while printing.get_job(job_id).state in ("queued", "printing"):
            time.sleep(0.5)
    return _report(ctx, job_id)


def _report(ctx, job_id: int) -> int:
    from dadan.core.i18n import tr
    from dadan.core.printing import queue as printing

    v = printing.job_view(job_id)
    skipped = v.counts.get("skipped", 0)
    line = tr("job #{j}: {s} of {t} labels sent", "任务 #{j}：已发送 {s}/{t} 张", j=v.id, s=v.sent, t=v.total)
    if skipped:
        line += tr(", {n} skipped", "，跳过 {n} 张", n=skipped)
    if v.state == "done":
        print(line)
        if ctx.settings.printer(v.printer).driver == "preview":
            print(tr("preview: {d}", "预览：{d}", d=ctx.paths.preview_dir))
        return 0
    print(f"{line} — {v.state}: {visible(v.state_reason)}", file=sys.stderr)
    for it in printing.job_items(job_id, ["skipped", "failed", "uncertain"])[:20]:
        sn = it.order.order_sn if it.order_id else "-"
        print(f"  #{it.seq} {visible(sn)} {it.state}: {visible(it.reason)}", file=sys.stderr)
    return 1 if v.state in ("paused", "cancelled") else 0


def run_print(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.printing import queue as printing
    from dadan.core.printing.plan import plan_print
    from dadan.printers.layout import load_template
    from dadan.printers.template_choice import prints_waybills

    printer = ctx.settings.printer(args.printer)
    template = args.template or printer.template
    load_template(template)  # a template that does not load is refused before anything is queued
    from dadan.core.packing.wave_print import check_pick_list_printer, queue_pick_list_for, queued_text

    check_pick_list_printer(ctx.settings)  # an unknown pick list printer: refused before anything is queued
    ctx.open_db()
    _recover_abandoned()
    ids = orders_for(args)
    merge = args.merge if args.merge is not None else ctx.settings.packing.merges
    plan = plan_print(ids, reprint=bool(args.reprint), waybill=prints_waybills(template),
                      courier=args.courier, merge=merge)
    print(plan.summary(), file=sys.stderr)
    for job_id in plan.queued_jobs()[:3]:
        if (hint := _waiting_hint(job_id)) is not None:
            print(hint, file=sys.stderr)
    for o, why in plan.no_number[:10]:
        print(f"  {visible(o.order_sn)}: {visible(why)}", file=sys.stderr)
    for line in plan.warnings():
        print(tr("warning: {w}", "注意：{w}", w=line), file=sys.stderr)
    for o, why in plan.blocked[:10]:
        print(f"  {o.order_sn}: {why}", file=sys.stderr)
    for o in plan.printed[:10]:
        print(f"  {o.order_sn}: " + tr("printed {n}× (add --reprint REASON)", "已打印 {n} 次（加 --reprint 原因）",
                                       n=o.print_count), file=sys.stderr)
    if not plan.ready:
        return 1
    if plan.mergeable and not plan.merged and not args.reprint:
        print(tr("not merged: {n} orders could ride with the same buyer's (--merge)",
                 "未合单：{n} 单可与同一买家的订单合包（--merge）", n=plan.mergeable), file=sys.stderr)
    question = tr("print {n} label(s) on '{p}' with template {t}?", "用模板 {t} 在 '{p}' 上打印 {n} 张？",
                  n=plan.labels, p=printer.name, t=template)
    if not confirm(question, args.yes):
        return 1
    ready = [o.id for o in plan.ready]
    if args.reprint:
        job = printing.create_reprint_job(ready, reason=args.reprint, printer=printer.name, template=template,
                                          actor=ctx.operator, courier=args.courier)
    else:
        job = printing.create_job(ready, printer=printer.name, template=template, actor=ctx.operator,
                                  skip_excluded=True, courier=args.courier, merge=merge,
                                  wave=ctx.settings.packing.waves and not args.in_order)
    print(tr("queued job #{j} ({n} labels)", "已加入任务 #{j}（{n} 张）", j=job.id, n=job.total), file=sys.stderr)
    pick = None if args.reprint else queue_pick_list_for(job, ctx.settings, ctx.operator)
    if pick is not None:  # the wave's pick list, printed before its labels when this dadan drives both
        print(queued_text(pick), file=sys.stderr)
        if printing.lease_holder(pick.printer) is None:
            print_in_foreground(ctx, pick.id)
    if not args.wait and printing.lease_holder(printer.name) is not None:
        print(tr("the dadan driving '{p}' will print it", "正在驱动 '{p}' 的 dadan 会打印它", p=printer.name))
        return 0
    return print_in_foreground(ctx, job.id)


def _recover_abandoned() -> None:
    """Jobs a dadan left behind when it stopped (killed, the terminal closed) get their true
    state before anything shows them or plans around them: what ``dadan queue recover`` does,
    only for printers no live dadan drives (a label in flight becomes uncertain and its job
    pauses; a job stopped between labels waits again)."""
    from dadan.core.i18n import tr
    from dadan.core.printing import queue as printing

    n = printing.recover_uncertain()
    if n:
        print(tr("{n} label(s) were being sent when a dadan stopped; their jobs are paused until you decide "
                 "whether they printed (dadan queue resolve)",
                 "{n} 张标签在 dadan 中断时正在发送；其任务已暂停，请确认是否已打印（dadan queue resolve）", n=n),
              file=sys.stderr)


def _waiting_hint(job_id: int) -> str | None:
    """What to do about an open job the plan's orders already wait in, when no dadan is
    printing it (None while one is)."""
    from dadan.core.i18n import tr
    from dadan.core.printing import queue as printing

    job = printing.get_job(job_id)
    if job.state == "paused":
        return tr("  job #{j} is paused: {r} (dadan queue show {j})", "  任务 #{j} 已暂停：{r}（dadan queue show {j}）",
                  j=job_id, r=visible(job.state_reason) or "-")
    if printing.lease_holder(job.printer) is not None:
        return None
    return tr("  job #{j} waits and no dadan is printing it: dadan queue resume {j} --print",
              "  任务 #{j} 在等待，但没有 dadan 在打印它：dadan queue resume {j} --print", j=job_id)


# ------------------------------------------------------------------ queue
def run_queue(args, ctx) -> int:
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.printing import queue as printing
    from dadan.core.timeutil import fmt_local

    ctx.open_db()
    cmd = args.queue_command
    if cmd in ("list", "show"):
        _recover_abandoned()
    if cmd == "list":
        jobs = printing.list_jobs(open_only=args.open, limit=args.limit)
        if not jobs:
            print(tr("no print jobs", "没有打印任务"))
        for v in jobs:
            extra = f"  {v.state_reason}" if v.state_reason else ""
            print(f"#{v.id:<5} {fmt_local(v.created_at, ctx.settings.timezone, '%m-%d %H:%M')}  {v.printer:<10} "
                  f"{v.kind:<8} {v.state:<9} {v.progress():>9}{extra}")
        return 0
    if cmd == "show":
        v = printing.job_view(args.job)
        print(f"#{v.id} {v.printer} {v.template} {v.kind} {v.state} {v.progress()} {visible(v.state_reason)}")
        for it in printing.job_items(args.job):
            sn = it.order.order_sn if it.order_id else "-"
            mark = f" R{it.reprint_no}" if it.is_reprint else ""
            print(f"  item {it.id:<7} #{it.seq:<4} {visible(sn)}{mark:<4} {it.state:<9} {visible(it.reason)}")
        return 0
    if cmd == "pause":
        printing.pause_job(args.job, actor=ctx.operator)
        v = printing.job_view(args.job)
        if v.state != "paused":  # (a finished or cancelled job: nothing to pause)
            print(tr("job #{j} is {s}: nothing to pause", "任务 #{j} 为{s}：无可暂停", j=args.job, s=v.state), file=sys.stderr)
            return 1
        print(tr("job #{j} paused", "任务 #{j} 已暂停", j=args.job))
        return 0
    if cmd in ("resume", "retry"):
        n = printing.resume_job(args.job, actor=ctx.operator)
        print(tr("job #{j}: {n} label(s) queued", "任务 #{j}：{n} 张待打印", j=args.job, n=n))
        return print_in_foreground(ctx, args.job) if args.print_now else 0
    if cmd == "cancel":
        n = printing.cancel_job(args.job, actor=ctx.operator)
        print(tr("job #{j}: {n} label(s) cancelled", "任务 #{j}：已取消 {n} 张", j=args.job, n=n))
        return 0
    if cmd == "recover":
        n = printing.recover_uncertain()
        print(tr("{n} label(s) marked uncertain", "{n} 张标签标为待确认", n=n))
        return 0
    if cmd == "resolve":
        if args.item is None:
            items = printing.uncertain_items()
            if not items:
                print(tr("no uncertain labels", "没有待确认的标签"))
            for it in items:
                print(f"item {it.id}  job #{it.job_id} #{it.seq}  {visible(it.reason)}")
            return 0
        if not (args.printed or args.not_printed):
            raise DadanError(tr("say --printed or --not-printed", "请指定 --printed 或 --not-printed"))
        printing.resolve_uncertain(args.item, printed=args.printed, actor=ctx.operator, note=args.note)
        return 0
    return 2


# ------------------------------------------------------------------ printers
def run_printers(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.printing.worker import profile_for

    cmd = args.printers_command
    if cmd == "list":
        printers = ctx.settings.printers
        if not printers:
            print(tr("no printers configured: labels go to the preview folder {d}",
                     "未配置打印机：标签写入预览目录 {d}", d=ctx.paths.preview_dir))
            return 0
        default = ctx.settings.default_printer or printers[0].name
        for p in printers:
            star = "*" if p.name == default else " "
            print(f"{star} {p.name:<12} {p.driver:<7} {p.uri or '-':<28} {p.width_mm:g}x{p.height_mm:g} mm "
                  f"{p.dpi} dpi  {p.template}")
        return 0
    from dadan.printers.device import PrinterSession

    prof = profile_for(ctx, args.name)
    session = PrinterSession(prof)
    if cmd == "status":
        if not session.can_query:
            print(tr("printer '{p}' cannot report its status over {u}", "打印机 '{p}' 无法通过 {u} 报告状态",
                     p=prof.name, u=prof.uri or "-"))
            return 0
        try:
            session.transport.open()
            status = session.query_status()
        finally:
            session.close()
        print(f"{prof.name}: {status.text()}")
        return 0 if status.ready else 1
    from dadan.core.desk_settings import send_test_print

    name = "calibration" if cmd == "calibrate" else "test"
    sent_to = send_test_print(ctx, prof.name, calibration=cmd == "calibrate")
    where = f" -> {sent_to}" if sent_to.endswith((".png", ".pdf")) else ""
    print(tr("sent a {k} print to '{p}'{w}", "已向 '{p}' 发送{k}打印{w}", p=prof.name, w=where,
             k=tr(name, {"calibration": "校准", "test": "测试"}[name])))
    return 0
