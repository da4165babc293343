"""Moving orders between the hot tables and the archive, both ways, without losing a row.

An archived order is one ``archived_order`` row whose ``data`` holds, as stored (column ->
value), the order's row and every row that hangs on it: ``order_item``, ``order_tag`` (with the
tag's name and colour), ``order_event``, ``shipment``, ``waybill_order``, and copies of its
``print_item`` and ``audit_event`` rows. Deleting the order cascades to the first five; the
print labels and audit events stay where they are (their order link set to NULL by the
schema) and :func:`restore` links them back. A JSON document rather than mirrored tables: a
column added to a hot table later is carried along without a migration of the archive.

:func:`archive` moves ``batch`` orders per write transaction and re-checks each order's
eligibility inside it, so every order is either hot or archived, never both or neither, even
if the process is killed (SQLite rolls an unfinished transaction back). The free-text index
and anything else kept by triggers on ``order`` follows the delete and the re-insert.

Archiving and a person's restore (:func:`restore_order`) need the "settings" permission; a
sync's restore of an order the platform changed again (:func:`restore`) is not a person's act.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Callable

from dadan.core import audit
from dadan.core.archive import eligibility
from dadan.core.db import database, write
from dadan.core.dialect import on_postgres
from dadan.core.errors import DadanError, NotFound
from dadan.core.i18n import tr
from dadan.core.models import (
    ArchivedOrder,
    AuditEvent,
    Order,
    OrderEvent,
    OrderItem,
    OrderTag,
    PrintItem,
    Shipment,
    Tag,
    WaybillOrder,
    utcnow,
)
from dadan.core.operators import require

BATCH = 5000
MOVED = (OrderItem, OrderTag, OrderEvent, Shipment, WaybillOrder)  # deleted with the order (cascade)
LINKED = (PrintItem, AuditEvent)  # stay hot, their order link nulled; linked back on restore


@dataclass
class ArchiveResult:
    before: dt.datetime
    moved: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # reason -> orders
    dry_run: bool = False

    def summary(self) -> str:
        kept = sum(self.kept.values())
        why = ", ".join(f"{n:,} {eligibility.keeper_words(k)}" for k, n in sorted(self.kept.items(),
                                                                                 key=lambda kv: -kv[1]))
        day = f"{self.before:%Y-%m-%d}"
        if self.dry_run:
            head = tr("would archive {n:,} orders shipped before {d}", "将归档 {d} 前发货的 {n:,} 个订单",
                      n=self.moved, d=day)
        else:
            head = tr("archived {n:,} orders shipped before {d}", "已归档 {d} 前发货的 {n:,} 个订单", n=self.moved, d=day)
        if not kept:
            return head
        return head + tr("; kept {k:,}: {why}", "；保留 {k:,} 个：{why}", k=kept, why=why)


def _table(model) -> str:
    return model._meta.table_name


def _rows(sql: str, params) -> list[dict]:
    """The rows as stored (column -> value); a time as the text SQLite stores (PostgreSQL gives
    datetime objects), so that the archive's JSON documents are the same on both."""
    cur = database().execute_sql(sql, params)
    names = [d[0] for d in cur.description]
    if not on_postgres():
        return [dict(zip(names, r)) for r in cur.fetchall()]
    return [{n: v.isoformat(" ") if isinstance(v, dt.datetime) else v for n, v in zip(names, r)}
            for r in cur.fetchall()]


def _insertion_order(model) -> str:
    """The rows of ``model`` in the order they were written: SQLite's ``rowid``; on PostgreSQL
    the id, or for a table without one (``waybill_order``) its columns."""
    if not on_postgres():
        return "rowid"
    if model._meta.primary_key:
        return f'"{model._meta.primary_key.column_name}"'
    return ", ".join(f'"{f.column_name}"' for f in model._meta.sorted_fields)


def _marks(ids) -> str:
    return ", ".join("?" * len(ids))


