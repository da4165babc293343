"""The one order upsert used by sync, import and demo: new orders inserted a batch at a time,
stored ones diffed against the record, exception flags raised on transitions."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Iterable, Mapping, Sequence

from peewee import DateTimeField

from dadan.core import audit
from dadan.core.bulk import gc_paused
from dadan.core.db import bulk_insert, execute_updates, insert_statement, write
from dadan.core.goods import ledger
from dadan.core.i18n import tr
from dadan.core.models import Order, OrderItem, database_proxy, utcnow
from dadan.core.orders import fulltext
from dadan.core.orders.rules import (
    ITEM_TEXT_KEYS,
    SEARCH_FIELDS,
    Flag,
    flags_text,
    item_search_words,
    item_summary,
    platform_flags,
    receiver_hash,
    search_text,
    search_text_of,
    sku_text,
)
from dadan.core.postgres import is_postgres
from dadan.core.waybills import merge

# fields a platform/import record may set on an order
PLATFORM_FIELDS = (
    "order_status", "refund_status", "after_sales_status", "risk_control_status", "is_stock_out",
    "stock_out_handle_status", "trade_type", "created_time", "confirm_time", "pay_time",
    "updated_at", "last_ship_time", "shipping_time", "pay_amount_fen", "goods_amount_fen",
    "discount_amount_fen", "postage_fen", "province", "city", "town", "receiver_name_enc",
    "receiver_phone_enc", "receiver_address_enc", "receiver_name_mask", "receiver_phone_mask",
    "address_mask", "receiver_name", "receiver_phone", "receiver_address", "buyer_memo", "remark",
    "remark_tag", "open_address_id",
)
ITEM_FIELDS = (
    "goods_id", "goods_name", "goods_spec", "goods_count", "sku_id", "outer_id",
    "outer_goods_id", "goods_price_fen", "goods_img",
)
_STATUS_FIELDS = ("order_status", "refund_status", "after_sales_status", "risk_control_status", "is_stock_out")
_STATUS_SET = frozenset(_STATUS_FIELDS)
_platform_values = operator.itemgetter(*PLATFORM_FIELDS)  # a stored row's PLATFORM_FIELDS, in order
_PLATFORM_POSITIONS = range(len(PLATFORM_FIELDS))
_BATCH = 900  # orders per batch: the IN (...) lists stay below SQLite's variable limit


@dataclass
class UpsertResult:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    flagged: int = 0  # orders that gained an exception flag
    new_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)  # updates that drop items or change an amount
    restored: int = 0  # archived orders the platform changed: back from the archive, then updated

    def __iadd__(self, other: "UpsertResult") -> "UpsertResult":
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.flagged += other.flagged
        self.new_ids += other.new_ids
        self.changed_ids += other.changed_ids
        self.losses += other.losses
        self.restored += other.restored
        return self


def _status_tuple(row: Mapping) -> tuple:
    """The status fields of a record or stored row, missing values as 0."""
    return tuple(row.get(k) or 0 for k in _STATUS_FIELDS)


def _item_key(items: Sequence[Mapping]) -> tuple:
    return tuple(tuple([str(v) if v else "" for v in map(it.get, ITEM_FIELDS)]) for it in items)


def _same_items(items: Sequence[Mapping], old_items: Sequence[Mapping]) -> bool:
    """Whether ``items`` are the stored ``old_items`` (as :func:`_item_key` compares them: a
    missing value as empty, a number as its digits). Equal values, the usual case of a sync,
    are seen without spelling every value out."""
    if len(items) != len(old_items):
        return False
    if all(tuple(map(a.get, ITEM_FIELDS)) == tuple(map(b.get, ITEM_FIELDS)) for a, b in zip(items, old_items)):
        return True
    return _item_key(items) == _item_key(old_items)


_LINE_IDENTITY = ("goods_id", "sku_id", "outer_id", "goods_name", "goods_spec")


def _with_stored_fields(item: dict, stored: Mapping) -> dict:
    """An imported line that is the stored one (every identity field it gives agrees), with the
    fields its file has no column for (None: a unit price, an image) taken from the stored line,
    as an order's own missing fields are: a file leaves alone what it does not give."""
    missing = [f for f in ITEM_FIELDS if item.get(f) is None and stored.get(f) not in (None, "")]
    if not missing or any(item.get(f) is not None and str(item[f]) != str(stored.get(f) or "")
                          for f in _LINE_IDENTITY):
        return item
    return item | {f: stored[f] for f in missing}


