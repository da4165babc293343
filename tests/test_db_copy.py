"""``dadan db copy`` (core.db_copy): a desk's SQLite database with its history -- demo orders,
print jobs and labels sent, the ship-confirmation outbox, audit events, goods and stock
movements -- copied into an empty PostgreSQL database on the test server. Every table is
compared here row by row, read with the drivers themselves (not with the copy's checksum), and
the copy must go on working: new rows take new ids, the order screen shows the same page."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from dadan.core import changes, db_copy
from dadan.core.db import close_database, open_database, write
from dadan.core.models import AuditEvent, Order, OrderItem, PrintItem, PrintJob, Shipment
from tests.fakes.queue_setup import SMALL_TEMPLATE
from tests.pg_cluster import empty_url, fresh_url

ROOT = Path(__file__).resolve().parents[1]
ODD_TEXT = "tab\there, line\nbreak, back\\slash, 引号\"'，％ and 100%"
SQLITE_ONLY = ("sqlite_stat1",)


def _history(n_jobs: int = 3, per_job: int = 20) -> None:
    """Print jobs with labels sent, one left queued; shipments in the outbox; stock movements;
    audit events; odd text (tab, newline, backslash) that COPY must escape."""
    from dadan.core import audit
    from dadan.core.goods import ledger
    from dadan.core.goods.models import Goods
    from dadan.core.printing import queue

    ids = [o.id for o in Order.select(Order.id).where(Order.state == "new").order_by(Order.id).limit(n_jobs * per_job)]
    with write():  # the label template prints the tracking number
        for oid in ids:
            Order.update(tracking_number=f"YT{oid:010d}").where(Order.id == oid).execute()
    for j in range(n_jobs):
        job = queue.create_job(ids[j * per_job:(j + 1) * per_job], printer="preview", template=SMALL_TEMPLATE,
                               actor="amy", skip_excluded=True)
        if j == n_jobs - 1:
            continue  # left queued
        queue.start_job(job.id)
        while (claim := queue.claim_next(job.id)) is not None:
            queue.mark_sent(claim.item.id)
        queue.finish_job(job.id)
    now = dt.datetime(2026, 11, 20, 4, 0, 0, 123456)
    with write():
        for i, oid in enumerate(ids[:25]):
            Shipment.create(order=oid, tracking_number=f"YT{i:010d}", logistics_id=85,
                            state=("pending", "confirmed", "failed")[i % 3], attempts=i % 3,
                            confirmed_at=now if i % 3 == 1 else None, last_error=ODD_TEXT if i % 3 == 2 else "")
        Order.update(remark=ODD_TEXT).where(Order.id.in_(ids[:5])).execute()
        audit.record("test.note", actor="amy", order_id=ids[0], reason=ODD_TEXT, detail={"x": 1})
    for g in Goods.select().limit(5):
        ledger.move(g.id, 7, "receive", actor="amy", reason="到货")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    from dadan.core.demo import write_demo

    path = tmp_path_factory.mktemp("src") / "dadan.db"
    old = os.environ.get("DADAN_HOME")
    os.environ["DADAN_HOME"] = str(path.parent)
    try:
        open_database(f"sqlite:///{path}")
        write_demo(3000, seed=3, now=dt.datetime(2026, 11, 20, 4, 0, 0))
        _history()
        close_database()
    finally:
        if old is None:
            os.environ.pop("DADAN_HOME", None)
        else:
            os.environ["DADAN_HOME"] = old
    return path


def _copy_of(source: Path, tmp_path: Path) -> Path:
    """A copy of the module's source (a copy writes an audit event into its source)."""
    dest = tmp_path / "src.db"
    conn = sqlite3.connect(source)
    conn.backup(target := sqlite3.connect(dest))
    conn.close()
    target.close()
    return dest


# ------------------------------------------------------------------ independent comparison
def _pg_types(conn) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for table, col, typ in conn.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                                        "WHERE table_schema = 'public'"):
        out.setdefault(table, {})[col] = typ
    return out


def _norm(value, typ: str):
    """A value as plain Python, whichever side it came from."""
    if value is None:
        return None
    if typ == "boolean":
        return bool(value)
    if typ.startswith("timestamp"):
        return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return value