def pack(ids: list[int]) -> dict[int, dict]:
    """order id -> its archive document (see the module doc)."""
    docs = {r["id"]: {_table(Order): r} for r in _rows(f'SELECT * FROM "{_table(Order)}" WHERE id IN ({_marks(ids)})', ids)}
    for model in (*MOVED, *LINKED):
        t = _table(model)
        if model is OrderTag:
            sql = (f'SELECT ot.*, t.name AS tag_name, t.color AS tag_color FROM "{t}" ot '
                   f'JOIN "{_table(Tag)}" t ON t.id = ot.tag_id WHERE ot.order_id IN ({_marks(ids)})')
        else:
            sql = f'SELECT * FROM "{t}" WHERE order_id IN ({_marks(ids)}) ORDER BY {_insertion_order(model)}'
        for r in _rows(sql, ids):
            docs[r["order_id"]].setdefault(t, []).append(r)
    return docs


def _ship_time(row: dict):
    for key in ("shipped_at", "shipping_time", "updated_at", "local_updated_at"):
        if row.get(key):
            return row[key]
    return None


def _move_batch(chunk: list[int], before: dt.datetime, *, actor: str, now: dt.datetime) -> int:
    """One batch, inside the caller's write transaction: the orders of ``chunk`` still
    eligible are archived and deleted. Returns how many."""
    ids = [i for (i,) in Order.select(Order.id).where(
        Order.id.in_(chunk) & eligibility.old_and_shipped(before) & eligibility.archivable()).tuples()]
    if not ids:
        return 0
    docs = pack(ids)
    rows = []
    for oid in ids:
        doc = docs[oid]
        o = doc[_table(Order)]
        rows.append((oid, o["shop_id"], o["order_sn"], o["tracking_number"], _ship_time(o), now, actor,
                     json.dumps(doc, ensure_ascii=False, separators=(",", ":"))))
    database().cursor().executemany(
        f'INSERT INTO "{_table(ArchivedOrder)}" (order_id, shop_id, order_sn, tracking_number, shipped_at, '
        f'archived_at, archived_by, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', rows)
    database().execute_sql(f'DELETE FROM "{_table(Order)}" WHERE id IN ({_marks(ids)})', ids)
    audit.record("archive", actor=actor, target=f"{len(ids)} orders",
                 detail={"shipped_before": before, "first_order_id": ids[0], "last_order_id": ids[-1],
                         "orders": len(ids)})
    return len(ids)


def archive(days: int, *, actor: str, dry_run: bool = False, batch: int = BATCH, now: dt.datetime | None = None,
            progress: Callable[[int], None] | None = None) -> ArchiveResult:
    """Archive the orders shipped more than ``days`` days ago that nothing keeps
    (:mod:`core.archive.eligibility`), ``batch`` per transaction. ``progress`` is called with the
    running total inside each batch's transaction, after its rows moved and before it commits.
    Needs the "settings" permission (a dry run, which only counts, does not)."""
    if not dry_run:
        require(actor, "settings", what=f"archive orders shipped over {days} days ago")
    now = now or utcnow()
    before = eligibility.cutoff(days, now)
    ids, kept = eligibility.plan(before)
    result = ArchiveResult(before=before, kept=kept, dry_run=dry_run)
    if dry_run:
        result.moved = len(ids)
        return result
    for start in range(0, len(ids), batch):
        with write():
            result.moved += _move_batch(ids[start:start + batch], before, actor=actor, now=now)
            if progress is not None:
                progress(result.moved)
    if not ids:  # a run that found nothing to move is a run too (its batches each write their own)
        with write():
            audit.record("archive", actor=actor, target="0 orders",
                         detail={"shipped_before": before, "orders": 0, "kept": sum(kept.values())})
    return result


class AlreadyHot(DadanError):
    pass


def _free(model, wanted: list[int]) -> set[int]:
    if not wanted:
        return set()
    taken = {r[0] for r in database().execute_sql(
        f'SELECT id FROM "{_table(model)}" WHERE id IN ({_marks(wanted)})', wanted).fetchall()}
    return set(wanted) - taken


