"""Form fields -> filter text in the one filter language (``core.orders.query``), for the filter
builder screen. Each field writes the same terms a user would type in the filter bar."""

from __future__ import annotations

from dadan.core.orders.filter_syntax import quote_value

# form field -> the filter-language field it writes
FORM_FIELDS = ("status", "paid_from", "paid_to", "due", "province", "city", "goods", "sku", "courier",
               "tag", "printed", "exception", "flag", "text")

STATUS_VALUES = ("pending", "new", "printed", "shipped", "confirmed", "received", "cancelled")
PRINTED_VALUES = ("yes", "no")
EXCEPTION_VALUES = ("any", "none", "refund", "aftersale", "address", "risk", "stockout", "ship_failed", "hold",
                    "cancelled", "shipped_elsewhere", "overdue")
FLAG_VALUES = ("any", "none", "red", "yellow", "green", "blue", "purple")


def _list(v: str) -> str:
    """ "浙江, 江苏" -> "浙江,江苏" (commas mean any of)."""
    parts = [p.strip() for p in v.replace("，", ",").split(",")]
    return ",".join(p for p in parts if p)


def build_query(form: dict[str, str]) -> str:
    """``{"status": "pending", "province": "浙江", "due": "2h", ...}`` -> filter text.

    ``paid_from``/``paid_to`` take a date (``2026-11-20``), ``today``/``yesterday`` or a
    datetime; ``due`` takes a duration (``2h``: due within two hours, overdue included)."""
    terms: list[str] = []
    get = lambda k: (form.get(k) or "").strip()  # noqa: E731
    simple = (("status", "status"), ("province", "province"), ("city", "city"), ("goods", "goods"),
              ("sku", "sku"), ("courier", "courier"), ("tag", "tag"), ("printed", "printed"),
              ("exception", "exception"), ("flag", "flag"))
    for key, field in simple:
        v = _list(get(key))
        if v:
            terms.append(f"{field}:{quote_value(v)}")
    if get("paid_from"):
        terms.append(f"paid>={quote_value(get('paid_from'))}")
    if get("paid_to"):
        terms.append(f"paid<={quote_value(get('paid_to'))}")
    if get("due"):
        terms.append(f"due<{quote_value(get('due'))}")
    if get("text"):
        terms.append(quote_value(get("text")))
    return " ".join(terms)
