"""Finding archived orders: by order number or tracking number (exact, or a prefix), through
their indexes; reading them back as orders for exports; the desk's "archived on" note."""

from __future__ import annotations

import datetime as dt
import json
from typing import Callable, Iterator

from peewee import SQL

from dadan.core.db import id_chunks
from dadan.core.i18n import tr
from dadan.core.models import ArchivedOrder, Order
from dadan.core.timeutil import DEFAULT_TZ, to_local, to_utc

_TOP = "\U0010ffff"  # sorts after every character: [text, text + _TOP) is the prefix range


def _prefixed(column, text: str):
    return (column >= text) & (column < text + _TOP)


def find(text: str, *, limit: int = 50) -> list[ArchivedOrder]:
    """Archived orders whose order number or tracking number is ``text`` or starts with it
    (as typed, then in capitals, as scanners differ), most recently archived first."""
    text = text.strip()
    if not text:
        return []
    found: dict[int, ArchivedOrder] = {}
    for t in dict.fromkeys((text, text.upper())):
        for cond in (_prefixed(ArchivedOrder.order_sn, t),
                     (ArchivedOrder.tracking_number != SQL("''")) & _prefixed(ArchivedOrder.tracking_number, t)):
            for a in ArchivedOrder.select().where(cond).order_by(ArchivedOrder.id.desc()).limit(limit):
                found.setdefault(a.id, a)
    return sorted(found.values(), key=lambda a: -a.id)[:limit]


def archived_numbers(shop_id: int, sns: list[str]) -> list[str]:
    """Which of these order numbers of the shop are in the archive (one indexed query)."""
    if not sns:
        return []
    # one prepared statement, the numbers bound as they are (peewee would take each value through
    # its query builder: ~1.5 ms an upsert's batch of 900, against 0.2 ms for the query itself)
    table, sn, shop = ArchivedOrder._meta.table_name, ArchivedOrder.order_sn.column_name, ArchivedOrder.shop_id.column_name
    rows = ArchivedOrder._meta.database.execute_sql(
        f'SELECT DISTINCT "{sn}" FROM "{table}" WHERE "{shop}" = ? AND "{sn}" IN ({", ".join("?" * len(sns))})',
        [shop_id, *sns])
    return [found for (found,) in rows]


def as_order(row: dict) -> Order:
    """An archived order row (column -> stored value) as an unsaved :class:`Order`."""
    fields = {f.column_name: f for f in Order._meta.sorted_fields}
    return Order(**{fields[c].name: fields[c].python_value(v) for c, v in row.items() if c in fields})


def iter_archived(where=None, *, chunk: int = 1000,
                  on_batch: Callable[[list[int]], None] | None = None) -> Iterator[tuple[Order, list[dict]]]:
    """(order, items) for every archived order matching ``where`` (a condition on
    :class:`ArchivedOrder`), in archive order, ``chunk`` at a time: the shape
    :func:`core.spreadsheets.export.iter_orders` gives, for the same exports."""
    for batch in id_chunks(ArchivedOrder, where, chunk):
        docs = [json.loads(a.data) for a in batch]
        if on_batch is not None:
            on_batch([d["order"]["id"] for d in docs])
        for d in docs:
            items = sorted(d.get("order_item", []), key=lambda it: (it.get("position", 0), it.get("id", 0)))
            yield as_order(d["order"]), items


def shipped_between(start: dt.date | None, end: dt.date | None, tz: str = DEFAULT_TZ):
    """Archived orders shipped on ``start`` .. ``end`` (local dates, both included)."""
    def day_start(day: dt.date) -> dt.datetime:
        return to_utc(dt.datetime.combine(day, dt.time()), tz)

    cond = None
    if start is not None:
        cond = ArchivedOrder.shipped_at >= day_start(start)
    if end is not None:
        upper = ArchivedOrder.shipped_at < day_start(end + dt.timedelta(days=1))
        cond = upper if cond is None else (cond & upper)
    return cond


def archived_note(code: str, tz: str = DEFAULT_TZ) -> str:
    """For a scan or search that found nothing hot: where the archive has ``code`` (exactly, as an
    order or tracking number), one line saying so; else ""."""
    code = code.strip()
    if not code:
        return ""
    for t in dict.fromkeys((code, code.upper())):
        a = (ArchivedOrder.select().where((ArchivedOrder.order_sn == t)
                                          | ((ArchivedOrder.tracking_number != SQL("''")) & (ArchivedOrder.tracking_number == t)))
             .order_by(ArchivedOrder.id.desc()).first())
        if a is not None:
            return tr("archived on {d} — `dadan archive find {c}`", "已于 {d} 归档 — `dadan archive find {c}`",
                      d=f"{to_local(a.archived_at, tz):%Y-%m-%d}", c=t)
    return ""
