"""Which label templates an operator can switch between. A template's kind is its own
(``[template] kind`` in its TOML, validated by :mod:`printers.layout`), never read from its name."""

from __future__ import annotations

from dadan.printers.errors import TemplateError
from dadan.printers.i18n import tr
from dadan.printers.layout import list_templates, load_template

FALLBACK = "waybill_100x150"  # shipped with dadan
ORDER_KINDS = ("waybill", "packing")  # what an order's print job prints: its waybill or its packing slip
_NOT_AN_ORDERS = {  # what the other kinds are
    "picklist": ("a wave's pick list (it prints with its waybill job)", "波次拣货单（随面单任务打印）"),
    "sku": ("a goods (SKU) label", "商品（SKU）标签"),
    "handover": ("a courier's handover list (it prints when the handover closes)", "快递交接单（完成交接时打印）"),
}


def template_names(kind: str | None = None) -> list[str]:
    """The shipped templates' names (only those of ``kind``, when given), sorted."""
    return [t.name for t in list_templates() if kind is None or t.kind == kind] or [FALLBACK]


def switchable_templates(current: str) -> list[str]:
    """The templates a print dialog cycles through from ``current``: the waybills when ``current``
    is a waybill (the printer holds waybill stock), every template otherwise (also when
    ``current`` does not load: any shipped one may replace it)."""
    try:
        kind = load_template(current).kind
    except TemplateError:
        kind = None
    if kind == "waybill":
        return template_names("waybill")
    return [n for n in template_names() if load_template(n).kind in ORDER_KINDS] or [FALLBACK]


def prints_waybills(template: str) -> bool:
    """Whether ``template`` (a name or a path) prints courier waybills, which never go out without
    a number (else packing slips). A template that does not load, or that prints no order's own
    label (a pick list, a SKU label, a handover list: an order printed with one would count as
    printed and print nothing of it), raises its :class:`TemplateError`."""
    t = load_template(template)
    if t.kind not in ORDER_KINDS:
        en, zh = _NOT_AN_ORDERS.get(t.kind, (t.kind, t.kind))
        raise TemplateError(tr("template {t} is {w}; orders print with a waybill or packing slip template",
                               "模板 {t} 是{w}；订单请用面单或发货单模板打印", t=template, w=tr(en, zh)))
    return t.kind == "waybill"
