"""``llm_calls`` has the cheapest definition right for the store (``_llm_calls_view``), with the same rows.

Reinterpreting an instrumentation's own failure (``instrumentation_failures``: OpenLIT marking a call
ERROR for an exception inside openlit) reads every call's ids and scans the span events on every query
over ``llm_calls`` - 10-20 ms per query on 1M spans, on stores that almost never hold such a span. The
view is the plain one until an ingest stores one, then the reinterpreting one.

Binding the whole definition (three parts: calls read straight, calls inside a wrapper, calls in an
otel-llm span's context) costs each statement ~16 ms on 1M spans: a store none of whose LLM spans is
nested reads its calls straight from the span rows; the first nested call an ingest brings (also one
whose context arrives with a later file) makes the view whole; during an ingest the view is whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from otel_llm import semconv
from otel_llm_analysis import TraceStore, summary, totals
from otel_llm_analysis._llm_calls_view import STRAIGHT, WHOLE, _macro, definition
from tests.analysis.test_call_context import OURS, _call, _line, _span, _turn
from tests.support.synthetic import key_values

T0 = 1_767_225_600_000_000_000
OPENLIT_FRAME = 'File "/app/.venv/lib/python3.11/site-packages/openlit/instrumentation/openai/openai.py", line 9'


def _write(path: Path, scope: str, span_id: str, status: int, stack: str | None) -> Path:
    span = {"traceId": span_id * 2, "spanId": span_id, "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 10**9), "status": {"code": status},
            "attributes": key_values({semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_REQUEST_MODEL: "gpt-4o",
                                      semconv.GEN_AI_PROVIDER_NAME: "openai"})}
    if stack is not None:
        span["events"] = [{"name": "exception", "timeUnixNano": str(T0 + 10**8), "attributes": key_values(
            {"exception.type": "AttributeError", "exception.message": "'NoneType' object has no attribute 'get'",
             "exception.stacktrace": f"Traceback (most recent call last):\n  {stack}\nAttributeError"})}]
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [
        {"scope": {"name": scope}, "spans": [span]}]}]}) + b"\n")
    return path


def _reads_events(store: TraceStore) -> bool:
    plan = " ".join(str(row) for row in store.query("EXPLAIN SELECT count(*) FROM llm_calls"))
    return "span_events" in plan


def test_the_view_reads_the_failures_only_once_the_store_holds_one(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    with TraceStore(db) as store:
        store.ingest(_write(tmp_path / "a.jsonl", "my-app", "a" * 16, 2, 'File "/app/main.py", line 3'))
        assert not _reads_events(store)  # an app's own failed call: nothing to reinterpret
        assert store.query("SELECT status_code FROM llm_calls") == [(2,)]
        store.ingest(_write(tmp_path / "b.jsonl", "openlit.otel.tracing", "b" * 16, 2, OPENLIT_FRAME))
        assert _reads_events(store)
        assert sorted(store.query("SELECT span_id, status_code FROM llm_calls")) == [("a" * 16, 2), ("b" * 16, 0)]
    with TraceStore(db, read_only=True) as store:  # kept for the readers
        assert sorted(store.query("SELECT span_id, status_code FROM llm_calls")) == [("a" * 16, 2), ("b" * 16, 0)]


def _rows(store: TraceStore, source: str) -> list[tuple[Any, ...]]:
    return store.query(f"SELECT * FROM {source} ORDER BY trace_id, span_id")


def _columns(store: TraceStore, source: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in store.query(f"DESCRIBE SELECT * FROM {source}")]


def _same_as_whole(store: TraceStore) -> None:
    """The view's rows and columns are the whole definition's, and so are the fitted macro's (which the trace
    views read)."""
    for fitted in ("llm_calls", "fitted_calls_of(span_rows)"):
        assert _columns(store, fitted) == _columns(store, WHOLE)
        assert _rows(store, fitted) == _rows(store, WHOLE)


def _by_conversation(store: TraceStore) -> dict[Any, tuple[int, int]]:
    return {row.key: (row.llm_calls, row.input_tokens) for row in summary(store, by="conversation") if row.llm_calls}


def _our_call(trace: str, span: str, parent: str | None, at: int, conversation: str,
              usage: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """An otel-llm LLM span of ``conversation`` asking for gpt-4o-mini, with ``usage`` attributes."""
    return OURS, _span(trace, span, parent, "chat gpt-4o-mini", at, {
        semconv.OTEL_LLM_KIND: semconv.KIND_LLM_CALL, semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_CONVERSATION_ID: conversation, **(usage or {})})


def _one_ingest_fits(tmp_path: Path, spans: list[tuple[str, dict[str, Any]]], source: str,
                     conversations: dict[Any, tuple[int, int]]) -> None:
    """One file of ``spans`` ingested into a fresh store: ``llm_calls`` reads ``source``, with the whole view's
    rows, and the calls count per conversation as ``conversations`` says (calls, input tokens)."""
    (tmp_path / "t.jsonl").write_bytes(_line(spans))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(tmp_path / "t.jsonl")
        assert definition(store._con) == source
        _same_as_whole(store)
        assert _by_conversation(store) == conversations


def test_a_store_without_nested_calls_reads_them_straight(tmp_path: Path) -> None:
    """Calls outside any other span: the straight part, with every row and column of the whole view."""
    a, b = "a" * 32, "b" * 32
    (tmp_path / "t.jsonl").write_bytes(_line([_call(a, "a" * 12 + "0005", None, 10), _call(b, "b" * 12 + "0005", None, 7)]))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(tmp_path / "t.jsonl")
        assert definition(store._con) == STRAIGHT and _macro(store._con) == "llm_calls_straight(spans)"
        _same_as_whole(store)
        assert totals(store).llm_calls == 2 and totals(store).input_tokens == 17
    with TraceStore(str(tmp_path / "s.duckdb")) as store:  # fitted again on the next open
        assert definition(store._con) == STRAIGHT


def test_another_producers_call_below_a_span_reads_the_whole_view_before_its_turn_arrives(tmp_path: Path) -> None:
    """A peer's call whose parent is not stored yet: the scopes refresh places it in its turn's context when
    the turn arrives in a later file, so the view is whole from the first ingest on (the choice is made
    before that refresh), and the call counts under the turn's conversation once it is stored."""
    a = "c" * 32
    (tmp_path / "1.jsonl").write_bytes(_line([_call(a, "c" * 12 + "0005", "c" * 12 + "0001", 10)]))
    (tmp_path / "2.jsonl").write_bytes(_line([_turn(a, "c2", "s2")]))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(tmp_path / "1.jsonl")
        assert definition(store._con) == WHOLE and _macro(store._con) == "llm_calls_of(spans)"
        assert _by_conversation(store) == {None: (1, 10)}
        store.ingest(tmp_path / "2.jsonl")
        assert definition(store._con) == WHOLE
        _same_as_whole(store)
        assert _by_conversation(store) == {"c2": (1, 10)}


