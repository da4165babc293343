"""The goods catalogue: one row per merchant SKU, its barcodes and bin location; finding goods by
code or barcode; the SKUs orders carry that the catalogue lacks.

A SKU new to the catalogue starts reserving for the open orders that carry it, and the oversell
guard runs for it, in the transaction that adds it.

A person's change (:func:`add`, :func:`edit`; a goods file: :func:`dadan.core.goods.files.commit_goods`)
needs the "stock" permission; :func:`save` itself is unchecked (the demo's catalogue, a file
whose commit checked already).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from dadan.core import audit
from dadan.core.db import database, write
from dadan.core.dialect import insert_replace, on_postgres
from dadan.core.errors import DadanError
from dadan.core.goods import guard, ledger, push
from dadan.core.goods.models import Goods, GoodsBarcode
from dadan.core.i18n import tr
from dadan.core.models import utcnow
from dadan.core.operators import require

_BARCODE_SPLIT = re.compile(r"[\s,;，；、|/]+")
MAX_QTY_DIGITS = 6  # a typed quantity; a longer number is a code (a 69 barcode has 13 digits)
_QTY_CODE = re.compile(r"^\s*(\d{1,%d})\s*[*×]\s*(\S+)\s*$" % MAX_QTY_DIGITS)
EDITABLE = ("name", "spec", "bin", "weight_g", "safety_stock", "managed", "platform_goods_id", "platform_sku_id")


def code_key(code: str) -> str:
    return code.strip().lower()


def parse_scan(text: str) -> tuple[int | None, str]:
    """An item scan at a bench: ``12*code`` (or ``12×code``) -> (12, code); ``code`` -> (None,
    code). Only ``*``/``×`` mark a quantity, so ``3XL-RED`` stays a code."""
    m = _QTY_CODE.match(text or "")
    if m:
        return int(m.group(1)), m.group(2)
    return None, (text or "").strip()


_NUMBERISH = re.compile(r"^[+\-]?[\d\s.,，。]+$")


def not_a_count(text: str) -> bool:
    """Typed as a count but not one: a number with a sign, a decimal point, separators or
    spaces (``-3``, ``1.5``, ``1,200``), which no barcode is. (A whole number of up to
    :data:`MAX_QTY_DIGITS` digits is a count; a longer one a code.)"""
    t = (text or "").strip()
    return bool(_NUMBERISH.match(t)) and any(c.isdigit() for c in t) and not t.isdigit()


def split_barcodes(text: str) -> list[str]:
    """Barcodes as typed in one cell: separated by spaces, commas, semicolons or slashes."""
    return [b for b in _BARCODE_SPLIT.split(text or "") if b]


@dataclass
class GoodsRecord:
    """One SKU as a file or a form gives it. ``on_hand`` None: the stock is left as it is."""

    code: str
    name: str = ""
    spec: str = ""
    barcodes: list[str] = field(default_factory=list)
    bin: str = ""
    weight_g: int = 0
    safety_stock: int = 0
    on_hand: int | None = None
    managed: bool = False
    platform_goods_id: str = ""
    platform_sku_id: str = ""


def find(code_or_barcode: str) -> Goods | None:
    """The goods with this barcode, else with this code (case-insensitive)."""
    text = (code_or_barcode or "").strip()
    if not text:
        return None
    row = GoodsBarcode.get_or_none(GoodsBarcode.barcode == text)
    if row is not None:
        return Goods.get_by_id(row.goods_id)
    return Goods.get_or_none(Goods.code_key == code_key(text))


def barcode_owners(barcodes: Iterable[str]) -> dict[str, str]:
    """{barcode: code of the goods holding it} for the barcodes already in the catalogue."""
    bs = list(dict.fromkeys(barcodes))
    out: dict[str, str] = {}
    for start in range(0, len(bs), 900):
        q = (GoodsBarcode.select(GoodsBarcode.barcode, Goods.code).join(Goods)
             .where(GoodsBarcode.barcode.in_(bs[start:start + 900])))
        out.update({b: c for b, c in q.tuples()})
    return out


def _check_barcodes(recs: list[GoodsRecord]) -> None:
    """A barcode names one SKU: refused when two records list it, or when another SKU holds it
    and this save does not take it from that SKU's record."""
    listed: dict[str, str] = {}
    for r in recs:
        for b in r.barcodes:
            if listed.setdefault(b, r.code) != r.code:
                raise DadanError(tr("barcode {b} is given to both {c1} and {c2}", "条码 {b} 同时给了 {c1} 和 {c2}",
                                    b=b, c1=listed[b], c2=r.code))
    given = {code_key(r.code): r for r in recs}
    for b, owner in barcode_owners(listed).items():
        mine = code_key(listed[b]) == code_key(owner)
        theirs = given.get(code_key(owner))
        released = theirs is not None and bool(theirs.barcodes) and b not in theirs.barcodes
        if not mine and not released:
            raise DadanError(tr("barcode {b} belongs to {c} already", "条码 {b} 已属于 {c}", b=b, c=owner))


