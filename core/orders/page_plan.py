"""How one page query of the order list is run: the plan that finds the page soonest.

A page is the first orders of a filter in a sort order. Two plans can give it:

- **the walk**: read the sort column's index in order and test each order against the filter,
  stopping at the page's last row. Cheap when the filter's orders are many and spread along the
  sort order (``status:pending``, ``courier:zto`` sorted by pay time: a few thousand rows);
  ruinous when they are few or lie far down it (``remark:快`` held by no order, or
  ``overdue:yes`` sorted newest first: every row is read).
- **the filter first**: read the filter's orders through its own index and sort them. Cheap when
  they are few; ruinous when they are many (``due<1d``: half a million orders sorted for 50).

SQLite's planner keeps no statistics of value ranges or of where a filter's orders lie in the
sort order, so it picks between them blind. So on SQLite (:func:`page_rows`):

- when the planner's plan sorts the orders the free-text index lists for a term it counted as
  rare (fewer than 1 in :data:`~dadan.core.orders.fulltext.COMMON_RATIO` orders), they are
  sorted as planned;
- else, when the planner's plan sorts, the filter's orders are first counted through their index, up
  to :data:`FEW` (:data:`FEW_COVERED` when the index holds the sort column too: no row is read
  to sort them): fewer are sorted as the planner planned; more, and the sort index is walked
  instead, for at most :data:`WALK_BUDGET_S`, then the planner's sort after all;
- when the planner's plan walks, the walk has :data:`WALK_BUDGET_S`, then the filter goes first
  (the sort terms are hidden from the planner, so it reads the filter's best index and sorts);
- a walk that tests the filter from the sort index's entries alone (a covering one: the pay-time
  index carries the columns filters test, :data:`dadan.core.order_indexes.PAY_TIME_INDEX`) reads no row
  but the page's, ~0.1 µs an entry: past its :data:`WALK_BUDGET_S`, unless the filter's orders
  are few, it is walked again to the end, for up to :data:`COVERED_WALK_BUDGET_S` (``due<1d``
  sorted by pay time, whose orders are the older half: not half a million orders sorted;
  ``source:import`` with no imported order: the index read once, not each order's row);
- a common free-text term's page walks testing each row's text (:mod:`dadan.core.orders.fulltext`)
  for :data:`FREE_TEXT_WALK_BUDGET_S`, then goes through the free-text index's rowids.

A count (:func:`count_rows`) is planned the same way: a count the planner would make by reading
orders' rows goes through the index of the term that holds for the fewest orders, when one holds
for few enough, its orders' ids taken from that index alone and the other terms tested on their
rows (``exception:refund updated<1d``: 13,600 rows, not the 523,000 updated within the day;
:func:`_fewest_first`); else it has :data:`COUNT_BUDGET_S`, then is made from an index that holds
every column the filter tests, read whole, when one does (the filter hidden from the planner). A count
of free text beside terms that hold for few orders (``status:pending 保温杯`` on a desk with a
year of history: 9,000 orders await shipment, 143,000 hold the word) searches those few orders'
text instead of reading each of the word's orders, as the planner would; beside terms read
from an index that hold for fewer orders than the word, each is looked up in the list of the
word's orders; beside terms that hold for nearly every order (``status:pending`` where nine
orders in ten await shipment), it is the word's orders less those outside the terms, read as
ranges of one index and looked up in the word's list (:func:`_outside_form`); several words are
listed by one query of them all (:func:`_free_text_form`).

Every plan returns the same rows (the same query, planned differently); only the time differs.
An interrupted plan is SQLite's ``sqlite3_interrupt`` through a progress handler on this
thread's connection: it reads, so nothing is undone.

PostgreSQL keeps statistics, but not where a filter's orders lie in the sort order either: a plan
walking an index has :data:`PG_WALK_BUDGET_S` (:func:`_page_rows_postgres`).
"""

from __future__ import annotations

