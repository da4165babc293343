"""Report periods: days, weeks (Monday to Sunday) and months of the warehouse's local time
(``settings.timezone``), as naive UTC bounds (how times are stored).

A range is given in local dates, both ends included; it is widened to whole periods (a week
range from a Wednesday starts on that week's Monday)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dadan.core.errors import DadanError
from dadan.core.i18n import Bilingual, tr
from dadan.core.timeutil import DEFAULT_TZ, to_local, to_utc

PERIODS = ("day", "week", "month")
DEFAULT_SPAN = {"day": 14, "week": 8, "month": 6}  # periods shown when no range is given
MAX_BUCKETS = 400  # a range longer than this many periods is refused (a typo such as 2062)


class ReportError(DadanError):
    TITLE = Bilingual("Report error", "报表错误")


@dataclass(frozen=True)
class Bucket:
    start: dt.date  # the period's first local day
    lo: dt.datetime  # naive UTC, included
    hi: dt.datetime  # naive UTC, excluded
    period: str

    @property
    def label(self) -> str:
        """Short, for screens: ``11-19`` (day), ``11-16`` (the week's Monday), ``2026-11``."""
        return f"{self.start:%Y-%m}" if self.period == "month" else f"{self.start:%m-%d}"

    @property
    def key(self) -> str:
        """Full, for files: ``2026-11-19``, ``2026-11-16`` (week of), ``2026-11``."""
        return f"{self.start:%Y-%m}" if self.period == "month" else f"{self.start:%Y-%m-%d}"


def period_start(day: dt.date, period: str) -> dt.date:
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ReportError(tr("unknown period {p!r} (day, week or month)", "未知的周期 {p!r}（day、week 或 month）", p=period))


def next_start(start: dt.date, period: str) -> dt.date:
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def shift(start: dt.date, period: str, n: int) -> dt.date:
    """``start`` moved by ``n`` periods (``n`` may be negative)."""
    if period == "day":
        return start + dt.timedelta(days=n)
    if period == "week":
        return start + dt.timedelta(days=7 * n)
    months = start.year * 12 + start.month - 1 + n
    return dt.date(months // 12, months % 12 + 1, 1)


def default_range(period: str, now_utc: dt.datetime, tz: str = DEFAULT_TZ, *, span: int | None = None,
                  offset: int = 0) -> tuple[dt.date, dt.date]:
    """The last ``span`` periods up to today (local), moved back ``offset`` spans (``[`` on the
    screen): (first day, last day)."""
    span = span or DEFAULT_SPAN[period]
    today = to_local(now_utc, tz).date()
    last = shift(period_start(today, period), period, -offset * span)
    first = shift(last, period, -(span - 1))
    return first, next_start(last, period) - dt.timedelta(days=1)


def buckets(period: str, first: dt.date, last: dt.date, tz: str = DEFAULT_TZ) -> list[Bucket]:
    if period not in PERIODS:
        period_start(first, period)  # raises in words
    if last < first:
        raise ReportError(tr("the range ends ({b}) before it starts ({a})", "结束日期（{b}）早于开始日期（{a}）",
                             a=first, b=last))
    out: list[Bucket] = []
    start = period_start(first, period)
    while start <= last:
        nxt = next_start(start, period)
        out.append(Bucket(start, to_utc(dt.datetime.combine(start, dt.time()), tz),
                          to_utc(dt.datetime.combine(nxt, dt.time()), tz), period))
        if len(out) > MAX_BUCKETS:
            raise ReportError(tr("the range holds more than {n} periods; choose a shorter one or a longer period",
                                 "范围超过 {n} 个周期；请缩短范围或改用更长的周期", n=MAX_BUCKETS))
        start = nxt
    return out


FIRST_DAY, LAST_DAY = dt.date(1970, 1, 2), dt.date(9998, 12, 30)  # (a day's bounds in any zone stay datetimes)


def parse_date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ReportError(tr("not a date: {t!r} (write 2026-11-19)", "不是日期：{t!r}（格式 2026-11-19）", t=text)) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ReportError(tr("{t}: a day between {a} and {b}", "{t}：日期须在 {a} 到 {b} 之间", t=text.strip(),
                             a=FIRST_DAY, b=LAST_DAY))
    return day
