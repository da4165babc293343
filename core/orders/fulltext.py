"""Free text from an index built for it: an FTS5 table over ``order.search_text``.

The table ``order_fts`` is an *external-content* FTS5 table (it stores only the index; the
text stays in ``order.search_text``) with the ``trigram`` tokenizer, so any substring of three
or more characters -- Chinese included -- is found through the index instead of a table scan.
``case_sensitive 1``: ``search_text`` and the filter's terms are both lower-cased already, and
matching code points exactly keeps the results identical to the ``LIKE`` scan it replaces.

The index reads each order's text through the view ``order_fts_text``: the search text and
:data:`SENTINEL` (two characters no filter term holds). With them every occurrence of a one-
or two-character term starts a trigram, so a short term is found through the index too: as
the ``OR`` of the indexed trigrams that start with it, a cheap range of the index's own
vocabulary (the ``fts5vocab`` table ``order_fts_vocab``).

Triggers on the order table keep the index in step with every insert, update of
``search_text`` and delete, inside the writer's own transaction -- whatever the writer (upsert,
import, demo, a cascade from a deleted shop). A bulk writer can defer the index to the end of
its batch (:func:`deferred`), in the same transaction.

A bulk writer names the changed orders too (:func:`reindex_deferred`): their old entries are
removed in one statement and they are indexed again with the new ones. A big demo's orders are
indexed by the process that makes them and the index adopted whole
(:mod:`dadan.core.orders.fts_scratch`).

The index's segments are merged off the write path. FTS5 keeps an index as segments and, by
default, merges them a little with every write; at 1,000,000 orders that merging was two thirds
of indexing a sync's 10,000 orders (49 ms of 143 ms without it). So its automatic merging is off
(schema step 26, :data:`MERGING`): a writer's transaction only adds its own segment, and
:func:`tidy` merges them afterwards as FTS5 would have (a level of four segments at a time), a
short write transaction a step, from the desk's background jobs (after each sync, and each
minute with the ship confirmations). An index that nobody tidies (no desk running) stays
bounded: FTS5 merges a level at once, inside the writer's transaction, when it reaches sixteen
segments (its ``crisismerge``). What the index holds is the same either way; only how many
pieces it is in differs.

A free-text term compiles to a :class:`FreeText` node, which picks its SQL by how many orders
hold the term (counted in the index, once per compiled filter): the order list's page of a
term in many orders walks the sort index and tests each row's text (the page is found after a
few hundred rows), a rarer term's page and the counts go through the index's rowids (but a
count beside terms that hold for fewer orders than the term reads theirs: it searches their text
or looks them up in the term's list, :func:`dadan.core.orders.page_plan.count_rows`), and a
filter that is one free-text term is counted in the index alone (:func:`count_alone`). A walk
that finds too few of the term's orders soon (they lie far down the sort order: a product sold
only in spring, searched in winter) is given up for the index's rowids
(:func:`dadan.core.orders.page_plan.page_rows`).

On PostgreSQL none of this exists: a term is ``search_text LIKE '%term%'`` (case-sensitive,
wildcards escaped: :func:`dadan.core.orders.dialect.contains`), which the ``pg_trgm`` GIN
index ``order_search_text_trgm`` serves, and its planner, keeping statistics, picks between the
index and a walk of the sort index by itself; :func:`plan` reads nothing.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass

from peewee import SQL, ColumnBase, Database

from dadan.core.db import database
from dadan.core.models import Order
from dadan.core.orders import dialect, selectivity
from dadan.core.postgres import is_postgres

TABLE = "order_fts"
VIEW = f"{TABLE}_text"  # what the index reads: each order's search text and the sentinel
VOCAB = f"{TABLE}_vocab"  # the index's trigrams, with how many orders hold each
SENTINEL = "\x1f\x1f"  # ends every indexed text: a short term at the very end starts a trigram too
MIN_CHARS = 3  # a trigram index answers substrings of at least three characters directly
MAX_TRIGRAMS = 64  # a shorter term starting more trigrams than this is in most orders: its count scans
COMMON_RATIO = 100  # a term in 1 of this many orders or more: its page walks the sort index
WALK = {"free_text_walk": True}  # SQL context options of a page query that may walk the sort index
# SQL context options of a count whose other terms hold for few orders: the text of each of those
# is searched, not each of the term's many orders read (page_plan.count_rows); and of one whose
# other terms hold for fewer orders than the term, read from an index: each is looked up in the
# list of the term's orders, made once (``+id IN (...)``)
SCANNED = {"free_text_scanned": True}
LISTED = {"free_text_listed": True}
_AUTOMERGE_DEFAULT = 4  # FTS5's own, when the index's config table names none
MERGING = 0  # the index's automerge setting from schema 26: merged by tidy(), off the write path
MERGE_STEP_PAGES = 256  # pages one step of tidy() writes (~20 ms of the write lock at 1,000,000 orders)
TIDY_BUDGET_S = 1.0  # what one tidy() may take (the desk's background jobs: the rest, their next run)

_DEFER = f"{TABLE}_defer"  # holds a row while a bulk writer defers the index of new orders (see deferred)
QUEUE = _PENDING = f"{TABLE}_pending"  # orders not indexed yet; "new": inserted in the block; "old": see _DDL
DEFERRING = f'EXISTS (SELECT 1 FROM "{_DEFER}")'
_INDEXED = f'NOT EXISTS (SELECT 1 FROM "{_PENDING}" WHERE "id" = old.id)'
_TEXT = "search_text || char(31, 31)"  # (SQL of SENTINEL)
TOKENIZE = "trigram case_sensitive 1"
_INDEX_NEW = f'INSERT INTO "{TABLE}" (rowid, search_text) VALUES (new.id, new.{_TEXT});'
_UNINDEX_OLD = f"""INSERT INTO "{TABLE}" ("{TABLE}", rowid, search_text) VALUES ('delete', old.id, old.{_TEXT});"""

_DDL = (
    f'CREATE VIEW IF NOT EXISTS "{VIEW}" AS SELECT "id", {_TEXT} AS search_text FROM "order"',
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS "{TABLE}" USING fts5(
        search_text, content='{VIEW}', content_rowid='id', tokenize='{TOKENIZE}')""",
    f'CREATE VIRTUAL TABLE IF NOT EXISTS "{VOCAB}" USING fts5vocab("{TABLE}", row)',
    f'CREATE TABLE IF NOT EXISTS "{_DEFER}" ("on" INTEGER NOT NULL)',
    # "old": the text the index holds for a changed order, whose entries leave at the block's end
    f'CREATE TABLE IF NOT EXISTS "{_PENDING}" ("id" INTEGER PRIMARY KEY, "new" INTEGER NOT NULL DEFAULT 1, "old" TEXT)',
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_insert" AFTER INSERT ON "order" WHEN NOT {DEFERRING} BEGIN
        {_INDEX_NEW}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_insert_deferred" AFTER INSERT ON "order" WHEN {DEFERRING} BEGIN
        INSERT OR IGNORE INTO "{_PENDING}" ("id") VALUES (new.id);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_update" AFTER UPDATE OF search_text ON "order"
        WHEN old.search_text IS NOT new.search_text AND {_INDEXED} BEGIN
        {_UNINDEX_OLD}
        {_INDEX_NEW}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS "{TABLE}_delete" AFTER DELETE ON "order" WHEN {_INDEXED} BEGIN
        {_UNINDEX_OLD}
    END""",
)
TRIGGERS = ("insert", "insert_deferred", "update", "delete")


def create_index(db: Database) -> None:
    """Create the FTS table, its view, vocabulary and triggers (if missing) and index every
    order from scratch. Call inside a write transaction (a migration step)."""
    for ddl in _DDL:
        db.execute_sql(ddl)
    db.execute_sql(f"""INSERT INTO "{TABLE}" ("{TABLE}") VALUES ('rebuild')""")


def upgrade_index(db: Database) -> None:
    """Replace an index that reads the bare search text (schema 4 to 6) by one that reads it
    through :data:`VIEW`, sentinel included, and index every order again (about 20 s at
    1,000,000 orders). When it reads the view already, only what is missing is created."""
    row = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = ?", (TABLE,)).fetchone()
    if row is not None and VIEW in row[0]:
        for ddl in _DDL:
            db.execute_sql(ddl)
        return
    for trigger in TRIGGERS:
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{TABLE}_{trigger}"')
    db.execute_sql(f'DROP TABLE IF EXISTS "{VOCAB}"')
    db.execute_sql(f'DROP TABLE IF EXISTS "{TABLE}"')
    create_index(db)


@contextlib.contextmanager
def deferred(db: Database | None = None, *, text: bool = True):
    """Inside the caller's write transaction: new orders are indexed together when the block
    ends, with one statement. Row by row, indexing costs a bulk insert about as much again as
    the orders themselves (bench/bench_fulltext.py). Until then they are queued; an update or
    delete of a queued order leaves the index alone (the queue reads the order's text at the
    end), any other is applied at once. The queue is applied even when the block fails, so a
    caller that goes on and commits leaves no order out. Nested blocks join the outer one.
    The same switch defers the new orders' SKU pairs (:func:`dadan.core.orders.sku_index.fill_queued`),
    filled right after the index. A block that begins with no orders at all builds the index
    whole: FTS5's automatic merging off meanwhile (as it is for good from schema 26 on) and one
    ``optimize`` at the end (:func:`_automerge`). :func:`index_queued` applies the queue within
    the block. ``text=False``: the new orders' SKU pairs are filled but their text is left out
    of the index, which the caller adopts whole, built by another process, before its
    transaction ends (:func:`dadan.core.orders.fts_scratch.adopt_index`).
    (No savepoint of its own: FTS5 writes every row's change out at once inside a savepoint.)"""
    db = db or database()
    if is_postgres(db) or db.execute_sql(f'SELECT 1 FROM "{_DEFER}"').fetchone():
        yield  # (PostgreSQL: its trigram index is kept by the table itself, nothing to defer)
        return
    fresh = text and db.execute_sql('SELECT 1 FROM "order" LIMIT 1').fetchone() is None
    automerge = _automerge(db, 0) if fresh else None
    db.execute_sql(f'INSERT INTO "{_DEFER}" ("on") VALUES (1)')
    try:
        yield
    finally:
        db.execute_sql(f'DELETE FROM "{_DEFER}"')
        index_queued(db, text=text)
        if fresh:
            db.execute_sql(f"""INSERT INTO "{TABLE}" ("{TABLE}") VALUES ('optimize')""")
            _automerge(db, automerge)


def index_queued(db: Database | None = None, *, text: bool = True) -> None:
    """Index the orders queued so far and fill their SKU pairs
    (:func:`dadan.core.orders.sku_index.fill_queued`), as the end of a :func:`deferred` block
    does; the block goes on queueing. A bulk writer that waits between
    its batches (the demo, for the process making them) indexes meanwhile instead of all at
    the end. ``text=False``: the SKU pairs only (see :func:`deferred`)."""
    db = db or database()
    if is_postgres(db):
        return  # nothing is queued there (see deferred)
    if not text:
        if db.execute_sql(f'SELECT 1 FROM "{_PENDING}" WHERE "old" IS NOT NULL LIMIT 1').fetchone():
            raise RuntimeError("an index built elsewhere holds new orders only, not changed ones")
    else:
        # the changed orders' old entries first, in rowid order (the queue's key): see reindex_deferred
        db.execute_sql(f"""INSERT INTO "{TABLE}" ("{TABLE}", rowid, search_text)
                           SELECT 'delete', "id", "old" FROM "{_PENDING}" WHERE "old" IS NOT NULL""")
        # CROSS JOIN: the queue drives (the planner, knowing the order table's size and not
        # the queue's, would otherwise scan a million orders)
        db.execute_sql(f"""INSERT INTO "{TABLE}" (rowid, search_text)
                           SELECT o."id", o.{_TEXT} FROM "{_PENDING}" p CROSS JOIN "order" o ON o."id" = p."id" """)
    from dadan.core.orders import sku_index  # (it reads this module's switch and queue)

    sku_index.fill_queued(db)
    db.execute_sql(f'DELETE FROM "{_PENDING}"')


def _automerge(db: Database, value) -> str | int:
    """Set FTS5's automatic merging of the index's segments; the setting it had. A block that
    indexes every order of a table that had none turns it off meanwhile and ends with one
    ``optimize`` into a single segment: merging as it goes rewrites the growing index again
    and again (at 1,000,000 orders 14 s, against 9 s and 2.6 s for the optimize), and the one
    segment answers queries at least as fast as the merged levels (bench/bench_fulltext.py)."""
    row = db.execute_sql(f"""SELECT v FROM "{TABLE}_config" WHERE k = 'automerge'""").fetchone()
    db.execute_sql(f"""INSERT INTO "{TABLE}" ("{TABLE}", rank) VALUES ('automerge', ?)""", (value,))
    return row[0] if row else _AUTOMERGE_DEFAULT


def merge_off_the_write_path(db: Database) -> None:
    """Turn FTS5's automatic merging off for good (:data:`MERGING`; see the module): writers
    only add segments, :func:`tidy` merges them. Call inside a write transaction (a migration
    step)."""
    _automerge(db, MERGING)


def tidy(budget_s: float = TIDY_BUDGET_S, db: Database | None = None) -> int:
    """Merge the index's segments as FTS5's automatic merging would have (a level holding four
    or more segments at a time): steps of :data:`MERGE_STEP_PAGES` pages, each its own short
    write transaction (other writers go between them), until nothing is left to merge or
    ``budget_s`` has passed (then at least one step has run). Returns the steps that merged
    something; 0 at once when nothing needed it (no page written: no desk sees a change) or on
    PostgreSQL (its trigram index is the table's own). Call outside any transaction."""
    db = db or database()
    if is_postgres(db):
        return 0
    deadline = time.monotonic() + budget_s
    steps = 0
    while True:
        # (not core.db.write: a step that merged nothing still counts one change, and write()
        # would have every desk of this process re-read its screen for it)
        with db.atomic("IMMEDIATE"):
            before = db.connection().total_changes
            db.execute_sql(f"""INSERT INTO "{TABLE}" ("{TABLE}", rank) VALUES ('merge', ?)""", (MERGE_STEP_PAGES,))
            merged = db.connection().total_changes - before >= 2  # (FTS5: a step that did nothing counts one)
        if not merged:
            return steps
        steps += 1
        if time.monotonic() >= deadline:
            return steps


def queue_new_orders(db: Database) -> None:
    """Give the queue of schema 4 to 7 its "new" column (it is empty outside a block: made
    again). Call inside a write transaction (a migration step)."""
    db.execute_sql(f'DROP TABLE IF EXISTS "{_PENDING}"')
    for ddl in _DDL:
        db.execute_sql(ddl)


def reindex_deferred(ids: list[int], db: Database | None = None) -> None:
    """Inside :func:`deferred`, before updating these orders' search text: they are queued with
    the text the index holds for them (read from the rows as they still are, one statement for
    all), and at the block's end their old entries leave and their new text is indexed, with
    the block's new orders -- instead of a delete and an insert per row by the update trigger
    (which leaves queued orders alone). All the block's old entries leave in one statement, in
    rowid order: FTS5 writes out what it holds whenever a lower rowid follows a higher one, so
    deleting a batch at a time, in the records' order, left a piece of index per batch or per
    order. Orders queued already keep their place: the index holds what was read when they were
    queued, or nothing for new ones."""
    db = db or database()
    if not ids or is_postgres(db):
        return
    if not db.execute_sql(f'SELECT 1 FROM "{_DEFER}"').fetchone():
        raise RuntimeError("reindex_deferred needs fulltext.deferred()")
    db.execute_sql(f"""INSERT OR IGNORE INTO "{_PENDING}" ("id", "new", "old")
                       SELECT o."id", 0, o.{_TEXT} FROM json_each(?) j CROSS JOIN "order" o ON o."id" = j.value""",
                   (json.dumps(ids),))


def queue_old_text(db: Database) -> None:
    """Give the queue of schema 8 to 25 its "old" column (see :func:`reindex_deferred`; it is
    empty outside a block: made again). Call inside a write transaction (a migration step)."""
    if "old" not in {c.name for c in db.get_columns(_PENDING)}:
        queue_new_orders(db)


def fts_string(text: str) -> str:
    """``text`` as one FTS5 string: whatever it holds (``"``, ``*``, ``AND``, ``NEAR(``, ``^``,
    ``:``) is matched as characters, never read as query syntax."""
    return '"' + text.replace('"', '""') + '"'


@dataclass(frozen=True)
class Plan:
    """How a free-text term is found. ``match``: the FTS5 query of exactly the orders holding
    it ("" when no order does; None when only the ``LIKE`` scan can say); ``matches``: how many
    (None when not counted yet); ``common``: the order list's page walks the sort index."""

    match: str | None
    matches: int | None
    common: bool


def fts_count(match: str) -> int:
    """How many orders the FTS5 query ``match`` finds."""
    return int(database().execute_sql(f'SELECT count(*) FROM "{TABLE}" WHERE "{TABLE}" MATCH ?', (match,)).fetchone()[0])


def plan(value: str) -> Plan:
    """How to find ``value`` (lower-cased): see :class:`Plan`. PostgreSQL: always the ``LIKE``
    its trigram index serves."""
    if is_postgres(database()):
        return Plan(None, None, False)
    if not value or SENTINEL[0] in value:
        return Plan(None, None, True)
    orders = selectivity.orders_about()
    if len(value) >= MIN_CHARS:
        match = fts_string(value)
    else:
        trigrams = database().execute_sql(
            f'SELECT term, doc FROM "{VOCAB}" WHERE term >= ? AND term < ? || char(1114111) LIMIT ?',
            (value, value, MAX_TRIGRAMS + 1)).fetchall()
        if not trigrams:
            return Plan("", 0, False)
        if len(trigrams) > MAX_TRIGRAMS:
            return Plan(None, None, True)
        match = " OR ".join(fts_string(t) for t, _doc in trigrams)
        if max(doc for _t, doc in trigrams) * COMMON_RATIO >= orders:  # common, whatever the count
            return Plan(match, None, True)
    matches = fts_count(match)
    return Plan(match, matches, matches * COMMON_RATIO >= orders)


class FreeText(ColumnBase):
    """Orders whose search text contains ``value`` (lower-cased, as the search text is); its
    :class:`Plan` is made once, when the node is first rendered or counted."""

    # true or false for every order, never NULL (selectivity.never_null): each form tests the
    # NOT NULL search text or lists rowids
    NEVER_NULL = True

    def __init__(self, value: str):
        super().__init__()
        self.value = value.lower()
        self._plan: Plan | None = None

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = plan(self.value)
        return self._plan

    def count(self) -> int:
        """How many orders hold the term (through the index unless only the scan can say)."""
        p = self.plan
        if p.matches is None:
            if p.match is None:
                return int(Order.select().where(self.scan()).count())
            self._plan = p = Plan(p.match, fts_count(p.match), p.common)
        return p.matches

    def scan(self):
        return dialect.contains(Order.search_text, self.value)

    def __sql__(self, ctx):
        p = self.plan
        if p.match == "":
            return ctx.literal("0")
        if p.match is None or (p.common and ctx.state.free_text_walk) or ctx.state.free_text_scanned:
            return ctx.sql(self.scan())
        ids = selectivity.walked_id(bool(ctx.state.free_text_listed))
        return ctx.sql(ids.in_(SQL(f'(SELECT rowid FROM "{TABLE}" WHERE "{TABLE}" MATCH ?)', [p.match])))


def contains(value: str) -> FreeText:
    """Orders whose search text contains ``value`` -- through the index whenever it can tell."""
    return FreeText(value)


def count_alone(expr) -> int | None:
    """The count of a filter that is one free-text term, from the index alone; None for any
    other filter."""
    return expr.count() if isinstance(expr, FreeText) else None
