"""Receiving and counting by code (the receive screen, one scan at a time): find the SKU by
barcode or merchant code, put stock on the shelf (:func:`dadan.core.goods.ledger.move`) or set
its counted quantity (:func:`dadan.core.goods.ledger.count`), and say what that did: the stock
on hand now, the correction a count recorded, and the short orders the guard released."""

from __future__ import annotations

from dataclasses import dataclass

from dadan.core.db import database, write
from dadan.core.goods import catalogue, ledger
from dadan.core.i18n import tr
from dadan.core.orders.rules import Flag


@dataclass(frozen=True)
class Received:
    goods_id: int
    code: str
    name: str
    qty: int  # what this scan put on the shelf (a count: the correction, signed)
    on_hand: int  # on hand after it
    released: int  # short orders the guard released


def _short_orders(goods_id: int) -> set[int]:
    """The orders waiting for this SKU whose short flag is up (for any of their SKUs)."""
    return {r[0] for r in database().execute_sql(
        'SELECT d."order_id" FROM "stock_demand" d JOIN "order" o ON o."id" = d."order_id" '
        'WHERE d."goods_id" = ? AND o."exception_flags" & ? != 0', (goods_id, int(Flag.STOCK_SHORT)))}


def receive(code: str, qty: int = 1, *, actor: str, reason: str = "") -> Received | None:
    """``qty`` of the SKU with this barcode or code onto the shelf; None (nothing written) when
    the catalogue knows no such code."""
    with write():
        g = catalogue.find(code)
        if g is None:
            return None
        before = _short_orders(g.id)
        ledger.move(g.id, qty, "receive", actor=actor, reason=reason or tr("received by scan", "扫码入库"))
        after = _short_orders(g.id)
        on_hand = database().execute_sql('SELECT "on_hand" FROM "goods" WHERE "id" = ?', (g.id,)).fetchone()[0]
    return Received(g.id, g.code, g.name, qty, on_hand, len(before - after))


def count(code: str, counted: int, *, actor: str) -> Received | None:
    """The shelf holds ``counted`` of this SKU: the difference is recorded as a correction
    (``qty``, 0 when they agree). None (nothing written) for an unknown code."""
    with write():
        g = catalogue.find(code)
        if g is None:
            return None
        before = _short_orders(g.id)
        m = ledger.count(g.id, counted, actor=actor)
        after = _short_orders(g.id)
    return Received(g.id, g.code, g.name, m.qty if m is not None else 0, counted, len(before - after))


def look_up(code: str) -> Received | None:
    """The SKU (qty 0, its on hand now) for a count's first scan; None for an unknown code."""
    g = catalogue.find(code)
    if g is None:
        return None
    return Received(g.id, g.code, g.name, 0, g.on_hand, 0)
