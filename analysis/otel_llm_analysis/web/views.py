"""The report's and the dashboard's views: each one analysis call of the public API, as JSON-ready data.

Why one registry: the static report embeds these views for each filter choice
and the live dashboard serves the same views from ``/api/<name>``, so both show
exactly what the Python API returns, and a new view (a tools table, an agents
table) is one entry here. Table views declare their columns (key, label,
format), and the page renders any such table without view-specific code.

Formats the page knows: ``int``, ``usd`` (a total), ``usd_1k`` (a per-call cost,
shown per 1,000 calls), ``pct`` (a 0..1 ratio), ``ms``, ``num``, ``text``,
``time``, ``bool``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Literal, Mapping, Sequence

from otel_llm_analysis import agent_usage, retry_outcomes, tool_usage
from otel_llm_analysis import budgets as budgets_api
from otel_llm_analysis import comparisons, logs, popular_queries, processes, qa, recommendations, running
from otel_llm_analysis import session_memory, summaries, traces, trends
from otel_llm_analysis import Filters
from otel_llm_analysis._unpriced import reasons_text
from otel_llm_analysis._filters import ratio
from otel_llm_analysis.export import to_records
from otel_llm_analysis._unrecorded import only_in_metrics_by
from otel_llm_analysis.web.left_out import log_counts
from otel_llm_analysis.web.ranked import top_traces_bounded, trace_page

Period = Literal["hour", "day", "week"]
#: Colour-blind-safe categorical palette (Okabe & Ito), used for per-model series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Models stacked one by one in the cost chart (by cost); the rest stack as "other models".
STACKED_MODELS = 5
#: Compared by default when the data has them: the run_config keys otel-llm's demo and docs use.
DEFAULT_COMPARE = ("model", "run_config.temperature", "run_config.max_retries")


@dataclass(frozen=True)
class Query:
    """What a view is computed for: filters plus the few view options.

    ``period`` None picks hours for windows up to two days, days up to 120 days,
    weeks beyond. Budgets are evaluated for ``budget_month`` as of ``budget_as_of``;
    by default for the month of the range's last day with data, as of that day.
    """

    filters: Filters = field(default_factory=Filters)
    period: Period | None = None
    top: int = 10
    compare_by: tuple[str, ...] = DEFAULT_COMPARE
    budgets: tuple[budgets_api.Budget, ...] = ()
    budget_month: str | None = None
    budget_as_of: date | None = None
    log_limit: int = 20
    #: the log patterns' narrowing (``logs.log_patterns``'s service, logger, trace_id), as ``otel-llm logs``'s
    log_service: str | None = None
    log_logger: str | None = None
    log_trace_id: str | None = None
    #: the logs' search (``logs.search_logs``'s text and severity, as ``otel-llm logs``'s): words in the message
    #: (any case), and the lowest severity, of the records and the patterns
    log_text: str | None = None
    log_severity: str = "ERROR"
    #: the filters' window with open ends closed by the data (``with_window`` resolves it once for all views)
    window: tuple[datetime, datetime] | None = None
    #: results shared by the views of one report build (``shared.Shared``); None computes every call afresh
    shared: Any = field(default=None, compare=False, repr=False)
    #: the moment "running" is judged at (naive UTC): a report's generation time, so the file says what ran
    #: then; None: the clock when the view is computed (the live dashboard)
    now: datetime | None = None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    format: str = "text"


@dataclass(frozen=True)
class View:
    """One view: its name (also its ``/api/<name>`` path), title, and how to compute it."""

    name: str
    title: str
    compute: Callable[[Any, Query], Any]
    columns: tuple[Column, ...] = ()
    #: the rows' identifying column, shown first
    key: Column = Column("key", "")
    note: str = ""
    #: which filters change the view: logs carry no project or model, budgets name their own
    filtered_by: tuple[str, ...] = ("dates", "project", "model")


# --- helpers -------------------------------------------------------------------------


def data_window(store: Any, filters: Filters) -> tuple[datetime, datetime] | None:
    """[first day, day after the last day] of the LLM calls the filters keep, those only GenAI metric points
    record included (``trends.data_days``); None when there are none."""
    return trends.data_days(store, filters)


def auto_period(since: datetime, until: datetime) -> Period:
    span = until - since
    if span <= timedelta(days=2):
        return "hour"
    return "day" if span <= timedelta(days=120) else "week"


def resolved_window(store: Any, filters: Filters) -> tuple[datetime, datetime] | None:
    """The filters' window with open ends closed by the data's first/last day."""
    if filters.since is not None and filters.until is not None:
        return filters.since, filters.until
    bounds = data_window(store, filters)
    if bounds is None:
        return None
    return filters.since or bounds[0], filters.until or bounds[1]


def with_window(store: Any, query: Query) -> Query:
    """``query`` with its window resolved, so the views of one query look it up once."""
    return replace(query, window=resolved_window(store, query.filters))


def _window(store: Any, query: Query) -> tuple[datetime, datetime] | None:
    return query.window or resolved_window(store, query.filters)


def _call(query: Query, function: Callable[..., Any], store: Any, *args: Any, **options: Any) -> Any:
    """``function(store, *args, **options)``, through the build's shared results when the query has them."""
    if query.shared is None:
        return function(store, *args, **options)
    return query.shared.call(function, store, *args, **options)


