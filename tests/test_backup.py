"""Backups you can restore (core.backup, ``dadan backup`` / ``dadan restore``): real SQLite files,
real processes. The acceptance test backs up while three other processes write through the real
commands (sync from the loopback platform, print on the preview printer, import of orders and
their tracking numbers) and proves the restored copy equals the source at the backup's moment."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dadan.core import backup as bk
from dadan.core.config import Paths, Settings, load_settings
from dadan.core.context import Context
from dadan.core.db import SCHEMA_VERSION, close_database, open_database, write
from dadan.core.models import Order, Shop
from tests.desk_helpers import run_cli
from tests.fakes.queue_setup import SMALL_TEMPLATE
from tests.test_sync_support import make_env

ROOT = Path(__file__).resolve().parents[1]
COMPARED = ("order", "order_item", "print_job", "print_item", "shipment", "waybill")


def child_env(home: Path) -> dict:
    env = {**os.environ, "DADAN_HOME": str(home), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "LC_ALL": ""}
    env.pop("DADAN_LANG", None)
    return env


def make_home(home: Path, n: int = 30) -> Paths:
    """A data folder with a database of ``n`` orders."""
    home.mkdir(parents=True, exist_ok=True)
    open_database(f"sqlite:///{home / 'dadan.db'}")
    with write():
        shop = Shop.create(name="测试店")
        Order.insert_many([dict(shop=shop.id, order_sn=f"240601-{i:09d}", source="demo", receiver_name=f"张{i}",
                                receiver_phone="13800000000", receiver_address="浙江省杭州市西湖区文三路 1 号",
                                province="浙江省", city="杭州市") for i in range(1, n + 1)]).execute()
    close_database()
    return Paths(config_dir=home, data_dir=home)


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def checksums(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return bk.table_checksums(conn, COMPARED)
    finally:
        conn.close()


# ------------------------------------------------------------------ acceptance: backup under load
def test_backup_while_sync_print_and_import_write_restores_the_snapshot(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    e = make_env(home, timeout=30)
    stop = tmp_path / "stop"
    procs: list[subprocess.Popen] = []
    feeding = threading.Event()
    try:
        p = e.platform
        p.generate_orders(e.mall, 20, spread_hours=2)
        with write():
            Order.insert_many([dict(shop=e.shop.id, order_sn=f"240601-{i:09d}", source="demo", receiver_name=f"张{i}",
                                    receiver_phone="13800000000", receiver_address="浙江省杭州市西湖区文三路 1 号",
                                    province="浙江省", city="杭州市", tracking_number=f"ZT{i:010d}")
                               for i in range(1, 201)]).execute()
        (home / "config.toml").write_text("[sync]\nsafety_margin_minutes = 0\nbackfill_days = 1\n", encoding="utf-8")
        close_database()  # the desks open the file themselves
        db = home / "dadan.db"
        shop_a = e.shop.id

        def feed():  # the platform keeps taking orders
            while not feeding.is_set():
                p.generate_orders(e.mall, 2, spread_hours=0.01, end=p.now())
                feeding.wait(0.1)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()

        def synced():
            return count(db, f'SELECT count(*) FROM "order" WHERE shop_id = {shop_a} AND order_sn NOT LIKE "240601-%"')

        def printed():
            return count(db, "SELECT count(*) FROM print_item WHERE state = 'sent'")

        def imported():
            return count(db, "SELECT count(*) FROM shipment")

        base = (synced(), printed(), imported())
        assert base == (0, 0, 0)
        for mode in ("sync", "print", "import"):
            procs.append(subprocess.Popen([sys.executable, "-m", "tests.fakes.backup_writer", mode, str(stop),
                                           SMALL_TEMPLATE], cwd=ROOT, env=child_env(home), text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        deadline = time.monotonic() + 60
        while min(synced(), printed(), imported()) == 0:  # every desk has written
            assert time.monotonic() < deadline, [pr.poll() for pr in procs]
            time.sleep(0.1)

        settings = load_settings(Paths(config_dir=home, data_dir=home))
        result = bk.backup(settings=settings, paths=Paths(config_dir=home, data_dir=home), checksums=True,
                           pages=16, pause=0.002)  # small steps: the writers go on during the copy
        copy = result.path
        at_backup = (count(copy, f'SELECT count(*) FROM "order" WHERE shop_id = {shop_a} AND order_sn NOT LIKE "240601-%"'),
                     count(copy, "SELECT count(*) FROM print_item WHERE state = 'sent'"),
                     count(copy, "SELECT count(*) FROM shipment"))
        deadline = time.monotonic() + 60
        while not all(now > then for now, then in zip((synced(), printed(), imported()), at_backup)):
            assert time.monotonic() < deadline, (at_backup, [pr.poll() for pr in procs])
            time.sleep(0.1)
        stop.touch()
        for pr in procs:
            out, err = pr.communicate(timeout=60)
            assert pr.returncode == 0 and "Traceback" not in err, (out, err)
        feeding.set()
        after = (synced(), printed(), imported())
        # every desk wrote before the backup's moment and went on writing after it
        assert all(b < a < c for b, a, c in zip(base, at_backup, after)), (base, at_backup, after)

        assert result.path.stat().st_mode & 0o777 == 0o600 and result.orders == count(copy, 'SELECT count(*) FROM "order"')
        assert result.schema_version == SCHEMA_VERSION
        restored_home = tmp_path / "restored"
        rr = bk.restore(copy, settings=Settings(), paths=Paths(config_dir=restored_home, data_dir=restored_home),
                        actor="tester")
        close_database()
        assert rr.kept is None and rr.path == restored_home / "dadan.db"
        assert count(rr.path, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'") == 0
        got = checksums(rr.path)
        assert {t: got[t] for t in COMPARED} == {t: result.checksums[t] for t in COMPARED}
        assert got != checksums(db)  # the source moved on after the backup's moment
    finally:
        stop.touch()
        feeding.set()
        for pr in procs:
            if pr.poll() is None:
                pr.kill()
                pr.wait()
        e.server.stop()
        close_database()


# ------------------------------------------------------------------ backup, verify, restore
def test_backup_verify_and_restore_keep_the_replaced_database(tmp_path):
    paths = make_home(tmp_path / "home", 30)
    settings = Settings()
    result = bk.backup(settings=settings, paths=paths, now=dt.datetime(2026, 12, 4, 18, 30))
    assert result.path == paths.data_dir / "backups" / "dadan-20261205-023000.db"  # Asia/Shanghai
    assert result.orders == 30 and result.path.stat().st_mode & 0o777 == 0o600
    assert not [f for f in result.path.parent.iterdir() if f != result.path]  # no temporary left
    report = bk.verify(result.path)
    assert report.integrity == "ok" and report.schema_version == SCHEMA_VERSION and report.counts["order"] == 30
    assert report.problem() is None

    open_database(f"sqlite:///{paths.database_file}")  # the desk goes on: 5 more orders
    with write():
        Order.insert_many([dict(shop=1, order_sn=f"251201-{i:09d}", source="demo") for i in range(5)]).execute()
    close_database()
    assert count(paths.database_file, 'SELECT count(*) FROM "order"') == 35

    rr = bk.restore(result.path, settings=settings, paths=paths, actor="王五", now=dt.datetime(2026, 12, 5, 1, 0))
    assert rr.kept == paths.data_dir / "dadan.db.replaced-20261205-090000" and rr.orders == 30
    assert count(rr.kept, 'SELECT count(*) FROM "order"') == 35  # the replaced database, whole
    assert count(paths.database_file, 'SELECT count(*) FROM "order"') == 30
    assert paths.database_file.stat().st_mode & 0o777 == 0o600
    row = sqlite3.connect(paths.database_file).execute(
        "SELECT actor, target, detail FROM audit_event WHERE action = 'backup.restore'").fetchone()
    assert row[0] == "王五" and row[1] == str(result.path) and "dadan.db.replaced-20261205-090000" in row[2]
    assert "restored" in rr.summary() and str(rr.kept) in rr.summary()
    close_database()


def test_a_restore_killed_right_after_the_swap_has_its_audit_event(tmp_path, monkeypatch):
    """The restored copy is migrated and given its audit event before it takes the database's
    place: a restore stopped the moment after the swap (here: the database's next opening
    never comes) leaves the restored database with its ``backup.restore`` event, and no
    temporary file beside it."""
    import dadan.core.db as core_db

    paths = make_home(tmp_path / "home", 12)
    result = bk.backup(settings=Settings(), paths=paths)
    real_open = core_db.open_database

    class Killed(BaseException):
        pass

    def open_or_die(url, **kw):
        if url == f"sqlite:///{paths.database_file}":
            raise Killed
        return real_open(url, **kw)

    monkeypatch.setattr(core_db, "open_database", open_or_die)
    with pytest.raises(Killed):
        bk.restore(result.path, settings=Settings(), paths=paths, actor="王五")
    conn = sqlite3.connect(paths.database_file)
    try:
        row = conn.execute("SELECT actor, target FROM audit_event WHERE action = 'backup.restore'").fetchone()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] in ("delete", "wal")
    finally:
        conn.close()
    assert row == ("王五", str(result.path))
    assert sorted(p.name for p in paths.data_dir.iterdir() if "restoring" in p.name) == []
    assert count(paths.database_file, 'SELECT count(*) FROM "order"') == 12


def test_restore_is_refused_while_another_desk_holds_a_lease(tmp_path):
    paths = make_home(tmp_path / "home", 5)
    result = bk.backup(settings=Settings(), paths=paths)
    script = ("import sys, datetime as dt\n"
              "from dadan.core.db import open_database\n"
              "from dadan.core import leases\n"
              f"open_database('sqlite:///{paths.database_file}')\n"
              "assert leases.acquire('print:preview', leases.make_holder(), dt.timedelta(minutes=5))\n"
              "print('held', flush=True)\n"
              "sys.stdin.read()\n")
    desk = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=child_env(paths.data_dir), text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert desk.stdout.readline().strip() == "held"
        before = sorted(os.listdir(paths.data_dir))
        with pytest.raises(bk.BackupError) as exc:
            bk.restore(result.path, settings=Settings(), paths=paths, actor="t")
        assert "another desk" in exc.value.message and "print:preview" in exc.value.message
        assert "\n" not in exc.value.message and sorted(os.listdir(paths.data_dir)) == before
    finally:
        desk.stdin.close()
        desk.wait(30)
    # the desk is gone (its lease is left behind, its process dead): restore goes ahead
    assert bk.live_leases(paths.database_file) == []
    assert bk.restore(result.path, settings=Settings(), paths=paths, actor="t").kept is not None
    close_database()


def test_a_damaged_or_foreign_or_newer_file_is_refused_and_nothing_changes(tmp_path):
    paths = make_home(tmp_path / "home", 5)
    result = bk.backup(settings=Settings(), paths=paths)
    before = sorted(os.listdir(paths.data_dir))
    data = paths.database_file.read_bytes()

    text = tmp_path / "notes.db"
    text.write_text("not a database\n", encoding="utf-8")
    foreign = tmp_path / "other.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    damaged = tmp_path / "damaged.db"
    raw = bytearray(result.path.read_bytes())
    page = 4096
    raw[2 * page: 4 * page] = b"\xa5" * (2 * page)  # two pages overwritten
    damaged.write_bytes(bytes(raw))
    newer = tmp_path / "newer.db"
    newer.write_bytes(result.path.read_bytes())
    with sqlite3.connect(newer) as c:
        c.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (SCHEMA_VERSION + 1, "2027-01-01"))

    for bad, words in ((text, "not a dadan database"), (foreign, "not a dadan database"),
                       (damaged, "is damaged: Page 3"), (newer, "newer than this dadan"), (tmp_path / "missing.db", "no such backup")):
        with pytest.raises(bk.BackupError) as exc:
            bk.restore(bad, settings=Settings(), paths=paths, actor="t")
        assert words in exc.value.message and "\n" not in exc.value.message, exc.value.message
        assert sorted(os.listdir(paths.data_dir)) == before and paths.database_file.read_bytes() == data
    assert bk.verify(newer).problem() and bk.verify(newer).integrity == "ok"


def test_postgresql_is_left_to_its_own_tools(tmp_path):
    settings = Settings(database_url="postgresql://dadan@db/dadan")
    paths = Paths(config_dir=tmp_path, data_dir=tmp_path)
    for call in (lambda: bk.backup(settings=settings, paths=paths),
                 lambda: bk.restore(tmp_path / "x.db", settings=settings, paths=paths, actor="t")):
        with pytest.raises(bk.BackupError) as exc:
            call()
        assert "pg_dump" in exc.value.message and "pg_restore" in exc.value.message


# ------------------------------------------------------------------ the daily job and retention
def test_the_daily_job_backs_up_prunes_and_records_the_last_backup(tmp_path):
    from dadan.core.platform.scheduler import Scheduler

    paths = make_home(tmp_path / "home", 7)
    folder = tmp_path / "kept"
    settings = Settings()
    settings.backup.folder = str(folder)
    settings.backup.daily_at = "03:15"
    folder.mkdir()
    old = folder / "dadan-20200101-023000.db"
    old.write_bytes(b"x")
    recent = folder / "dadan-20261201-023000.db"
    recent.write_bytes(b"x")
    foreign = folder / "notes-20200101.db"
    foreign.write_bytes(b"x")
    long_ago = time.time() - 30 * 86400
    for f in (old, foreign):
        os.utime(f, (long_ago, long_ago))
    os.utime(recent, (time.time() - 3 * 86400,) * 2)

    ctx = Context(paths=paths, settings=settings)
    open_database(f"sqlite:///{paths.database_file}")
    events = []
    sched = Scheduler(ctx, on_event=lambda k, p: events.append((k, p)))
    outcome = sched._run_backup()  # what the cron job runs at daily_at
    assert outcome.error == "" and outcome.result.orders == 7 and outcome.result.path.parent == folder
    assert outcome.pruned == [old] and not old.exists() and recent.exists() and foreign.exists()
    assert [k for k, _ in events] == ["backup"]
    last = bk.last_backup(paths)
    assert last["ok"] and last["path"] == str(outcome.result.path) and last["orders"] == 7
    assert (paths.data_dir / bk.LAST_FILE).stat().st_mode & 0o777 == 0o600
    assert bk.last_backup_text(settings, paths) == f"last backup {bk._local_now(settings, outcome.result.at):%Y-%m-%d %H:%M}: {outcome.result.path}"
    again = sched._run_backup()  # another desk of this folder, or a late run: today's copy exists
    assert again.result is None and "already" in again.skipped and len(list(folder.glob("dadan-*.db"))) == 2

    sched.start()
    try:
        job = sched._sched.get_job("backup")
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["hour"], fields["minute"], str(job.trigger.timezone)) == ("3", "15", "Asia/Shanghai")
    finally:
        sched.stop()

    # a failure is recorded for the desk, never raised
    (paths.data_dir / bk.LAST_FILE).unlink()
    assert bk.last_backup_text(settings, paths) == "no backup yet"
    settings.backup.folder = str(paths.database_file)  # a file, not a folder
    bad = Scheduler(ctx, on_event=lambda k, p: events.append((k, p)))._run_backup()
    assert bad.error and not bk.last_backup(paths)["ok"] and bk.last_backup(paths)["error"] == bad.error
    assert events[-1][0] == "error" and bk.last_backup_text(settings, paths).startswith("last backup failed")
    close_database()


def test_a_desk_off_at_the_daily_time_makes_the_days_copy_after_it_starts(tmp_path, monkeypatch):
    """A desk switched off for the night never runs its 02:30 job: started with no copy, or the
    last good one a day old, it makes one shortly after (BACKUP_CATCH_UP), and the status line
    says when; with a copy from today it makes none."""
    from dadan.core.db import connection
    from dadan.core.platform import scheduler as sch
    from dadan.tui.widgets.status_line import fit_status, read_status, status_parts

    paths = make_home(tmp_path / "home", 7)
    settings = Settings()
    ctx = Context(paths=paths, settings=settings)
    open_database(f"sqlite:///{paths.database_file}")
    monkeypatch.setattr(sch, "BACKUP_CATCH_UP", dt.timedelta(seconds=0.2))
    events = []

    def started_once() -> bool:
        s = sch.Scheduler(ctx, on_event=lambda k, p: events.append((k, p)))
        s.start()
        try:
            due = s._sched.get_job("backup-catch-up") is not None
            deadline = time.monotonic() + 20
            while due and not any(k == "backup" for k, _ in events) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            s.stop()
        return due

    assert started_once()  # no copy yet
    last = bk.last_backup(paths)
    assert last["ok"] and last["daily"] and Path(last["path"]).parent == bk.backup_folder(settings, paths)
    with connection():
        line = fit_status(status_parts(read_status(settings, None, paths), settings.timezone), 80)
    assert f"backup {bk._local_now(settings, dt.datetime.fromisoformat(last['at'])):%H:%M}" in line
    events.clear()
    assert not started_once() and events == []  # today's copy: none more

    yesterday = dt.datetime.fromisoformat(last["at"]) - dt.timedelta(days=1)
    first = Path(last["path"]).rename(bk.backup_folder(settings, paths) / bk.default_name(settings, yesterday))
    day_old = dict(last, at=yesterday.isoformat(), path=str(first))
    (paths.data_dir / bk.LAST_FILE).write_text(json.dumps(day_old))
    with connection():
        late = read_status(settings, None, paths, now=dt.datetime.fromisoformat(last["at"]) + dt.timedelta(hours=13))
    assert late.backup_late and "!backup " in fit_status(status_parts(late, settings.timezone), 80)
    assert started_once() and len(list(bk.backup_folder(settings, paths).glob("dadan-*.db"))) == 2
    close_database()


def test_the_status_line_warns_of_a_failed_or_missing_backup(tmp_path):
    """A failed copy stays on the line (not only a notice that goes); so does a desk in use for
    over a day and a half with no copy at all (daily copies on); with them off, nothing is said."""
    from dadan.core import audit
    from dadan.core.db import connection
    from dadan.tui.widgets.status_line import fit_status, read_status, status_parts

    paths = make_home(tmp_path / "home", 3)
    settings = Settings()
    open_database(f"sqlite:///{paths.database_file}")
    now = dt.datetime(2026, 12, 5, 4, 0)  # 12:00 in Shanghai

    def line(s=settings) -> str:
        with connection():
            return fit_status(status_parts(read_status(s, None, paths, now=now), s.timezone), 80)

    with write():
        audit.record("settings", actor="t", target="x", detail={})
    assert "backup" not in line()  # a desk in its first day
    with write():
        from dadan.core.models import AuditEvent

        AuditEvent.update(at=now - dt.timedelta(days=2)).execute()
    assert "!no backup" in line()
    assert "backup" not in line(Settings(backup=dataclasses.replace(settings.backup, daily=False)))
    bk.record_last(paths, None, "disk full", daily=True)
    failed = json.loads((paths.data_dir / bk.LAST_FILE).read_text())
    (paths.data_dir / bk.LAST_FILE).write_text(json.dumps(dict(failed, at="2026-12-04T18:30:00")))
    assert "!backup failed 02:30" in line()  # (today, Shanghai time)
    close_database()


def test_a_bad_daily_time_is_one_line(tmp_path):
    settings = Settings()
    settings.backup.daily_at = "25:00"
    with pytest.raises(bk.BackupError) as exc:
        bk.daily_time(settings)
    assert "02:30" in exc.value.message


def test_two_copies_in_the_same_second_are_both_kept(tmp_path):
    """The name has the second of the copy: a second copy in the same second (the daily job and
    a person's backup together) is ``-2``, listed and pruned as dadan's own; a file the person
    named that exists already is still refused."""
    paths = make_home(tmp_path / "home", 5)
    settings = Settings()
    at = dt.datetime(2026, 12, 5, 18, 30, 0)
    first = bk.backup(settings=settings, paths=paths, now=at).path
    second = bk.backup(settings=settings, paths=paths, now=at).path
    assert (first.name, second.name) == ("dadan-20261206-023000.db", "dadan-20261206-023000-2.db")
    assert [b.path for b in bk.list_backups(first.parent)] == [first, second]
    assert bk.prune(first.parent, 0, now=time.time() + 1) == [first, second]
    mine = bk.backup(first.parent / "mine.db", settings=settings, paths=paths).path
    with pytest.raises(bk.BackupError, match="exists already"):
        bk.backup(mine, settings=settings, paths=paths)


# ------------------------------------------------------------------ the command line
def test_backup_and_restore_commands(tmp_path, monkeypatch, capsys):
    paths = make_home(tmp_path / "home", 12)
    monkeypatch.setenv("DADAN_HOME", str(paths.data_dir))
    monkeypatch.setenv("DADAN_LANG", "en")
    cmd = ("backup",)
    rc, out, err = run_cli(["backup"], monkeypatch, capsys, modules=cmd)
    assert rc == 0 and "12 orders" in out, err
    (made,) = (paths.data_dir / "backups").iterdir()
    target = tmp_path / "copy.db"
    rc, out, err = run_cli(["backup", str(target)], monkeypatch, capsys, modules=cmd)
    assert rc == 0 and target.exists()
    rc, out, err = run_cli(["backup", "--list"], monkeypatch, capsys, modules=cmd)
    assert rc == 0 and made.name in out and "12 orders" in out and " MB" in out
    assert out.splitlines()[-1].startswith("last backup ") and str(target) in out.splitlines()[-1]
    rc, out, err = run_cli(["backup", str(target)], monkeypatch, capsys, modules=cmd)
    assert rc == 1 and "exists already" in err
    monkeypatch.chdir(tmp_path)  # a name relative to where it was typed: the record names it whole
    rc, out, err = run_cli(["backup", "rel.db"], monkeypatch, capsys, modules=cmd)
    assert rc == 0 and bk.last_backup(paths)["path"] == str(tmp_path / "rel.db")
    rc, out, err = run_cli(["backup", "new-folder/"], monkeypatch, capsys, modules=cmd)  # a folder, not a file named so
    (inside,) = (tmp_path / "new-folder").iterdir()
    assert rc == 0 and inside.name.startswith("dadan-") and bk.last_backup(paths)["path"] == str(inside)
    rc, out, err = run_cli(["backup", "--verify", str(target)], monkeypatch, capsys, modules=cmd)
    assert rc == 0 and "integrity ok" in out and f"schema {SCHEMA_VERSION}" in out and "order 12" in out
    junk = tmp_path / "junk.db"
    junk.write_text("hello", encoding="utf-8")
    rc, out, err = run_cli(["backup", "--verify", str(junk)], monkeypatch, capsys, modules=cmd)
    assert rc == 1 and "not a dadan database" in err and len(err.strip().splitlines()) == 1
    rc, out, err = run_cli(["restore", str(target)], monkeypatch, capsys, modules=cmd)  # not a terminal
    assert rc == 1 and "--yes" in err and not list(paths.data_dir.glob("dadan.db.replaced-*"))
    rc, out, err = run_cli(["restore", str(target), "--yes"], monkeypatch, capsys, modules=cmd)
    (kept,) = paths.data_dir.glob("dadan.db.replaced-*")
    assert rc == 0 and str(kept) in out, err


def test_the_commands_in_a_child_process(tmp_path):
    paths = make_home(tmp_path / "home", 3)
    env = {**child_env(paths.data_dir), "DADAN_LANG": "en"}
    p = subprocess.run([sys.executable, "-m", "dadan.tui", "backup"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0 and "3 orders" in p.stdout and "Traceback" not in p.stderr, p.stderr
    p = subprocess.run([sys.executable, "-m", "dadan.tui", "restore", str(tmp_path / "none.db"), "--yes"], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "no such backup file" in p.stderr


def test_a_backup_removes_the_copies_killed_backups_left(tmp_path):
    """A backup killed while it copies leaves ``.NAME.PID.partial`` (as large as the database)
    and its journal; the next backup into the folder removes those whose process is gone, and
    leaves a running one's alone."""
    paths = make_home(tmp_path / "home", 5)
    folder = paths.data_dir / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [folder / f".dadan-20261201-020000.db.{dead}.partial", folder / f".dadan-20261201-020000.db.{dead}.partial-journal"]
        live = folder / f".dadan-20261206-020000.db.{running.pid}.partial"
        for p in (*stale, live):
            p.write_bytes(b"x" * 1000)
        result = bk.backup(settings=Settings(), paths=paths)
        assert not any(p.exists() for p in stale) and live.exists()
        assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, result.path.name])
    finally:
        running.kill()
        running.wait()
