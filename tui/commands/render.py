"""``dadan render``: labels for orders as PNG files; ``dadan templates``: the label templates."""

from __future__ import annotations

import argparse
import re


def register(sub) -> None:
    p = sub.add_parser("render", help="render labels for orders to PNG files (生成标签图片)")
    p.add_argument("order_sn", nargs="+", metavar="ORDER_SN", help="order numbers")
    p.add_argument("--template", "-t", default=None, metavar="NAME",
                   help="template name or .toml path (default: the printer's template)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="folder for the PNG files")
    p.add_argument("--dpi", type=int, choices=(203, 300), default=None,
                   help="printer resolution (default: the printer's setting)")
    p.add_argument("--printer", default=None, metavar="NAME",
                   help="printer whose dpi, template and offsets to use")
    p.set_defaults(func=run)

    t = sub.add_parser("templates", help="list label templates with their sizes (标签模板)")
    t.set_defaults(func=run_templates)


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "label"


def run(args: argparse.Namespace, ctx) -> int:
    from pathlib import Path

    from dadan.core.errors import DadanError, NotFound
    from dadan.core.i18n import tr
    from dadan.core.models import Order
    from dadan.core.printing.labels import batch_fields
    from dadan.printers.fonts import find_cjk_font
    from dadan.printers.layout import load_template
    from dadan.printers.preview import write_png
    from dadan.printers.private_files import make_private_dir
    from dadan.printers.raster import render_label

    printer = ctx.settings.printer(args.printer)
    template = load_template(args.template or printer.template)
    dpi = args.dpi or printer.dpi
    font = find_cjk_font(ctx.settings.fonts.cjk or None)
    ctx.open_db()
    wanted = [sn.strip() for sn in args.order_sn if sn.strip()]
    found = list(Order.select().where(Order.order_sn.in_(wanted)))
    by_sn: dict[str, list[Order]] = {}
    for order in found:
        by_sn.setdefault(order.order_sn, []).append(order)
    missing = [sn for sn in wanted if sn not in by_sn]
    if missing:
        raise NotFound(tr("no order {sn}", "没有订单 {sn}", sn=", ".join(missing)))
    orders = [o for sn in dict.fromkeys(wanted) for o in by_sn[sn]]
    labels = batch_fields(template.kind, orders, sender=ctx.settings.sender, tz=ctx.settings.timezone)
    out = Path(args.out).expanduser()
    try:
        make_private_dir(out)
    except OSError as exc:
        raise DadanError(tr("cannot create {p}: {e}", "无法创建 {p}：{e}", p=out, e=exc.strerror)) from None
    for name, fields in labels:
        image = render_label(template, fields, dpi=dpi, offset_x_mm=printer.offset_x_mm,
                             offset_y_mm=printer.offset_y_mm, font_path=font)
        path = out / f"{_safe(name)}_{template.name}.png"
        write_png(image, path, dpi=dpi)  # owner-only: receivers' names, phones and addresses
        print(path)
    return 0


def run_templates(args: argparse.Namespace, ctx) -> int:
    from dadan.printers.layout import list_templates

    rows = [(t.name, t.kind, t.size_text, t.title) for t in list_templates()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    for name, kind, size, title in rows:
        print(f"{name:<{widths[0]}}  {kind:<{widths[1]}}  {size:<{widths[2]}}  {title}")
    return 0
