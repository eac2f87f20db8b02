"""The demo end to end: run it into a temp dir, parse the files back, compare with what it did.

The demo runs in a subprocess (``configure()`` installs global providers, which
must not leak into the other tests); its :class:`DemoSummary` comes back as
JSON. The OTLP-JSON lines are decoded here independently of the demo's own
reader, so a bug in one cannot hide a bug in the other.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from otel_llm import semconv
from otel_llm.demo.app import plan_failures, plan_turns
from otel_llm.demo.corpus import DOCUMENTS
from otel_llm.demo.vector_store import InMemoryVectorStore

TURNS = 20
PRICED = ("gpt-4o-mini", "gpt-4.1-nano")
UNPRICED = "acme-grader-1"


def stderr_besides_the_price_notice(stderr: str) -> list[str]:
    """``stderr``'s lines but the one notice the demo is meant to cause: its judge model has no price.

    The judge is unpriced on purpose (the analysis shows "no price" for it), and
    otel-llm says so on stderr once, whatever the logging setup; anything else
    there is noise.
    """
    lines = stderr.splitlines()
    notices = [line for line in lines if line.startswith(f"otel-llm: no price for model '{UNPRICED}'")]
    assert len(notices) == 1, stderr
    return [line for line in lines if line not in notices]
ERROR = 2  # OTLP status code

_RUN_DEMO = """
import json, sys
from pathlib import Path
from otel_llm.demo.cli import demo
out = Path(sys.argv[1])
summary = demo(turns=int(sys.argv[2]), output_dir=out, seed=int(sys.argv[3]), latency_scale=0.0)
(out / "summary.json").write_text(json.dumps(summary.as_dict()))
"""


# --- reading the files back ------------------------------------------------------
def _decode(value: dict[str, Any]) -> Any:
    (kind, raw), = value.items()
    if kind == "intValue":
        return int(raw)
    if kind == "arrayValue":
        return [_decode(v) for v in raw.get("values", [])]
    return raw  # stringValue, doubleValue, boolValue


def _attrs(record: dict[str, Any]) -> dict[str, Any]:
    return {kv["key"]: _decode(kv["value"]) for kv in record.get("attributes", [])}


def _records(path: Path, resource_key: str, scope_key: str, item_key: str) -> Iterator[dict[str, Any]]:
    for line in path.read_text().splitlines():
        for resource in json.loads(line)[resource_key]:
            for scope in resource[scope_key]:
                for item in scope[item_key]:
                    yield {**item, "scope": scope.get("scope", {}).get("name"), "attrs": _attrs(item)}


@dataclass
class DemoRun:
    out: Path
    summary: dict[str, Any]
    spans: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    stderr: str

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["attrs"].get(semconv.OTEL_LLM_KIND) == kind]

    def llm_calls(self, model: str) -> list[dict[str, Any]]:
        return [s for s in self.kind("llm_call") if s["attrs"][semconv.GEN_AI_REQUEST_MODEL] == model]


def _run_demo(out: Path, turns: int = TURNS, seed: int = 7) -> DemoRun:
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_DEMO, str(out), str(turns), str(seed)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return DemoRun(
        out=out,
        summary=json.loads((out / "summary.json").read_text()),
        spans=list(_records(out / "traces.jsonl", "resourceSpans", "scopeSpans", "spans")),
        logs=list(_records(out / "logs.jsonl", "resourceLogs", "scopeLogs", "logRecords")),
        stderr=proc.stderr,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    return _run_demo(tmp_path_factory.mktemp("demo"))


def _events(span: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [{**e, "attrs": _attrs(e)} for e in span.get("events", []) if e["name"] == name]


# --- spans --------------------------------------------------------------------
def test_span_counts_per_kind_match_what_the_demo_did(run: DemoRun) -> None:
    kinds = Counter(s["attrs"].get(semconv.OTEL_LLM_KIND) for s in run.spans)
    assert kinds == Counter(run.summary["spans"])
    assert kinds["chat"] == run.summary["turns"] == TURNS
    nodes = Counter(s["attrs"][semconv.OTEL_LLM_GRAPH_NODE] for s in run.kind("graph_node"))
    assert nodes == Counter(run.summary["nodes"])
    models = Counter(s["attrs"][semconv.GEN_AI_REQUEST_MODEL] for s in run.kind("llm_call"))
    assert models == Counter(run.summary["llm_calls"])
    assert set(models) == {*PRICED, UNPRICED}
    for call in run.kind("llm_call"):
        assert call["name"] == f"chat {call['attrs'][semconv.GEN_AI_REQUEST_MODEL]}"
        assert call["attrs"][semconv.GEN_AI_PROVIDER_NAME] == "openai"
        assert call["attrs"][semconv.GEN_AI_REQUEST_MAX_TOKENS] > 0
    for call in run.llm_calls("gpt-4o-mini"):  # the answer runs at the session's temperature
        a = call["attrs"]
        assert a[semconv.GEN_AI_REQUEST_TEMPERATURE] == a["otel_llm.run_config.temperature"]


def test_graph_nests_under_the_chat_turn(run: DemoRun) -> None:
    by_id = {s["spanId"]: s for s in run.spans}

    def parent_kind(span: dict[str, Any]) -> str | None:
        parent = by_id.get(span.get("parentSpanId", ""))
        return parent["attrs"][semconv.OTEL_LLM_KIND] if parent else None

    for node in run.kind("graph_node"):
        assert parent_kind(node) == "chat"
        assert node["attrs"][semconv.OTEL_LLM_GRAPH_NAME] == "rag"
        assert node["traceId"] == by_id[node["parentSpanId"]]["traceId"]
    for call in run.kind("llm_call"):
        assert parent_kind(call) in ("graph_node", "agent")
    for agent in run.kind("agent"):
        assert by_id[agent["parentSpanId"]]["attrs"][semconv.OTEL_LLM_GRAPH_NODE] == "research"
    for tool in run.kind("tool"):
        assert parent_kind(tool) == "agent"
    searches = [s for s in run.kind("vector_op") if s["attrs"][semconv.DB_OPERATION_NAME] == "search"]
    assert len(searches) == run.summary["nodes"]["retrieve"]
    for search in searches:
        assert by_id[search["parentSpanId"]]["attrs"][semconv.OTEL_LLM_GRAPH_NODE] == "retrieve"
        assert search["attrs"][semconv.DB_SYSTEM_NAME] == "in-memory"
        assert search["attrs"][semconv.GEN_AI_REQUEST_TOP_K] == 3
        assert 0 <= search["attrs"][semconv.DB_RESPONSE_RETURNED_ROWS] <= 3
    for chat in run.kind("chat"):
        assert chat["attrs"][semconv.GEN_AI_CONVERSATION_ID].startswith("thread-")
        assert chat["attrs"][semconv.USER_ID].startswith("user-")
        assert chat["attrs"][semconv.OTEL_LLM_PROJECT] == "demo"
    configs = {
        (s["attrs"]["otel_llm.run_config.temperature"], s["attrs"]["otel_llm.run_config.max_retries"])
        for s in run.kind("chat")
    }
    assert len(configs) >= 2


def test_failed_attempt_is_an_error_span_followed_by_a_successful_retry(run: DemoRun) -> None:
    failed = [s for s in run.kind("llm_call") if s.get("status", {}).get("code") == ERROR]
    assert len(failed) == run.summary["failed_llm_calls"] >= 1
    for span in failed:
        (exception,) = _events(span, "exception")
        assert exception["attrs"]["exception.type"].rsplit(".", 1)[-1] in {"RateLimitError", "APITimeoutError"}
        assert span["attrs"][semconv.ERROR_TYPE] in {"RateLimitError", "APITimeoutError"}
        retries = [
            s for s in run.kind("llm_call")
            if s.get("parentSpanId") == span["parentSpanId"]
            and int(s["startTimeUnixNano"]) >= int(span["endTimeUnixNano"])
            and s.get("status", {}).get("code") != ERROR
        ]
        assert retries, "every failed attempt is retried under the same graph node"
    assert len(run.kind("chat")) == TURNS  # no turn failed: the retries recovered
    agents = {a["spanId"] for a in run.kind("agent")}
    for span in run.kind("llm_call"):  # a node's tries are numbered; the researcher's client retries by itself
        assert (semconv.OTEL_LLM_ATTEMPT not in span["attrs"]) == (span["parentSpanId"] in agents)
    for span in failed:
        assert any(s["attrs"].get(semconv.OTEL_LLM_ATTEMPT) == span["attrs"][semconv.OTEL_LLM_ATTEMPT] + 1
                   for s in run.kind("llm_call") if s.get("parentSpanId") == span["parentSpanId"])


def test_researcher_agent_calls_tools_the_model_asked_for_and_retries_the_flaky_one(run: DemoRun) -> None:
    """The research step: an agent, its model's tool calls, the tools linked to them, numbered retries."""
    agents, tools = run.kind("agent"), run.kind("tool")
    assert len(agents) == run.summary["spans"]["agent"] >= 1
    assert Counter(t["attrs"][semconv.GEN_AI_TOOL_NAME] for t in tools) == Counter(run.summary["tool_calls"])
    by_id = {s["spanId"]: s for s in run.spans}
    for agent in agents:
        assert agent["name"] == "invoke_agent researcher"
        inside = [s for s in run.spans if s.get("parentSpanId") == agent["spanId"]]
        calls = sorted((s for s in inside if s["attrs"][semconv.OTEL_LLM_KIND] == "llm_call"),
                       key=lambda s: int(s["startTimeUnixNano"]))
        asked = calls[0]["attrs"][semconv.OTEL_LLM_RESPONSE_TOOL_CALL_IDS]
        mine = [s for s in inside if s["attrs"][semconv.OTEL_LLM_KIND] == "tool"]
        assert {t["attrs"][semconv.GEN_AI_TOOL_CALL_ID] for t in mine} == set(asked)
        for tool in mine:  # each links to the model call that asked for it
            assert [link["spanId"] for link in tool.get("links", [])] == [calls[0]["spanId"]]
        assert agent["attrs"][semconv.OTEL_LLM_AGENT_TOOL_CALLS] == len(mine)
        assert agent["attrs"][semconv.OTEL_LLM_AGENT_LLM_CALLS] == len(calls) == 2
        searches = sorted((t for t in mine if t["attrs"][semconv.GEN_AI_TOOL_NAME] == "search_web"),
                          key=lambda s: int(s["startTimeUnixNano"]))
        assert [t["attrs"][semconv.OTEL_LLM_ATTEMPT] for t in searches] == list(range(1, len(searches) + 1))
        assert all(t["status"].get("code") == ERROR for t in searches[:-1])
        max_retries = agent["attrs"]["otel_llm.run_config.max_retries"]
        assert len(searches) <= max_retries + 1
        outcome = agent["attrs"][semconv.OTEL_LLM_RETRY_OUTCOME]
        assert outcome == ("gave_up" if searches[-1]["status"].get("code") == ERROR else "succeeded")
        assert agent["attrs"][semconv.OTEL_LLM_RETRY_ATTEMPTS] == len(searches)
        assert by_id[agent["parentSpanId"]]["name"] == "research"
    timeouts = [t for t in tools if t["status"].get("code") == ERROR]
    assert len(timeouts) == run.summary["failed_tool_calls"] >= 1
    assert all(t["attrs"][semconv.ERROR_TYPE] == "TimeoutError" for t in timeouts)