def _clean_items(items: Sequence[Mapping]) -> list[dict]:
    out = []
    for it in items:
        d = {f: v for f in ITEM_FIELDS if (v := it.get(f)) is not None}
        if "goods_count" not in d:
            d["goods_count"] = 1
        out.append(d)
    return out


class RecordColumns(Sequence):
    """Order records held a field at a time: ``cols[field][j]`` is record j's value (None: not
    given). For bulk callers that already hold columns (the spreadsheet import): the upsert
    builds new orders from the columns without a dict per record. Reading one gives a dict of
    its given values, so it stands wherever a list of records does."""

    __slots__ = ("cols", "_n")

    def __init__(self, cols: dict[str, list], n: int):
        assert all(len(c) == n for c in cols.values())
        self.cols = cols
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, j):
        if isinstance(j, slice):
            cols = {k: c[j] for k, c in self.cols.items()}
            return RecordColumns(cols, len(range(*j.indices(self._n))))
        if not -self._n <= j < self._n:
            raise IndexError(j)
        return {k: v for k, c in self.cols.items() if (v := c[j]) is not None}

    def __iter__(self):
        return map(self.__getitem__, range(self._n))

    def take(self, idx: list[int]) -> "RecordColumns":
        """The records at these positions, in this order."""
        if idx == list(range(self._n)):
            return self
        return RecordColumns({k: [c[j] for j in idx] for k, c in self.cols.items()}, len(idx))


@gc_paused
def upsert_orders(shop_id: int, records: Iterable[Mapping], *, source: str = "api",
                  now: dt.datetime | None = None) -> UpsertResult:
    """Insert or update orders of one shop, in one write transaction per call.

    ``records`` are mappings with :data:`PLATFORM_FIELDS` (times as naive UTC datetimes, money
    in fen), ``order_sn``, optional ``tracking_number``/``logistics_id``, and ``items`` (a list
    of mappings with :data:`ITEM_FIELDS`).

    Inside a caller's write transaction it runs in that transaction (no savepoint of its own:
    see :func:`dadan.core.db.write`), so a failure is rolled back with the caller's work.

    Rules:
    - local workflow state (state, print count, tags, note, flags) is never cleared;
    - a record older than what is stored (by the platform's ``updated_at``) changes nothing;
    - an ``import`` record never overwrites an order the platform has sent (only fills gaps);
    - exception flags are raised when a blocking condition appears.
    """
    now = now or utcnow()
    result = UpsertResult()
    recs = records if isinstance(records, RecordColumns) else list(records)
    with write(join=True), fulltext.deferred():
        for start in range(0, len(recs), _BATCH):
            result += _upsert_batch(shop_id, recs[start : start + _BATCH], source, now)
        ledger.settle_orders(result.changed_ids + result.new_ids, actor=source)
        merge.leave(result.changed_ids, actor=source)  # a blocked or moved order leaves its merged parcel
    return result


@functools.cache
def _existing_columns() -> tuple:
    """The stored columns an upsert compares against."""
    names = ("id", "order_sn", "state", "exception_flags", "synced_at", "receiver_hash", "source",
             "tracking_number", "logistics_id") + PLATFORM_FIELDS
    return tuple(getattr(Order, n) for n in dict.fromkeys(names))


def _existing_rows(shop_id: int, sns: list[str]) -> dict[str, dict]:
    """Stored rows for these order numbers, as dicts (one prepared statement; peewee would
    build a parameter object per value)."""
    cols = _existing_columns()
    names = [c.name for c in cols]
    # SQLite gives times as text; PostgreSQL as the datetimes peewee would make of it
    times = [] if is_postgres(database_proxy.obj) else [c.name for c in cols if isinstance(c, DateTimeField)]
    sql = (f'SELECT {", ".join(f"{chr(34)}{c.column_name}{chr(34)}" for c in cols)} FROM "order" '
           f'WHERE "order_sn" IN ({", ".join("?" * len(sns))}) AND "shop_id" = ?')
    out = {}
    for row in database_proxy.execute_sql(sql, [*sns, shop_id]).fetchall():
        d = dict(zip(names, row))
        for name in times:
            if (v := d[name]) is not None:
                d[name] = _read_time(v)
        out[d["order_sn"]] = d
    return out


