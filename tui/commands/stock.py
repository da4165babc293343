"""``dadan stock``: receive goods from a file (all or nothing) or one SKU at a time, record a
count, adjust by hand with a reason, and list a SKU's movements. Every change is a stock
movement with who (the operator), when and why, and needs the "stock" permission (checked in
core: :mod:`dadan.core.goods.receiving`)."""

from __future__ import annotations

from dadan.core.visible import visible
from dadan.tui.commands.goods import file_arguments, print_table, run_checked
from dadan.tui.commands.numbers import limit


def register(sub) -> None:
    s = sub.add_parser("stock", help="receive, count, adjust stock; list movements (库存)",
                       description="Stock movements: receive, count, adjust. On hand is their sum.")
    acts = s.add_subparsers(dest="stock_command", metavar="ACTION", required=True)
    r = acts.add_parser("receive", help="receive goods from a file of 商家编码 or 条码 + 数量 [+ 备注] (入库)")
    file_arguments(r, run_receive)
    r.add_argument("--again", action="store_true",
                   help="receive a file that was received before (the same bytes) a second time")
    a = acts.add_parser("add", help="receive QTY of one SKU (入库)")
    a.add_argument("code", metavar="CODE_OR_BARCODE")
    a.add_argument("qty", metavar="QTY")
    a.add_argument("--reason", default="", help="why (default: received by hand)")
    a.set_defaults(func=run_add)
    c = acts.add_parser("count", help="the shelf holds QTY: record the difference as a correction (盘点)")
    c.add_argument("code", metavar="CODE_OR_BARCODE")
    c.add_argument("qty", metavar="QTY")
    c.add_argument("--reason", default="", help="why (default: counted QTY)")
    c.set_defaults(func=run_count)
    d = acts.add_parser("adjust", help="add or take off +/-QTY by hand, with a reason (调整)")
    d.add_argument("code", metavar="CODE_OR_BARCODE")
    d.add_argument("qty", metavar="+/-QTY")
    d.add_argument("--reason", required=True, help="why (required)")
    d.set_defaults(func=run_adjust)
    m = acts.add_parser("moves", help="a SKU's stock movements, newest first (库存流水)")
    m.add_argument("code", metavar="CODE_OR_BARCODE")
    m.add_argument("--limit", type=limit, default=50)
    m.set_defaults(func=run_moves)


MAX_STOCK_QTY = 1_000_000_000  # pieces one typed receipt, count or adjustment may move


def qty_arg(text: str, *, signed: bool = False, minimum: int = 1) -> int:
    """A quantity typed on the command line: a whole number (signed: +N or -N, not 0)."""
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr

    t = text.strip()
    try:
        n = int(t)
    except ValueError:
        n = None
    if n is not None and abs(n) > MAX_STOCK_QTY:  # (nor could the ledger's sums hold many of them)
        raise DadanError(tr("the quantity {t} is implausibly large (at most {m:,})", "数量 {t} 过大（最多 {m:,}）",
                            t=text, m=MAX_STOCK_QTY))
    if signed:
        if n is None or n == 0:
            raise DadanError(tr("the quantity must be a whole number other than 0 (e.g. +5 or -2), not {t!r}",
                                "数量须为非 0 的整数（如 +5 或 -2），而不是 {t!r}", t=text))
        return n
    if n is None or n < minimum:
        raise DadanError(tr("the quantity must be a whole number of at least {m}, not {t!r}",
                            "数量须为不小于 {m} 的整数，而不是 {t!r}", m=minimum, t=text))
    return n


def goods_arg(text: str):
    """The SKU with this code or barcode (one-line error when there is none)."""
    from dadan.core.errors import DadanError
    from dadan.core.goods.catalogue import find
    from dadan.core.i18n import tr

    g = find(text)
    if g is None:
        raise DadanError(tr("no SKU has the code or barcode {c}", "没有商家编码或条码为 {c} 的商品", c=visible(text)))
    return g


def _stock_line(goods_id: int) -> str:
    from dadan.core.goods.models import Goods
    from dadan.core.i18n import tr

    g = Goods.get_by_id(goods_id)
    return tr("{c}: on hand {h}, reserved {r}, available {a}", "{c}：库存 {h}，占用 {r}，可用 {a}",
              c=visible(g.code), h=g.on_hand, r=g.reserved, a=g.available)


def run_receive(args, ctx) -> int:
    from dadan.core.goods.receiving import commit_receive, plan_receive, write_rejects
    from dadan.core.operators import require

    ctx.open_db()
    if not args.dry_run:  # refused before the file is read (the commit checks again)
        require(ctx.operator, "stock", what=f"receive file {args.file}")
    import functools

    plan = plan_receive(args.file)
    return run_checked(plan, args, write_rejects=write_rejects, actor=ctx.operator,
                       commit=functools.partial(commit_receive, again=args.again))


def run_add(args, ctx) -> int:
    from dadan.core.goods.receiving import move_by_hand
    from dadan.core.i18n import tr

    qty = qty_arg(args.qty)
    ctx.open_db()
    g = goods_arg(args.code)
    move_by_hand(g.id, qty, "receive", actor=ctx.operator, reason=args.reason or tr("received by hand", "手工入库"))
    print(_stock_line(g.id))
    return 0


def run_count(args, ctx) -> int:
    from dadan.core.goods.receiving import count_by_hand
    from dadan.core.i18n import tr

    qty = qty_arg(args.qty, minimum=0)
    ctx.open_db()
    g = goods_arg(args.code)
    m = count_by_hand(g.id, qty, actor=ctx.operator, reason=args.reason)
    if m is None:
        print(tr("{c}: the count agrees with the records ({n})", "{c}：盘点与记录一致（{n}）", c=visible(g.code), n=qty))
    else:
        print(tr("correction {d:+d}", "更正 {d:+d}", d=m.movement.qty) + "; " + _stock_line(g.id))
    return 0


def run_adjust(args, ctx) -> int:
    from dadan.core.errors import DadanError
    from dadan.core.goods.receiving import move_by_hand
    from dadan.core.i18n import tr

    qty = qty_arg(args.qty, signed=True)
    if not args.reason.strip():
        raise DadanError(tr("an adjustment needs a reason (--reason)", "调整库存需要填写原因（--reason）"))
    ctx.open_db()
    g = goods_arg(args.code)
    move_by_hand(g.id, qty, "adjust", actor=ctx.operator, reason=args.reason.strip())
    print(_stock_line(g.id))
    return 0


def run_moves(args, ctx) -> int:
    from dadan.core.goods.listing import movements
    from dadan.core.i18n import tr
    from dadan.core.timeutil import fmt_local

    ctx.open_db()
    g = goods_arg(args.code)
    rows = movements(g.id, limit=args.limit)
    print(_stock_line(g.id))
    if not rows:
        print(tr("no stock movements yet", "还没有库存变动"))
        return 0
    tz = ctx.settings.timezone
    print_table([tr("when", "时间"), tr("kind", "类型"), tr("qty", "数量"), tr("order", "订单"), tr("who", "操作人"),
                 tr("why", "原因")],
                [[fmt_local(m.at, tz, "%Y-%m-%d %H:%M"), m.kind, m.qty, m.order_sn or "-", m.actor or "-", m.reason]
                 for m in rows])
    return 0