def _retries_by(store: Any, query: Query, bys: Sequence[str | None]) -> dict[str | None, Any]:
    """``retries_by`` for the query's filters, through the build's shared turns when the query has them."""
    if query.shared is None:
        return retry_outcomes.retries_by(store, bys, query.filters)
    return query.shared.retries_by(store, bys, query.filters)


def _table(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return to_records(rows)


def _shown(rows: Sequence[Any], columns: Sequence[Column], key: str = "key") -> list[dict[str, Any]]:
    """Rows reduced to what the page shows: the key and the declared columns."""
    names = [key, *(c.key for c in columns)]
    return [{name: record.get(name) for name in names} for record in to_records(rows)]


# --- KPI cards -----------------------------------------------------------------------

#: (key, label, format) of each KPI card, read from ``totals`` (+ time to first token).
KPIS: tuple[Column, ...] = (
    Column("spans", "Spans", "int"),
    Column("traces", "Traces", "int"),
    Column("llm_calls", "LLM calls", "int"),
    Column("total_tokens", "Tokens", "int"),
    Column("cost_usd", "Total cost", "usd"),
    Column("cost_per_call", "Cost per 1k calls", "usd_1k"),
    Column("error_rate", "Error rate", "pct"),
    Column("p95_ms", "p95 latency", "ms"),
    Column("ttft_p95_ms", "p95 time to first token", "ms"),
)


def _kpi_values(store: Any, query: Query, filters: Filters, partial: bool = True) -> dict[str, Any]:
    """The KPI cards' values of ``filters``' window; ``only_in_metrics`` searched for only with ``partial`` (the
    period before's cards show none)."""
    total, first = _project_kpis(store, query, filters) or (
        _call(query, summaries.totals, store, filters, partial=partial),
        _call(query, summaries.time_to_first_token, store, None, filters))
    values = {c.key: getattr(total, c.key, None) for c in KPIS}
    values["total_tokens"] = total.total_tokens
    values["ttft_p95_ms"] = first[0].p95_ms if first else None
    values["unpriced_calls"], values["priced_calls"] = total.unpriced_calls, total.priced_calls
    values["unpriced_reasons"] = reasons_text(total.unpriced_reasons)
    values["cost_unknown"] = total.cost_unknown  # unrecorded_cost's, asked by totals (a project's row has calls)
    # calls only in metric points: the call figures are the spans' calls' only (a report's project row, read
    # off the rows per project, carries its own: only_in_metrics of that project's window)
    values["only_in_metrics"] = _partial(total.only_in_metrics)
    if values["cost_unknown"]:  # calls the spans do not hold: what they used and cost is unknown, not 0
        values.update(cost_usd=None, cost_per_call=None, total_tokens=None)
    return values


def _partial(partial: Any, row: Any = None) -> dict[str, Any] | None:
    """``_unrecorded.OnlyInMetrics`` as the API gives it: its record, with ``said`` (of the window's figures, or
    with ``row``, a row's key, of that row's); None for None."""
    if partial is None:
        return None
    return {**to_records([partial])[0], "said": partial.said() if row is None else partial.said(row)}


def _marked(rows: Sequence[Any], columns: Sequence[Column]) -> dict[str, Any]:
    """A table's ``rows`` reduced to what the page shows (:func:`_shown`), each with its ``only_in_metrics``
    (:func:`_partial`: the row's calls only GenAI metric points record, else None), and the ``notes`` naming
    those rows."""
    shown = _shown(rows, columns)
    for record, row in zip(shown, rows):
        record["only_in_metrics"] = _partial(row.only_in_metrics, row.key)
    return {"rows": shown, "notes": [row.only_in_metrics.said(row.key) for row in rows if row.only_in_metrics]}


def _summary_marked(store: Any, query: Query, by: str, filters: Filters) -> list[summaries.SummaryRow]:
    """``summaries.summary(store, by, filters, partial=True)``, from the build's shared rows and marks when the
    query has them: a report's tables and each project's cards read one summary and one
    ``_unrecorded.only_in_metrics_by`` per window."""
    rows = _call(query, summaries.summary, store, by, filters)
    if not any(row.llm_calls for row in rows):
        return rows
    marks = _call(query, only_in_metrics_by, store, filters, by)
    return [replace(row, only_in_metrics=marks.get(row.key) if row.llm_calls else None) for row in rows]


def _project_kpis(store: Any, query: Query, filters: Filters) -> tuple[Any, list[Any]] | None:
    """In a report build, one project's totals and time to first token, read off the rows per project.

    The summary and the time to first token grouped by project compute each
    project's row exactly as the same analysis filtered to that project does,
    and a build needs the rows per project anyway (the projects table), so each
    project's cards cost no query of their own. Not for a project without LLM
    calls in the window (grouped, its latency is its spans'; filtered, the
    overall row has none) nor one without spans there: those are computed.
    """
    if query.shared is None or filters.project is None:
        return None
    everyone = replace(filters, project=None)
    row = next((r for r in _summary_marked(store, query, "project", everyone) if r.key == filters.project), None)
    if row is None or not row.llm_calls:
        return None
    first = [r for r in _call(query, summaries.time_to_first_token, store, "project", everyone)
             if r.key == filters.project]
    return row, first


def previous_period(window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """The period of the same length just before ``window``: what the KPI cards' changes compare with."""
    since, until = window
    return since - (until - since), since


def kpi_view(store: Any, query: Query) -> dict[str, Any]:
    """KPI cards with the change against the previous period of the same length.

    ``unpriced_calls`` counts the LLM calls with tokens and no cost, ``unpriced_reasons`` says
    why as the CLI does (``_unpriced.reasons_text``: no price, the SDK's refusal, ...), and
    ``priced_calls`` those with a cost: the cost cards sum and divide over the priced
    calls only, and the page says how many they leave out. ``cost_unknown`` says why
    the tokens and cost are unknown (None) when the window's metric points record LLM
    calls its spans do not hold (``_unrecorded.unrecorded_cost``), else it is None. ``only_in_metrics``
    (``_unrecorded.OnlyInMetrics`` as a record, with ``said``, else None) names the days whose calls only
    metric points record beside days of calls in spans: the call cards are then the spans' calls' only.
    """
    filters = query.filters
    current = _kpi_values(store, query, filters)
    window = _window(store, query)
    previous: dict[str, Any] = {}
    previous_window = None
    if window is not None:
        previous_window = previous_period(window)
        previous = _kpi_values(store, query, replace(filters, since=previous_window[0], until=previous_window[1]),
                               partial=False)
    cards = []
    for column in KPIS:
        value, before = current.get(column.key), previous.get(column.key)
        change = None
        if value is not None and before:
            change = (value - before) / abs(before)
        cards.append({"key": column.key, "label": column.label, "format": column.format,
                      "value": value, "previous": before, "change": change})
    return {
        "cards": cards,
        "unpriced_calls": current["unpriced_calls"],
        "unpriced_reasons": current["unpriced_reasons"],
        "priced_calls": current["priced_calls"],
        "cost_unknown": current["cost_unknown"],
        "only_in_metrics": current["only_in_metrics"],
        "window": list(window) if window else None,
        "previous_window": list(previous_window) if previous_window else None,
    }


# --- trends --------------------------------------------------------------------------

#: The figures the trend charts draw, per period: the page also shows them as a table (and downloads them).
TREND_COLUMNS = (
    Column("calls", "LLM calls", "int"),
    Column("errors", "Failed", "int"),
    Column("error_rate", "Error rate", "pct"),
    Column("cost_usd", "Cost (priced calls)", "usd"),
    Column("input_tokens", "Input tokens", "int"),
    Column("output_tokens", "Output tokens", "int"),
    Column("p95_ms", "p95 ms", "ms"),
)


def trends_view(store: Any, query: Query) -> dict[str, Any]:
    """Series per period, cost stacked by model, daily spikes, and the month-end forecast.

    ``unpriced_models`` names the models with calls but no price: they have no cost to stack. ``notes``
    (``trends.left_out``) name the periods whose calls only metric points record, and the weeks partly so.
    """
    filters = query.filters
    window = _window(store, query)
    if window is None:
        return {"period": query.period or "day", "points": [], "cost_by_model": [], "unpriced_models": [],
                "spikes": [], "forecast": None, "notes": []}
    since, until = window
    period = query.period or auto_period(since, until)
    bounded = replace(filters, since=since, until=until)
    points = _call(query, trends.series, store, period, bounded, True)  # marked partial; a build: a model's too
    by_model = summaries.summary(store, "model", replace(bounded, calls_only=True), traces=False)
    # the calls without a model (key None) cannot be filtered to - model=None is every call - so they
    # stack in the remainder with the models past STACKED_MODELS
    models = [row.key for row in by_model if row.llm_calls and row.cost_usd and row.key is not None]
    unnamed = any(row.key is None and row.llm_calls and row.cost_usd for row in by_model)
    unpriced = [row.key for row in by_model if row.llm_calls and row.cost_usd is None]  # no cost to stack
    cost_by_model = []
    for index, model in enumerate(models[:STACKED_MODELS]):
        per_model = _call(query, trends.series, store, period, replace(bounded, model=model))
        cost_by_model.append({"model": model, "color": PALETTE[index], "cost_usd": [p.cost_usd for p in per_model]})
    others = len(models) - len(cost_by_model)
    if others or unnamed:
        # a model's period of unpriced calls only has no cost (None): it adds nothing to the stack
        stacked = [sum(v or 0.0 for v in values) for values in zip(*(s["cost_usd"] for s in cost_by_model))]
        stacked = stacked or [0.0] * len(points)
        label = " and ".join(([f"{others} other model{'s' if others != 1 else ''}"] if others else [])
                             + (["calls without a model"] if unnamed else []))
        cost_by_model.append({"model": label, "color": "#999999",
                              "cost_usd": [None if p.cost_usd is None else max(0.0, p.cost_usd - top)
                                           for p, top in zip(points, stacked)]})
    daily = points if period == "day" else _call(query, trends.series, store, "day", bounded)
    found = [s for metric in ("cost_usd", "error_rate") for s in trends.detect_spikes(daily, metric)]
    month = (until - timedelta(microseconds=1)).date()
    unbounded = replace(filters, since=None, until=None)  # the forecast reads its own month, whatever the range
    forecast = _call(query, trends.forecast_month_end, store, month, month, unbounded)
    first, _, as_of = trends.month_window(month, month)
    month_days = _call(query, trends.daily_costs, store, first, as_of, unbounded)
    return {
        "period": period,
        "points": _table(points),
        "cost_by_model": cost_by_model,
        "unpriced_models": unpriced,
        "spikes": _table(found),
        "forecast": {**to_records([forecast])[0], "daily_costs": month_days},
        "notes": trends.left_out(points, period),
    }


# --- budgets -------------------------------------------------------------------------


def budgets_view(store: Any, query: Query) -> dict[str, Any]:
    """Each budget's month so far (ok < 70 % <= warning < 90 % <= critical), projection and run-out day.

    Each row also counts the month's LLM calls in the budget's scope whose model has no
    price (``unpriced_calls``): the spend cannot include them; what is left of it
    (``remaining_usd``, below 0 when over); and ``cost_unknown``, why the spend is
    unknown when only metric points record the month's calls (``BudgetStatus.cost_unknown``: status unknown).
    """
    if not query.budgets:
        return {"rows": [], "month": query.budget_month}
    month, as_of = query.budget_month, query.budget_as_of
    if month is None:  # the month of the range's last data, as of that day: old data still shows its month
        window = _window(store, query)
        if window is not None:
            as_of = as_of or (window[1] - timedelta(microseconds=1)).date()
            month = as_of.strftime("%Y-%m")
    rows = budgets_api.budget_status(store, query.budgets, month, as_of)
    records = _table(rows)
    for row, record in zip(rows, records):  # their spend sums priced calls: say how many calls it cannot count
        record["unpriced_calls"] = _call(query, summaries.totals, store, budget_filters(row),
                                         partial=False).unpriced_calls
        record["remaining_usd"] = row.monthly_usd - row.spent  # below 0: that much over
    return {"rows": records, "month": rows[0].month, "as_of": rows[0].as_of}


def budget_filters(status: budgets_api.BudgetStatus) -> Filters:
    """What a budget's spend covers: its project and model, its month up to its as-of day."""
    first, _, as_of = trends.month_window(status.month, status.as_of)
    return Filters(since=datetime.combine(first, datetime.min.time()),
                   until=datetime.combine(as_of + timedelta(days=1), datetime.min.time()),
                   project=status.project, model=status.model)


# --- tables --------------------------------------------------------------------------

SUMMARY_COLUMNS = (
    Column("llm_calls", "LLM calls", "int"),
    Column("cost_usd", "Cost", "usd"),
    Column("cost_share", "Cost share", "pct"),
    Column("cost_per_call", "Cost / 1k calls", "usd_1k"),
    Column("input_tokens", "Input tokens", "int"),
    Column("output_tokens", "Output tokens", "int"),
    Column("error_rate", "Error rate", "pct"),
    Column("p50_ms", "p50 ms", "ms"),
    Column("p95_ms", "p95 ms", "ms"),
    Column("spans", "Spans", "int"),
    Column("last_seen", "Last seen", "time"),
)


def summary_table(by: str) -> Callable[[Any, Query], Any]:
    """A per-``by`` summary table (calls, cost and share, tokens, errors, latency)."""

    def compute(store: Any, query: Query) -> dict[str, Any]:
        return _marked(_summary_marked(store, query, by, query.filters), SUMMARY_COLUMNS)

    compute.__doc__ = f"Summary rows grouped by {by}."
    return compute


QUALITY_COLUMNS = (
    Column("passed", "Pass", "int"),
    Column("warning", "Warning", "int"),
    Column("failed", "Fail", "int"),
    Column("pass_rate", "Pass rate", "pct"),
    Column("errored", "Errored", "int"),
    Column("other", "Other", "int"),
    Column("not_run", "Not evaluated", "int"),
)


def _with_total(groups: Sequence[Any], total: Sequence[Any], columns: Sequence[Column], label: str
                ) -> list[dict[str, Any]]:
    """A table's rows per group, then the overall row keyed ``label``."""
    rows = _shown(groups, columns)
    for record in _shown(total, columns):
        record["key"] = label
        rows.append(record)
    return rows


def evaluations_view(store: Any, query: Query) -> dict[str, Any]:
    """Evaluation outcomes per model and overall (pass rate = pass / (pass + warning + fail)).

    The overall row adds up the models' rows: each evaluated output (and each
    turn not evaluated) is credited to exactly one model or to none, so the
    counts of ``quality(by=None)`` are their sums (one query instead of two).
    """
    groups = qa.quality(store, "model", query.filters)
    return {"rows": _with_total(groups, _quality_total(groups), QUALITY_COLUMNS, "all models")}


def _quality_total(groups: Sequence[qa.QualityRow]) -> list[qa.QualityRow]:
    """The one overall row of ``qa.quality(by=None)``, from the rows per model (none when there are none)."""
    if not groups:
        return []
    counts = {name: sum(getattr(row, name) for row in groups)
              for name in ("passed", "warning", "failed", "errored", "other", "not_run")}
    total = qa.QualityRow(key=None, **counts)
    total.pass_rate = ratio(total.passed, total.rated)
    return [total]


COMPARE_COLUMNS = (
    Column("calls", "Calls", "int"),
    Column("success_rate", "Success rate", "pct"),
    Column("cost_per_call", "Cost / 1k calls", "usd_1k"),
    Column("p95_ms", "p95 ms", "ms"),
    Column("tokens_per_call", "Tokens / call", "num"),
    Column("score", "Score", "num"),
    Column("best", "Best", "bool"),
    Column("turns", "Turns", "int"),
    Column("turn_success_rate", "Turn success", "pct"),
    Column("first_time_right_rate", "First-time right", "pct"),
    Column("mean_attempts", "Attempts / retry loop", "num"),
    Column("mean_turn_ms", "Mean turn", "ms"),
)
SCORE_NOTE = (
    "Score (0-100, higher is better) = 100 x (0.5 x success rate + 0.25 x (1 - cost per call / worst cost per call) "
    "+ 0.25 x (1 - p95 / worst p95)), over the groups shown; cost and latency are measured against the worst group, "
    "so the cheapest and fastest group is not rewarded for absolute size. Unknown cost or latency scores 0 for that "
    "term. Ties go to the group with more calls. The score weighs the LLM calls; the turn columns say how the "
    "group's turns ended: succeeded (no error, no retry loop gave up), first-time right (and nothing retried), "
    "the attempts per retry loop and the mean turn duration."
)


def compare_view(store: Any, query: Query) -> dict[str, Any]:
    """Model vs model and run-config vs run-config, each with its best group; groups of one are left out."""
    groups = []
    turns = _retries_by(store, query, query.compare_by)  # the turns walked once for all
    for by in query.compare_by:
        rows = comparisons.compare(store, by, query.filters, turns=turns[by])
        if len([r for r in rows if r.key is not None]) >= 2:
            groups.append({"by": by, **_marked(rows, COMPARE_COLUMNS)})
    return {"groups": groups, "note": SCORE_NOTE}


def _no_model(query: Query) -> Filters:
    """The query's filters without the model: tool calls and agent invocations have none of their own."""
    return replace(query.filters, model=None)


TOOL_COLUMNS = (
    Column("calls", "Calls", "int"),
    Column("error_rate", "Error rate", "pct"),
    Column("p50_ms", "p50 ms", "ms"),
    Column("p95_ms", "p95 ms", "ms"),
    Column("time_share", "Share of turn time", "pct"),
    Column("calls_per_turn", "Calls / turn", "num"),
    Column("retries", "Retries", "int"),
    Column("agents", "Called by agents"),
    Column("nodes", "In graph nodes"),
)


def tools_view(store: Any, query: Query) -> dict[str, Any]:
    """Per tool, slowest first (``otel_llm_analysis.tools``)."""
    return {"rows": _shown(tool_usage.tools(store, _no_model(query)), TOOL_COLUMNS, "tool")}


AGENT_COLUMNS = (
    Column("invocations", "Invocations", "int"),
    Column("success_rate", "Success rate", "pct"),
    Column("llm_calls_per_invocation", "LLM calls / invocation", "num"),
    Column("tool_calls_per_invocation", "Tool calls / invocation", "num"),
    Column("tokens_per_invocation", "Tokens / invocation", "num"),
    Column("cost_per_invocation", "Cost / invocation", "usd"),
    Column("p95_ms", "p95 ms", "ms"),
    Column("failed", "Failed", "int"),
    Column("gave_up", "A retry gave up", "int"),
)


def agents_view(store: Any, query: Query) -> dict[str, Any]:
    """Per agent, most invoked first (``otel_llm_analysis.agents``)."""
    return {"rows": _shown(agent_usage.agents(store, _no_model(query)), AGENT_COLUMNS, "agent")}


RETRY_COLUMNS = (
    Column("turns", "Turns", "int"),
    Column("success_rate", "Succeeded", "pct"),
    Column("first_time_right_rate", "First-time right", "pct"),
    Column("retried_turns", "Turns with retries", "int"),
    Column("mean_attempts", "Attempts / retry loop", "num"),
    Column("attempts", "Loops by attempts (n:loops)"),
    Column("gave_up", "Loops that gave up", "int"),
    Column("retry_cost_usd", "Cost of retries", "usd"),
    Column("retry_time_share", "Time retrying", "pct"),
)


def retries_view(store: Any, query: Query) -> dict[str, Any]:
    """Retry figures of the turns per project and overall (``otel_llm_analysis.retries``)."""
    grouped = _retries_by(store, query, ["project", None])
    projects = [row for row in grouped["project"] if row.key is not None]
    return {"rows": _with_total(projects, grouped[None], RETRY_COLUMNS, "all projects")}


TRACE_COLUMNS = (
    Column("root_name", "Root span"),
    Column("start_time", "Start", "time"),
    Column("duration_ms", "Duration ms", "ms"),
    Column("cost_usd", "Cost", "usd"),
    Column("llm_calls", "LLM calls", "int"),
    Column("tokens", "Tokens", "int"),
    Column("spans", "Spans", "int"),
    Column("depth", "Depth", "int"),
    Column("errors", "Errors", "int"),
)


#: Spans of a trace's tree a page holds: a trace of an agent loop can have tens of thousands, and the
#: report embeds (the dashboard sends) the tree of every trace listed. The first ones in pre-order keep
#: their nesting whole; the whole tree is ``/api/traces/{trace_id}`` or ``otel-llm traces --tree``.
TREE_MAX = 300


def traces_view(store: Any, query: Query) -> dict[str, Any]:
    """The most expensive and the slowest traces; ``trees`` maps each one's id to its span tree (pre-order).

    A tree longer than :data:`TREE_MAX` spans holds its first ``TREE_MAX``; ``tree_spans`` maps such a
    trace's id to its number of spans, for the page to say how many it does not show.
    """
    found = top_traces_bounded(store, query.top, ("cost", "duration"), query.filters, TREE_MAX)
    out: dict[str, Any] = {"trees": {trace_id: _table(tree) for trace_id, tree in found.trees.items()},
                           "tree_spans": found.tree_spans}
    for by, rows in found.rows.items():
        out[by] = _shown(rows, TRACE_COLUMNS, "trace_id")
    return out


#: Spans of one trace ``/api/traces/{trace_id}`` answers by default, and at most: a trace of an agent loop
#: can hold 100,000 spans, hundreds of MB of JSON in one answer; a client pages through it with ``offset``.
TRACE_PAGE, TRACE_PAGE_MAX = 1000, 10_000


def trace_detail(store: Any, trace_id: str, offset: int = 0, limit: int = TRACE_PAGE) -> dict[str, Any] | None:
    """Spans ``offset`` to ``offset + limit`` of one trace's tree in pre-order, with its number of spans and
    the count of those before and after the page (``not_shown``); None when the store has no such trace."""
    found = trace_page(store, trace_id, offset, limit)
    if found is None:
        return None
    nodes, total = found
    return {"trace_id": trace_id, "total_spans": total, "offset": offset, "limit": limit, "spans": _table(nodes),
            "not_shown": {"before": min(offset, total), "after": max(0, total - offset - len(nodes))}}


LOG_COLUMNS = (
    Column("pattern", "Pattern"),
    Column("count", "Count", "int"),
    Column("first_seen", "First seen", "time"),
    Column("last_seen", "Last seen", "time"),
    Column("example_trace_id", "Example trace"),
)


#: a log record as the page lists it (``logs.LogRow``), keyed by its time
LOG_RECORD_COLUMNS = (
    Column("severity_text", "Severity"),
    Column("service_name", "Service"),
    Column("body", "Message", "text"),
    Column("trace_id", "Trace"),
)


def logs_view(store: Any, query: Query) -> dict[str, Any]:
    """Log patterns and the newest records (``records``) at or above the query's severity (ERROR unless
    said), with its words when it gives some, of one service, logger or trace when it names them.

    Both lists stop at ``log_limit``; ``records_total`` and ``patterns_total`` count all there are, so
    the page says how many it does not list.

    Logs carry no project or model, so only the dates and those narrow them.
    """
    f, sources = query.filters, {"service": query.log_service, "logger": query.log_logger,
                                 "trace_id": query.log_trace_id}
    rows = logs.log_patterns(store, query.log_severity, query.log_text, f.since, f.until, query.log_limit, **sources)
    records = logs.search_logs(store, query.log_text, query.log_severity, f.since, f.until, query.log_limit,
                               **sources)
    records_total, patterns_total = log_counts(store, query.log_severity, query.log_text, f.since, f.until, **sources)
    return {"rows": _shown(rows, LOG_COLUMNS[1:], "pattern"), "severity": query.log_severity,
            "records": _shown(records, LOG_RECORD_COLUMNS, "time"),
            "records_total": records_total, "patterns_total": patterns_total}


PROCESS_COLUMNS = (
    Column("service", "Service"),
    Column("instance", "Process (service.instance.id)"),
    Column("peak_memory_mb", "Peak memory MiB", "num"),
    Column("mean_memory_mb", "Mean memory MiB", "num"),
    Column("mean_cpu_utilization", "Mean CPU", "pct"),
    Column("peak_threads", "Peak threads", "int"),
    Column("points", "Memory points", "int"),
)


def processes_view(store: Any, query: Query) -> dict[str, Any]:
    """Each process's memory, CPU and threads per period (``otel_llm_analysis.process_usage``).

    The period is the trends' (hours, days or weeks by the window); metric points carry no project or
    model, so only the dates filter them.
    """
    window = _window(store, query)
    period = query.period or (auto_period(*window) if window else "day")
    rows = processes.process_usage(store, period, query.filters)
    return {"period": period, "rows": _shown(rows, PROCESS_COLUMNS, "period")}


RUNNING_COLUMNS = (
    Column("instance", "Process (service.instance.id)"),
    Column("kind", "Kind"),
    Column("name", "Span name"),
    Column("running", "Calls running", "int"),
    Column("as_of", "As of its last export", "time"),
    Column("state", "State"),
)


def running_view(store: Any, query: Query) -> dict[str, Any]:
    """The calls each process had started and not ended at its last export before the range's end
    (``otel_llm_analysis.running``); a process silent for 5 minutes is said stale, not running.

    Judged at ``as_of``: the query's moment (a report's generation time, else the clock) or the range's
    end when that comes first - a range of the data ends at the midnight after its last day, hours after
    a report built that day, and judged there every process would read stale. The page names the moment:
    a report opened later says what ran when it was built, never as if live.
    """
    moment = query.now or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    if query.filters.until is not None:
        moment = min(moment, query.filters.until)
    found = running.running(store, until=query.filters.until, now=moment)
    rows = [{**record, "state": "stale: no export for 5 min, may have stopped" if record["stale"] else "running"}
            for record in to_records(found)]
    notes = [] if rows or running.reporting_processes(store, until=query.filters.until) else [
        "No process reported otel_llm.active (the SDK reports it with its metrics): nothing can be said to run."]
    return {"rows": _shown_records(rows, RUNNING_COLUMNS, "service"), "notes": notes, "as_of": moment}


SESSION_COLUMNS = (
    Column("service", "Service"),
    Column("started", "Started", "time"),
    Column("ended", "Ended", "time"),
    Column("spans", "Spans", "int"),
    Column("points", "Memory points", "int"),
    Column("peak_memory_mb", "Peak memory MiB", "num"),
    Column("growth_mb", "Growth MiB", "num"),
    Column("first_memory_mb", "First MiB", "num"),
    Column("last_memory_mb", "Last MiB", "num"),
)


def sessions_view(store: Any, query: Query) -> dict[str, Any]:
    """Memory per chat session, highest peak first (``otel_llm_analysis.session_memory``)."""
    rows = session_memory.session_memory(store, _no_model(query), top=SESSIONS_TOP)
    unmeasured = sum(1 for row in rows if not row.points)
    notes = [f"{unmeasured:,} of {len(rows):,} conversations have no memory point while they ran: "
             "configure(process_metrics=True), and export more often than they last."] if unmeasured else []
    return {"rows": _shown(rows, SESSION_COLUMNS, "conversation"), "notes": notes}


QUERY_COLUMNS = (
    Column("turns", "Turns", "int"),
    Column("share", "Share", "pct"),
    Column("conversations", "Conversations", "int"),
    Column("users", "Users", "int"),
    Column("first_seen", "First sent", "time"),
    Column("last_seen", "Last sent", "time"),
)


def queries_view(store: Any, query: Query) -> dict[str, Any]:
    """The users' most frequent messages (``otel_llm_analysis.popular_queries``), and how many carry no text."""
    filters = _no_model(query)
    rows = popular_queries.popular_queries(store, filters, QUERIES_TOP)
    messages, untexted = popular_queries.user_messages(store, filters)
    notes = [f"{untexted:,} of {messages:,} user messages carry no text (content capture is off unless the app "
             f"runs configure(capture_content=True)): the counts are of the other {messages - untexted:,}."
             ] if untexted else [] if messages else ["No user messages here: @otel_llm.chat records each turn's."]
    return {"rows": _shown(rows, QUERY_COLUMNS, "query"), "notes": notes}


RECOMMEND_COLUMNS = (
    Column("alternative", "Cheaper model"),
    Column("savings_usd", "Saving", "usd"),
    Column("savings_pct", "Saving %", "num"),
    Column("calls", "Calls", "int"),
    Column("cost_usd", "Cost", "usd"),
    Column("alternative_cost_usd", "Cost at its rates", "usd"),
    Column("success_rate", "Success rate", "pct"),
    Column("alternative_success_rate", "Its success rate", "pct"),
    Column("pass_rate", "Pass rate", "pct"),
    Column("alternative_pass_rate", "Its pass rate", "pct"),
)


def recommend_view(store: Any, query: Query) -> dict[str, Any]:
    """Cheaper models for each model's calls (``otel_llm_analysis.recommendations``), priced as ingest prices."""
    from otel_llm_analysis.store import price_book

    advice = recommendations.cheaper_models(store, price_book(None), _no_model(query))
    notes = [f"{model}: no price in the table, so not compared (otel-llm recommend --pricing FILE)."
             for model in advice.unpriced_models]
    return {"rows": _shown(advice.rows, RECOMMEND_COLUMNS, "model"), "notes": notes}


def _shown_records(records: Sequence[Mapping[str, Any]], columns: Sequence[Column], key: str) -> list[dict[str, Any]]:
    """Records reduced to what the page shows: the key and the declared columns."""
    return [{name: record.get(name) for name in (key, *(c.key for c in columns))} for record in records]


#: rows the sessions and queries views hold (the commands' defaults)
SESSIONS_TOP, QUERIES_TOP = 50, 20

VIEWS: Mapping[str, View] = {v.name: v for v in (
    View("summary", "Key figures", kpi_view, KPIS),
    View("trends", "Trends", trends_view, TREND_COLUMNS, Column("period", "Period (UTC)", "time")),
    View("budgets", "Budgets", budgets_view, filtered_by=("dates",),
         note="Each budget covers its own project and model, for the month of the range's end."),
    View("projects", "Per project", summary_table("project"), SUMMARY_COLUMNS, Column("key", "Project")),
    View("models", "Per model", summary_table("model"), SUMMARY_COLUMNS, Column("key", "Model"),
         "Model as requested (dated snapshots count with it); cost share is of the cost shown."),
    View("operations", "Per operation", summary_table("operation"), SUMMARY_COLUMNS, Column("key", "Operation")),
    View("nodes", "Per graph node", summary_table("node"), SUMMARY_COLUMNS, Column("key", "Graph node"),
         "A node's latency and error rate are its LLM calls' when it makes any, else its own spans'."),
    View("collections", "Per vector collection", summary_table("collection"), SUMMARY_COLUMNS,
         Column("key", "Collection")),
    View("evaluations", "Evaluations", evaluations_view, QUALITY_COLUMNS, Column("key", "Model"),
         "Pass rate = pass / (pass + warning + fail); 'not evaluated' counts turns with LLM calls but no evaluation."),
    View("compare", "Comparisons", compare_view, COMPARE_COLUMNS, note=SCORE_NOTE),
    View("tools", "Tools", tools_view, TOOL_COLUMNS, Column("tool", "Tool"),
         "Slowest first. Share of turn time: the tool's time in the turns that called it / their duration "
         "(parallel calls can add up to more than 100 %). Retries: tries numbered 2 or more.",
         filtered_by=("dates", "project")),
    View("agents", "Agents", agents_view, AGENT_COLUMNS, Column("agent", "Agent"),
         "Per invocation: everything made inside it, nested agents' work included. Success: the invocation "
         "did not fail and no retry loop inside it gave up.", filtered_by=("dates", "project")),
    View("retries", "Retries", retries_view, RETRY_COLUMNS, Column("key", "Project"),
         "A turn succeeded when it did not fail and no retry loop inside it gave up; it was first-time right "
         "when, besides, nothing in it was retried. Cost and time of retries: the tries before each loop's last."),
    View("traces", "Traces", traces_view, TRACE_COLUMNS, Column("trace_id", "Trace")),
    View("logs", "Log error patterns", logs_view, LOG_COLUMNS[1:], LOG_COLUMNS[0],
         "ERROR and FATAL records grouped by message with values masked, and the newest of them; logs carry no "
         "project or model, so only the date range filters them; search their words, pick a lower severity or "
         "narrow them by service, logger or trace on the dashboard (otel-llm serve) or with otel-llm logs "
         "--patterns --service/--logger/--trace (--search, --severity).", filtered_by=("dates",)),
    View("processes", "Processes: memory, CPU, threads", processes_view, PROCESS_COLUMNS,
         Column("period", "Period (UTC)", "time"),
         "Per process (a service.instance.id of a service) and period, from configure(process_metrics=True): "
         "peak and mean resident memory, mean CPU utilization, peak threads (otel-llm processes). Metric points "
         "carry no project or model, so only the date range filters them.", filtered_by=("dates",)),
    View("running", "Running calls", running_view, RUNNING_COLUMNS, Column("service", "Service"),
         "The calls each process had started and not ended at its last metric export (otel_llm.active), before "
         "the range's end: spans are exported when they end, so this is where a call still running shows "
         "(otel-llm running). Metric points carry no project or model.", filtered_by=("dates",)),
    View("sessions", "Memory per chat session", sessions_view, SESSION_COLUMNS, Column("conversation", "Conversation"),
         "Per conversation (gen_ai.conversation.id), the memory of the process that ran it while it ran, highest "
         "peak first (otel-llm sessions; needs configure(process_metrics=True)). Conversations one process served "
         "at once share its memory.", filtered_by=("dates", "project")),
    View("queries", "Popular queries", queries_view, QUERY_COLUMNS, Column("query", "User message"),
         "The users' most frequent messages to @otel_llm.chat turns, case and spacing folded (otel-llm queries). "
         "Text is there only when the app captures content (off by default), after its redact hook.",
         filtered_by=("dates", "project")),
    View("recommend", "Cheaper models", recommend_view, RECOMMEND_COLUMNS, Column("model", "Model"),
         "Each model's calls priced at another model's standard rates, largest saving first (otel-llm recommend). "
         "The prices cannot tell whether the cheaper model answers as well: compare the success and pass rates.",
         filtered_by=("dates", "project")),
)}


def compute_all(store: Any, query: Query, names: Sequence[str] | None = None) -> dict[str, Any]:
    """Every view (or the ``names`` given) for one query."""
    query = with_window(store, query)
    return {name: VIEWS[name].compute(store, query) for name in (names or VIEWS)}


def table_rows(name: str, data: Any) -> list[dict[str, Any]]:
    """A view's data as flat rows, for CSV/JSON export (what the page's tables show)."""
    if name == "summary":
        return list(data["cards"])
    if name == "trends":
        return list(data["points"])
    if name == "compare":
        return [{"by": group["by"], **row} for group in data["groups"] for row in group["rows"]]
    if name == "traces":
        return [{"ranking": by, **row} for by in ("cost", "duration") for row in data[by]]
    return list(data["rows"])


def describe() -> dict[str, Any]:
    """The views' titles, notes and table columns, for the page to render tables generically."""
    return {
        name: {"title": view.title, "note": view.note,
               "filtered_by": list(view.filtered_by), "key": {"key": view.key.key, "label": view.key.label, "format": view.key.format},
               "columns": [{"key": c.key, "label": c.label, "format": c.format} for c in view.columns]}
        for name, view in VIEWS.items()
    }


__all__ = ["DEFAULT_COMPARE", "KPIS", "PALETTE", "Query", "TRACE_PAGE", "TRACE_PAGE_MAX", "TREE_MAX", "VIEWS", "View", "Column", "auto_period", "budget_filters",
           "compute_all", "data_window", "describe", "previous_period", "resolved_window", "table_rows", "trace_detail",
           "with_window"]
