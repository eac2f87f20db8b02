"""The cost of retries leaves out the retried calls whose cost is unknown, and says how many.

Ground truth is the turns written below: each a chat span whose model call is
tried twice (``otel_llm.attempt`` 1 then 2). The first try's call has a price,
no price (a model without one), no usage observed (``otel_llm.usage.unobserved``:
the app read the raw response itself) or no usage because it failed before an
answer (nothing to pay). ``retry_cost_usd`` sums the first tries' calls; those
of unknown cost were summed as nothing, in silence (a turn of them showed $0).
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from otel_llm import semconv
from otel_llm_analysis.retry_outcomes import retries
from otel_llm_analysis.store import TraceStore
from tests.support import synthetic

_START = 1_763_600_000_000_000_000
_PRICED = {"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100}
#: the first try's call of each turn: (attributes, status code, cost unknown?)
FIRST_TRIES = {
    "priced": ({"gen_ai.request.model": "gpt-4o", **_PRICED}, 2, False),
    "unpriced": ({"gen_ai.request.model": "in-house-model", **_PRICED}, 2, True),
    "unobserved": ({"gen_ai.request.model": "gpt-4o", semconv.OTEL_LLM_USAGE_UNOBSERVED: "response not parsed"},
                   0, True),
    "failed early": ({"gen_ai.request.model": "gpt-4o"}, 2, False),  # no answer: nothing to pay
}


def _span(trace: int, number: int, parent: int | None, name: str, start_s: float, **attributes: object):
    record = synthetic.SpanRecord(
        trace_id=f"{trace:032x}", span_id=f"{trace * 16 + number:016x}",
        parent_span_id=None if parent is None else f"{trace * 16 + parent:016x}", name=name, span_kind="INTERNAL",
        service_name="svc", project="", otel_kind="", start_ns=_START + trace * 10**10 + int(start_s * 1e9),
        end_ns=_START + trace * 10**10 + int((start_s + 0.5) * 1e9), resource={"service.name": "svc"})
    record.attributes = dict(attributes)
    return record


def _turn(trace: int, first: tuple) -> list:
    attributes, status, _ = first
    chat = _span(trace, 1, None, "answer", 0, **{semconv.OTEL_LLM_KIND: semconv.KIND_CHAT})
    chat.end_ns += 2 * 10**9
    tries = [_span(trace, 2, 1, "chat", 0.1, **{semconv.OTEL_LLM_KIND: semconv.KIND_LLM_CALL,
                                                 "gen_ai.operation.name": "chat", semconv.OTEL_LLM_ATTEMPT: 1,
                                                 **attributes}),
             _span(trace, 3, 1, "chat", 1.0, **{semconv.OTEL_LLM_KIND: semconv.KIND_LLM_CALL,
                                                 "gen_ai.operation.name": "chat", semconv.OTEL_LLM_ATTEMPT: 2,
                                                 "gen_ai.request.model": "gpt-4o", **_PRICED})]
    tries[0].status_code = status
    return [chat, *tries]


@pytest.fixture
def db(tmp_path: Path) -> str:
    spans = [span for i, first in enumerate(FIRST_TRIES.values(), 1) for span in _turn(i, first)]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps(synthetic.spans_request(spans)) + b"\n")
    db = str(tmp_path / "s.duckdb")
    with TraceStore(db) as store:
        store.ingest([str(path)])
    return db


def test_retried_calls_of_unknown_cost_are_counted(db):
    with TraceStore(db, read_only=True) as store:
        (row,) = retries(store)
        (one,) = retries(store, "project", None)  # grouped the same: every turn lacks a project
        priced_first = store.query("SELECT cost_usd FROM llm_calls WHERE span_id = ?", [f"{1 * 16 + 2:016x}"])[0][0]
    assert (row.turns, row.retries, row.loops) == (4, 4, 4)
    assert row.retry_calls_without_cost == sum(unknown for *_, unknown in FIRST_TRIES.values()) == 2
    assert one.retry_calls_without_cost == 2
    assert row.retry_cost_usd == pytest.approx(priced_first)  # the part known, said to leave two calls out


def test_the_retries_command_says_so_in_every_format(db):
    from otel_llm.cli import app

    table = CliRunner().invoke(app, ["retries", "--db", db], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    text = " ".join(table.output.split())
    assert "2 calls made in retried tries have no known cost" in text, text
    document = json.loads(CliRunner().invoke(app, ["retries", "--db", db, "--format", "json"]).stdout)
    assert document["rows"][0]["retry_calls_without_cost"] == 2
    assert any("2 calls made in retried tries have no known cost" in n for n in document["notes"])


def test_a_store_another_version_made_reads_without_the_count(db):
    """Opened read-only, a store keeps the tables its last writer made: turns without the count are read,
    the count unknown (None), never a failed query."""
    import duckdb

    con = duckdb.connect(db)
    con.execute("ALTER TABLE turn_rows DROP COLUMN retry_unknown_cost_calls")
    con.close()
    with TraceStore(db, read_only=True) as store:
        (row,) = retries(store)
    assert row.turns == 4 and row.retry_calls_without_cost is None
