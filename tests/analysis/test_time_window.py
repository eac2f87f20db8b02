"""The time window every analysis takes.

The times people type are read as Grafana and Prometheus read them (``30s``, ``15m``, ``1.5h``, ``7D``,
``2w``, ``now``, ``now-7d``), what cannot be read unambiguously is refused naming the accepted forms,
and a window that ends before it starts is refused by ``Filters.of`` itself, so the Python API,
``otel-llm report`` and ``otel-llm serve`` say so instead of answering 0 calls, $0 as if nothing had run."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from otel_llm_analysis import TraceStore
from otel_llm_analysis._filters import Filters, parse_time

NOW = datetime(2026, 12, 2, 15, 0, 0)


@pytest.mark.parametrize("since, until, shown", [
    ("2026-12-02", "2026-12-01", ("2026-12-02 00:00:00 UTC", "2026-12-01 00:00:00 UTC")),
    ("2026-12-01T10:00", "2026-12-01T10:00", ("2026-12-01 10:00:00 UTC", "2026-12-01 10:00:00 UTC")),
    # aware times are named in UTC, whatever zone they were given in
    (datetime(2026, 12, 1, 12, tzinfo=timezone(timedelta(hours=2))), "2026-12-01T09:30:00Z",
     ("2026-12-01 10:00:00 UTC", "2026-12-01 09:30:00 UTC")),
])
def test_a_window_that_ends_before_it_starts_is_refused_naming_both_times(since, until, shown) -> None:
    with pytest.raises(ValueError) as raised:
        Filters.of(since, until)
    message = str(raised.value)
    assert shown[0] in message and shown[1] in message, message
    assert message.index(shown[0]) < message.rindex(shown[1]) and "since" in message and "until" in message, message


def test_relative_times_swapped_are_refused() -> None:
    """``since=1d, until=2d``: one day ago until two days ago, the order a newcomer swaps."""
    with pytest.raises(ValueError, match=r"since 1d \(.* UTC\) must be before until 2d \(.* UTC\)"):
        Filters.of("1d", "2d")


def test_a_window_one_microsecond_long_and_open_windows_are_kept() -> None:
    start = datetime(2026, 12, 1, 10)
    assert Filters.of(start, start + timedelta(microseconds=1)).until == start + timedelta(microseconds=1)
    assert Filters.of("2026-12-02", None).until is None and Filters.of(None, "2026-12-01").since is None


def _otel_llm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "otel_llm", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)  # serve would run until stopped


@pytest.mark.parametrize("command", [["report", "--out", "r.html"], ["serve", "--port", "0"]])
def test_report_and_serve_refuse_a_swapped_window_in_one_line(tmp_path: Path, command: list[str]) -> None:
    """Neither writes a report of $0 nor serves a dashboard of 0 calls: one ``error:`` line, exit 2."""
    db = tmp_path / "otel-llm.duckdb"
    TraceStore(str(db)).close()
    proc = _otel_llm(*command, "--since", "2026-12-02", "--until", "2026-12-01", "--db", str(db), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error:") and "Traceback" not in proc.stderr, proc.stderr
    assert "2026-12-02 00:00:00 UTC" in errors[0] and "2026-12-01 00:00:00 UTC" in errors[0], errors[0]
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("typed, back", [
    ("30s", timedelta(seconds=30)), ("15m", timedelta(minutes=15)), ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)), ("2w", timedelta(weeks=2)),
    ("7D", timedelta(days=7)), ("24H", timedelta(hours=24)), ("2W", timedelta(weeks=2)), ("30S", timedelta(seconds=30)),
    ("1.5h", timedelta(minutes=90)), ("0.5d", timedelta(hours=12)), (" 7 d ", timedelta(days=7)),
    ("1h30m", timedelta(minutes=90)), ("1d 12h", timedelta(hours=36)),
    ("now", timedelta(0)), ("NOW", timedelta(0)), ("now-7d", timedelta(days=7)), ("now - 1.5h", timedelta(minutes=90)),
])
def test_durations_people_type_reach_back_from_now(typed: str, back: timedelta) -> None:
    assert parse_time(typed, now=NOW) == NOW - back


@pytest.mark.parametrize("typed, said", [
    ("1M", "minutes or months"),       # Grafana's M is a month, Prometheus' m a minute: neither guessed
    ("now-1M", "minutes or months"),
    ("yesterday", "1d"),                # the start of which day, in which zone? a duration or a date says
    ("today", "2026-11-01"),
    ("last tuesday", "not a time"), ("7x", "not a time"), ("-7d", "not a time"), ("now+1h", "not a time"),
    ("7", "not a time"), ("1.h", "not a time"), ("yesterday-ish", "not a time"),
])
def test_times_that_cannot_be_read_unambiguously_are_refused_naming_the_forms(typed: str, said: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_time(typed, now=NOW)
    message = str(raised.value)
    assert said in message and repr(typed) in message, message
    near_miss = said != "not a time"  # a near miss lists every form; anything else names the two kinds
    for form in ("2026-11-01", "now", "30s", "15m", "1.5h", "7d", "2w") if near_miss else ("2026-11-01", "7d"):
        assert form in message, message


def test_a_duration_past_the_year_1_is_refused() -> None:
    with pytest.raises(ValueError, match="before the year 1"):
        parse_time("99999999w", now=NOW)


@pytest.mark.parametrize("analysis", ["search_logs", "log_patterns"])
def test_the_log_analyses_refuse_a_swapped_window_as_filters_do(store: TraceStore, analysis: str) -> None:
    """``search_logs(store, since=..., until=...)`` takes the times as they are typed: swapped, they are
    refused as ``Filters.of`` refuses them, not answered with no log records."""
    from otel_llm_analysis import logs

    with pytest.raises(ValueError, match=r"since 1d \(.* UTC\) must be before until 2d \(.* UTC\)"):
        getattr(logs, analysis)(store, since="1d", until="2d")
    assert getattr(logs, analysis)(store, since="2d", until="1d") == []


@pytest.mark.parametrize("since, until", [("now", "now"), ("1h", "1h"), ("now-30m", "30m"), ("1h", "60m")])
def test_relative_times_of_one_window_reach_back_from_the_same_now(since: str, until: str) -> None:
    """Both ends are read against one clock reading: ``since=1h, until=60m`` is empty, not a window of the few
    microseconds between two readings, and the message shows the times to the second."""
    with pytest.raises(ValueError) as raised:
        Filters.of(since, until)
    message = str(raised.value)
    assert "must be before until" in message and not re.search(r"\d\d:\d\d:\d\d\.\d", message), message