import functools
import json
import operator
import sqlite3
import time

from peewee import OP, SQL, Database, Expression, Field, Function, NodeList, OperationalError, WrappedNode

from dadan.core.db import database
from dadan.core.dialect import indexed_by
from dadan.core.orders import fulltext, selectivity
from dadan.core.orders.fulltext import WALK
from dadan.core.orders.outside import ranges_outside
from dadan.core.postgres import is_postgres

WALK_BUDGET_S = 0.02  # a page's walk of the sort index taking longer is given up for the filter's index
# a common free-text term's walk (each row's text searched) taking longer is given up for the
# free-text index's rowids: dearer to give up (their orders' rows are read and sorted)
FREE_TEXT_WALK_BUDGET_S = 0.03
PG_WALK_BUDGET_S = 0.015  # PostgreSQL: the same, for a walk its planner chose (_page_rows_postgres)
FEW = 4000  # a filter with fewer orders than this: sorting them beats walking the sort index
FEW_COVERED = 50_000  # the same, for orders sorted from an index alone (no row read: ~0.2 µs each)
PROBE_BUDGET_S = 0.01  # counting them up to FEW taking longer: they are many (or not indexed)
# a covering walk (no row read but the page's) given up at WALK_BUDGET_S is walked again for up to
# this: reading the whole pay-time index takes ~0.1 s at 1,000,000 orders
COVERED_WALK_BUDGET_S = 0.3
# ... unless the filter's orders, read from another index alone and sorted, are fewer than the
# orders / WALK_OVER_SORT (a sort costs about this many walked entries an order), counted within
COVERED_PROBE_BUDGET_S = 0.02
WALK_OVER_SORT = 4
# a count reading orders' rows taking longer is made from an index that holds what the filter tests
COUNT_BUDGET_S = 0.03
# a count read through one term's index, the other terms tested on its orders' rows (~1.4 µs a
# row), beside an index read whole (~0.1 µs an entry): when the term holds for fewer than 1 in
# this many orders (_fewest_first); each term counted within this
DRIVEN_OVER_WHOLE = 20
DRIVEN_PROBE_BUDGET_S = 0.02
FREE_TEXT_PROBE_BUDGET_S = 0.02  # counting a free-text count's other terms' orders (_free_text_form)
# a free-text count beside terms that hold for nearly every order is made from the orders they do
# not hold for (_outside_form) while those are fewer than this many times the text's: each is an
# index entry read and looked up in the text's list (~0.3 µs), where each text order's row read
# to test the terms takes ~1.5 µs
OUTSIDE_PER_MATCH = 4
# SQLite virtual-machine steps between two looks at the clock: each look takes the GIL from the
# desk's painting thread, so not too often (every 1,000 steps slowed a page after Enter by ~7 ms
# at 10,000 orders); 20,000 steps are ~0.3 ms of an index walk, ~15 ms of one reading rows
_PROGRESS_STEPS = 20000
_FREE_TEXT_LIST = f"SCAN {fulltext.TABLE} VIRTUAL TABLE"  # a plan step listing a free-text term's orders
_ORDERS = 'FROM "order" AS "t1"'  # (a page query's table, where an INDEXED BY goes)


def hidden(expr) -> NodeList:
    """``expr`` behind SQLite's unary ``+``: the same value, but no index is chosen for it (a
    filter no index may serve, so the sort index is walked; a sort term no index may give, so
    the filter's index is read and its orders sorted)."""
    return NodeList((SQL("+"), NodeList((expr,), parens=True)), glue="")


