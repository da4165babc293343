"""A report as titled tables (sections): what the CLI prints, the CSV and xlsx hold, and the
screen shows. Cells are numbers (int, float, or None for "no figure") or text; money in yuan."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dadan.core.i18n import tr
from dadan.core.orders.rules import FLAG_BY_KEY, flag_label
from dadan.core.reports.figures import PeriodFigures, Report
from dadan.core.spreadsheets.writers import yuan

Cell = int | float | Decimal | str | None  # Decimal: yuan


@dataclass
class Section:
    key: str  # periods | exceptions | couriers | shops | operators
    title: str
    headers: list[str]
    rows: list[list[Cell]]  # the last row of "periods" and "exceptions" is the total
    total_row: bool = False


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else yuan(fen)


def _round(x: float | None, n: int = 1) -> float | None:
    return None if x is None else round(x, n)


def period_cells(f: PeriodFigures, label: str, money: bool) -> list[Cell]:
    cells: list[Cell] = [label, f.orders, f.parcels, f.printed, f.shipped, f.exception_orders, f.due, f.overdue,
                         _round(f.overdue_rate), _round(f.avg_ship_hours)]
    if money:
        cells.append(_yuan(f.money_fen))
    return cells


def sections(report: Report, *, full_keys: bool = True) -> list[Section]:
    money = report.include_money
    total = tr("Total", "合计")
    head = [tr("Period", "周期"), tr("Orders", "订单"), tr("Parcels", "包裹"), tr("Printed", "已打印"),
            tr("Shipped", "已发货"), tr("Exceptions", "异常"), tr("Due", "应发"), tr("Overdue", "超时"),
            tr("Overdue %", "超时率%"), tr("Pay→ship h", "付款→发货(时)")]
    if money:
        head.append(tr("Paid ¥", "实付金额¥"))

    def label(r):
        return r.bucket.key if full_keys else r.bucket.label

    periods = Section("periods", tr("Per period", "按周期"), head,
                      [period_cells(r, label(r), money) for r in report.rows]
                      + [period_cells(report.total, total, money)], total_row=True)
    kinds = report.exception_kinds
    exceptions = Section("exceptions", tr("Exceptions by kind", "异常分类"),
                         [tr("Period", "周期")] + [flag_label(FLAG_BY_KEY[k]) for k in kinds],
                         [[label(r)] + [r.exceptions.get(k, 0) for k in kinds] for r in report.rows]
                         + [[total] + [report.total.exceptions.get(k, 0) for k in kinds]], total_row=True)
    couriers = Section("couriers", tr("Shipped by courier", "快递公司发货占比"),
                       [tr("Courier", "快递公司"), tr("Shipped", "已发货"), tr("Share %", "占比%")],
                       [[c.name, c.shipped, round(c.share, 1)] for c in report.couriers])
    shop_head = [tr("Shop", "店铺"), tr("Orders", "订单"), tr("Printed", "已打印"), tr("Shipped", "已发货")]
    if money:
        shop_head.append(tr("Paid ¥", "实付金额¥"))
    shops = Section("shops", tr("By shop", "按店铺"), shop_head,
                    [[s.name, s.orders, s.printed, s.shipped] + ([_yuan(s.money_fen)] if money else [])
                     for s in report.shops])
    operators = Section("operators", tr("By operator", "按操作员"),
                        [tr("Operator", "操作员"), tr("Labels printed", "打印面单"), tr("Packed", "验货"),
                         tr("Shipped", "发货")],
                        [[o.actor or tr("(unknown)", "（未知）"), o.printed, o.packed, o.shipped]
                         for o in report.operators])
    return [periods, exceptions, couriers, shops, operators]


def cell_text(c: Cell) -> str:
    if c is None:
        return "-"
    if isinstance(c, Decimal):
        return f"{c:.2f}"
    if isinstance(c, float):
        return f"{c:.1f}"
    return str(c)


def report_heading(report: Report) -> str:
    period = {"day": tr("day", "日"), "week": tr("week", "周"), "month": tr("month", "月")}[report.period]
    return tr("Report per {p}, {a} to {b} ({tz})", "报表（按{p}）：{a} 至 {b}（{tz}）", p=period, a=report.first,
              b=report.last, tz=report.tz)
