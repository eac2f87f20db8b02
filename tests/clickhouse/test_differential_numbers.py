"""Token counts and costs written as text read as the same numbers on DuckDB and on ClickHouse.

DuckDB's ingest reads a count with ``TRY_CAST`` (``_rows.COUNT``: a non-negative
integer) and a cost as a finite number (``_rows.NUMBER``); DuckDB's cast trims
surrounding whitespace and takes ``_`` between digits. The span table on
ClickHouse must read each text the same way, else a move of store changes the
totals: a negative count summed, a padded one or a cost with digit separators
dropped (and the call then priced from its tokens instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

from otel_llm_analysis import summaries, traces
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from otel_llm_analysis.store import TraceStore
from tests.clickhouse.test_differential import both_stores, same, same_on_both
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import key_values

T0 = 1_790_000_000_000_000_000
#: (input tokens, output tokens, cost) as a producer may write them
CALLS: list[tuple[Any, Any, Any]] = [
    ("-5", "3", None), (" 12", "3", None), ("12 ", "\t4\n", None), ("1_000", "3", None), ("1__0", "3", None),
    ("_1", "1_", None), ("12.5", "3", None), ("1e30", "3", None), ("NaN", "3", None), ("+7", "12e0", None),
    (12.0, 3, None), ("-0", "3", None), ("0x10", "3", None), (10, 5, " 0.5"), (10, 5, "1_0.25"), (10, 5, "NaN"),
    (10, 5, "-0.5"), (10, 5, "\t0.125 "), (10, 5, "1__0"), (10, 5, 0.25),
    (str(2**63 - 1), "1", None), (str(2**53), "1", None), (str(2**53 + 2), "1", None),  # beyond 2**53: no count
]
#: Usage given only as a total (read by the analyses, ``_filters.TOTAL_ONLY_TOKENS``: a count as
#: ``_rows.COUNT`` reads one, a non-negative integer up to 2**53; anything else is no total, never rounded)
TOTALS: list[Any] = ["1234.0", " 1234 ", "1_234", "12.5", "-12.5", "1e3", "1234", 1234, "abc", "-5", "-0", " 12",
                     "0x10", "0b1", "+-1", "", "١٢", str(2**53 + 2), "1e30", "NaN", "-inf", 12.5]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, clickhouse_http: ChdbHttpServer
           ) -> Iterator[tuple[TraceStore, ClickHouseStore]]:
    root = tmp_path_factory.mktemp("differential_numbers")
    _write_calls(root)
    yield from both_stores(root, f"clickhouse://default@127.0.0.1:{clickhouse_http.port}/otel_numbers",
                           bad_lines_allowed=True)


def _write_calls(root: Path) -> None:
    """:data:`CALLS` and :data:`TOTALS`, a call each, as one collector-format line of ``root/calls.jsonl``."""
    spans = []
    calls: list[dict[str, Any]] = [
        {"gen_ai.usage.input_tokens": input_tokens, "gen_ai.usage.output_tokens": output_tokens,
         **({"gen_ai.usage.cost": cost} if cost is not None else {})} for input_tokens, output_tokens, cost in CALLS]
    calls += [{"llm.usage.total_tokens": total} for total in TOTALS]
    for i, usage in enumerate(calls, 1):
        attributes = {"gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai", "gen_ai.operation.name": "chat",
                      **usage}
        spans.append({"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": "chat gpt-4o", "kind": 3,
                      "startTimeUnixNano": str(T0 + i * 10**9), "endTimeUnixNano": str(T0 + i * 10**9 + 10**8),
                      "attributes": key_values(attributes)})
    (root / "calls.jsonl").write_bytes(orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": key_values({"service.name": "s"})},
        "scopeSpans": [{"scope": {"name": "producer"}, "spans": spans}]}]}) + b"\n")


def test_each_calls_tokens_and_cost_read_the_same_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    sql = ("SELECT span_id, input_tokens, output_tokens, cost_usd, cost_source FROM spans "
           "WHERE otel_kind = 'llm_call' ORDER BY span_id")
    duck, ch = (store.query(sql) for store in stores)
    assert [row[1:3] for row in duck[:4]] == [(None, 3), (12, 3), (12, 4), (1000, 3)]  # DuckDB's reading
    same(duck, ch)


def test_the_summary_is_the_same_on_both_engines(stores: tuple[TraceStore, ClickHouseStore]) -> None:
    same_on_both(stores, "summary", lambda s: summaries.summary(s, None))


def test_usage_given_only_as_a_total_counts_the_same_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    duck, ch = (summaries.summary(store, None)[0] for store in stores)
    # 1234 five times, 1000, 0 ("-0"), 12; "12.5", "-12.5" and "-5" are no total (not rounded to 13, -13, -5)
    assert (ch.total_only_calls, ch.total_only_tokens) == (8, 5 * 1234 + 1000 + 0 + 12)
    assert (duck.total_only_calls, duck.total_only_tokens) == (ch.total_only_calls, ch.total_only_tokens)


def test_each_traces_tokens_and_calls_count_the_same_on_both_engines(
        stores: tuple[TraceStore, ClickHouseStore]) -> None:
    """Each trace's tokens (a total included) and the calls its cost sums and leaves out (``trace_summary``)."""
    duck, ch = ({row.trace_id: (row.tokens, row.priced_calls, row.unpriced_calls)
                 for row in traces.top_traces(store, 100, "cost")} for store in stores)
    assert duck[f"{len(CALLS) + TOTALS.index('-12.5') + 1:032x}"][0] == 0  # no total: not -13 off the trace's tokens
    assert duck[f"{len(CALLS) + TOTALS.index(1234) + 1:032x}"] == (1234, 0, 1)  # a total: unpriced, not free
    same(duck, ch)


