"""Named leases in the database: only the holder of a lease runs its job (a printer's worker,
a shop's sync), so several terminals on one database never do the same work at once.

A holder is ``host:pid:random``. A lease is free when nobody holds it, when it expired, or when
its holder was a process on this host that is gone (killed, crashed): the next taker does not
wait for the expiry. A holder on another host is trusted until its lease expires, so a live
holder renews well before that (the print worker every ``LEASE_RENEW_S``, sync with each window).

Taking is a read-then-write inside one :func:`dadan.core.db.write` transaction: SQLite's
``IMMEDIATE`` lock, or PostgreSQL's one advisory write lock, serializes it, so two desks (on one
host or two) starting at once never both take a lease.

The host is the machine's name; ``DADAN_HOST`` overrides it (two "hosts" on one machine, for
tests and for containers that share a process namespace under different names).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from dadan.core.db import write
from dadan.core.models import Lease, utcnow


def _host() -> str:
    """This machine's name in holder names (``DADAN_HOST`` overrides it)."""
    return os.environ.get("DADAN_HOST") or socket.gethostname()


def make_holder() -> str:
    """A holder name for this process: ``host:pid:random``."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def pid_alive(pid: int) -> bool:
    """False only when no process ``pid`` exists on this machine (another user's is alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_alive(holder: str) -> bool:
    """False only when ``holder`` names a process on this host that no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _host() or not pid_text.isdigit():
        return True  # another machine (or not a host:pid name): trust the expiry time
    return pid_alive(int(pid_text))


def acquire(name: str, holder: str, ttl: dt.timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False while someone alive holds it."""
    now = utcnow()
    with write():
        lease = Lease.get_or_none(Lease.name == name)
        if lease is None:
            Lease.create(name=name, holder=holder, expires_at=now + ttl)
            return True
        if lease.holder == holder or lease.expires_at < now or not holder_alive(lease.holder):
            Lease.update(holder=holder, expires_at=now + ttl).where(Lease.name == name).execute()
            return True
        return False


def release(name: str, holder: str) -> None:
    with write():
        Lease.delete().where((Lease.name == name) & (Lease.holder == holder)).execute()


def current_holder(name: str) -> str | None:
    """Who holds the lease now (None if nobody alive does)."""
    lease = Lease.get_or_none(Lease.name == name)
    if lease is None or lease.expires_at < utcnow() or not holder_alive(lease.holder):
        return None
    return lease.holder
