"""Pick waves (波次): the parcels of one print job ordered so that a picker walks the shelves once,
and the wave's pick list.

A wave is planned from the orders a print job would take (:func:`plan_wave`); each order is one
parcel for now, but a parcel is a list of order ids (:func:`plan_parcels`), so merged parcels
(合单) plan the same way. Parcels are ordered:

1. single-SKU parcels (one SKU, any quantity: 单品), grouped by SKU, the groups in the walk
   order of their SKU's bin location;
2. multi-SKU parcels, by the bin locations of their items in walk order (the first item's bin
   first, then the next ...);
3. within a group, in the order the orders were given;
4. a parcel without a line to pick (no lines, or quantities of 0) last.

A SKU is an order line's code as the stock ledger matches it (:data:`LINE_CODE_SQL`: the
merchant code ``outer_id``, else the platform's ``sku_id``, case-insensitively to
``goods.code_key``); its bin, name and spec come from the goods catalogue. A SKU the catalogue
lacks, or one without a bin, goes last, under "no bin".

The pick list has one row per (bin, SKU) in walk order: bin, SKU code, name, spec, total
quantity and the number of parcels that hold it; each bin's rows are together and no bin comes
twice. Bins are walked in the natural order of their parts (:func:`bin_key`: ``A-03-2`` <
``A-10-1`` < ``B-01-1``, numbers compared as numbers). Each parcel gets its sequence number in
the wave (1..N), for its label and packing slip.

Lines are read in a few queries per 900 orders (no query per order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from dadan.core.db import database
from dadan.core.errors import NotFound
from dadan.core.goods.ledger import LINE_CODE_SQL
from dadan.core.i18n import tr

_CHUNK = 900
_PART = re.compile(r"(\d+)|([^\W\d_]+)")
_RAW_CODE_SQL = "trim(CASE WHEN trim(i.\"outer_id\") != '' THEN i.\"outer_id\" ELSE i.\"sku_id\" END)"


def bin_key(bin_location: str) -> tuple:
    """The walk order of a bin location: its parts (runs of digits, runs of letters; anything
    else separates) compared in turn, numbers as numbers and before letters, letters without
    case; a location that is a prefix of another comes first; the text itself breaks ties
    (``A-3`` and ``A-03`` are two locations, next to each other)."""
    raw = (bin_location or "").strip()
    parts = tuple((0, int(m.group(1)), "") if m.group(1) else (1, 0, m.group(2).casefold())
                  for m in _PART.finditer(raw))
    return parts, raw


def walk_key(bin_location: str) -> tuple:
    """:func:`bin_key`, with no bin (empty) after every bin."""
    raw = (bin_location or "").strip()
    return (0, bin_key(raw)) if raw else (1, ((), ""))


@dataclass
class Sku:
    key: str  # the matching code (lower case)
    code: str  # as shown: the catalogue's code, else the order line's
    name: str
    spec: str
    bin: str  # "" when the catalogue lacks the SKU or gives it no bin
    catalogued: bool

    @property
    def walk(self) -> tuple:
        return walk_key(self.bin), self.key


@dataclass
class Parcel:
    seq: int  # 1..N in the wave
    order_ids: list[int]
    order_sns: list[str]
    lines: list[tuple[str, int]]  # (SKU key, quantity), in walk order

    @property
    def single(self) -> bool:
        """One SKU (any quantity): a 单品 parcel."""
        return len(self.lines) == 1

    @property
    def items(self) -> int:
        return sum(q for _k, q in self.lines)


@dataclass
class PickRow:
    bin: str  # "" = no bin
    key: str
    code: str
    name: str
    spec: str
    qty: int
    parcels: int


@dataclass
class Wave:
    parcels: list[Parcel] = field(default_factory=list)
    picks: list[PickRow] = field(default_factory=list)
    skus: dict[str, Sku] = field(default_factory=dict)

    @property
    def singles(self) -> int:
        return sum(1 for p in self.parcels if p.single)

    @property
    def items(self) -> int:
        return sum(r.qty for r in self.picks)

    @property
    def bins(self) -> int:
        return len({r.bin for r in self.picks if r.bin})

    @property
    def no_bin(self) -> list[PickRow]:
        return [r for r in self.picks if not r.bin]

    def seq_of(self) -> dict[int, int]:
        """order id -> its parcel's sequence number."""
        return {oid: p.seq for p in self.parcels for oid in p.order_ids}

    def sku_summary(self, parcel: Parcel) -> str:
        """``A12×2 B07`` (codes in walk order, ×N for more than one)."""
        return " ".join(self.skus[k].code + (f"×{q}" if q != 1 else "") for k, q in parcel.lines) or "-"

    def summary(self) -> str:
        text = tr("{p:,} parcels ({s:,} single-SKU), {i:,} items from {b:,} bins",
                  "{p:,} 个包裹（单品 {s:,} 个），{i:,} 件，{b:,} 个库位",
                  p=len(self.parcels), s=self.singles, i=self.items, b=self.bins)
        if self.no_bin:
            text += tr("; {n:,} SKUs without a bin (last, under 'no bin')", "；{n:,} 个商品无库位（排在最后，“无库位”）",
                       n=len(self.no_bin))
        return text


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _read(order_ids: list[int]) -> tuple[dict[int, str], dict[int, list[tuple]]]:
    """order id -> order_sn, and order id -> its lines (key, code, name, spec, qty) in order."""
    q = database().execute_sql
    sns: dict[int, str] = {}
    lines: dict[int, list[tuple]] = {}
    for chunk in _chunks(order_ids):
        marks = _marks(len(chunk))
        sns.update(q(f'SELECT "id", "order_sn" FROM "order" WHERE "id" IN ({marks})', chunk).fetchall())
        for oid, key, code, name, spec, qty in q(
                f'SELECT i."order_id", {LINE_CODE_SQL}, {_RAW_CODE_SQL}, i."goods_name", i."goods_spec", '
                f'i."goods_count" FROM "order_item" i WHERE i."order_id" IN ({marks}) '
                f'ORDER BY i."order_id", i."position", i."id"', chunk):
            lines.setdefault(oid, []).append((key or "", code or "", name or "", spec or "", int(qty or 0)))
    missing = [i for i in order_ids if i not in sns]
    if missing:
        raise NotFound(tr("no order with id {i}", "没有 id 为 {i} 的订单", i=missing[0]))
    return sns, lines