def test_load_reports_each_unreadable_count_and_cost_as_ingest_does(tmp_path: Path, clickhouse_url: str) -> None:
    """A count or cost left empty because its text is no count (no finite number) is said with its file,
    line and span by ``otel-llm load`` as by ``ingest`` (nothing dropped in silence); a second load, which
    adds no span, does not say them again."""
    _write_calls(tmp_path)
    with TraceStore(":memory:") as duck:
        expected = sorted(map(str, duck.ingest([tmp_path]).bad_lines))
    assert any("input_tokens left empty: gen_ai.usage.input_tokens = '-5'" in line for line in expected), expected
    assert sorted(map(str, load([tmp_path], clickhouse_url).bad_lines)) == expected
    again = {str(problem) for problem in load([tmp_path], clickhouse_url).bad_lines}
    assert not {line for line in expected if " at span " in line} & again  # those of the spans it added


def test_the_store_says_each_unreadable_count_and_cost_the_collector_wrote(tmp_path: Path, clickhouse_url: str) -> None:
    """Spans the collector's exporter inserts pass through no ingest or load to say what is left empty: the
    store says them when it opens (every analysis command, on stderr), in ingest's words, with the span and
    trace for the file line - the same spans and reasons DuckDB's ingest gives for the same data."""
    from otel_llm.collector import exporter_sql_dir
    from otel_llm_analysis.clickhouse import ExporterSchema
    from otel_llm_analysis.clickhouse._client import connect
    from otel_llm_analysis.clickhouse._unreadable import EXAMPLES

    _write_calls(tmp_path)
    with TraceStore(":memory:") as duck:
        said = [problem for problem in duck.ingest([tmp_path]).bad_lines if problem.where.startswith("span ")]
    expected = {(problem.where, problem.reason) for problem in said}
    loaded, direct = clickhouse_url, f"{clickhouse_url}_collector"
    load([tmp_path], loaded)
    client = connect(direct, select=False)
    database = direct.rsplit("/", 1)[1]
    for statement in ExporterSchema(database=database).statements(exporter_sql_dir()):
        client.command(statement)
    client.command(f"INSERT INTO `{database}`.otel_traces SELECT * FROM `{loaded.rsplit('/', 1)[1]}`.otel_traces")

    with ClickHouseStore(direct) as ch:
        note = ch.unreadable
    spans = {where for where, _ in expected}
    assert note is not None and note.startswith(f"{len(spans)} span(s) hold a token count or cost that cannot be read")
    named = [part.split(": ", 1) for part in note.split(": ", 1)[1].split(" (all of them")[0].split("; ")
             if part != "…"]
    assert len({where for where, _ in named}) == EXAMPLES and all(
        (where.split(" of trace ")[0], reason) in expected for where, reason in named), (named, expected)
    from typer.testing import CliRunner

    from otel_llm.cli import app

    summary = CliRunner().invoke(app, ["summary", "--db", direct])
    assert summary.exit_code == 0 and f"note: {note}" in summary.stderr.splitlines()
    listed = CliRunner().invoke(app, ["sql", "SELECT trace_id, span_id, unreadable_columns FROM spans WHERE "
                                             "notEmpty(unreadable_columns)", "--db", direct, "-f", "json"])
    assert listed.exit_code == 0 and listed.stdout.count('"span_id"') == len(spans)
