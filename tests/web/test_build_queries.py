"""What a report build asks DuckDB: each statement once, the deep views read from TEMP copies on a small store.

A build computes every view for dozens of filter combinations; on a small store
nearly all of its time is DuckDB binding the deep views once per statement
(``web.frozen``, ``_filters.remembering``). The figures themselves are checked
against the API in ``test_shared_results.py``.
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from otel_llm_analysis import Filters, TraceStore, _filters
from otel_llm_analysis.web import frozen
from otel_llm_analysis.web.frozen import FROZEN_VIEWS, frozen_views
from otel_llm_analysis.web.choices import choices
from otel_llm_analysis.web.static import DEFAULT_MAX_STATES, build_report, plan
from otel_llm_analysis.web.views import Query
from tests.support.synthetic import generate


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceStore]:
    """A store of 61 spans over 12 traces (the size where binding costs more than the data)."""
    root = tmp_path_factory.mktemp("small-store")
    generate(root / "data", seed=3, traces=12, spans_per_line=8)
    with TraceStore(root / "small.duckdb") as store:
        store.ingest([root / "data"])
    with TraceStore(root / "small.duckdb", read_only=True) as store:
        yield store


class _Counting:
    """A connection that counts the statements run on it with their parameters."""

    def __init__(self, con: Any, runs: collections.Counter[tuple[str, str]]) -> None:
        self._con, self._runs = con, runs

    def execute(self, sql: str, params: Any = None) -> Any:
        self._runs[(sql, repr(params))] += 1
        return self._con.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_a_report_build_runs_each_statement_once(small: TraceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: collections.Counter[tuple[str, str]] = collections.Counter()
    counting = _Counting(_filters.connection(small), runs)
    real = _filters.connection
    monkeypatch.setattr(_filters, "connection", lambda store: counting if real(store) is counting._con else real(store))
    build_report(small, Query())
    assert len(runs) > 100  # the views' statements went through here
    again = {" ".join(sql.split())[:120]: n for (sql, _), n in runs.items() if n > 1}
    assert again == {}, f"{len(again)} statements run more than once with the same parameters: {again}"


def test_a_report_loads_none_of_ingests_modules(small: TraceStore, tmp_path: Path) -> None:
    """``otel-llm report`` reads a store: ingest's decoding and staging, and pandas (which pyarrow loads for
    them), are not imported - about 0.2 s of a small report's 4 s."""
    code = ("import sys\nfrom otel_llm.cli import run\n"
            f"sys.argv = ['otel-llm', 'report', '--db', {small.path!r}, '-o', {str(tmp_path / 'report.html')!r}]\n"
            "assert run() == 0\n"
            "print(sorted(m for m in ('pandas', 'otel_llm_analysis.ingest', 'otel_llm_analysis._staging') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]", done.stdout


def _temp_tables(store: TraceStore) -> set[str]:
    rows = _filters.connection(store).execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    return {name for (name,) in rows}


def test_the_deep_views_are_temp_copies_during_a_build_and_dropped_after(small: TraceStore) -> None:
    con = _filters.connection(small)
    calls = con.execute("SELECT * FROM llm_calls ORDER BY span_id").fetchall()
    with frozen_views(small) as made:
        assert made == FROZEN_VIEWS and _temp_tables(small) == set(FROZEN_VIEWS)
        assert con.execute("SELECT * FROM llm_calls ORDER BY span_id").fetchall() == calls
        with frozen_views(small) as inner:  # a build inside a build (collect in build_report) copies nothing
            assert inner == ()
        assert _temp_tables(small) == set(FROZEN_VIEWS)  # the inner block left the outer's copies
    assert _temp_tables(small) == set()
    with pytest.raises(RuntimeError), frozen_views(small):
        raise RuntimeError("a view failed")
    assert _temp_tables(small) == set()  # dropped on an error too: later queries read the store's views


def test_a_large_store_keeps_its_views(small: TraceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the size where a copy pays (the statements' cost is their data), nothing is copied."""
    ((spans,),) = _filters.connection(small).execute("SELECT count(*) FROM span_rows").fetchall()
    monkeypatch.setattr(frozen, "FROZEN_MAX_SPANS", spans - 1)
    with frozen_views(small) as made:
        assert made == () and _temp_tables(small) == set()


def test_remembered_answers_are_fresh_rows(small: TraceStore) -> None:
    """A remembered answer is the statement's rows, and changing one caller's rows changes no other's."""
    kept: dict[tuple[int, str, str], Any] = {}
    sql = "SELECT trace_id, list(span_id ORDER BY span_id) AS spans FROM span_rows GROUP BY ALL ORDER BY trace_id"
    with _filters.remembering(kept):
        first = _filters.fetch_dicts(small, sql)
        first[0]["spans"].append("changed")
        first[0].pop("trace_id")
        second = _filters.fetch_dicts(small, sql)
    assert len(kept) == 1
    assert second == _filters.fetch_dicts(small, sql)  # as asked afresh, outside the block


def test_large_answers_are_not_kept(small: TraceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer of more rows than REMEMBERED_ROWS_MAX is asked again rather than held for the whole build."""
    monkeypatch.setattr(_filters, "REMEMBERED_ROWS_MAX", 3)
    kept: dict[tuple[int, str, str], Any] = {}
    with _filters.remembering(kept):
        many = _filters.fetch_dicts(small, "SELECT span_id FROM span_rows ORDER BY span_id")
        few = _filters.fetch_dicts(small, "SELECT span_id FROM span_rows ORDER BY span_id LIMIT 3")
    assert len(many) > 3 and len(few) == 3
    assert [sql for _, sql, _ in kept] == ["SELECT span_id FROM span_rows ORDER BY span_id LIMIT 3"]


def test_a_build_asks_the_store_state_once(small: TraceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every summary asks whether the store may hold total-only usage (``_total_only.may_hold``): a build once."""
    from otel_llm_analysis import _ingest_state, _total_only

    asked: collections.Counter[str] = collections.Counter()
    real = _ingest_state.get

    def counting(con: Any, name: str) -> str | None:
        asked[name] += 1
        return real(con, name)

    monkeypatch.setattr(_ingest_state, "get", counting)
    build_report(small, Query())
    assert asked[_total_only.NAME] == 1


def test_a_build_asks_whether_turns_count_unknown_costs_once(small: TraceStore,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Every retries view asks whether ``turn_rows`` has ``retry_unknown_cost_calls``: a build once."""
    from otel_llm_analysis import retry_outcomes

    asked: list[bool] = []
    real = retry_outcomes._counts_unknown_cost

    def counting(con: Any) -> bool:
        asked.append(real(con))
        return asked[-1]

    monkeypatch.setattr(retry_outcomes, "_counts_unknown_cost", counting)
    build_report(small, Query())
    assert asked == [True]


def test_a_build_asks_each_window_bound_once(small: TraceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every view with a window reads its calls' bounds (``trends.calls_bounds``): a build once per filters."""
    from otel_llm_analysis import trends

    runs = _statements_of_a_build(small, monkeypatch, trends)
    bounds = {params: n for (sql, params), n in runs.items() if "min(start_time)" in sql and "llm_calls" in sql}
    assert bounds and all(n == 1 for n in bounds.values()), bounds


def test_a_build_asks_whether_logs_hold_evaluations_once(small: TraceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every quality view asks whether log records hold evaluations (``qa._subjects``): a build once."""
    runs = _statements_of_a_build(small, monkeypatch)  # qa's own connection stays DuckDB's: it reads its subjects
    asked = [n for (sql, _), n in runs.items() if sql.startswith("SELECT EXISTS (") and "gen_ai.evaluation" in sql]
    assert asked == [1], asked


@pytest.mark.parametrize("analysis", ["-- Summary grouped", "-- Turns grouped", "-- LLM calls per day",
                                      "-- Evaluation outcomes", "-- Traces (those with a span matching"])
def test_a_build_reads_each_analysis_for_its_combinations_at_once(small: TraceStore, monkeypatch: pytest.MonkeyPatch,
                                                                  analysis: str) -> None:
    """Each view's summary (per project, model, operation...), retry figures (per project, model, run_config...) and
    daily trend, evaluation outcomes and ranked traces are asked for every filter combination: on a small store a build reads an analysis' combinations in
    one statement (a summary's), one per date range (the turns'), one per group of windows (the trends';
    ``expected.expecting``), not one each - each costs DuckDB ~10 ms of binding and optimizing. Before: 391 summary,
    190 turns, 84 daily trend, 38 evaluation and 76 ranked traces statements for 38 combinations."""
    from otel_llm_analysis import retry_outcomes, summaries, trends

    combinations = len(plan(small, Filters(), choices(small, Filters()), DEFAULT_MAX_STATES).states)
    runs = _statements_of_a_build(small, monkeypatch, summaries, retry_outcomes, trends)
    asked = sum(n for (sql, _), n in runs.items() if sql.startswith(analysis))
    assert 0 < asked < combinations, (asked, combinations)


@pytest.mark.parametrize("by", [None, "project", "model", "node", "run_config.temperature"])
@pytest.mark.parametrize("calls_only", [False, True])
def test_summary_sets_answer_each_set_as_its_own_statement(small: TraceStore, by: str | None, calls_only: bool) -> None:
    """What one statement reads for many filter sets is, set by set, what each set's own summary statement answers:
    the same rows in the same order (a window, a project, a model, both, none, and a set matching no span)."""
    from datetime import datetime

    from otel_llm_analysis import summaries

    ((project, model, first, last),) = _filters.connection(small).execute(
        "SELECT any_value(project), any_value(model), min(start_time), max(start_time) FROM llm_calls").fetchall()
    middle = first + (last - first) / 2
    sets = [Filters(calls_only=calls_only, **bounds) for bounds in (
        {}, {"since": middle}, {"until": middle}, {"since": first, "until": middle, "project": project},
        {"model": model}, {"project": project, "model": model}, {"since": datetime(1990, 1, 1), "until": datetime(1990, 1, 2)},
        {"project": "no such project"})]
    read = summaries.summary_sets(small, by, sets)
    assert len(read) == len(sets) and any(read) and [] in read
    for filters, rows in zip(sets, read):
        sql, params = summaries._statement(small, by, filters, True)
        own = _filters.fetch_dicts(small, sql, params)
        assert [list(row) for row in rows] == [list(row) for row in own], filters  # the same columns, in order
        for row, expected in zip(rows, own):  # the share's total adds the set's costs in another order: last bits
            assert row.pop("cost_share") == pytest.approx(expected.pop("cost_share"), rel=1e-12), filters
            assert row == expected, filters


@pytest.mark.parametrize("by", [None, "project", "model", "run_config.max_retries"])
def test_retries_of_one_window_read_at_once_answer_each_set_as_its_own_statement(small: TraceStore,
                                                                                 by: str | None) -> None:
    """The turns' retry figures of several sets of one window read in one statement are, set by set, each set's own
    statement's rows (a project, a model, both, none, one matching no turn), for the whole window and a part."""
    from otel_llm_analysis import retry_outcomes
    from otel_llm_analysis._filters import dimension_sql

    ((project, model, first, last),) = _filters.connection(small).execute(
        "SELECT any_value(project), any_value(model), min(start_time), max(start_time) FROM llm_calls").fetchall()
    for window in ({}, {"since": first + (last - first) / 3, "until": last}):
        sets = [Filters(**window, **narrowed) for narrowed in (
            {}, {"project": project}, {"model": model}, {"project": project, "model": model}, {"model": "no such"})]
        read = retry_outcomes._grouped_sets(small, dimension_sql(by), sets)
        assert len(read) == len(sets) and any(read) and [] in read
        for filters, rows in zip(sets, read):
            sql, params = retry_outcomes._statement(small, dimension_sql(by), filters)
            assert _sorted(rows) == _sorted(_filters.fetch_dicts(small, sql, params)), filters


@pytest.mark.parametrize("period", ["day", "hour"])
def test_trends_of_many_windows_read_at_once_answer_each_window_as_its_own_statement(small: TraceStore,
                                                                                    period: str) -> None:
    """The periods of several windows read in one statement are, window by window, each window's own statement's
    rows (windows of a project, a model, none, one holding no call; a start inside a period)."""
    from datetime import timedelta

    from otel_llm_analysis import trends

    ((project, model, last),) = _filters.connection(small).execute(
        "SELECT any_value(project), any_value(model), max(start_time) FROM llm_calls").fetchall()
    day = trends.truncate(last, "day")
    windows = [Filters(since=since, until=until, **narrowed) for since, until in (
        (day - timedelta(days=3), day + timedelta(days=1)), (day + timedelta(hours=5, minutes=30), day + timedelta(days=1)))
        for narrowed in ({}, {"project": project}, {"model": model}, {"model": "no such"})]
    read = trends._counted_sets(small, period, windows)
    assert len(read) == len(windows) and all(read)  # every period is there, calls or not
    for window, rows in zip(windows, read):
        sql, params = trends._statement(small, period, window)
        assert rows == _filters.fetch_dicts(small, sql, params), window


@pytest.mark.parametrize("by", [None, "model", "project"])
def test_evaluations_read_at_once_answer_each_set_as_its_own_statement(small: TraceStore, by: str | None) -> None:
    """The evaluation outcomes of several filter sets read in one statement are, set by set, each set's own
    statement's rows: sets that read the evaluated spans (a project, a model) and sets that do not (windows)."""
    from otel_llm_analysis import qa

    ((project, model, first, last),) = _filters.connection(small).execute(
        "SELECT any_value(project), any_value(model), min(start_time), max(start_time) FROM llm_calls").fetchall()
    middle = first + (last - first) / 2
    windows = [Filters(), Filters(since=middle), Filters(until=middle)]
    narrowed = [Filters(project=project), Filters(model=model), Filters(since=middle, project=project, model=model),
                Filters(project="no such")]
    for sets in (windows, narrowed) if by != "project" else (windows + narrowed,):
        read = qa._quality_sets(small, by, sets)
        assert len(read) == len(sets) and any(read)
        for filters, rows in zip(sets, read):
            sql, params = qa._statement(small, by, filters)
            assert rows == _filters.fetch_dicts(small, sql, params), filters


#: what tells the statements of ``_unrecorded``'s searches of GenAI metric points: the stretches no span holds,
#: the points' growth per period, whether a window has points, the days of points with their duration histogram
_METRIC_SEARCHES = {"stretches": "FROM short_hours s JOIN minutes", "growth": "AS period, count(*) FILTER (WHERE",
                    "pointed": "EXISTS (SELECT 1 FROM metric_points", "timed days": " AS timed"}


@pytest.mark.parametrize("search", list(_METRIC_SEARCHES))
def test_a_build_reads_the_metric_point_searches_of_its_combinations_at_once(small: TraceStore,
                                                                             monkeypatch: pytest.MonkeyPatch,
                                                                             search: str) -> None:
    """Each window (and model) a build shows is searched for calls only GenAI metric points record
    (``_unrecorded``): on a small store a build reads the searches of a group of windows in one statement, the
    projects of a window once (points carry none). Before: 44 stretches, 49 growth, 44 pointed and 44 timed
    days statements for 38 combinations. The growth of a whole window (``unrecorded_cost``: one statement per
    window, 28 in a build) is read off the growth per day since: 13 statements for both, each of a group."""
    combinations = len(plan(small, Filters(), choices(small, Filters()), DEFAULT_MAX_STATES).states)
    runs = _statements_of_a_build(small, monkeypatch)
    asked = [(sql, n) for (sql, _), n in runs.items() if _METRIC_SEARCHES[search] in sql]
    assert 0 < sum(n for _, n in asked) < combinations / (2 if search == "growth" else 3), (asked, combinations)
    if search == "growth":
        assert all("set_id" in sql for sql, _ in asked), asked  # every one reads a group of windows


@pytest.fixture(scope="module")
def partly(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceStore]:
    """Spans and metric points of 2026-11-17..19, then only the metric points of 2026-11-23..24."""
    from datetime import datetime

    root = tmp_path_factory.mktemp("partly")
    generate(root / "both", seed=3, traces=30, days=3, end=datetime(2026, 11, 20))
    generate(root / "later", seed=9, traces=20, days=2, end=datetime(2026, 11, 25))
    with TraceStore(root / "partly.duckdb") as store:
        store.ingest(root / "both")
        store.ingest(root / "later" / "metrics.jsonl")
    with TraceStore(root / "partly.duckdb", read_only=True) as store:
        yield store


def test_metric_point_searches_read_at_once_answer_each_set_as_its_own_statement(partly: TraceStore) -> None:
    """The searches of GenAI metric points of several filter sets read in one statement are, set by set, each
    set's own statement's rows: whole windows and windows cut inside a day of points only, a model, a set of no
    point; the stretches in their order, the others (unordered statements) as sets of rows."""
    from datetime import datetime

    from otel_llm_analysis import _unrecorded

    sets = [Filters(), Filters(since=datetime(2026, 11, 23, 12)), Filters(until=datetime(2026, 11, 24, 6)),
            Filters(since=datetime(2026, 11, 19), until=datetime(2026, 11, 24, 6)), Filters(model="gpt-4o-mini"),
            Filters(since=datetime(2026, 11, 23), model="gpt-4o-mini"), Filters(model="no such"),
            Filters(since=datetime(1990, 1, 1), until=datetime(1990, 1, 2))]
    searches = {
        "stretches": (lambda f: _unrecorded._unheld_statement(partly, f),
                      lambda: _unrecorded._unheld_sets(partly, sets)),
        "pointed": (_unrecorded._pointed_statement, lambda: _unrecorded._pointed_sets(partly, sets)),
        "timed days": (_unrecorded._timed_days_statement, lambda: _unrecorded._timed_days_sets(partly, sets)),
        **{f"growth per {period}": (
            lambda f, period=period: _unrecorded._growth_sql(partly, f, period),
            lambda period=period: _unrecorded._grown_sets(partly, period, sets)) for period in ("hour", "day")}}
    for name, (statement, read_at_once) in searches.items():
        read = read_at_once()
        assert len(read) == len(sets) and sum(map(bool, read)) > 1, name
        for filters, rows in zip(sets, read):
            own = _filters.fetch_dicts(partly, *statement(filters))
            if name == "stretches":
                assert rows == own, filters
            else:
                assert sorted(map(repr, rows)) == sorted(map(repr, own)), (name, filters)
    assert any(len(rows) > 5 for rows in _unrecorded._unheld_sets(partly, sets))  # stretches found, not only none


@pytest.mark.parametrize("by", ["cost", "duration"])
@pytest.mark.parametrize("calls_only", [False, True])
def test_ranked_traces_read_at_once_answer_each_set_as_its_own_statement(small: TraceStore, by: str,
                                                                        calls_only: bool) -> None:
    """The traces ranked for several filter sets in one statement are, set by set, each set's own statement's
    ranking, in its order (a window, a project, a model, both, none, a set matching no span)."""
    from otel_llm_analysis import traces

    ((project, model, first, last),) = _filters.connection(small).execute(
        "SELECT any_value(project), any_value(model), min(start_time), max(start_time) FROM llm_calls").fetchall()
    middle = first + (last - first) / 2
    sets = [Filters(calls_only=calls_only, **bounds) for bounds in (
        {}, {"since": middle}, {"until": middle}, {"project": project}, {"model": model},
        {"since": first, "until": middle, "project": project, "model": model}, {"project": "no such project"})]
    read = traces._ranked_sets(small, 5, by, sets)
    assert len(read) == len(sets) and [] in read and any(len(rows) == 5 for rows in read)
    for filters, rows in zip(sets, read):
        assert rows == _filters.fetch_dicts(small, *traces._ranked_statement(5, by, filters)), filters


#: what tells the statements of the sessions and queries views: popular queries, user messages, memory per session
_SESSIONS_ASKED = {"popular queries": "WITH messages AS (", "user messages": " AS untexted",
                   "memory per session": "WITH sessions AS ("}


@pytest.mark.parametrize("analysis", list(_SESSIONS_ASKED))
def test_a_build_reads_the_sessions_views_of_its_combinations_at_once(small: TraceStore,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     analysis: str) -> None:
    """The sessions and queries views read no model: a build asks them for each window and project it shows,
    and on a small store reads a group's in one statement. Before: 21 statements each for 38 combinations."""
    combinations = len(plan(small, Filters(), choices(small, Filters()), DEFAULT_MAX_STATES).states)
    runs = _statements_of_a_build(small, monkeypatch)
    asked = sum(n for (sql, _), n in runs.items() if _SESSIONS_ASKED[analysis] in sql)
    assert 0 < asked < combinations / 5, (asked, combinations)


@pytest.mark.parametrize("analysis", ["-- Per tool: ", "-- Per agent name: "])
def test_a_build_reads_the_tools_and_agents_of_a_window_at_once(small: TraceStore, monkeypatch: pytest.MonkeyPatch,
                                                                analysis: str) -> None:
    """The tools and agents views read no model: a build asks them for each window and project it shows, and on a
    small store reads a window's projects in one statement (their macro takes the window). Before: 21 each."""
    combinations = len(plan(small, Filters(), choices(small, Filters()), DEFAULT_MAX_STATES).states)
    runs = _statements_of_a_build(small, monkeypatch)
    asked = sum(n for (sql, _), n in runs.items() if analysis in sql)
    assert 0 < asked < combinations / 2, (asked, combinations)


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceStore]:
    """40 traces of 3 projects, half ending with an agent step (agents, tools, retried tries)."""
    root = tmp_path_factory.mktemp("agents")
    generate(root / "data", seed=7, traces=40, spans_per_line=16, agents="otel_llm")
    with TraceStore(root / "agents.duckdb") as store:
        store.ingest([root / "data"])
    with TraceStore(root / "agents.duckdb", read_only=True) as store:
        yield store


@pytest.mark.parametrize(("macro", "query"), [("tool_calls_in", "tools"), ("agent_invocations_in", "agents")])
def test_tools_and_agents_read_at_once_answer_each_set_as_its_own_statement(agents: TraceStore, macro: str,
                                                                           query: str) -> None:
    """The tools (agents) of several projects of one window read in one statement are, set by set, each set's own
    statement's rows (whole, later, a part; a project, none, one matching nothing): the same groups and figures,
    a sum's last bits aside (they differ between two runs of the set's own statement too: DuckDB adds in
    parallel)."""
    from otel_llm_analysis import _scopes

    ((project, first, last),) = _filters.connection(agents).execute(
        "SELECT any_value(project), min(start_time), max(start_time) FROM spans").fetchall()
    middle = first + (last - first) / 2
    for window in ({}, {"since": middle}, {"since": first, "until": middle}):
        sets = [Filters(**window, **narrowed) for narrowed in ({}, {"project": project}, {"project": "no such"})]
        read = _scopes._per_name_sets(agents, macro, query, sets)
        assert len(read) == len(sets) and read[0] and read[-1] == [], window
        for filters, rows in zip(sets, read):
            own = _filters.fetch_dicts(agents, *_scopes._per_name_statement(macro, query, filters))
            assert _by_name(rows) == _by_name(own, near=True), filters


def _by_name(rows: list[dict[str, Any]], near: bool = False) -> dict[str, list[Any]]:
    """Rows by their first column (the tool or agent), each as its values (a latency pair's two in turn); with
    ``near``, a float as ``pytest.approx`` of it to 1e-12."""
    return {str(next(iter(row.values()))): [pytest.approx(v, rel=1e-12) if near and isinstance(v, float) else v
                                            for value in list(row.values())[1:]
                                            for v in (value if isinstance(value, list) else [value])]
            for row in rows}


#: two projects' chat turns with their user messages captured, and their process memory, a turn at a time
_CHATTY = """
import sys, time
import otel_llm

otel_llm.configure(service_name="helpdesk", project=sys.argv[1], capture_content=True, process_metrics=True,
                   metric_export_interval_ms=50)

@otel_llm.chat
def answer(question: str, thread_id: str) -> str:
    time.sleep(0.06)
    return "ok"

for i, question in enumerate(["What is my balance?", "what is my  balance?", "Reset my password", "", "Hello"] * 2):
    with otel_llm.session(user_id=f"u-{i % 3}"):
        answer(question, thread_id=f"t{i % 4}")
otel_llm.flush()
"""


@pytest.fixture(scope="module")
def chatty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceStore]:
    """The turns of :data:`_CHATTY` in projects alpha and beta."""
    from tests.support.app_store import run_app

    root = tmp_path_factory.mktemp("chatty")
    for project in ("alpha", "beta"):
        (root / project).mkdir()
    files = [run_app(root / project, _CHATTY, project) for project in ("alpha", "beta")]
    with TraceStore(root / "chatty.duckdb") as store:
        store.ingest(files)
    with TraceStore(root / "chatty.duckdb", read_only=True) as store:
        yield store


def test_sessions_read_at_once_answer_each_set_as_its_own_statement(chatty: TraceStore) -> None:
    """The popular queries, user message counts and memory per session of several filter sets read in one
    statement each are, set by set, each set's own statement's rows (a window, a project, both, none, a set
    matching nothing)."""
    from otel_llm_analysis import popular_queries, session_memory

    ((first, last),) = _filters.connection(chatty).execute(
        "SELECT min(start_time), max(start_time) FROM spans").fetchall()
    middle = first + (last - first) / 2
    sets = [Filters(**bounds) for bounds in ({}, {"since": middle}, {"until": middle}, {"project": "alpha"},
                                             {"project": "beta", "since": middle}, {"project": "no such project"})]
    analyses = {
        "popular queries": (lambda f: popular_queries._popular_statement(f, 2),
                            popular_queries._read_sets(chatty, sets, popular_queries._POPULAR_SETS, top=2)),
        "user messages": (popular_queries._counted_statement,
                          popular_queries._read_sets(chatty, sets, popular_queries._COUNTED_SETS)),
        "memory per session": (lambda f: session_memory._statement(f, 3), session_memory._memory_sets(chatty, sets, 3))}
    for name, (statement, read) in analyses.items():
        assert len(read) == len(sets) and sum(map(bool, read)) > 2, name
        for filters, rows in zip(sets, read):
            assert rows == _filters.fetch_dicts(chatty, *statement(filters)), (name, filters)


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in their keys' order (the retries statement leaves its groups unordered: the analysis sorts them)."""
    return sorted(rows, key=lambda row: (row["key"] is None, str(row["key"])))


def _statements_of_a_build(store: TraceStore, monkeypatch: pytest.MonkeyPatch,
                           *modules: Any) -> collections.Counter[tuple[str, str]]:
    """The statements (SQL, parameters) a report build of ``store`` runs through ``_filters.connection`` (and the
    ``connection`` of each of ``modules``), each with how often."""
    runs: collections.Counter[tuple[str, str]] = collections.Counter()
    counting = _Counting(_filters.connection(store), runs)
    real = _filters.connection

    def counted(asked: Any) -> Any:
        return counting if real(asked) is counting._con else real(asked)

    for module in (_filters, *modules):
        monkeypatch.setattr(module, "connection", counted)
    build_report(store, Query())
    return runs
