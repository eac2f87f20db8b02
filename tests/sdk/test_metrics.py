"""Metrics read back through the SDK's InMemoryMetricReader: names, units, buckets, values."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc

LLM_ATTRS = {
    sc.GEN_AI_OPERATION_NAME: "chat",
    sc.GEN_AI_PROVIDER_NAME: "openai",
    sc.GEN_AI_REQUEST_MODEL: "test-model",
}


def metrics_by_name(cap) -> dict[str, Any]:
    data = cap.reader.get_metrics_data()
    return {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}


def points(metric) -> dict[frozenset, Any]:
    return {frozenset(p.attributes.items()): p for p in metric.data.data_points}


def test_llm_call_metrics_names_units_buckets_and_values(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(n_in: int, n_out: int) -> dict:
        return response(input_tokens=n_in, output_tokens=n_out)

    ask(1_000_000, 200_000)
    ask(3, 5)
    metrics = metrics_by_name(cap)

    tokens = metrics[sc.METRIC_TOKEN_USAGE]
    assert tokens.unit == "{token}"
    by_type = points(tokens)
    inp = by_type[frozenset({**LLM_ATTRS, sc.GEN_AI_TOKEN_TYPE: "input"}.items())]
    out = by_type[frozenset({**LLM_ATTRS, sc.GEN_AI_TOKEN_TYPE: "output"}.items())]
    assert (inp.count, inp.sum, inp.min, inp.max) == (2, 1_000_003, 3, 1_000_000)
    assert (out.count, out.sum) == (2, 200_005)
    assert tuple(inp.explicit_bounds) == tuple(float(b) for b in sc.TOKEN_USAGE_BUCKETS)
    # 3 falls in (1, 4], 1_000_000 in (262144, 1048576]
    assert inp.bucket_counts[sc.TOKEN_USAGE_BUCKETS.index(4)] == 1
    assert inp.bucket_counts[sc.TOKEN_USAGE_BUCKETS.index(1048576)] == 1

    duration = metrics[sc.METRIC_OPERATION_DURATION]
    assert duration.unit == "s"
    (point,) = duration.data.data_points
    assert dict(point.attributes) == LLM_ATTRS
    assert point.count == 2 and 0 <= point.sum < 5
    assert tuple(point.explicit_bounds) == sc.DURATION_BUCKETS

    cost = metrics[sc.METRIC_COST]
    assert cost.unit == "USD"
    (cost_point,) = cost.data.data_points
    assert dict(cost_point.attributes) == LLM_ATTRS
    spans_cost = sum(s.attributes[sc.GEN_AI_USAGE_COST] for s in cap.spans())
    assert cost_point.value == pytest.approx(spans_cost)
    assert cost_point.value == pytest.approx(1.4 + 3e-6 + 10e-6)


def test_failed_call_duration_carries_error_type_and_no_tokens(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        ask()
    metrics = metrics_by_name(cap)
    (point,) = metrics[sc.METRIC_OPERATION_DURATION].data.data_points
    assert dict(point.attributes) == {**LLM_ATTRS, sc.ERROR_TYPE: "ConnectionError"}
    assert sc.METRIC_TOKEN_USAGE not in metrics
    assert sc.METRIC_COST not in metrics


def test_metric_attributes_are_low_cardinality(cap, response):
    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask() -> dict:
        return response()

    @otel_llm.chat
    def answer(question: str, thread_id: str) -> str:
        ask()
        return "a"

    for i in range(5):
        with otel_llm.session(user_id=f"user-{i}", run_config={"i": i}):
            answer("q", thread_id=f"thread-{i}")
    for metric in metrics_by_name(cap).values():
        for point in metric.data.data_points:
            keys = set(point.attributes)
            assert not keys & {sc.GEN_AI_CONVERSATION_ID, sc.USER_ID, sc.GEN_AI_RESPONSE_ID}
            assert not any(k.startswith(sc.OTEL_LLM_RUN_CONFIG_PREFIX) for k in keys)
    assert len(metrics_by_name(cap)[sc.METRIC_OPERATION_DURATION].data.data_points) == 1


async def test_time_to_first_chunk_for_streams_only(cap):
    @otel_llm.llm_call(model="test-model", provider="openai")
    async def stream():
        await asyncio.sleep(0.02)
        yield "first"
        yield "second"

    @otel_llm.llm_call(model="test-model", provider="openai")
    async def plain() -> str:
        return "x"

    assert [c async for c in stream()] == ["first", "second"]
    await plain()
    metric = metrics_by_name(cap)[sc.METRIC_TIME_TO_FIRST_CHUNK]
    assert metric.unit == "s"
    (point,) = metric.data.data_points
    assert point.count == 1  # one stream, one first chunk; the plain call adds nothing
    assert 0.02 <= point.sum < 5
    assert dict(point.attributes) == LLM_ATTRS
    assert tuple(point.explicit_bounds) == sc.DURATION_BUCKETS
    stream_span = [s for s in cap.spans() if sc.OTEL_LLM_STREAM_CHUNKS in s.attributes][0]
    first = next(e for e in stream_span.events if e.name == sc.EVENT_LLM_FIRST_TOKEN)
    assert first.timestamp >= stream_span.start_time


def test_vector_op_counter_and_graph_node_duration(cap):
    @otel_llm.vector_op("search", collection="docs", db_system="chroma")
    def search(fail: bool = False) -> list:
        if fail:
            raise LookupError("index missing")
        return [1, 2]

    @otel_llm.graph_node("retrieve", graph="rag")
    def retrieve() -> list:
        search()
        search()
        with pytest.raises(LookupError):
            search(fail=True)
        return []

    retrieve()
    metrics = metrics_by_name(cap)
    counter = metrics[sc.METRIC_VECTOR_OPERATIONS]
    assert counter.unit == "{operation}"
    db = {sc.DB_SYSTEM_NAME: "chroma", sc.DB_OPERATION_NAME: "search", sc.DB_COLLECTION_NAME: "docs"}
    by_attrs = {frozenset(p.attributes.items()): p.value for p in counter.data.data_points}
    assert by_attrs == {
        frozenset(db.items()): 2,
        frozenset({**db, sc.ERROR_TYPE: "LookupError"}.items()): 1,
    }

    nodes = metrics[sc.METRIC_GRAPH_NODE_DURATION]
    assert nodes.unit == "s"
    (point,) = nodes.data.data_points
    assert dict(point.attributes) == {sc.OTEL_LLM_GRAPH_NODE: "retrieve", sc.OTEL_LLM_GRAPH_NAME: "rag"}
    assert point.count == 1
    assert tuple(point.explicit_bounds) == sc.DURATION_BUCKETS
