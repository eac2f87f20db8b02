"""Agents over chains of nested invocations, under filters that keep some links of a chain only.

Ground truth is the chains written below (one trace each, one model call made
directly in every invocation, each call priced): an agent's figures count each
call once per agent name, whichever of its invocations the filters keep.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from otel_llm import semconv
from otel_llm_analysis._filters import Filters
from otel_llm_analysis.agent_usage import agents
from otel_llm_analysis.store import TraceStore
from tests.support import synthetic

_START = 1_763_600_000_000_000_000


def _chain(trace: int, links: list[tuple[str, str | None]]) -> list:
    """Agents nested in order (the first outermost), each ``(name, project)``, each making one call."""
    spans = []
    for depth, (name, project) in enumerate(links):
        parent = None if depth == 0 else spans[-2].span_id
        start = _START + trace * 10**10 + depth * 10**8
        attributes = {semconv.OTEL_LLM_KIND: semconv.KIND_AGENT, semconv.GEN_AI_AGENT_NAME: name}
        if project is not None:
            attributes[semconv.OTEL_LLM_PROJECT] = project
        agent = synthetic.SpanRecord(
            trace_id=f"{trace:032x}", span_id=f"{trace * 64 + 2 * depth + 1:016x}", parent_span_id=parent,
            name=f"agent {name}", span_kind="INTERNAL", service_name="svc", project="", otel_kind="",
            start_ns=start, end_ns=start + 5 * 10**9 - depth * 10**8, resource={"service.name": "svc"})
        agent.attributes = attributes
        call = synthetic.SpanRecord(
            trace_id=agent.trace_id, span_id=f"{trace * 64 + 2 * depth + 2:016x}", parent_span_id=agent.span_id,
            name="chat gpt-4o", span_kind="CLIENT", service_name="svc", project="", otel_kind="",
            start_ns=start + 10**7, end_ns=start + 2 * 10**7, resource={"service.name": "svc"})
        call.attributes = {semconv.OTEL_LLM_KIND: semconv.KIND_LLM_CALL, "gen_ai.operation.name": "chat",
                           "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10 * (depth + 1),
                           "gen_ai.usage.output_tokens": 1}
        spans += [agent, call]
    return spans


CHAINS = {
    # a recursive agent whose middle invocation is another project's
    1: [("planner", "p"), ("planner", "q"), ("planner", "p")],
    # an inner agent of its own project inside another project's outer one
    2: [("router", "p"), ("worker", "w")],
    # recursion through another agent
    3: [("planner", "p"), ("critic", "p"), ("planner", "p")],
}


@pytest.fixture
def store(tmp_path: Path):
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps(synthetic.spans_request(
        [span for trace, links in CHAINS.items() for span in _chain(trace, links)])) + b"\n")
    with TraceStore(str(tmp_path / "s.duckdb")) as s:
        s.ingest([str(path)])
        yield s


def _truth(project: str | None) -> dict[str, tuple[int, int, int]]:
    """Per agent name: (invocations kept, calls, input tokens), each call once per name: a kept
    invocation makes every call below it, and a call below two kept invocations of a name counts once."""
    truth: dict[str, tuple[int, int, int]] = {}
    for trace, links in CHAINS.items():
        for name in {n for n, _ in links}:
            kept = [depth for depth, (n, p) in enumerate(links)
                    if n == name and (project is None or (p or links[0][1]) == project)]
            if not kept:
                continue
            calls = range(min(kept), len(links))  # every call below the outermost kept one
            before = truth.get(name, (0, 0, 0))
            truth[name] = (before[0] + len(kept), before[1] + len(calls),
                           before[2] + sum(10 * (d + 1) for d in calls))
    return truth


@pytest.mark.parametrize("project", [None, "p", "q", "w"])
def test_each_call_counts_once_per_agent_whatever_the_filter_keeps(store, project):
    rows = {row.agent: (row.invocations, row.llm_calls, row.input_tokens)
            for row in agents(store, Filters(project=project))}
    assert rows == _truth(project)
