"""Spans stored by a version of otel-llm that classified them differently are classified again.

``otel_kind``, ``provider``, ``request_model`` and ``model`` are worked out at ingest and the
files are not read twice: a store filled before a version recognised more producers' calls
(the Vercel AI SDK's spans without ``gen_ai.operation.name``) kept those spans out of every
analysis for good. A writable open now classifies the stored spans again when the rules changed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import orjson
import pytest

from otel_llm_analysis import TraceStore, totals
from otel_llm_analysis import _ingest_state as ingest_state
from otel_llm_analysis import _reclassify
from otel_llm_analysis.store import UnfinishedIngest
from tests.support.synthetic import key_values

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _write(path: Path) -> Path:
    """A bare @llm_call-like wrapper (otel_llm.kind) around a Vercel-style call span (no kind attribute)."""
    spans = [
        {"traceId": TRACE, "spanId": "00000000000000a1", "parentSpanId": "", "name": "answer", "kind": 1,
         "startTimeUnixNano": "1764000000000000000", "endTimeUnixNano": "1764000002000000000",
         "attributes": key_values({"otel_llm.kind": "llm_call", "gen_ai.request.model": "gpt-4o",
                                   "gen_ai.provider.name": "openai"})},
        {"traceId": TRACE, "spanId": "00000000000000a2", "parentSpanId": "00000000000000a1",
         "name": "ai.generateText.doGenerate", "kind": 3,
         "startTimeUnixNano": "1764000000100000000", "endTimeUnixNano": "1764000001900000000",
         "attributes": key_values({"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
                                   "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100})},
        {"traceId": TRACE, "spanId": "00000000000000b1", "parentSpanId": "", "name": "ai.embed.doEmbed",
         "kind": 3, "startTimeUnixNano": "1764000003000000000", "endTimeUnixNano": "1764000003100000000",
         "attributes": key_values({"gen_ai.system": "openai", "gen_ai.request.model": "text-embedding-3-small",
                                   "gen_ai.usage.input_tokens": 50})},
        {"traceId": TRACE, "spanId": "00000000000000c1", "parentSpanId": "", "name": "ai.generateText.doGenerate",
         "kind": 3, "startTimeUnixNano": "1764000004000000000", "endTimeUnixNano": "1764000004100000000",
         "attributes": key_values({"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
                                   "gen_ai.usage.total_tokens": 77})},
    ]
    path.write_bytes(orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": key_values({"service.name": "svc"})},
        "scopeSpans": [{"scope": {"name": "ai"}, "spans": spans}]}]}) + b"\n")
    return path


def _as_an_older_version_left_it(db: Path) -> None:
    """What a version without the inferred-call rule stored: those spans of no kind, unpaired, unpriced."""
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("UPDATE span_rows SET otel_kind = NULL, cost_usd = NULL, cost_source = NULL, cost_table = NULL "
                "WHERE name LIKE 'ai.%'")
    con.execute("UPDATE span_rows SET wrapped_calls = NULL, wrapper_span_id = NULL")
    ingest_state.put(con, "total_only_usage", "none")  # what that version found: no such call among its calls
    ingest_state.put(con, _reclassify.STATE, "an older definition")
    con.close()


@pytest.fixture()
def old_store(tmp_path: Path) -> Path:
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(_write(tmp_path / "traces.jsonl"))
        before = totals(store)
    # the call traced twice counts once; the last call's usage is only a total
    assert (before.llm_calls, before.input_tokens, before.total_only_tokens) == (3, 1050, 77)
    _as_an_older_version_left_it(db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = TraceStore(db, read_only=True)
    with store:
        assert totals(store).llm_calls == 1  # what such a store answered: the wrapper alone
    return db


def test_a_writable_open_classifies_the_stored_spans_again(old_store: Path):
    with pytest.warns(UnfinishedIngest, match="classified 3 span"), TraceStore(old_store) as store:
        kinds = dict(store.query("SELECT name, otel_kind FROM span_rows"))
        paired = store.query("SELECT wrapped_calls FROM span_rows WHERE name = 'answer'")
        assert store.reclassified == 3
        t = totals(store)
    assert set(kinds.values()) == {"llm_call"}
    assert paired == [(1,)]  # the wrapper and its call are one call again
    assert (t.llm_calls, t.input_tokens, t.output_tokens, t.total_only_tokens) == (3, 1050, 100, 77)


def test_the_next_ingest_prices_the_calls_classified_again(old_store: Path, tmp_path: Path):
    with pytest.warns(UnfinishedIngest, match=r"classified .* again"), TraceStore(old_store) as store:
        assert "next ingest" in (store.unfinished or "")
    empty = tmp_path / "more"
    empty.mkdir()
    with TraceStore(old_store) as store:
        store.ingest(empty)
        t = totals(store)
        assert store.unfinished is None
    with TraceStore(tmp_path / "fresh.duckdb") as fresh:  # the same file ingested by this version
        fresh.ingest(tmp_path / "traces.jsonl")
        expected = totals(fresh)
    assert t == expected and t.cost_usd > 0


def test_a_read_only_open_says_the_figures_wait_for_the_next_ingest(old_store: Path):
    with pytest.warns(UnfinishedIngest, match="another version"), TraceStore(old_store, read_only=True) as store:
        assert store.unfinished


def test_a_store_classified_by_these_rules_is_not_walked_again(tmp_path: Path):
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(_write(tmp_path / "traces.jsonl"))
    with TraceStore(db) as store:
        assert ingest_state.get(store.connection, _reclassify.STATE) == _reclassify.definition()
        assert _reclassify.catch_up(store.connection) == 0 and store.reclassified == 0


def test_the_ingest_command_says_it_classified_stored_spans_again(old_store: Path, tmp_path: Path):
    """An upgrade that changes the figures of data already stored says why, once, on the ingest that does it."""
    import typer
    from typer.testing import CliRunner

    from otel_llm_analysis.cli import register

    app = typer.Typer()
    register(app)
    empty = tmp_path / "more"
    empty.mkdir()
    (empty / "traces.jsonl").write_bytes(b"")
    first = CliRunner().invoke(app, ["ingest", str(empty), "--db", str(old_store)])
    again = CliRunner().invoke(app, ["ingest", str(empty), "--db", str(old_store)])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert "classified 3 span(s) stored before again" in first.output
    assert "classified" not in again.output
