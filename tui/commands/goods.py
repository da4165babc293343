"""``dadan goods``: import and export the goods catalogue (.xlsx/.csv), list SKUs (low, short,
by text), and the SKUs open orders carry that the catalogue lacks.

``goods import`` checks the whole file first and writes nothing when any row is rejected (the
rejected rows go to ``FILE.rejects.xlsx`` or ``--rejects``); ``--dry-run`` only counts. An import
needs the "stock" permission (a dry run does not).
"""

from __future__ import annotations

import sys
import unicodedata

from dadan.core.visible import visible
from dadan.tui.commands.numbers import limit


def register(sub) -> None:
    g = sub.add_parser("goods", help="the goods catalogue: import, export, list, missing SKUs (商品)",
                       description="The goods catalogue: merchant codes, barcodes, bins and stock.")
    acts = g.add_subparsers(dest="goods_command", metavar="ACTION", required=True)
    file_arguments(acts.add_parser("import", help="add or change SKUs from an .xlsx/.csv (导入商品)"), run_import)
    e = acts.add_parser("export", help="every SKU with its stock, to .xlsx/.csv (导出商品)")
    e.add_argument("--format", dest="fmt", choices=("csv", "xlsx"), help="default: from the --out extension")
    e.add_argument("--out", required=True, metavar="FILE")
    e.set_defaults(func=run_export)
    ls = acts.add_parser("list", help="SKUs with their stock (商品列表)")
    ls.add_argument("text", nargs="?", default="", metavar="TEXT", help="part of a code, name, spec or bin; a barcode")
    ls.add_argument("--low", action="store_true", help="available at or below the safety stock (低库存)")
    ls.add_argument("--short", action="store_true", help="reserved more than on hand (缺货)")
    ls.add_argument("--limit", type=limit, default=None, help="at most this many rows (default: all)")
    ls.set_defaults(func=run_list)
    m = acts.add_parser("missing", help="SKUs open orders carry that the catalogue lacks (缺少的商品)")
    m.set_defaults(func=run_missing)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_table(header: list[str], rows: list[list]) -> None:
    """Rows as aligned columns (wide characters count two); numbers to the right."""
    cells = [[visible(str(c)) for c in r] for r in [header, *rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    numeric = [all(isinstance(r[i], int) for r in rows) and bool(rows) for i in range(len(header))]
    for r in cells:
        parts = []
        for i, c in enumerate(r):
            pad = " " * (widths[i] - _width(c))
            parts.append(pad + c if numeric[i] else c + pad)
        print("  ".join(parts).rstrip())


def file_arguments(p, func) -> None:
    """FILE, --dry-run and --rejects: a file checked whole and written all or nothing."""
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="only check and count; write nothing (仅检查)")
    p.add_argument("--rejects", metavar="FILE", help="where to write rejected rows (default FILE.rejects.xlsx)")
    p.set_defaults(func=func)


def run_checked(plan, args, *, write_rejects, commit, actor: str) -> int:
    """A checked file's counts and rejected rows (one a line); then nothing more (a dry run),
    the rejects file and nothing written (any reject), or the commit and what it did."""
    from dadan.core.i18n import tr

    print(plan.summary())
    for r in plan.rejects:
        print("  " + visible(r.text()))
    if args.dry_run:
        print(tr("dry run: nothing was written", "试运行：未写入任何数据"))
        return 1 if plan.rejects else 0
    if plan.rejects:
        print(tr("rejected rows written to {p}", "被拒绝的行已写入 {p}", p=write_rejects(plan, args.rejects)))
        print(tr("nothing was written: fix the rejected rows and try the file again",
                 "未写入任何数据：请修正被拒绝的行后重试"))
        return 1
    commit(plan, actor=actor)
    print(plan.summary(done=True))
    return 0


def run_import(args, ctx) -> int:
    from dadan.core.goods.files import commit_goods, plan_goods, write_rejects
    from dadan.core.i18n import tr
    from dadan.core.operators import require

    ctx.open_db()
    if not args.dry_run:  # refused before the file is read (the commit checks again)
        require(ctx.operator, "stock", what=f"goods file {args.file}")
    plan = plan_goods(args.file)
    print(tr("{f}: {n:,} data rows", "{f}：{n:,} 行数据", f=visible(plan.table.path.name), n=len(plan.table.rows)))
    return run_checked(plan, args, write_rejects=write_rejects, commit=commit_goods, actor=ctx.operator)


def run_export(args, ctx) -> int:
    from dadan.core.goods.export import export_goods
    from dadan.core.i18n import tr

    ctx.open_db()
    n, path = export_goods(args.out, args.fmt)
    print(tr("{n:,} SKUs written to {p}", "已写入 {n:,} 个商品：{p}", n=n, p=path), file=sys.stderr)
    return 0


def run_list(args, ctx) -> int:
    from dadan.core.goods.listing import browse
    from dadan.core.i18n import tr

    ctx.open_db()
    found = browse(args.text, low=args.low, short=args.short, limit=args.limit or None)
    if not found:
        print(tr("no SKU matches", "没有符合条件的商品"))
        return 0
    print_table([tr("code", "商家编码"), tr("name", "商品名称"), tr("spec", "规格"), tr("bin", "库位"),
                 tr("on hand", "库存"), tr("reserved", "占用"), tr("available", "可用"), tr("safety", "安全库存")],
                [[g.code, g.name, g.spec, g.bin, g.on_hand, g.reserved, g.available, g.safety_stock] for g in found])
    return 0


def run_missing(args, ctx) -> int:
    from dadan.core.goods.catalogue import missing
    from dadan.core.i18n import tr

    ctx.open_db()
    rows = missing()
    if not rows:
        print(tr("every SKU of the open orders is in the catalogue", "待发货订单的商品都已在商品目录中"))
        return 0
    print_table([tr("code", "商家编码"), tr("name", "商品名称"), tr("spec", "规格"), tr("orders", "订单数")],
                [[m.code, m.name, m.spec, m.orders] for m in rows])
    return 0
