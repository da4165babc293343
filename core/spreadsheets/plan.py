"""An import, checked before anything is written: :func:`plan_import` parses and validates every
row, groups orders (or checks a tracking file's rows) and counts what a commit would do."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from dadan.core.bulk import gc_paused
from dadan.core.i18n import tr
from dadan.core.models import Order, Shop
from dadan.core.orders.couriers import CourierBook
from dadan.core.orders.upsert import RecordColumns
from dadan.core.shipping.tracking_rules import normalize_tracking, shape_problem, used_for
from dadan.core.spreadsheets.cells import cell_text
from dadan.core.spreadsheets.commit import Counts, apply_plan
from dadan.core.spreadsheets.errors import SpreadsheetError
from dadan.core.spreadsheets.fields import FIELD_BY_KEY, normalize_header
from dadan.core.spreadsheets.grouping import group_orders
from dadan.core.spreadsheets.layout import Layout
from dadan.core.spreadsheets.rows import ParsedRows, Progress, RejectedRow, parse_rows, row_cells


@dataclass
class ImportPlan:
    layout: Layout
    shop_id: int | None
    records: RecordColumns | list[dict]  # orders (with items) or tracking rows
    rejects: list[RejectedRow]
    rows_total: int  # data rows (blank/total/footer rows excluded)
    skipped: int = 0  # blank, total and footer rows
    counts: Counts = field(default_factory=Counts)
    file_sha256: str = ""

    @property
    def kind(self) -> str:
        return self.layout.kind

    @property
    def ok(self) -> bool:
        return not self.rejects

    def summary(self, *, done: bool = False) -> str:
        """The counts; ``done``: as written (after the commit)."""
        c = self.counts
        if self.kind == "tracking" and done:
            return tr("{n:,} tracking numbers assigned (ship confirmations queued), {u:,} unchanged, "
                      "{r:,} rows rejected", "已填写 {n:,} 个快递单号（已排队回传发货），{u:,} 个无变化，{r:,} 行被拒绝",
                      n=c.updated, u=c.unchanged, r=c.rejected)
        if self.kind == "tracking":
            return tr("{n:,} tracking numbers to assign, {u:,} unchanged, {r:,} rows rejected",
                      "将填写 {n:,} 个快递单号，{u:,} 个无变化，{r:,} 行被拒绝", n=c.updated, u=c.unchanged, r=c.rejected)
        text = tr("{n:,} new, {u:,} updated, {s:,} unchanged orders; {r:,} rows rejected",
                  "新增 {n:,}，更新 {u:,}，无变化 {s:,} 个订单；拒绝 {r:,} 行", n=c.new, u=c.updated, s=c.unchanged,
                  r=c.rejected)
        if c.losses and not done:
            text += tr("; {k:,} updates drop items or change an amount", "；{k:,} 个更新会减少商品或改变金额", k=len(c.losses))
        return text


def _sha256(path: Path) -> str:
    """The file's SHA-256 ("" when it cannot be read)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


def _one_assignment_per_order(records: list[dict], layout: Layout, rejects: list[RejectedRow]) -> list[dict]:
    """A tracking file names each order once: a repeated identical row is dropped; an order
    given different tracking numbers or couriers is rejected on each of its rows (which one
    is right cannot be told)."""
    by_sn: dict[str, list[dict]] = {}
    for rec in records:
        by_sn.setdefault(rec["order_sn"], []).append(rec)
    out = []
    for sn, recs in by_sn.items():
        if len({(r["tracking_number"], r["logistics_id"]) for r in recs}) == 1:
            out.append(recs[0])
            continue
        rows = ", ".join(str(r["_row"]) for r in recs)
        for r in recs:
            rejects.append(_tracking_reject(layout, r, "order_sn", tr(
                "order {sn} is given different tracking numbers on rows {rows}", "订单 {sn} 在第 {rows} 行有不同的快递单号",
                sn=sn, rows=rows)))
    out.sort(key=lambda r: r["_row"])
    return out


