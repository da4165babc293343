"""The free-text index of a big demo, built by the process that makes its orders.

A million orders' trigrams take the writing process some 12 s (the rows 10 s, one ``optimize``
2.4 s), on the one core that also writes the rows, the indexes and the SKU pairs, while the
second process that makes the orders (:mod:`dadan.core.demo_process`) has nothing left to do
once it has handed the last batch over. So that process keeps the orders' texts and then,
while the writer builds the order table's indexes, indexes them into a scratch database of
its own (:class:`ScratchIndex`): an FTS5 table with the same tokenizer and column
as ``order_fts`` (:mod:`dadan.core.orders.fulltext`), contentless (it needs no copy of the
text), the order ids being the ones the rows get. The writer leaves the text out of its own
index meanwhile (``fulltext.deferred(text=False)``) and, before it commits, takes the scratch
index's rows whole (:func:`adopt_index`): FTS5 keeps an index in ordinary tables (``_data``,
``_idx``, ``_docsize``) whose rows depend on the tokens and ids only, never on where the text
is kept, as SQLite's own ``.dump`` relies on. At 1,000,000 orders the copy takes ~2.3 s.

Only for a table that had no order before the block, and one SQLite library in both processes
(the same interpreter): :func:`adopt_index` checks the index format's version, and that the
scratch index holds exactly the orders the table does.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from peewee import Database

from dadan.core.db import database
from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.orders.fulltext import SENTINEL, TABLE, TOKENIZE
from dadan.printers.private_files import write_private_bytes

# the tables that hold an FTS5 index (its config table stays the writer's: its settings)
_SHADOWS = (("data", ("id", "block")), ("idx", ("segid", "term", "pgno")), ("docsize", ("id", "sz")))
_HASH_BYTES = 64 * 1024 * 1024  # terms FTS5 gathers in memory before it writes a segment (1 MB by default)
_COPY_ROWS = 10_000


class ScratchIndex:
    """A free-text index of orders given by id and text, in a throwaway database at ``path``
    (made owner-only: the text holds buyers' regions and masked names; a file left there by a
    killed demo is replaced). Not durable: nothing syncs it, and a crash leaves only a file the
    next demo replaces."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.unlink(missing_ok=True)
        write_private_bytes(self.path, b"")
        self._conn = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode = off", "synchronous = off", "cache_size = -64000"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._conn.execute(f"""CREATE VIRTUAL TABLE "{TABLE}" USING fts5(search_text, content='', tokenize='{TOKENIZE}')""")
        for key, value in (("automerge", 0), ("hashsize", _HASH_BYTES)):  # one segment at the end: optimize
            self._conn.execute(f"""INSERT INTO "{TABLE}" ("{TABLE}", rank) VALUES (?, ?)""", (key, value))
        self._conn.execute("BEGIN")

    def add(self, first_id: int, texts: list[str]) -> None:
        """Index ``texts`` as the orders ``first_id``, ``first_id + 1``, ... (each ended by the
        sentinel, as the order table's view gives it)."""
        self._conn.executemany(f'INSERT INTO "{TABLE}" (rowid, search_text) VALUES (?, ? || ?)',
                               zip(range(first_id, first_id + len(texts)), texts, [SENTINEL] * len(texts)))

    def finish(self) -> None:
        """Merge the index into one segment (as the writer's own build ends) and close."""
        self._conn.execute(f"""INSERT INTO "{TABLE}" ("{TABLE}") VALUES ('optimize')""")
        self._conn.execute("COMMIT")
        self._conn.close()


def _version(conn) -> object:
    """The format version of the index in the database ``conn`` reads."""
    row = conn.execute(f"""SELECT v FROM "{TABLE}_config" WHERE k = 'version'""").fetchone()
    return row[0] if row else None


def adopt_index(path: Path, db: Database | None = None) -> int:
    """Inside the writer's transaction: make the index finished at ``path`` (:class:`ScratchIndex`)
    the order table's free-text index, replacing what the index holds (nothing: its table had
    no order before the block). Refused unless both indexes are of one format version and the
    scratch index holds one entry for each order (their count and range of ids the table's:
    the scratch index's ids run on from the first, and the writer checks that each batch's
    ids run on from the last). Returns the orders indexed.

    FTS5 keeps what it last read of an index in each connection, and sees a change made beside
    it only when another connection commits: the caller closes this connection after its
    commit (:func:`dadan.core.demo.write_demo`), and queries nothing through the index before."""
    db = db or database()
    src = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        main = db.connection()
        have = tuple(src.execute(f'SELECT count(*), min(id), max(id) FROM "{TABLE}_docsize"').fetchone())
        want = tuple(db.execute_sql('SELECT count(*), min("id"), max("id") FROM "order"').fetchone())
        made, own = _version(src), _version(main)
        if made != own or have != want:
            raise DadanError(tr("the free-text index made beside the orders does not match them (format {a}/{b}, "
                                "orders {h}/{w}): nothing was written",
                                "与订单一起生成的全文索引与订单不符（格式 {a}/{b}，订单 {h}/{w}）：未写入任何数据",
                                a=made, b=own, h=have, w=want))
        for name, cols in _SHADOWS:
            names = ", ".join(f'"{c}"' for c in cols)
            db.execute_sql(f'DELETE FROM "{TABLE}_{name}"')
            rows = src.execute(f'SELECT {names} FROM "{TABLE}_{name}"')
            insert = f'INSERT INTO "{TABLE}_{name}" ({names}) VALUES ({", ".join("?" * len(cols))})'
            while chunk := rows.fetchmany(_COPY_ROWS):
                main.executemany(insert, chunk)
        return int(have[0])
    finally:
        src.close()