def save(records: Iterable[GoodsRecord], *, actor: str, reason: str = "", settle: bool = True) -> tuple[int, int, int]:
    """Add or change SKUs (by code), all in one transaction; a record whose ``on_hand`` differs
    from the shelf's records a count correction, and a record with barcodes replaces the SKU's
    barcodes with them. Refuses (nothing written) a barcode another SKU holds. New SKUs start
    reserving for their open orders unless ``settle`` is False (the caller settles them:
    :func:`dadan.core.goods.ledger.settle_goods`). One audit event says what changed. A
    statement per chunk of SKUs, not per SKU: a catalogue of 20,000 is one import. Returns
    (added, changed, corrected)."""
    recs = list({code_key(r.code): r for r in recs_checked(records)}.values())
    many = database().cursor().executemany
    now = utcnow().isoformat(" ")
    with write(join=True):
        _check_barcodes(recs)
        stored = _stored([code_key(r.code) for r in recs])
        fresh = [r for r in recs if code_key(r.code) not in stored]
        cols = ("code", "code_key", *EDITABLE, "on_hand", "reserved", "created_at", "updated_at")
        many(f'INSERT INTO "goods" ({_names(cols)}) VALUES ({", ".join("?" * len(cols))})',
             [(r.code.strip(), code_key(r.code), *(getattr(r, f) for f in EDITABLE), 0, 0, now, now) for r in fresh])
        ids = _stored([code_key(r.code) for r in recs])
        edits = [r for r in recs if code_key(r.code) in stored
                 and stored[code_key(r.code)][1] != tuple(getattr(r, f) for f in EDITABLE)]
        many(f'UPDATE "goods" SET {_names(EDITABLE, " = ?")}, "updated_at" = ? WHERE "id" = ?', [(*(getattr(r, f) for f in EDITABLE), now, ids[code_key(r.code)][0]) for r in edits])
        held = _barcodes_of([ids[code_key(r.code)][0] for r in recs if r.barcodes])
        coded = [r for r in recs if r.barcodes and set(r.barcodes) != held.get(ids[code_key(r.code)][0], set())]
        many('DELETE FROM "goods_barcode" WHERE "goods_id" = ?', [(ids[code_key(r.code)][0],) for r in coded])
        many(insert_replace("goods_barcode", ("barcode", "goods_id"), key=("barcode",)),
             [(b, ids[code_key(r.code)][0]) for r in coded for b in r.barcodes])
        counted = [(ids[code_key(r.code)][0], r.on_hand - ids[code_key(r.code)][2]) for r in recs
                   if r.on_hand is not None and r.on_hand != ids[code_key(r.code)][2]]
        why = reason or tr("stock from the file", "文件中的库存")
        many('INSERT INTO "stock_movement" ("goods_id", "qty", "kind", "order_sn", "actor", "at", "reason") '
             'VALUES (?, ?, \'count\', \'\', ?, ?, ?)', [(g, d, actor, now, why) for g, d in counted])
        new_ids = [ids[code_key(r.code)][0] for r in fresh]
        if counted:
            push.queue([g for g, _d in counted])
            guard.rebalance([g for g, _d in counted], actor=actor)
        if new_ids and settle:  # new SKUs start reserving for the open orders that carry them
            ledger.settle_goods(new_ids, actor=actor)
        if fresh or edits or counted or coded:
            audit.record("goods_save", actor=actor, reason=reason, detail={
                "added": len(fresh), "changed": len(edits), "counted": len(counted),
                "codes": [r.code for r in (fresh + edits)][:50]})
    return len(fresh), len(edits), len(counted)


def add(records: Iterable[GoodsRecord], *, actor: str, reason: str = "") -> tuple[int, int, int]:
    """:func:`save` by a person (the goods screen's "add the missing SKU"): needs the "stock"
    permission."""
    records = list(records)
    require(actor, "stock", what="add " + ", ".join(r.code for r in records[:5]))
    return save(records, actor=actor, reason=reason)