def _tracking_reject(layout: Layout, rec: dict, field_key: str, message: str) -> RejectedRow:
    """The reject of a tracking file's row, naming the column of ``field_key``."""
    return RejectedRow(rec["_row"], row_cells(layout.rows[rec["_row"] - 1], len(layout.headers)),
                       layout.headers[layout.mapping[field_key]], message, rec["order_sn"])


def _tracking_records(parsed: ParsedRows, layout: Layout, rejects: list[RejectedRow],
                      book: CourierBook) -> list[dict]:
    """A tracking file's rows -> {order_sn, tracking_number, logistics_id, _row}; a row without a
    courier or a tracking number of the courier's shape, or naming an order given another one,
    is rejected (a number already on another order is found by the dry run)."""
    cols = parsed.cols
    records = [{"order_sn": sn, "tracking_number": t, "logistics_id": c, "_row": r} for sn, t, c, r in zip(
        cols["order_sn"], cols["tracking_number"], cols["courier"], parsed.rows)]
    for rec in records:
        if rec["logistics_id"] is None:
            rejects.append(_tracking_reject(layout, rec, "courier", tr("the courier is empty", "快递公司为空")))
        elif not rec["tracking_number"]:
            rejects.append(_tracking_reject(layout, rec, "tracking_number",
                                            tr("the tracking number is empty", "快递单号为空")))
        elif why := shape_problem(rec["tracking_number"], rec["logistics_id"], book):
            rejects.append(_tracking_reject(layout, rec, "tracking_number", why))
    bad = {r.row for r in rejects}
    return _one_assignment_per_order([r for r in records if r["_row"] not in bad], layout, rejects)


def _check_numbers_to_print(parsed: ParsedRows, layout: Layout, rejects: list[RejectedRow],
                            book: CourierBook) -> ParsedRows:
    """An orders file's tracking numbers of orders awaiting shipment (numbers taken elsewhere,
    for dadan to print) are checked as a tracking file's: a known courier, a number of its
    shape, on no other order of the database or of the file, else the row is rejected (and
    with it its order). A number the order already holds passes (a file imported again, the
    orders of one merged parcel); so do shipped orders' numbers (the platform's record). The
    rows kept."""
    cols = parsed.cols
    numbers, statuses = cols.get("tracking_number"), cols.get("order_status")
    if numbers is None or statuses is None:
        return parsed
    todo = [j for j, (t, s) in enumerate(zip(numbers, statuses)) if t and s == 1]
    if not todo:
        return parsed
    sns, couriers = cols["order_sn"], cols.get("courier") or [None] * len(numbers)
    wanted = sorted({normalize_tracking(numbers[j]) for j in todo})
    holders: dict[str, set[str]] = {}  # a number -> the orders holding it now
    for i in range(0, len(wanted), 500):
        for sn, tn in (Order.select(Order.order_sn, Order.tracking_number)
                       .where(Order.tracking_number.in_(wanted[i:i + 500])).tuples()):
            holders.setdefault(tn, set()).add(sn)
    in_file: dict[str, str] = {}  # a number -> the first order of the file given it
    width = len(layout.headers)
    bad: list[int] = []
    for j in todo:
        tn, sn = normalize_tracking(numbers[j]), sns[j]
        held = holders.get(tn, set())
        if sn in held:
            continue
        column = "tracking_number"
        if couriers[j] is None:
            column = "courier" if "courier" in layout.mapping else column
            why = tr("tracking number {t} has no courier dadan knows", "快递单号 {t} 没有可识别的快递公司", t=tn)
        else:
            why = shape_problem(tn, couriers[j], book)
        if why is None and held:
            why = used_for(tn, min(held))
        if why is None and in_file.setdefault(tn, sn) != sn:
            why = tr("tracking number {t} is also given to order {sn} in this file", "运单号 {t} 在本文件中也给了订单 {sn}",
                     t=tn, sn=in_file[tn])
        if why is not None:
            row = parsed.rows[j]
            rejects.append(RejectedRow(row, row_cells(layout.rows[row - 1], width),
                                       layout.headers[layout.mapping[column]], why, sn))
            bad.append(j)
    return _without(parsed, bad)


