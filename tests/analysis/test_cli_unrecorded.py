"""A window whose LLM calls only GenAI metric points record (spans sampled out or not shipped) has a cost
that is unknown: the CLI says so as the dashboard does (``_unrecorded.unrecorded_cost``), never $0 or ok."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pytest
import typer
from typer.testing import CliRunner

from otel_llm import semconv
from otel_llm_analysis import TraceStore
from otel_llm_analysis.cli import register
from tests.support.synthetic import generate

UNKNOWN = "unknown: not recorded in spans"


@pytest.fixture(scope="module")
def metrics_only(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store of the GenAI metric points of 30 traces' calls, without their spans."""
    root = tmp_path_factory.mktemp("metrics-only")
    generate(root / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    db = str(root / "metrics.duckdb")
    with TraceStore(db) as store:
        store.ingest(root / "data" / "metrics.jsonl")
        assert store.query("SELECT count(*) FROM spans")[0][0] == 0
    return db


def run(*args: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def _json(result) -> dict:
    return json.loads(result.stdout)


def test_summary_says_tokens_and_cost_unknown_not_zero(metrics_only: str) -> None:
    """``summary`` printed "cost $0" and 0 tokens, exit 0, for calls it could not see."""
    result = run("summary", "--format", "json", "--db", metrics_only)
    assert result.exit_code == 0, result.output
    document = _json(result)
    (record,) = document["rows"]
    assert record["cost_usd"] is None and record["total_tokens"] is None and record["input_tokens"] is None, record
    assert any(note.startswith(f"tokens and cost {UNKNOWN}") for note in document["notes"]), document
    grouped = _json(run("summary", "--by", "model", "--format", "json", "--db", metrics_only))
    assert any(UNKNOWN in note for note in grouped["notes"]), grouped
    table = run("summary", "--db", metrics_only)
    assert "$0" not in table.stdout and UNKNOWN in " ".join(table.stdout.split()), table.stdout


def test_totals_of_a_metrics_only_window_say_the_cost_is_unknown_not_zero(metrics_only: str,
                                                                         partly_recorded: str) -> None:
    """The Python API's ``totals()`` gave cost_usd 0.0 with nothing saying why for the calls the CLI, the dashboard
    and ``series()`` call unknown; a window of calls in spans keeps its cost and says nothing."""
    from otel_llm_analysis import Filters, totals

    with TraceStore(metrics_only, read_only=True) as store:
        total = totals(store)
        assert (total.llm_calls, total.cost_usd, total.estimated_cost_usd) == (0, None, None), total
        assert total.cost_unknown is not None and total.cost_unknown.startswith(UNKNOWN), total
    with TraceStore(partly_recorded, read_only=True) as store:
        recorded = totals(store, Filters.of(since="2026-11-18", until="2026-11-21"))
        assert recorded.llm_calls and recorded.cost_usd > 0 and recorded.cost_unknown is None, recorded
        later = totals(store, Filters.of(since="2026-11-23", until="2026-11-25"))
        assert later.llm_calls == 0 and later.cost_usd is None and UNKNOWN in later.cost_unknown, later
        quiet = totals(store, Filters.of(since="2026-11-21", until="2026-11-22"))
        assert (quiet.llm_calls, quiet.cost_usd, quiet.cost_unknown) == (0, 0.0, None), quiet


def test_budget_of_a_metrics_only_month_is_unknown_exit_3_not_ok(metrics_only: str) -> None:
    """``budget`` showed "spent $0 (0.0 %) ok" and exited 0 (the gate passed) for a month of unseen calls."""
    result = run("budget", "--monthly", "50", "--month", "2026-11", "--format", "json", "--db", metrics_only)
    assert result.exit_code == 3, result.output
    (row,) = _json(result)["rows"]
    assert row["status"] == "unknown" and row["spent"] is None and row["percent_used"] is None, row
    assert UNKNOWN in row["cost_unknown"], row
    table = run("budget", "--monthly", "50", "--month", "2026-11", "--db", metrics_only)
    assert table.exit_code == 3 and "$0" not in table.stdout and " ok " not in table.stdout, table.stdout


def test_check_max_cost_over_metrics_only_calls_is_unknown_exit_3(metrics_only: str) -> None:
    """``check --max-cost`` said "no data" and passed (exit 0): a spend of calls it cannot see is not checked."""
    result = run("check", "--max-cost", "1", "--since", "2026-11-01", "--format", "json", "--db", metrics_only)
    assert result.exit_code == 3, result.output
    document = _json(result)
    cost = next(row for row in document["rows"] if row["check"] == "cost_usd")
    assert cost["status"] == "unknown" and UNKNOWN in cost["reason"], cost
    assert any(f"cost_usd: {UNKNOWN}" in note for note in document["notes"]), document  # with latency, errors
    assert not any("may cost anything" in note for note in document["notes"]), document


def test_trends_forecast_of_a_metrics_only_month_is_unknown_not_zero(metrics_only: str) -> None:
    """The forecast read "spent $0.0000 ..., month-end ≈ $0.0000" for a month of calls only metrics record."""
    result = run("trends", "--until", "2026-11-21", "--format", "json", "--db", metrics_only)
    assert result.exit_code == 0, result.output
    document = _json(result)
    assert UNKNOWN in document["forecast"]["cost_unknown"], document["forecast"]
    forecast = [note for note in document["notes"] if note.startswith("forecast ")]
    assert forecast == [f"forecast 2026-11: spend {document['forecast']['cost_unknown']}"], forecast


@pytest.fixture(scope="module")
def partly_recorded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Spans and metric points of 2026-11-18..20, then only the metric points of 2026-11-23..24."""
    root = tmp_path_factory.mktemp("partly")
    generate(root / "both", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    generate(root / "later", seed=9, traces=20, days=2, end=datetime(2026, 11, 25))
    db = str(root / "partly.duckdb")
    with TraceStore(db) as store:
        store.ingest(root / "both")
        store.ingest(root / "later" / "metrics.jsonl")
    return db


def test_trends_days_whose_calls_only_metric_points_record_cost_unknown_not_zero(partly_recorded: str) -> None:
    """Days whose calls only metric points recorded, beside days with spans, read "0 calls, $0" (and the
    day after a day of spend, -100 %): now their cost is unknown and a note names them; the quiet days
    between (no span, no point) still cost $0."""
    shown = run("trends", "--since", "2026-11-17", "--until", "2026-11-26", "--format", "json",
                "--db", partly_recorded)
    assert shown.exit_code == 0, shown.output
    days = {row["period"][:10]: row for row in _json(shown)["series"]}
    later = {day: row for day, row in days.items() if row["unrecorded_points"]}
    assert set(later) == {"2026-11-23", "2026-11-24"}, {d: r["unrecorded_points"] for d, r in days.items()}
    assert all(row["cost_usd"] is None and row["calls"] == 0 for row in later.values())
    assert days["2026-11-21"]["cost_usd"] == 0 and days["2026-11-21"]["unrecorded_points"] == 0
    assert days["2026-11-19"]["cost_usd"] > 0
    table = run("trends", "--since", "2026-11-17", "--until", "2026-11-26", "--db", partly_recorded)
    said = " ".join(table.output.split())
    assert "2 day(s) whose spans hold no LLM call have GenAI metric points counting calls " \
           "(2026-11-23, 2026-11-24)" in said, said


def _written(tmp_path, metrics: list[dict], spans: list[dict] = ()) -> str:
    """A store of ``metrics`` and ``spans`` (OTLP JSON, one resource and scope), ingested from the files
    an OTLP file exporter writes."""
    import orjson

    if spans:
        (tmp_path / "traces.jsonl").write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [
            {"spans": list(spans)}]}]}) + b"\n")
    (tmp_path / "metrics.jsonl").write_bytes(orjson.dumps({"resourceMetrics": [{"resource": {}, "scopeMetrics": [
        {"metrics": metrics}]}]}) + b"\n")
    db = str(tmp_path / "s.duckdb")
    with TraceStore(db) as store:
        store.ingest(tmp_path)
    return db


def test_a_point_exported_just_after_midnight_for_the_days_last_call_marks_no_quiet_day(tmp_path) -> None:
    """A call at 23:59:50 is counted by the metric point exported at 00:00:40 (a reader exports every
    60 s): the next day has that point and no call, and is quiet, not unknown."""
    from tests.support.synthetic import key_values

    day = 1_763_510_400_000_000_000  # 2025-11-19 00:00 UTC
    call = day + 86_390 * 10**9  # 23:59:50
    span = {"traceId": "a" * 32, "spanId": "b" * 16, "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": str(call), "endTimeUnixNano": str(call + 10**9),
            "attributes": key_values({semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_REQUEST_MODEL: "gpt-4o",
                                      semconv.GEN_AI_USAGE_INPUT_TOKENS: 5, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 2})}
    point = {"startTimeUnixNano": str(day), "timeUnixNano": str(day + 86_440 * 10**9), "count": "1", "sum": 1.0,
             "attributes": key_values({semconv.GEN_AI_REQUEST_MODEL: "gpt-4o"})}
    metric = {"name": semconv.METRIC_OPERATION_DURATION, "unit": "s",
              "histogram": {"aggregationTemporality": 2, "dataPoints": [point]}}
    db = _written(tmp_path, [metric], [span])
    shown = run("trends", "--since", "2025-11-19", "--until", "2025-11-21", "--format", "json", "--db", db)
    assert shown.exit_code == 0, shown.output
    days = {row["period"][:10]: row for row in _json(shown)["series"]}
    assert days["2025-11-20"]["unrecorded_points"] == 0 and days["2025-11-20"]["cost_usd"] == 0, days


PARTLY = "2 day(s) whose spans hold no LLM call have GenAI metric points counting calls (2026-11-23, 2026-11-24)"


def test_budget_of_a_month_partly_recorded_only_in_metric_points_is_a_lower_bound_not_ok(partly_recorded: str) -> None:
    """A month with spans on 18-20 Nov and only metric points on 23-24 Nov: ``budget`` summed the spans'
    spend, said "ok" and exited 0 though two days' calls were not in it. Now the spend is at least that (a
    lower bound naming the days), its status unknown (exit 3) while below 90 %, and the projection unknown."""
    args = ("--month", "2026-11", "--as-of", "2026-11-26", "--db", partly_recorded)
    shown = run("budget", "--monthly", "1000", "--format", "json", *args)
    assert shown.exit_code == 3, shown.output
    (row,) = _json(shown)["rows"]
    assert row["status"] == "unknown" and row["spent"] > 0, row
    assert row["cost_unknown"].startswith(f"at least ${row['spent']:,.4f}, a lower bound: {PARTLY}"), row
    assert row["unrecorded_days"] == ["2026-11-23", "2026-11-24"], row
    assert row["projected_month_end"] is None and row["runs_out_on"] is None and row["burn_rate_per_day"] is None
    table = run("budget", "--monthly", "1000", *args)
    said = " ".join(table.output.split())
    assert table.exit_code == 3 and " ok " not in table.output and f"overall: spend at least ${row['spent']:,.4f}" in said


def test_budget_whose_lower_bound_already_crosses_90_percent_is_critical(partly_recorded: str) -> None:
    """The spend known is a lower bound: when it alone is 90 % of the budget the month is critical (exit 1)
    whatever the days only metric points record cost."""
    known = _json(run("budget", "--monthly", "1000", "--month", "2026-11", "--as-of", "2026-11-26", "--format",
                      "json", "--db", partly_recorded))["rows"][0]["spent"]
    shown = run("budget", "--monthly", str(known / 2), "--month", "2026-11", "--as-of", "2026-11-26",
                "--format", "json", "--db", partly_recorded)
    assert shown.exit_code == 1, shown.output
    (row,) = _json(shown)["rows"]
    assert row["status"] == "critical" and PARTLY in row["cost_unknown"], row


def test_forecast_of_a_month_partly_recorded_only_in_metric_points_is_a_lower_bound(partly_recorded: str) -> None:
    """The month-end forecast projected the spans' spend as if the metric-points-only days cost $0."""
    shown = run("trends", "--since", "2026-11-17", "--until", "2026-11-26", "--format", "json",
                "--db", partly_recorded)
    assert shown.exit_code == 0, shown.output
    forecast = _json(shown)["forecast"]
    assert forecast["cost_unknown"] == f"at least ${forecast['spent']:,.4f}, a lower bound: {PARTLY}" \
           ": traces sampled out or not shipped, so their cost is unknown, not $0 (calls and tokens are read " \
           "from spans)", forecast
    assert forecast["projected_month_end"] is None and forecast["spent"] > 0, forecast



def test_check_over_metrics_only_calls_judges_p95_from_the_duration_buckets_never_no_data(
        metrics_only: str, tmp_path) -> None:
    """``check --max-p95-ms`` and the error rate said "no data" and passed (exit 0) over a window whose calls
    only GenAI metric points record: an alert that cannot be evaluated must not pass in silence. The p95 is
    told from the duration histogram's buckets (breached below the p95 call's bucket, ok above it, unknown
    inside), the error rate and time to first token, which these points do not say, are unknown (exit 3)."""
    generate(tmp_path / "data", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))  # the same calls, spans too
    with TraceStore(str(tmp_path / "spans.duckdb")) as store:
        store.ingest(tmp_path / "data" / "traces.jsonl")
        durations = sorted(d for (d,) in store.query("SELECT duration_ms FROM llm_calls"))
    p95_call = durations[math.ceil(0.95 * len(durations)) - 1]  # the call at the 95th percentile's rank
    bounds = [b * 1000 for b in semconv.DURATION_BUCKETS]
    low = max([0.0] + [b for b in bounds if b < p95_call])
    high = min(b for b in bounds if b >= p95_call)

    def checked(p95_limit: float):
        result = run("check", "--since", "2026-11-01", "--max-p95-ms", str(p95_limit), "--max-ttft-ms", "1",
                     "--format", "json", "--db", metrics_only)
        return result.exit_code, {row["check"]: row for row in _json(result)["rows"]}

    code, rows = checked(low)
    assert code == 1 and rows["p95_latency_ms"]["status"] == "breached", rows["p95_latency_ms"]
    said = rows["p95_latency_ms"]["reason"]
    assert f"estimated from" in said and f"{semconv.METRIC_OPERATION_DURATION} histogram" in said, said
    assert f"the p95 call took {low:,.0f} to {high:,.0f} ms" in said, said
    code, rows = checked(high)
    assert code == 3 and rows["p95_latency_ms"]["status"] == "ok", rows["p95_latency_ms"]
    for name in ("error_rate", "p95_time_to_first_token_ms"):  # no error.type on these points; no TTFT at all
        assert rows[name]["status"] == "unknown" and rows[name]["observed"] is None, rows[name]
    assert f"none of them carries {semconv.ERROR_TYPE}" in rows["error_rate"]["reason"], rows["error_rate"]
    assert UNKNOWN in rows["p95_time_to_first_token_ms"]["reason"], rows
    assert rows["peak_memory_mb"]["status"] == "no data", rows["peak_memory_mb"]  # no process metrics: no data
    code, rows = checked((low + high) / 2)  # the limit inside the p95 call's bucket: not told
    assert code == 3 and rows["p95_latency_ms"]["status"] == "unknown", rows["p95_latency_ms"]
    table = run("check", "--since", "2026-11-01", "--max-p95-ms", str(high), "--db", metrics_only)
    assert table.exit_code == 3 and "unknown" in table.stdout and "estimated from" in " ".join(table.stdout.split())


