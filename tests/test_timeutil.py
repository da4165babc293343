import datetime as dt

import pytest

from dadan.core.timeutil import to_local, to_utc, zone


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe"])
def test_to_utc_matches_attaching_the_zone_and_converting(tz):
    # every quarter hour of a year, DST gaps and repeated hours included
    t = dt.datetime(2023, 1, 1)
    for _ in range(365 * 24 * 4):
        expected = t.replace(tzinfo=zone(tz)).astimezone(dt.UTC).replace(tzinfo=None)
        assert to_utc(t, tz) == expected, t
        t += dt.timedelta(minutes=15)


def test_to_utc_of_an_aware_time_and_back():
    aware = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert to_utc(aware) == dt.datetime(2026, 11, 20, 2, 0)
    assert to_local(to_utc(dt.datetime(2026, 11, 20, 10, 0))) == dt.datetime(2026, 11, 20, 10, 0)
