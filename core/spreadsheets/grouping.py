"""Parsed order lines -> order records for :func:`core.orders.upsert.upsert_orders`: lines grouped
by order number with their items, money summed or taken once, receiver text masked. An order
with a rejected line is rejected as a whole."""

from __future__ import annotations

from typing import Sequence

from dadan.core.i18n import tr
from dadan.core.masking import mask_address, mask_name, mask_phone
from dadan.core.orders.upsert import RecordColumns
from dadan.core.spreadsheets.fields import FIELD_BY_KEY, ORDER_MONEY_FIELDS, ORDER_TEXT_FIELDS, TIME_FIELDS
from dadan.core.spreadsheets.rows import ParsedRows, RejectedRow, row_cells


def _sum_or_same(values: list[int]) -> int:
    """Order-level money on each line of an order: repeated (take once) or per line (sum)."""
    if len(set(values)) == 1:
        return values[0]
    return sum(values)


_ITEM_KEYS = ("goods_id", "goods_name", "goods_spec", "goods_count", "sku_id", "outer_id", "outer_goods_id")
_DISCOUNTS = ("discount_shop", "discount_platform", "discount_pay", "discount")
_REFUND_RANK = {1: 0, 2: 2, 3: 3, 4: 1}  # which after-sale status of an order's lines wins


# line field -> record field, for fields an order's first non-empty line decides
_FIRST_WINS = tuple((k, k) for k in ("order_status",) + ORDER_TEXT_FIELDS + TIME_FIELDS)
_MONEY_FIELDS = (("goods_amount", "goods_amount_fen"), ("postage", "postage_fen"), ("pay_amount", "pay_amount_fen"))
# a one-line order's record: these line fields as they are, then these renamed
_AS_IS = ("order_sn", "order_status", "tracking_number") + ORDER_TEXT_FIELDS + TIME_FIELDS
_RENAMED = (("after_sale", "refund_status"),) + _MONEY_FIELDS


MAX_LINES_PER_ORDER = 500
_MUST_AGREE = ("receiver_name", "receiver_phone", "receiver_address", "province", "city", "town")


def _lines_problem(p: ParsedRows, sn: str, lines: list[int]) -> str | None:
    """Why the lines of order ``sn`` cannot be one order, or None: too many of them, two
    receivers (a receiver field with different values; an empty cell agrees with any), for
    which of them is the parcel's cannot be guessed, or one line twice (every field the same),
    which would double what ships."""
    if len(lines) > MAX_LINES_PER_ORDER:
        return tr("order {sn} has {n} lines (at most {m})", "订单 {sn} 有 {n} 行（最多 {m} 行）",
                  sn=sn, n=len(lines), m=MAX_LINES_PER_ORDER)
    for key in _MUST_AGREE:
        col = p.cols.get(key)
        if col is not None and len({v for k in lines if (v := col[k])}) > 1:
            return tr("the rows of order {sn} give different values of {f}", "订单 {sn} 的各行{f}不一致", sn=sn,
                      f=FIELD_BY_KEY[key].label())
    seen: dict[tuple, int] = {}  # a line twice, every field the same: the file (or a part) pasted twice
    cols = list(p.cols.values())
    for k in lines:
        same = seen.setdefault(tuple(c[k] for c in cols), k)
        if same != k:
            return tr("rows {a} and {b} of order {sn} are the same line twice (pasted twice?): keep one, or one "
                      "line with the whole quantity", "订单 {sn} 的第 {a} 行和第 {b} 行是重复的同一行（是否粘贴了两次？）："
                      "请只保留一行，或合为一行并填写总数量", sn=sn, a=p.rows[same], b=p.rows[k])
    return None


