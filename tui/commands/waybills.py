"""``dadan waybills`` (e-waybill accounts, choosing a branch and sender address, the default
courier, parcels and recycling numbers) and ``dadan ship`` (one-key ship of printed parcels)."""

from __future__ import annotations

import json
import sys

from dadan.core.visible import visible
from dadan.tui.commands.numbers import limit, whole


def register(sub) -> None:
    w = sub.add_parser("waybills", help="e-waybill accounts, numbers and recycling (电子面单)",
                       description="E-waybill (电子面单) accounts per shop and courier, parcels and their numbers, "
                                   "recycling numbers that will not ship.")
    ws = w.add_subparsers(dest="waybills_command", metavar="ACTION")
    a = ws.add_parser("accounts", help="subscribed couriers, branches, balances and sender addresses")
    a.add_argument("--shop", metavar="S", help="only this shop")
    a.add_argument("--format", choices=("text", "jsonl"), default="text")
    a.add_argument("--cached", action="store_true", help="do not ask the platform; show what was last read")
    a.set_defaults(func=run_waybills, waybills_command="accounts")
    u = ws.add_parser("use", help="choose the branch (and sender address) that pays for a courier's numbers")
    u.add_argument("courier", metavar="COURIER", help="wp_code, e.g. ZTO, YTO, STO, YUNDA, JTSD")
    u.add_argument("--branch", required=True, metavar="CODE", help="branch code (see `dadan waybills accounts`)")
    u.add_argument("--address", type=whole, default=1, metavar="N", help="registered sender address number (default 1)")
    u.add_argument("--shop", metavar="S")
    u.add_argument("--default", action="store_true", help="make it the shop's default courier")
    u.set_defaults(func=run_waybills, waybills_command="use")
    d = ws.add_parser("default", help="make a courier the shop's default for waybill jobs")
    d.add_argument("courier", metavar="COURIER")
    d.add_argument("--shop", metavar="S")
    d.set_defaults(func=run_waybills, waybills_command="default")
    ls = ws.add_parser("list", help="parcels and their numbers (--recycle: numbers to recycle)")
    ls.add_argument("--query", "-q", metavar="Q", help="only the parcels of these orders (a filter)")
    ls.add_argument("--recycle", action="store_true", help="blocked orders holding a live number")
    ls.add_argument("--limit", type=limit, default=200)
    ls.add_argument("--format", choices=("text", "jsonl"), default="text")
    ls.set_defaults(func=run_waybills, waybills_command="list")
    c = ws.add_parser("cancel", help="recycle the live numbers of orders (pdd.waybill.cancel)")
    c.add_argument("order_sn", nargs="*", metavar="ORDER_SN")
    c.add_argument("--recycle", action="store_true", help="every number to recycle (blocked orders)")
    c.add_argument("--reason", required=True, metavar="R", help="why (kept in the audit log)")
    c.set_defaults(func=run_waybills, waybills_command="cancel")
    w.set_defaults(func=run_waybills, waybills_command="accounts", shop=None, format="text", cached=False)

    s = sub.add_parser("ship", help="confirm shipment of printed parcels (一键发货)",
                       description="Confirm to the platform every printed, unshipped, unblocked parcel of the "
                                   "orders given, with its e-waybill number.")
    s.add_argument("order_sn", nargs="*", metavar="ORDER_SN")
    s.add_argument("--query", "-q", metavar="Q", help="a filter, e.g. 'printed:yes status:pending'")
    s.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    s.set_defaults(func=run_ship)


def _shops(name: str | None):
    from dadan.core.platform.shops import resolve_shop, shops_with_credentials

    if name:
        return [resolve_shop(name)]
    return shops_with_credentials()


def _refresh(ctx, shops) -> int:
    """Read the platform's subscriptions for ``shops``; failures are one line each."""
    from dadan.core.i18n import tr
    from dadan.core.platform.shops import ClientFactory
    from dadan.core.waybills import accounts

    _done, errors = accounts.refresh_shops(shops, ClientFactory(paths=ctx.paths, settings=ctx.settings))
    for name, why in errors.items():
        print(tr("shop '{s}': {e}", "店铺“{s}”：{e}", s=name, e=why), file=sys.stderr)
    return len(errors)


