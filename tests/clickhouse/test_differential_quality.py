"""Quality on DuckDB and on ClickHouse: the model each evaluation rates, and the turns nobody rated.

DuckDB works out the model each evaluation rates (and each turn's answer) at
ingest (``views.sql``'s ``qa_subjects``); ClickHouse's ``qa_subjects`` view
(``clickhouse/views_scopes_clickhouse.sql``) works it out when read. The graded
turns of ``tests/analysis/test_quality.py`` - an evaluation on the grade step,
on the turn, naming a call by response id, on the call itself, on the grader's
call naming the answer - plus an unrated turn, a turn in a parent cycle and a
turn without a call, ingested into DuckDB and loaded into chdb, give the same
rows and the same analyses on both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import orjson

import pytest

from otel_llm_analysis import Filters, qa
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same, same_on_both
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.graded_trace import GRADED, MS, T0, trace_file
from tests.support.synthetic import key_values

#: trace id digit -> (where the evaluation sits, its extra attributes), as test_quality's cases
CASES = {
    "1": ("grade", None),
    "2": ("chat", None),
    "3": ("chat", {"gen_ai.response.id": "resp-answer"}),
    "4": ("answer", None),
    "5": ("judge", {"gen_ai.response.id": "resp-answer"}),
    "6": (None, None),  # not rated
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_quality")
    for trace, (event_on, attrs) in CASES.items():
        trace_file(root / f"{trace}.jsonl", GRADED, trace=trace, event_on=event_on, event_attrs=attrs)
    cycle = {"chat": ("0000000000000001", "0000000000000002", 0, 100, {"otel_llm.kind": "chat"}),
             "answer": ("0000000000000002", "0000000000000001", 2, 39, GRADED["answer"][4])}
    trace_file(root / "cycle.jsonl", cycle, trace="7")  # a turn whose parents form a cycle: still not run
    trace_file(root / "no_call.jsonl", {"chat": GRADED["chat"]}, trace="8", event_on="chat")  # rated, no call
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_quality")


ANALYSES = {
    "quality": lambda s: qa.quality(s, None),
    "quality by model": lambda s: qa.quality(s, "model"),
    "quality by project": lambda s: qa.quality(s, "project"),
    "quality of one evaluation by model": lambda s: qa.quality(s, "model", evaluation="relevance"),
    "quality by model in a window": lambda s: qa.quality(s, "model", Filters.of("2025-11-01", "2025-12-01")),
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_quality_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    same_on_both(stores, name, ANALYSES[name])


def test_each_evaluation_and_turn_rates_the_same_model_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    sql = ("SELECT trace_id, span_id, is_evaluation, eval_name, eval_label, response_id, credited_model "
           "FROM qa_subjects ORDER BY trace_id, span_id, is_evaluation")
    rows: list[Any] = [store.query(sql) for store in stores]
    credited = {(r[0][0], r[2]): r[6] for r in rows[0]}
    assert credited == {("1", True): "gpt-4o", ("1", False): "gpt-4o-mini", ("2", True): "gpt-4o-mini",
                        ("2", False): "gpt-4o-mini", ("3", True): "gpt-4o", ("3", False): "gpt-4o-mini",
                        ("4", True): "gpt-4o", ("4", False): "gpt-4o-mini", ("5", True): "gpt-4o",
                        ("5", False): "gpt-4o-mini", ("6", False): "gpt-4o-mini", ("7", False): "gpt-4o",
                        ("8", True): None}
    same(*rows)


def _log_evaluation(trace: str, span_id: str, at_ms: int, name: str, label: str, **extra: object) -> dict:
    """An evaluation as OpenLIT's score API sends it through the logs API (the GenAI semconv's event form)."""
    time = str(T0 + at_ms * MS)
    return {"timeUnixNano": time, "observedTimeUnixNano": time, "eventName": "gen_ai.evaluation.result",
            "body": {"stringValue": ""}, "traceId": trace * 32, "spanId": span_id,
            "attributes": key_values({"gen_ai.evaluation.name": name, "gen_ai.evaluation.score.label": label,
                                      **extra})}


@pytest.fixture(scope="module")
def logged_stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
                  ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_quality_logs")
    for trace, (event_on, attrs) in CASES.items():
        if trace == "4":  # a scored span event, as OpenLIT's
            attrs = {"gen_ai.evaluation.score.value": 0.75}
        trace_file(root / f"{trace}.jsonl", GRADED, trace=trace, event_on=event_on, event_attrs=attrs)
    score = "gen_ai.evaluation.score.value"
    records = [
        _log_evaluation("6", GRADED["chat"][0], 200, "user_feedback", "fail"),  # after the turn ended: the log alone
        _log_evaluation("1", GRADED["grade"][0], 89, "relevance", "pass"),  # the span event's twin: counted once
        _log_evaluation("2", GRADED["judge"][0], 150, "user_feedback", "warning",
                        **{"gen_ai.response.id": "resp-answer"}),  # names the rated call by its response id
        _log_evaluation("9", "e" * 16, 150, "user_feedback", "pass"),  # a span the store lacks: in the totals only
        _log_evaluation("4", GRADED["answer"][0], 38, "relevance", "pass", **{score: 0.75}),  # the scored twin
        _log_evaluation("4", GRADED["answer"][0], 60, "relevance", "pass", **{score: 0.5}),  # another score: counted
    ]
    (root / "logs.jsonl").write_bytes(orjson.dumps({"resourceLogs": [{
        "resource": {"attributes": key_values({"service.name": "s"})},
        "scopeLogs": [{"scope": {"name": "openlit.score"}, "logRecords": records}]}]}) + b"\n")
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_quality_logs")


@pytest.mark.parametrize("name", list(ANALYSES))
def test_evaluations_sent_as_log_records_are_rated_the_same_on_both_engines(
        logged_stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    same_on_both(logged_stores, name, ANALYSES[name])


def test_the_log_records_evaluations_are_counted(logged_stores: tuple[TraceStore, ClickHouseStore]) -> None:
    total, = qa.quality(logged_stores[1], None)
    # span events: five passes (traces 1-5); logs: a pass on a missing span, a pass of another score on trace 4's
    # call, a fail, a warning (the twins of traces 1 and 4's events add nothing); trace 6's turn is rated now
    assert (total.passed, total.failed, total.warning, total.not_run) == (7, 1, 1, 0)