def _existing_items(ids: list[int]) -> dict[int, list[dict]]:
    """The stored items of these orders (their :data:`ITEM_FIELDS`), in position order, by
    order id (one prepared statement, as :func:`_existing_rows`)."""
    cols = ", ".join(f'"{getattr(OrderItem, f).column_name}"' for f in ITEM_FIELDS)
    sql = (f'SELECT "{OrderItem.order.column_name}", {cols} FROM "{OrderItem._meta.table_name}" '
           f'WHERE "{OrderItem.order.column_name}" IN ({", ".join("?" * len(ids))}) ORDER BY 1, "position"')
    out: dict[int, list[dict]] = {}
    for oid, *values in database_proxy.execute_sql(sql, ids).fetchall():
        out.setdefault(oid, []).append(dict(zip(ITEM_FIELDS, values)))
    return out


def _restore_archived(shop_id: int, sns: list[str]) -> list[str]:
    """Archived orders among ``sns`` come back, history and all, before the platform's change to
    them is applied (an after-sale months later): one order, never a fresh copy beside its
    archived history. Returns their numbers."""
    from dadan.core.archive.lookup import archived_numbers
    from dadan.core.archive.move import restore

    found = archived_numbers(shop_id, sns)
    for sn in found:
        restore(sn, actor="sync", shop_id=shop_id)
    return found


def _read_time(text):
    """A stored time as the datetime peewee reads back (the C parser: peewee tries format
    after format with ``strptime``); anything else as peewee reads it."""
    try:
        return dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return Order.updated_at.python_value(text)


def _upsert_batch(shop_id: int, recs: "list[Mapping] | RecordColumns", source: str,
                  now: dt.datetime) -> UpsertResult:
    res = UpsertResult()
    if isinstance(recs, RecordColumns):
        sns = [v if type(v) is str else str(v) for v in recs.cols["order_sn"]]
    else:
        sns = [str(r["order_sn"]) for r in recs]
    last = dict(zip(sns, range(len(sns))))  # the last record wins for duplicates inside one call
    existing = _existing_rows(shop_id, list(last))
    if source == "api" and len(existing) < len(last):
        restored = _restore_archived(shop_id, [sn for sn in last if sn not in existing])
        if restored:
            existing.update(_existing_rows(shop_id, restored))
            res.restored += len(restored)
    old_items = _existing_items([o["id"] for o in existing.values()]) if existing else {}

    updates: list[tuple[dict, int]] = []
    item_replacements: dict[int, list[dict]] = {}
    events: list[tuple[int, str]] = []
    new_idx: list[int] = []
    for sn, j in last.items():
        old = existing.get(sn)
        if old is None:
            new_idx.append(j)
            continue
        rec = recs[j]
        items = _clean_items(rec.get("items") or [])
        changes, new_items, new_flags = _diff(old, rec, items, old_items.get(old["id"], []), source, now)
        if changes is None:
            res.unchanged += 1
            continue
        updates.append((changes, old["id"]))
        if new_items is not None:
            item_replacements[old["id"]] = new_items
        loss = _loss(sn, old, changes, new_items, old_items.get(old["id"], []))
        if loss:
            res.losses.append(loss)
        res.changed += 1
        res.changed_ids.append(old["id"])
        if new_flags:
            res.flagged += 1
            events.append((old["id"], flags_text(new_flags)))

    if updates:
        fulltext.reindex_deferred([pk for changes, pk in updates if "search_text" in changes])
        execute_updates(Order, updates)
    if item_replacements:
        ids = list(item_replacements)
        OrderItem.delete().where(OrderItem.order.in_(ids)).execute()
        bulk_insert(OrderItem, [
            {**it, "order": oid, "position": i} for oid, its in item_replacements.items() for i, it in enumerate(its)
        ])
    for oid, text in events:
        audit.order_event(oid, "flag", text)
    if new_idx:
        if isinstance(recs, RecordColumns):
            new = recs.take(new_idx)
        else:
            new = [recs[j] for j in new_idx]
        prepared = prepare_new_orders(shop_id, new, source, now)
        res.new_ids = insert_new_orders(shop_id, prepared)
        res.new += len(new_idx)
        res.flagged += prepared.flagged
    return res


@dataclass(frozen=True)
class NewOrders:
    """The INSERTs of orders none of whose numbers the shop holds yet, parameters and all
    (plain data: another process may make it)."""

    sql: str
    params: list[tuple]  # one per order
    item_sql: str
    item_params: list[list[tuple]]  # each order's items: (position, fields...) without the order's id
    flagged: int  # orders that come in with an exception flag

    def search_texts(self) -> list[str]:
        """Each order's search text, in order (what the free-text index reads of it)."""
        return [p[-_TEXT_FROM_END] for p in self.params]


