"""SKU filters from an index built for them: a table of (code, order) pairs.

``order.sku_text`` lists an order's codes (merchant code, SKU id, goods id) as
``"|a12|b07|"``; ``sku:A12`` means "some code starts with ``a12``". Searched with ``LIKE``
that is a scan of every order. The table ``order_sku`` holds one row per (code, order),
keyed by the code first, so a prefix is a range of the key: ``code GLOB 'a12*'``.

Triggers on the order table keep it in step with every insert, update of ``sku_text`` and
delete (a cascade from a deleted shop included), inside the writer's own transaction --
whatever the writer (upsert, import, demo); inside a bulk block
(:func:`dadan.core.orders.fulltext.deferred`) the new orders' pairs come at its end, in one
statement (:func:`fill_queued`), in the same transaction. They split ``sku_text`` at ``|`` with SQLite's
JSON functions: ``json_quote`` escapes whatever a code holds (quotes, backslashes, control
characters) and never a ``|``, so replacing each ``|`` by ``","`` makes a JSON array of the
codes exactly as ``sku_text`` spells them.

How the planner reads the pairs depends on how many orders a value matches, which
:func:`matches` looks up first (a bounded count of the pairs, a few milliseconds): a value
matching few orders reads them by id (``id IN (...)``); one matching more than 1 in
:data:`~dadan.core.orders.selectivity.COMMON_RATIO` of them is written ``+id IN (...)``, so that a page walks its sort index
and stops after a page instead of reading and sorting every match. A filter that is one
``sku:`` term alone is counted from the pairs (:meth:`SkuMatch.count`), never from the
orders' rows.

A value holding ``|`` itself cannot be one code; it keeps the ``LIKE`` scan over
``sku_text``, so the results stay those of the scan in every case.
"""

from __future__ import annotations

from peewee import SQL, Database, Expression

from dadan.core.db import database
from dadan.core.models import Order
from dadan.core.orders import dialect
from dadan.core.orders.fulltext import DEFERRING, QUEUE
from dadan.core.orders.selectivity import common_cap, walked_id

TABLE = "order_sku"


def _codes(ref: str) -> str:
    """SQL: the codes of ``ref.sku_text`` as a json_each table (``value``)."""
    return f"""json_each('[' || replace(json_quote(trim({ref}.sku_text, '|')), '|', '","') || ']')"""


_INSERT_NEW = (f'INSERT OR IGNORE INTO "{TABLE}" ("code", "order_id") '
               f"SELECT value, new.id FROM {_codes('new')} WHERE value != '';")
_DELETE_OLD = (f'DELETE FROM "{TABLE}" WHERE "order_id" = old.id '
               f"AND \"code\" IN (SELECT value FROM {_codes('old')});")

_DDL = (
    f"""CREATE TABLE IF NOT EXISTS "{TABLE}" (
        "code" TEXT NOT NULL, "order_id" INTEGER NOT NULL, PRIMARY KEY ("code", "order_id")) WITHOUT ROWID""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_insert" AFTER INSERT ON "order"
        WHEN new.sku_text != '' AND NOT {DEFERRING} BEGIN
        {_INSERT_NEW}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_update" AFTER UPDATE OF sku_text ON "order"
        WHEN old.sku_text IS NOT new.sku_text BEGIN
        {_DELETE_OLD}
        {_INSERT_NEW}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_delete" AFTER DELETE ON "order" WHEN old.sku_text != '' BEGIN
        {_DELETE_OLD}
    END""",
)
TRIGGERS = ("insert", "update", "delete")


def create_index(db: Database) -> None:
    """Create the table and its triggers (if missing) and fill it from every order. Call
    inside a write transaction (a migration step)."""
    for ddl in _DDL:
        db.execute_sql(ddl)
    db.execute_sql(f'DELETE FROM "{TABLE}"')
    db.execute_sql(f'INSERT OR IGNORE INTO "{TABLE}" ("code", "order_id") '
                   f"""SELECT value, o.id FROM "order" o, {_codes('o')} WHERE o.sku_text != '' AND value != ''""")


