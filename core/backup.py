"""Backups you can restore: a consistent copy of the SQLite database while desks keep working,
its verification, the daily copy with retention, and the restore that puts a copy back.

- :func:`backup` copies the database with SQLite's online backup API
  (``sqlite3.Connection.backup``) on a fresh raw connection, a few hundred pages a step with a
  short pause between steps so writers are not starved. The copy is taken inside one read
  transaction on the source: it is exactly the snapshot that transaction sees (WAL writers go on
  meanwhile), and with ``checksums`` the main tables' checksums are computed from that same
  snapshot. The copy is written under a temporary name, switched to a single file (no WAL),
  checked with ``PRAGMA quick_check`` and renamed when whole; it is owner-only (0600).
- :func:`verify` opens a file read-only: ``PRAGMA integrity_check``, the schema version, the row
  counts of the main tables. A file that is not a dadan database is one clear error.
- :func:`restore` refuses while another desk holds a live lease (a printer's or a shop sync's),
  verifies the file, keeps the replaced database as ``<db>.replaced-YYYYmmdd-HHMMSS`` (its WAL
  checkpointed first, its -wal/-shm moved aside with it), puts the copy in place, migrates it
  and writes an audit event into it.
- :func:`prune` deletes the backups this module made (``dadan-YYYYmmdd-HHMMSS.db``) older than
  ``keep_days``; :func:`daily_backup` is the scheduler's daily job (backup, prune, and the last
  result recorded in ``backup-last.json`` in the data folder for the desk to show).

PostgreSQL (``database_url = "postgresql://..."``, a later issue) will use its own tools,
``pg_dump`` and ``pg_restore``; these functions refuse it with one line saying so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import time
import zoneinfo
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.printers.i18n import Bilingual
from dadan.printers.private_files import PRIVATE_FILE_MODE, make_private_dir, write_private_bytes

NAME_RE = re.compile(r"^dadan-(\d{8})-(\d{6})(?:-(\d+))?\.db$")  # (-2: a second copy in the same second)
LAST_FILE = "backup-last.json"
# the tables whose rows a restore must give back exactly (counted by verify, checksummed on request)
MAIN_TABLES = ("order", "order_item", "print_job", "print_item", "shipment", "waybill", "audit_event")
STEP_PAGES = 512  # pages copied per step (2 MB at 4 KB pages)
STEP_PAUSE_S = 0.005  # between steps: writers take the lock meanwhile
BUSY_TIMEOUT_S = 30.0


class BackupError(DadanError):
    TITLE = Bilingual("Backup error", "备份错误")


@dataclass
class BackupResult:
    path: Path
    size: int
    orders: int
    schema_version: int
    at: dt.datetime  # UTC, naive
    seconds: float
    checksums: dict[str, str] | None = None  # the source's, from the copied snapshot

    def summary(self) -> str:
        return tr("backup {p}: {mb:.1f} MB, {n:,} orders, schema {v}, {s:.1f} s",
                  "备份 {p}：{mb:.1f} MB，{n:,} 个订单，结构版本 {v}，{s:.1f} 秒",
                  p=self.path, mb=self.size / 1e6, n=self.orders, v=self.schema_version, s=self.seconds)


@dataclass
class VerifyReport:
    path: Path
    size: int
    integrity: str  # "ok" or SQLite's first complaint
    schema_version: int
    counts: dict[str, int] = field(default_factory=dict)

    def problem(self, newest: int | None = None) -> str | None:
        """Why this file must not be restored (None: it may)."""
        from dadan.core.db import SCHEMA_VERSION

        newest = SCHEMA_VERSION if newest is None else newest
        if self.integrity != "ok":
            return tr("{p} is damaged: {e}", "{p} 已损坏：{e}", p=self.path, e=self.integrity)
        if self.schema_version > newest:
            return tr("{p} is at schema version {v}, newer than this dadan ({n}); upgrade dadan",
                      "{p} 的结构版本 {v} 比本程序（{n}）新；请升级 dadan", p=self.path, v=self.schema_version, n=newest)
        return None

    def summary(self) -> str:
        counts = ", ".join(f"{t} {n:,}" for t, n in self.counts.items())
        return tr("{p}: integrity {i}, schema {v}, {c}", "{p}：完整性 {i}，结构版本 {v}，{c}",
                  p=self.path, i=self.integrity, v=self.schema_version, c=counts)


@dataclass
class RestoreResult:
    path: Path  # the database now in place
    source: Path  # the backup it came from
    kept: Path | None  # the replaced database (None: there was none)
    schema_version: int  # after migration
    orders: int

    def summary(self) -> str:
        kept = str(self.kept) if self.kept else tr("(no database before)", "（之前没有数据库）")
        return tr("restored {s} into {p} ({n:,} orders, schema {v}); the replaced database was kept as {k}",
                  "已从 {s} 恢复到 {p}（{n:,} 个订单，结构版本 {v}）；被替换的数据库保留为 {k}",
                  s=self.source, p=self.path, n=self.orders, v=self.schema_version, k=kept)


@dataclass
class BackupInfo:
    path: Path
    at: dt.datetime  # local time, from the name
    size: int
    orders: int | None  # None: unreadable


# ------------------------------------------------------------------ where
def database_file(settings, paths) -> Path:
    """The SQLite file of ``settings.database_url`` (default: ``dadan.db`` in the data folder).
    PostgreSQL is refused: it uses its own tools."""
    url = settings.database_url
    if not url:
        return paths.database_file
    if url.startswith(("postgres://", "postgresql://")):
        raise BackupError(tr("PostgreSQL databases are backed up and restored with PostgreSQL's own tools "
                             "(pg_dump / pg_restore), not dadan backup",
                             "PostgreSQL 数据库请用其自带工具（pg_dump / pg_restore）备份和恢复，而不是 dadan backup"))
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url[len("sqlite:///"):])
    raise BackupError(tr("cannot back up the database {u!r}: only a sqlite:/// file can be",
                         "无法备份数据库 {u!r}：只能备份 sqlite:/// 文件", u=url))


def backup_folder(settings, paths) -> Path:
    return Path(settings.backup.folder).expanduser() if settings.backup.folder else paths.data_dir / "backups"


def daily_time(settings) -> tuple[int, int]:
    """``[backup] daily_at`` as (hour, minute)."""
    text = settings.backup.daily_at.strip()
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise BackupError(tr("setting backup.daily_at must be a time like 02:30, not {t!r}",
                             "设置 backup.daily_at 须为时间（如 02:30），而不是 {t!r}", t=text))
    return int(m.group(1)), int(m.group(2))


def _local_now(settings, now: dt.datetime | None = None) -> dt.datetime:
    utc = (now or dt.datetime.now(dt.UTC).replace(tzinfo=None)).replace(tzinfo=dt.UTC)
    return utc.astimezone(zoneinfo.ZoneInfo(settings.timezone)).replace(tzinfo=None)


def default_name(settings, now: dt.datetime | None = None) -> str:
    return f"dadan-{_local_now(settings, now):%Y%m%d-%H%M%S}.db"


# ------------------------------------------------------------------ checksums
def table_checksums(conn: sqlite3.Connection, tables=MAIN_TABLES) -> dict[str, str]:
    """Each table's rows (in rowid order) hashed: ``"<count>:<sha256>"``; equal checksums mean
    equal rows. Call inside a read transaction to read one snapshot."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    out = {}
    for t in tables:
        if t not in have:
            continue
        h = hashlib.sha256()
        n = 0
        for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid'):
            h.update(repr(row).encode())
            n += 1
        out[t] = f"{n}:{h.hexdigest()}"
    return out


