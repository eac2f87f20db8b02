"""A name filter naming nothing the store holds is refused (exit 2, the names it holds), never answered
with zeros or an empty table as if the name had no data yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from otel_llm_analysis import TraceStore
from otel_llm_analysis.cli import register
from tests.support import synthetic


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("names")
    data = synthetic.generate(root / "data", seed=3, traces=40, days=3)
    path = str(root / "store.duckdb")
    with TraceStore(path) as store:
        store.ingest([str(f) for f in data.files])
    return path


def run(*args: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def test_quality_of_an_evaluation_the_store_lacks_is_refused_naming_those_it_holds(db: str) -> None:
    """``quality --evaluation nosuch`` exited 0 with a row of zeros (0 passed, every turn "not run"), as if
    the evaluation existed and had never passed."""
    refused = run("quality", "--evaluation", "nosuch", "--db", db)
    assert refused.exit_code == 2, refused.output
    assert "error: no data for evaluation nosuch (the store has evaluations: faithfulness, relevance)" \
        in refused.output, refused.output
    held = run("quality", "--evaluation", "relevance", "--format", "json", "--db", db)
    assert held.exit_code == 0, held.output


@pytest.mark.parametrize("option", ["--service", "--logger"])
@pytest.mark.parametrize("patterns", [[], ["--patterns"]])
def test_logs_of_a_service_or_logger_the_logs_lack_are_refused(db: str, option: str, patterns: list[str]) -> None:
    """``logs --service nosuch`` (or ``--logger``) printed "logs: no data" and exited 0: a misspelt name read
    as a quiet service."""
    refused = run("logs", *patterns, option, "nosuch", "--db", db)
    assert refused.exit_code == 2, refused.output
    kind = option[2:]
    assert f"error: no log records for {kind} nosuch (the store has log records of {kind}s: " in refused.output
    held = {"--service": "rag-api", "--logger": "otel_llm"}[option]
    assert held in refused.output, refused.output
    assert run("logs", *patterns, option, held, "--severity", "DEBUG", "--db", db).exit_code == 0


def test_a_window_the_data_does_not_reach_says_where_the_spans_are(db: str) -> None:
    """``summary --since`` a day after the store's last span printed 0 calls, $0 and no note, as if the app
    had been quiet; the other analyses said "no data". They now say the window holds no span and when the
    store's spans start."""
    from otel_llm_analysis._catalog import catalog

    with TraceStore(db, read_only=True) as store:
        known = catalog(store)
    after = (known.last_span.date().toordinal() + 2)
    since = type(known.last_span.date()).fromordinal(after).isoformat()
    said = (f"no span in the window: the store's spans run from {known.first_span:%Y-%m-%d %H:%M:%S} "
            f"to {known.last_span:%Y-%m-%d %H:%M:%S} UTC")
    for command in (["summary"], ["summary", "--by", "model"], ["tools"], ["traces"], ["quality"]):
        result = run(*command, "--since", since, "--format", "json", "--db", db)
        assert result.exit_code == 0, result.output
        assert said in json.loads(result.stdout)["notes"], (command, result.stdout)
    inside = run("tools", "--format", "json", "--db", db)  # spans selected: no such note
    assert not any("no span" in note for note in json.loads(inside.stdout)["notes"]), inside.stdout


def test_a_store_without_spans_says_what_it_holds_beside_its_zeros(tmp_path: Path) -> None:
    """``summary`` of a store holding only log records printed 0 calls, $0 and nothing else."""
    data = synthetic.generate(tmp_path / "data", seed=3, traces=10, days=1)
    path = str(tmp_path / "logs.duckdb")
    with TraceStore(path) as store:
        store.ingest(str(data.files[0].parent / "logs.jsonl"))
    result = run("summary", "--format", "json", "--db", path)
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert any(note.startswith("the store holds only logs: ") for note in notes), notes


@pytest.mark.parametrize("command", ["summary", "compare", "retries", "quality"])
def test_grouping_by_a_run_config_key_no_span_carries_is_refused(db: str, command: str) -> None:
    """``compare --by run_config.nosuch`` (and summary, retries, quality) exited 0 with one group "-" of every
    call, scored and ranked as if the key had been compared."""
    refused = run(command, "--by", "run_config.nosuch", "--db", db)
    assert refused.exit_code == 2, refused.output
    assert ("error: no data for run_config key nosuch (the store has run_config keys: max_retries, temperature)"
            in refused.output), refused.output
    assert run(command, "--by", "run_config.max_retries", "--format", "json", "--db", db).exit_code == 0


def test_trends_forecast_of_a_month_the_data_does_not_reach_says_so_not_zero(db: str) -> None:
    """Data of November 2026 forecast for December (the current month when read later, or --until in it):
    the forecast said "spent $0.0000 in 1 days, month-end ≈ $0.0000", as if the app had stopped spending;
    it says no call is there and where the store's spans are."""
    from otel_llm_analysis._catalog import catalog

    with TraceStore(db, read_only=True) as store:
        last = catalog(store).last_span
    assert (last.year, last.month) == (2026, 11), last
    document = json.loads(run("trends", "--until", "2026-12-02", "--format", "json", "--db", db).stdout)
    (forecast,) = [note for note in document["notes"] if note.startswith("forecast ")]
    assert forecast.startswith("forecast 2026-12: no LLM call from 2026-12-01 through 2026-12-01, so no spend to "
                               "project; no span in the window: the store's spans run from "), forecast
    assert "$0" not in forecast, forecast


@pytest.mark.parametrize("patterns", [[], ["--patterns"]])
def test_a_log_search_whose_window_holds_no_record_says_where_the_records_are(db: str, patterns: list[str]) -> None:
    """``logs --since`` after the store's last record said "logs: no data" alone, as if the app had been
    quiet; it says the window holds no record and when the store's run. A search finding nothing in a window
    that has records says nothing more."""
    with TraceStore(db, read_only=True) as store:
        ((first, last),) = store.query("SELECT min(time), max(time) FROM logs")
    result = run("logs", *patterns, "--since", f"{last.year + 1}-01-01", "--format", "json", "--db", db)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["notes"] == [
        f"no log record in the window: the store's log records run from {first:%Y-%m-%d %H:%M:%S} to "
        f"{last:%Y-%m-%d %H:%M:%S} UTC"], result.stdout
    unmatched = run("logs", *patterns, "--search", "no body says this", "--format", "json", "--db", db)
    assert json.loads(unmatched.stdout) == {"rows": [], "notes": []}, unmatched.stdout