def recs_checked(records: Iterable[GoodsRecord]) -> list[GoodsRecord]:
    """The records, each with a code (a missing one is refused)."""
    out = list(records)
    if any(not code_key(r.code) for r in out):
        raise DadanError(tr("a SKU needs a merchant code", "商品需要商家编码"))
    return out


def _barcodes_of(goods_ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for start in range(0, len(goods_ids), 900):
        chunk = goods_ids[start:start + 900]
        for b, g in database().execute_sql(f'SELECT "barcode", "goods_id" FROM "goods_barcode" '
                                           f'WHERE "goods_id" IN ({", ".join("?" * len(chunk))})', chunk):
            out.setdefault(g, set()).add(b)
    return out


def _names(columns, suffix: str = "") -> str:
    return ", ".join(f'"{c}"{suffix}' for c in columns)


def _stored(keys: list[str]) -> dict[str, tuple[int, tuple, int]]:
    """{code key: (id, editable values, on hand)} of the stored SKUs among ``keys``."""
    out = {}
    for start in range(0, len(keys), 900):
        chunk = keys[start:start + 900]
        for gid, key, on_hand, *values in database().execute_sql(
                f'SELECT "id", "code_key", "on_hand", {_names(EDITABLE)} FROM "goods" WHERE "code_key" IN ({", ".join("?" * len(chunk))})', chunk):
            out[key] = (gid, tuple(bool(v) if f == "managed" else v for f, v in zip(EDITABLE, values)), on_hand)
    return out


def edit(goods_id: int, *, actor: str, barcodes: list[str] | None = None, **values) -> None:
    """Change some fields of one SKU (the goods screen's form), and its barcodes when given
    (the list replaces them; refused, nothing written, when another SKU holds one); audited.
    Needs the "stock" permission."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise DadanError(tr("not a goods field: {f}", "不是商品字段：{f}", f=", ".join(sorted(unknown))))
    require(actor, "stock", what=f"edit goods {goods_id}")
    with write():
        g = Goods.get_or_none(Goods.id == goods_id)
        if g is None:
            raise DadanError(tr("goods {i} not found", "找不到商品 {i}", i=goods_id))
        diff = {f: v for f, v in values.items() if getattr(g, f) != v}
        if barcodes is not None:
            barcodes = list(dict.fromkeys(barcodes))
            old = [r.barcode for r in GoodsBarcode.select().where(GoodsBarcode.goods == goods_id)]
            if sorted(old) != sorted(barcodes):
                _check_barcodes([GoodsRecord(code=g.code, barcodes=barcodes)])
                GoodsBarcode.delete().where((GoodsBarcode.goods == goods_id)
                                            & GoodsBarcode.barcode.not_in(barcodes)).execute()
                if barcodes:
                    GoodsBarcode.insert_many([{"barcode": b, "goods": goods_id} for b in barcodes]) \
                        .on_conflict(conflict_target=[GoodsBarcode.barcode], preserve=[GoodsBarcode.goods]).execute()
                audit.record("goods_edit", actor=actor, target=g.code, detail={"barcodes": " ".join(barcodes)})
        if not diff:
            return
        Goods.update(updated_at=utcnow(), **diff).where(Goods.id == goods_id).execute()
        audit.record("goods_edit", actor=actor, target=g.code, detail=diff)
        if "managed" in diff:
            push.queue([goods_id])


@dataclass(frozen=True)
class MissingSku:
    code: str
    name: str
    spec: str
    orders: int  # open orders that carry it


def missing() -> list[MissingSku]:
    """SKUs the open orders carry that the catalogue lacks, most-wanted first."""
    # the line's code by its name: SQLite reads a result column's name in WHERE, PostgreSQL does not
    k = f"({ledger.LINE_CODE_SQL})" if on_postgres() else "k"
    rows = database().execute_sql(
        f'SELECT {ledger.LINE_CODE_SQL} AS k, max(CASE WHEN i."outer_id" != \'\' THEN i."outer_id" ELSE i."sku_id" END), '
        f'max(i."goods_name"), max(i."goods_spec"), count(DISTINCT i."order_id") '
        f'FROM "order" o JOIN "order_item" i ON i."order_id" = o."id" '
        f'WHERE {ledger.OPEN_SQL} AND {k} != \'\' AND NOT EXISTS (SELECT 1 FROM "goods" g WHERE g."code_key" = {k}) '
        f'GROUP BY k ORDER BY 5 DESC, 1').fetchall()
    return [MissingSku(code, name or "", spec or "", n) for _k, code, name, spec, n in rows]
