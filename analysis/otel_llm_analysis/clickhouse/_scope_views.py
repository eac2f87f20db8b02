"""The agents, tools and retries views on ClickHouse, and how the analyses' window macros read them.

DuckDB works out what each span runs inside (its turn, agents, tries, graph
node) once per trace at ingest (``_scope_index``) and the analyses read the
rows through ``views.sql``'s table macros ``<view>_in(since, until)``. A
ClickHouse database is filled by the collector's exporter, with no ingest step,
so ``views_scopes_clickhouse.sql`` defines the same views (``span_scopes``,
``tool_calls``, ``retry_attempts``, ``retry_loops``, ``agent_invocations``,
``turns``; same columns and rules) over the ``spans`` view, the walk down each
trace's span tree being worked out (one pass grouped by trace) when they are read.
Each is a view with the window as parameters, ``<view>_in(since = …, until = …)``,
that walks only the traces of the window (``window_spans``, views_clickhouse.sql),
beside ``<view>``, the whole store.

What stays written once: the analyses' queries (``queries/tools.sql``,
``agents.sql``, ``retries.sql``, transpiled by :mod:`._dialect`), and the
names of tools and agents and the attempt number - the DuckDB expressions of
:func:`otel_llm_analysis._scopes.view_parameters`, transpiled into the views.
:func:`windowed` turns the analyses' ``<view>_in(since, until)`` calls into
those views with the window's values (the rows starting in the window, as DuckDB's
macros return them), and a read of ``llm_calls`` with a time window into
``llm_calls_in`` of that window. An analysis statement then reads these views' rows
from tables made once per version of the spans (:mod:`._kept_views`): ClickHouse
plans a view again at each reference, and these views read each other.
"""

from __future__ import annotations

from importlib import resources

from sqlglot import exp

from otel_llm import semconv

__all__ = ["WINDOWED", "statements", "windowed"]

#: The views an analysis reads through ``<view>_in(since, until)``: rows starting in the window,
#: except ``span_scopes``, whose rows are those of the traces with a span in it (views.sql).
WINDOWED = ("span_scopes", "tool_calls", "retry_attempts", "retry_loops", "agent_invocations", "turns")


def _parameters() -> dict[str, str]:
    """The ``{name}`` values of ``views_scopes_clickhouse.sql``: semconv names, and the DuckDB
    expressions of ``_scopes.view_parameters`` as ClickHouse SQL."""
    from otel_llm_analysis._filters import IS_UNPRICED
    from otel_llm_analysis._scopes import view_parameters
    from otel_llm_analysis.clickhouse._dialect import transpile
    from otel_llm_analysis.clickhouse._views import _clickhouse, eval_score

    duckdb = view_parameters()
    duckdb["attempt_int_s"] = f"TRY_CAST({duckdb['attempt_s']} AS INTEGER)"
    expressions = {"tool_name_s", "tool_type_s", "tool_call_id_s", "agent_name_s", "agent_name_a", "agent_id_a",
                   "attempt_int_s"}
    params = {name: transpile(f"SELECT {duckdb[name]}")[0].removeprefix("SELECT ") for name in expressions}
    params["attempt_int"] = transpile(f"SELECT TRY_CAST({duckdb['attempt_value']} AS INTEGER)")[0].removeprefix("SELECT ")
    params["agent_name"] = transpile(f"SELECT {duckdb['agent_name']}")[0].removeprefix("SELECT ")
    params.update(llm_call=semconv.KIND_LLM_CALL, tool=semconv.KIND_TOOL, agent=semconv.KIND_AGENT,
                  chat=semconv.KIND_CHAT, attempt=semconv.OTEL_LLM_ATTEMPT, gave_up=semconv.RETRY_GAVE_UP,
                  succeeded=semconv.RETRY_SUCCEEDED, evaluation_event=semconv.EVENT_EVALUATION_RESULT,
                  response_id=semconv.GEN_AI_RESPONSE_ID, eval_name=semconv.GEN_AI_EVALUATION_NAME,
                  eval_label=semconv.GEN_AI_EVALUATION_SCORE_LABEL, log_eval_score=eval_score("l.attributes"),
                  usage_unobserved=semconv.OTEL_LLM_USAGE_UNOBSERVED, is_unpriced=_clickhouse(IS_UNPRICED))
    return params


