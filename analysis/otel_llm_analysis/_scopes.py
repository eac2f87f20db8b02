"""The pieces the agents, tools and retries views are built from, and how the analyses call them.

Why here: ``views.sql`` defines ``span_scopes``, ``tool_calls``,
``agent_invocations``, ``retry_attempts``, ``retry_loops`` and ``turns`` once,
as table macros ``<view>_in(since, until)`` (the views are the macros over the
whole store) reading the rows ``_scope_index`` makes per trace at ingest. Their
SQL reads names that live elsewhere - span kinds and attribute names in
``otel_llm.semconv``, how each producer names a tool or an agent in
``_producers`` - and :func:`view_parameters` fills them in, so no name is
retyped in SQL. :func:`macro_call` is how an analysis reads one of them for its
filters: the time window goes to the macro, the rest of the filters to the
``WHERE`` clause.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Sequence

from otel_llm import semconv
from otel_llm_analysis._filter_sets import SETS, ask_together, in_set, per_set, project_in_set, set_rows, shared_filters
from otel_llm_analysis._filters import Filters, fetch_dicts, load_query
from otel_llm_analysis._producers import AGENT, TOOL, entity_name_sql

__all__ = ["fetch", "macro_call", "per_name", "view_parameters"]


def _attribute(alias: str) -> Any:
    """``name -> SQL`` reading a span attribute of the row aliased ``alias`` ("" for none)."""
    prefix = f"{alias}." if alias else ""
    return lambda name: f"{prefix}attr_values[list_position({prefix}attr_keys, '{name}')]"


def view_parameters() -> dict[str, str]:
    """The ``{name}`` parameters of the agents, tools and retries part of ``views.sql``."""
    params = {
        "chat": semconv.KIND_CHAT,
        "agent": semconv.KIND_AGENT,
        "tool": semconv.KIND_TOOL,
        "attempt": semconv.OTEL_LLM_ATTEMPT,
        "gave_up": semconv.RETRY_GAVE_UP,
        "succeeded": semconv.RETRY_SUCCEEDED,
        "response_id": semconv.GEN_AI_RESPONSE_ID,
        "usage_unobserved": semconv.OTEL_LLM_USAGE_UNOBSERVED,
    }
    # what a call inside an otel-llm span takes of that span's attributes (llm_calls_of; _call_context)
    context = (f"(starts_with({{key}}, '{semconv.OTEL_LLM_RUN_CONFIG_PREFIX}') "
               f"OR {{key}} = '{semconv.OTEL_LLM_GRAPH_NAME}')")
    params["context_key"] = context.format(key="k")
    params["context_key_i"] = context.format(key="a.attr_keys[i]")
    for alias in ("t", "u", "turn"):  # what a turn's span is (a superset: the join on rowid decides)
        params[f"is_turn_{alias}"] = f"({alias}.otel_kind = '{semconv.KIND_CHAT}' OR {alias}.parent_span_id IS NULL)"
    for alias in ("", "s", "a"):
        read = _attribute(alias)
        suffix = f"_{alias}" if alias else ""
        name = f"{alias}.name" if alias else "name"
        params[f"tool_name{suffix}"] = entity_name_sql(TOOL, read, name)
        params[f"agent_name{suffix}"] = entity_name_sql(AGENT, read, name)
        params[f"tool_type{suffix}"] = read(semconv.GEN_AI_TOOL_TYPE)
        params[f"tool_call_id{suffix}"] = read(semconv.GEN_AI_TOOL_CALL_ID)
        params[f"agent_id{suffix}"] = read(semconv.GEN_AI_AGENT_ID)
        params[f"attempt{suffix or '_value'}"] = read(semconv.OTEL_LLM_ATTEMPT)
    return params


def fetch(store: Any, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of ``sql`` over the macros (as dicts); see :func:`_run` for a store older than them."""
    return _run(lambda: fetch_dicts(store, sql, params))


def _run(action: Callable[[], Any]) -> Any:
    """``action()``; a store made before the macros existed gets a one-line :class:`StoreError`.

    Views and macros are created when a store is opened for writing, so a store
    last written by an older otel-llm, opened read-only, lacks them until the
    next ``otel-llm ingest``.
    """
    import duckdb

    from otel_llm_analysis.store import StoreError

    try:
        return action()
    except duckdb.CatalogException as exc:
        if not any(f"{name} does not exist" in str(exc) for name in ("_in", "_of", "qa_subjects")):
            raise
        raise StoreError("this store predates the agents, tools, retries and quality views: run `otel-llm ingest` "
                         "on its data once more (nothing is read twice; opening it for writing adds them)") from None


def per_name(store: Any, macro: str, query: str, filters: Filters | None, unit: str) -> list[dict[str, Any]]:
    """The rows of ``queries/<query>.sql`` over ``macro`` under ``filters``, ``latency`` split into p50_ms/p95_ms.

    For the analyses of tool calls and agent invocations, which have no model of
    their own: ``filters.model`` is refused (a ``ValueError`` naming ``unit``).
    """
    filters = filters or Filters()
    if filters.model is not None:
        raise ValueError(f"{unit} have no model: filter by time, project or service")
    ask_together(store, filters, lambda asked: _per_name_statement(macro, query, asked),
                 lambda sets: _per_name_sets(store, macro, query, sets), lambda one: (one.since, one.until),
                 lambda one: replace(one, model=None))
    rows = fetch(store, *_per_name_statement(macro, query, filters))
    for d in rows:
        d["p50_ms"], d["p95_ms"] = d.pop("latency") or (None, None)
    return rows


def _per_name_statement(macro: str, query: str, filters: Filters) -> tuple[str, dict[str, Any]]:
    """:func:`per_name`'s statement of ``filters`` and its parameters."""
    source, where, params = macro_call(macro, filters)
    return load_query(query).format(source=source, where=where), params


def _per_name_sets(store: Any, macro: str, query: str, filter_sets: Sequence[Filters]) -> list[list[dict[str, Any]]]:
    """The rows of :func:`_per_name_statement` of each of ``filter_sets`` (one window, their service shared, no
    model) in one statement: the query of each set, its window and project read from its row of the sets
    (``LATERAL``), over the macro of their window. A sum's last bits can differ from the set's own statement's,
    as they differ between two runs of that statement (DuckDB adds in parallel)."""
    where, params = shared_filters(filter_sets).where()
    sets_where = f"{where} AND {in_set(window_only=True)} AND {project_in_set()}"
    named = load_query(query).format(source=f"{macro}($since, $until)", where=sets_where)
    sql = f"SELECT sets.set_id, named.* FROM {SETS} sets, LATERAL ({named}) named ORDER BY sets.set_id"
    window = {"since": filter_sets[0].since, "until": filter_sets[0].until}
    return per_set(fetch(store, sql, {**params, **window, "sets": set_rows(filter_sets)}), len(filter_sets))


def macro_call(macro: str, filters: Filters) -> tuple[str, str, dict[str, Any]]:
    """``FROM`` source, ``WHERE`` clause and parameters to read ``macro`` under ``filters``.

    The window is handed to the macro; project, service and model become the
    ``WHERE`` clause over the rows it returns (``filters.where``).
    """
    where, params = filters.where()
    params = {**params, "since": filters.since, "until": filters.until}
    return f"{macro}($since, $until)", where, params