def _rows(sqlite_path: Path, pg_url: str, table: str, types: dict[str, str], where: str = "") -> tuple[list, list]:
    cols = sorted(types)
    sel = ", ".join(f'"{c}"' for c in cols)
    lite = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        a = [tuple(_norm(v, types[c]) for v, c in zip(r, cols))
             for r in lite.execute(f'SELECT {sel} FROM "{table}" {where}')]
    finally:
        lite.close()
    with psycopg.connect(pg_url) as conn:
        b = [tuple(_norm(v, types[c]) for v, c in zip(r, cols)) for r in conn.execute(f'SELECT {sel} FROM "{table}" {where}')]
    key = lambda r: repr(r)  # noqa: E731
    return sorted(a, key=key), sorted(b, key=key)


def _counts(url: str) -> dict[str, int]:
    """Rows per table of dadan's data (not PostgreSQL's own change counter: core.changes)."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                  if r[0] != changes.TABLE]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_the_copy_equals_the_source_table_by_table_and_keeps_working(source, tmp_path):
    src = _copy_of(source, tmp_path)
    url = empty_url()
    seen: list[str] = []
    report = db_copy.copy_database(url, source_url=f"sqlite:///{src}", actor="amy",
                                   progress=lambda t: seen.append(t.name))
    assert report.ok and report.rows > 20_000
    assert "order_fts" in report.skipped and "order_sku" not in report.skipped
    with psycopg.connect(url) as conn:
        types = _pg_types(conn)
    types.pop(changes.TABLE)  # PostgreSQL's own bookkeeping: the desks' change counter (core.changes)
    lite = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    sqlite_tables = {r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    lite.close()
    assert set(types) <= sqlite_tables  # every PostgreSQL table has its source
    assert set(seen) == set(types)
    history = {"print_job": 3, "print_item": 40, "shipment": 25, "order": 3000, "stock_movement": 25}
    for table in sorted(types):
        where = "WHERE action <> 'db.copy'" if table == "audit_event" else ""  # each side notes the copy
        a, b = _rows(src, url, table, types[table], where)
        assert a == b, table
        assert len(a) >= history.get(table, 0), table
    assert {r.name: r.target_rows for r in report.tables}["order_sku"] > 3000
    # the copy goes on: every serial continues after its table's largest id; the triggers are back
    db = open_database(url)
    try:
        top = Order.select(Order.id).order_by(Order.id.desc()).first().id
        with write():
            o = Order.create(shop=1, order_sn="NEW-1", source="demo", sku_text="|zz9|")
            OrderItem.create(order=o.id, goods_name="新品", quantity=1)
            job = PrintJob.create(printer="p", template="t", total=1)
            PrintItem.create(job=job.id, seq=1, order=o.id)
            Shipment.create(order=o.id, tracking_number="YT1", logistics_id=85)
        assert o.id == top + 1
        from dadan.core.goods.models import Goods, StockMovement

        g = Goods.select().order_by(Goods.id).first()
        with write():
            StockMovement.create(goods=g.id, qty=3, kind="receive")
        assert Goods.get_by_id(g.id).on_hand == g.on_hand + 3  # the ledger's trigger is on again
        assert db.execute_sql('SELECT count(*) FROM "order_sku" WHERE order_id = ?', (o.id,)).fetchone()[0] == 1
        copied = AuditEvent.get(AuditEvent.action == "db.copy")
        assert copied.actor == "amy" and str(src) in copied.detail
    finally:
        close_database()


def test_the_order_screen_shows_the_same_first_page(source, tmp_path):
    from dadan.core.orders import listing

    src = _copy_of(source, tmp_path)
    url = empty_url()
    db_copy.copy_database(url, source_url=f"sqlite:///{src}", actor="amy")
    pages = []
    for u in (f"sqlite:///{src}", url):
        open_database(u)
        try:
            pages.append((listing.fetch_page(None).rows, listing.fetch_page(None, "order_sn").rows,
                          listing.count(None)))
        finally:
            close_database()
    assert pages[0] == pages[1] and len(pages[0][0]) == 50 and pages[0][2] == 3000


WRITER = """
import sys, time
from dadan.core.db import open_database, write
from dadan.core.models import Order
open_database("sqlite:///" + sys.argv[1])
i = 0
while True:
    with write():
        Order.insert_many([dict(shop=1, order_sn=f"LIVE-{i}-{k}", source="demo", sku_text=f"|live{i}|")
                           for k in range(20)]).execute()
    if i == 0:
        print("ready", flush=True)  # one batch in before the copy starts
    i += 1
    time.sleep(0.002)