def test_the_analysis_of_the_demo_counts_its_tools_agents_and_retries(run: DemoRun) -> None:
    """What `otel-llm tools`, `agents` and `retries` read from the demo's database is what the demo did."""
    from otel_llm_analysis import TraceStore, agents, retries, tools

    with TraceStore(str(run.out / "otel-llm.duckdb"), read_only=True) as store:
        rows = {r.tool: r for r in tools(store)}
        assert {name: r.calls for name, r in rows.items()} == dict(run.summary["tool_calls"])
        assert rows["search_web"].errors == run.summary["failed_tool_calls"]
        assert rows["search_web"].agents == rows["lookup_changelog"].agents == "researcher"
        assert rows["search_web"].nodes == "research"
        (researcher,) = agents(store)
        assert researcher.invocations == run.summary["spans"]["agent"]
        assert researcher.llm_calls_per_invocation == 2
        overall = retries(store)[0]
        assert overall.turns == TURNS
        assert overall.gave_up == run.summary["tool_gave_up"]
        assert overall.retries == run.summary["failed_llm_calls"] + run.summary["failed_tool_calls"] - \
            run.summary["tool_gave_up"]


def test_streamed_answers_record_first_token_and_completion(run: DemoRun) -> None:
    streamed = [s for s in run.kind("llm_call") if semconv.OTEL_LLM_STREAM_COMPLETE in s["attrs"]]
    assert len(streamed) == run.summary["streamed_llm_calls"] >= 1
    for span in streamed:
        assert span["attrs"][semconv.OTEL_LLM_STREAM_COMPLETE] is True
        assert span["attrs"][semconv.OTEL_LLM_STREAM_CHUNKS] >= 3
        assert _events(span, semconv.EVENT_LLM_FIRST_TOKEN)
        assert span["attrs"][semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0  # from the last chunk
        assert span["attrs"][semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"


def test_grade_node_records_evaluations(run: DemoRun) -> None:
    labels: Counter[str] = Counter()
    for node in run.kind("graph_node"):
        for event in _events(node, semconv.EVENT_EVALUATION_RESULT):
            assert node["attrs"][semconv.OTEL_LLM_GRAPH_NODE] == "grade"
            assert event["attrs"][semconv.GEN_AI_EVALUATION_NAME] == "answer_relevance"
            assert 0.0 <= event["attrs"][semconv.GEN_AI_EVALUATION_SCORE_VALUE] <= 1.0
            labels[event["attrs"][semconv.GEN_AI_EVALUATION_SCORE_LABEL]] += 1
    assert labels == Counter(run.summary["evaluations"])
    assert sum(labels.values()) == TURNS


def test_costs_for_priced_models_and_none_for_the_unpriced_one(run: DemoRun) -> None:
    ok = lambda s: s.get("status", {}).get("code") != ERROR  # noqa: E731
    for model in PRICED:
        for span in filter(ok, run.llm_calls(model)):
            assert span["attrs"][semconv.GEN_AI_USAGE_COST] > 0
            assert span["attrs"][semconv.OTEL_LLM_COST_SOURCE].startswith("genai-prices@")
    unpriced = run.llm_calls(UNPRICED)
    assert unpriced and all(semconv.GEN_AI_USAGE_COST not in s["attrs"] for s in unpriced)
    assert all(s["attrs"][semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0 for s in filter(ok, unpriced))
    # Later turns of a thread reuse the prompt prefix: the cache-read path is exercised.
    cached = [s["attrs"].get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0) for s in run.llm_calls("gpt-4o-mini")]
    assert max(cached) > 0
    # Each turn's rolled-up cost is the sum of its priced calls.
    for chat in run.kind("chat"):
        calls = [s for s in run.kind("llm_call") if s["traceId"] == chat["traceId"]]
        expected = sum(s["attrs"].get(semconv.GEN_AI_USAGE_COST, 0.0) for s in calls)
        assert math.isclose(chat["attrs"][semconv.OTEL_LLM_TURN_COST], expected, rel_tol=1e-9)


def test_logs_carry_the_trace_and_span_of_their_span(run: DemoRun) -> None:
    span_ids = {(s["traceId"], s["spanId"]) for s in run.spans}
    app_logs = [r for r in run.logs if r["scope"] == "rag_demo"]
    assert len(app_logs) == run.summary["log_records"] >= 1
    assert {r["severityText"] for r in app_logs} <= {"WARN", "ERROR"}
    for record in app_logs:
        assert (record["traceId"], record["spanId"]) in span_ids
    # otel-llm's own notices go to stderr, never through its own logs bridge
    no_price = [line for line in run.stderr.splitlines() if UNPRICED in line and "no price" in line]
    assert len(no_price) == 1  # one warning per unpriced model, not one per call
    assert not [r for r in run.logs if "no price" in r["body"]["stringValue"]]


def test_metrics_agree_with_the_spans(run: DemoRun) -> None:
    last = (run.out / "metrics.jsonl").read_text().splitlines()[-1]  # cumulative: totals so far
    metrics = {
        m["name"]: m for rm in json.loads(last)["resourceMetrics"]
        for sm in rm["scopeMetrics"] for m in sm["metrics"]
    }
    token_sums = {
        (a[semconv.GEN_AI_REQUEST_MODEL], a[semconv.GEN_AI_TOKEN_TYPE]): point["sum"]
        for point in metrics[semconv.METRIC_TOKEN_USAGE]["histogram"]["dataPoints"]
        for a in [_attrs(point)]
    }
    for model in (*PRICED, UNPRICED):
        calls = run.llm_calls(model)
        assert token_sums[(model, "input")] == sum(c["attrs"].get(semconv.GEN_AI_USAGE_INPUT_TOKENS, 0) for c in calls)
        assert token_sums[(model, "output")] == sum(c["attrs"].get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, 0) for c in calls)
    assert {semconv.METRIC_OPERATION_DURATION, semconv.METRIC_TIME_TO_FIRST_CHUNK, semconv.METRIC_COST} <= set(metrics)
    assert {"process.cpu.time", "process.memory.usage"} <= set(metrics)  # configure(process_metrics=True)


def test_same_seed_same_run(run: DemoRun, tmp_path: Path) -> None:
    again = _run_demo(tmp_path)

    def fingerprint(r: DemoRun) -> list[tuple[Any, ...]]:
        return sorted((
            (s["name"], s["attrs"].get(semconv.GEN_AI_USAGE_INPUT_TOKENS), s["attrs"].get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
             s["attrs"].get(semconv.GEN_AI_USAGE_COST), s.get("status", {}).get("code"))
            for s in r.spans
        ), key=repr)

    assert again.summary == run.summary
    assert fingerprint(again) == fingerprint(run)


# --- the command ---------------------------------------------------------------------
def test_cli_one_turn_reports_this_runs_spans_then_the_analysis(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from otel_llm.cli import main; main()", "demo",
               "--turns", "1", "--output-dir", str(tmp_path), "--latency-scale", "0"]
    traces = tmp_path / "traces.jsonl"

    def spans() -> list[dict[str, Any]]:
        return list(_records(traces, "resourceSpans", "scopeSpans", "spans")) if traces.exists() else []

    for _ in range(2):  # the second run appends; the report counts only its own spans
        before = len(spans())
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              env={"COLUMNS": "200", "PATH": ""})
        assert proc.returncode == 0, proc.stderr
        after = spans()
        assert f"{len(after) - before} spans written" in proc.stdout
        assert "traces.jsonl" in proc.stdout and "logs.jsonl" in proc.stdout
        assert "gpt-4o-mini" in proc.stdout and "no price" in proc.stdout
        # The closing analysis covers every run in the directory, each trace once.
        reported = re.search(r"([\d,]+) traces", proc.stdout)
        assert reported and int(reported.group(1).replace(",", "")) == len({s["traceId"] for s in after})
        assert "budget" in proc.stdout and (tmp_path / "otel-llm.duckdb").exists()


