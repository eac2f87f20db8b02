"""Ground truth for tools, agents and retries: plain Python over the generator's span records.

Like ``_ground_truth``, nothing here touches DuckDB or the views' SQL: the span
tree is rebuilt from parent ids, and every figure is recomputed from the
records' logical values (``SpanRecord.tool_name``, ``agent_name``,
``attempt``), which the generator knows whichever producer's attributes it
wrote.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from tests.analysis._ground_truth import is_llm, percentile, run_config
from tests.support.synthetic import SpanRecord


class Tree:
    """The spans of a data set as trees: parents, ancestors, turns."""

    def __init__(self, spans: Sequence[SpanRecord]) -> None:
        self.spans = list(spans)
        self.by_id = {(s.trace_id, s.span_id): s for s in spans}
        self.chat_traces = {s.trace_id for s in spans if s.otel_kind == "chat"}
        self.work_traces = {s.trace_id for s in spans if s.otel_kind in ("llm_call", "tool", "agent")}
        self.children: dict[tuple[str, str], list[SpanRecord]] = defaultdict(list)
        for s in spans:
            if s.parent_span_id:
                self.children[(s.trace_id, s.parent_span_id)].append(s)

    def parent(self, span: SpanRecord) -> SpanRecord | None:
        return self.by_id.get((span.trace_id, span.parent_span_id)) if span.parent_span_id else None

    def up(self, span: SpanRecord) -> Iterator[SpanRecord]:
        """The span, then each span it runs in, innermost first."""
        current: SpanRecord | None = span
        while current is not None:
            yield current
            current = self.parent(current)

    def turn(self, span: SpanRecord) -> SpanRecord | None:
        """The nearest chat span at or above; in a trace without one that did LLM work, the root (without a parent)."""
        chain = list(self.up(span))
        for s in chain:
            if s.otel_kind == "chat":
                return s
        top = chain[-1]
        run = span.trace_id in self.work_traces and span.trace_id not in self.chat_traces
        return top if run and top.parent_span_id is None else None

    def agents(self, span: SpanRecord) -> list[SpanRecord]:
        """The agent spans at or above ``span``, innermost first."""
        return [s for s in self.up(span) if s.otel_kind == "agent"]

    def node(self, span: SpanRecord) -> str | None:
        return next((s.graph_node for s in self.up(span) if s.graph_node), None)

    def inside(self, outer: SpanRecord) -> list[SpanRecord]:
        """Every span at or below ``outer``."""
        found, todo = [], [outer]
        while todo:
            span = todo.pop()
            found.append(span)
            todo += self.children[(span.trace_id, span.span_id)]
        return found


def _us(ns: int) -> int:
    return ns // 1000  # what a TIMESTAMP keeps


@dataclass
class Loop:
    tries: list[SpanRecord]
    cost: float | None = None
    retry_cost: float | None = None

    @property
    def attempts(self) -> int:
        return self.tries[-1].attempt  # type: ignore[return-value]

    @property
    def gave_up(self) -> bool:
        return self.tries[-1].status_code == 2

    @property
    def retry_ms(self) -> float:
        return (_us(self.tries[-1].start_ns) - _us(self.tries[0].start_ns)) / 1000


def loops(tree: Tree) -> list[Loop]:
    """Retry loops: tries (spans with an attempt number) of one parent and tool call id, attempts going up."""
    groups: dict[tuple, list[SpanRecord]] = defaultdict(list)
    for s in tree.spans:
        if s.attempt is not None:
            groups[(s.trace_id, s.parent_span_id, s.attributes.get("gen_ai.tool.call.id"))].append(s)
    out: list[Loop] = []
    for tries in groups.values():
        tries.sort(key=lambda s: (_us(s.start_ns), s.attempt, s.span_id))
        current: Loop | None = None
        for s in tries:
            if current is not None and s.attempt > current.tries[-1].attempt:
                current.tries.append(s)
            else:
                current = Loop([s])
                out.append(current)
    for loop in out:
        calls = [(t, c) for t in loop.tries for c in tree.inside(t) if is_llm(c)]
        priced = [c.cost_usd for _, c in calls if c.cost_usd is not None]
        loop.cost = sum(priced) if priced else None
        early = [c.cost_usd for t, c in calls if t is not loop.tries[-1] and c.cost_usd is not None]
        loop.retry_cost = sum(early) if early else None
    return out


@dataclass
class ToolTruth:
    calls: int = 0
    errors: int = 0
    retries: int = 0
    durations: list[float] = field(default_factory=list)
    per_turn: dict[tuple[str, str], list[SpanRecord]] = field(default_factory=lambda: defaultdict(list))
    agents: set[str] = field(default_factory=set)
    nodes: set[str] = field(default_factory=set)


def tools(tree: Tree, keep=lambda span: True) -> dict[str, dict]:
    """Per tool name, the figures ``tools()`` reports, over the tool spans ``keep`` accepts."""
    truth: dict[str, ToolTruth] = defaultdict(ToolTruth)
    for s in tree.spans:
        if s.otel_kind != "tool" or not keep(s):
            continue
        t = truth[s.tool_name]
        t.calls += 1
        t.errors += s.status_code == 2
        t.retries += (s.attempt or 0) >= 2
        t.durations.append(s.duration_ms)
        turn = tree.turn(s)
        if turn is not None:
            t.per_turn[(turn.trace_id, turn.span_id)].append(s)
        agents = tree.agents(s)
        if agents:
            t.agents.add(agents[0].agent_name)
        if tree.node(s):
            t.nodes.add(tree.node(s))
    out = {}
    for name, t in truth.items():
        turns = {key: tree.by_id[key] for key in t.per_turn}
        out[name] = dict(
            calls=t.calls, errors=t.errors, error_rate=t.errors / t.calls, retries=t.retries,
            p50_ms=percentile(t.durations, 0.5), p95_ms=percentile(t.durations, 0.95), total_ms=sum(t.durations),
            turns=len(turns),
            calls_per_turn=sum(len(v) for v in t.per_turn.values()) / len(turns) if turns else None,
            time_share=(sum(c.duration_ms for v in t.per_turn.values() for c in v)
                        / sum(turn.duration_ms for turn in turns.values())) if turns else None,
            agents=", ".join(sorted(t.agents)) or None, nodes=", ".join(sorted(t.nodes)) or None,
        )
    return out


def agents(tree: Tree, keep=lambda span: True) -> dict[str, dict]:
    """Per agent name, the figures ``agents()`` reports, over the agent spans ``keep`` accepts."""
    all_loops = loops(tree)
    groups: dict[str, list[SpanRecord]] = defaultdict(list)
    for s in tree.spans:
        if s.otel_kind == "agent" and keep(s):
            groups[s.agent_name].append(s)
    out = {}
    for name, invocations in groups.items():
        calls, tools_, succeeded, gave_up = [], [], 0, 0
        for a in invocations:
            below = tree.inside(a)
            calls += [c for c in below if is_llm(c)]
            tools_ += [t for t in below if t.otel_kind == "tool"]
            given_up = any(loop.gave_up for loop in all_loops if loop.tries[0] is not a
                           and any(outer is a for outer in tree.agents(loop.tries[0])))
            gave_up += given_up
            succeeded += a.status_code != 2 and not given_up
        n = len(invocations)
        priced = [c.cost_usd for c in calls if c.cost_usd is not None]
        tokens = sum((c.input_tokens or 0) + (c.output_tokens or 0) for c in calls)
        durations = [a.duration_ms for a in invocations]
        out[name] = dict(
            invocations=n, succeeded=succeeded, success_rate=succeeded / n,
            failed=sum(a.status_code == 2 for a in invocations), gave_up=gave_up,
            llm_calls=len(calls), failed_calls=sum(c.status_code == 2 for c in calls),
            tool_calls=len(tools_), failed_tool_calls=sum(t.status_code == 2 for t in tools_),
            llm_calls_per_invocation=len(calls) / n, tool_calls_per_invocation=len(tools_) / n,
            tokens_per_invocation=tokens / n,
            cost_usd=sum(priced) if priced else None, cost_per_invocation=sum(priced) / n if priced else None,
            priced_calls=len(priced), p50_ms=percentile(durations, 0.5), p95_ms=percentile(durations, 0.95),
        )
    return out


def retries(tree: Tree, key: str | None = None) -> dict[object, dict]:
    """Per run_config ``key`` value (one group when None), the figures ``retries()`` reports."""
    all_loops = loops(tree)
    turns = [s for s in tree.spans if s.otel_kind == "chat"]
    loops_of: dict[tuple[str, str], list[Loop]] = defaultdict(list)
    for loop in all_loops:
        turn = tree.turn(loop.tries[0])
        if turn is not None:
            loops_of[(turn.trace_id, turn.span_id)].append(loop)
    groups: dict[object, list[SpanRecord]] = defaultdict(list)
    for t in turns:
        groups[run_config(t, key) if key else None].append(t)
    out = {}
    for value, members in groups.items():
        succeeded = first_time_right = retried = retry_count = 0
        attempts: dict[int, int] = defaultdict(int)
        retry_ms = 0.0
        retry_costs, costs = [], []
        for t in members:
            mine = loops_of[(t.trace_id, t.span_id)]
            ok = t.status_code != 2 and not any(loop.gave_up for loop in mine)
            tries_again = sum(1 for s in tree.inside(t) if (s.attempt or 0) >= 2)
            succeeded += ok
            first_time_right += ok and tries_again == 0
            retried += tries_again > 0
            retry_count += tries_again
            for loop in mine:
                attempts[loop.attempts] += 1
                retry_ms += loop.retry_ms
                if loop.retry_cost is not None:
                    retry_costs.append(loop.retry_cost)
            costs += [c.cost_usd for c in tree.inside(t) if is_llm(c) and c.cost_usd is not None]
        n = len(members)
        loop_count = sum(attempts.values())
        durations = [t.duration_ms for t in members]
        out[value] = dict(
            turns=n, succeeded=succeeded, success_rate=succeeded / n, first_time_right=first_time_right,
            first_time_right_rate=first_time_right / n, retried_turns=retried, retries=retry_count,
            loops=loop_count, gave_up=sum(loop.gave_up for t in members for loop in loops_of[(t.trace_id, t.span_id)]),
            attempt_counts=dict(sorted(attempts.items())),
            mean_attempts=sum(a * k for a, k in attempts.items()) / loop_count if loop_count else None,
            retry_ms=retry_ms, retry_time_share=retry_ms / sum(durations),
            retry_cost_usd=(sum(retry_costs) if retry_costs else 0.0) if costs else None,
            cost_usd=sum(costs) if costs else None,
            mean_turn_ms=sum(durations) / n, p50_turn_ms=percentile(durations, 0.5),
            p95_turn_ms=percentile(durations, 0.95),
        )
    return out