def prepare_new_orders(shop_id: int, recs: "list[Mapping] | RecordColumns", source: str,
                       now: dt.datetime, from_items: dict | None = None) -> NewOrders:
    """What inserting ``recs`` as new orders takes (no database needed); see
    :func:`insert_new_orders`. ``from_items``: the derived text of orders' goods (item count,
    summary, SKU and search words) by the goods, kept by a caller that prepares many batches."""
    plan, params, items, flagged = _new_orders(shop_id, recs, source, now.isoformat(" "), from_items)
    # the item fields these items carry; the others are constants in the INSERT
    sql, fields = _new_item_insert(_ITEM_SET.intersection(set().union(*[it.keys() for its in items for it in its])))
    item_params = [[(pos, *map(it.get, fields)) for pos, it in enumerate(its)]  # None: the INSERT's default
                   for its in items]
    return NewOrders(plan.sql, params, sql, item_params, flagged)


def insert_new_orders(shop_id: int, prepared: NewOrders) -> list[int]:
    """Insert orders known to be new (inside a write transaction; an order number the shop
    holds already fails the unique key); their ids, in order."""
    ids = _insert_orders(shop_id, prepared.sql, prepared.params)
    new_ids = [ids[p[-_SN_FROM_END]] for p in prepared.params]
    rows = [(oid, *it) for oid, its in zip(new_ids, prepared.item_params) for it in its]
    if rows:
        database_proxy.cursor().executemany(prepared.item_sql, rows)
    return new_ids


def _insert_orders(shop_id: int, sql: str, rows: list[tuple]) -> dict[str, int]:
    """Insert new orders (``sql`` and parameters from :func:`_new_orders`); their ids by order
    number.

    Inside the write transaction nobody else inserts, so SQLite gives the rows the ids after the
    largest one, in order; that is checked (``last_insert_rowid``) and the ids are read back
    only when it does not hold. PostgreSQL's ids come from a sequence: always read back."""
    q = database_proxy.execute_sql
    sns = [r[-_SN_FROM_END] for r in rows]
    if is_postgres(database_proxy.obj):  # a sequence gives the ids: read them back
        database_proxy.cursor().executemany(sql, rows)
    else:
        before = q('SELECT max("id") FROM "order"').fetchone()[0] or 0
        database_proxy.cursor().executemany(sql, rows)
        last = q("SELECT last_insert_rowid()").fetchone()[0]
        if last == before + len(rows):
            return dict(zip(sns, range(before + 1, last + 1)))
    return dict(q(f'SELECT "order_sn", "id" FROM "order" WHERE "order_sn" IN ({", ".join("?" * len(sns))}) '
                  'AND "shop_id" = ?', [*sns, shop_id]).fetchall())


def _derived(rec: Mapping, items: list[dict]) -> dict:
    return {
        "item_count": sum(int(it.get("goods_count") or 0) for it in items),
        "items_summary": item_summary(items),
        "sku_text": sku_text(items),
        "search_text": search_text(rec, items),
    }


# A new order is inserted as one parameter list: the platform fields its batch's records carry
# (as given: the INSERT puts the field's default in for None), then these. Every other column
# takes its default as a constant in the statement.
_NEW_ORDER_LOCAL = ("shop", "order_sn", "source", "local_updated_at", "tracking_number", "logistics_id",
                    "receiver_hash", "state", "confirmed_at", "exception_flags", "item_count", "items_summary",
                    "sku_text", "search_text", "synced_at", "imported_at")
_PLATFORM_SET = frozenset(PLATFORM_FIELDS)
_SN_FROM_END = len(_NEW_ORDER_LOCAL) - _NEW_ORDER_LOCAL.index("order_sn")
_TEXT_FROM_END = len(_NEW_ORDER_LOCAL) - _NEW_ORDER_LOCAL.index("search_text")
_ENC_FIELDS = ("receiver_name_enc", "receiver_phone_enc", "receiver_address_enc")
_ENC_SET = frozenset(_ENC_FIELDS)


# the platform's time fields, bound as the text SQLite stores: formatted here they cost less
# than sqlite3's adapter call per value (about 5 µs a row)
_TIME_FIELDS = frozenset(f for f in PLATFORM_FIELDS if isinstance(getattr(Order, f), DateTimeField))


@dataclass(frozen=True)
class _NewOrderInsert:
    sql: str
    fields: tuple  # the platform fields bound, in parameter order (None takes the default)


