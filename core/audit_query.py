"""Reading the audit log: a small query language over :class:`~dadan.core.models.AuditEvent`,
pages newest first, a count, the distinct actions and operators, and exports (CSV, xlsx, JSON
Lines).

The language (the same in ``dadan audit --query`` and the audit screen, ctrl+l)::

    actor:amy actor:bo        the operator (exact name; several: either)  操作员: 操作人:
    action:release            what was done (exact; several: either)      操作: 动作:
    order:261120-1234         the events of that order (its order number) 订单: 订单号:
    since:2026-11-20          from that day's start (warehouse time)      从:
    since:7d since:2h         7 days / 2 hours ago; also today, yesterday
    until:2026-11-20          up to that day's end; until:"2026-11-20 14:30" up to that minute  到:
    jammed                    free text in the reason, target or detail (every word must be there)

Terms of different kinds all apply (AND). Values with spaces are quoted: ``actor:"Amy Li"``.
A term that does not parse raises :class:`~dadan.core.errors.QuerySyntaxError` (one line, with
the 0-based character ``position`` of the bad token), as the order filter language does; its
tokenizer is reused (:mod:`dadan.core.orders.filter_syntax`).

Pages are keyset pages on (at, id), newest first: a page never shows a row twice or misses one
while events are added, and the 100,000th page costs what the first does. The indexes (actor,
at) and (action, at) (migration step 20) serve an operator's or an action's events in order.
Times are stored as naive UTC and shown in the warehouse's zone (``settings.timezone``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from peewee import JOIN, Tuple, fn

from dadan.core.errors import QuerySyntaxError
from dadan.core.i18n import tr
from dadan.core.orders.filter_syntax import split_terms, unquote
from dadan.core.timeutil import DEFAULT_TZ, to_local, to_utc, utcnow

__all__ = ["AuditQuery", "AuditRow", "FIELDS", "Page", "count", "distinct_actions", "distinct_actors",
           "export_events", "iter_events", "page", "parse"]

# canonical name -> aliases
ALIASES = {
    "actor": ["operator", "by", "操作员", "操作人"],
    "action": ["操作", "动作"],
    "order": ["sn", "订单", "订单号"],
    "since": ["from", "after", "从", "起"],
    "until": ["to", "before", "到", "止"],
}
FIELDS: dict[str, str] = {a: canon for canon, aliases in ALIASES.items() for a in (canon, *aliases)}

_TERM_RE = re.compile(r"^([^\s:\"]+):(.*)$", re.S)
_AGO_RE = re.compile(r"^(\d{1,6})\s*(m|min|h|d|w|分钟|小时|天|周)$")
_AGO_UNIT = {"m": 60, "min": 60, "分钟": 60, "h": 3600, "小时": 3600, "d": 86400, "天": 86400, "w": 604800,
             "周": 604800}
_DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
_MINUTE_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M")
_SECOND_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S")


@dataclass(frozen=True)
class AuditQuery:
    """A parsed query: what each term asks for, times as naive UTC (``since`` inclusive,
    ``until`` exclusive)."""

    source: str = ""
    actors: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    texts: tuple[str, ...] = ()

    def where(self):
        """The Peewee condition on AuditEvent (None: every event)."""
        from dadan.core.models import AuditEvent, Order

        conds = []
        if self.actors:
            conds.append(AuditEvent.actor.in_(list(self.actors)) if len(self.actors) > 1
                         else AuditEvent.actor == self.actors[0])
        if self.actions:
            conds.append(AuditEvent.action.in_(list(self.actions)) if len(self.actions) > 1
                         else AuditEvent.action == self.actions[0])
        if self.orders:
            conds.append(AuditEvent.order.in_(Order.select(Order.id).where(Order.order_sn.in_(list(self.orders)))))
        if self.since is not None:
            conds.append(AuditEvent.at >= self.since)
        if self.until is not None:
            conds.append(AuditEvent.at < self.until)
        for text in self.texts:
            needle = _ascii_lower(text)
            conds.append((fn.instr(fn.lower(AuditEvent.reason), needle) > 0)
                         | (fn.instr(fn.lower(AuditEvent.target), needle) > 0)
                         | (fn.instr(fn.lower(AuditEvent.detail), needle) > 0))
        if not conds:
            return None
        out = conds[0]
        for c in conds[1:]:
            out = out & c
        return out


def _ascii_lower(text: str) -> str:
    """Lower case as SQLite's ``lower()`` does it: ASCII letters only."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def parse(text: str, *, tz: str = DEFAULT_TZ, now: dt.datetime | None = None) -> AuditQuery:
    """``text`` -> :class:`AuditQuery`; ``now`` (naive UTC) for relative times."""
    now = now or utcnow()
    tz = tz or DEFAULT_TZ
    actors: list[str] = []
    actions: list[str] = []
    orders: list[str] = []
    texts: list[str] = []
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    for pos, raw in split_terms(text):
        m = _TERM_RE.match(raw)
        if not m:
            texts.append(unquote(raw))
            continue
        name, value = m.groups()
        canon = FIELDS.get(name.lower(), FIELDS.get(name))
        if canon is None:
            close = _suggest(name)
            hint = tr(" (did you mean '{s}'?)", "（是不是“{s}”？）", s=close) if close else ""
            raise QuerySyntaxError(
                tr("unknown audit filter '{f}' (use actor: action: order: since: until:)",
                   "未知的审计筛选项“{f}”（可用 actor: action: order: since: until:）", f=name) + hint,
                position=pos, token=name, source=text)
        vpos = pos + len(name) + 1
        if value.startswith('"'):
            vpos += 1
        value = unquote(value).strip()
        if not value:
            raise QuerySyntaxError(tr("'{f}' needs a value", "“{f}”缺少值", f=name), position=pos, token=raw,
                                   source=text)
        if canon == "actor":
            actors.append(value)
        elif canon == "action":
            actions.append(value)
        elif canon == "order":
            orders.append(value)
        else:
            t = _time(value, canon == "until", tz, now)
            if t is None:
                raise QuerySyntaxError(
                    tr("'{v}' is not a time: use 2026-11-20, \"2026-11-20 14:30\", today, yesterday, 7d, 2h or 30m",
                       "“{v}”不是时间：可用 2026-11-20、\"2026-11-20 14:30\"、today、yesterday、7d、2h 或 30m", v=value),
                    position=vpos, token=value, source=text)
            if canon == "since":
                since = t if since is None else max(since, t)
            else:
                until = t if until is None else min(until, t)
    return AuditQuery(text, tuple(actors), tuple(actions), tuple(orders), since, until, tuple(texts))