def test_cli_with_the_store_held_by_a_dashboard_exits_0_saying_it_ingests_the_files(tmp_path: Path) -> None:
    """``otel-llm serve --watch`` holds the store while it runs: the demo's files are written and the dashboard
    ingests them, so the demo succeeds and says so in one note line instead of an error."""
    import duckdb  # the [analysis] extra, which scripts/test.sh installs: no skip
    holder = duckdb.connect(str(tmp_path / "otel-llm.duckdb"))  # holds the lock as serve --watch's process does
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "from otel_llm.cli import main; main()", "demo", "--turns", "1",
             "--output-dir", str(tmp_path), "--latency-scale", "0"],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        holder.close()
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("otel-llm: ")]  # minus notices
    assert len(lines) == 1 and lines[0].startswith("note: ") and "Traceback" not in proc.stderr, proc.stderr
    assert "another process" in lines[0] and "dashboard" in lines[0] and "ingests" in lines[0], lines[0]
    assert "spans written" in proc.stdout and (tmp_path / "traces.jsonl").stat().st_size > 0


# --- the demo's parts -----------------------------------------------------------------
def test_vector_store_finds_the_relevant_document() -> None:
    store = InMemoryVectorStore()
    store.add(DOCUMENTS)
    hits = store.search("How are cached input tokens priced?")
    assert hits[0].document.id == "kb-003"
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert store.search("pizza recipe for tomorrow") == []