@functools.lru_cache(maxsize=32)
def _new_order_insert(fields: frozenset) -> _NewOrderInsert:
    """The INSERT for new orders whose records carry the platform ``fields``."""
    names = tuple(f for f in PLATFORM_FIELDS if f in fields)
    return _NewOrderInsert(sql=insert_statement(Order, names + _NEW_ORDER_LOCAL, defaulted=names), fields=names)


def _new_orders(shop_id: int, recs: "list[Mapping] | RecordColumns", source: str, now: str,
                from_items: dict | None = None) -> tuple[_NewOrderInsert, list[tuple], list[list[dict]], int]:
    """The INSERT of new orders, built a field at a time: (plan, parameters of each order, its
    items as given, how many are flagged). ``now`` is the text of a time
    (``datetime.isoformat(" ")``, the form every DateTimeField reads back)."""
    n = len(recs)
    if isinstance(recs, RecordColumns):
        fields = recs.cols.keys()
        nones = [None] * n

        def col(f: str) -> list:
            return recs.cols.get(f, nones)
    else:
        if all(type(r) is dict for r in recs):  # C-level keys and gets (a third of the time)
            fields = set().union(*map(dict.keys, recs))

            def col(f: str) -> list:
                return list(map(dict.get, recs, repeat(f)))
        else:
            fields = set().union(*map(Mapping.keys, recs))

            def col(f: str) -> list:
                return [r.get(f) for r in recs]
    # the platform fields the records carry; the others are constants in the INSERT
    plan = _new_order_insert(_PLATFORM_SET.intersection(fields))
    columns = []
    for f in plan.fields:  # as given: the INSERT puts the default in for None
        c = col(f)
        if f in _TIME_FIELDS:
            c = [v.isoformat(" ") if type(v) is dt.datetime else v for v in c]
        columns.append(c)
    items = [its or () for its in col("items")]
    local = []
    flagged = 0
    if from_items is None:  # orders of the same goods share their derived text
        from_items = {}
    for sn, status, ship, tracking, logistics, enc, text, its in zip(
            col("order_sn"), zip(*map(col, _STATUS_FIELDS)), col("shipping_time"), col("tracking_number"),
            col("logistics_id"), zip(*map(col, _ENC_FIELDS)), zip(*map(col, SEARCH_FIELDS)), items):
        if status[0] in (2, 3):  # an order the platform already shows shipped needs nothing from us
            state, confirmed_at, flags = "confirmed", _time_text(ship) or now, 0
        else:
            state, confirmed_at = "new", None
            flags = platform_flags(*[v or 0 for v in status]) if status[0] in (1, None) else 0
            if flags:
                flagged += 1
        key = tuple(map(its[0].get, ITEM_TEXT_KEYS)) if len(its) == 1 else tuple(
            v for it in its for v in map(it.get, ITEM_TEXT_KEYS))
        derived = from_items.get(key)
        if derived is None:
            clean = _clean_items(its)
            derived = from_items[key] = (sum(int(it.get("goods_count") or 0) for it in clean), item_summary(clean),
                                         sku_text(clean), item_search_words(clean))
        local.append((
            shop_id, str(sn), source, now, tracking or "", logistics or None,
            receiver_hash(*[v or "" for v in enc]), state, confirmed_at, flags, derived[0], derived[1], derived[2],
            search_text_of(text, item_words=derived[3]), now if source == "api" else None,
            now if source == "import" else None,
        ))
    params = list(zip(*columns, *zip(*local))) if columns else local
    return plan, params, items, flagged


_ITEM_SET = frozenset(ITEM_FIELDS)


@functools.lru_cache(maxsize=32)
def _new_item_insert(fields: frozenset) -> tuple[str, tuple]:
    """The INSERT of new orders' items that carry the item ``fields``: (SQL binding order,
    position, then those fields, None taking the field's default; the fields in order)."""
    names = tuple(f for f in ITEM_FIELDS if f in fields)
    return insert_statement(OrderItem, ("order", "position") + names, defaulted=names), names


def _yuan(fen) -> str:
    return f"¥{int(fen or 0) / 100:,.2f}"


