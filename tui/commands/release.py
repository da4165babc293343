"""``dadan release`` / ``dadan hold``: release orders' exceptions (or only some kinds) or hold
them, with a reason; audited, and permission "release" once operators exist."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("release", help="release orders' exceptions with a reason (解除异常)",
                       description="Clear the exception flags of orders (all, or --flag KIND) with a reason; "
                                   "audited. Needs the permission 'release'.")
    p.add_argument("order_sn", nargs="+", metavar="ORDER_SN")
    p.add_argument("--reason", required=True, help="why (written to the audit)")
    p.add_argument("--flag", action="append", default=[], metavar="KIND",
                   help="only this kind (e.g. refund, hold, address; repeatable)")
    p.set_defaults(func=run, what="release")
    h = sub.add_parser("hold", help="hold orders with a reason (挂起)",
                       description="Hold orders (they are not printed or shipped until released); audited. "
                                   "Needs the permission 'release'.")
    h.add_argument("order_sn", nargs="+", metavar="ORDER_SN")
    h.add_argument("--reason", required=True, help="why (written to the audit)")
    h.set_defaults(func=run, what="hold", flag=[])


def run(args, ctx) -> int:
    from dadan.core.errors import DadanError, NotFound
    from dadan.core.i18n import tr
    from dadan.core.models import Order
    from dadan.core.orders import actions
    from dadan.core.orders.rules import FLAG_BY_KEY

    ctx.open_db()
    ids = []
    for sn in args.order_sn:
        o = Order.select(Order.id).where(Order.order_sn == sn.strip()).first()
        if o is None:
            raise NotFound(tr("no order {sn}", "没有订单 {sn}", sn=sn))
        ids.append(o.id)
    if args.what == "hold":
        n = actions.hold(ids, reason=args.reason, actor=ctx.operator)
        print(tr("held {n} order(s)", "已挂起 {n} 单", n=n))
        return 0
    flags = None
    for key in args.flag:
        if key not in FLAG_BY_KEY:
            raise DadanError(tr("unknown exception kind {k!r} (one of: {all})", "未知异常类型 {k!r}（可用：{all}）",
                                k=key, all=", ".join(FLAG_BY_KEY)))
        flags = (flags or 0) | int(FLAG_BY_KEY[key])
    n = actions.release(ids, reason=args.reason, actor=ctx.operator, flags=flags)
    print(tr("released {n} order(s)", "已解除 {n} 单", n=n))
    return 0