def test_check_error_rate_of_metrics_only_calls_is_read_from_points_with_error_type(tmp_path) -> None:
    """Delta duration points of 8 calls, 2 of them under an ``error.type``, and no span: the error rate is 25 %
    (breached at 5 %, exit 1), said to be read from the points, where it said "no data" and passed."""
    from tests.support.synthetic import key_values

    start = 1_763_510_400_000_000_000  # 2025-11-19 00:00 UTC

    def point(count: int, error: str | None) -> dict:
        attrs = {semconv.GEN_AI_REQUEST_MODEL: "gpt-4o", **({semconv.ERROR_TYPE: error} if error else {})}
        return {"startTimeUnixNano": str(start + 3_600 * 10**9), "timeUnixNano": str(start + 3_660 * 10**9),
                "count": str(count), "sum": 0.5 * count, "bucketCounts": [str(count), "0"], "explicitBounds": [1.0],
                "attributes": key_values(attrs)}

    metric = {"name": semconv.METRIC_OPERATION_DURATION, "unit": "s",
              "histogram": {"aggregationTemporality": 1, "dataPoints": [point(6, None), point(2, "TimeoutError")]}}
    db = _written(tmp_path, [metric])
    result = run("check", "--since", "2025-11-19", "--until", "2025-11-20", "--format", "json", "--db", db)
    rows = {row["check"]: row for row in _json(result)["rows"]}
    assert result.exit_code == 1, result.output
    assert rows["error_rate"]["status"] == "breached" and rows["error_rate"]["observed"] == 0.25, rows["error_rate"]
    assert "estimated from 2 " in rows["error_rate"]["reason"] and "2 failed" in rows["error_rate"]["reason"], rows
    assert rows["p95_latency_ms"]["status"] == "ok", rows["p95_latency_ms"]  # every call within 1 s < 2 s


