"""The stock ledger: what is on the shelf, what open orders reserve, and what leaves with them.

- On hand is the sum of a SKU's movements (:class:`~dadan.core.goods.models.StockMovement`; a
  trigger keeps ``goods.on_hand``). Movements are written here only: receive, count
  correction, manual adjustment and return to shelf by people, ship by an order leaving.
- Reserved is the sum of the open orders' lines of that SKU, one demand row per (goods, order).
  An order is open while it awaits shipment on the platform (``order_status`` 1), is not shipped
  here (state new or printed) and is not refunding or refunded; cancelled orders are not open.
- :func:`settle_orders` brings the demand rows of some orders in line with the orders as they
  are now, in the caller's transaction: an order that leaves as shipped takes its reserved
  lines off the shelf (a ship movement); one that leaves by refund or cancellation gives its
  reservation back; one shipped by mistake and back to pending puts its lines back. Every path
  that changes an order's lines or openness calls it (upsert, tracking, a manual state change).
- Available = on hand - reserved; :mod:`dadan.core.goods.guard` flags the orders it cannot cover.

An order line's SKU is its merchant code (``outer_id``), else the platform's sku id, matched
case-insensitively to ``goods.code_key``. Lines of SKUs missing from the catalogue reserve
nothing: stock is kept only for what the catalogue lists.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterable, Iterator

from dadan.core.db import database, indexes_built_after, write
from dadan.core.dialect import as_integer, boolean, cross_join, insert_ignore, same_in_group, time_text
from dadan.core.errors import DadanError
from dadan.core.goods import guard, push
from dadan.core.goods.models import MOVEMENT_KINDS, NO_DEADLINE, Goods, StockDemand, StockMovement
from dadan.core.i18n import tr
from dadan.core.models import utcnow
from dadan.core.orders.selectivity import orders_about

LINE_CODE_SQL = "lower(trim(CASE WHEN trim(i.\"outer_id\") != '' THEN i.\"outer_id\" ELSE i.\"sku_id\" END))"
# an open order: awaiting shipment, not shipped by us, and not refunded -- unless its refund's
# exception was released (the refund flag, bit 1 of core.orders.rules.Flag, cleared while the
# platform still says refunded: it is going to ship, so it reserves and ships its goods)
OPEN_SQL = ("o.\"order_status\" = 1 AND o.\"state\" IN ('new', 'printed') "
            "AND (o.\"refund_status\" NOT IN (3, 4) OR (o.\"exception_flags\" & 1) = 0)")
# an order's place in its SKUs' lines: 0 when printed already, then its ship-by deadline as stored
_SERVED = "o.\"state\" != 'printed'"
_CHUNK = 900
_FEW_GOODS = 50  # SKUs settled through their own orders; more: one pass over the open orders
# ... unless those few are in 1 of this many orders or more: reading each of their orders through
# the SKU code pairs then costs more than the one pass over every order line. At 1,000,000 demo
# orders: SKUs in 17 % of them 1.0 s through their orders, 1.6 s in one pass; in 53 %, 3.4 s and
# 3.2 s; in 96 %, 6.5 s and 4.5 s (the demo's 20 SKUs, in every order: 7.6 s and 4.2 s)
_ONE_PASS_SHARE = 2


def _line_place() -> str:
    """An order's place in a SKU's line, in a query grouped by (goods, order): its ``served``
    (0 when printed already) and its ship-by deadline ``due`` as text."""
    due = "coalesce(" + time_text('o."last_ship_time"') + f", '{NO_DEADLINE}')"
    return f"{same_in_group(as_integer(_SERVED))}, {same_in_group(due)}"


def keeps_stock() -> bool:
    """Whether the catalogue lists any SKU (with none, orders reserve nothing)."""
    return database().execute_sql('SELECT EXISTS (SELECT 1 FROM "goods")').fetchone()[0] == 1


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _shipped(order_status: int, state: str, refund_status: int, flags: int = 0) -> bool:
    """An order that left with its goods: shipped, not refunded (or its refund released, see
    :data:`OPEN_SQL`), not cancelled."""
    return (state in ("shipped", "confirmed") or order_status in (2, 3)) and (
        refund_status not in (3, 4) or not flags & 1) and order_status in (1, 2, 3)


def settle_orders(order_ids: Iterable[int], *, actor: str, rebalance: bool = True) -> set[int]:
    """Bring these orders' demand rows in line with the orders, with the ship and return
    movements their leaving or coming back implies; then the oversell guard for the SKUs whose
    demand changed. Inside the caller's write transaction. Returns those goods' ids."""
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    if not ids or not keeps_stock():
        return set()
    touched: set[int] = set()
    left: set[int] = set()
    with write(join=True):
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            t, gone = _settle_chunk(chunk, actor)
            touched |= t
            left |= gone
        if touched:
            push.queue(touched)
        if rebalance and (touched or left):
            if (later := _GUARD_LATER.get()) is not None:
                later[0].update(touched)
                later[1].update(left)
            else:
                guard.rebalance(touched, actor=actor, also_orders=left)
    return touched


# the SKUs and the orders that left the ledger, waiting for the guard at the end of a guard_once block
_GUARD_LATER: ContextVar[tuple[set[int], set[int]] | None] = ContextVar("guard_later", default=None)


@contextmanager
def guard_once(*, actor: str) -> Iterator[None]:
    """Inside the caller's write transaction: the oversell guard (:func:`guard.rebalance`) runs
    once, when the block ends, for every SKU whose line or shelf :func:`settle_orders` changed in
    it, rather than after each settle (an import writes its file 2,000 orders at a time: at
    1,000,000 demo orders every piece walked the lines of the SKUs it touched, 45 s for 50,000
    rows). The orders come out flagged as if the guard had run after each piece; only flags that
    a later piece would have undone are never raised. A block that fails leaves the guard
    undone, its transaction rolled back. Nested blocks join the outer one."""
    if _GUARD_LATER.get() is not None:
        yield
        return
    later: tuple[set[int], set[int]] = (set(), set())
    token = _GUARD_LATER.set(later)
    try:
        yield
    finally:
        _GUARD_LATER.reset(token)
    if later[0] or later[1]:
        guard.rebalance(later[0], actor=actor, also_orders=later[1])


def _settle_chunk(chunk: list[int], actor: str) -> tuple[set[int], set[int]]:
    """(goods whose line or shelf changed, orders that left the ledger)."""
    q = database().execute_sql
    marks = _marks(len(chunk))
    # (goods, order) -> (qty, served, due)
    old: dict[tuple[int, int], tuple] = {
        (g, o): (n, served, due) for g, o, n, served, due in q(
            f'SELECT "goods_id", "order_id", "qty", "served", "due" FROM "stock_demand" WHERE "order_id" IN ({marks})',
            chunk)}
    new: dict[tuple[int, int], tuple] = {
        (g, o): (n, served, due) for g, o, n, served, due in q(
            f'SELECT g."id", i."order_id", SUM(i."goods_count"), {_line_place()} FROM "order_item" i '
            f'JOIN "order" o ON o."id" = i."order_id" '
            f'JOIN "goods" g ON g."code_key" = {LINE_CODE_SQL} '
            f'WHERE i."order_id" IN ({marks}) AND {OPEN_SQL} GROUP BY 1, 2', chunk)}
    if old == new:
        return set(), set()
    old_orders = {o for _g, o in old}
    new_orders = {o for _g, o in new}
    gone = old_orders - new_orders
    now = utcnow()
    movements: list[dict] = []
    if gone:
        rows = q(f'SELECT "id", "order_sn", "order_status", "state", "refund_status", "exception_flags" FROM "order" '
                 f'WHERE "id" IN ({_marks(len(gone))})', list(gone)).fetchall()
        shipped = {oid: sn for oid, sn, status, state, refund, flags in rows if _shipped(status, state, refund, flags)}
        for (g, o), (n, *_line) in old.items():
            if o in shipped and n:
                movements.append(dict(goods=g, qty=-n, kind="ship", order=o, order_sn=shipped[o], actor=actor,
                                      at=now, reason=tr("order shipped", "订单发货")))
    came = new_orders - old_orders
    if came:
        for o, g, net, sn in q(
                f'SELECT m."order_id", m."goods_id", SUM(m."qty"), max(m."order_sn") FROM "stock_movement" m '
                f'WHERE m."order_id" IN ({_marks(len(came))}) AND m."kind" IN (\'ship\', \'return\') '
                f'GROUP BY 1, 2 HAVING SUM(m."qty") < 0', list(came)):
            movements.append(dict(goods=g, qty=-net, kind="return", order=o, order_sn=sn, actor=actor, at=now,
                                  reason=tr("order back to pending: its shipment is undone",
                                            "订单退回待发货：撤销发货")))
    if movements:
        StockMovement.insert_many(movements).execute()
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    delta: dict[int, int] = {}  # goods -> change of its reserved quantity
    for key in changed:
        g = key[0]
        delta[g] = delta.get(g, 0) + new.get(key, (0,))[0] - old.get(key, (0,))[0]
    if any(delta.values()):
        database().cursor().executemany('UPDATE "goods" SET "reserved" = "reserved" + ? WHERE "id" = ?',
                                        [(d, g) for g, d in delta.items() if d])
    if changed:
        stale = [k for k in old if k not in new]
        if stale:
            database().cursor().executemany(
                'DELETE FROM "stock_demand" WHERE "goods_id" = ? AND "order_id" = ?', stale)
        rows = [(g, o, *v) for (g, o), v in new.items() if old.get((g, o)) != v]
        if rows:
            database().cursor().executemany(
                'INSERT INTO "stock_demand" ("goods_id", "order_id", "qty", "served", "due", "short") '
                f'VALUES (?, ?, ?, ?, ?, {boolean(False)}) ON CONFLICT ("goods_id", "order_id") DO UPDATE SET '
                '"qty" = excluded."qty", "served" = excluded."served", "due" = excluded."due"', rows)
    # a SKU's line changes with a quantity or a place in it; its shelf with a movement
    return {g for g, _o in changed} | {m["goods"] for m in movements}, gone


def refresh_reserved(goods_ids: Iterable[int]) -> None:
    """``goods.reserved`` = the sum of its demand rows, for these goods."""
    ids = list(goods_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        database().execute_sql(
            f'UPDATE "goods" SET "reserved" = (SELECT coalesce(SUM(d."qty"), 0) FROM "stock_demand" d '
            f'WHERE d."goods_id" = "goods"."id") WHERE "id" IN ({_marks(len(chunk))})', chunk)


def _in_many_orders(goods_ids: list[int]) -> bool:
    """Whether these SKUs' codes are in 1 of :data:`_ONE_PASS_SHARE` orders or more (half): a
    count of their SKU code pairs that stops at that many (``order_sku``'s own index)."""
    cap = max(1, orders_about() // _ONE_PASS_SHARE)
    pairs = (f'SELECT 1 FROM "goods" g {cross_join()} "order_sku" s ON s."code" = g."code_key" '
             f'WHERE g."id" IN ({_marks(len(goods_ids))}) LIMIT {cap}')
    return database().execute_sql(f"SELECT count(*) FROM ({pairs}) p", goods_ids).fetchone()[0] >= cap


def _demand_insert(source: str) -> str:
    """``INSERT`` of demand rows (an existing row kept) grouped by (goods, order) from ``source``:
    the ``FROM`` and ``WHERE`` of the order lines (``i``) of orders (``o``) and goods (``g``)."""
    return insert_ignore('INSERT OR IGNORE INTO "stock_demand" ("goods_id", "order_id", "qty", "served", "due", "short") '
                         f'SELECT g."id", i."order_id", SUM(i."goods_count"), {_line_place()}, {boolean(False)} '
                         f'{source} GROUP BY 1, 2')


# the open orders' lines of the SKUs the catalogue lists, in one pass over the orders
_EVERY_OPEN_LINE = (f'FROM "order" o JOIN "order_item" i ON i."order_id" = o."id" '
                    f'JOIN "goods" g ON g."code_key" = {LINE_CODE_SQL} WHERE {OPEN_SQL}')


def reserve_new_orders(first_id: int, last_id: int) -> None:
    """Demand rows of the open orders with ids from ``first_id`` to ``last_id``: new orders a bulk
    load has just written after the catalogue (the demo), each batch while its rows are in the
    page cache, instead of a pass over every order afterwards. The goods' reserved quantities
    wait for :func:`settle_goods` with ``lines_written`` once the load is in."""
    database().execute_sql(_demand_insert(f'{_EVERY_OPEN_LINE} AND o."id" BETWEEN ? AND ?'), (first_id, last_id))


def settle_goods(goods_ids: Iterable[int], *, actor: str, rebalance: bool = True,
                 lines_written: bool = False) -> None:
    """SKUs new to the catalogue start reserving: the demand rows of the open orders that carry
    them, written by one statement (no order changed, so nothing moves on the shelf); then their
    reserved quantity, the platform push and (``rebalance``) the guard. An order that has its
    row already keeps it. A few SKUs are looked up through the orders' SKU code table
    (:mod:`dadan.core.orders.sku_index`: their orders only); many (a catalogue import), or a
    few in many orders (:func:`_in_many_orders`), in one pass over the open orders, for every
    SKU of the catalogue (the rows other SKUs' open orders need are there already; into an
    empty demand table, its indexes built once at the end). ``lines_written``: the rows are
    there already (:func:`reserve_new_orders`)."""
    ids = sorted(set(goods_ids))
    if not ids:
        return
    with write(join=True):
        if not lines_written:
            _write_demand(ids)
        refresh_reserved(ids)
        push.queue(ids)
        if rebalance:
            guard.rebalance(ids, actor=actor)


def _write_demand(ids: list[int]) -> None:
    """The demand rows of the open orders that carry these SKUs (:func:`settle_goods`)."""
    q = database().execute_sql
    if len(ids) > _FEW_GOODS or _in_many_orders(ids):
        with indexes_built_after(StockDemand):  # the first catalogue: its rows' indexes sorted once
            q(_demand_insert(_EVERY_OPEN_LINE))
    else:
        join = cross_join()
        q(_demand_insert(f'FROM "goods" g {join} "order_sku" s ON s."code" = g."code_key" '
                         f'{join} "order" o ON o."id" = s."order_id" '
                         f'{join} "order_item" i ON i."order_id" = o."id" AND {LINE_CODE_SQL} = g."code_key" '
                         f'WHERE g."id" IN ({_marks(len(ids))}) AND {OPEN_SQL}'), ids)


@dataclass(frozen=True)
class Moved:
    """A movement by a person and what the oversell guard did after it."""

    movement: StockMovement
    raised: int  # orders it made short
    released: int  # short orders it covers now


def move(goods_id: int, qty: int, kind: str, *, actor: str, reason: str = "", order_id: int | None = None,
         order_sn: str = "", now: dt.datetime | None = None) -> Moved:
    """One movement by a person (receive, count correction, adjustment, return to shelf), and the
    guard for its SKU: a receipt releases the orders it now covers. A movement that would take
    the shelf below zero is refused. Inside or outside a transaction."""
    if kind not in MOVEMENT_KINDS or kind == "ship":
        raise DadanError(tr("unknown stock movement '{k}'", "未知的库存变动“{k}”", k=kind))
    if qty == 0:
        raise DadanError(tr("a stock movement needs a quantity other than 0", "库存变动数量不能为 0"))
    with write(join=True):
        g = Goods.get_or_none(Goods.id == goods_id)
        if g is None:
            raise DadanError(tr("goods {i} not found", "找不到商品 {i}", i=goods_id))
        if qty < 0 and g.on_hand + qty < 0:
            raise DadanError(tr("cannot take {n} off {c}: it has {h} on hand", "无法从 {c} 减去 {n}：库存只有 {h}",
                                n=-qty, c=g.code, h=g.on_hand))
        m = StockMovement.create(goods=goods_id, qty=int(qty), kind=kind, order=order_id, order_sn=order_sn,
                                 actor=actor, at=now or utcnow(), reason=reason)
        push.queue([goods_id])
        raised, released = guard.rebalance([goods_id], actor=actor, now=now)
    return Moved(m, raised, released)


def count(goods_id: int, counted: int, *, actor: str, reason: str = "") -> Moved | None:
    """A count: the shelf holds ``counted``; the difference from on hand is a correction
    (None when they agree)."""
    if counted < 0:
        raise DadanError(tr("a counted quantity cannot be negative", "盘点数量不能为负数"))
    with write(join=True):
        g = Goods.get_or_none(Goods.id == goods_id)
        if g is None:
            raise DadanError(tr("goods {i} not found", "找不到商品 {i}", i=goods_id))
        diff = int(counted) - g.on_hand
        if not diff:
            return None
        return move(goods_id, diff, "count", actor=actor,
                    reason=reason or tr("counted {n}", "盘点为 {n}", n=counted))