def statements(database: str) -> list[str]:
    """``CREATE OR REPLACE VIEW`` statements of the agents, tools and retries views in ``database``."""
    from otel_llm_analysis.clickhouse._views import split_views, window_parameters

    text = resources.files("otel_llm_analysis.clickhouse").joinpath("views_scopes_clickhouse.sql").read_text("utf-8")
    return split_views(database, text.format(db=database, **_parameters(), **window_parameters()))


def _value(bound: exp.Expression) -> exp.Expression | None:
    """A bound parameter (``_dialect.bind``'s literal) as a view parameter's value: NULL or its text;
    None for anything else (a view's parameters are values, not expressions)."""
    if isinstance(bound, exp.Null) or (isinstance(bound, exp.Literal) and bound.is_string):
        return bound.copy()
    if isinstance(bound, exp.Cast) and isinstance(bound.this, exp.Literal) and bound.this.is_string:
        return bound.this.copy()
    return None


def _window_view(view: str, since: exp.Expression, until: exp.Expression, alias: exp.Expression | None
                 ) -> exp.Table:
    """``<view>_in(since = …, until = …) AS alias``: the view with the window's parameters."""
    values = {"since": _value(since), "until": _value(until)}
    for name, value in values.items():
        if value is None:
            raise ValueError(f"the window's {name} must be a value, not {(since, until)[name == 'until'].sql()}")
    call = exp.Anonymous(this=f"{view}_in", expressions=[
        exp.EQ(this=exp.column(name), expression=value) for name, value in values.items()])
    return exp.Table(this=call, alias=alias or exp.TableAlias(this=exp.to_identifier(view)))


def _time_bounds(where: exp.Expression | None, alias: str) -> tuple[exp.Expression, exp.Expression] | None:
    """``(since, until)`` from the conditions ``start_time >= since`` / ``start_time < until`` that a
    WHERE requires (ANDed at its top), NULL for a side it leaves open; None when it has neither."""
    if where is None:
        return None
    found: dict[type, exp.Expression] = {}
    for condition in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        if (isinstance(condition, (exp.GTE, exp.LT)) and isinstance(condition.this, exp.Column)
                and condition.this.name == "start_time" and condition.this.table in ("", alias)
                and _value(condition.expression) is not None):
            found.setdefault(type(condition), condition.expression)
    if not found:
        return None
    return found.get(exp.GTE, exp.Null()), found.get(exp.LT, exp.Null())


def windowed(tree: exp.Expression) -> exp.Expression:
    """``tree`` with each ``<view>_in(since, until)`` table (parameters bound) as the view with those
    parameters (its rows starting in the window, worked out over the traces with a span in it; a NULL
    bound leaves that side open), and each ``llm_calls`` read with a time window (``start_time >= since``
    / ``< until`` in its WHERE) as ``llm_calls_in`` of that window: the trees of the window's traces
    only, not of the whole store."""
    tree = tree.copy()  # the parsed statement is cached: change a copy
    for table in [t for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Anonymous)]:
        call = table.this
        view = call.name.lower().removesuffix("_in")
        if view in WINDOWED and len(call.expressions) == 2 and call.name.lower().endswith("_in"):
            table.replace(_window_view(view, *call.expressions, table.args.get("alias")))
    for select in list(tree.find_all(exp.Select)):
        source = select.args.get("from_")
        table = source.this if source is not None else None
        if not (isinstance(table, exp.Table) and isinstance(table.this, exp.Identifier)
                and table.name.lower() == "llm_calls" and not table.db):
            continue
        bounds = _time_bounds(select.args.get("where"), table.alias_or_name)
        if bounds is not None:
            table.replace(_window_view("llm_calls", *bounds, table.args.get("alias")))
    return tree