"""


def test_a_copy_while_a_desk_writes_is_one_snapshot(source, tmp_path):
    """Another process keeps adding orders to the source all along: the copy holds the source
    as it was at one moment (the verification reads that same snapshot again)."""
    src = _copy_of(source, tmp_path)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(src)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert writer.stdout.readline().strip() == "ready"
        url = empty_url()
        report = db_copy.copy_database(url, source_url=f"sqlite:///{src}", actor="amy")
        close_database()
    finally:
        writer.kill()
        writer.wait()
    lite = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    after = lite.execute('SELECT count(*) FROM "order"').fetchone()[0]
    lite.close()
    copied = _counts(url)["order"]
    assert report.ok and 3000 < copied < after, (copied, after)
    with psycopg.connect(url) as conn:  # whole batches only: each writer's transaction is in or out
        assert conn.execute("SELECT count(*) FROM \"order\" WHERE order_sn LIKE 'LIVE-%'").fetchone()[0] % 20 == 0


def test_a_database_with_rows_is_refused_and_left_as_it_was(source, tmp_path):
    from dadan.core.models import Shop

    src = _copy_of(source, tmp_path)
    url = fresh_url()
    open_database(url)
    with write():
        Shop.create(name="已有")
    close_database()
    before = _counts(url)
    with pytest.raises(db_copy.CopyError, match="already holds dadan data"):
        db_copy.copy_database(url, source_url=f"sqlite:///{src}", actor="amy")
    close_database()
    assert _counts(url) == before


def test_an_operator_without_the_settings_permission_is_refused(source, tmp_path):
    from dadan.core import operators as ops

    src = _copy_of(source, tmp_path)
    url = empty_url()
    open_database(f"sqlite:///{src}")
    ops.create_first_admin("boss", "9999")
    ops.add_operator("amy", "1234", "operator", actor="boss")
    close_database()
    with pytest.raises(ops.PermissionDenied):
        db_copy.copy_database(url, source_url=f"sqlite:///{src}", actor="amy")
    assert AuditEvent.select().where(AuditEvent.action == "denied", AuditEvent.actor == "amy").exists()  # in the source
    close_database()
    assert _counts(url) == {}  # not even the schema: refused before the target was opened
    report = db_copy.copy_database(url, source_url=f"sqlite:///{src}", actor="boss")
    close_database()
    assert report.ok and _counts(url)["operator"] == 2


def test_a_target_that_cannot_be_opened_is_one_clear_error(source, tmp_path):
    from dadan.core.errors import DatabaseError
    from tests.pg_cluster import cluster

    src = _copy_of(source, tmp_path)
    with pytest.raises(DatabaseError, match="does not exist"):
        db_copy.copy_database(cluster().url("no_such_db"), source_url=f"sqlite:///{src}", actor="amy")
    assert Order.select().count() == 3000  # the models are the source's again
    close_database()
    with pytest.raises(db_copy.CopyError, match="PostgreSQL"):
        db_copy.copy_database(f"sqlite:///{tmp_path / 'other.db'}", source_url=f"sqlite:///{src}", actor="amy")
    assert not (tmp_path / "other.db").exists()


def test_a_failure_part_way_leaves_the_target_empty(source, tmp_path):
    """PostgreSQL text cannot hold NUL, SQLite's can: the copy fails at that table, after the
    tables before it were written, and nothing stays."""
    src = _copy_of(source, tmp_path)
    conn = sqlite3.connect(src)
    conn.execute("UPDATE shipment SET last_error = ? WHERE id = 1", ("bad\x00byte",))
    conn.commit()
    conn.close()
    url = empty_url()
    with pytest.raises(db_copy.CopyError, match="shipment"):
        db_copy.copy_database(url, source_url=f"sqlite:///{src}", actor="amy")
    close_database()
    counts = _counts(url)
    assert counts["schema_version"] == 1 and sum(counts.values()) == 1  # the schema, no rows


def test_the_command_in_a_child_process(source, tmp_path):
    src = _copy_of(source, tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "DADAN_HOME": str(home), "PYTHONPATH": str(ROOT), "DADAN_LANG": "en", "LC_ALL": ""}
    url = empty_url()
    cmd = [sys.executable, "-m", "dadan.tui", "db", "copy", "--to", url, "--from", str(src)]
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "  order " in p.stdout and "rows/s" in p.stdout and "DIFFERS" not in p.stdout
    assert p.stdout.count(" OK") == len(_counts(url)) and "database_url" in p.stdout and url in p.stdout
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "already holds dadan data" in p.stderr, p.stderr
    p = subprocess.run([*cmd[:-1], str(tmp_path / "none.db")], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 1 and "no database file" in p.stderr and not (tmp_path / "none.db").exists()