def _time(value: str, end: bool, tz: str, now: dt.datetime) -> dt.datetime | None:
    """A ``since:``/``until:`` value -> naive UTC. A day ``until`` means up to that day's end
    (the next day's start, exclusive); a minute, up to that minute's end."""
    v = value.strip().lower()
    m = _AGO_RE.match(v)
    if m:
        return now - dt.timedelta(seconds=int(m.group(1)) * _AGO_UNIT[m.group(2)])
    today = to_local(now, tz).date()
    day = None
    if v in ("today", "今天"):
        day = today
    elif v in ("yesterday", "昨天"):
        day = today - dt.timedelta(days=1)
    else:
        for fmt in _DAY_FORMATS:
            try:
                day = dt.datetime.strptime(value, fmt).date()
                break
            except ValueError:
                continue
    if day is not None:
        return to_utc(dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time()), tz)
    for formats, step in ((_MINUTE_FORMATS, dt.timedelta(minutes=1)), (_SECOND_FORMATS, dt.timedelta(seconds=1))):
        for fmt in formats:
            try:
                local = dt.datetime.strptime(value, fmt)
            except ValueError:
                continue
            return to_utc(local + (step if end else dt.timedelta()), tz)
    return None


def _suggest(name: str) -> str | None:
    import difflib

    m = difflib.get_close_matches(name.lower(), list(FIELDS), n=1, cutoff=0.6)
    return m[0] if m else None


# ------------------------------------------------------------------ reading
def _word(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, list):
        return ", ".join(map(_word, v)) or "—"
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def detail_words(detail: str | None, skip: tuple[str, ...] = ()) -> str:
    """An audit event's detail (its JSON text) on one line for people: ``key=value; ...``, a
    list as ``a, b``, nothing as ``—`` (no Python or JSON brackets and quotes); the keys in
    ``skip`` left out. The files keep :meth:`AuditRow.detail_text`'s JSON values."""
    if not detail:
        return ""
    try:
        obj = json.loads(detail)
    except ValueError:
        return detail
    if isinstance(obj, dict):
        return "; ".join(f"{k}={_word(v)}" for k, v in obj.items() if k not in skip)
    return _word(obj)


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime  # naive UTC
    actor: str
    action: str
    order_id: int | None
    order_sn: str
    target: str
    reason: str
    detail: str  # JSON text ("" when none)

    @property
    def key(self) -> tuple[dt.datetime, int]:
        """The keyset cursor: the next page starts after this row."""
        return self.at, self.id

    def detail_obj(self):
        """The detail JSON read back (the raw text when it is not JSON; None when empty)."""
        if not self.detail:
            return None
        try:
            return json.loads(self.detail)
        except ValueError:
            return self.detail

    def detail_text(self, skip: tuple[str, ...] = ()) -> str:
        """The detail on one line: ``key=value; key=value`` (values that are not text as JSON;
        the keys in ``skip`` left out)."""
        obj = self.detail_obj()
        if obj is None:
            return ""
        if isinstance(obj, dict):
            return "; ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
                             for k, v in obj.items() if k not in skip)
        return obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)

    def detail_words(self, skip: tuple[str, ...] = ()) -> str:
        """The detail as a screen shows it: :func:`detail_words` of it."""
        return detail_words(self.detail, skip)

    def detail_pretty(self) -> str:
        obj = self.detail_obj()
        if obj is None:
            return ""
        return obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True)


