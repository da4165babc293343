"""Audit events: who did what, when, and why."""

from __future__ import annotations

import json
from typing import Iterable

from dadan.core.db import bulk_insert
from dadan.core.models import AuditEvent, OrderEvent, utcnow


def record(action: str, *, actor: str, order_id: int | None = None, target: str = "",
           reason: str = "", detail: dict | None = None) -> AuditEvent:
    """Write one audit event. Call inside the write transaction of the change it describes."""
    return AuditEvent.create(at=utcnow(), actor=actor, action=action, order=order_id, target=target, reason=reason,
                             detail=_detail_text(detail))


def _detail_text(detail: dict | None) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else ""


def record_orders(action: str, details: Iterable[tuple[int, dict | None]], *, actor: str) -> None:
    """One audit event per (order id, detail), as :func:`record` writes them, all in one prepared
    statement (an oversell guard flagging tens of thousands of orders at once)."""
    at = utcnow()
    bulk_insert(AuditEvent, [{"at": at, "actor": actor, "action": action, "order": oid, "detail": _detail_text(d)}
                             for oid, d in details])


def order_event(order_id: int, kind: str, text: str = "") -> None:
    OrderEvent.create(order=order_id, at=utcnow(), kind=kind, text=text)


def order_events(events: Iterable[tuple[int, str]], kind: str) -> None:
    """Order events of one kind, (order id, text) each, in one prepared statement."""
    at = utcnow()
    bulk_insert(OrderEvent, [{"order": oid, "at": at, "kind": kind, "text": text} for oid, text in events])
