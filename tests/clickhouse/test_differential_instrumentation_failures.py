"""An instrumentation's own failure is the same succeeded call on DuckDB and on ClickHouse.

OpenLIT marks its LLM span ERROR when its own code raises after the call returned (its openai
instrumentation reading an answer without usage); DuckDB's ``llm_calls`` reads such a call's status
as unset (views.sql: ``instrumentation_failures``; the rule in ``_instrumentation_failures``) and the
summary counts them. The same files loaded into ClickHouse must give the same calls, error rates,
failed-call counts and that count - beside the failures that stay failures: an API error (innermost
frame in the openai client), an exception event of the app's beside OpenLIT's, an ERROR span with no
exception event, another scope's span whose frame is in openlit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

from otel_llm import semconv
import otel_llm_analysis as views_module
from otel_llm_analysis import Filters, agents, alerts, retries, summaries, trends
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
OPENLIT = "openlit.otel.tracing"
IN_OPENLIT = 'File "/app/.venv/lib/python3.11/site-packages/openlit/instrumentation/openai/openai.py", line 9'
IN_OPENLIT_WINDOWS = r'File "C:\app\venv\Lib\site-packages\openlit\instrumentation\openai\openai.py", line 9'
IN_OPENAI = 'File "/app/.venv/lib/python3.11/site-packages/openai/_base_client.py", line 1047'
IN_APP = 'File "/app/main.py", line 3'
CALL = {semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_REQUEST_MODEL: "gpt-4o",
        semconv.GEN_AI_PROVIDER_NAME: "openai"}


def _exception(*frames: str) -> dict[str, Any]:
    trace = "Traceback (most recent call last):\n  " + "\n  ".join(frames) + "\nAttributeError: 'NoneType'"
    return {"name": "exception", "timeUnixNano": str(T0 + 10**8), "attributes": key_values(
        {"exception.type": "AttributeError", "exception.message": "'NoneType' object has no attribute 'get'",
         "exception.stacktrace": trace})}


def _span(n: int, *, status: int = 0, events: list[dict[str, Any]] | None = None, parent: int | None = None,
          attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    start = T0 + (n if parent is None else parent) * 3600 * 10**9 + (10**7 if parent is not None else 0)  # hours apart
    span = {"traceId": f"{(parent or n) + 1:032x}", "spanId": f"{n + 1:016x}", "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + (10 - n) * 10**8),
            "status": {"code": status}, "events": events or [],
            "attributes": key_values({**CALL, semconv.ERROR_TYPE: "AttributeError"} if status == 2 else
                                     attributes or CALL)}
    if parent is not None:
        span["parentSpanId"] = f"{parent + 1:016x}"
    return span


def _request(scope: str, spans: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": key_values({"service.name": "app"})},
                                            "scopeSpans": [{"scope": {"name": scope}, "spans": spans}]}]}) + b"\n"


def _openlit_spans() -> list[dict[str, Any]]:
    return [
        _span(0),  # succeeded
        _span(1, status=2, events=[_exception(IN_APP, IN_OPENLIT)]),  # OpenLIT's own failure
        _span(2, status=2, events=[_exception(IN_APP, IN_OPENLIT_WINDOWS)]),  # the same, on Windows
        _span(3, status=2, events=[_exception(IN_APP, IN_OPENAI)]),  # the API's error: failed
        _span(4, status=2, events=[_exception(IN_OPENLIT), _exception(IN_APP)]),  # one of the app's: failed
        _span(5, status=2),  # no exception event: failed
        _span(6, status=2, events=[_exception(IN_OPENLIT)], parent=9),  # own failure inside an @llm_call
    ]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_instrumentation_failures")
    wrapper = _span(9, attributes={**CALL, semconv.OTEL_LLM_KIND: semconv.KIND_LLM_CALL})
    (root / "traces.jsonl").write_bytes(
        _request(OPENLIT, _openlit_spans())
        + _request("my-app", [_span(7, status=2, events=[_exception(IN_OPENLIT)]), _span(8)])  # not OpenLIT's: failed
        + _request(semconv.INSTRUMENTATION_SCOPE, [wrapper]))
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_instrumentation_failures")


def _calls(store: Any) -> list[tuple[Any, ...]]:
    return sorted(store.query("SELECT span_id, status_code, error_type FROM llm_calls"))


def test_an_openlit_failure_of_its_own_is_a_succeeded_call_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = (_calls(store) for store in stores)
    succeeded = {span_id for span_id, status, _ in duck if status != 2}
    assert succeeded == {f"{n + 1:016x}" for n in (0, 1, 2, 6, 8)}  # 6: the call inside the wrapper (9)
    same(duck, ch)


def test_the_failures_listed_are_the_same(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = (sorted(store.query("SELECT trace_id, span_id, scope_name, error_type, exception_message "
                                   "FROM instrumentation_failures")) for store in stores)
    assert len(duck) == 3
    same(duck, ch)


ANALYSES = {
    "summary": lambda s: summaries.summary(s, None),
    "summary by model": lambda s: summaries.summary(s, "model"),
    "summary by hour": lambda s: summaries.summary(s, "hour"),
    "summary in a window": lambda s: summaries.summary(s, None, Filters.of("2026-09-21 14:00", "2026-09-21 20:00")),
    "daily usage": lambda s: s.query("SELECT day, model, calls, failed_calls FROM daily_usage ORDER BY day, model"),
    "trends by hour": lambda s: trends.series(s, "hour"),
    "check": lambda s: alerts.check(s, alerts.Thresholds(error_rate=0.3)),
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_the_analysis_counts_them_as_succeeded_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore], name: str) -> None:
    duck, ch = (ANALYSES[name](store) for store in stores)
    assert duck
    same(duck, ch)


# Turns and agents: OpenLIT's calls inside an otel-llm chat turn and agent, and OpenLIT-only traces (whose
# root call is the turn); the turns and agents tables count an instrumentation's own failure as the
# summary does, on both engines, whether the span arrives in the store's first ingest (DuckDB works out
# every trace) or a later one (DuckDB works out the traces it touched).
CHAT = {semconv.OTEL_LLM_KIND: semconv.KIND_CHAT}
AGENT = {semconv.OTEL_LLM_KIND: semconv.KIND_AGENT, semconv.GEN_AI_AGENT_NAME: "planner"}


def _scoped(trace: int, n: int, parent: int | None, *, status: int = 0,
            events: list[dict[str, Any]] | None = None, attributes: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """Span ``n`` of trace ``trace`` (traces an hour apart, spans 10 ms apart within one)."""
    start = T0 + trace * 3600 * 10**9 + n * 10**7
    span = {"traceId": f"{trace + 100:032x}", "spanId": f"{trace * 100 + n + 1:016x}", "name": f"span {n}",
            "kind": 3 if attributes is None else 1, "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + 10**9 - n * 10**7), "status": {"code": status}, "events": events or [],
            "attributes": key_values(attributes if attributes is not None else
                                     {**CALL, semconv.ERROR_TYPE: "AttributeError"} if status == 2 else CALL)}
    if parent is not None:
        span["parentSpanId"] = f"{trace * 100 + parent + 1:016x}"
    return span


def _turn(trace: int, *calls: dict[str, Any]) -> bytes:
    """A chat turn (0) running an agent (1) whose calls (OpenLIT's) are ``calls``, spans 2, 3, ..."""
    return (_request(semconv.INSTRUMENTATION_SCOPE, [_scoped(trace, 0, None, attributes=CHAT),
                                                     _scoped(trace, 1, 0, attributes=AGENT)])
            + _request(OPENLIT, [_scoped(trace, n, 1, **call) for n, call in enumerate(calls, 2)]))


OWN = {"status": 2, "events": [_exception(IN_APP, IN_OPENLIT)]}  # OpenLIT's own failure
API = {"status": 2, "events": [_exception(IN_APP, IN_OPENAI)]}  # the API's error: a failed call


@pytest.fixture(scope="module")
def scoped_stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
                  ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    first, later = tmp_path_factory.mktemp("scoped_first"), tmp_path_factory.mktemp("scoped_later")
    (first / "traces.jsonl").write_bytes(_turn(0, OWN, API, {}) + _request(OPENLIT, [_scoped(1, 0, None, **OWN)]))
    # trace 5: its own failure inside an @llm_call (span 5) that says ERROR: one call, succeeded (as llm_calls reads it)
    wrapper = _scoped(5, 5, 1, status=2, attributes={**CALL, semconv.OTEL_LLM_KIND: semconv.KIND_LLM_CALL})
    (later / "traces.jsonl").write_bytes(_turn(2, OWN, {}) + _request(OPENLIT, [_scoped(3, 0, None, **OWN)])
                                         + _turn(4, API) + _request(semconv.INSTRUMENTATION_SCOPE, [wrapper])
                                         + _request(OPENLIT, [_scoped(5, 2, 5, **OWN)]) + _turn(5))
    yield from both_stores(first, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_scoped_failures",
                           later)


TURNS = "SELECT trace_id, span_id, status_code, succeeded, llm_calls, failed_calls FROM turns ORDER BY ALL"
AGENTS = "SELECT trace_id, span_id, succeeded, llm_calls, failed_calls FROM agent_invocations ORDER BY ALL"


def test_turns_and_agents_count_an_own_failure_as_the_summary_does(
        scoped_stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, _ = scoped_stores
    (total,) = summaries.summary(duck, None)
    assert (total.llm_calls, total.failed_calls, total.instrumentation_failures) == (9, 2, 5)
    turns, invocations = duck.query(TURNS), duck.query(AGENTS)
    assert [row[2:] for row in turns] == [(0, True, 3, 1), (0, True, 1, 0), (0, True, 2, 0), (0, True, 1, 0),
                                          (0, True, 1, 1), (0, True, 1, 0)]  # traces 0-5: 1's and 3's turn is its call
    assert sum(row[5] for row in turns) == total.failed_calls
    assert [row[2:] for row in invocations] == [(True, 3, 1), (True, 2, 0), (True, 1, 1), (True, 1, 0)]
    assert sum(row.failed_calls for row in agents(duck)) == total.failed_calls


SCOPED = {
    "turns": lambda s: s.query(TURNS),
    "agent invocations": lambda s: s.query(AGENTS),
    "agents": agents,
    "retries": lambda s: retries(s, None),
    "retries in a window": lambda s: retries(s, None, Filters.of("2026-09-21 15:00", "2026-09-21 18:00")),
    "agents in a window": lambda s: agents(s, Filters.of("2026-09-21 15:00", "2026-09-21 18:00")),
}


@pytest.mark.parametrize("name", list(SCOPED))
def test_turns_and_agents_are_the_same_on_both_engines(scoped_stores: tuple[TraceStore, ClickHouseStore],
                                                       name: str) -> None:
    duck, ch = (SCOPED[name](store) for store in scoped_stores)
    assert duck
    same(duck, ch)


def test_a_store_whose_turns_were_made_reading_raw_statuses_is_worked_out_again(tmp_path: Path) -> None:
    """Turns and agents made by a refresh from the same views.sql that read an own failure as failed (its
    definition: the digest of views.sql and its names alone) are made again when the store opens."""
    from otel_llm_analysis._scope_index import definition
    from otel_llm_analysis._scopes import view_parameters

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "traces.jsonl").write_bytes(_turn(0, OWN, API, {}))
    db = str(tmp_path / "store.duckdb")
    with TraceStore(db) as store:
        store.ingest([tmp_path / "in"])
        assert store.query("SELECT failed_calls FROM turns") == [(1,)]
        views = (Path(views_module.__file__).parent / "views.sql").read_text(encoding="utf-8")
        made_then = hashlib.sha256((views + repr(sorted(view_parameters().items()))).encode()).hexdigest()[:16]
        assert made_then != definition()
        store.connection.execute("UPDATE turn_rows SET failed_calls = 2")  # as that refresh made them
        store.connection.execute("UPDATE agent_invocation_rows SET failed_calls = 2")
        store.connection.execute("UPDATE span_scope_state SET definition = ?", [made_then])
    with TraceStore(db) as store:
        assert store.query("SELECT failed_calls FROM turns") == [(1,)]
        assert store.query("SELECT failed_calls FROM agent_invocations") == [(1,)]


def test_an_own_failure_wrapping_another_producers_call_is_a_succeeded_call_on_both_engines(
        tmp_path: Path, clickhouse_http: ChdbHttpServer) -> None:
    """OpenLIT's span, failed in OpenLIT's own code, around another instrumentation's span of the same call
    (OpenLLMetry's): one call, read with the greater of the two statuses. DuckDB's ``llm_calls`` took the
    wrapper's ERROR as the call's while its turns and ClickHouse read the call as succeeded."""
    (tmp_path / "traces.jsonl").write_bytes(_request(OPENLIT, [_scoped(0, 0, None, **OWN)])
                                            + _request("opentelemetry.instrumentation.openai", [_scoped(0, 1, 0)]))
    for stores in both_stores(tmp_path, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_own_wrapper"):
        duck, ch = (store.query("SELECT span_id, status_code, error_type FROM llm_calls") for store in stores)
        assert duck == [(f"{2:016x}", 0, None)]
        same(duck, ch)
        for store in stores:
            (total,) = summaries.summary(store, None)
            assert (total.llm_calls, total.failed_calls) == (1, 0), type(store).__name__
