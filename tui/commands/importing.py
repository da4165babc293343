"""``dadan import FILE``: import orders (or tracking numbers) from an .xlsx/.csv export.

The dry-run summary is printed first; nothing is written when any row is rejected unless
``--partial`` is given, and rejected rows go to ``FILE.rejects.xlsx`` (with an error column).
``--dry-run`` writes nothing at all: no data, no rejects file, no saved column mapping.
Updates that would drop an order's items or change its amount are listed and, like rejects,
refused unless ``--accept-changes`` is given.
"""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("import", help="import orders or tracking numbers from .xlsx/.csv (导入表格)")
    p.add_argument("file", metavar="FILE", help="the .xlsx, .csv or .txt file")
    p.add_argument("--dry-run", action="store_true", help="only check and count; write nothing (仅检查)")
    p.add_argument("--shop", metavar="NAME", help="shop to import into (required with several shops)")
    p.add_argument("--create-shop", action="store_true", help="create the --shop if it does not exist")
    p.add_argument("--mapping", metavar="NAME", help="use a saved column mapping")
    p.add_argument("--save-mapping", metavar="NAME", help="save the columns used under NAME")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=HEADER",
                   help="map a column by hand (repeatable), e.g. --map order_sn=单号")
    p.add_argument("--sheet", metavar="NAME", help="the sheet to read (workbooks with several sheets)")
    p.add_argument("--kind", choices=("auto", "orders", "tracking"), default="auto",
                   help="orders, or a file of order number + courier + tracking number (default: auto)")
    p.add_argument("--partial", action="store_true", help="import the good rows even if some are rejected")
    p.add_argument("--accept-changes", action="store_true",
                   help="write updates that drop an order's items or change its amount (接受减少商品或改变金额的更新)")
    p.add_argument("--rejects", metavar="FILE", help="where to write rejected rows (default FILE.rejects.xlsx)")
    p.set_defaults(func=run)


def resolve_import_shop(name: str | None, *, required: bool = True):
    """:func:`resolve_shop`, whose unknown-name error says how to create the shop here."""
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.platform.shops import UnknownShop, resolve_shop

    try:
        return resolve_shop(name, required=required)
    except UnknownShop as exc:
        raise DadanError(exc.message + tr("; add --create-shop to create it", "；加 --create-shop 可新建"),
                         title=exc.title) from None


