"""``otel-llm sessions``: memory per chat session, from a real app's spans and process metrics.

The expected figures are worked out from the files the app wrote (its spans'
conversation ids and times, its memory points), not from the store.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.app_store import cli as run, ingest, run_app

APP = """
import time
import otel_llm
otel_llm.configure(service_name="chatbot", process_metrics=True, metric_export_interval_ms=100)
held = []

@otel_llm.chat
def answer(question: str, thread_id: str, megabytes: int) -> str:
    held.append(bytearray(megabytes * 1_000_000))
    time.sleep(0.4)
    return "ok"

for turn in range(3):
    answer("grow", thread_id="heavy", megabytes=30)
held.clear()
answer("hello", thread_id="light", megabytes=1)
time.sleep(0.3)
answer("hello again", thread_id="light", megabytes=1)
otel_llm.shutdown()
"""


def _value(attribute: dict) -> Any:
    (value,) = attribute["value"].values()
    return value


def _expected(out: Path) -> dict[str, dict[str, float]]:
    """Per conversation: the memory points (MiB) between its first span start and last span end."""
    windows: dict[str, list[int]] = {}
    for line in (out / "traces.jsonl").read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    attrs = {a["key"]: _value(a) for a in span.get("attributes", [])}
                    if "gen_ai.conversation.id" in attrs:
                        w = windows.setdefault(attrs["gen_ai.conversation.id"], [2**63, 0])
                        w[0] = min(w[0], int(span["startTimeUnixNano"]) // 1000)
                        w[1] = max(w[1], int(span["endTimeUnixNano"]) // 1000)
    points: list[tuple[int, float]] = []
    for line in (out / "metrics.jsonl").read_text().splitlines():
        for rm in json.loads(line)["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    if metric["name"] == "process.memory.usage":
                        data = metric.get("sum") or metric.get("gauge")
                        points += [(int(p["timeUnixNano"]) // 1000, float(p.get("asInt", p.get("asDouble"))))
                                   for p in data["dataPoints"]]
    expected = {}
    for conversation, (start, end) in windows.items():
        inside = sorted(p for p in points if start <= p[0] <= end)
        expected[conversation] = {"points": len(inside), "peak": max(v for _, v in inside) / 2**20,
                                  "growth": (inside[-1][1] - inside[0][1]) / 2**20}
    return expected


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, dict[str, float]]]:
    root = tmp_path_factory.mktemp("sessions")
    out = run_app(root, APP)
    return ingest(root, out), _expected(out)


def test_each_session_shows_its_process_memory_while_it_ran(store: Any) -> None:
    db, expected = store
    result = run("sessions", "--db", db, "-f", "json")
    assert result.exit_code == 0, result.output
    rows = {r["conversation"]: r for r in json.loads(result.stdout)["rows"]}
    assert set(rows) == set(expected) == {"heavy", "light"}
    for conversation, want in expected.items():
        got = rows[conversation]
        assert got["points"] == want["points"] > 1
        assert got["peak_memory_mb"] == pytest.approx(want["peak"])
        assert got["growth_mb"] == pytest.approx(want["growth"])
        assert got["service"] == "chatbot"
    assert rows["heavy"]["growth_mb"] > 40, "three turns holding 30 MB each grow the process"
    assert [r["conversation"] for r in json.loads(run("sessions", "--db", db, "-f", "json", "--top", "1").stdout)["rows"]] \
        == ["heavy"]


def test_without_conversations_or_points_it_says_why(tmp_path: Path, store: Any) -> None:
    db, _ = store
    late = run("sessions", "--db", db, "--since", (datetime.utcnow() + timedelta(days=1)).isoformat())
    assert late.exit_code == 0 and "no conversations here" in late.output
    from tests.support import synthetic

    synthetic.generate(tmp_path / "data", seed=3, traces=5)
    other = str(tmp_path / "s.duckdb")
    assert run("ingest", str(tmp_path / "data"), "--db", other).exit_code == 0
    table = run("sessions", "--db", other)
    assert table.exit_code == 0
    assert "conversations have no memory point while they ran" in " ".join(table.output.split())


def test_a_conversation_in_two_services_is_a_row_per_service(tmp_path: Path) -> None:
    """A conversation whose spans ran in two services without instance ids was one row naming either
    service (any_value: DuckDB and ClickHouse named different ones) with both services' spans counted."""
    import orjson

    from otel_llm_analysis import TraceStore
    from otel_llm_analysis.session_memory import session_memory
    from tests.support.synthetic import key_values

    def resource(service: str, span_id: str) -> dict:
        span = {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": span_id, "name": "chat_turn answer",
                "startTimeUnixNano": "1764000000000000000", "endTimeUnixNano": "1764000001000000000",
                "attributes": key_values({"otel_llm.kind": "chat", "gen_ai.conversation.id": "c"})}
        return {"resource": {"attributes": key_values({"service.name": service})},
                "scopeSpans": [{"scope": {"name": "otel_llm"}, "spans": [span]}]}

    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [resource("rag-api", "00f067aa0ba902b7"),
                                                     resource("batch", "00f067aa0ba902b8")]}) + b"\n")
    with TraceStore(":memory:") as store:
        store.ingest(path)
        rows = sorted((r.conversation, r.service, r.spans) for r in session_memory(store))
    assert rows == [("c", "batch", 1), ("c", "rag-api", 1)]