def _catalogue(keys: list[str]) -> dict[str, tuple[str, str, str, str]]:
    """code_key -> (code, name, spec, bin) of the SKUs the catalogue lists."""
    out: dict[str, tuple[str, str, str, str]] = {}
    for chunk in _chunks(keys):
        for key, code, name, spec, bin_location in database().execute_sql(
                f'SELECT "code_key", "code", "name", "spec", "bin" FROM "goods" WHERE "code_key" IN ({_marks(len(chunk))})',
                chunk):
            out[key] = (code, name or "", spec or "", (bin_location or "").strip())
    return out


def plan_wave(order_ids: Iterable[int]) -> Wave:
    """The wave of these orders, one parcel each (an id given twice counts once)."""
    return plan_parcels([[i] for i in dict.fromkeys(int(i) for i in order_ids)])


def plan_parcels(parcels: Sequence[Sequence[int]]) -> Wave:
    """The wave of these parcels, each a list of order ids (a merged parcel holds several)."""
    groups = [list(dict.fromkeys(int(i) for i in p)) for p in parcels]
    ids = list(dict.fromkeys(i for g in groups for i in g))
    sns, lines = _read(ids)
    first_line: dict[str, tuple] = {}
    for oid in ids:
        for line in lines.get(oid, ()):
            first_line.setdefault(line[0], line)
    known = _catalogue(list(first_line))
    skus: dict[str, Sku] = {}
    for key, (_k, code, name, spec, _q) in first_line.items():
        if key in known:
            g_code, g_name, g_spec, g_bin = known[key]
            skus[key] = Sku(key, g_code, g_name or name, g_spec or spec, g_bin, True)
        else:
            skus[key] = Sku(key, code, name, spec, "", False)

    walk = {k: s.walk for k, s in skus.items()}
    planned: list[tuple[tuple, int, Parcel]] = []
    for n, group in enumerate(groups):
        qty: dict[str, int] = {}
        for oid in group:
            for key, _c, _n, _s, q in lines.get(oid, ()):
                if q > 0:
                    qty[key] = qty.get(key, 0) + q
        walked = sorted(qty, key=walk.__getitem__)
        parcel = Parcel(0, group, [sns[i] for i in group], [(k, qty[k]) for k in walked])
        if not walked:
            order = (2,)
        elif len(walked) == 1:
            order = (0, walk[walked[0]])
        else:
            order = (1, tuple(walk[k] for k in walked))
        planned.append((order, n, parcel))
    planned.sort(key=lambda t: (t[0], t[1]))

    wave = Wave(skus=skus)
    totals: dict[str, list[int]] = {}
    for seq, (_o, _n, parcel) in enumerate(planned, 1):
        parcel.seq = seq
        wave.parcels.append(parcel)
        for key, q in parcel.lines:
            t = totals.setdefault(key, [0, 0])
            t[0] += q
            t[1] += 1
    for key in sorted(totals, key=walk.__getitem__):
        s = skus[key]
        wave.picks.append(PickRow(s.bin, key, s.code, s.name, s.spec, totals[key][0], totals[key][1]))
    return wave


