"""The oversell guard: when a SKU's open orders want more than its shelf holds, the orders it
cannot cover are flagged ``short`` (:attr:`~dadan.core.orders.rules.Flag.STOCK_SHORT`, which
blocks printing and shipping), and the flag goes as soon as stock covers them again.

Who is served: orders already printed first (their labels are out and their goods picked), then
by ship-by deadline, the most urgent first (then the oldest order). The shelf covers that line
from its head until an order wants more than is left: that order and every one after it are
short (the latest by deadline wait; a receipt covers the line further in the same order, and
only a count or a more urgent order can make a covered order short). An order is short while
any of its SKUs is. Every raise and release is an order event and an audit event.

A person cannot release this flag by hand (:func:`dadan.core.orders.actions.release`): stock
received or counted releases it.
"""

from __future__ import annotations

from typing import Iterable

from dadan.core import audit
from dadan.core.db import database
from dadan.core.i18n import tr
from dadan.core.models import utcnow
from dadan.core.orders.rules import Flag

_CHUNK = 900
# a SKU's open orders in the order they are served
_IN_LINE = ('SELECT d."order_id", d."qty", d."short" FROM "stock_demand" d JOIN "order" o ON o."id" = d."order_id" '
            'WHERE d."goods_id" = ? ORDER BY o."state" = \'printed\' DESC, o."last_ship_time" IS NULL, '
            'o."last_ship_time", o."id"')


def rebalance(goods_ids: Iterable[int], *, actor: str, also_orders: Iterable[int] = ()) -> tuple[int, int]:
    """Recompute which open orders these SKUs cover (inside the caller's transaction), and set
    or clear the ``short`` flag of every order whose answer changed, and of ``also_orders``
    (orders that just left the ledger). Returns (raised, released)."""
    q = database().execute_sql
    shortfall: dict[int, list[str]] = {}  # order -> ["A12 ×3", ...] for the flag's event
    affected: set[int] = set(int(o) for o in also_orders)
    for gid in sorted(set(goods_ids)):
        row = q('SELECT "code", "on_hand" FROM "goods" WHERE "id" = ?', (gid,)).fetchone()
        if row is None:
            continue
        code, left = row
        flips = []
        for oid, need, was_short in q(_IN_LINE, (gid,)).fetchall():
            if need <= left:
                left -= need
                short = 0
            else:  # the line stops here
                short = 1
                shortfall.setdefault(oid, []).append(f"{code} ×{need - max(left, 0)}")
                left = 0
            if short != was_short:
                flips.append((short, gid, oid))
                affected.add(oid)
        if flips:
            database().cursor().executemany(
                'UPDATE "stock_demand" SET "short" = ? WHERE "goods_id" = ? AND "order_id" = ?', flips)
    return _set_flags(sorted(affected), shortfall, actor)


def _set_flags(order_ids: list[int], shortfall: dict[int, list[str]], actor: str) -> tuple[int, int]:
    q = database().execute_sql
    raised = released = 0
    bit = int(Flag.STOCK_SHORT)
    now = utcnow().isoformat(" ")
    for start in range(0, len(order_ids), _CHUNK):
        chunk = order_ids[start:start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        short = {r[0] for r in q(f'SELECT DISTINCT "order_id" FROM "stock_demand" WHERE "short" = 1 '
                                 f'AND "order_id" IN ({marks})', chunk)}
        for oid, sn, flags in q(f'SELECT "id", "order_sn", "exception_flags" FROM "order" WHERE "id" IN ({marks})',
                                chunk).fetchall():
            has = bool(flags & bit)
            if (oid in short) == has:
                continue
            if oid in short:
                q('UPDATE "order" SET "exception_flags" = "exception_flags" | ?, "local_updated_at" = ? '
                  'WHERE "id" = ?', (bit, now, oid))
                what = ", ".join(shortfall.get(oid, []))
                audit.order_event(oid, "flag", tr("stock short: {w}", "库存不足：{w}", w=what))
                audit.record("stock_short", actor=actor, order_id=oid, detail={"order_sn": sn, "short": what})
                raised += 1
            else:
                q('UPDATE "order" SET "exception_flags" = "exception_flags" & ~?, "local_updated_at" = ? '
                  'WHERE "id" = ?', (bit, now, oid))
                audit.order_event(oid, "release", tr("stock short: covered now", "库存不足：已有库存"))
                audit.record("stock_release", actor=actor, order_id=oid, detail={"order_sn": sn})
                released += 1
    return raised, released


def shortfalls(order_id: int) -> list[tuple[str, int]]:
    """(SKU code, how many are missing) for an order the guard finds short, as it stands now."""
    out = []
    q = database().execute_sql
    for gid, code in q('SELECT d."goods_id", g."code" FROM "stock_demand" d JOIN "goods" g ON g."id" = d."goods_id" '
                       'WHERE d."order_id" = ? AND d."short" = 1', (order_id,)).fetchall():
        left = q('SELECT "on_hand" FROM "goods" WHERE "id" = ?', (gid,)).fetchone()[0]
        for oid, need, short in q(_IN_LINE, (gid,)):
            if oid == order_id:
                out.append((code, need - max(left, 0)))
                break
            left = left - need if not short else 0
    return out
