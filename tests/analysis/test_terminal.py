"""Terminal output: no column disappears in silence, failed spans are marked in trees."""

from __future__ import annotations

from rich.console import Console

from otel_llm_analysis.cli import SUMMARY_COLUMNS
from otel_llm_analysis.summaries import summary
from otel_llm_analysis.terminal import header, table
from otel_llm_analysis.traces import top_traces
from otel_llm_analysis import terminal

from _ground_truth import store_fixture

loaded = store_fixture(seed=61, traces=60, days=5)


def _text(renderable_or_table, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))
    if isinstance(renderable_or_table, terminal.Table):
        renderable_or_table.print(console)
    else:
        console.print(renderable_or_table)
    return console.export_text()


def test_every_column_is_shown_or_named_as_hidden(loaded):
    store, _ = loaded
    rows = summary(store, "model")
    for width in (40, 60, 80, 100, 200):
        fitted = table(rows, "summary by model", SUMMARY_COLUMNS, width=width)
        text = _text(fitted, width)
        assert all(len(line) <= width for line in text.splitlines()), width
        flat = " ".join(text.split())
        for name in SUMMARY_COLUMNS:
            shown = all(word in flat for word in header(name).split())
            assert shown or header(name) in fitted.hidden, (width, name)
        if fitted.hidden:
            assert f"{len(fitted.hidden)} column" in flat and "--format json" in flat
            assert all(name in flat for name in fitted.hidden)
    assert not table(rows, None, SUMMARY_COLUMNS, width=200).hidden  # wide enough: nothing hidden


def test_numbers_are_never_cut(loaded):
    store, _ = loaded
    rows = summary(store, "model")
    text = _text(table(rows, None, ["key", "cost_usd", "input_tokens"], width=80), 80)
    for row in rows:
        assert f"{row.input_tokens:,}" in text


def test_tree_marks_failed_spans(loaded):
    store, data = loaded
    failing = {s.trace_id for s in data.spans if s.status_code == 2}
    rows = [r for r in top_traces(store, 60, "cost") if r.trace_id in failing]
    assert rows, "the data set has traces with failed spans"
    for row in rows:
        text = _text(terminal.span_tree(row), 200)
        failed = sum(1 for node in row.tree if node.status_code == 2)
        assert text.count("✗ error") == failed >= 1


