"""Priced and unpriced calls add up: a call whose usage is only a total is unpriced, and its tokens are told.

Ground truth is the list of calls written below: which carry a cost, which carry
tokens the price tables cannot price, which carry only a total token count
(OpenLLMetry's ``llm.usage.total_tokens``, OpenInference's ``llm.token_count.total``,
the GenAI ``gen_ai.usage.total_tokens``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import json

import orjson
import pytest

from otel_llm_analysis.store import TraceStore
from otel_llm_analysis.summaries import summary, totals
from tests.support import synthetic

_START = 1_763_600_000_000_000_000


def _call(number: int, model: str, **attributes: object) -> synthetic.SpanRecord:
    record = synthetic.SpanRecord(
        trace_id=f"{number:032x}", span_id=f"{number:016x}", parent_span_id=None, name=f"chat {model}",
        span_kind="CLIENT", service_name="svc", project="", otel_kind="", start_ns=_START + number * 10**9,
        end_ns=_START + number * 10**9 + 200_000_000, resource={"service.name": "svc"},
    )
    record.attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model, **attributes}
    return record


#: (span, priced, unpriced, total-only tokens or None)
CALLS = [
    (_call(1, "gpt-4o", **{"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20}), True, False, None),
    (_call(2, "in-house-model", **{"gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 5}),
     False, True, None),
    (_call(3, "gpt-4o", **{"llm.usage.total_tokens": 321}), False, True, 321),
    (_call(4, "in-house-model", **{"llm.token_count.total": 77}), False, True, 77),
    (_call(5, "gpt-4o", **{"gen_ai.usage.total_tokens": 1000}), False, True, 1000),
    # no usage at all: a call that failed before an answer, or whose raw HTTP response the app read itself
    (_call(6, "gpt-4o", **{"otel_llm.usage.unobserved": "response not parsed"}), False, False, None),
]


@pytest.fixture
def loaded(tmp_path: Path):
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps(synthetic.spans_request([span for span, *_ in CALLS])) + b"\n")
    store = TraceStore(str(tmp_path / "store.duckdb"))
    report = store.ingest([str(path)])
    assert sum("only as a total" in problem.reason for problem in report.bad_lines) == 3
    yield store
    store.close()


def _expected(rows):
    return {
        "llm_calls": len(rows),
        "priced_calls": sum(priced for _, priced, _, _ in rows),
        "unpriced_calls": sum(unpriced for _, _, unpriced, _ in rows),
        "total_only_calls": sum(total is not None for *_, total in rows),
        "total_only_tokens": sum(total or 0 for *_, total in rows),
        "no_usage_calls": sum(not priced and not unpriced for _, priced, unpriced, _ in rows),
    }


def test_a_call_with_only_a_total_is_an_unpriced_call_and_its_total_is_reported(loaded):
    row = totals(loaded)
    assert {name: getattr(row, name) for name in _expected(CALLS)} == _expected(CALLS)
    assert (row.input_tokens, row.output_tokens) == (150, 25)  # a total is never split into them
    assert row.llm_calls == row.priced_calls + row.unpriced_calls + row.no_usage_calls  # every call is one of them


def test_per_model_the_priced_and_unpriced_calls_are_those_of_the_model(loaded):
    rows = {row.key: row for row in summary(loaded, "model")}
    for model in ("gpt-4o", "in-house-model"):
        mine = [c for c in CALLS if c[0].attributes["gen_ai.request.model"] == model]
        assert {name: getattr(rows[model], name) for name in _expected(mine)} == _expected(mine), model


def test_a_budget_says_how_many_of_its_calls_its_spend_leaves_out(loaded):
    from datetime import date

    from otel_llm_analysis.budgets import Budget, budget_status

    month = date(2025, 11, 1)
    assert all(month <= span.start_time.date() < date(2025, 12, 1) for span, *_ in CALLS)
    for budget, mine in ((Budget(10.0), CALLS),
                         (Budget(10.0, model="gpt-4o"), [c for c in CALLS if "gpt-4o" in c[0].name])):
        status, = budget_status(loaded, [budget], "2025-11")
        expected = _expected(mine)
        assert (status.calls, status.priced_calls, status.unpriced_calls) == (
            expected["llm_calls"], expected["priced_calls"], expected["unpriced_calls"])
        assert status.spent > 0  # the priced call's cost, and only that


def test_the_budget_command_names_the_calls_without_a_price(loaded, tmp_path):
    import json

    from typer.testing import CliRunner

    from otel_llm.cli import app

    db = str(tmp_path / "store.duckdb")  # the fixture's store, closed so the command can open it
    loaded.close()
    result = CliRunner().invoke(app, ["budget", "--db", db, "--monthly", "10", "--month", "2025-11"])
    assert result.exit_code == 0, result.output
    assert "4 of 6 calls have no cost: 1 whose model has no price (add it with --pricing FILE), 3 whose usage is " \
        "only a total" in " ".join(result.output.split()), result.output
    result = CliRunner().invoke(app, ["budget", "--db", db, "--monthly", "10", "--month", "2025-11",
                                      "--format", "json"])
    row, = json.loads(result.stdout)["rows"]
    assert (row["calls"], row["priced_calls"], row["unpriced_calls"]) == (6, 1, 4)


def test_compare_rows_count_the_calls_their_cost_per_call_leaves_out(loaded):
    from otel_llm_analysis.comparisons import compare

    rows = {row.key: row for row in compare(loaded, "model")}
    for model in ("gpt-4o", "in-house-model"):
        expected = _expected([c for c in CALLS if c[0].attributes["gen_ai.request.model"] == model])
        assert (rows[model].priced_calls, rows[model].unpriced_calls) == (
            expected["priced_calls"], expected["unpriced_calls"]), model


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("command", [["trends"], ["compare"], ["summary", "--by", "model"], ["summary"], ["traces"],
                                     ["check", "--max-cost", "5"]])
def test_commands_that_show_cost_name_the_calls_it_leaves_out(loaded, tmp_path, command, fmt):
    """In every format: a note follows the table, is the ``notes`` key of the JSON object, and is said
    on stderr beside CSV (whose stdout stays rows only); json and csv lost them before."""
    import csv
    import io

    from typer.testing import CliRunner

    from otel_llm.cli import app

    db = str(tmp_path / "store.duckdb")
    loaded.close()
    result = CliRunner().invoke(app, [*command, "--db", db, "--format", fmt], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    if fmt == "json":
        text = " ".join(json.loads(result.stdout)["notes"])
    elif fmt == "csv":
        assert "no price" not in result.stdout and list(csv.DictReader(io.StringIO(result.stdout)))
        assert all(line.startswith("note: ") for line in result.stderr.splitlines()), result.stderr
        text = " ".join(result.stderr.split())
    if command[0] == "compare" or command[:2] == ["summary", "--by"]:  # per group: its priced calls' cost
        assert "gpt-4o: 2 of 4 calls have no cost: 2 whose usage is only a total" in text, text
        assert ("in-house-model: 2 of 2 calls have no cost: 1 whose model has no price (add it with --pricing FILE), "
                "1 whose usage is only a total") in text, text
    else:
        assert "4 of 6 calls have no cost: 1 whose model has no price" in text, text
    if command[:2] != ["summary", "--by"] and command[0] != "compare":  # totals: and the call with no usage at all
        assert "1 of 6 calls have no usage recorded" in text, text
    else:  # per group: the group the call with no usage at all is in
        assert "gpt-4o: 1 of 4 calls have no usage recorded" in text, text
        assert "in-house-model: " not in text.replace("in-house-model: 2 of 2 calls have no cost", ""), text


def test_a_trace_counts_the_tokens_of_a_call_that_gave_only_their_total(loaded):
    from otel_llm_analysis.traces import top_traces

    tokens = {row.trace_id: row.tokens for row in top_traces(loaded, len(CALLS), "duration")}
    for span, _, _, total in CALLS:
        split = span.attributes.get("gen_ai.usage.input_tokens", 0) + span.attributes.get("gen_ai.usage.output_tokens", 0)
        assert tokens[span.trace_id] == (total if total is not None else split), span.trace_id


@pytest.mark.parametrize("command", [["agents"], ["retries"]])
def test_agents_and_retries_name_the_calls_their_cost_leaves_out(tmp_path, command):
    from typer.testing import CliRunner

    from otel_llm.cli import app

    data = synthetic.generate(tmp_path / "data", seed=5, traces=40, days=3, agents="openinference")
    calls = [s for s in data.spans if s.otel_kind == "llm_call" and not s.nested]
    unpriced = sum(s.cost_usd is None and (s.input_tokens is not None or s.output_tokens is not None) for s in calls)
    assert unpriced  # the generator's model without a price
    db = str(tmp_path / "s.duckdb")
    with TraceStore(db) as store:
        store.ingest([str(p) for p in data.files])
    result = CliRunner().invoke(app, [*command, "--db", db], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    if command == ["retries"]:
        assert f"{unpriced} of {len(calls)} calls have no cost: {unpriced} whose model has no price" in text, result.output
        return
    from otel_llm_analysis.agent_usage import agents

    with TraceStore(db, read_only=True) as store:  # each agent's own calls: a note per agent that has some
        rows = [row for row in agents(store) if row.unpriced_calls]
    assert rows and sum(row.unpriced_calls for row in rows) <= unpriced
    for row in rows:
        assert f"{row.agent}: {row.unpriced_calls} of {row.llm_calls} calls have no price" in text, result.output


def test_a_budget_over_a_month_without_calls_says_so(loaded, tmp_path):
    """$0 spent of no calls at all (the store lacks the month) is said, not shown as a plain 'ok'."""
    from typer.testing import CliRunner

    from otel_llm.cli import app

    db = str(tmp_path / "store.duckdb")
    loaded.close()
    result = CliRunner().invoke(app, ["budget", "--db", db, "--monthly", "10", "--month", "2025-10"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "overall: no LLM call in 2025-10 through 2025-10-31" in " ".join(result.output.split()), result.output
    november = CliRunner().invoke(app, ["budget", "--db", db, "--monthly", "10", "--month", "2025-11"])
    assert "no LLM call" not in november.output


def test_daily_usage_counts_the_unpriced_calls_beside_the_priced(loaded):
    """SQL over `daily_usage` can tell a cheap day from a day whose calls have no price."""
    rows = {model: (calls, priced, unpriced) for model, calls, priced, unpriced in loaded.query(
        "SELECT model, calls, priced_calls, unpriced_calls FROM daily_usage")}
    for model in ("gpt-4o", "in-house-model"):
        expected = _expected([c for c in CALLS if c[0].attributes["gen_ai.request.model"] == model])
        assert rows[model] == (expected["llm_calls"], expected["priced_calls"], expected["unpriced_calls"]), model


def test_a_producers_zero_cost_on_a_call_with_only_a_total_is_no_price(tmp_path):
    """OpenLIT writes a cost of 0 when it has no price; a call whose usage is only a total has
    tokens, so it is not free: unpriced, like the same 0 on a call with input and output tokens."""
    spans = [_call(21, "gpt-4o", **{"gen_ai.usage.total_tokens": 500, "gen_ai.usage.cost": 0.0}),
             _call(22, "gpt-4o", **{"gen_ai.usage.input_tokens": 0, "gen_ai.usage.output_tokens": 0,
                                    "gen_ai.usage.cost": 0.0}),  # no tokens at all: a real 0
             _call(23, "gpt-4o", **{"gen_ai.usage.total_tokens": 40, "gen_ai.usage.cost": 0.25})]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps(synthetic.spans_request(spans)) + b"\n")
    with TraceStore(str(tmp_path / "zero.duckdb")) as store:
        store.ingest([str(path)])
        row = totals(store)
        assert (row.llm_calls, row.priced_calls, row.unpriced_calls, row.total_only_tokens) == (3, 2, 1, 540)
        assert row.cost_usd == pytest.approx(0.25)
        costs = dict(store.query("SELECT span_id, cost_usd FROM llm_calls"))
        assert costs == {spans[0].span_id: None, spans[1].span_id: 0.0, spans[2].span_id: 0.25}


def _write(path: Path, calls) -> Path:
    path.write_bytes(orjson.dumps(synthetic.spans_request([span for span, *_ in calls])) + b"\n")
    return path


def _state(store: TraceStore) -> str | None:
    from otel_llm_analysis._total_only import NAME

    rows = store.query("SELECT value FROM ingest_state WHERE name = ?", [NAME])
    return rows[0][0] if rows else None


def test_totals_are_read_once_the_store_holds_one_and_an_older_store_is_read_whole(tmp_path):
    """Reading a call's total scans every call's attribute lists, so a summary skips it on a store known
    to hold no total-only call: that knowledge must follow each ingest and never hide one."""
    split = [c for c in CALLS if c[3] is None]
    store = TraceStore(str(tmp_path / "s.duckdb"))
    store.ingest([str(_write(tmp_path / "a.jsonl", split))])
    assert _state(store) == "none"
    assert totals(store).total_only_calls == 0 and totals(store).unpriced_calls == 1
    store.ingest([str(_write(tmp_path / "b.jsonl", CALLS))])  # the same calls again, and the total-only ones
    assert _state(store) == "seen"
    row = totals(store)
    assert {name: getattr(row, name) for name in _expected(CALLS)} == _expected(CALLS)
    store.query("DELETE FROM ingest_state WHERE name = 'total_only_usage'")  # as a store of another version
    store.close()
    with TraceStore(str(tmp_path / "s.duckdb"), read_only=True) as older:  # not looked at: read whole
        assert _state(older) is None and totals(older).total_only_calls == 3
    with TraceStore(str(tmp_path / "s.duckdb")) as reopened:  # opened for writing: looked at once
        assert _state(reopened) == "seen" and totals(reopened).total_only_calls == 3


def test_each_trend_period_counts_the_calls_its_cost_leaves_out(loaded, tmp_path):
    """The trends table's note names the unpriced calls, but a note is not in ``--format csv`` or
    ``json``: a period's cost there read as the whole spend of its calls. Each period now counts
    its priced and unpriced calls, as summary and budget rows do."""
    import csv
    import io

    from typer.testing import CliRunner

    from otel_llm.cli import app
    from otel_llm_analysis.trends import series

    expected = _expected(CALLS)
    (point,) = [p for p in series(loaded, "day") if p.calls]
    assert (point.calls, point.priced_calls, point.unpriced_calls) == (
        expected["llm_calls"], expected["priced_calls"], expected["unpriced_calls"])
    db = str(tmp_path / "store.duckdb")
    loaded.close()
    result = CliRunner().invoke(app, ["trends", "--db", db, "--format", "csv"])
    assert result.exit_code == 0, result.output
    (row,) = [r for r in csv.DictReader(io.StringIO(result.stdout)) if r["calls"] != "0"]
    assert (row["priced_calls"], row["unpriced_calls"]) == (str(expected["priced_calls"]),
                                                            str(expected["unpriced_calls"]))


@pytest.mark.parametrize("value", ["-12.5", -12.5, "12.5", 12.5, "-3", "abc", "1e30", 2**63 - 1])
def test_a_total_that_is_not_a_count_is_no_total(tmp_path, value):
    """A total token count is read as the split counts are (``_rows.COUNT``): a non-negative integer up to
    2**53. "-12.5" was read as -13 (DuckDB rounds a cast to BIGINT) and subtracted from the tokens; now it
    is no total: the call is one without usage (neither priced nor unpriced), as an unreadable split is."""
    spans = [_call(31, "gpt-4o", **{"llm.usage.total_tokens": value}),
             _call(32, "gpt-4o", **{"llm.usage.total_tokens": "40"}),
             _call(33, "gpt-4o", **{"gen_ai.usage.total_tokens": 12.0})]  # a whole double is a count
    with TraceStore(str(tmp_path / "bad.duckdb")) as store:
        store.ingest([str(_write(tmp_path / "bad.jsonl", [(s,) for s in spans]))])
        row = totals(store)
        assert (row.llm_calls, row.unpriced_calls, row.total_only_calls, row.total_only_tokens,
                row.no_usage_calls) == (3, 2, 2, 52, 1)
        from otel_llm_analysis.traces import top_traces

        tokens = {t.trace_id: t.tokens for t in top_traces(store, 3, "duration")}
        assert tokens == {spans[0].trace_id: 0, spans[1].trace_id: 40, spans[2].trace_id: 12}


def test_each_trace_counts_its_priced_and_unpriced_calls(loaded, tmp_path):
    """A trace whose calls have no price showed no cost, as a free one would: each row now counts the
    calls its cost sums and those it leaves out, in the table and in json."""
    from typer.testing import CliRunner

    from otel_llm.cli import app

    db = str(tmp_path / "store.duckdb")
    loaded.close()
    result = CliRunner().invoke(app, ["traces", "--db", db, "--top", "10", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["trace_id"]: row for row in json.loads(result.stdout)["rows"]}
    for span, priced, unpriced, _ in CALLS:
        row = rows[span.trace_id]
        assert (row["llm_calls"], row["priced_calls"], row["unpriced_calls"]) == (1, int(priced), int(unpriced))
    table = CliRunner().invoke(app, ["traces", "--db", db, "--top", "10"], env={"COLUMNS": "250"})
    assert "unpriced" in table.output, table.output


def test_check_max_cost_cannot_pass_calls_without_a_price(tmp_path):
    """``check --max-cost`` over calls none of which has a price passed as "no data" (exit 0): the spend
    was unknown, not absent. It is now "unknown", said in a note, exit 3 (not checked); a spend of which a
    part is known is checked, and the calls it leaves out named (as ``budget``)."""
    from typer.testing import CliRunner

    from otel_llm.cli import app

    unpriced = [_call(41, "in-house-model", **{"gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 5}),
                _call(42, "gpt-4o", **{"llm.usage.total_tokens": 90})]
    priced = [_call(43, "gpt-4o", **{"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100})]
    stores = {}
    for name, spans in (("unpriced", unpriced), ("mixed", unpriced + priced), ("priced", priced)):
        stores[name] = str(tmp_path / f"{name}.duckdb")
        with TraceStore(stores[name]) as store:
            store.ingest([str(_write(tmp_path / f"{name}.jsonl", [(s,) for s in spans]))])

    def cost_check(name, limit):
        result = CliRunner().invoke(app, ["check", "--db", stores[name], "--max-cost", str(limit),
                                          "--max-p95-ms", "1e9", "--max-error-rate", "1", "--format", "json"])
        document = json.loads(result.stdout)
        (row,) = [r for r in document["rows"] if r["check"] == "cost_usd"]
        return result.exit_code, row["status"], " ".join(document["notes"])

    code, status, notes = cost_check("unpriced", 5)
    assert (code, status) == (3, "unknown") and "cannot be checked" in notes, notes
    code, status, notes = cost_check("mixed", 1000)
    assert (code, status) == (0, "ok") and "2 of 3 calls have no cost: 1 whose model has no price (add it with --pricing FILE), 1 whose usage " \
        "is only a total" in notes, notes
    assert cost_check("mixed", 1e-9)[:2] == (1, "breached")  # the priced part alone crosses it
    assert cost_check("priced", 1000)[:2] == (0, "ok")
    table = CliRunner().invoke(app, ["check", "--db", stores["unpriced"], "--max-cost", "5"], env={"COLUMNS": "200"})
    assert table.exit_code == 3 and "unknown" in table.output and "cannot be checked" in table.output, table.output


def test_a_budget_whose_calls_have_no_price_is_unknown(tmp_path):
    """A budget over calls none of which has a price showed spent $0, status ok, exit 0: its spend is
    unknown, so its status is too (exit 3); a budget with a priced call keeps its traffic light."""
    from typer.testing import CliRunner

    from otel_llm.cli import app

    spans = [_call(51, "in-house-model", **{"gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 5}),
             _call(52, "gpt-4o", **{"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100})]
    db = str(tmp_path / "b.duckdb")
    with TraceStore(db) as store:
        store.ingest([str(_write(tmp_path / "b.jsonl", [(s,) for s in spans]))])

    def budget(*args):
        result = CliRunner().invoke(app, ["budget", "--db", db, "--monthly", "1000", "--month", "2025-11", *args,
                                          "--format", "json"])
        (row,) = json.loads(result.stdout)["rows"]
        return result.exit_code, row["status"], row["unpriced_calls"]

    assert budget("--model", "in-house-model") == (3, "unknown", 1)
    assert budget("--model", "gpt-4o") == (0, "ok", 0)
    assert budget() == (0, "ok", 1)  # a spend partly known: checked, its unpriced call named in a note


@pytest.mark.parametrize("command", [["check", "--max-cost", "5", "--max-error-rate", "1"],
                                     ["budget", "--monthly", "10", "--month", "2025-11"]])
def test_a_spend_of_calls_without_any_usage_is_unknown_not_zero(tmp_path, command):
    """Streams read without their usage chunk (or raw HTTP responses) carry no tokens and no cost: a
    window of only such calls passed `check --max-cost` as "no data" and `budget` as "ok" with $0
    spent, exit 0, saying nothing. Their spend is unknown: status unknown, exit 3, and a note names them."""
    from typer.testing import CliRunner

    from otel_llm.cli import app

    unobserved = [c for c in CALLS if not c[1] and not c[2]]
    assert unobserved
    db = str(tmp_path / "store.duckdb")
    with TraceStore(db) as store:
        store.ingest([str(_write(tmp_path / "t.jsonl", unobserved))])
    result = CliRunner().invoke(app, [*command, "--db", db, "--format", "json"])
    document = json.loads(result.stdout)
    assert result.exit_code == 3, result.output
    status = [row["status"] for row in document["rows"] if row.get("check", "cost_usd") == "cost_usd"]
    assert status == ["unknown"], document
    said = " ".join(document["notes"])
    assert f"{len(unobserved)} of {len(unobserved)} calls have no usage recorded" in said, said


def test_compare_tokens_per_call_is_the_mean_over_the_calls_whose_tokens_are_known(loaded):
    """compare's tokens_per_call divided the split tokens by every call: a model whose calls were
    partly streams without usage (or gave only a total) looked several times leaner than it is
    (gpt-4o here: 30 tokens per call for calls of 120, 321 and 1000 tokens and one unknown)."""
    from otel_llm_analysis.comparisons import compare

    rows = {row.key: row for row in compare(loaded, "model")}
    for model in ("gpt-4o", "in-house-model"):
        known = []
        for span, _, _, total in CALLS:
            attributes = span.attributes
            if attributes["gen_ai.request.model"] != model:
                continue
            split = [attributes.get(f"gen_ai.usage.{n}_tokens") for n in ("input", "output")]
            if total is not None:
                known.append(total)
            elif any(v is not None for v in split):
                known.append(sum(v or 0 for v in split))
        assert rows[model].tokens_per_call == pytest.approx(sum(known) / len(known)), model


def test_a_day_whose_calls_all_lack_a_price_has_an_unknown_cost_not_zero(loaded, tmp_path):
    """Trends summed the priced calls' cost with ``coalesce(..., 0)``: a day of calls none of which has a
    price read $0, as if the calls were free. Such a day's cost is unknown (None) and says how many calls
    lack a price; a day with a priced call keeps the priced cost; a day without calls is $0."""
    from datetime import datetime, timedelta

    from otel_llm_analysis._filters import Filters
    from otel_llm_analysis.trends import period_over_period, series

    day = datetime(2025, 11, 20)
    assert all(day <= span.start_time < day + timedelta(days=1) for span, *_ in CALLS)
    unpriced_only = Filters(model="in-house-model")  # two calls with tokens, no price
    point, = series(loaded, "day", unpriced_only)
    assert (point.calls, point.priced_calls, point.unpriced_calls, point.cost_usd) == (2, 0, 2, None)
    mixed, = series(loaded, "day")
    assert mixed.priced_calls == 1 and mixed.cost_usd > 0
    # a quiet day before it is $0 (no calls, nothing spent); the change to an unknown cost is unknown
    before, after = series(loaded, "day", replace(unpriced_only, since=day - timedelta(days=1),
                                                 until=day + timedelta(days=1)))
    assert (before.calls, before.cost_usd, after.cost_usd, after.cost_change_pct) == (0, 0.0, None, None)
    assert period_over_period([before, after]) is None


def test_our_own_sdks_total_only_call_is_counted_not_reported_as_a_problem(tmp_path):
    """otel-llm's SDK records a response whose usage is only a total as ``gen_ai.usage.total_tokens`` on
    its ``llm_call`` span: valid data, counted as a total-only call. Ingest reported it as a located
    problem (exit 3), as it does another producer's total that hides a split it failed to read; another
    producer's stays reported."""
    from otel_llm import llm_call
    from otel_llm.exporters.file import FileSpanExporter
    from otel_llm.testing import capture

    @llm_call
    def ask(model: str) -> dict:
        return {"model": "gpt-4o-2024-08-06", "usage": {"total_tokens": 42}}

    with capture() as cap:
        ask(model="gpt-4o")
    path = tmp_path / "sdk.jsonl"
    exporter = FileSpanExporter(path)
    exporter.export(cap.spans())
    exporter.shutdown()
    (tmp_path / "peer.jsonl").write_bytes(orjson.dumps(synthetic.spans_request([CALLS[2][0]])) + b"\n")
    with TraceStore(str(tmp_path / "store.duckdb")) as store:
        report = store.ingest([str(path), str(tmp_path / "peer.jsonl")])
        assert [problem.path for problem in report.bad_lines] == [str(tmp_path / "peer.jsonl")]
        row = totals(store)
        assert (row.llm_calls, row.total_only_calls, row.total_only_tokens) == (2, 2, 42 + 321)


def test_a_forecast_says_how_many_of_its_calls_its_spend_leaves_out(loaded):
    """The month-end forecast of calls none of which has a price read "spent $0, month-end ≈ $0": free.
    It counts the month's calls, those its spend holds and those it leaves out, as a budget does."""
    from datetime import date

    from otel_llm_analysis._filters import Filters
    from otel_llm_analysis.trends import forecast_month_end

    as_of = date(2025, 11, 30)
    for scope, mine in ((Filters(model="in-house-model"), [c for c in CALLS if "in-house" in c[0].name]),
                        (Filters(), CALLS)):
        forecast = forecast_month_end(loaded, "2025-11", as_of, scope)
        expected = _expected(mine)
        assert (forecast.calls, forecast.priced_calls, forecast.unpriced_calls, forecast.no_usage_calls) == (
            expected["llm_calls"], expected["priced_calls"], expected["unpriced_calls"], expected["no_usage_calls"])
    assert forecast.spent > 0
