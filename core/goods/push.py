"""Keeping the platform from overselling: a managed SKU's available quantity is queued for
``pdd.goods.quantity.update`` (set, ``update_type`` 1) whenever it changes, in the transaction
that changed it. One open row per SKU: a newer quantity replaces one not yet sent (a set is
idempotent, so a lost answer is retried with the same quantity); a failed one is retried by
the sender with its quantity, or replaced by a newer one. The sender is
:mod:`dadan.core.goods.push_sender`."""

from __future__ import annotations

from typing import Iterable

from dadan.core.db import database
from dadan.core.dialect import greatest
from dadan.core.goods.models import StockPush
from dadan.core.models import utcnow

_CHUNK = 900


def _available() -> str:
    return greatest('"on_hand" - "reserved"', "0")


def queue(goods_ids: Iterable[int]) -> int:
    """Queue the available quantity of the managed SKUs among ``goods_ids`` whose last queued or
    pushed quantity differs (inside the caller's transaction). Returns how many were queued."""
    ids = sorted(set(goods_ids))
    q = database().execute_sql
    n = 0
    now = utcnow()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for gid, avail in q(f'SELECT "id", {_available()} FROM "goods" '
                            f'WHERE "managed" AND "id" IN ({marks})', chunk).fetchall():
            last = (StockPush.select(StockPush.id, StockPush.quantity, StockPush.state).where(StockPush.goods == gid)
                    .order_by(StockPush.id.desc()).first())
            if last is not None and last.quantity == avail:
                continue  # already queued, on its way, taken, or failed and retried by the sender
            if last is not None and last.state in ("pending", "failed"):
                StockPush.update(quantity=avail, state="pending", next_attempt_at=now, attempts=0,
                                 last_error="").where(StockPush.id == last.id).execute()
            else:
                StockPush.create(goods=gid, quantity=avail, state="pending", next_attempt_at=now, created_at=now)
            n += 1
    return n
