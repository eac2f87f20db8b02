"""The agents, tools and retries views on ClickHouse, and how the analyses' window macros read them.

DuckDB works out what each span runs inside (its turn, agents, tries, graph
node) once per trace at ingest (``_scope_index``) and the analyses read the
rows through ``views.sql``'s table macros ``<view>_in(since, until)``. A
ClickHouse database is filled by the collector's exporter, with no ingest step,
so ``views_scopes_clickhouse.sql`` defines the same views (``span_scopes``,
``tool_calls``, ``retry_attempts``, ``retry_loops``, ``agent_invocations``,
``turns``; same columns and rules) over the ``spans`` view, the walk down each
trace's span tree being worked out (one pass grouped by trace) when they are read.

What stays written once: the analyses' queries (``queries/tools.sql``,
``agents.sql``, ``retries.sql``, transpiled by :mod:`._dialect`), and the
names of tools and agents and the attempt number - the DuckDB expressions of
:func:`otel_llm_analysis._scopes.view_parameters`, transpiled into the views.
:func:`windowed` turns the analyses' ``<view>_in(since, until)`` calls into
the rows of the view that start in the window, as DuckDB's macros return them.
"""

from __future__ import annotations

import re
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
    from otel_llm_analysis import _producers
    from otel_llm_analysis._scopes import view_parameters
    from otel_llm_analysis.clickhouse._ddl import TRACES_TABLE
    from otel_llm_analysis.clickhouse._dialect import transpile
    from otel_llm_analysis.clickhouse._views import _attribute as attribute  # the spans view's reader
    from otel_llm_analysis.clickhouse._views import first_present

    duckdb = view_parameters()
    duckdb["attempt_int_s"] = f"TRY_CAST({duckdb['attempt_s']} AS INTEGER)"
    expressions = {"tool_name_s", "tool_type_s", "tool_call_id_s", "agent_name_s", "agent_name_a", "agent_id_a",
                   "attempt_int_s"}
    params = {name: transpile(f"SELECT {duckdb[name]}")[0].removeprefix("SELECT ") for name in expressions}
    params["attempt_int"] = transpile(f"SELECT TRY_CAST({duckdb['attempt_value']} AS INTEGER)")[0].removeprefix("SELECT ")
    params["agent_name"] = transpile(f"SELECT {duckdb['agent_name']}")[0].removeprefix("SELECT ")
    params["otel_kind"] = _producers.kind_sql(attribute)
    params["graph_node"] = first_present("graph_node")
    params.update(traces=TRACES_TABLE, llm_call=semconv.KIND_LLM_CALL, tool=semconv.KIND_TOOL, agent=semconv.KIND_AGENT,
                  chat=semconv.KIND_CHAT, attempt=semconv.OTEL_LLM_ATTEMPT, gave_up=semconv.RETRY_GAVE_UP,
                  succeeded=semconv.RETRY_SUCCEEDED)
    params.update(evaluation_event=semconv.EVENT_EVALUATION_RESULT, response_id=semconv.GEN_AI_RESPONSE_ID)
    return params


def statements(database: str) -> list[str]:
    """``CREATE OR REPLACE VIEW`` statements of the agents, tools and retries views in ``database``."""
    text = resources.files("otel_llm_analysis.clickhouse").joinpath("views_scopes_clickhouse.sql").read_text("utf-8")
    filled = text.format(db=database, **_parameters())
    parts = (part.strip() for part in re.split(r";[ \t]*$", filled, flags=re.M))
    return [part for part in parts if part and not all(
        not line.strip() or line.strip().startswith("--") for line in part.splitlines())]


def windowed(tree: exp.Expression) -> exp.Expression:
    """``tree`` with each ``<view>_in(since, until)`` table (parameters bound) as the view's rows in that
    window: ``start_time >= since`` and ``< until``, a NULL bound leaving that side open."""
    calls = [table for table in tree.find_all(exp.Table) if isinstance(table.this, exp.Anonymous)
             and table.this.name.lower().removesuffix("_in") in WINDOWED and len(table.this.expressions) == 2]
    if not calls:
        return tree
    tree = tree.copy()  # the parsed statement is cached: change a copy
    for table in [t for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Anonymous)]:
        call = table.this
        view = call.name.lower().removesuffix("_in")
        if view not in WINDOWED or len(call.expressions) != 2 or not call.name.lower().endswith("_in"):
            continue
        since, until = call.expressions
        window = [condition for bound, condition in (
            (since, exp.GTE(this=exp.column("start_time"), expression=since.copy())),
            (until, exp.LT(this=exp.column("start_time"), expression=until.copy())))
            if not isinstance(bound, exp.Null)]
        rows = exp.select("*").from_(view)
        if window and view == "span_scopes":
            traces = exp.select("trace_id").from_("spans").where(exp.and_(*window))
            rows = rows.where(exp.column("trace_id").isin(query=traces))
        elif window:
            rows = rows.where(exp.and_(*window))
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(view))
        table.replace(exp.Subquery(this=rows, alias=alias))
    return tree
