"""The ``spans`` view over the exporter's otel_traces, generated from the spelling table.

Every spelling of every column in ``_spellings.SPELLINGS`` is tried alone on a span
(as the exporter stores it: a Map of strings) and must come out typed in its
column; the first spelling wins over later ones; the producers' kinds, provider
names and requested models (``_producers``) come out as DuckDB's ingest derives
them; a time filter on ``start_time`` must reach ClickHouse's partition and
ordering key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import chdb.session
import pytest

from otel_llm.collector import exporter_sql_dir
from otel_llm_analysis import TraceStore
from otel_llm_analysis._producers import KIND_SOURCES
from otel_llm_analysis._spellings import SPELLINGS
from otel_llm_analysis.clickhouse import TRACES_TABLE, ExporterSchema
from otel_llm_analysis.clickhouse._span_table import ensure_span_table
from otel_llm_analysis.clickhouse._views import span_table_name, spans_view
from tests.support.chdb_client import SessionClient

#: An attribute value as the exporter writes it (pcommon AsString) -> the typed column value.
SAMPLES: dict[str, tuple[str, Any]] = {
    "input_tokens": ("12", 12), "output_tokens": ("5.0", 5), "cache_read_tokens": ("3", 3),
    "cache_write_tokens": ("4", 4), "reasoning_tokens": ("2", 2), "cost_usd": ("0.00000585", 5.85e-06),
    "finish_reasons": ('["stop","length"]', ["stop", "length"]),
}


def literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ch_map(attributes: dict[str, str]) -> str:
    return "map(" + ", ".join(f"{literal(k)}, {literal(v)}" for k, v in attributes.items()) + ")"


@pytest.fixture(scope="module")
def view_db(chdb_session: chdb.session.Session) -> str:
    """The exporter's tables and the view, created once for this module."""
    database = "otel_spans_view"
    for statement in ExporterSchema(database=database).statements(exporter_sql_dir()):
        chdb_session.query(statement)
    ensure_span_table(SessionClient(chdb_session), database)
    chdb_session.query(spans_view(database))
    return database


@pytest.fixture
def spans_db(chdb_session: chdb.session.Session, view_db: str) -> str:
    """The module's database with an empty otel_traces."""
    chdb_session.query(f"TRUNCATE TABLE `{view_db}`.{TRACES_TABLE}")
    chdb_session.query(f"TRUNCATE TABLE `{view_db}`.`{span_table_name()}`")
    return view_db


def insert(session: chdb.session.Session, database: str, span_id: str, attributes: dict[str, str],
           service: str = "svc") -> None:
    session.query(
        f"INSERT INTO `{database}`.{TRACES_TABLE} (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName, "
        f"SpanAttributes, Duration, StatusCode) VALUES ('2026-11-30 12:00:00', 't', {literal(span_id)}, 'op', "
        f"'Client', {literal(service)}, {ch_map(attributes)}, 2500000, 'Error')"
    )


def select(session: chdb.session.Session, database: str, columns: str) -> list[dict[str, Any]]:
    out = session.query(f"SELECT span_id, {columns} FROM `{database}`.spans ORDER BY span_id", "JSONEachRow")
    return [json.loads(line) for line in out.bytes().decode().splitlines()]


CASES = [(column, name) for column, names in SPELLINGS.items() for name in names]


@pytest.mark.parametrize(("column", "spelling"), CASES, ids=[f"{c}={n}" for c, n in CASES])
def test_each_spelling_alone_fills_its_column(chdb_session: chdb.session.Session, spans_db: str,
                                              column: str, spelling: str) -> None:
    raw, expected = SAMPLES.get(column, ("v-1", "v-1"))
    insert(chdb_session, spans_db, "s1", {spelling: raw}, service="" if column == "service_name" else "svc")
    insert(chdb_session, spans_db, "s2", {"unrelated.key": raw})
    rows = select(chdb_session, spans_db, column)
    assert rows[0][column] == expected
    absent = {"finish_reasons": [], "service_name": "svc"}.get(column)
    assert rows[1][column] == absent  # no spelling present: NULL ([] for the array)


