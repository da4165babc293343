"""``dadan db copy``: a desk's SQLite database moved into PostgreSQL with its whole history.

The target must be an EMPTY PostgreSQL database: :func:`dadan.core.db.open_database` makes its
schema at the current version, and a target holding any row in any dadan table (beside the
schema version) is refused before anything is written. The source is opened (and so migrated,
as any desk start would) first: its schema is this dadan's; a newer one is refused.

The source is read in ONE read transaction of SQLite (a WAL snapshot): desks may keep working on
it, the copy is the database as it was when the copy began (what they write afterwards is not in
it: stop them, or copy again, before switching them over). The target is written in ONE
PostgreSQL transaction under the write lock of :func:`dadan.core.db.write`: table by table in
foreign-key order, in keyset batches (``rowid`` order) through ``COPY ... FROM STDIN``; the
tables' own triggers are off meanwhile (the stock ledger's would count every movement into
``goods.on_hand`` a second time), ``order_sku`` is made from the orders with the function its
trigger uses, every serial sequence is set past its table's largest id, and ANALYZE gives the
planner its statistics. Then every table is VERIFIED in the same transaction: its rows counted
and checksummed (:func:`table_checksum`) on both sides; a difference rolls everything back, so
a failed copy leaves the target as empty as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

from peewee import AutoField, BooleanField, Database, DateTimeField, sort_models

from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.printers.i18n import Bilingual

BATCH = 5000
SKU_TABLE = "order_sku"
# SQLite's own tables and the free-text index's (PostgreSQL has pg_trgm instead)
SQLITE_ONLY = ("sqlite_", "order_fts")


class CopyError(DadanError):
    TITLE = Bilingual("Database copy", "数据库复制")


@dataclass
class TableCopy:
    name: str
    rows: int = 0
    seconds: float = 0.0
    source_rows: int = 0
    source_sum: str = ""
    target_rows: int = 0
    target_sum: str = ""

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    verify_seconds: float = 0.0
    index_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def lines(self) -> list[str]:
        """The verification table: table, rows, checksum, OK."""
        out = [f"{tr('table', '表'):<20} {tr('rows', '行数'):>10}  {'sha256':<16}  {tr('check', '核对')}"]
        for t in self.tables:
            mark = "OK" if t.ok else tr("DIFFERS (source {n:,})", "不一致（源 {n:,}）", n=t.source_rows)
            out.append(f"{t.name:<20} {t.target_rows:>10,}  {t.target_sum[:16]:<16}  {mark}")
        return out


# ------------------------------------------------------------------ which tables, in which order
def copied_models() -> list:
    """Every model's table, parents before children (foreign keys)."""
    from dadan.core.pg_schema import all_models

    return sort_models(all_models())


def _key(model) -> list:
    """The field a table's rows are ordered by for the checksum: its integer id, else none
    (the rows are sorted by their canonical text instead)."""
    pk = model._meta.primary_key
    return [pk] if pk and getattr(pk, "field_type", "") in ("AUTO", "INT") else []


# ------------------------------------------------------------------ checksums
def _as_bool(value):
    return None if value is None else bool(value)


def _as_time(value):
    if isinstance(value, str):  # text peewee's formats do not read: as PostgreSQL would
        try:
            return dt.datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            return value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _fixers(fields) -> list:
    """(position, normaliser) of the columns whose python value may differ in type between
    the two databases; the others (int, str, None) are the same objects on both sides."""
    return [(i, _as_bool if isinstance(f, BooleanField) else _as_time) for i, f in enumerate(fields)
            if isinstance(f, (BooleanField, DateTimeField))]


def _line(row, fixers) -> str:
    """One row's canonical text: the repr of its normalised values (one C call)."""
    if fixers:
        row = list(row)
        for i, fix in fixers:
            row[i] = fix(row[i])
    return repr(tuple(row))


