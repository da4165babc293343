"""``dadan split``: one order's lines in several parcels (拆单), each with its own waybill number and
label; the order's shipment is confirmed with the first parcel's number."""

from __future__ import annotations

from dadan.core.visible import visible


def register(sub) -> None:
    p = sub.add_parser("split", help="split an order into several parcels (拆单)",
                       description="Split one order's lines or quantities into several parcels before printing, "
                                   "each with its own waybill number and label (e.g. a bulky item apart). Each "
                                   "--parcel lists lines by SKU code or line number (#2), with *N for part of "
                                   "a line's quantity, comma-separated; what is left forms one more parcel. "
                                   "The order's shipment is confirmed with the first parcel's number. Without "
                                   "--parcel: show the order's parcels.")
    p.add_argument("order_sn", metavar="ORDER_SN")
    p.add_argument("--parcel", action="append", default=[], metavar="SPEC",
                   help="one parcel, e.g. 'A12*1' or '#1, B07*2' (repeat for more parcels)")
    p.add_argument("--courier", metavar="CODE", help="courier (wp_code) of the parcels' numbers (default: the "
                                                     "shop's default courier)")
    p.add_argument("--undo", action="store_true", help="undo a split whose numbers were never taken")
    p.set_defaults(func=run_split)


def run_split(args, ctx) -> int:
    from dadan.core.errors import DadanError, NotFound
    from dadan.core.i18n import tr
    from dadan.core.models import Order
    from dadan.core.waybills import split
    from dadan.tui.commands.goods import print_table

    ctx.open_db()
    order = Order.select().where(Order.order_sn == args.order_sn.strip()).first()
    if order is None:
        raise NotFound(tr("no order {sn}", "没有订单 {sn}", sn=args.order_sn))
    if args.undo:
        if args.parcel:
            raise DadanError(tr("--undo takes no --parcel", "--undo 不能与 --parcel 同用"))
        n = split.unsplit(order.id, actor=ctx.operator)
        print(tr("order {sn}: split undone ({n} parcels closed)", "订单 {sn}：已取消拆单（关闭 {n} 个包裹）",
                 sn=visible(order.order_sn), n=n))
        return 0
    if args.parcel:
        parcels = split.parse_parcels(order, args.parcel)
        split.split_order(order.id, parcels, actor=ctx.operator, courier=args.courier)
    found = split.split_parcels([order.id], ("pending", "live", "printed", "shipped")).get(order.id, [])
    if not found:
        print(tr("order {sn} is not split", "订单 {sn} 没有拆单", sn=visible(order.order_sn)))
        return 0
    print(tr("order {sn}: {n} parcels (the first one's number confirms the shipment)",
             "订单 {sn}：{n} 个包裹（以第一个包裹的单号回传发货）", sn=visible(order.order_sn), n=len(found)))
    rows = []
    for i, w in enumerate(found, 1):
        held = split.contents(w.id) or []
        rows.append([i, w.code or "—", w.state, w.wp_code,
                     " ".join(f"{it.outer_id or it.sku_id or it.goods_name}×{q}" for it, q in held)])
    print_table([tr("Parcel", "包裹"), tr("Number", "单号"), tr("State", "状态"), tr("Courier", "快递"),
                 tr("Holds", "内容")], rows)
    return 0