@pytest.mark.parametrize("column", [c for c, names in SPELLINGS.items() if len(names) > 1])
def test_the_first_spelling_wins(chdb_session: chdb.session.Session, spans_db: str, column: str) -> None:
    names = SPELLINGS[column]
    raw_first, expected = SAMPLES.get(column, ("first", "first"))
    insert(chdb_session, spans_db, "s1", {names[-1]: "1" if column in SAMPLES else "last", names[0]: raw_first},
           service="")
    assert select(chdb_session, spans_db, column)[0][column] == expected


def test_span_basics_and_model_fallback(chdb_session: chdb.session.Session, spans_db: str) -> None:
    insert(chdb_session, spans_db, "s1", {"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024"})
    insert(chdb_session, spans_db, "s2", {"gen_ai.response.model": "gpt-4o-2024"})
    rows = select(chdb_session, spans_db, "model, span_kind, status_code, duration_ms, parent_span_id")
    assert [r["model"] for r in rows] == ["gpt-4o", "gpt-4o-2024"]  # the model asked for, else the one that answered
    assert rows[0] | {"model": None} == {"span_id": "s1", "model": None, "span_kind": "CLIENT", "status_code": 2,
                                        "duration_ms": 2.5, "parent_span_id": None}


def test_a_start_time_filter_uses_the_partition_and_the_ordering_key(chdb_session: chdb.session.Session,
                                                                     spans_db: str) -> None:
    insert(chdb_session, spans_db, "s1", {})
    plan = chdb_session.query(f"EXPLAIN indexes = 1 SELECT sum(duration_ms) FROM `{spans_db}`.spans "
                              "WHERE start_time >= '2026-11-30 00:00:00'", "TSVRaw").bytes().decode()
    assert "Condition: (toDate(start_time) in [" in plan, plan
    assert "PrimaryKey" in plan and "Condition: (start_time in [" in plan, plan


#: Spans of other producers whose kind, provider and models are mapped, not spelled (``_producers``).
MAPPED = [
    *({name: value} for name, mapping in KIND_SOURCES if mapping for value in mapping),
    {"openinference.span.kind": "GUARDRAIL", "gen_ai.operation.name": "chat"},  # unmapped: the next source
    {"otel_llm.kind": "llm_call", "openinference.span.kind": "TOOL"},
    {"gen_ai.system": " OpenAI ", "llm.model_name": "gpt-4o-mini-2024-07-18",
     "llm.invocation_parameters": '{"model": "gpt-4o-mini", "temperature": 0}'},
    {"llm.provider": "azure", "embedding.model_name": "text-embedding-3-small",
     "embedding.invocation_parameters": '{"model": "text-embedding-3-small"}'},
    {"gen_ai.provider.name": "Mistral", "llm.invocation_parameters": "not json"},
    {"gen_ai.request.model": "asked", "llm.invocation_parameters": '{"model": "in params"}'},
]
_MAPPED_COLUMNS = ("otel_kind", "provider", "model", "request_model", "response_model")


def test_producer_mappings_equal_duckdbs(chdb_session: chdb.session.Session, spans_db: str, tmp_path: Path) -> None:
    spans = []
    for i, attributes in enumerate(MAPPED):
        span_id = f"{i + 1:016x}"
        insert(chdb_session, spans_db, span_id, attributes)
        spans.append({"traceId": "0" * 31 + "1", "spanId": span_id, "name": "op",
                      "startTimeUnixNano": "1764000000000000000", "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()]})
    path = tmp_path / "traces.jsonl"
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}) + "\n")
    with TraceStore(":memory:") as store:
        assert store.ingest(path).bad_lines == []
        expected = [dict(zip(("span_id", *_MAPPED_COLUMNS), row)) for row in
                    store.query(f"SELECT span_id, {', '.join(_MAPPED_COLUMNS)} FROM spans ORDER BY span_id")]
    assert select(chdb_session, spans_db, ", ".join(_MAPPED_COLUMNS)) == expected