def test_plans_are_seeded_and_failures_recoverable() -> None:
    assert plan_turns(30, 7) == plan_turns(30, 7) != plan_turns(30, 8)
    for turns in (1, 2, 50):
        failing = plan_failures(turns, seed=7)
        assert failing and max(failing) < 3 * turns
        assert not any(i + 1 in failing for i in failing)
    assert len(plan_turns(1, 7)) == 1 and plan_turns(1, 7)[0].stream


# --- what a newcomer reads ---------------------------------------------------------------
def test_demo_reads_cleanly_at_80_columns_and_its_next_steps_run(tmp_path: Path) -> None:
    """No line wraps or is cut at 80 columns; every figure the issue asks for is there; the suggestions run."""
    from rich.text import Text

    from otel_llm.demo.cli import NEXT_STEPS

    otel_llm_command = str(Path(sys.executable).parent / "otel-llm")
    env = {"COLUMNS": "80", "PATH": str(Path(sys.executable).parent), "OTEL_LLM_RAISE_INTERNAL_ERRORS": "1"}
    proc = subprocess.run([otel_llm_command, "demo", "--turns", "12", "--output-dir", "./otel-data",
                           "--latency-scale", "0.2"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert stderr_besides_the_price_notice(proc.stderr) == []  # no other warnings, no log noise
    lines = proc.stdout.splitlines()
    too_wide = [line for line in lines if Text(line).cell_len > 80]
    assert not too_wide, "\n".join(too_wide)
    text = proc.stdout
    for figure in ("LLM calls", "tokens", "cost $", "failed", "p50", "p95", "time to first token",
                   "QA pass rate", "cost by model", "budget $0.0500", "month-end"):
        assert figure in text, figure
    assert "hidden" not in text  # the per-model table fits whole
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("model "))
    assert {"calls", "cost", "share", "p50", "p95"} <= set(" ".join(lines[header - 2:header + 1]).split())
    for model in ("gpt-4o-mini", "gpt-4.1-nano", "acme-grader-1"):
        assert any(line.startswith(model) for line in lines[header:]), model
    assert re.search(r"budget .* · (ok|warning|critical) · month-end", text)
    # What to run next: every suggestion shown runs against what the demo just wrote.
    shown = [line.split("#")[0].strip() for line in lines[lines.index(next(l for l in lines if l.startswith("Next"))):]
             if line.startswith("  otel-llm ")]
    assert shown and len(shown) == len([c for c, _ in NEXT_STEPS if c.split()[1] in _registered()])
    for command in shown:
        words = shlex.split(command)
        if words[1] == "serve":  # a server runs until stopped: its help is what can be checked here
            words.append("--help")
        if words[1] == "report":
            words += ["--out" if "--out" in _options("report") else "-o", str(tmp_path / "report.html")]
        result = subprocess.run([otel_llm_command, *words[1:]], cwd=tmp_path, capture_output=True, text=True,
                                timeout=120, env=env)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert result.stdout.strip(), command


def _registered() -> set[str]:
    from otel_llm.cli import app

    return {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]


def _options(command: str) -> set[str]:
    import typer

    from otel_llm.cli import app

    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    return {opt for param in click_command.params for opt in getattr(param, "opts", [])}


def test_demo_script_shows_no_installer_noise(tmp_path: Path) -> None:
    """`bash scripts/demo.sh` starts with the demo, not with pip's or setuptools' warnings."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(["bash", str(root / "scripts" / "demo.sh"), "--turns", "2", "--latency-scale", "0",
                           "--output-dir", str(tmp_path / "otel-data")], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    noise = [line for line in stderr_besides_the_price_notice(proc.stderr)
             if not line.startswith("setting up .venv with otel-llm[")]
    assert noise == [], proc.stderr
    assert proc.stdout.startswith("rag-demo: 2 turns")


def test_without_the_analysis_extra_the_demo_says_what_to_install(tmp_path: Path) -> None:
    """``pip install otel-llm`` (no extra), then ``otel-llm demo``: the run's cost table from the file,
    then the install line as a user types it (Rich markup once swallowed ``[analysis]``)."""
    script = ("import sys; sys.modules['duckdb'] = None\n"
              "from otel_llm.cli import main; main()\n")
    proc = subprocess.run([sys.executable, "-c", script, "demo", "--turns", "1", "--output-dir", str(tmp_path),
                           "--latency-scale", "0"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "gpt-4o-mini" in proc.stdout and not (tmp_path / "otel-llm.duckdb").exists()
    assert f"pip install 'otel-llm[analysis]', then: otel-llm ingest {tmp_path}" in proc.stdout, proc.stdout