def test_an_apps_own_calls_in_its_turns_are_read_straight(tmp_path: Path) -> None:
    """otel-llm's own LLM spans inside its chat turns (the SDK's usual trace) nest nothing: straight."""
    a = "a" * 32
    call = _our_call(a, "a" * 12 + "0002", "a" * 12 + "0001", 1, "c4", {semconv.GEN_AI_USAGE_INPUT_TOKENS: 12})
    _one_ingest_fits(tmp_path, [_turn(a, "c4", "s4"), call], STRAIGHT, {"c4": (1, 12)})


def test_a_call_inside_an_llm_wrapper_makes_the_view_whole(tmp_path: Path) -> None:
    """An otel-llm LLM span around a peer's call (one call traced twice): whole, and the call counted once."""
    a = "d" * 32
    wrapper = _our_call(a, "d" * 12 + "0001", None, 2, "c3")
    _one_ingest_fits(tmp_path, [wrapper, _call(a, "d" * 12 + "0002", "d" * 12 + "0001", 10)], WHOLE, {"c3": (1, 10)})


def test_an_ingest_reads_the_whole_view_while_it_writes(tmp_path: Path) -> None:
    """What another statement reads while an ingest writes (nested rows may be committed before they are
    fitted) is the whole view; fitted straight again at its end."""
    a, b = "e" * 32, "f" * 32
    (tmp_path / "1.jsonl").write_bytes(_line([_call(a, "e" * 12 + "0005", None, 10)]))
    (tmp_path / "2.jsonl").write_bytes(_line([_call(b, "f" * 12 + "0005", None, 7)]))
    with TraceStore(str(tmp_path / "s.duckdb")) as store:
        store.ingest(tmp_path / "1.jsonl")
        assert definition(store._con) == STRAIGHT
        seen: list[tuple[str | None, str | None]] = []
        store.ingest(tmp_path / "2.jsonl", on_progress=lambda _read: seen.append((definition(store._con),
                                                                                  _macro(store._con))))
        assert seen and set(seen) == {(WHOLE, "llm_calls_of(spans)")}
        assert definition(store._con) == STRAIGHT
        _same_as_whole(store)
