"""Sending the stock outbox (:class:`~dadan.core.goods.models.StockPush`, queued by
:func:`dadan.core.goods.push.queue`) to the platform, in the shape of the ship-confirmation
outbox (:func:`dadan.core.shipping.outbox.process_outbox`):

- a due row (pending, or failed and its back-off over) is claimed as ``sending`` in a short
  transaction, unless a newer row for the same SKU exists (the older one is then done:
  replaced) or another row of it is being sent;
- outside any transaction, ``pdd.goods.quantity.update`` (set, ``update_type`` 1) goes to every
  shop that sells the SKU (see :func:`targets`);
- every shop took it -> ``done``; otherwise ``failed`` with the platform's message per shop and
  a growing delay, and the next attempt sends to every shop again (a set is idempotent, so
  sending again to a shop that took it does no harm);
- no shop sells it -> ``done`` with a note;
- a row left ``sending`` by a crash goes back to ``pending`` after :data:`STALE_AFTER` and is
  sent again with the same quantity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Iterable

from dadan.core.db import database, write
from dadan.core.dialect import on_postgres
from dadan.core.goods.ledger import LINE_CODE_SQL
from dadan.core.goods.models import Goods, StockPush
from dadan.core.i18n import tr
from dadan.core.models import Shop, utcnow
from dadan.core.shipping.outbox import backoff

STALE_AFTER = dt.timedelta(minutes=10)
_CHUNK = 900


@dataclass(frozen=True)
class Target:
    """Where one SKU's quantity goes: a shop and the platform's names of the SKU there."""

    shop_id: int
    goods_id: str
    sku_id: str
    outer_id: str


@dataclass
class PushReport:
    sent: int = 0
    done: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return tr("stock pushed to the platform: {d} done, {f} failed",
                  "库存同步到平台：成功 {d}，失败 {f}", d=self.done, f=self.failed)


def push_counts() -> dict[str, int]:
    """{state: count} of the stock outbox (zeros included)."""
    counts = {s: 0 for s in ("pending", "sending", "done", "failed")}
    for state, n in database().execute_sql('SELECT "state", count(*) FROM "stock_push" GROUP BY 1'):
        counts[state] = n
    return counts


def recover_stale(now: dt.datetime | None = None) -> int:
    """Rows left ``sending`` by a crash -> ``pending`` (safe: the same set again)."""
    now = now or utcnow()
    with write():
        return StockPush.update(state="pending", next_attempt_at=now).where(
            (StockPush.state == "sending") & (StockPush.next_attempt_at < now)).execute()


def _claim(row_id: int, now: dt.datetime) -> StockPush | None:
    """pending/failed -> sending, or None when the row is not due, another row of its SKU is being
    sent, or a newer row replaces it (then it is done)."""
    with write():
        row = StockPush.get_or_none(StockPush.id == row_id)
        if row is None or row.state not in ("pending", "failed") or row.next_attempt_at > now:
            return None
        others = StockPush.select().where((StockPush.goods == row.goods_id) & (StockPush.id != row.id))
        if others.where(StockPush.id > row.id).exists():
            StockPush.update(state="done", done_at=now, last_error=tr(
                "replaced by a newer quantity", "已被更新的数量取代")).where(StockPush.id == row.id).execute()
            return None
        if others.where(StockPush.state == "sending").exists():
            return None
        StockPush.update(state="sending", attempts=StockPush.attempts + 1,
                         next_attempt_at=now + STALE_AFTER).where(StockPush.id == row.id).execute()
        return StockPush.get_by_id(row.id)


def _done(row: StockPush, now: dt.datetime, note: str = "") -> None:
    with write():
        StockPush.update(state="done", done_at=now, last_error=note).where(
            (StockPush.id == row.id) & (StockPush.state == "sending")).execute()


def _failed(row: StockPush, now: dt.datetime, message: str) -> None:
    with write():
        StockPush.update(state="failed", next_attempt_at=now + backoff(row.attempts), last_error=message).where(
            (StockPush.id == row.id) & (StockPush.state == "sending")).execute()


def _lines(sql_where: str, params: list) -> list[tuple]:
    """(code key, shop id, goods_id, sku_id, outer_id) of each shop's latest order line per code
    (SQLite takes a group's bare columns from the row that holds its max)."""
    if on_postgres():  # the same lines by PostgreSQL's DISTINCT ON: the latest per group
        return database().execute_sql(
            f'SELECT DISTINCT ON (1, 2) {LINE_CODE_SQL}, o."shop_id", i."goods_id", i."sku_id", i."outer_id" '
            f'FROM "order_item" i JOIN "order" o ON o."id" = i."order_id" WHERE {sql_where} '
            f'ORDER BY 1, 2, o."created_time" DESC NULLS LAST, o."id" DESC', params).fetchall()
    return [r[:5] for r in database().execute_sql(
        f'SELECT {LINE_CODE_SQL}, o."shop_id", i."goods_id", i."sku_id", i."outer_id", '
        f'max(coalesce(o."created_time", \'\') || printf(\'%012d\', o."id")) FROM "order_item" i '
        f'JOIN "order" o ON o."id" = i."order_id" WHERE {sql_where} GROUP BY 1, 2', params)]


def targets(goods: Iterable[Goods]) -> dict[int, list[Target]]:
    """{goods id: where its quantity goes}: each shop whose order lines carry the SKU's code, with
    the platform's goods id and sku id from the catalogue when set, else from that shop's latest
    order line with the code. The orders that reserved or shipped the SKU are looked at first
    (indexed); a SKU none of them carries costs one scan of the order lines, shared by all such
    SKUs of the batch."""
    goods = list(goods)
    by_key = {g.code_key: g for g in goods}
    found: dict[str, dict[int, tuple]] = {k: {} for k in by_key}

    def take(rows: list[tuple]) -> None:
        for key, shop_id, gid, sku, outer in rows:
            if key in found:
                found[key].setdefault(shop_id, (gid, sku, outer))

    for g in goods:
        take(_lines(f'i."order_id" IN (SELECT "order_id" FROM "stock_demand" WHERE "goods_id" = ? '
                    f'UNION SELECT "order_id" FROM "stock_movement" WHERE "goods_id" = ? AND "order_id" IS NOT NULL) '
                    f'AND {LINE_CODE_SQL} = ?', [g.id, g.id, g.code_key]))
    unseen = [k for k, shops in found.items() if not shops]
    for start in range(0, len(unseen), _CHUNK):
        chunk = unseen[start:start + _CHUNK]
        take(_lines(f'{LINE_CODE_SQL} IN ({", ".join("?" * len(chunk))})', chunk))
    out: dict[int, list[Target]] = {}
    for key, g in by_key.items():
        out[g.id] = [Target(shop_id, g.platform_goods_id or str(gid), g.platform_sku_id or str(sku),
                            str(outer) or g.code)
                     for shop_id, (gid, sku, outer) in sorted(found[key].items())]
    return out


class _Clients:
    """One client per shop for a pass; a shop without credentials is not bound (None)."""

    def __init__(self, factory: Callable[[Shop], object]):
        self.factory = factory
        self.clients: dict[int, object | None] = {}

    def get(self, shop_id: int):
        from dadan.core.platform.shops import ShopNotConfigured

        if shop_id not in self.clients:
            shop = Shop.get_or_none(Shop.id == shop_id)
            try:
                self.clients[shop_id] = self.factory(shop) if shop is not None and shop.platform == "pdd" else None
            except ShopNotConfigured:
                self.clients[shop_id] = None
        return self.clients[shop_id]

    def close(self) -> None:
        for c in self.clients.values():
            if c is not None:
                c.close()


def send_one(row: StockPush, where: list[Target], clients: _Clients, now: dt.datetime) -> str:
    """Push one claimed row to every bound shop in ``where``; record the outcome. Returns the new
    state (done or failed)."""
    from dadan.core.platform.pdd import PlatformError, ReauthorizeRequired

    bound = [(t, clients.get(t.shop_id)) for t in where]
    bound = [(t, c) for t, c in bound if c is not None]
    if not bound:
        _done(row, now, tr("no shop with platform credentials sells it", "没有已授权的店铺在售此商品"))
        return "done"
    errors = []
    for t, client in bound:
        try:
            client.goods_quantity_update(t.goods_id, row.quantity, sku_id=t.sku_id, outer_id=t.outer_id)
        except PlatformError as exc:
            if isinstance(exc, ReauthorizeRequired):
                with write():
                    Shop.update(auth_state="reauthorize").where(Shop.id == t.shop_id).execute()
            errors.append(f"{Shop.get_by_id(t.shop_id).name}: {exc.platform_message}")
    if errors:
        _failed(row, now, "; ".join(errors))
        return "failed"
    _done(row, now)
    return "done"


def process_pushes(factory: Callable[[Shop], object], *, now: dt.datetime | None = None,
                   limit: int = 200) -> PushReport:
    """Send every due row of the stock outbox (the longest waiting first). Safe to run from several
    terminals: a row is claimed in its own transaction before it is sent."""
    now = now or utcnow()
    report = PushReport()
    recover_stale(now)
    due = list(StockPush.select(StockPush.id, StockPush.goods)
               .where(StockPush.state.in_(["pending", "failed"]) & (StockPush.next_attempt_at <= now))
               .order_by(StockPush.next_attempt_at, StockPush.id).limit(limit))
    if not due:
        return report
    where = targets(Goods.select().where(Goods.id.in_(list({r.goods_id for r in due})) & Goods.managed))
    clients = _Clients(factory)
    try:
        for r in due:
            row = _claim(r.id, now)
            if row is None:
                continue
            report.sent += 1
            if row.goods_id not in where:
                _done(row, now, tr("no longer managed: not pushed", "已不再同步库存：未推送"))
                state = "done"
            else:
                state = send_one(row, where[row.goods_id], clients, now)
            if state == "done":
                report.done += 1
            else:
                report.failed += 1
                report.errors.append(StockPush.get_by_id(row.id).last_error)
    finally:
        clients.close()
    return report
