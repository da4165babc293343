"""The audit log you can read (issue #19, point 2): the query language, pages newest first,
the count, exports read back, ``dadan audit`` — on a real SQLite file, with events written by
real core actions (hold/release by two operators, a reprint) and compared with plain SQL."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from dadan.core import audit_query as A
from dadan.core.db import write
from dadan.core.errors import QuerySyntaxError
from dadan.core.models import AuditEvent, Order, SchemaVersion, database_proxy
from tests.desk_helpers import NOW, make_ctx, run_cli

TZ = "Asia/Shanghai"


def _events(ctx):
    """Holds by amy, releases by bo and amy, a reprint by bo; each event's time set apart by
    one hour back from NOW (newest = highest id) so that time terms have something to cut."""
    from dadan.core.orders import actions
    from dadan.core.printing import queue as printing

    free = [o.id for o in Order.select().where(Order.exception_flags == 0, Order.order_status == 1)
            .order_by(Order.id).limit(6)]
    actions.hold(free[:4], reason="check the address", actor="amy")
    actions.release(free[:2], reason="buyer called back", actor="bo")
    actions.release(free[2:3], reason="address ok", actor="amy")
    printed = Order.select().where(Order.state == "printed", Order.exception_flags == 0).order_by(Order.id).first()
    printing.create_reprint_job([printed.id], reason="label jammed", printer="preview", template="waybill_100x150",
                                actor="bo")
    ids = [e.id for e in AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id)]
    with write():
        for age, i in enumerate(reversed(ids)):
            AuditEvent.update(at=NOW - dt.timedelta(hours=age)).where(AuditEvent.id == i).execute()
    return free, printed


def _sql(where: str = "1", params=()) -> list[int]:
    """The ids a plain SELECT finds, newest first."""
    sql = (f'SELECT e.id FROM audit_event e LEFT JOIN "order" o ON o.id = e.order_id WHERE {where} '
           "ORDER BY e.at DESC, e.id DESC")
    return [r[0] for r in database_proxy.execute_sql(sql, params).fetchall()]


def _ids(q: str, **kw) -> list[int]:
    return [r.id for r in A.iter_events(q, tz=TZ, now=NOW, chunk=3, **kw)]


@pytest.fixture
def log(tmp_path):
    ctx = make_ctx(tmp_path, 40)
    free, printed = _events(ctx)
    return ctx, free, printed


# ------------------------------------------------------------------ parsing
def test_each_term_parses():
    q = A.parse('actor:amy 操作员:bo action:release order:261120-1 since:2026-11-01 until:"2026-11-20 14:30" jammed',
                tz=TZ, now=NOW)
    assert q.actors == ("amy", "bo") and q.actions == ("release",) and q.orders == ("261120-1",)
    assert q.since == dt.datetime(2026, 10, 31, 16, 0)  # local midnight in UTC
    assert q.until == dt.datetime(2026, 11, 20, 6, 31)  # up to the end of 14:30 local
    assert q.texts == ("jammed",)
    assert A.parse("since:7d", now=NOW).since == NOW - dt.timedelta(days=7)
    assert A.parse("since:2h", now=NOW).since == NOW - dt.timedelta(hours=2)
    assert A.parse("since:today", tz=TZ, now=NOW).since == dt.datetime(2026, 11, 19, 16, 0)
    assert A.parse("until:today", tz=TZ, now=NOW).until == dt.datetime(2026, 11, 20, 16, 0)
    assert A.parse("until:2026-11-19", tz=TZ, now=NOW).until == dt.datetime(2026, 11, 19, 16, 0)
    assert A.parse("since:yesterday", tz=TZ, now=NOW).since == dt.datetime(2026, 11, 18, 16, 0)
    assert A.parse('"a:b" x', now=NOW).texts == ("a:b", "x")
    assert A.parse("", now=NOW).where() is None


@pytest.mark.parametrize("text, position, token", [
    ("actor:amy actr:bo", 10, "actr"),
    ("since:soon", 6, "soon"),
    ("action:release until:", 15, "until:"),
    ('until:"2026-13-40"', 7, "2026-13-40"),
    ('jammed "open', 7, '"open'),
])
def test_errors_point_at_the_bad_term(text, position, token):
    with pytest.raises(QuerySyntaxError) as exc:
        A.parse(text, tz=TZ, now=NOW)
    assert exc.value.position == position and exc.value.token == token
    assert "\n" not in exc.value.message


# ------------------------------------------------------------------ results equal plain SQL
def test_results_equal_plain_sql(log):
    ctx, free, printed = log
    assert _ids("") == _sql()
    assert _ids("actor:amy") == _sql("e.actor = 'amy'")
    assert _ids("actor:amy actor:bo") == _sql("e.actor IN ('amy', 'bo')")
    assert _ids("action:release") == _sql("e.action = 'release'")
    assert _ids("actor:amy action:release") == _sql("e.actor = 'amy' AND e.action = 'release'")
    assert len(_ids("actor:amy action:release")) == 1
    assert len(_ids("actor:bo action:release")) == 2
    sn = Order.get_by_id(free[0]).order_sn
    assert _ids(f"order:{sn}") == _sql("o.order_sn = ?", (sn,)) and len(_ids(f"order:{sn}")) == 2
    assert _ids(f"order:{printed.order_sn} action:reprint") == _sql("o.order_sn = ? AND e.action = 'reprint'",
                                                                    (printed.order_sn,)) != []
    assert _ids("JAMMED") == _sql("e.reason LIKE '%jammed%' OR e.detail LIKE '%jammed%'") != []
    assert _ids("buyer called") == _sql("e.reason LIKE '%buyer%' AND e.reason LIKE '%called%'")
    since = NOW - dt.timedelta(hours=3, minutes=30)
    assert _ids("since:210m") == _sql("e.at >= ?", (since,)) and len(_ids("since:210m")) == 4
    # hours back from 12:00 local: until 2026-11-20 09:00 (local) takes the events at or before 09:00
    until = dt.datetime(2026, 11, 20, 1, 1)
    assert _ids('until:"2026-11-20 09:00"') == _sql("e.at < ?", (until,))
    assert _ids('actor:bo since:2026-11-20 until:2026-11-20') == _sql(
        "e.actor = 'bo' AND e.at >= ? AND e.at < ?", (dt.datetime(2026, 11, 19, 16), dt.datetime(2026, 11, 20, 16)))
    assert A.count("actor:amy", tz=TZ, now=NOW) == len(_sql("e.actor = 'amy'"))
    assert set(A.distinct_actions()) == {r[0] for r in database_proxy.execute_sql(
        "SELECT DISTINCT action FROM audit_event").fetchall()} >= {"hold", "release", "reprint"}
    assert A.distinct_actors() == sorted({"amy", "bo"} | {r[0] for r in database_proxy.execute_sql(
        "SELECT DISTINCT actor FROM audit_event").fetchall()})


def test_keyset_pages_show_every_row_once_newest_first(log):
    ctx, *_ = log
    # events with the same time: the id decides the order
    with write():
        AuditEvent.update(at=NOW - dt.timedelta(hours=1)).where(AuditEvent.id % 2 == 0).execute()
    every = _sql()
    seen, after, first = [], None, 1
    while True:
        page = A.page("", after=after, limit=3, tz=TZ, now=NOW)
        if not page.rows:
            break
        assert page.first == first and page.total == len(every)
        seen += [r.id for r in page.rows]
        first += len(page.rows)
        after = page.rows[-1].key
        # the page before this one, read backwards, is the one just shown before
        if page.first > 1:
            back = A.page("", before=page.rows[0].key, limit=3, tz=TZ, now=NOW)
            assert [r.id for r in back.rows] == seen[-len(page.rows) - 3:-len(page.rows)]
    assert seen == every
    assert A.page("", limit=3).range_text() == f"1–3 of {len(every)}"
    # a new event while paging does not shift the next pages
    p1 = A.page("", limit=3, tz=TZ, now=NOW)
    from dadan.core import audit

    with write():
        audit.record("note", actor="amy", detail={"note": "late"})
    p2 = A.page("", after=p1.rows[-1].key, limit=3, tz=TZ, now=NOW)
    assert [r.id for r in p2.rows] == every[3:6]


def test_the_indexes_serve_an_operator_and_an_action_newest_first(log):
    for col, name in (("actor", "audit_event_actor_at"), ("action", "audit_event_action_at")):
        plan = " ".join(r[3] for r in database_proxy.execute_sql(
            f"EXPLAIN QUERY PLAN SELECT id FROM audit_event WHERE {col} = 'x' ORDER BY at DESC, id DESC LIMIT 50"))
        assert name in plan and "TEMP B-TREE" not in plan, plan


def test_migration_step_19_adds_the_indexes_to_an_older_database(tmp_path):
    from dadan.core import db as dbmod

    make_ctx(tmp_path, 0)
    database_proxy.execute_sql('DROP INDEX "audit_event_actor_at"')
    database_proxy.execute_sql('DROP INDEX "audit_event_action_at"')
    SchemaVersion.delete().where(SchemaVersion.version >= 17).execute()
    assert dbmod.migrate(database_proxy.obj) == dbmod.SCHEMA_VERSION
    names = {i.name for i in database_proxy.get_indexes("audit_event")}
    assert {"audit_event_actor_at", "audit_event_action_at"} <= names


# ------------------------------------------------------------------ export
def test_export_csv_and_xlsx_read_back(log, tmp_path):
    from openpyxl import load_workbook

    ctx, free, printed = log
    q = "actor:bo"
    want = [r for r in A.iter_events(q, tz=TZ, now=NOW)]
    out = tmp_path / "audit.csv"
    assert A.export_events(q, "csv", out, tz=TZ, now=NOW) == len(want)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["Time", "Operator", "Action", "Order", "Target", "Reason", "Detail"]
    assert [r[1] for r in rows[1:]] == ["bo"] * len(want)
    assert [r[3] for r in rows[1:]] == [r.order_sn for r in want]
    reprint = next(r for r in rows[1:] if r[2] == "reprint")
    assert reprint[0] == "2026-11-20 12:00:00" and reprint[5] == "label jammed" and "printer=preview" in reprint[6]
    assert out.stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".*.part"))
    xo = tmp_path / "audit.xlsx"
    assert A.export_events(q, "xlsx", xo, tz=TZ, now=NOW) == len(want)
    ws = load_workbook(xo, read_only=True).active
    got = [list(r) for r in ws.iter_rows(values_only=True)]
    assert got[0] == rows[0] and [r[2] for r in got[1:]] == [r[2] for r in rows[1:]]
    assert [r[3] or "" for r in got[1:]] == [r[3] for r in rows[1:]]
    assert xo.stat().st_mode & 0o077 == 0


# ------------------------------------------------------------------ dadan audit
def test_cli_audit(log, tmp_path, monkeypatch, capsys):
    ctx, free, printed = log
    monkeypatch.setenv("DADAN_HOME", str(tmp_path / "home"))
    rc, out, err = run_cli(["audit", "--query", "actor:amy action:release"], monkeypatch, capsys, modules=("audit",))
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 1 and "  amy  release  " in lines[0] and "address ok" in lines[0]
    assert err.strip() == "1–1 of 1"
    rc, out, err = run_cli(["audit", "--limit", "2"], monkeypatch, capsys, modules=("audit",))
    assert rc == 0 and len(out.splitlines()) == 2 and err.strip() == f"1–2 of {len(_sql())}"
    rc, out, err = run_cli(["audit", "-q", "action:reprint", "--format", "jsonl"], monkeypatch, capsys,
                           modules=("audit",))
    rec = json.loads(out.splitlines()[0])
    assert rc == 0 and rec["order_sn"] == printed.order_sn and rec["detail"]["printer"] == "preview"
    assert rec["time"] == "2026-11-20 12:00:00" and rec["at"] == "2026-11-20T04:00:00Z"
    f = tmp_path / "bo.xlsx"
    rc, out, err = run_cli(["audit", "-q", "actor:bo", "--out", str(f)], monkeypatch, capsys, modules=("audit",))
    assert rc == 0 and f.exists() and "3 events written" in err
    rc, out, err = run_cli(["audit", "-q", "actor:amy actr:bo"], monkeypatch, capsys, modules=("audit",))
    assert rc == 1 and err.startswith("dadan: Filter error: unknown audit filter 'actr'") and len(err.splitlines()) == 1
    assert "at character 11" in err
    rc, out, err = run_cli(["audit", "--actions"], monkeypatch, capsys, modules=("audit",))
    assert rc == 0 and "release" in out and "amy" in out
    rc, out, err = run_cli(["audit", "--format", "xlsx"], monkeypatch, capsys, modules=("audit",))
    assert rc == 1 and "xlsx" in err and len(err.splitlines()) == 1


def test_an_events_detail_reads_as_words_on_screen_and_as_json_in_files():
    """The screens show ``flags=refund, aftersale; superseded=—`` (they showed Python's
    ``['refund', 'aftersale']`` and ``None``); the files keep JSON values."""
    import json

    from dadan.core.audit_query import AuditRow, detail_words

    detail = json.dumps({"flags": ["refund", "aftersale"], "superseded": None, "n": 3, "order_sn": "261120-A",
                         "courier": "中通快递"}, ensure_ascii=False)
    assert detail_words(detail, skip=("order_sn",)) == "flags=refund, aftersale; superseded=—; n=3; courier=中通快递"
    assert detail_words("") == "" and detail_words("not json") == "not json"
    row = AuditRow(1, dt.datetime(2026, 12, 6), "amy", "release", None, "", "", "", detail)
    assert row.detail_words(skip=("order_sn",)) == detail_words(detail, skip=("order_sn",))
    assert 'flags=["refund", "aftersale"]' in row.detail_text()  # (a file's cell: JSON)