def _version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


# ------------------------------------------------------------------ backup
def _connect_source(src: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(src, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


_PARTIAL = re.compile(r"^\..+\.(\d+)\.partial(?:-journal|-wal|-shm)?$")  # a copy being written, by its process


def _remove_stale_partials(folder: Path) -> None:
    """The copies killed backups left in ``folder`` (``.NAME.PID.partial`` and its journal, each
    as large as the database), removed once the process that wrote them is gone."""
    from dadan.core.leases import pid_alive

    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = _PARTIAL.match(name)
        if m and not pid_alive(int(m.group(1))):
            try:
                (folder / name).unlink()
            except OSError:
                pass


def backup(dest: Path | str | None = None, *, settings, paths, checksums: bool = False,
           now: dt.datetime | None = None, pages: int = STEP_PAGES, pause: float = STEP_PAUSE_S,
           actor: str | None = None) -> BackupResult:
    """A consistent copy of the database into ``dest`` (default: ``[backup] folder`` or
    ``<data dir>/backups``, named ``dadan-YYYYmmdd-HHMMSS.db`` in the warehouse's local time,
    ``-2`` and so on for another in the same second). Desks keep reading and writing meanwhile.
    With ``checksums`` the result carries the main tables' checksums read from the copied
    snapshot of the source (and the copy is checked to equal them). PostgreSQL is refused (it
    uses pg_dump)."""
    if actor is not None:  # a person's backup (the daily job is the desk's own): a copy of every order
        from dadan.core.operators import require

        require(actor, "export", what="backup")
    src = database_file(settings, paths)
    if not src.exists():
        raise BackupError(tr("there is no database to back up at {p}", "{p} 处没有可备份的数据库", p=src))
    started = time.monotonic()
    at = (now or dt.datetime.now(dt.UTC).replace(tzinfo=None))
    named = not dest  # (dadan names the file)
    folder = bool(dest) and str(dest).endswith(("/", os.sep))  # "backups/": a folder, made if need be
    dest = Path(dest).expanduser().absolute() if dest else backup_folder(settings, paths) / default_name(settings, at)
    if folder:
        dest, named = dest / default_name(settings, at), True
    if dest.resolve() == src.resolve():
        raise BackupError(tr("the backup cannot be the database itself: {p}", "备份文件不能是数据库本身：{p}", p=dest))
    if dest.is_dir():
        dest, named = dest / default_name(settings, at), True
    if named:  # a second copy within the same second: dadan-YYYYmmdd-HHMMSS-2.db
        stem, n = dest.stem, 1
        while dest.exists():
            n += 1
            dest = dest.with_name(f"{stem}-{n}.db")
    if dest.exists():
        raise BackupError(tr("{p} exists already; choose another file", "{p} 已存在；请换一个文件名", p=dest))
    try:
        make_private_dir(dest.parent)
    except OSError as exc:
        raise BackupError(tr("cannot make the backup folder {p}: {e}", "无法创建备份文件夹 {p}：{e}",
                             p=dest.parent, e=exc.strerror or exc)) from None
    _remove_stale_partials(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    sums = None
    try:
        write_private_bytes(tmp, b"")
        reader = _connect_source(src)
        try:
            reader.execute("BEGIN")  # one read snapshot for the copy and the checksums
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
            target = sqlite3.connect(tmp, isolation_level=None)
            try:
                reader.backup(target, pages=pages, sleep=pause)
                if checksums:
                    sums = table_checksums(reader)
                reader.execute("COMMIT")
                target.execute("PRAGMA journal_mode = delete")  # one self-contained file
                check = target.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise BackupError(tr("the copy failed its check: {e}", "备份副本校验失败：{e}", e=check))
                if sums is not None and table_checksums(target) != sums:
                    raise BackupError(tr("the copy differs from the database", "备份副本与数据库不一致"))
                orders = target.execute('SELECT count(*) FROM "order"').fetchone()[0]
                version = _version(target)
            finally:
                target.close()
        finally:
            reader.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, PRIVATE_FILE_MODE)
        os.replace(tmp, dest)
    except sqlite3.Error as exc:
        raise BackupError(tr("backup of {s} failed: {e}", "备份 {s} 失败：{e}", s=src, e=exc)) from None
    except OSError as exc:
        raise BackupError(tr("cannot write the backup {p}: {e}", "无法写入备份 {p}：{e}",
                             p=dest, e=exc.strerror or exc)) from None
    finally:
        for p in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
    return BackupResult(path=dest, size=dest.stat().st_size, orders=orders, schema_version=version, at=at,
                        seconds=time.monotonic() - started, checksums=sums)


# ------------------------------------------------------------------ verify
def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)


def verify(file: Path | str, *, full: bool = True) -> VerifyReport:
    """Open ``file`` read-only and check it: ``integrity_check`` (``quick_check`` unless
    ``full``), the schema version, the main tables' row counts. A missing file or one that is not
    a dadan database raises one :class:`BackupError` line."""
    path = Path(file).expanduser()
    if not path.is_file():
        raise BackupError(tr("no such backup file: {p}", "没有这个备份文件：{p}", p=path))
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise BackupError(tr("{p} is not a dadan database (not an SQLite file)",
                             "{p} 不是 dadan 数据库（不是 SQLite 文件）", p=path))
    try:
        conn = _open_read_only(path)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"schema_version", "order"} <= tables:
                raise BackupError(tr("{p} is not a dadan database (no orders or schema version)",
                                     "{p} 不是 dadan 数据库（没有订单表或结构版本）", p=path))
            rows = conn.execute("PRAGMA integrity_check(1)" if full else "PRAGMA quick_check(1)").fetchall()
            integrity = " ".join(str(rows[0][0]).replace("*** in database main ***", "").split()) if rows else "?"
            version = _version(conn)
            counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in MAIN_TABLES if t in tables}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(tr("{p} cannot be read as a database: {e}", "{p} 无法作为数据库读取：{e}", p=path, e=exc)) from None
    return VerifyReport(path=path, size=path.stat().st_size, integrity=integrity, schema_version=version, counts=counts)