def _without(parsed: ParsedRows, bad: list[int]) -> ParsedRows:
    """``parsed`` less the rows ``bad`` (their orders' other lines: group_orders rejects them)."""
    if not bad:
        return parsed
    keep = sorted(set(range(len(parsed.rows))) - set(bad))
    return ParsedRows({k: [c[j] for j in keep] for k, c in parsed.cols.items()}, [parsed.rows[j] for j in keep])


SHOP_HEADERS = ("店铺", "店铺名称", "shop", "shop name")  # dadan's own export names each order's shop


def _check_shop_column(parsed: ParsedRows, layout: Layout, rejects: list[RejectedRow], shop_id: int | None) -> ParsedRows:
    """A file that names each order's shop (dadan's own export: 店铺) imported into another
    shop: those rows are rejected (and with them their orders), naming both shops; the same
    orders would otherwise be made again under a second shop. Rows whose shop cell is empty,
    or that name the import's shop, pass; no column, or a shop still to be made
    (``--create-shop``), checks nothing. The rows kept."""
    if shop_id is None:
        return parsed
    wanted = {normalize_header(h) for h in SHOP_HEADERS}
    col = next((i for i, h in enumerate(layout.headers) if normalize_header(h) in wanted), None)
    if col is None:
        return parsed
    name = Shop.get_by_id(shop_id).name
    width = len(layout.headers)
    bad: list[int] = []
    for j, row in enumerate(parsed.rows):
        raw = layout.rows[row - 1]
        given = cell_text(raw[col]) if col < len(raw) else ""
        if given and given != name:
            rejects.append(RejectedRow(row, row_cells(raw, width), layout.headers[col], tr(
                "the file gives shop {f}; this import is into shop {s} (--shop {f}, or leave the column out)",
                "文件中的店铺是 {f}；本次导入的店铺是 {s}（请用 --shop {f}，或去掉该列）", f=given, s=name),
                parsed.cols["order_sn"][j]))
            bad.append(j)
    return _without(parsed, bad)


@gc_paused
def plan_import(layout: Layout, *, shop_id: int | None, tz: str = "Asia/Shanghai",
                progress: Progress | None = None, couriers: CourierBook | None = None,
                dry_run_counts: bool = True) -> ImportPlan:
    """Parse and validate every row, group orders, and (``dry_run_counts``, which needs the open
    database) compute the new / updated / unchanged counts by running the upsert in a
    transaction that is rolled back: nothing is written. ``couriers`` reads the courier column
    (default: the courier catalogue only;
    ``CourierBook.from_database()`` adds the platform's cached courier list)."""
    if layout.missing():
        raise SpreadsheetError(tr("required columns are not mapped: {m}", "必需的列未映射：{m}",
                                  m=", ".join(FIELD_BY_KEY[k].label() for k in layout.missing())))
    parsed, rejects, total, skipped = parse_rows(layout, tz=tz, progress=progress, couriers=couriers,
                                                 strict_courier=layout.kind == "tracking")
    if layout.kind == "tracking":
        records = _tracking_records(parsed, layout, rejects, couriers or CourierBook())
    else:
        parsed = _check_shop_column(parsed, layout, rejects, shop_id)
        parsed = _check_numbers_to_print(parsed, layout, rejects, couriers or CourierBook())
        records = group_orders(parsed, rejects, layout.headers, layout.rows)
    rejects.sort(key=lambda r: r.row)
    plan = ImportPlan(layout=layout, shop_id=shop_id, records=records, rejects=rejects, rows_total=total,
                      skipped=skipped, file_sha256=layout.sha256 or _sha256(layout.path))
    plan.counts.rejected = len(rejects)
    if dry_run_counts and (shop_id is not None or layout.kind == "tracking"):
        apply_plan(plan, run=None, progress=None)
    elif layout.kind == "orders":  # no shop yet: every order would be new
        plan.counts.new = len(records)
    return plan
