"""Receiving and counting stock.

- A receive file: rows of 商家编码 or 条码 and 数量 (and an optional 备注), checked whole first
  (an unknown code or barcode, a bad quantity: each a rejected row with its reason), then
  written all or nothing in one transaction, one receive movement a row.
- One scan at a time (the receive screen): find the SKU by barcode or merchant code, put stock
  on the shelf or set its counted quantity, and say what that did: the stock on hand now, the
  correction a count recorded.

Either way the oversell guard releases the short orders the receipt now covers, and their
number is told.

Every function here that changes stock is a person's act and needs the "stock" permission
(:func:`dadan.core.operators.require`, before its write transaction); the ledger's own moves
(an order shipped, the demo's stock) go through :mod:`dadan.core.goods.ledger` unchecked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dadan.core.db import database, write
from dadan.core.errors import DadanError
from dadan.core.goods import catalogue, ledger
from dadan.core.goods.columns import Table, cell, read_table
from dadan.core.i18n import tr
from dadan.core.operators import require
from dadan.core.spreadsheets.cells import clean_text, parse_code, parse_whole
from dadan.core.spreadsheets.errors import CellError
from dadan.core.spreadsheets.rejects import write_rejected_rows
from dadan.core.spreadsheets.rows import RejectedRow, row_cells


@dataclass(frozen=True)
class Receipt:
    row: int
    goods_id: int
    code: str
    qty: int
    reason: str


@dataclass
class ReceivePlan:
    table: Table
    receipts: list[Receipt]
    rejects: list[RejectedRow]
    released: int = 0  # short orders released by the commit
    sha256: str = ""  # the file's bytes (a file received once is not received again unasked)
    received_before: str = ""  # when and by whom this same file was received already ("" never)

    @property
    def ok(self) -> bool:
        return not self.rejects

    @property
    def units(self) -> int:
        return sum(r.qty for r in self.receipts)

    def summary(self, *, done: bool = False) -> str:
        skus = len({r.goods_id for r in self.receipts})
        if done:
            return tr("received {u:,} units of {s:,} SKUs ({n:,} rows); {o:,} short orders released",
                      "已入库 {s:,} 个商品共 {u:,} 件（{n:,} 行）；释放缺货订单 {o:,} 个",
                      u=self.units, s=skus, n=len(self.receipts), o=self.released)
        text = tr("{u:,} units of {s:,} SKUs to receive ({n:,} rows); {r:,} rows rejected",
                  "将入库 {s:,} 个商品共 {u:,} 件（{n:,} 行）；拒绝 {r:,} 行",
                  u=self.units, s=skus, n=len(self.receipts), r=len(self.rejects))
        if self.received_before:
            text += tr("; this file was received already ({w})", "；此文件已入库过（{w}）", w=self.received_before)
        return text


def _reject(plan: ReceivePlan, n: int, row: list, key: str, message: str) -> None:
    col = plan.table.mapping.get(key)
    plan.rejects.append(RejectedRow(n, row_cells(row, len(plan.table.headers)),
                                    plan.table.headers[col] if col is not None else "", message))


def plan_receive(path: str | Path) -> ReceivePlan:
    """Read and check a receive file; nothing is written."""
    table = read_table(path, needs=("code", "barcodes"))
    if "qty" not in table.mapping:
        raise DadanError(tr("{p} has no 数量 (quantity) column", "{p} 中没有“数量”列", p=table.path.name))
    import hashlib

    plan = ReceivePlan(table, [], [], sha256=hashlib.sha256(table.path.read_bytes()).hexdigest())
    plan.received_before = _received_before(plan.sha256, table.path.name)
    default_reason = tr("receive file {f}", "入库文件 {f}", f=table.path.name)
    for n, row in table.rows:
        try:
            code = parse_code(cell(row, table.mapping, "code"), "merchant code", "商家编码")
            key = "code"
            if not code:
                code = parse_code(cell(row, table.mapping, "barcodes"), "barcode", "条码")
                key = "barcodes"
        except CellError as exc:
            _reject(plan, n, row, "code", str(exc))
            continue
        if not code:
            _reject(plan, n, row, "code", tr("no merchant code or barcode", "没有商家编码或条码"))
            continue
        g = catalogue.find(code)
        if g is None:
            _reject(plan, n, row, key, tr("{c} is not in the goods catalogue", "商品目录中没有 {c}", c=code))
            continue
        try:
            qty = parse_whole(cell(row, table.mapping, "qty"), "quantity", "数量", minimum=1, maximum=1_000_000)
        except CellError as exc:
            _reject(plan, n, row, "qty", str(exc))
            continue
        if qty is None:
            _reject(plan, n, row, "qty", tr("the quantity is empty", "数量为空"))
            continue
        reason = clean_text(cell(row, table.mapping, "reason")) or default_reason
        plan.receipts.append(Receipt(n, g.id, g.code, qty, reason))
    return plan


def write_rejects(plan: ReceivePlan, out: str | Path | None = None) -> Path | None:
    return write_rejected_rows(plan.rejects, plan.table.headers, plan.table.path, out)


def commit_receive(plan: ReceivePlan, *, actor: str, again: bool = False) -> ReceivePlan:
    """Every row a receive movement, in one transaction, with a record of the file (its
    SHA-256); refused while any row is rejected, without the "stock" permission, and for a file
    received before (the same name and bytes: the goods would be counted twice) unless ``again``."""
    from dadan.core.models import ImportRun, utcnow

    require(actor, "stock", what=f"receive file {plan.table.path.name}")
    if plan.rejects:
        raise DadanError(tr("{n:,} rows rejected: nothing was written", "拒绝 {n:,} 行：未写入任何数据",
                            n=len(plan.rejects)))
    with write():
        before = _received_before(plan.sha256, plan.table.path.name)
        if before and not again:
            raise DadanError(tr("{f} was received already ({w}): nothing was written; add --again to receive it "
                                "a second time", "{f} 已入库过（{w}）：未写入任何数据；如需再次入库请加 --again",
                                f=plan.table.path.name, w=before))
        plan.released = sum(ledger.move(r.goods_id, r.qty, "receive", actor=actor, reason=r.reason).released
                            for r in plan.receipts)
        now = utcnow()
        ImportRun.create(started_at=now, finished_at=now, actor=actor, kind="receive",
                         file_name=str(plan.table.path), file_sha256=plan.sha256, rows_total=len(plan.receipts))
    return plan


def _received_before(sha256: str, name: str) -> str:
    """When and by whom a file of this name and these bytes was received ("" if never). (The
    same lines under another name are another delivery, as two days' receipts of one SKU.)"""
    from dadan.core.models import ImportRun
    from dadan.core.timeutil import fmt_local

    runs = (ImportRun.select().where(ImportRun.kind == "receive", ImportRun.file_sha256 == sha256)
            .order_by(ImportRun.id.desc())) if sha256 else []
    run = next((r for r in runs if Path(r.file_name).name == name), None)
    if run is None:
        return ""
    return tr("{t} by {a}", "{t}，{a}", t=fmt_local(run.started_at, fmt="%Y-%m-%d %H:%M"), a=run.actor or "?")


@dataclass(frozen=True)
class Received:
    goods_id: int
    code: str
    name: str
    qty: int  # what this scan put on the shelf (a count: the correction, signed)
    on_hand: int  # on hand after it
    released: int  # short orders the guard released
    raised: int = 0  # orders the guard found short after it (a count that finds fewer on the shelf)


def receive(code: str, qty: int = 1, *, actor: str, reason: str = "") -> Received | None:
    """``qty`` of the SKU with this barcode or code onto the shelf; None (nothing written) when
    the catalogue knows no such code. Needs the "stock" permission."""
    require(actor, "stock", what=f"receive {qty} {code}")
    with write():
        g = catalogue.find(code)
        if g is None:
            return None
        moved = ledger.move(g.id, qty, "receive", actor=actor, reason=reason or tr("received by scan", "扫码入库"))
        on_hand = database().execute_sql('SELECT "on_hand" FROM "goods" WHERE "id" = ?', (g.id,)).fetchone()[0]
    return Received(g.id, g.code, g.name, qty, on_hand, moved.released)


def count(code: str, counted: int, *, actor: str) -> Received | None:
    """The shelf holds ``counted`` of this SKU: the difference is recorded as a correction
    (``qty``, 0 when they agree). None (nothing written) for an unknown code. Needs the "stock"
    permission."""
    require(actor, "stock", what=f"count {counted} {code}")
    with write():
        g = catalogue.find(code)
        if g is None:
            return None
        moved = ledger.count(g.id, counted, actor=actor)
    return Received(g.id, g.code, g.name, moved.movement.qty if moved else 0, counted, moved.released if moved else 0,
                    moved.raised if moved else 0)


def look_up(code: str) -> Received | None:
    """The SKU (qty 0, its on hand now) for a count's first scan; None for an unknown code."""
    g = catalogue.find(code)
    if g is None:
        return None
    return Received(g.id, g.code, g.name, 0, g.on_hand, 0)


def move_by_hand(goods_id: int, qty: int, kind: str, *, actor: str, reason: str) -> ledger.Moved:
    """``dadan stock add`` (``kind`` "receive") and ``dadan stock adjust`` ("adjust"): ``qty``
    of one SKU on or off the shelf, with a reason. Needs the "stock" permission."""
    require(actor, "stock", what=f"{kind} {qty:+d} goods {goods_id}")
    return ledger.move(goods_id, qty, kind, actor=actor, reason=reason)


def count_by_hand(goods_id: int, counted: int, *, actor: str, reason: str = "") -> ledger.Moved | None:
    """``dadan stock count``: :func:`dadan.core.goods.ledger.count` (a correction, None when the
    count agrees). Needs the "stock" permission."""
    require(actor, "stock", what=f"count {counted} goods {goods_id}")
    return ledger.count(goods_id, counted, actor=actor, reason=reason)