# ------------------------------------------------------------------ restore
def live_leases(db_file: Path) -> list[tuple[str, str]]:
    """The leases (name, holder) held now by a live holder that is not this process."""
    from dadan.core.leases import holder_alive

    if not db_file.exists():
        return []
    mine = f"{socket.gethostname()}:{os.getpid()}:"
    conn = _connect_source(db_file)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'lease'").fetchone():
            return []
        rows = conn.execute("SELECT name, holder, expires_at FROM lease").fetchall()
    finally:
        conn.close()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    out = []
    for name, holder, expires in rows:
        try:
            until = dt.datetime.fromisoformat(str(expires))
        except ValueError:
            until = now
        if until >= now and holder_alive(holder) and not holder.startswith(mine):
            out.append((name, holder))
    return out


def _refuse_if_leased(db_file: Path) -> None:
    held = live_leases(db_file)
    if held:
        name, holder = held[0]
        raise BackupError(tr("another desk is working on this database ({n} held by {h}); stop it first, then restore",
                             "另一终端正在使用该数据库（{n} 由 {h} 持有）；请先停止它再恢复", n=name, h=holder))


def restore(file: Path | str, *, settings, paths, actor: str, now: dt.datetime | None = None,
            verified: VerifyReport | None = None) -> RestoreResult:
    """Put the backup ``file`` in place of the database. Refused while another desk holds a
    live lease, and for a file that fails :func:`verify` or is newer than this dadan. The
    replaced database is kept as ``<db>.replaced-YYYYmmdd-HHMMSS`` (local time). The restored
    database is migrated and gets an audit event ``backup.restore`` before it takes the database's
    place (a restore killed after the swap is whole). Other desks must be
    restarted afterwards. ``verified``: the file's :func:`verify` report, when the caller just
    made it (a full check of a large file takes a while). PostgreSQL is refused (it uses
    pg_restore)."""
    from dadan.core.db import close_database, default_url, open_database
    from dadan.core.models import Order

    db_file = database_file(settings, paths)
    source = Path(file).expanduser()
    report = verified if verified is not None and verified.path == source else verify(source)
    problem = report.problem()
    if problem:
        raise BackupError(problem)
    if db_file.exists() and source.resolve() == db_file.resolve():
        raise BackupError(tr("{p} is the database itself", "{p} 就是数据库本身", p=source))
    from dadan.core.operators import require

    require(actor, "settings", what="restore")  # before anything changes
    _refuse_if_leased(db_file)
    stamp = f"{_local_now(settings, now):%Y%m%d-%H%M%S}"
    close_database()
    kept = db_file.with_name(f"{db_file.name}.replaced-{stamp}") if db_file.exists() else None
    tmp = db_file.with_name(f".{db_file.name}.{os.getpid()}.restoring")
    try:
        make_private_dir(db_file.parent)
        shutil.copyfile(source, tmp)
        os.chmod(tmp, PRIVATE_FILE_MODE)
        # migrated and its audit event written before it takes the database's place: a restore
        # killed after the swap is whole, one that fails to migrate leaves the database as it was
        version = _ready_to_swap(tmp, source, kept, report, actor)
        if kept is not None:
            conn = _connect_source(db_file)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
            _refuse_if_leased(db_file)  # a desk that started meanwhile
            os.replace(db_file, kept)
            for suffix in ("-wal", "-shm"):
                side = Path(f"{db_file}{suffix}")
                if side.exists():
                    os.replace(side, Path(f"{kept}{suffix}"))
        os.replace(tmp, db_file)
    except sqlite3.Error as exc:
        raise BackupError(tr("cannot restore into {p}: {e}", "无法恢复到 {p}：{e}", p=db_file, e=exc)) from None
    except OSError as exc:
        raise BackupError(tr("cannot restore into {p}: {e}", "无法恢复到 {p}：{e}",
                             p=db_file, e=exc.strerror or exc)) from None
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    open_database(settings.database_url or default_url(db_file), migrate_schema=False)
    orders = Order.select().count()
    return RestoreResult(path=db_file, source=source, kept=kept, schema_version=version, orders=orders)