def page_rows(page) -> list[tuple]:
    """The rows of one of the order list's page queries. ``page(form)`` gives the query: ``""``
    its filter and sort terms as written, ordered, limited; ``"walk"`` the same with the filter
    :func:`hidden` (the sort index walked, if one gives the sort order); ``"unsorted"`` the same
    with the sort terms hidden. Each form is made only when it is tried. See the module's doc."""
    db = database()
    query = page("")
    if is_postgres(db):
        return _page_rows_postgres(db, query)
    plain = db.get_sql_context().sql(query).query()
    free_text_walk = db.get_sql_context(**WALK).sql(query).query()
    if free_text_walk != plain:  # a common free-text term: walk testing each row's text
        rows = _within(db, free_text_walk, FREE_TEXT_WALK_BUDGET_S)
        return rows if rows is not None else db.execute_sql(*plain).fetchall()
    lines = _plan(db, plain)
    if _sorts(lines):
        if any(_FREE_TEXT_LIST in line for line in lines):  # a rare free-text term's orders (see the module's doc)
            return db.execute_sql(*plain).fetchall()
        few = FEW_COVERED if any("COVERING INDEX" in line for line in lines) else FEW
        if _few(db, query, few):
            return db.execute_sql(*plain).fetchall()
        walked = db.get_sql_context(**WALK).sql(page("walk")).query()
        walk_plan = _plan(db, walked)
        if _sorts(walk_plan):  # no index gives the sort order
            return db.execute_sql(*plain).fetchall()
        rows = _walked(db, walked, walk_plan, query)
        return rows if rows is not None else db.execute_sql(*plain).fetchall()
    unsorted = page("unsorted")
    rows = _walked(db, plain, lines, unsorted)
    return rows if rows is not None else db.execute_sql(*db.get_sql_context().sql(unsorted).query()).fetchall()


