"""What the desk says about backups: whether the day's copy is due when a desk starts
(:func:`copy_due`: it was off at ``daily_at``) and the last backup as the status line shows it
(:func:`backup_state`), both from what :func:`dadan.core.backup.record_last` wrote."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dadan.core.backup import last_backup
from dadan.core.models import utcnow

# no good copy for this long, with daily copies on (a daily one missed): the desk warns
BACKUP_STALE = dt.timedelta(hours=36)
# a desk starting with no good copy for this long makes one (it was off at daily_at)
BACKUP_DUE = dt.timedelta(days=1)


def _good_copy_age(last: dict | None, now: dt.datetime | None = None) -> dt.timedelta | None:
    """How old the last good backup (the daily one or a person's: ``last``, from
    :func:`last_backup`) is; None when the last one failed or there is none."""
    if last is None or not last.get("ok"):
        return None
    return (now or utcnow()) - dt.datetime.fromisoformat(last["at"])


def copy_due(paths) -> bool:
    """Whether a desk starting now should make the day's copy: the last good one is
    :data:`BACKUP_DUE` old, failed, or there is none."""
    age = _good_copy_age(last_backup(paths))
    return age is None or age >= BACKUP_DUE


@dataclass(frozen=True)
class BackupState:
    """The last backup as the desk shows it: when it was made or tried (UTC; None: never),
    whether it failed, whether it is late (:data:`BACKUP_STALE` without a good copy while daily
    copies are on; with none ever, counted from the desk's first use: its oldest audit event)."""

    at: dt.datetime | None = None
    failed: bool = False
    late: bool = False


def backup_state(settings, paths, now: dt.datetime | None = None) -> BackupState | None:
    """The last backup for the desk to show (None: nothing to say: no backup and daily copies
    off, or PostgreSQL, backed up with its own tools). Call inside a DB connection."""
    from dadan.core.db import database
    from dadan.core.postgres import is_postgres

    if is_postgres(database()):
        return None
    now = now or utcnow()
    last = last_backup(paths)
    if last is None:
        if not settings.backup.daily:
            return None
        from peewee import fn

        from dadan.core.models import AuditEvent

        first_use = AuditEvent.select(fn.MIN(AuditEvent.at)).scalar()
        if isinstance(first_use, str):
            first_use = dt.datetime.fromisoformat(first_use)
        return BackupState(late=first_use is not None and now - first_use > BACKUP_STALE)
    age = _good_copy_age(last, now)
    return BackupState(at=dt.datetime.fromisoformat(last["at"]), failed=age is None,
                       late=settings.backup.daily and age is not None and age > BACKUP_STALE)
