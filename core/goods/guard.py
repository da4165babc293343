"""The oversell guard: when a SKU's open orders want more than its shelf holds, the orders it
cannot cover are flagged ``short`` (:attr:`~dadan.core.orders.rules.Flag.STOCK_SHORT`, which
blocks printing and shipping), and the flag goes as soon as stock covers them again.

Who is served: orders already printed first (their labels are out and their goods picked), then
by ship-by deadline, the most urgent first (then the oldest order). The shelf covers that line
from its head until an order wants more than is left: that order and every one after it are
short (the latest by deadline wait; a receipt covers the line further in the same order, and
only a count or a more urgent order can make a covered order short). An order is short while
any of its SKUs is. Every raise and release is an order event and an audit event.

The line is read from the demand rows' index, and only as far as the shelf reaches: a SKU whose
shelf covers everything it reserves costs one look-up.

A person cannot release this flag by hand (:func:`dadan.core.orders.actions.release`): stock
received or counted releases it.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from dadan.core import audit
from dadan.core.db import database
from dadan.core.dialect import boolean, indexed_by
from dadan.core.i18n import tr
from dadan.core.models import utcnow
from dadan.core.orders.rules import Flag

_CHUNK = 900


def _short_rows() -> str:
    return (f'SELECT "order_id" FROM "stock_demand" {indexed_by("stock_demand_short")}WHERE "goods_id" = ? '
            f'AND "short" = {boolean(True)}')


_LINE = ('SELECT "order_id", "qty", "short", "served", "due" FROM "stock_demand" WHERE "goods_id" = ? '
         'ORDER BY "served", "due", "order_id"')
_LINE_FROM_TAIL = ('SELECT "order_id", "qty", "served", "due" FROM "stock_demand" WHERE "goods_id" = ? '
                   'ORDER BY "served" DESC, "due" DESC, "order_id" DESC')


def _boundary(gid: int, on_hand: int, reserved: int) -> tuple[tuple | None, int, list[int]]:
    """Where the shelf stops covering a SKU's line: (the place of the first order it cannot
    cover, or None; how many that order misses; covered orders flagged short). The line is
    walked from the end nearer that place: from its head when the shelf holds less than half of
    what the line reserves, else back from its tail (a shelf that covers most of a long line:
    at 1,000,000 demo orders, 50,000 orders of a SKU walked from the head at each write, ~70 ms,
    where the uncovered tail is a few thousand)."""
    tail = None if on_hand * 2 < reserved else _boundary_from_tail(gid, on_hand, reserved)
    if tail is None:
        return _boundary_from_head(gid, on_hand)
    at, missing = tail
    if at is None:
        return None, 0, [r[0] for r in database().execute_sql(_short_rows(), (gid,))]
    before = database().execute_sql(f'{_short_rows()} AND ("served", "due", "order_id") < (?, ?, ?)', (gid, *at))
    return at, missing, [r[0] for r in before]


def _boundary_from_head(gid: int, on_hand: int) -> tuple[tuple | None, int, list[int]]:
    left = on_hand
    unflag: list[int] = []
    cur = database().execute_sql(_LINE, (gid,))
    while rows := cur.fetchmany(500):
        for oid, need, short, served, due in rows:
            if need > left:
                cur.close()
                return (served, due, oid), need - max(left, 0), unflag
            left -= need
            if short:
                unflag.append(oid)
    return None, 0, unflag


def _boundary_from_tail(gid: int, on_hand: int, reserved: int) -> tuple[tuple | None, int] | None:
    """The head walk's first order the shelf cannot cover, found from the tail: the first order
    whose line up to it (``reserved`` less what follows it) wants more than ``on_hand`` -- the
    orders after it want more still, as no quantity is negative (None, for the head walk, if
    one is met)."""
    after = 0  # what the orders after the one at hand want
    found: tuple | None = None
    missing = 0
    cur = database().execute_sql(_LINE_FROM_TAIL, (gid,))
    while rows := cur.fetchmany(500):
        for oid, need, served, due in rows:
            if need < 0:
                cur.close()
                return None
            upto = reserved - after  # the line up to this order, itself included
            if upto <= on_hand:
                cur.close()
                return found, missing
            found, missing = (served, due, oid), need - max(on_hand - (upto - need), 0)
            after += need
    return found, missing


def rebalance(goods_ids: Iterable[int], *, actor: str, also_orders: Iterable[int] = (),
              now: dt.datetime | None = None) -> tuple[int, int]:
    """Recompute which open orders these SKUs cover (inside the caller's transaction; each
    SKU's ``reserved`` must be current), and set or clear the ``short`` flag of every order
    whose answer changed, and of ``also_orders`` (orders that just left the ledger). Returns
    (raised, released)."""
    q = database().execute_sql
    shortfall: dict[int, list[str]] = {}  # order -> ["A12 ×3", ...] for the flag's event
    affected: set[int] = set(int(o) for o in also_orders)
    for gid in sorted(set(goods_ids)):
        row = q('SELECT "code", "on_hand", "reserved" FROM "goods" WHERE "id" = ?', (gid,)).fetchone()
        if row is None:
            continue
        code, on_hand, reserved = row
        if reserved <= on_hand:  # the shelf covers the whole line
            at, flag = None, []
            unflag = [r[0] for r in q(_short_rows(), (gid,))]
        else:
            at, missing, unflag = _boundary(gid, on_hand, reserved)
            flag = [] if at is None else q(
                'SELECT "order_id", "qty" FROM "stock_demand" WHERE "goods_id" = ? '
                'AND ("served", "due", "order_id") >= (?, ?, ?) AND NOT "short"', (gid, *at)).fetchall()
        for oid, need in flag:  # the order where the line stops misses only what is not left
            shortfall.setdefault(oid, []).append(f"{code} ×{missing if oid == at[2] else need}")
        if unflag:
            database().cursor().executemany(f'UPDATE "stock_demand" SET "short" = {boolean(False)} WHERE "goods_id" = ? AND "order_id" = ?',
                                            [(gid, o) for o in unflag])
        if flag:
            database().cursor().executemany(f'UPDATE "stock_demand" SET "short" = {boolean(True)} WHERE "goods_id" = ? AND "order_id" = ?',
                                            [(gid, o) for o, _n in flag])
        affected.update(unflag)
        affected.update(o for o, _n in flag)
    return _set_flags(sorted(affected), shortfall, actor, now or utcnow())


def _set_flags(order_ids: list[int], shortfall: dict[int, list[str]], actor: str,
               at: dt.datetime) -> tuple[int, int]:
    """The short flag set on these orders that the ledger finds short now and cleared on the
    others that carry it, with an order event and an audit event each (each kind written a chunk
    at a time: a catalogue's first save may flag tens of thousands). Returns (raised, released)."""
    q = database().execute_sql
    raised = released = 0
    bit = int(Flag.STOCK_SHORT)
    now = at.isoformat(" ")
    for start in range(0, len(order_ids), _CHUNK):
        chunk = order_ids[start:start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        short = {r[0] for r in q(f'SELECT DISTINCT "order_id" FROM "stock_demand" WHERE "short" = {boolean(True)} '
                                 f'AND "order_id" IN ({marks})', chunk)}
        up: list[tuple[int, str]] = []  # (order id, order number)
        down: list[tuple[int, str]] = []
        for oid, sn, flags in q(f'SELECT "id", "order_sn", "exception_flags" FROM "order" WHERE "id" IN ({marks})',
                                chunk).fetchall():
            if (oid in short) != bool(flags & bit):
                (up if oid in short else down).append((oid, sn))
        cur = database().cursor()
        if up:
            cur.executemany('UPDATE "order" SET "exception_flags" = "exception_flags" | ?, "local_updated_at" = ? '
                            'WHERE "id" = ?', [(bit, now, oid) for oid, _sn in up])
            what = {oid: ", ".join(shortfall.get(oid, [])) for oid, _sn in up}
            audit.order_events([(oid, tr("stock short: {w}", "库存不足：{w}", w=what[oid])) for oid, _sn in up], "flag")
            audit.record_orders("stock_short", [(oid, {"order_sn": sn, "short": what[oid]}) for oid, sn in up],
                                actor=actor)
            raised += len(up)
        if down:
            cur.executemany('UPDATE "order" SET "exception_flags" = "exception_flags" & ~?, "local_updated_at" = ? '
                            'WHERE "id" = ?', [(bit, now, oid) for oid, _sn in down])
            audit.order_events([(oid, tr("stock short: covered now", "库存不足：已有库存")) for oid, _sn in down], "release")
            audit.record_orders("stock_release", [(oid, {"order_sn": sn}) for oid, sn in down], actor=actor)
            released += len(down)
    return raised, released


def shortfalls(order_id: int) -> list[tuple[str, int]]:
    """(SKU code, how many are missing) for an order the guard finds short, as it stands now."""
    out = []
    q = database().execute_sql
    for gid, code, on_hand, reserved, need in q(
            'SELECT d."goods_id", g."code", g."on_hand", g."reserved", d."qty" FROM "stock_demand" d '
            f'JOIN "goods" g ON g."id" = d."goods_id" WHERE d."order_id" = ? AND d."short" = {boolean(True)}', (order_id,)).fetchall():
        at, missing, _unflag = _boundary(gid, on_hand, reserved)
        out.append((code, missing if at is not None and at[2] == order_id else need))
    return out
