"""A call the SDK priced and refused a price names the SDK's reason (``otel_llm.cost.refused``), end to end:
SDK (in-memory capture) -> the file exporter's JSON lines -> ingest -> ``summary`` and ``budget`` notes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

import otel_llm
from otel_llm import semconv
from otel_llm.exporters.file import FileSpanExporter
from otel_llm.testing import Capture
from otel_llm_analysis import TraceStore, summary
from otel_llm_analysis.cli import register

ABSURD = "its cost is outside 0..1000 USD for one call"


def _store(tmp_path: Path) -> str:
    """Calls of a priced model: one of 10**12 input tokens (refused: beyond one call's bound), three priced."""
    capture = Capture(project="demo", pricing={"house-model": {"input": 1.0, "output": 2.0}}).start()
    try:
        for tokens in (10**12, 10, 20, 30):
            otel_llm.llm_call(model="house-model", provider="openai")(
                lambda tokens=tokens: otel_llm.record_usage(input_tokens=tokens, output_tokens=1))()
        spans = capture.spans()
    finally:
        capture.stop()
    assert [s.attributes.get(semconv.OTEL_LLM_COST_REFUSED) for s in spans] == [ABSURD, None, None, None]
    exporter = FileSpanExporter(tmp_path / "traces.jsonl")
    exporter.export(spans)
    exporter.shutdown()
    db = str(tmp_path / "store.duckdb")
    with TraceStore(db) as store:
        store.ingest(tmp_path / "traces.jsonl")
    return db


def run(*args: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def test_a_call_refused_a_price_by_the_sdk_is_named_with_its_reason_not_no_price(tmp_path: Path) -> None:
    """The call refused for a cost beyond $1,000 was counted as one "whose model has no price (add it with
    --pricing FILE)": advice that changes nothing, the model has a price. Now the SDK's reason is said."""
    db = _store(tmp_path)
    with TraceStore(db, read_only=True) as store:
        (row,) = summary(store)
    assert row.llm_calls == 4 and row.priced_calls == 3 and row.unpriced_calls == 1, row
    assert row.unpriced_reasons == {f"refused: {ABSURD}": 1}, row.unpriced_reasons
    shown = run("summary", "--format", "json", "--db", db)
    assert shown.exit_code == 0, shown.output
    notes = json.loads(shown.stdout)["notes"]
    said = [note for note in notes if "have no cost" in note]
    assert said and f"1 whose price the SDK refused ({ABSURD})" in said[0] and "no price" not in said[0], notes
    grouped = json.loads(run("summary", "--by", "model", "--format", "json", "--db", db).stdout)["notes"]
    assert any(ABSURD in note for note in grouped), grouped
    budget = run("budget", "--monthly", "1000", "--format", "json", "--db", db)  # the calls were made now
    assert any(f"whose price the SDK refused ({ABSURD})" in note for note in json.loads(budget.stdout)["notes"]), \
        budget.stdout
    traces = run("traces", "--format", "json", "--db", db)
    assert traces.exit_code == 0 and ABSURD in traces.stdout, traces.stdout


def test_the_dashboards_cost_card_names_the_sdks_refusal_not_no_price(tmp_path: Path) -> None:
    """The cost card said the unpriced call was "not included (no price known for their model)" for a call
    the SDK refused for a cost beyond $1,000: ``/api/summary`` gives the reasons as the CLI says them, and
    the card shows them (tests/web/test_report.py::test_report_says_unpriced_where_a_cost_is_unknown...)."""
    from fastapi.testclient import TestClient

    from otel_llm_analysis.web.live import LiveStore
    from otel_llm_analysis.web.server import create_app
    from otel_llm_analysis.web.views import Query

    db = _store(tmp_path)
    with TraceStore(db, read_only=True) as store:
        body = TestClient(create_app(LiveStore(store), Query())).get("/api/summary").json()
    assert body["unpriced_calls"] == 1 and body["unpriced_reasons"] == f"1 whose price the SDK refused ({ABSURD})", body