def run(args, ctx) -> int:
    from dadan.core.errors import DadanError
    from dadan.core.i18n import tr
    from dadan.core.orders.couriers import CourierBook
    from dadan.core.spreadsheets.commit import commit_import
    from dadan.core.spreadsheets.errors import NeedsMapping
    from dadan.core.spreadsheets.fields import FIELDS
    from dadan.core.spreadsheets.layout import prepare
    from dadan.core.spreadsheets.mappings import SavedMappings
    from dadan.core.spreadsheets.plan import plan_import
    from dadan.core.spreadsheets.rejects import write_rejects
    from dadan.core.visible import visible

    ctx.open_db(make=not args.dry_run)  # (a dry run on a new machine makes no database file)
    new_shop = ""
    manual = {}
    for item in args.map:
        if "=" not in item:
            raise DadanError(tr("--map expects FIELD=HEADER, got '{v}'", "--map 的格式应为 字段=列名，而不是“{v}”", v=item))
        k, v = item.split("=", 1)
        manual[k.strip()] = v.strip()
    saved = SavedMappings()
    try:
        layout = prepare(args.file, sheet=args.sheet, mapping=manual or None, mapping_name=args.mapping,
                         kind=args.kind, saved=saved)
    except NeedsMapping as exc:
        lay = exc.layout
        print(f"dadan: {visible(exc.message)}", file=sys.stderr)
        print(tr("columns: {h}", "列：{h}", h=" | ".join(map(visible, lay.headers))), file=sys.stderr)
        print(tr("fields: {f}", "字段：{f}", f=", ".join(f.key for f in FIELDS)), file=sys.stderr)
        return 1
    if args.save_mapping and not args.dry_run:
        saved.save(args.save_mapping, layout.headers, layout.mapping)
    if args.dry_run:  # the shop as the import would take it (several shops and no --shop: refused alike)
        from dadan.core.platform.shops import SeveralShops

        try:
            shop = resolve_import_shop(args.shop, required=layout.kind == "orders")
        except SeveralShops:
            raise
        except DadanError:  # no shop yet, or one --create-shop would make: every order is new
            if (args.shop or "").strip() and not args.create_shop:
                raise  # a shop named that does not exist: refused, as the import refuses it
            shop = None
    else:
        try:
            shop = resolve_import_shop(args.shop, required=layout.kind == "orders")
        except DadanError:  # (with a name given: no shop has it)
            if not (args.create_shop and (args.shop or "").strip()):
                raise
            shop = None  # made by the import's own transaction: nothing written, no shop
            new_shop = args.shop.strip()
    tty = sys.stderr.isatty()
    phases = {"check": tr("checking", "检查"), "write": tr("writing", "写入")}

    def progress(phase: str, done: int, total: int) -> None:
        if tty and total:
            print(f"\r{phases.get(phase, phase)} {done:,}/{total:,}", end="", file=sys.stderr, flush=True)

    # an orders file is written in one pass: its counts come from the write itself, not from a dry
    # run first. A tracking file is tried first: rows for unknown orders belong in the rejects file.
    tried = args.dry_run or layout.kind == "tracking"
    plan = plan_import(layout, shop_id=shop.id if shop else None, progress=progress,
                       couriers=CourierBook.from_database(), dry_run_counts=tried)
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    where = f"{layout.sheet}" + (f" [{layout.encoding}]" if layout.encoding else "")
    print(tr("{f} ({w}): {n} data rows", "{f}（{w}）：{n} 行数据", f=visible(layout.path.name), w=visible(where), n=plan.rows_total))
    if layout.mapping_name:
        print(tr("column mapping: {m}", "列映射：{m}", m=layout.mapping_name))
    if tried:
        print(plan.summary())
    elif plan.rejects:
        print(tr("{r} rows rejected", "拒绝 {r} 行", r=len(plan.rejects)))
    for r in plan.rejects[:20]:
        print("  " + visible(r.text()))
    if len(plan.rejects) > 20:
        print(tr("  ... and {n} more", "  ……还有 {n} 行", n=len(plan.rejects) - 20))
    if args.dry_run:
        _print_losses(plan.counts.losses)
        print(tr("dry run: nothing was written", "试运行：未写入任何数据"))
        # the exit code the import itself (with the same options) would give
        refused = (plan.rejects and (not args.partial or not plan.records)) or (
            plan.counts.losses and not args.accept_changes)
        return 1 if refused else 0
    rejects_file = write_rejects(plan, args.rejects) if plan.rejects else None
    if rejects_file:
        print(tr("rejected rows written to {p}", "被拒绝的行已写入 {p}", p=rejects_file))
    out = commit_import(plan, actor=ctx.operator, allow_partial=args.partial, accept_changes=args.accept_changes,
                        progress=progress, new_shop=new_shop)
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    _print_losses(out.counts.losses)
    print(visible(out.message))
    if not out.committed:
        if out.counts.losses and not args.accept_changes:
            print(tr("nothing was written (use --accept-changes to write these updates)",
                     "未写入任何数据（使用 --accept-changes 可写入这些更新）"))
        else:
            print(tr("nothing was written (use --partial to import the good rows)",
                     "未写入任何数据（使用 --partial 可只导入正确的行）"))
        return 1
    return 1 if plan.rejects and not plan.records else 0  # (--partial, every row rejected: nothing imported)


def _print_losses(losses: list[str]) -> None:
    """Updates that drop an order's items or change its amount, one a line (the first 20)."""
    from dadan.core.i18n import tr
    from dadan.core.visible import visible

    if not losses:
        return
    print(tr("{n} updates drop items or change an amount:", "{n} 个更新会减少商品或改变金额：", n=len(losses)))
    for t in losses[:20]:
        print("  " + visible(t))
    if len(losses) > 20:
        print(tr("  ... and {n} more", "  ……还有 {n} 个", n=len(losses) - 20))