def _ready_to_swap(tmp: Path, source: Path, kept: Path | None, report: VerifyReport, actor: str) -> int:
    """The restore's copy ``tmp`` migrated, with the restore's audit event, one self-contained
    file (no write-ahead log beside it) to be renamed into the database's place; its schema
    version."""
    from dadan.core import audit
    from dadan.core.db import close_database, migrate, open_database, write

    db = open_database(f"sqlite:///{tmp}", migrate_schema=False)
    try:
        version = migrate(db)
        with write(db):
            audit.record("backup.restore", actor=actor, target=str(source),
                         detail={"from": str(source), "kept": str(kept) if kept else "",
                                 "schema_before": report.schema_version, "schema_after": version,
                                 "orders": report.counts.get("order", 0)})
        db.execute_sql("PRAGMA journal_mode = delete")
    finally:
        close_database()
    return version


# ------------------------------------------------------------------ retention, listing, the daily job
def _stamp(path: Path) -> dt.datetime | None:
    m = NAME_RE.match(path.name)
    if not m:
        return None
    try:
        return dt.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def _in_order(folder: Path) -> list[Path]:
    """The files of ``folder``, dadan's backups in the order they were made (``-2`` after the
    copy of the same second without it)."""
    def key(p: Path) -> tuple:
        m = NAME_RE.match(p.name)
        return (m.group(1), m.group(2), int(m.group(3) or 1)) if m else (p.name,)

    return sorted(folder.iterdir(), key=key)


