"""``dadan wave``: the pick wave (波次) of the orders a print job would take: the pick list in
shelf-walk order and the parcels' order with their sequence numbers."""

from __future__ import annotations

import sys

from dadan.core.visible import visible
from dadan.tui.commands.numbers import limit

DEFAULT_QUERY = "status:pending printed:no blocked:no"


def register(sub) -> None:
    w = sub.add_parser("wave", help="pick list and parcel order for a print job (波次拣货单)",
                       description="Plan the pick wave of the orders a print job would take: the pick list "
                                   "(bin, SKU, name, spec, quantity, parcels) in shelf-walk order, and the "
                                   "parcels in picking order with their sequence numbers. Default: every "
                                   f"printable order ('{DEFAULT_QUERY}', not queued already).")
    w.add_argument("order_sn", nargs="*", metavar="ORDER_SN", help="order numbers")
    w.add_argument("--query", "-q", metavar="Q", help="a filter, e.g. 'status:pending printed:no province:浙江'")
    w.add_argument("--limit", type=limit, metavar="N", help="only the first N orders of the selection (oldest paid first)")
    w.add_argument("--format", dest="fmt", choices=("text", "csv", "xlsx"),
                   help="default: from the --out extension, else text")
    w.add_argument("--out", metavar="FILE", help="write the wave to FILE (csv or xlsx; text for .txt)")
    w.set_defaults(func=run_wave)


def wave_orders(args) -> list[list[int]]:
    """The order ids asked for (numbers, then the filter's), or every printable order; then what a
    print job would take of them (:func:`dadan.core.printing.plan.plan_print`'s ready orders), as
    parcels (orders already merged into one parcel together)."""
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.printing.plan import plan_print
    from dadan.tui.commands.print import orders_for

    if args.order_sn or args.query:
        ids = orders_for(args)[:args.limit]
    else:
        from dadan.core.models import Order
        from dadan.core.orders.query import compile_query

        q = Order.select(Order.id).where(compile_query(DEFAULT_QUERY)).order_by(Order.pay_time, Order.id)
        ids = [i for (i,) in (q.limit(args.limit) if args.limit else q).tuples()]
        if not ids:
            raise DadanError(tr("no order to print: nothing to pick", "没有可打印的订单：无需拣货"))
    plan = plan_print(ids)
    if plan.excluded:
        print(tr("left out: ", "未计入：") + plan.summary(), file=sys.stderr)
    if not plan.ready:
        raise DadanError(tr("none of these orders would print: nothing to pick", "这些订单都不会打印：无需拣货"))
    return [[o.id for o in g] for g in plan.parcels]


def _format(args) -> str:
    from dadan.tui.commands.outfile import text_or_sheet_format

    return text_or_sheet_format(args.fmt, args.out)


def print_wave(wave, out=None) -> None:
    from dadan.core.i18n import tr
    from dadan.core.packing.waves import parcel_cells, parcel_headers, pick_cells, pick_headers
    from dadan.tui.commands.goods import print_table

    def say(text: str = "") -> None:
        print(text, file=out)

    say(tr("wave: ", "波次：") + wave.summary())
    say()
    say(tr("pick list (walk the shelves in this order)", "拣货单（按此顺序走货架）"))
    _table(pick_headers(), [pick_cells(r) for r in wave.picks], print_table, out)
    say()
    say(tr("parcels (sequence on label and slip)", "包裹顺序（序号印在面单和发货单上）"))
    _table(parcel_headers(), [parcel_cells(wave, p) for p in wave.parcels], print_table, out)


def _table(header, rows, print_table, out) -> None:
    if out is None:
        print_table(header, rows)
        return
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        print_table(header, rows)


def run_wave(args, ctx) -> int:
    from dadan.core.i18n import tr
    from dadan.core.packing.waves import plan_parcels, write_wave

    fmt = _format(args)
    if fmt == "xlsx" and not args.out:
        from dadan.core.errors import DadanError

        raise DadanError(tr("an xlsx wave needs --out FILE", "xlsx 波次文件需要 --out 文件"))
    ctx.open_db()
    wave = plan_parcels(wave_orders(args))
    if fmt == "text":
        if not args.out:
            print_wave(wave)
            return 0
        from pathlib import Path

        from dadan.core.spreadsheets.export import make_export_folder, written_whole

        path = Path(args.out).expanduser()
        make_export_folder(path)
        with written_whole(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            print_wave(wave, fh)
    elif not args.out:  # csv on standard output
        from dadan.core.packing.waves import file_rows, pick_headers
        from dadan.core.spreadsheets.writers import RowWriter

        w = RowWriter("csv", sys.stdout, pick_headers())
        for row in file_rows(wave):
            w.row(row)
        return 0
    else:
        path = write_wave(wave, args.out, fmt)
    print(tr("wave: ", "波次：") + wave.summary(), file=sys.stderr)
    print(tr("written to {p}", "已写入：{p}", p=visible(str(path))), file=sys.stderr)
    return 0