# CROSS JOIN: the queue drives (see fulltext.deferred). No condition on the order's row: one
# (``sku_text != ''``) makes the planner build a Bloom filter of every order first, a scan of the
# table per block (an empty text yields only the code '', left out anyway).
FILL = (f'INSERT OR IGNORE INTO "{TABLE}" ("code", "order_id") '
        f'SELECT value, o."id" FROM "{QUEUE}" q CROSS JOIN "order" o ON o."id" = q."id", {_codes("o")} '
        f"""WHERE q."new" AND value != ''""")


def defer_inserts(db: Database) -> None:
    """Replace the insert trigger of schema 7 (a row's pairs at once, whatever the writer) by
    one that leaves a bulk block's new orders to :func:`fill_queued`. Call inside a write
    transaction (a migration step)."""
    db.execute_sql(f'DROP TRIGGER IF EXISTS "{TABLE}_insert"')
    for ddl in _DDL:
        db.execute_sql(ddl)


def fill_queued(db: Database) -> None:
    """The pairs of the orders a bulk block inserted (those :func:`dadan.core.orders.fulltext.deferred`
    queued as new: the insert trigger leaves them alone meanwhile), in one statement at the
    block's end, in the block's transaction. An order updated meanwhile has its pairs already
    (the update trigger: OR IGNORE here); one deleted meanwhile is left out (the join finds no
    row).

    The pairs go in as the queue gives its orders, unsorted: each code's new orders arrive in
    ascending id order, after every order stored, so every insert lands at the end of its
    code's range -- as many append points as codes -- and the table comes out as compact as a
    sorted fill, without sorting the pairs first. At 1,000,000 orders the pairs of a 45,000-order
    import take 0.18 s so, against 0.28 s sorted by code first; a sync's 10,000, 49 against
    61 ms; a demo's 5.7 million into an empty table, 3 s against 13 s."""
    db.execute_sql(FILL)


def prefix_condition(v: str) -> tuple[str, str]:
    """SQL and parameter of "the code starts with ``v``", a range of the table's key: SQLite
    ``GLOB 'a12*'``, PostgreSQL ``LIKE 'a12%'`` (its ``text_pattern_ops`` index, whatever the
    database's collation)."""
    if dialect.postgres():
        return '"code" LIKE ? ESCAPE \'\\\'', dialect.like_escape(v) + "%"
    return '"code" GLOB ?', dialect.glob_escape(v) + "*"


class SkuMatch(Expression):
    """``id IN (the orders of the pairs whose code matches)``; also counts them from the pairs."""

    NEVER_NULL = True  # (selectivity.never_null: the pairs' order ids are NOT NULL)

    def __init__(self, condition: str, param: str, *, dense: bool):
        self.condition, self.param = condition, param
        super().__init__(walked_id(dense), "IN", SQL(f'(SELECT "order_id" FROM "{TABLE}" WHERE {condition})', [param]))

    def count(self) -> int:
        """How many orders match: distinct orders of the matching pairs (the orders' rows unread)."""
        sql = f'SELECT count(DISTINCT "order_id") FROM "{TABLE}" WHERE {self.condition}'
        return int(database().execute_sql(sql, (self.param,)).fetchone()[0])


def _dense(condition: str, param: str) -> bool:
    db = database()
    cap = common_cap()
    sql = f'SELECT count(*) FROM (SELECT 1 FROM "{TABLE}" WHERE {condition} LIMIT ?) AS m'
    return db.execute_sql(sql, (param, cap)).fetchone()[0] >= cap


def matches(value: str, *, exact: bool = False) -> Expression:
    """Orders with a code equal to ``value`` (``exact``) or starting with it, case-insensitive
    as ``sku_text`` is lower case."""
    v = value.lower()
    if "|" in v:
        return dialect.contains(Order.sku_text, f"|{v}|" if exact else f"|{v}")
    condition, param = ('"code" = ?', v) if exact else prefix_condition(v)
    return SkuMatch(condition, param, dense=_dense(condition, param))