def unit_price(price: int | None, amount: int | None, count: int | None) -> int | None:
    """An item's unit price in fen: the file's unit price, else its goods total (商品总价) over
    the count, rounded half up."""
    if price is not None:
        return price
    if amount is None:
        return None
    n = count or 1
    return (amount + n // 2) // n


def _line_item(ln: dict, amount_per_line: bool) -> dict | None:
    """The item an order line carries (None if the line names no goods). ``amount_per_line``:
    the lines' goods totals are each line's own (they differ), so one gives the line's price."""
    get = ln.get
    it = {k: v for k in _ITEM_KEYS if (v := get(k)) is not None}
    if not it:
        return None
    v = unit_price(get("goods_price"), get("goods_amount") if amount_per_line else None, get("goods_count"))
    if v is not None:
        it["goods_price_fen"] = v
    if "goods_count" not in it:
        it["goods_count"] = 1
    return it


def _order_record(sn: str, lns: list[dict]) -> dict:
    """The record for :func:`core.orders.upsert.upsert_orders` from the lines of an order with several."""
    rec: dict = {"order_sn": sn}
    for lk, rk in _FIRST_WINS:
        for ln in lns:
            v = ln.get(lk)
            if v is not None:
                rec[rk] = v
                break
    refunds = [v for ln in lns if (v := ln.get("after_sale")) is not None]
    if refunds:
        rec["refund_status"] = max(refunds, key=lambda s: _REFUND_RANK.get(s, 0))
    money = {}
    for k in ORDER_MONEY_FIELDS:
        vals = [v for ln in lns if (v := ln.get(k)) is not None]
        if vals:
            money[k] = _sum_or_same(vals)
    for k, rk in _MONEY_FIELDS:
        if k in money:
            rec[rk] = money[k]
    disc = [money[k] for k in _DISCOUNTS if k in money]
    if disc:
        rec["discount_amount_fen"] = sum(disc)
    if "pay_time" not in rec and "confirm_time" in rec:
        rec["pay_time"] = rec["confirm_time"]
    for ln in lns:
        if ln.get("tracking_number"):
            rec["tracking_number"] = ln["tracking_number"]
            if ln.get("courier"):
                rec["logistics_id"] = ln["courier"]
            break
    per_line = len({ln.get("goods_amount") for ln in lns}) > 1
    items = [it for ln in lns if (it := _line_item(ln, per_line)) is not None]
    if items:
        rec["items"] = items
    return rec


def _one_line_columns(p: ParsedRows) -> dict[str, list]:
    """Record columns for every row as if each were a one-line order (None where a row gives
    nothing; an item's empty fields included)."""
    cols = p.cols
    out: dict[str, list] = {}
    for k in _AS_IS:
        if k in cols:
            out[k] = cols[k]
    for k, rk in _RENAMED:
        if k in cols:
            out[rk] = cols[k]
    disc = [cols[k] for k in _DISCOUNTS if k in cols]
    if len(disc) == 1:
        out["discount_amount_fen"] = disc[0]
    elif disc:
        nones = (None,) * len(disc)
        out["discount_amount_fen"] = [None if t == nones else sum(filter(None, t)) for t in zip(*disc)]
    if "confirm_time" in cols:  # no pay time: the deal time stands in
        paid = cols.get("pay_time")
        out["pay_time"] = cols["confirm_time"] if paid is None else [
            v if v is not None else c for v, c in zip(paid, cols["confirm_time"])]
    if "tracking_number" in cols and "courier" in cols:
        out["logistics_id"] = [c if t else None for t, c in zip(cols["tracking_number"], cols["courier"])]
    item_keys = [k for k in _ITEM_KEYS if k in cols]
    item_data = [cols[k] for k in item_keys]  # an empty count is 1 (the upsert's rule)
    if item_keys:
        goods = (None,) * len(item_keys)  # a row naming no goods has no item, whatever its price
        if "goods_price" in cols or "goods_amount" in cols:
            item_keys.append("goods_price_fen")
            blank = [None] * len(item_data[0])
            item_data.append(list(map(unit_price, cols.get("goods_price", blank), cols.get("goods_amount", blank),
                                      cols.get("goods_count", blank))))
        n = len(goods)
        lines: dict[tuple, list[dict]] = {}  # rows of the same goods, count and price share one item list

        def item(t: tuple) -> list[dict] | None:
            got = lines.get(t)
            if got is None:
                got = lines[t] = [dict(zip(item_keys, t))]
            return got

        out["items"] = [None if t[:n] == goods else item(t) for t in zip(*item_data)]
    return out


def group_orders(p: ParsedRows, rejects: list[RejectedRow], headers: list[str],
                 rows: Sequence[Sequence]) -> RecordColumns:
    """Order lines -> order records for :func:`core.orders.upsert.upsert_orders` (held a field at a
    time), in the order their first lines come. An order with a rejected line is rejected as a
    whole."""
    bad_sns: dict[str, int] = {}
    for r in rejects:
        if r.order_sn:
            bad_sns.setdefault(r.order_sn, r.row)
    sns = p.cols["order_sn"]
    first: dict[str, int] = {}
    for j, sn in enumerate(sns):
        first.setdefault(sn, j)
    several: dict[str, list[int]] = {}
    if len(first) < len(sns):
        for j, sn in enumerate(sns):
            if first[sn] != j:
                several.setdefault(sn, [first[sn]]).append(j)
    width = len(headers)
    for sn, lines in several.items():
        why = None if sn in bad_sns else _lines_problem(p, sn, lines)
        if why is not None:  # every line of the order rejected, with the reason
            bad_sns[sn] = p.rows[lines[0]]
            for k in lines:
                r = p.rows[k]
                rejects.append(RejectedRow(r, row_cells(rows[r - 1], width), "", why, sn))
            several[sn] = []
    for sn in bad_sns.keys() & first.keys():
        for k in several.get(sn, [first[sn]]):
            r = p.rows[k]
            rejects.append(RejectedRow(r, row_cells(rows[r - 1], width), "", tr(
                "another line of order {sn} (row {r}) was rejected", "订单 {sn} 的另一行（第 {r} 行）被拒绝",
                sn=sn, r=bad_sns[sn])))
    order = [j for sn, j in first.items() if sn not in bad_sns]
    cols = _one_line_columns(p)
    if len(order) < len(sns):
        cols = {k: [c[j] for j in order] for k, c in cols.items()}
    if several:  # orders with several lines: their records replace the first line's values
        pos = {sns[j]: i for i, j in enumerate(order)}
        nones = [None] * len(order)
        line = p.lines([k for sn, lines in several.items() if sn not in bad_sns for k in lines])
        for sn, lines in several.items():
            if sn in bad_sns:
                continue
            rec = _order_record(sn, [line[k] for k in lines])
            i = pos[sn]
            for k, c in cols.items():
                c[i] = rec.get(k)
            for k in rec.keys() - cols.keys():
                cols[k] = list(nones)
                cols[k][i] = rec[k]
    _add_masks(cols)
    return RecordColumns(cols, len(order))


def _add_masks(cols: dict[str, list]) -> None:
    """Plain receiver text from the file gets the masked forms the screens show by default."""
    for plain, masked, fn in (("receiver_name", "receiver_name_mask", mask_name),
                              ("receiver_phone", "receiver_phone_mask", mask_phone)):
        if plain in cols:
            cols[masked] = [fn(v) if v else None for v in cols[plain]]
    if "receiver_address" in cols:
        addresses = cols["receiver_address"]
        regions = [cols[k] for k in ("province", "city", "town") if k in cols]
        region = ["".join(filter(None, t)) for t in zip(*regions)] if regions else [""] * len(addresses)
        cols["address_mask"] = [mask_address(a, region=r) if a else None for a, r in zip(addresses, region)]
