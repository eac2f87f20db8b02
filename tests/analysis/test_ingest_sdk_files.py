"""Files written by otel-llm's embedded file exporter ingest to the spans the SDK recorded.

Ground truth is the OpenTelemetry SDK's own in-memory exporter fed by the same
provider, so ids, times, attributes, events and status are compared with what the
SDK held, not with what the file says.
"""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_llm import semconv
from otel_llm.exporters.file import FileSpanExporter
from otel_llm_analysis import TraceStore


def _record(path: Path) -> list:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-app"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(path)))
    tracer = provider.get_tracer("otel_llm", "0.1.0")
    for turn in range(3):
        with tracer.start_as_current_span("answer_question", attributes={
                semconv.OTEL_LLM_KIND: "chat", semconv.OTEL_LLM_PROJECT: "demo", semconv.USER_ID: f"u{turn}",
                semconv.OTEL_LLM_RUN_CONFIG_PREFIX + "temperature": 0.2}) as chat:
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes={
                    semconv.OTEL_LLM_KIND: "llm_call", semconv.GEN_AI_OPERATION_NAME: "chat",
                    semconv.GEN_AI_PROVIDER_NAME: "openai", semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                    semconv.GEN_AI_USAGE_INPUT_TOKENS: 100 + turn, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 7,
                    semconv.GEN_AI_USAGE_COST: 0.001 * (turn + 1),
                    semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",)}) as call:
                call.add_event(semconv.EVENT_LLM_FIRST_TOKEN)
                if turn == 2:
                    call.set_status(Status(StatusCode.ERROR, "RateLimitError: slow down"))
            chat.add_event(semconv.EVENT_EVALUATION_RESULT, {
                semconv.GEN_AI_EVALUATION_NAME: "relevance", semconv.GEN_AI_EVALUATION_SCORE_VALUE: 0.9,
                semconv.GEN_AI_EVALUATION_SCORE_LABEL: "pass"})
    provider.shutdown()
    return list(memory.get_finished_spans())


def test_sdk_file_exporter_output_matches_the_recorded_spans(tmp_path: Path, store: TraceStore) -> None:
    path = tmp_path / "traces.jsonl"
    spans = _record(path)
    report = store.ingest(path)
    assert report.bad_lines == []
    assert report.spans_added == len(spans) == 6
    rows = {r[0]: r[1:] for r in store.query(
        "SELECT span_id, trace_id, parent_span_id, name, span_kind, service_name, scope_name, status_code,"
        " status_message, input_tokens, cost_usd, model, user_id, duration_ms, stream_ttft_ms,"
        " attributes['otel_llm.run_config.temperature'], finish_reasons FROM spans")}
    for s in spans:
        ctx = s.get_span_context()
        a = s.attributes
        first_token = [e for e in s.events if e.name == semconv.EVENT_LLM_FIRST_TOKEN]
        expected = (
            f"{ctx.trace_id:032x}", f"{s.parent.span_id:016x}" if s.parent else None, s.name, s.kind.name,
            "sdk-app", "otel_llm", s.status.status_code.value, s.status.description,
            a.get(semconv.GEN_AI_USAGE_INPUT_TOKENS), a.get(semconv.GEN_AI_USAGE_COST),
            a.get(semconv.GEN_AI_REQUEST_MODEL), a.get(semconv.USER_ID), (s.end_time - s.start_time) / 1e6,
            (first_token[0].timestamp - s.start_time) / 1e6 if first_token else None,
            None if a.get(semconv.OTEL_LLM_RUN_CONFIG_PREFIX + "temperature") is None else "0.2",
            ["stop"] if semconv.GEN_AI_RESPONSE_FINISH_REASONS in a else None,
        )
        assert rows[f"{ctx.span_id:016x}"] == expected, s.name
    evals = store.query("SELECT eval_name, eval_score, eval_label, count(*) FROM span_events "
                        "WHERE eval_label IS NOT NULL GROUP BY ALL")
    assert evals == [("relevance", 0.9, "pass", 3)]