def table_checksum(model, db: Database, chunk: int = BATCH) -> tuple[int, str]:
    """(rows, sha256) of ``model``'s table in ``db``, over the rows' values as the model reads
    them (python values: a SQLite timestamp's text and PostgreSQL's timestamp give the same
    datetime, 0/1 and false/true the same bool), one canonical line per row (:func:`_line`), in id order (a
    table without an integer id: its lines sorted)."""
    fields = model._meta.sorted_fields
    key = _key(model)
    fixers = _fixers(fields)
    digest = hashlib.sha256()
    n = 0
    if key:
        pk, last = key[0], None
        idx = fields.index(pk)
        while True:
            q = model.select(*fields).order_by(pk).limit(chunk)
            if last is not None:
                q = q.where(pk > last)
            rows = list(q.tuples().bind(db))
            if not rows:
                break
            digest.update("".join(_line(r, fixers) + "\n" for r in rows).encode())
            n += len(rows)
            last = rows[-1][idx]
        return n, digest.hexdigest()
    lines = sorted(_line(r, fixers) for r in model.select(*fields).tuples().bind(db))
    for line in lines:
        digest.update((line + "\n").encode())
    return len(lines), digest.hexdigest()


def sku_checksum(db: Database) -> tuple[int, str]:
    """(rows, sha256) of the (code, order) pairs behind ``sku:`` filters, sorted."""
    rows = sorted(db.execute_sql(f'SELECT "code", "order_id" FROM "{SKU_TABLE}"').fetchall())
    digest = hashlib.sha256()
    for code, oid in rows:
        digest.update(f"{code}\x1f{oid}\n".encode())
    return len(rows), digest.hexdigest()


# ------------------------------------------------------------------ the copy
def _refuse_non_empty(db: Database, models) -> None:
    from dadan.core.models import SchemaVersion

    for m in [*models, None]:
        if m is SchemaVersion:
            continue
        table = SKU_TABLE if m is None else m._meta.table_name
        if db.execute_sql(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None:
            raise CopyError(tr(
                "the target database already holds dadan data (table {t} has rows): nothing copied; "
                "give an empty database",
                "目标数据库中已有 dadan 数据（表 {t} 有数据）：未复制任何内容；请使用空数据库", t=table))


def _copy_table(model, src, dst, batch: int) -> int:
    """Copy one table's rows from the SQLite connection ``src`` into PostgreSQL (``dst``, a
    psycopg connection in the copy's transaction): keyset batches in rowid order (a WITHOUT
    ROWID table: its key's order), each batch one COPY. SQLite's values go as they are: its
    timestamps' text and its 0/1 booleans are PostgreSQL's input forms; the checksums compare
    what the models read on both sides."""
    meta = model._meta
    cols = [f.column_name for f in meta.sorted_fields]
    quoted = ", ".join(f'"{c}"' for c in cols)
    table = meta.table_name
    if meta.without_rowid:
        keys = [f.column_name for f in meta.get_primary_keys()]
    else:
        keys = ["rowid"]
    key_sql = ", ".join(f'"{k}"' if k != "rowid" else k for k in keys)
    width = len(cols)
    first = f'SELECT {quoted}, {key_sql} FROM "{table}" ORDER BY {key_sql} LIMIT ?'
    after = (f'SELECT {quoted}, {key_sql} FROM "{table}" WHERE ({key_sql}) > ({", ".join("?" * len(keys))}) '
             f'ORDER BY {key_sql} LIMIT ?')
    n = 0
    last = None
    with dst.cursor() as cur:
        while True:
            rows = src.execute(first if last is None else after, (batch,) if last is None else (*last, batch)).fetchall()
            if not rows:
                return n
            with cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as cp:
                for r in rows:
                    cp.write_row(r[:width])
            n += len(rows)
            last = rows[-1][width:]


def _copy_rows(model, src, pg, batch: int) -> int:
    """:func:`_copy_table`, a driver's error made one clear line (the transaction rolls back)."""
    try:
        return _copy_table(model, src, pg, batch)
    except Exception as exc:  # noqa: BLE001 - psycopg's and sqlite3's errors: one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CopyError(tr("cannot copy table {t}: {e}: nothing copied", "无法复制表 {t}：{e}：未复制任何内容",
                           t=model._meta.table_name, e=first)) from exc


