"""Writing an import: :func:`commit_import` runs a checked :class:`plan.ImportPlan` in ONE write
transaction (orders merged through :func:`core.orders.upsert.upsert_orders` with
``source="import"``; tracking numbers assigned through the shipping outbox) and records an
``ImportRun``. A file with rejected rows is refused unless the caller accepts a partial
import; a refused import or a dry run (:func:`apply_plan` without a run) writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dadan.core.bulk import gc_paused
from dadan.core.db import database, write
from dadan.core.errors import DadanError, TrackingRefused
from dadan.core.goods import ledger
from dadan.core.i18n import tr
from dadan.core.models import ImportRun, Order, Shop, utcnow
from dadan.core.operators import require
from dadan.core.orders import fulltext
from dadan.core.orders.upsert import upsert_orders
from dadan.core.shipping import outbox as shipping
from dadan.core.shipping.tracking_rules import normalize_tracking
from dadan.core.spreadsheets.errors import SpreadsheetError
from dadan.core.spreadsheets.rows import Progress, RejectedRow, row_cells
from dadan.core.waybills import merge

if TYPE_CHECKING:
    from dadan.core.spreadsheets.plan import ImportPlan


@dataclass
class Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # rejected rows
    losses: list[str] = field(default_factory=list)  # updates that drop items or change an amount


@dataclass(frozen=True)
class CommitRun:
    """What one commit was asked: who writes, whether the good rows may be written when some
    were rejected, whether updates that drop items or change amounts may be written, and when
    it started (the ``ImportRun``'s start)."""

    actor: str
    allow_partial: bool
    started: dt.datetime
    accept_changes: bool = False
    new_shop: str = ""  # a shop to create in the import's transaction (nothing written: no shop)


IMPORT_PIECE = 2000  # orders upserted at a time (in the import's one transaction)


class _Rollback(Exception):
    pass


def apply_plan(plan: ImportPlan, *, run: CommitRun | None, progress: Progress | None) -> None:
    """Run the import in ONE write transaction: with ``run``, commit it (rolled back if rows were
    rejected and ``run.allow_partial`` is false); without, a dry run that is rolled back.
    Updates ``plan.counts`` (and, for tracking files, ``plan.rejects``)."""
    actor = run.actor if run is not None else ""
    db = database()
    counts = Counts(rejected=len(plan.rejects))
    made_shop = run is not None and bool(run.new_shop) and plan.shop_id is None
    try:
        with write(db) as txn:
            if made_shop:
                plan.shop_id = Shop.create(name=run.new_shop, auth_state="unconfigured").id
            if plan.kind == "tracking":
                new_rejects = _apply_tracking(plan, counts, actor, progress)
            else:
                new_rejects = []
                _apply_orders(plan, counts, progress)
            if new_rejects:
                plan.rejects = sorted(plan.rejects + new_rejects, key=lambda r: r.row)
                counts.rejected = len(plan.rejects)
                bad = {r.row for r in new_rejects}
                plan.records = [r for r in plan.records if r["_row"] not in bad]
            if run is None:
                txn.rollback()
            elif plan.rejects and not run.allow_partial or counts.losses and not run.accept_changes:
                raise _Rollback()
            else:
                _record_run(plan, counts, run)
    except _Rollback:
        if made_shop:  # rolled back with the rest
            plan.shop_id = None
    except BaseException:
        if made_shop:
            plan.shop_id = None
        raise
    plan.counts = counts


def _apply_orders(plan: ImportPlan, counts: Counts, progress: Progress | None) -> None:
    recs = plan.records
    total = len(recs)
    chunk = IMPORT_PIECE
    changed: list[int] = []
    # the file's orders enter the free-text index in one statement; the stock guard runs once
    with fulltext.deferred(), ledger.guard_once(actor="import"):
        for i in range(0, total, chunk):
            if progress:
                progress("write", i, total)
            res = upsert_orders(plan.shop_id, recs[i : i + chunk], source="import")
            counts.new += res.new
            counts.updated += res.changed
            counts.unchanged += res.unchanged
            counts.losses += res.losses
            changed += res.changed_ids
    merge.leave(changed, actor="import")  # (a changed order the guard found short leaves its merged parcel)
    if progress:
        progress("write", total, total)


def _apply_tracking(plan: ImportPlan, counts: Counts, actor: str, progress: Progress | None) -> list[RejectedRow]:
    db = database()
    rejects: list[RejectedRow] = []
    lay = plan.layout
    width = len(lay.headers)
    sns = list({r["order_sn"] for r in plan.records})
    found: dict[str, list] = {}
    for i in range(0, len(sns), 500):
        q = Order.select(Order.id, Order.order_sn, Order.shop, Order.tracking_number, Order.logistics_id).where(
            Order.order_sn.in_(sns[i : i + 500]))
        if plan.shop_id is not None:
            q = q.where(Order.shop == plan.shop_id)
        for o in q:
            found.setdefault(o.order_sn, []).append(o)
    total = len(plan.records)
    for n, rec in enumerate(plan.records):
        if progress and n % 200 == 0:
            progress("write", n, total)
        cells = row_cells(lay.rows[rec["_row"] - 1], width)
        orders = found.get(rec["order_sn"], [])
        if not orders:
            rejects.append(RejectedRow(rec["_row"], cells, lay.headers[lay.mapping["order_sn"]],
                                       tr("no order {sn} in the database", "数据库中没有订单 {sn}", sn=rec["order_sn"])))
            continue
        if len(orders) > 1:
            rejects.append(RejectedRow(rec["_row"], cells, lay.headers[lay.mapping["order_sn"]], tr(
                "order {sn} exists in several shops; choose the shop with --shop", "订单 {sn} 存在于多个店铺，请用 --shop 指定",
                sn=rec["order_sn"])))
            continue
        o = orders[0]
        norm = normalize_tracking
        if norm(o.tracking_number) == norm(rec["tracking_number"]) and o.logistics_id == rec["logistics_id"]:
            counts.unchanged += 1
            continue
        try:
            with db.atomic():  # savepoint: a refused row leaves nothing behind
                shipping.assign_tracking(o.id, rec["tracking_number"], rec["logistics_id"], actor=actor or "import")
        except DadanError as exc:  # a TrackingRefused names its column
            column = lay.headers[lay.mapping[exc.field]] if isinstance(exc, TrackingRefused) else ""
            rejects.append(RejectedRow(rec["_row"], cells, column, exc.message))
            continue
        counts.updated += 1
    if progress:
        progress("write", total, total)
    return rejects


def _record_run(plan: ImportPlan, counts: Counts, run: CommitRun) -> None:
    ImportRun.create(
        started_at=run.started, finished_at=utcnow(), actor=run.actor, kind=plan.kind,
        file_name=str(plan.layout.path), file_sha256=plan.file_sha256, shop=plan.shop_id,
        rows_total=plan.rows_total, orders_new=counts.new, orders_updated=counts.updated,
        orders_unchanged=counts.unchanged, rows_rejected=counts.rejected, committed=True,
        message=plan.summary(done=True))


@dataclass
class ImportOutcome:
    committed: bool
    counts: Counts
    message: str
    rejects_file: Path | None = None


def _losses_refused(plan: ImportPlan) -> ImportOutcome:
    return ImportOutcome(False, plan.counts, tr(
        "not imported: {n} orders would lose items or change their amount; check them or accept the changes",
        "未导入：{n} 个订单将减少商品或改变金额；请核对，或确认接受这些变化", n=len(plan.counts.losses)))


@gc_paused
def commit_import(plan: ImportPlan, *, actor: str, allow_partial: bool = False, accept_changes: bool = False,
                  progress: Progress | None = None, new_shop: str = "") -> ImportOutcome:
    """Write the import in one transaction. With rejected rows and not ``allow_partial``, or
    with updates that would drop an order's items or change its amount
    (``plan.counts.losses``) and not ``accept_changes``, the file is refused and nothing is
    written. ``new_shop``: the name of a shop to create for a plan made without one
    (``--create-shop``), in the same transaction: a refused or failed import leaves no shop."""
    require(actor, "import", what=f"import {plan.kind}")
    if plan.rejects and not allow_partial:
        return ImportOutcome(False, plan.counts, tr(
            "not imported: {r} rows were rejected; fix them or accept a partial import",
            "未导入：{r} 行被拒绝；请修正后重试，或选择部分导入", r=len(plan.rejects)))
    if plan.kind == "orders" and plan.shop_id is None and not new_shop.strip():
        raise SpreadsheetError(tr("choose the shop to import into (--shop NAME)", "请选择导入到哪个店铺（--shop 店铺名）"))
    if plan.counts.losses and not accept_changes:
        return _losses_refused(plan)
    apply_plan(plan, run=CommitRun(actor, allow_partial, utcnow(), accept_changes, new_shop.strip()), progress=progress)
    if plan.rejects and not allow_partial:  # tracking rows refused while writing: rolled back
        return ImportOutcome(False, plan.counts, tr(
            "not imported: {r} rows were rejected; fix them or accept a partial import",
            "未导入：{r} 行被拒绝；请修正后重试，或选择部分导入", r=len(plan.rejects)))
    if plan.counts.losses and not accept_changes:  # found while writing: rolled back
        return _losses_refused(plan)
    return ImportOutcome(True, plan.counts, tr("imported: ", "已导入：") + plan.summary(done=True))
