"""Which label templates an operator can switch between. A template's kind is its own
(``[template] kind`` in its TOML, validated by :mod:`printers.layout`), never read from its name."""

from __future__ import annotations

from dadan.printers.errors import TemplateError
from dadan.printers.layout import list_templates, load_template

FALLBACK = "waybill_100x150"  # shipped with dadan


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
    return [n for n in template_names() if load_template(n).kind != "handover"] or [FALLBACK]  # not an order's label


def prints_waybills(template: str) -> bool:
    """Whether ``template`` (a name or a path) prints courier waybills, which never go out without
    a number. A template that does not load raises its :class:`TemplateError`."""
    return load_template(template).kind == "waybill"