@dataclass(frozen=True)
class Page:
    rows: list[AuditRow]
    total: int  # every event matching the query
    first: int  # the 1-based place of the first row among them (0 when there is none)

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    def range_text(self) -> str:
        """``1–50 of 1,234``."""
        if not self.rows:
            return tr("0 of {n:,}", "共 {n:,} 条，0 条", n=self.total)
        return tr("{a:,}–{b:,} of {n:,}", "第 {a:,}–{b:,} 条，共 {n:,} 条", a=self.first, b=self.last, n=self.total)


def _select(q: AuditQuery):
    from dadan.core.models import AuditEvent, Order

    sel = (AuditEvent.select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
                             AuditEvent.order, Order.order_sn, AuditEvent.target, AuditEvent.reason,
                             AuditEvent.detail)
           .join(Order, JOIN.LEFT_OUTER, on=(AuditEvent.order == Order.id)))
    where = q.where()
    return sel.where(where) if where is not None else sel


def _rows(sel) -> list[AuditRow]:
    return [AuditRow(i, at, actor or "", action or "", oid, sn or "", target or "", reason or "", detail or "")
            for i, at, actor, action, oid, sn, target, reason, detail in sel.tuples()]


def _as_query(query: AuditQuery | str, tz: str, now: dt.datetime | None) -> AuditQuery:
    return parse(query, tz=tz, now=now) if isinstance(query, str) else query


def events(query: AuditQuery | str = "", *, after: tuple[dt.datetime, int] | None = None,
           before: tuple[dt.datetime, int] | None = None, limit: int = 50, tz: str = DEFAULT_TZ,
           now: dt.datetime | None = None) -> list[AuditRow]:
    """Up to ``limit`` events newest first, after the row keyed ``after`` (the next page) or,
    with ``before``, the ``limit`` rows just above that row (the previous page, still newest
    first)."""
    from dadan.core.models import AuditEvent

    q = _as_query(query, tz, now)
    sel = _select(q)
    key = Tuple(AuditEvent.at, AuditEvent.id)
    if before is not None:
        sel = sel.where(key > Tuple(*before)).order_by(AuditEvent.at.asc(), AuditEvent.id.asc()).limit(limit)
        return list(reversed(_rows(sel)))
    if after is not None:
        sel = sel.where(key < Tuple(*after))
    return _rows(sel.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))


def count(query: AuditQuery | str = "", *, tz: str = DEFAULT_TZ, now: dt.datetime | None = None,
          before: tuple[dt.datetime, int] | None = None) -> int:
    """Events matching ``query`` (with ``before``: only those newer than that row)."""
    from dadan.core.models import AuditEvent

    q = _as_query(query, tz, now)
    sel = AuditEvent.select()
    where = q.where()
    if where is not None:
        sel = sel.where(where)
    if before is not None:
        sel = sel.where(Tuple(AuditEvent.at, AuditEvent.id) > Tuple(*before))
    return sel.count()


def page(query: AuditQuery | str = "", *, after: tuple[dt.datetime, int] | None = None,
         before: tuple[dt.datetime, int] | None = None, limit: int = 50, tz: str = DEFAULT_TZ,
         now: dt.datetime | None = None) -> Page:
    """One page of events newest first with the count for "1–50 of N"."""
    q = _as_query(query, tz, now)
    rows = events(q, after=after, before=before, limit=limit)
    total = count(q)
    if not rows:
        first = 0
    elif after is None and before is None:
        first = 1
    else:
        first = count(q, before=rows[0].key) + 1
    return Page(rows, total, first)


