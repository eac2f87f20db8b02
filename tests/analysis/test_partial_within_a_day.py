"""A day whose morning's LLM calls are in spans and whose afternoon's are only in GenAI metric points (spans
dropped from noon on, the metric reader still exporting every minute): its figures are the morning's calls only.
Detection was per day, and the day had spans, so nothing said so. The exports' own intervals are compared with
the spans that ended in them, so the afternoon is found - and the lag between a span and the export that counts
it never reads as calls left out."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from otel_llm_analysis import Filters, TraceStore, series, totals
from otel_llm_analysis.cli import register
from tests.analysis._exports import calls_of, write_exports, write_spans
from tests.support.synthetic import generate

NOON = datetime(2026, 11, 20, 12)
DAY = Filters(since=datetime(2026, 11, 20), until=datetime(2026, 11, 21))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two stores of one day's calls (2026-11-20) and their per-minute metric points: ``whole`` holds every
    span, ``morning`` only the spans of the traces that began before noon. With the afternoon's calls."""
    root = tmp_path_factory.mktemp("within_a_day")
    data = generate(root / "day", seed=5, traces=160, days=1, end=datetime(2026, 11, 21))
    calls = calls_of(data.spans)
    write_exports(calls, root / "metrics.jsonl", seed=5)
    began = {s.trace_id: s.start_time for s in data.spans if s.parent_span_id is None}
    write_spans([s for s in data.spans if began[s.trace_id] < NOON], root / "morning.jsonl")
    afternoon = [c for c in calls if began[c.trace_id] >= NOON]
    kept = [c for c in calls if began[c.trace_id] < NOON]
    paths = {}
    for name, traces in (("whole", root / "day" / "traces.jsonl"), ("morning", root / "morning.jsonl")):
        paths[name] = str(root / f"{name}.duckdb")
        with TraceStore(paths[name]) as store:
            store.ingest([traces, root / "metrics.jsonl"])
    assert afternoon and kept
    return {**paths, "afternoon": afternoon, "kept": kept}


def run(*args: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def test_an_afternoon_only_in_metric_points_is_partial_and_named(stores: dict) -> None:
    """``totals`` of the day said nothing (the day had spans); now it counts the afternoon's calls - all of them
    but those whose export interval also held a morning call of the same service and model - and names the
    hours."""
    afternoon, kept = stores["afternoon"], stores["kept"]
    with TraceStore(stores["morning"], read_only=True) as store:
        partial = totals(store, DAY).only_in_metrics
    assert partial is not None, "the afternoon's calls, only in metric points, went unnoticed"
    assert partial.days == (date(2026, 11, 20),), partial
    # a lower bound: an export that counted a morning call beside afternoon ones is matched with that span
    overlap = [c for c in kept if c.start_time >= NOON - timedelta(hours=1)]
    assert len(afternoon) - len(overlap) - 2 <= partial.calls <= len(afternoon), (partial, len(afternoon))
    first, last = partial.between[0]
    assert NOON - timedelta(hours=1) <= first and last <= datetime(2026, 11, 21), partial.between
    assert first < min(c.start_time for c in afternoon) + timedelta(minutes=5), (first, afternoon[0].start_time)
    said = partial.said()
    assert f"{partial.calls:,} LLM calls on 1 day(s) (2026-11-20 {first:%H:%M}–{last:%H:%M} UTC)" in said, said
    shown = json.loads(run("summary", "--since", "2026-11-20", "--until", "2026-11-21", "--format", "json",
                           "--db", stores["morning"]).stdout)
    assert any(n.startswith(f"partial: {partial.calls:,} LLM calls") for n in shown["notes"]), shown["notes"]


def test_every_span_held_is_never_partial_whatever_the_exports_lag(stores: dict) -> None:
    """Every span stored, counted by exports up to 8 s after each call ends and a minute apart: no call is
    left out, per day or per hour, whichever window."""
    with TraceStore(stores["whole"], read_only=True) as store:
        assert totals(store, DAY).only_in_metrics is None
        for hour in range(24):
            since = datetime(2026, 11, 20, hour)
            window = Filters(since=since, until=since + timedelta(hours=1))
            total = totals(store, window)
            assert total.only_in_metrics is None, (hour, total.only_in_metrics)


def test_trends_mark_the_day_partial_and_its_afternoon_hours_unknown(stores: dict) -> None:
    """Per day, 2026-11-20 read as the morning's calls and cost alone ("a day is in spans or it is not"); it is
    now partial, as ``totals`` says. Per hour, each afternoon hour with no span has an unknown cost, and the
    hours whose calls are all in spans are not partial."""
    with TraceStore(stores["morning"], read_only=True) as store:
        (day,) = series(store, "day", DAY, True)
        assert day.only_in_metrics == totals(store, DAY).only_in_metrics, day
        hours = series(store, "hour", DAY, True)
    assert any(h.unrecorded_points and h.cost_usd is None for h in hours if h.period >= NOON + timedelta(hours=1))
    assert all(h.only_in_metrics is None for h in hours if h.period < NOON - timedelta(hours=1)), hours
    with TraceStore(stores["whole"], read_only=True) as store:
        assert all(p.only_in_metrics is None for p in series(store, "hour", DAY, True)), "lag read as calls left out"


def test_a_day_whose_points_count_no_call_is_partial_with_its_calls_unknown(tmp_path) -> None:
    """A producer exporting its cost counter but no duration histogram: the days its points grew while the
    spans hold no call are partial too, their calls not counted (None), as the window's note says."""
    import orjson

    from otel_llm import semconv

    generate(tmp_path / "both", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    generate(tmp_path / "later", seed=9, traces=20, days=2, end=datetime(2026, 11, 22))
    lines = []
    for line in (tmp_path / "later" / "metrics.jsonl").read_bytes().splitlines():
        request = orjson.loads(line)
        for resource in request["resourceMetrics"]:
            for scope in resource["scopeMetrics"]:
                scope["metrics"] = [m for m in scope["metrics"] if m["name"] != semconv.METRIC_OPERATION_DURATION]
        lines.append(orjson.dumps(request))
    (tmp_path / "cost.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with TraceStore(str(tmp_path / "store.duckdb")) as store:
        store.ingest([tmp_path / "both", tmp_path / "cost.jsonl"])
        partial = totals(store, Filters(since=datetime(2026, 11, 16), until=datetime(2026, 11, 23))).only_in_metrics
    assert partial is not None and partial.calls is None, partial
    assert partial.days == (date(2026, 11, 20), date(2026, 11, 21)), partial
    assert "LLM calls (" in partial.said() and "GenAI metric points)" in partial.said(), partial.said()
