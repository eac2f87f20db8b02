"""Evaluation scores written as text read as the same numbers on DuckDB and on ClickHouse.

DuckDB reads ``gen_ai.evaluation.score.value`` with ``TRY_CAST(… AS DOUBLE)`` (``_rows``'
``span_events.eval_score``; ``queries/log_evaluations.sql`` for a log record's), which trims
surrounding whitespace and takes ``_`` between digits. A log record that repeats a span
event (OpenLIT sends both) is counted once when its name, label and score are the event's:
were ClickHouse to read ``" 0.5"`` as no score while DuckDB reads 0.5, the twin would be
counted twice there, and the pass rate would differ between the engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

from otel_llm_analysis import qa
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same, same_on_both
from tests.clickhouse.test_differential_quality import _log_evaluation
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.graded_trace import GRADED, trace_file
from tests.support.synthetic import key_values

#: trace id digit -> (the span event's score, the log record's score, whether the log record is the event's twin)
CASES: dict[str, tuple[Any, Any, bool]] = {
    "1": (" 0.5", 0.5, True),
    "2": (0.5, " 0.5", True),
    "3": ("0.5 ", "\t0.50\n", True),
    "4": ("1_0", 10.0, True),
    "5": ("abc", "abc", True),  # no score on either side: a twin still
    "6": (0.5, 0.25, False),
    "7": ("1__0", "1__0", True),  # not a number (DuckDB takes "_" between two digits only)
    "8": ("NaN", "nan", True),  # a number, but no finite one: no score on either side, a twin still
    "9": ("-Infinity", " inf", True),
}


SCORE = "gen_ai.evaluation.score.value"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trace file per case (its span event's score) and the log records (their scores)."""
    root = tmp_path_factory.mktemp("differential_scores")
    score = SCORE
    records = []
    for trace, (event_score, log_score, _) in CASES.items():
        trace_file(root / f"{trace}.jsonl", GRADED, trace=trace, event_on="answer",
                   event_attrs={score: event_score})
        records.append(_log_evaluation(trace, GRADED["answer"][0], 60, "relevance", "pass", **{score: log_score}))
    (root / "logs.jsonl").write_bytes(orjson.dumps({"resourceLogs": [{
        "resource": {"attributes": key_values({"service.name": "s"})},
        "scopeLogs": [{"scope": {"name": "openlit.score"}, "logRecords": records}]}]}) + b"\n")
    return root


@pytest.fixture(scope="module")
def stores(root: Path, clickhouse_http: ChdbHttpServer) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_scores",
                           bad_lines_allowed=True)  # the span events' scores that are no number, named


def test_a_span_events_score_that_is_no_number_is_named_alike_on_both_engines(root: Path, clickhouse_url: str
                                                                                ) -> None:
    """A score no engine reads was a NULL ``eval_score`` without a word: each is named with its file, line and
    span by ``ingest`` and by ``load`` alike, and the evaluation kept."""
    with TraceStore(":memory:") as duck:
        said = [(p.path, p.line, p.where, p.reason) for p in duck.ingest(root).bad_lines]
    unread = [trace for trace, (score, _, _) in CASES.items() if score in ("abc", "1__0", "NaN", "-Infinity")]
    assert said == [(str(root / f"{trace}.jsonl"), 1, f"event of span {GRADED['answer'][0]}",
                     f"eval_score left empty: {SCORE} = {CASES[trace][0]!r} is not a finite number")
                    for trace in unread]
    assert [(p.path, p.line, p.where, p.reason) for p in load(root, clickhouse_url).bad_lines] == said
    assert load(root, clickhouse_url).bad_lines == []  # known spans: nothing said again


def test_each_span_events_score_reads_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    sql = "SELECT trace_id, eval_name, eval_score FROM evaluations ORDER BY trace_id"
    duck, ch = (store.query(sql) for store in stores)
    assert [row[2] for row in duck] == [0.5, 0.5, 0.5, 10.0, None, 0.5, None, None, None]  # DuckDB's reading
    same(duck, ch)


def test_a_log_record_twin_of_a_scored_span_event_is_counted_once_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    twins = sum(twin for _, _, twin in CASES.values())
    for store in stores:
        total, = qa.quality(store, None)
        assert total.passed == 2 * len(CASES) - twins, type(store).__name__


@pytest.mark.parametrize("by", [None, "model"])
def test_quality_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore], by: str | None) -> None:
    same_on_both(stores, f"quality by {by}", lambda s: qa.quality(s, by))