def prune(folder: Path | str, keep_days: int, *, now: float | None = None) -> list[Path]:
    """Delete the backups this module made (``dadan-YYYYmmdd-HHMMSS.db``) in ``folder`` whose
    file is older than ``keep_days`` days; any other file is left alone. Returns those deleted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    limit = (time.time() if now is None else now) - keep_days * 86400
    gone = []
    for p in _in_order(folder):
        if _stamp(p) is None or not p.is_file():
            continue
        if p.stat().st_mtime < limit:
            p.unlink(missing_ok=True)
            gone.append(p)
    return gone


def list_backups(folder: Path | str) -> list[BackupInfo]:
    """The backups this module made in ``folder``, oldest first, with their orders counted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    out = []
    for p in _in_order(folder):
        at = _stamp(p)
        if at is None or not p.is_file():
            continue
        orders = None
        try:
            conn = _open_read_only(p)
            try:
                orders = conn.execute('SELECT count(*) FROM "order"').fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error:
            pass
        out.append(BackupInfo(path=p, at=at, size=p.stat().st_size, orders=orders))
    out.sort(key=lambda b: b.at)
    return out


def record_last(paths, result: BackupResult | None, error: str = "", *, daily: bool = False) -> None:
    """The last backup (or its error), for the desk to show: ``backup-last.json`` in the data
    folder (``at`` in UTC; ``daily``: made by the daily job)."""
    data = {"at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"), "ok": result is not None,
            "error": error, "daily": daily}
    if result is not None:
        data.update(path=str(result.path), size=result.size, orders=result.orders,
                    schema_version=result.schema_version, at=result.at.isoformat(timespec="seconds"))
    target = Path(paths.data_dir) / LAST_FILE
    tmp = target.with_name(f".{LAST_FILE}.{os.getpid()}")
    write_private_bytes(tmp, json.dumps(data, ensure_ascii=False, sort_keys=True).encode())
    os.replace(tmp, target)


