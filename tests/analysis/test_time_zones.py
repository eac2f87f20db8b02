"""Windows given as aware datetimes mean the same instants whatever the machine's time zone.

The store keeps naive UTC; a caller of the Python API may well pass
``datetime(..., tzinfo=...)``. DuckDB compares such a value after turning the
naive column into the session's time zone (the machine's), so the same window
would count other calls on a machine in New York than in London. Ground truth:
the generator's call start times, in UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from otel_llm_analysis._filters import Filters, connection
from otel_llm_analysis.summaries import totals
from otel_llm_analysis.trends import series

from _ground_truth import is_llm, store_fixture

loaded = store_fixture(seed=17, traces=90, days=6)

_NEW_YORK = timezone(timedelta(hours=-5))


@pytest.mark.parametrize("session_zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_an_aware_window_counts_the_calls_of_its_instants(loaded, session_zone):
    store, data = loaded
    connection(store).execute(f"SET TimeZone = '{session_zone}'")  # the machine's zone, as DuckDB takes it
    calls = [s for s in data.spans if is_llm(s)]
    middle = sorted(s.start_time for s in calls)[len(calls) // 2]
    since = middle.replace(minute=0, second=0, microsecond=0)
    until = since + timedelta(days=2)
    expected = sum(1 for s in calls if since <= s.start_time < until)
    for zone in (timezone.utc, _NEW_YORK):
        aware = Filters(since=since.replace(tzinfo=timezone.utc).astimezone(zone),
                        until=until.replace(tzinfo=timezone.utc).astimezone(zone))
        assert totals(store, aware).llm_calls == expected, zone
        points = series(store, "day", aware)
        first_day = since.replace(hour=0)  # a series starts on a whole period
        assert [p.period for p in points] == [first_day + timedelta(days=i) for i in range(len(points))]
        for point in points:
            assert point.calls == sum(1 for s in calls if since <= s.start_time < until  # the window's calls
                                      and point.period <= s.start_time < point.period + timedelta(days=1))