def _sqlite_only(src) -> list[str]:
    from dadan.core.pg_schema import all_models

    names = {m._meta.table_name for m in all_models()} | {SKU_TABLE}
    tables = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return [t for t in tables if t not in names]


def _user_trigger_tables(db: Database) -> list[str]:
    return [r[0] for r in db.execute_sql(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND n.nspname = current_schema() ORDER BY 1")]


def _drop_plain_indexes(db: Database) -> list[str]:
    """Drop the non-unique indexes of dadan's tables (inside the copy's transaction, so nobody
    sees them missing); returns their definitions to make them again once the rows are in. One
    build over all the rows (the trigram GIN index above all) takes a fraction of the time of
    a row-by-row update. The primary keys and unique indexes stay (keys, conflicts)."""
    rows = db.execute_sql(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND NOT i.indisunique AND NOT i.indisprimary ORDER BY 1").fetchall()
    for name, _ in rows:
        db.execute_sql(f"DROP INDEX {name}")
    return [d for _, d in rows]


def _set_sequences(db: Database, models) -> None:
    for m in models:
        pk = m._meta.primary_key
        if isinstance(pk, AutoField):
            t, c = m._meta.table_name, pk.column_name
            db.execute_sql(f"SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max(\"{c}\"), 0) + 1, false) "
                           f'FROM "{t}"', (f'"{t}"', c))


def _fill_sku(db: Database) -> None:
    """``order_sku`` from every order, with the function its trigger uses (one statement)."""
    db.execute_sql(f'INSERT INTO "{SKU_TABLE}" ("code", "order_id") SELECT c, o."id" FROM "order" o, '
                   f'"order_sku_codes"(o."sku_text") AS c WHERE o."sku_text" <> \'\' ON CONFLICT DO NOTHING')


def load(src, dst_db: Database, models, *, batch: int = BATCH,
         progress: Callable[[TableCopy], None] | None = None) -> tuple[list[TableCopy], float]:
    """Inside the target's write transaction: every row of ``models`` from the SQLite connection
    ``src`` into the PostgreSQL database ``dst_db`` (its schema made, its tables empty), the
    source's schema history instead of the target's, the (code, order) pairs made from the
    orders, the indexes built once at the end, the triggers on again, the id sequences past the
    copied ids, the tables analysed. The tables copied (rows and seconds) and the seconds the
    indexes took. No check: :func:`copy_database` verifies."""
    from dadan.core.models import SchemaVersion

    triggers = _user_trigger_tables(dst_db)
    for t in triggers:  # the stock trigger would add every copied movement to on hand again
        dst_db.execute_sql(f'ALTER TABLE "{t}" DISABLE TRIGGER USER')
    dst_db.execute_sql(f'DELETE FROM "{SchemaVersion._meta.table_name}"')  # the source's history instead
    dst_db.execute_sql("SET LOCAL maintenance_work_mem = '256MB'")
    indexes = _drop_plain_indexes(dst_db)
    pg = dst_db.connection()
    tables = []
    for m in models:
        t0 = time.monotonic()
        tc = TableCopy(m._meta.table_name, _copy_rows(m, src, pg, batch))
        tc.seconds = time.monotonic() - t0
        tables.append(tc)
        if progress:
            progress(tc)
    t0 = time.monotonic()
    _fill_sku(dst_db)
    sku = TableCopy(SKU_TABLE, dst_db.execute_sql(f'SELECT count(*) FROM "{SKU_TABLE}"').fetchone()[0],
                    time.monotonic() - t0)
    tables.append(sku)
    if progress:
        progress(sku)
    t0 = time.monotonic()
    for ddl in indexes:
        dst_db.execute_sql(ddl)
    index_seconds = time.monotonic() - t0
    for t in triggers:
        dst_db.execute_sql(f'ALTER TABLE "{t}" ENABLE TRIGGER USER')
    _set_sequences(dst_db, models)
    dst_db.execute_sql("ANALYZE")
    return tables, index_seconds


def copy_database(target_url: str, *, source_url: str, actor: str, data_dir=None,
                  progress: Callable[[TableCopy], None] | None = None, batch: int = BATCH) -> CopyReport:
    """Copy the SQLite database at ``source_url`` into the empty PostgreSQL database at
    ``target_url`` and verify it (see the module). ``actor`` needs the ``settings`` permission
    in the source (whose history moves). ``progress`` is called after each
    table. Returns the report; raises :class:`CopyError` on a refusal or a failed verification
    (the target then holds nothing). Leaves the source open (bound to the models)."""
    from dadan.core import audit
    from dadan.core.db import close_database, open_database, write
    from dadan.core.models import database_proxy
    from dadan.core.operators import require
    from dadan.core.postgres import is_postgres, is_postgres_url

    if not is_postgres_url(target_url):
        raise CopyError(tr("the target must be a PostgreSQL database: --to postgresql://USER@HOST/DB",
                           "目标须为 PostgreSQL 数据库：--to postgresql://用户@主机/数据库"))
    if not source_url.startswith("sqlite:///"):
        raise CopyError(tr("the source must be a SQLite database file (it is {u})",
                           "源须为 SQLite 数据库文件（现为 {u}）", u=source_url))
    started = time.monotonic()
    report = CopyReport(source=source_url, target=target_url)
    src_db = open_database(source_url)  # migrated: this dadan's schema (a newer one is refused)
    require(actor, "settings", what="db copy")  # the source's operators; before the target is touched
    src = src_db.connection()
    try:
        dst_db = open_database(target_url, data_dir=data_dir)  # made at the current version when new
        if not is_postgres(dst_db):
            raise CopyError(tr("the target is not PostgreSQL", "目标不是 PostgreSQL"))
        models = copied_models()
        src.execute("BEGIN")  # one read snapshot for the copy and its checksums
        try:
            report.skipped = _sqlite_only(src)
            with write(dst_db):
                _refuse_non_empty(dst_db, models)
                report.tables, report.index_seconds = load(src, dst_db, models, batch=batch, progress=progress)
                t0 = time.monotonic()
                _verify(report, models, src_db, dst_db)
                report.verify_seconds = time.monotonic() - t0
                if not report.ok:
                    bad = ", ".join(t.name for t in report.tables if not t.ok)
                    raise CopyError(tr("the copy differs from the source in {t}: nothing copied",
                                       "副本与源不一致（{t}）：未复制任何内容", t=bad))
                report.seconds = time.monotonic() - started
                audit.record("db.copy", actor=actor, target=target_url,
                             detail={"from": source_url, "rows": report.rows, "tables": len(report.tables)})
        finally:
            src.execute("COMMIT" if src.in_transaction else "SELECT 1")
    finally:
        close_database()
        database_proxy.initialize(src_db)
    with write(src_db):  # the source's own log says where its history went
        audit.record("db.copy", actor=actor, target=target_url,
                     detail={"to": target_url, "rows": report.rows})
    return report


def _verify(report: CopyReport, models, src_db: Database, dst_db: Database) -> None:
    by_name = {t.name: t for t in report.tables}
    for m in models:
        tc = by_name[m._meta.table_name]
        tc.source_rows, tc.source_sum = table_checksum(m, src_db)
        tc.target_rows, tc.target_sum = table_checksum(m, dst_db)
    tc = by_name[SKU_TABLE]
    tc.source_rows, tc.source_sum = sku_checksum(src_db)
    tc.target_rows, tc.target_sum = sku_checksum(dst_db)