def test_check_max_cost_over_a_window_partly_recorded_only_in_metric_points_is_a_lower_bound(
        partly_recorded: str) -> None:
    """``check --max-cost`` over 17-26 Nov checked the spans' spend (18-20 Nov) and said ok (exit 0) though the
    calls of 23-24 Nov, only in metric points, cost something too: now it is unknown (exit 3) with the lower
    bound and the days, and breached (exit 1) when that lower bound alone crosses the limit."""
    def checked(limit: str):
        result = run("check", "--since", "2026-11-17", "--until", "2026-11-26", "--max-cost", limit, "--max-p95-ms",
                     "1000000", "--max-error-rate", "1", "--format", "json", "--db", partly_recorded)
        return result.exit_code, next(row for row in _json(result)["rows"] if row["check"] == "cost_usd")

    code, cost = checked("1000")
    assert code == 3 and cost["status"] == "unknown" and cost["observed"] > 0, cost
    assert cost["reason"].startswith(f"at least ${cost['observed']:,.4f}, a lower bound: {PARTLY}"), cost
    code, cost = checked(str(cost["observed"] / 2))
    assert code == 1 and cost["status"] == "breached" and PARTLY in cost["reason"], cost


@pytest.fixture
def growths(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The filters of each window whose GenAI metric points' growth is read (``_unrecorded.llm_metric_points``:
    the rise of every point of the window's series, ~1.5 s over two months of per-minute exports)."""
    from otel_llm_analysis import _unrecorded

    read: list[object] = []
    real = _unrecorded.llm_metric_points
    monkeypatch.setattr(_unrecorded, "llm_metric_points",
                        lambda store, filters: read.append(filters) or real(store, filters))
    return read


def test_the_growth_of_a_window_whose_spans_hold_no_call_is_read_once(metrics_only: str, partly_recorded: str,
                                                                      growths: list[object]) -> None:
    """``summary``, ``check`` and the terminal report asked ``unrecorded_cost`` of a window without calls in spans
    after ``totals`` had asked it (its ``cost_unknown``), reading its points' growth twice; a project's such
    window read it twice more through the whole store's ``totals``. Once each now, saying the same."""
    import io

    from rich.console import Console

    from otel_llm_analysis import Filters, totals
    from otel_llm_analysis.report import print_report

    summary = _json(run("summary", "--format", "json", "--db", metrics_only))
    assert any(UNKNOWN in note for note in summary["notes"]) and len(growths) == 1, growths
    check = run("check", "--max-cost", "1", "--since", "2026-11-01", "--format", "json", "--db", metrics_only)
    assert check.exit_code == 3 and len(growths) == 2, growths
    with TraceStore(metrics_only, read_only=True) as store:
        out = io.StringIO()
        print_report(store, Console(file=out, width=200))
    assert f"tokens and cost {UNKNOWN}" in " ".join(out.getvalue().split()) and len(growths) == 3, growths
    with TraceStore(partly_recorded, read_only=True) as store:
        later = totals(store, Filters.of(since="2026-11-23", until="2026-11-25", project="support"))
    assert later.llm_calls == 0 and UNKNOWN in later.cost_unknown and len(growths) == 4, (later, growths)
