"""Audit events: who did what, when, and why."""

from __future__ import annotations

import json

from dadan.core.models import AuditEvent, OrderEvent, utcnow


def record(action: str, *, actor: str, order_id: int | None = None, target: str = "",
           reason: str = "", detail: dict | None = None) -> AuditEvent:
    """Write one audit event. Call inside the write transaction of the change it describes."""
    return AuditEvent.create(
        at=utcnow(),
        actor=actor,
        action=action,
        order=order_id,
        target=target,
        reason=reason,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else "",
    )


def order_event(order_id: int, kind: str, text: str = "") -> None:
    OrderEvent.create(order=order_id, at=utcnow(), kind=kind, text=text)