def test_control_characters_from_the_data_are_shown_not_obeyed(tmp_path):
    """A model or span name is the producer's text: an escape sequence in it must not recolour or
    clear the user's terminal, a newline must not fake a row, a bidi override must not reorder
    what follows. They print as visible escapes, in tables and in span trees."""
    import orjson
    import typer
    from typer.testing import CliRunner
    from otel_llm_analysis.cli import register

    names = ["\x1b[2J\x1b[31mred\x1b[0m", "gpt-4o\nINJECTED ROW", "abc\u202edcba", "tab\there\x07"]
    start = 1_764_590_400_000_000_000
    spans = [{"traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": name, "kind": 3,
              "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**9), "status": {"code": 2},
              "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                             {"key": "gen_ai.request.model", "value": {"stringValue": name}}]}
             for i, name in enumerate(names)]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}) + b"\n")
    app = typer.Typer()
    register(app)
    db = str(tmp_path / "s.duckdb")
    assert CliRunner().invoke(app, ["ingest", str(path), "--db", db]).exit_code == 0
    for args in (["summary", "--by", "model"], ["traces", "--tree"]):
        result = CliRunner().invoke(app, [*args, "--db", db], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        out = result.output
        assert not {"\x1b", "\x07", "\u202e", "\t"} & set(out), repr(out)
        assert not any(line.lstrip().startswith("INJECTED") for line in out.splitlines()), out
        for shown in (r"\x1b[2J\x1b[31mred\x1b[0m", r"gpt-4o\nINJECTED ROW", r"abc\u202edcba", r"tab\there\x07"):
            assert shown in out, (shown, out)


def test_a_cost_unknown_for_lack_of_a_price_reads_unpriced(loaded):
    """A group of calls whose model has no price has cost None: the table says "unpriced" in each cost
    column, not "-", which reads as "nothing" (and a group without calls keeps its own figures)."""
    store, _ = loaded
    rows = summary(store, "model")
    unpriced = [row for row in rows if row.llm_calls and row.cost_usd is None]
    assert unpriced, "the data set has an unpriced model"
    columns = ["key", "llm_calls", "cost_usd", "cost_share", "cost_per_call"]
    text = _text(table(rows, None, columns, width=200), 200)
    for row in rows:
        line = next(line for line in text.splitlines() if line.split() and line.split()[0] == (row.key or "-"))
        if row in unpriced:
            assert line.split()[2:] == ["unpriced"] * 3, line
        else:
            assert "unpriced" not in line, line


def test_the_report_budget_line_says_how_many_unpriced_calls_its_spend_leaves_out(loaded):
    """The budget's spend sums priced calls: the closing report's budget line says how many calls of the
    month it could not count, as the HTML report does."""
    from datetime import datetime, timedelta

    from otel_llm_analysis import Budget, Filters, budget_status, totals
    from otel_llm_analysis._catalog import catalog
    from otel_llm_analysis.report import print_report

    store, _ = loaded
    month = catalog(store).newest_month
    status = budget_status(store, [Budget(50.0)], month)[0]
    first = datetime.strptime(month, "%Y-%m")
    left_out = totals(store, Filters(since=first, until=datetime.combine(status.as_of + timedelta(days=1),
                                                                         datetime.min.time()))).unpriced_calls
    assert left_out > 0, "the data set has unpriced calls in its newest month"
    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    print_report(store, console, monthly_budget=50.0)
    (line,) = [line for line in console.export_text().splitlines() if line.startswith("budget ")]
    assert f"{left_out} unpriced LLM calls not in the spend" in line, line


def test_unicode_line_separators_from_the_data_are_shown_not_obeyed():
    """U+2028 and U+2029 end a line in Unicode (and in terminals that follow it), and Rich measures them
    as nothing, so a row holding one is printed out of line with its header: they show as escapes."""
    from otel_llm_analysis.terminal import visible

    assert visible("gpt-4o\u2028INJECTED\u2029ROW") == r"gpt-4o\u2028INJECTED\u2029ROW"
    rows = [{"key": "a\u2028b", "llm_calls": 1}, {"key": "plain", "llm_calls": 22}]
    text = _text(table(rows, None, ["key", "llm_calls"], width=80), 80)
    lines = [line for line in text.splitlines() if line.strip()]
    assert r"a\u2028b" in text and "\u2028" not in text, text
    assert len({len(line.rstrip()) for line in lines[-2:]}) == 1, lines  # the numbers stay in their column


def test_a_change_without_a_previous_period_reads_dash_not_unpriced(loaded):
    """`otel-llm trends`: the first period shown has no period before it to compare with, so its
    cost change is None; that is "no figure" ("-"), not a cost left out for want of a price."""
    from otel_llm_analysis.trends import series

    store, _ = loaded
    points = [p for p in series(store, "day") if p.calls and p.cost_usd is not None]
    assert points[0].cost_change_pct is None and points[0].calls > 0, "the first day has priced calls"
    text = _text(table(points, None, ["period", "calls", "cost_usd", "cost_change_pct"], width=200), 200)
    first = next(line for line in text.splitlines() if line.startswith(f"{points[0].period:%Y-%m-%d}"))
    assert first.split()[-1] == "-", first
    assert "unpriced" not in text, text


def test_the_midnight_hour_of_an_hourly_column_shows_its_time():
    """A trends table per hour printed its 00:00 row as "2026-12-03" beside "2026-12-02 23:00:00": a day's row
    to the reader (and to a script counting hour rows). In a column holding times of day, midnight has its time;
    a column of days alone stays dates."""
    from datetime import datetime

    def shown(rows):
        console = Console(width=200, record=True, file=open("/dev/null", "w"))
        table(rows, "t", ["period", "calls"]).print(console)
        return console.export_text()

    hours = shown([{"period": datetime(2026, 12, 2, 23), "calls": 1}, {"period": datetime(2026, 12, 3), "calls": 2}])
    assert "2026-12-02 23:00:00" in hours and "2026-12-03 00:00:00" in hours, hours
    days = shown([{"period": datetime(2026, 12, 2), "calls": 1}, {"period": datetime(2026, 12, 3), "calls": 2}])
    assert "2026-12-03 " in days and "00:00" not in days, days