def _walked(db: Database, walk: tuple[str, list], plan: list[str], other) -> list[tuple] | None:
    """The rows of the walk ``walk`` (its plan ``plan``) within :data:`WALK_BUDGET_S`. A covering
    walk gets :data:`COVERED_WALK_BUDGET_S` instead when the query ``other`` (the filter first)
    would read the same index, or, given up, is walked again within it unless ``other``'s orders
    are fewer than it takes to sort them in the time of that walk. None: go the other way."""
    if not _covering(plan):
        return _within(db, walk, WALK_BUDGET_S)
    other_plan = _plan(db, db.get_sql_context().sql(other).query())
    if _index_of(other_plan) == _index_of(plan):  # (the same entries read, and sorted)
        return _within(db, walk, COVERED_WALK_BUDGET_S)
    rows = _within(db, walk, WALK_BUDGET_S)
    if rows is not None:
        return rows
    if _covering(other_plan):  # (their sort: ~4 times a walk's cost an entry; see WALK_OVER_SORT)
        few, budget = max(FEW, selectivity.orders_about() // WALK_OVER_SORT), COVERED_PROBE_BUDGET_S
    else:
        few, budget = FEW, PROBE_BUDGET_S
    if _few(db, other, few, budget, index=_index_of(other_plan)):
        return None
    return _within(db, walk, COVERED_WALK_BUDGET_S)


def _order_reads(plan: list[str]) -> list[str]:
    """The steps of a plan that read the order table (``t1``)."""
    return [line for line in plan if line.split()[:2] in (["SCAN", "t1"], ["SEARCH", "t1"])]


def _index_of(plan: list[str]) -> str:
    """The index a plan reads the order table (``t1``) through first ("" for none: its rows by id,
    or the table itself)."""
    for line in _order_reads(plan)[:1]:
        words = line.split()
        return words[words.index("INDEX") + 1] if "INDEX" in words else ""
    return ""


def _covering(plan: list[str]) -> bool:
    """Whether a plan reads one index and no order's row (and perhaps sorts what it read)."""
    reads = [line for line in plan if not line.startswith("USE TEMP B-TREE")]
    return len(reads) == 1 and "COVERING INDEX" in reads[0]


def covered(select, where) -> bool:
    """Whether SQLite reads one index alone, no order's row, for ``select`` with the filter
    ``where`` (never on PostgreSQL)."""
    db = database()
    return not is_postgres(db) and _covering(_plan(db, db.get_sql_context().sql(select.where(where)).query()))


def count_rows(select, where) -> int:
    """The count ``select`` (``SELECT count(...) FROM "order"``) gives with the filter ``where``.
    See the module's doc."""
    db = database()
    if not is_postgres(db) and (text_form := _free_text_form(db, select, where)) is not None:
        return int(db.execute_sql(*text_form).fetchone()[0] or 0)
    plain = db.get_sql_context().sql(select.where(where)).query()
    if is_postgres(db) or _covering(plain_plan := _plan(db, plain)):
        return int(db.execute_sql(*plain).fetchone()[0] or 0)
    whole = db.get_sql_context().sql(select.where(hidden(where))).query()
    whole_covered = _covering(_plan(db, whole))
    ranged = _covering_range(db, plain, where)
    driven = _fewest_first(db, select, where, plain_plan, whole_covered=whole_covered or ranged is not None)
    if driven is not None:
        return int(db.execute_sql(*driven).fetchone()[0] or 0)
    if ranged is not None:
        return int(db.execute_sql(*ranged).fetchone()[0] or 0)
    if not whole_covered:
        return int(db.execute_sql(*plain).fetchone()[0] or 0)
    rows = _within(db, plain, COUNT_BUDGET_S)
    return int((rows if rows is not None else db.execute_sql(*whole).fetchall())[0][0] or 0)


def _fewest_first(db: Database, select, where, plain_plan: list[str], *,
                  whole_covered: bool) -> tuple[str, list] | None:
    """The count of a filter whose terms no one index holds, read through the index of the term
    that holds for the fewest orders, the other terms tested on those orders' rows (hidden from
    the planner). SQLite's planner, keeping only averages, may read the rows of a term that holds
    for half the orders instead (``exception:refund updated<1d`` at 1,000,000 orders: 523,000 rows
    read, 1.4 s; the exceptions' index gives 13,600). A term here is the conditions on one set of
    columns (``exception:refund`` is two on the flags: the partial index's and the bit's), each
    counted through its own index within :data:`DRIVEN_PROBE_BUDGET_S`, up to the fewest found so
    far (first up to a sixteenth of the bound below, then up to it: a quarter of the orders).
    None with free text (:func:`_free_text_form`'s, then the planner's), when the term is a list
    of ids the planner's plan (``plain_plan``) reads first already, when none holds for fewer, or
    (``whole_covered``: an index holds every column the filter tests, read whole at ~0.1 µs an
    entry) for too many to beat that read (~1.4 µs a row)."""
    conditions = and_terms(where)
    if any(isinstance(c, fulltext.FreeText) for c in conditions):
        return None
    terms = _by_columns(conditions)
    if len(terms) < 2:
        return None
    orders = selectivity.orders_about()
    limit = orders // (DRIVEN_OVER_WHOLE if whole_covered else 4)
    fewest, countable = None, set(range(len(terms)))
    for cap in (limit // 16, limit):  # (a few first: the counts of the many then stop there too)
        for i in sorted(countable):
            upto = fewest[0] if fewest else cap
            held = _count_up_to(db, select.model.select(SQL("1")).where(terms[i]), upto, DRIVEN_PROBE_BUDGET_S)
            if held is None:
                countable.discard(i)  # (no index of its own, or too many: not again)
            elif held < upto:
                fewest = (held, i)
        if fewest:
            break
    if fewest is None:
        return None
    first = terms[fewest[1]]
    if not _index_of(plain_plan) and not _index_of(_plan(db, db.get_sql_context().sql(select.where(first)).query())):
        return None  # the term is a list of ids (sku:, tag:) the planner reads first already
    rest = [hidden(t) for t in terms if t is not first]
    # its orders' ids from its index alone (every index holds the id: a condition on the index's
    # columns is tested there, not on each row as a scan of the index for the rows would), then
    # the rest on those rows
    model = select.model
    ids = model.select(model.id).where(first)
    return db.get_sql_context().sql(select.where(model.id.in_(ids), *rest)).query()


def _covering_range(db: Database, plain: tuple[str, list], where) -> tuple[str, list] | None:
    """The count ``plain`` read from an index that holds every column the filter tests, a range of
    it searched, no order's row read -- when SQLite's planner, keeping only averages, would read
    rows through another (the to-print view with ``updated<1d`` at 1,000,000 orders: 377,000
    pending orders' rows read through the status index, 0.45 s; a range of the update-time
    index, ~50 ms). None when no index holds them all or none is searched by a term."""
    need = _columns(where) - {"id"}
    for name, columns in db.execute_sql(_INDEX_COLUMNS).fetchall():
        if not need <= set(columns.split(",")):
            continue
        sql = (plain[0].replace(_ORDERS, f"{_ORDERS} {indexed_by(name)}", 1), plain[1])
        try:
            plan = _plan(db, sql)
        except (OperationalError, sqlite3.OperationalError):  # (a partial index the filter does not imply)
            continue
        if _covering(plan) and any(line.startswith("SEARCH") for line in _order_reads(plan)):
            return sql
    return None


# each index of the order table and its columns, comma-joined
_INDEX_COLUMNS = ("SELECT il.name, group_concat(ii.name) FROM pragma_index_list('order') AS il "
                  "JOIN pragma_index_info(il.name) AS ii GROUP BY il.name")


def _by_columns(conditions: list) -> list:
    """``conditions`` (joined by AND) joined again, by AND, into one term per set of order columns
    they test, in their first one's place."""
    groups: dict[frozenset, list] = {}
    for c in conditions:
        groups.setdefault(_columns(c), []).append(c)
    return [functools.reduce(operator.and_, g) for g in groups.values()]


def _columns(node) -> frozenset:
    """The names of the order columns a condition reads."""
    if isinstance(node, Field):
        return frozenset({node.column_name})
    if isinstance(node, WrappedNode):  # (NOT ...)
        return _columns(node.node)
    if isinstance(node, Expression):
        return _columns(node.lhs) | _columns(node.rhs)
    if isinstance(node, NodeList):
        return frozenset().union(*map(_columns, node.nodes))
    if isinstance(node, Function):
        return frozenset().union(*map(_columns, node.arguments))
    return frozenset()


def and_terms(expr) -> list:
    """The terms of a filter joined by AND (the filter itself when it is not such a join)."""
    if isinstance(expr, Expression) and expr.op == OP.AND:
        return and_terms(expr.lhs) + and_terms(expr.rhs)
    return [] if expr is None else [expr]


def _free_text_form(db: Database, select, where) -> tuple[str, list] | None:
    """The count of a filter of free-text terms and other terms, written for how many orders the
    other terms hold for (counted through their index up to the larger of the common cap,
    :func:`~dadan.core.orders.selectivity.common_cap`, and the terms' own orders, within
    :data:`FREE_TEXT_PROBE_BUDGET_S`). SQLite's planner, keeping only averages, reads each of the
    terms' orders (``status:pending 保温杯`` at 1,000,000 orders of which 9,000 await shipment:
    143,000 rows, 0.2 s). Instead:

    - fewer than the common cap (at most ~20,000 rows at 1,000,000 orders) and than the terms'
      orders: their orders are read and each one's text searched (:data:`~dadan.core.orders.fulltext.SCANNED`:
      ``status:pending 保温杯`` on a year of history, 30 ms);
    - fewer than the terms' orders (each counted already), read from an index alone: each is
      looked up in the list of the terms' orders, made once (:data:`~dadan.core.orders.fulltext.LISTED`:
      ``province:浙江 保温杯``, 139,000 and 143,000 orders, 0.25 s -> ~50 ms);

    None otherwise (the planner's plan)."""
    terms = and_terms(where)
    texts = [t for t in terms if isinstance(t, fulltext.FreeText) and t.plan.match]
    rest = [t for t in terms if not any(t is x for x in texts)]
    if not texts or not rest:
        return None
    matches = [t.plan.matches for t in texts]
    fewest = None if None in matches else min(matches)  # (a common short term is not counted)
    cap = selectivity.common_cap()
    limit = max(cap, fewest or 0)
    held = _count_up_to(db, select.model.select(SQL("1")).where(*rest), limit, FREE_TEXT_PROBE_BUDGET_S)
    if held is None:
        return None
    if fewest is not None and fewest <= held:
        # the terms' own orders are fewer: reading each is as soon, unless the other terms hold
        # for nearly every order and the few they do not are ranges of one index
        return _outside_form(db, select, texts, rest, fewest) or _joined_form(db, select, texts, rest)
    if held < cap:
        return db.get_sql_context(**fulltext.SCANNED).sql(select.where(where)).query()
    if fewest is None:
        return _outside_form(db, select, texts, rest, None) or _joined_form(db, select, texts, rest)
    listed = db.get_sql_context(**fulltext.LISTED).sql(select.where(where)).query()
    reads = _order_reads(_plan(db, listed))
    return listed if reads and all("COVERING INDEX" in line for line in reads) else None  # (no order's row read)


def _outside_form(db: Database, select, texts: list, rest: list, matches: int | None) -> tuple[str, list] | None:
    """The count of free-text terms beside terms that hold for nearly every order, as the terms'
    orders less those of them outside the others: those are ranges of one index
    (:func:`~dadan.core.orders.outside.ranges_outside`), read from it alone and each looked up
    in the list of the terms' orders -- not each of the terms' orders' rows read
    (``status:pending 保温杯`` where nine orders in ten await shipment: 143,000 rows, ~0.23 s;
    100,000 index entries, ~50 ms). Only while the orders outside are fewer than
    :data:`OUTSIDE_PER_MATCH` times the terms' (``matches``, counted if None)."""
    outside = ranges_outside(db, select, rest)
    if outside is None:
        return None
    match = texts[0].plan.match if len(texts) == 1 else " AND ".join(f"({t.plan.match})" for t in texts)
    if matches is None or len(texts) > 1:
        matches = fulltext.fts_count(match)
    limit = OUTSIDE_PER_MATCH * matches
    few = _within(db, (f"SELECT count(*) FROM (SELECT 1 FROM ({outside[0]}) LIMIT ?)", [*outside[1], limit]),
                  FREE_TEXT_PROBE_BUDGET_S)
    if few is None or few[0][0] >= limit:
        return None
    listed = f'SELECT rowid FROM "{fulltext.TABLE}" WHERE "{fulltext.TABLE}" MATCH ?'
    return f'SELECT ? - (SELECT count(*) FROM ({outside[0]}) WHERE "id" IN ({listed}))', [matches, *outside[1], match]


def _joined_form(db: Database, select, texts: list, rest: list) -> tuple[str, list] | None:
    """The count of several free-text terms beside others: the orders holding every term listed
    by one FTS5 query of them all, each one's row read to test the others (``status:pending
    保温杯 黑色``: 17,000 rows) -- not each order of one term read and looked up in the others'
    lists, as SQLite's planner would (143,000 rows). None for one term (the planner's plan)."""
    if len(texts) < 2:
        return None
    match = " AND ".join(f"({t.plan.match})" for t in texts)
    ids = SQL(f'(SELECT rowid FROM "{fulltext.TABLE}" WHERE "{fulltext.TABLE}" MATCH ?)', [match])
    return db.get_sql_context().sql(select.where(select.model.id.in_(ids), *map(hidden, rest))).query()


def _plan(db: Database, sql: tuple[str, list]) -> list[str]:
    """SQLite's plan of a query, a line a step."""
    return [r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql[0], sql[1])]


def _sorts(plan: list[str]) -> bool:
    """Whether a page query's plan sorts the filter's orders (rather than walking an index in
    the sort order)."""
    return any("TEMP B-TREE FOR ORDER BY" in line for line in plan)


def _few(db: Database, query, few: int, budget_s: float = PROBE_BUDGET_S, *, index: str = "") -> bool:
    """Whether fewer than ``few`` orders match the page query's filter, counted through the
    planner's choice of index (``index``: through that one, the one the query's plan reads; its
    order dropped, the planner may choose another) within ``budget_s`` (longer: not few)."""
    got = _count_up_to(db, query.clone().order_by(), few, budget_s, index=index)
    return got is not None and got < few


def _count_up_to(db: Database, query, limit: int, budget_s: float, *, index: str = "") -> int | None:
    """How many rows ``query`` gives, counted up to ``limit`` (through ``index``, when named),
    or None when that takes longer than ``budget_s``."""
    sql, params = db.get_sql_context().sql(query.limit(limit)).query()
    if index:
        sql = sql.replace(_ORDERS, f"{_ORDERS} {indexed_by(index)}", 1)
    got = _within(db, (f"SELECT count(*) FROM ({sql})", params), budget_s)
    return None if got is None else got[0][0]


def _within(db: Database, sql: tuple[str, list], budget_s: float) -> list[tuple] | None:
    """The rows of ``sql``, or None if reading them takes longer than ``budget_s``."""
    deadline = time.perf_counter() + budget_s
    conn = db.connection()
    conn.set_progress_handler(lambda: time.perf_counter() > deadline, _PROGRESS_STEPS)
    try:
        return db.execute_sql(*sql).fetchall()
    except (OperationalError, sqlite3.OperationalError) as e:  # (fetching rows raises sqlite3's own)
        if "interrupt" not in str(e):
            raise
        return None
    finally:
        conn.set_progress_handler(None, 0)


_NO_WALK = ("enable_indexscan", "enable_indexonlyscan")  # (bitmap scans stay: they return no order)


def _walks(db: Database, sql: str, params) -> bool:
    """Whether PostgreSQL's plan of a page query walks an index in order, filtering as it goes."""
    plan = db.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
    node = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    while node.get("Node Type") == "Limit" and node.get("Plans"):
        node = node["Plans"][0]
    return node.get("Node Type") in ("Index Scan", "Index Only Scan") and "Filter" in node


def _page_rows_postgres(db: Database, query) -> list[tuple]:
    """PostgreSQL: the planner's own plan. Its statistics cannot tell where a filter's orders lie
    in the sort order: it walks the sort index expecting them spread evenly, and when they lie
    far down (``status:pending due<4h`` sorted by pay time: the newest orders are not due yet)
    the walk reads most of the table. So a plan that walks an index, filtering, is given
    :data:`PG_WALK_BUDGET_S` (``statement_timeout``), and past that given up for a plan that cannot
    walk an index in order (index scans off, bitmap scans on): the filter's own indexes read
    the matches, and a top-N sort picks the page. The settings are undone before the caller's
    transaction goes on."""
    sql, params = db.get_sql_context().sql(query).query()
    if not _walks(db, sql, params):
        return db.execute_sql(sql, params).fetchall()
    try:
        with db.atomic():
            db.execute_sql(f"SET LOCAL statement_timeout = {max(1, round(PG_WALK_BUDGET_S * 1000))}")
            rows = db.execute_sql(sql, params).fetchall()
            db.execute_sql("SET LOCAL statement_timeout TO DEFAULT")
            return rows
    except OperationalError as e:
        if "statement timeout" not in str(e):
            raise
    with db.atomic():
        for name in _NO_WALK:
            db.execute_sql(f"SET LOCAL {name} = off")
        rows = db.execute_sql(sql, params).fetchall()
        for name in _NO_WALK:
            db.execute_sql(f"SET LOCAL {name} TO DEFAULT")
    return rows