def _accounts(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.waybills import accounts

    shops = _shops(args.shop)
    failed = 0 if args.cached else _refresh(ctx, shops)
    views = [v for s in shops for v in accounts.branches(s.id)] if shops else []
    if args.format == "jsonl":
        for v in views:
            print(json.dumps(v.as_json(), ensure_ascii=False))
        return 1 if failed else 0
    if not views:
        print(tr("no e-waybill subscriptions: subscribe to a courier's e-waybill service in the merchant backend",
                 "没有电子面单订购：请先在商家后台订购快递公司的电子面单服务"))
    for v in views:
        mark = ("*" if v.default else "+") if v.chosen else " "
        print(f"{mark} {visible(v.shop)}  {v.wp_code:<6} {visible(v.courier)}  {visible(v.branch_code)} "
              f"{visible(v.branch_name)}  " + tr("balance {q}  taken {a}  cancelled {c}  recycled {r}",
                                                   "余额 {q}  已用 {a}  已取消 {c}  已回收 {r}", q=v.quantity,
                                                   a=v.allocated, c=v.cancelled, r=v.recycled))
        from dadan.core.waybills.accounts import address_text

        for i, addr in enumerate(v.addresses, 1):
            here = "→" if v.address_no == i else " "
            print(f"    {here}{i}. {visible(address_text(addr))}")
    if views:
        print(tr("(+ chosen branch, * the shop's default courier, → the sender address printed)",
                 "（+ 已选网点，* 店铺默认快递，→ 面单上的发货地址）"))
    return 1 if failed else 0


def _use(args, ctx) -> int:
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.platform.shops import ClientFactory, resolve_shop
    from dadan.core.platform.waybill_api import standard_templates
    from dadan.core.waybills import accounts

    shop = resolve_shop(args.shop)
    template = ""
    with ClientFactory(paths=ctx.paths, settings=ctx.settings)(shop) as client:
        accounts.refresh(shop, client)
        try:
            template = accounts.choose_template(standard_templates(client, args.courier.upper()), args.courier.upper(),
                                                ctx.settings.printer().height_mm)
        except DadanError as exc:  # the standard layout can be fetched later; the account stands
            print(tr("standard templates not read: {e}", "未读取标准模板：{e}", e=exc.message), file=sys.stderr)
    acc = accounts.use(shop, args.courier, args.branch, address_no=args.address, actor=ctx.operator,
                       make_default=True if args.default else None, template_url=template)
    print(tr("shop '{s}': {c} numbers from branch {b}, sender address {n}{d}",
             "店铺“{s}”：{c}单号由网点 {b} 提供，发货地址 {n}{d}", s=shop.name, c=accounts.courier_name(acc.wp_code),
             b=acc.branch_code, n=acc.address_no, d=tr(" (default courier)", "（默认快递）") if acc.is_default else ""))
    return 0


def _list(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.models import Order, Waybill, WaybillOrder
    from dadan.core.waybills import recycle

    if args.recycle:
        parcels = recycle.to_recycle(args.limit)
    else:
        q = Waybill.select().order_by(Waybill.id.desc()).limit(args.limit)
        if args.query:
            from dadan.core.orders.query import compile_query

            expr = compile_query(args.query)
            ids = Order.select(Order.id).where(expr) if expr is not None else Order.select(Order.id)
            q = q.where(Waybill.id.in_(WaybillOrder.select(WaybillOrder.waybill).where(WaybillOrder.order.in_(ids))))
        parcels = list(q)
    sns: dict[int, list[str]] = {}
    for link in (WaybillOrder.select(WaybillOrder.waybill, Order.order_sn).join(Order)
                 .where(WaybillOrder.waybill.in_([w.id for w in parcels]))):
        sns.setdefault(link.waybill_id, []).append(link.order.order_sn)
    for w in parcels:
        row = {"code": w.code, "courier": w.wp_code, "state": w.state, "orders": sns.get(w.id, []),
               "object_id": w.object_id, "print_count": w.print_count, "last_error": w.last_error,
               "cancel_error": w.cancel_error}
        if args.format == "jsonl":
            print(json.dumps(row, ensure_ascii=False))
            continue
        extra = visible(w.cancel_error or w.last_error)
        print(f"{w.code or '-':<18} {w.wp_code:<6} {w.state:<9} {','.join(row['orders'])}  {extra}".rstrip())
    if not parcels and args.format == "text":
        print(tr("no parcels", "没有包裹"))
    return 0


def _cancel(args, ctx) -> int:
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.platform.shops import ClientFactory
    from dadan.core.waybills import recycle

    factory = ClientFactory(paths=ctx.paths, settings=ctx.settings)
    if args.recycle:
        parcels = recycle.to_recycle(10_000)
        report = recycle.cancel([w.id for w in parcels], reason=args.reason, actor=ctx.operator, factory=factory)
    elif args.order_sn:
        report = recycle.cancel_orders(args.order_sn, reason=args.reason, actor=ctx.operator, factory=factory)
    else:
        raise DadanError(tr("give order numbers or --recycle", "请给出订单号或 --recycle"))
    for code in report.cancelled:
        print(tr("recycled {n}", "已回收 {n}", n=code))
    for request in report.closed:
        print(tr("request {r}: the platform allocated no number; closed", "请求 {r}：平台未分配单号；已关闭", r=request))
    for what, why in report.failed:
        print(tr("not recycled {n}: {w}", "未回收 {n}：{w}", n=visible(what), w=visible(why)), file=sys.stderr)
    return 1 if report.failed else 0


def run_waybills(args, ctx) -> int:
    ctx.open_db()
    return {"accounts": _accounts, "use": _use, "list": _list, "cancel": _cancel,
            "default": _default}[args.waybills_command](args, ctx)


def _default(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.platform.shops import resolve_shop
    from dadan.core.waybills import accounts

    shop = resolve_shop(args.shop)
    accounts.set_default(shop, args.courier, actor=ctx.operator)
    print(tr("shop '{s}': default courier {c}", "店铺“{s}”：默认快递 {c}", s=shop.name,
             c=accounts.courier_name(args.courier.upper())))
    return 0


def run_ship(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.waybills.shipping import ship_printed
    from dadan.tui.commands.print import confirm, orders_for

    ctx.open_db()
    ids = orders_for(args)
    if not confirm(tr("confirm shipment of the printed parcels among {n} order(s)?",
                      "确认回传 {n} 个订单中已打印包裹的发货？", n=len(ids)), args.yes):
        return 1
    report = ship_printed(ids, actor=ctx.operator, explain=True)
    print(tr("{s} shipped, {k} skipped", "已发货 {s}，跳过 {k}", s=len(report.shipped), k=len(report.skipped)))
    for sn, why in report.skipped[:20]:
        print(f"  {visible(sn)}: {visible(why)}", file=sys.stderr)
    return 0