def last_backup(paths) -> dict | None:
    """What :func:`record_last` wrote (None: no backup yet)."""
    try:
        data = json.loads((Path(paths.data_dir) / LAST_FILE).read_text(encoding="utf-8"))
        dt.datetime.fromisoformat(data["at"])
        return data
    except (OSError, ValueError, KeyError, TypeError):
        return None


def last_backup_text(settings, paths) -> str:
    """One line for the desk: when the last backup was made and where, or why it failed."""
    last = last_backup(paths)
    if last is None:
        return tr("no backup yet", "尚无备份")
    when = f"{_local_now(settings, dt.datetime.fromisoformat(last['at'])):%Y-%m-%d %H:%M}"
    if last.get("ok"):
        return tr("last backup {t}: {p}", "上次备份 {t}：{p}", t=when, p=last.get("path", ""))
    return tr("last backup failed {t}: {e}", "上次备份失败 {t}：{e}", t=when, e=last.get("error", ""))


@dataclass
class DailyOutcome:
    result: BackupResult | None = None
    pruned: list[Path] = field(default_factory=list)
    error: str = ""
    skipped: str = ""

    def as_dict(self) -> dict:
        return {k: str(v) for k, v in asdict(self).items()}


def daily_backup(settings, paths, *, now: dt.datetime | None = None) -> DailyOutcome:
    """The scheduler's daily job: a backup into the folder, then retention (``keep_days``); the
    outcome recorded by :func:`record_last`. Skipped when another desk holds the ``backup``
    lease (it is taking today's copy) or a desk of this data folder made the daily copy less
    than 12 hours ago. Never raises for an expected failure: the error is recorded and returned."""
    from dadan.core import leases
    from dadan.core.db import connection

    out = DailyOutcome()
    holder = leases.make_holder()
    try:
        with connection():
            if not leases.acquire("backup", holder, dt.timedelta(hours=1)):
                out.skipped = tr("another desk is taking the backup", "另一终端正在备份")
                return out
        try:
            last = last_backup(paths)
            at = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
            if last and last.get("ok") and last.get("daily") and \
                    abs(at - dt.datetime.fromisoformat(last["at"])) < dt.timedelta(hours=12):
                out.skipped = tr("today's backup was made already: {p}", "今天已备份：{p}", p=last.get("path", ""))
                return out
            out.result = backup(settings=settings, paths=paths, now=now)
            out.pruned = prune(backup_folder(settings, paths), settings.backup.keep_days)
            record_last(paths, out.result, daily=True)
        finally:
            with connection():
                leases.release("backup", holder)
    except DadanError as exc:
        out.error = exc.message
        record_last(paths, None, out.error, daily=True)
    return out