def _loss(sn: str, old: dict, changes: dict, new_items: list[dict] | None, old_items: list[dict]) -> str:
    """What an update takes away from a stored order ("" when nothing): items removed (fewer
    lines or pieces), or an amount already known changed."""
    parts = []
    if new_items is not None:
        before, after = len(old_items), len(new_items)
        pieces = (sum(int(it.get("goods_count") or 0) for it in old_items),
                  sum(int(it.get("goods_count") or 0) for it in new_items))
        if after < before or pieces[1] < pieces[0]:
            parts.append(tr("items {a} -> {b} ({p} -> {q} pieces)", "商品 {a} -> {b} 种（{p} -> {q} 件）",
                            a=before, b=after, p=pieces[0], q=pieces[1]))
    for f, en, zh in (("pay_amount_fen", "paid", "实付"), ("goods_amount_fen", "goods total", "商品总价")):
        if f in changes and old[f]:
            parts.append(tr("{w} {a} -> {b}", "{w} {a} -> {b}", w=tr(en, zh), a=_yuan(old[f]), b=_yuan(changes[f])))
    return f"{sn}: " + "; ".join(parts) if parts else ""


def _time_text(v):
    return v.isoformat(" ") if type(v) is dt.datetime else v


def _diff(old: dict, rec: Mapping, items: list[dict], old_items: list[dict], source: str,
          now) -> tuple[dict | None, list[dict] | None, int]:
    """What applying ``rec`` to the stored row ``old`` changes: (changes or None if nothing,
    replacement items or None, newly raised flag bits)."""
    new_upd = rec.get("updated_at")
    old_upd = old["updated_at"]
    if old_upd and new_upd and new_upd < old_upd:
        return None, None, 0  # stale: we already hold newer platform data
    fill_only = source == "import" and old["synced_at"] is not None and not (
        new_upd and old_upd and new_upd > old_upd
    )
    given = tuple(map(rec.get, PLATFORM_FIELDS))
    stored = _platform_values(old)
    # the fields whose given value differs from the stored one (compared in C; a few, as a rule)
    differ = [(PLATFORM_FIELDS[i], given[i], stored[i])
              for i in itertools.compress(_PLATFORM_POSITIONS, map(operator.ne, given, stored))]
    if fill_only:  # only what is stored empty
        changes = {f: v for f, v, cur in differ if v is not None and cur in ("", None, 0)}
    else:
        changes = {f: v for f, v, _cur in differ if v is not None}
    if not fill_only:
        for f in ("tracking_number", "logistics_id"):
            v = rec.get(f)
            if v and v != old[f] and old["state"] in ("new", "printed"):
                changes[f] = v
    if source == "import" and items and len(items) == len(old_items):
        items = [_with_stored_fields(it, was) for it, was in zip(items, old_items)]
    items_changed = bool(items) and not fill_only and not _same_items(items, old_items)

    row = old | changes  # the order as it will be (of the fields read below, only these changes apply)
    cur = row.__getitem__

    gained = 0
    state = old["state"]
    # still to ship here: a new blocking condition matters (none when no status field changed)
    if state in ("new", "printed") and not _STATUS_SET.isdisjoint(changes):
        before = platform_flags(*_status_tuple(old))
        after = platform_flags(*_status_tuple(row))
        gained |= after & ~before
    new_hash = old["receiver_hash"] if _ENC_SET.isdisjoint(changes) else receiver_hash(
        cur("receiver_name_enc"), cur("receiver_phone_enc"), cur("receiver_address_enc"))  # (the receiver as stored)
    if new_hash != old["receiver_hash"]:
        changes["receiver_hash"] = new_hash
        if old["receiver_hash"] and new_hash and state in ("new", "printed", "shipped"):
            gained |= Flag.ADDRESS_CHANGED
    if cur("order_status") in (2, 3) and old["order_status"] == 1:
        if state in ("new", "printed"):
            gained |= Flag.SHIPPED_ELSEWHERE
        elif state == "shipped":
            changes["state"] = "confirmed"
            changes["confirmed_at"] = now
    new_flags = gained & ~old["exception_flags"]
    if new_flags:
        changes["exception_flags"] = old["exception_flags"] | gained
    if not changes and not items_changed:
        if source == "api" and old["synced_at"] is None:
            return {"synced_at": now}, None, 0
        return None, None, 0

    text_rec = {f: row[f] for f in SEARCH_FIELDS}
    if items_changed:
        changes.update(_derived(text_rec, items))
    elif any(f in changes for f in SEARCH_FIELDS):
        changes["search_text"] = search_text(text_rec, old_items)
    changes["local_updated_at"] = now
    if source == "api":
        changes["synced_at"] = now
    elif source == "import":
        changes["imported_at"] = now
    return changes, (items if items_changed else None), int(new_flags)
