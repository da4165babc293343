"""The goods catalogue: one row per merchant SKU, its barcodes and bin location; finding goods by
code or barcode; the SKUs orders carry that the catalogue lacks.

Adding or changing SKUs settles every open order's reservation (a SKU new to the catalogue
starts reserving for the orders that wait for it, and the oversell guard runs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from dadan.core import audit
from dadan.core.db import database, write
from dadan.core.errors import DadanError
from dadan.core.goods import ledger
from dadan.core.goods.models import Goods, GoodsBarcode
from dadan.core.i18n import tr
from dadan.core.models import utcnow

_BARCODE_SPLIT = re.compile(r"[\s,;，；、|/]+")
EDITABLE = ("name", "spec", "bin", "weight_g", "safety_stock", "managed", "platform_goods_id", "platform_sku_id")


def code_key(code: str) -> str:
    return code.strip().lower()


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


def save(records: Iterable[GoodsRecord], *, actor: str, reason: str = "") -> tuple[int, int, int]:
    """Add or change SKUs (by code), all in one transaction; a record whose ``on_hand`` differs
    from the shelf's records a count correction. Refuses (nothing written) a barcode another SKU
    holds. Returns (added, changed, corrected)."""
    recs = list(records)
    added = changed = corrected = 0
    with write(join=True):
        _check_barcodes(recs)
        now = utcnow()
        for r in recs:
            key = code_key(r.code)
            if not key:
                raise DadanError(tr("a SKU needs a merchant code", "商品需要商家编码"))
            values = {f: getattr(r, f) for f in EDITABLE}
            g = Goods.get_or_none(Goods.code_key == key)
            if g is None:
                g = Goods.create(code=r.code.strip(), code_key=key, created_at=now, updated_at=now, **values)
                added += 1
                audit.record("goods_add", actor=actor, target=g.code, reason=reason)
            elif any(getattr(g, f) != v for f, v in values.items()):
                Goods.update(updated_at=now, **values).where(Goods.id == g.id).execute()
                changed += 1
                audit.record("goods_edit", actor=actor, target=g.code, reason=reason,
                             detail={f: v for f, v in values.items() if getattr(g, f) != v})
            if r.barcodes:
                GoodsBarcode.delete().where((GoodsBarcode.goods == g.id)
                                            & GoodsBarcode.barcode.not_in(r.barcodes)).execute()
                GoodsBarcode.insert_many([{"barcode": b, "goods": g.id} for b in r.barcodes]) \
                    .on_conflict("replace").execute()
            if r.on_hand is not None:
                on_hand = Goods.get_by_id(g.id).on_hand
                if r.on_hand != on_hand:
                    ledger.count(g.id, r.on_hand, actor=actor, reason=reason or tr("stock from the file",
                                                                                     "文件中的库存"))
                    corrected += 1
        ledger.settle_all(actor=actor)
    return added, changed, corrected


def edit(goods_id: int, *, actor: str, barcodes: list[str] | None = None, **values) -> None:
    """Change some fields of one SKU (the goods screen's form), and its barcodes when given
    (the list replaces them; refused, nothing written, when another SKU holds one); audited."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise DadanError(tr("not a goods field: {f}", "不是商品字段：{f}", f=", ".join(sorted(unknown))))
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
                        .on_conflict("replace").execute()
                audit.record("goods_edit", actor=actor, target=g.code, detail={"barcodes": " ".join(barcodes)})
        if not diff:
            return
        Goods.update(updated_at=utcnow(), **diff).where(Goods.id == goods_id).execute()
        audit.record("goods_edit", actor=actor, target=g.code, detail=diff)
        if "safety_stock" in diff or "managed" in diff:
            from dadan.core.goods import push

            push.queue([goods_id])


@dataclass(frozen=True)
class MissingSku:
    code: str
    name: str
    spec: str
    orders: int  # open orders that carry it


def missing() -> list[MissingSku]:
    """SKUs the open orders carry that the catalogue lacks, most-wanted first."""
    rows = database().execute_sql(
        f'SELECT {ledger.LINE_CODE_SQL} AS k, max(CASE WHEN i."outer_id" != \'\' THEN i."outer_id" ELSE i."sku_id" END), '
        f'max(i."goods_name"), max(i."goods_spec"), count(DISTINCT i."order_id") '
        f'FROM "order" o JOIN "order_item" i ON i."order_id" = o."id" '
        f'WHERE {ledger.OPEN_SQL} AND k != \'\' AND NOT EXISTS (SELECT 1 FROM "goods" g WHERE g."code_key" = k) '
        f'GROUP BY k ORDER BY 5 DESC, 1').fetchall()
    return [MissingSku(code, name or "", spec or "", n) for _k, code, name, spec, n in rows]