def iter_events(query: AuditQuery | str = "", *, chunk: int = 1000, limit: int | None = None,
                tz: str = DEFAULT_TZ, now: dt.datetime | None = None) -> Iterator[AuditRow]:
    """Every event matching ``query`` newest first (at most ``limit``), ``chunk`` at a time."""
    q = _as_query(query, tz, now)
    after = None
    left = limit
    while left is None or left > 0:
        n = chunk if left is None else min(chunk, left)
        rows = events(q, after=after, limit=n)
        yield from rows
        if len(rows) < n:
            return
        after = rows[-1].key
        if left is not None:
            left -= len(rows)


def _distinct(column) -> list[str]:
    """The distinct values of an indexed column of AuditEvent, by hopping through its index
    (one look-up per value, not a scan of the table)."""
    from dadan.core.models import AuditEvent, database_proxy

    table, col = AuditEvent._meta.table_name, column.column_name
    sql = (f'WITH RECURSIVE v(x) AS (SELECT min("{col}") FROM "{table}" '
           f'UNION ALL SELECT (SELECT min("{col}") FROM "{table}" WHERE "{col}" > v.x) FROM v WHERE v.x IS NOT NULL) '
           f"SELECT x FROM v WHERE x IS NOT NULL")
    return [r[0] for r in database_proxy.execute_sql(sql).fetchall()]


def distinct_actions() -> list[str]:
    """Every action in the log, sorted (for help and completion)."""
    from dadan.core.models import AuditEvent

    return _distinct(AuditEvent.action)


def distinct_actors() -> list[str]:
    from dadan.core.models import AuditEvent

    return _distinct(AuditEvent.actor)


# ------------------------------------------------------------------ export
FORMATS = ("csv", "xlsx", "jsonl")


def columns() -> list[str]:
    return [tr("Time", "时间"), tr("Operator", "操作员"), tr("Action", "操作"), tr("Order", "订单号"),
            tr("Target", "对象"), tr("Reason", "原因"), tr("Detail", "详情")]


def row_values(r: AuditRow, tz: str) -> list[str]:
    local = to_local(r.at, tz)
    return [f"{local:%Y-%m-%d %H:%M:%S}", r.actor, r.action, r.order_sn, r.target, r.reason, r.detail_text()]


def row_json(r: AuditRow, tz: str) -> dict:
    local = to_local(r.at, tz)
    return {"id": r.id, "at": r.at.strftime("%Y-%m-%dT%H:%M:%SZ"), "time": f"{local:%Y-%m-%d %H:%M:%S}",
            "actor": r.actor, "action": r.action, "order_sn": r.order_sn, "target": r.target, "reason": r.reason,
            "detail": r.detail_obj()}


def export_events(query: AuditQuery | str, fmt: str, out: str | Path, *, tz: str = DEFAULT_TZ,
                  now: dt.datetime | None = None, limit: int | None = None, stdout=None, actor: str = "") -> int:
    """Write the events matching ``query`` (newest first, at most ``limit``) to ``out`` as CSV
    (UTF-8 with a BOM, for Excel), xlsx or JSON Lines ("-": standard output, not for xlsx).
    A file is written whole under a temporary name, owner-only, then renamed. Returns the rows
    written."""
    from dadan.core.operators import require

    require(actor, "export", what="audit log")
    from dadan.core.spreadsheets.export import ExportError, written_whole
    from dadan.core.spreadsheets.writers import RowWriter

    if fmt not in FORMATS:
        raise ExportError(tr("unknown format '{f}' (use {all})", "未知格式“{f}”（可用：{all}）", f=fmt,
                             all=", ".join(FORMATS)))
    q = _as_query(query, tz, now)

    def write(fh) -> int:  # (xlsx: the file's path)
        with RowWriter(fmt, fh, columns()) as w:
            n = 0
            for r in iter_events(q, limit=limit):
                if fmt == "jsonl":
                    w.row([], row_json(r, tz))
                else:
                    w.row(row_values(r, tz))
                n += 1
            if fmt == "xlsx":
                w.save_xlsx()
        return n

    if str(out) == "-":
        if fmt == "xlsx":
            raise ExportError(tr("xlsx cannot be written to standard output; use --out FILE.xlsx",
                                 "xlsx 不能输出到标准输出；请使用 --out 文件.xlsx"))
        return write(stdout or sys.stdout)
    path = Path(out)
    if not path.parent.is_dir():
        raise ExportError(tr("the folder {d} does not exist", "文件夹 {d} 不存在", d=path.parent))
    with written_whole(path) as tmp:
        if fmt == "xlsx":
            n = write(tmp)
        else:
            with open(tmp, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as fh:
                n = write(fh)
    return n