# ------------------------------------------------------------------ files
FORMATS = ("csv", "xlsx")


def pick_headers() -> list[str]:
    return [tr("Bin", "库位"), tr("SKU code", "商品编码"), tr("Name", "名称"), tr("Spec", "规格"),
            tr("Quantity", "数量"), tr("Parcels", "包裹数")]


def parcel_headers() -> list[str]:
    return [tr("Sequence", "序号"), tr("Order number", "订单号"), tr("SKUs", "商品")]


def no_bin_label() -> str:
    return tr("(no bin)", "（无库位）")


def pick_cells(row: PickRow) -> list:
    return [row.bin or no_bin_label(), row.code, row.name, row.spec, row.qty, row.parcels]


def parcel_cells(wave: Wave, parcel: Parcel) -> list:
    return [parcel.seq, ",".join(parcel.order_sns), wave.sku_summary(parcel)]


def file_rows(wave: Wave):
    """The rows after the pick list's header: the pick list, an empty row, the parcels' header
    and the parcels."""
    for r in wave.picks:
        yield pick_cells(r)
    yield []
    yield parcel_headers()
    for p in wave.parcels:
        yield parcel_cells(wave, p)


def write_wave(wave: Wave, out: str | Path, fmt: str | None = None) -> Path:
    """The pick list, an empty row, then the parcel order, to a csv (UTF-8 with BOM) or xlsx
    file; written whole under a temporary name and owner-only, like every export."""
    from dadan.core.spreadsheets.export import ExportError, make_export_folder, written_whole
    from dadan.core.spreadsheets.writers import RowWriter

    path = Path(out).expanduser()
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(tr("wave files are csv or xlsx, not '{f}' (pass --format csv|xlsx)",
                             "波次文件仅支持 csv 或 xlsx，不支持“{f}”（请指定 --format csv|xlsx）", f=fmt))
    make_export_folder(path)

    def rows(w: RowWriter) -> None:
        for r in file_rows(wave):
            w.row(r)

    with written_whole(path) as tmp:
        if fmt == "xlsx":
            with RowWriter("xlsx", tmp, pick_headers()) as w:
                rows(w)
                w.save_xlsx()
        else:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                rows(RowWriter("csv", fh, pick_headers()))
    return path