def _insert(model, row: dict, columns: set[str], keep_id: bool) -> int | None:
    """Insert an archived row; its id (None for a table without one)."""
    values = {k: v for k, v in row.items() if k in columns and (keep_id or k != "id")}
    sql = (f'INSERT INTO "{_table(model)}" ({", ".join(f"{chr(34)}{k}{chr(34)}" for k in values)}) '
           f'VALUES ({_marks(values)})')
    if not on_postgres():
        return database().execute_sql(sql, list(values.values())).lastrowid
    if "id" not in columns:  # PostgreSQL has no last row id: the insert says it
        database().execute_sql(sql, list(values.values()))
        return None
    return database().execute_sql(sql + ' RETURNING "id"', list(values.values())).fetchone()[0]


def _columns(model) -> set[str]:
    return {c.name for c in database().get_columns(_table(model))}


def _tag_id(row: dict) -> int:
    tag = Tag.get_or_none(Tag.id == row["tag_id"])
    if tag is not None and tag.name == row["tag_name"]:
        return tag.id
    tag, _ = Tag.get_or_create(name=row["tag_name"], defaults={"color": row["tag_color"]})
    return tag.id


def restore(order_sn: str, *, actor: str, shop_id: int | None = None) -> int:
    """Bring the archived order ``order_sn`` (the latest archived, if it was archived more than
    once) back into the hot tables, with the ids it had where they are still free. Returns its id."""
    with write():
        q = ArchivedOrder.select().where(ArchivedOrder.order_sn == order_sn.strip())
        if shop_id is not None:
            q = q.where(ArchivedOrder.shop_id == shop_id)
        arc = q.order_by(ArchivedOrder.id.desc()).first()
        if arc is None:
            if Order.select().where(Order.order_sn == order_sn.strip()).exists():
                raise NotFound(tr("order {sn} is in the order list, not in the archive", "订单 {sn} 在订单列表中，不在归档里",
                                  sn=order_sn.strip()))
            raise NotFound(tr("no archived order {sn}", "归档中没有订单 {sn}", sn=order_sn))
        if Order.select().where((Order.order_sn == arc.order_sn) & (Order.shop == arc.shop_id)).exists():
            raise AlreadyHot(tr("order {sn} is in the order list already (synced again?); nothing restored",
                                "订单 {sn} 已在订单列表中（已重新同步？）；未恢复", sn=arc.order_sn))
        doc = json.loads(arc.data)
        row = doc[_table(Order)]
        oid = _insert(Order, row, _columns(Order), keep_id=bool(_free(Order, [row["id"]])))
        for model in MOVED:
            rows = doc.get(_table(model), [])
            cols = _columns(model)
            free = _free(model, [r["id"] for r in rows if "id" in r])
            for r in rows:
                r = {**r, "order_id": oid}
                if model is OrderTag:
                    r["tag_id"] = _tag_id(r)
                if model is WaybillOrder and not database().execute_sql(
                        'SELECT 1 FROM "waybill" WHERE id = ?', (r["waybill_id"],)).fetchone():
                    continue  # the parcel itself is gone
                _insert(model, r, cols, keep_id="id" not in r or r["id"] in free)
        for model in LINKED:
            ids = [r["id"] for r in doc.get(_table(model), [])]
            if ids:
                database().execute_sql(f'UPDATE "{_table(model)}" SET order_id = ? WHERE order_id IS NULL AND '
                                       f'id IN ({_marks(ids)})', [oid, *ids])
        arc.delete_instance()
        audit.record("restore", actor=actor, order_id=oid, target=arc.order_sn,
                     detail={"archived_at": arc.archived_at, "archived_by": arc.archived_by})
    return oid


def restore_order(order_sn: str, *, actor: str) -> int:
    """:func:`restore` asked for by a person (``dadan archive restore``): needs the "settings"
    permission."""
    require(actor, "settings", what=f"restore archived order {order_sn.strip()}")
    return restore(order_sn, actor=actor)
