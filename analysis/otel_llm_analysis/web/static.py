"""``otel-llm report``: one self-contained HTML file with every view, filterable offline.

How the filters work without a server: each combination of date range, project
and model the page offers is computed in advance through the analysis API
(``views.compute_all``) and embedded as JSON; the page swaps between them. Views
repeat a lot across combinations (logs and budgets ignore project and model, a
project with one model gives that model's figures), so each distinct view is
stored once and combinations point at it.

How many combinations: every range x (all + each project) x (all + each model)
that holds data, while that stays within ``max_states``; beyond it project and
model are offered one at a time (a project *or* a model), beyond that only the
projects and models with the highest cost, and last only the first date ranges
(the whole window first). The page and the command say which applies.
"""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import orjson

from otel_llm_analysis import Filters, summaries
from otel_llm_analysis.web import assets
from otel_llm_analysis.web.choices import ALL, Choices, DateRange, choices, range_filters
from otel_llm_analysis.web.expected import BuildSets, expecting
from otel_llm_analysis.web.frozen import frozen_views
from otel_llm_analysis.web.shared import Shared
from otel_llm_analysis.web.views import VIEWS, Query, describe, with_window

DEFAULT_MAX_STATES = 60
#: A span-tree node as embedded: one array per span, in these fields' order (pre-order and
#: depth give the nesting, so the parent id and start time are left out).
TREE_FIELDS = ("depth", "name", "otel_kind", "duration_ms", "status_code", "model", "input_tokens",
               "output_tokens", "cost_usd", "span_id")


@dataclass
class Lattice:
    """The filter combinations embedded, and what was left out."""

    ranges: tuple[DateRange, ...]
    projects: tuple[str, ...]
    models: tuple[str, ...]
    combined: bool
    omitted_projects: tuple[str, ...] = ()
    omitted_models: tuple[str, ...] = ()
    #: the labels of the date ranges left out (the last ones offered)
    omitted_ranges: tuple[str, ...] = ()
    states: list[tuple[DateRange, str, str]] = field(default_factory=list)


def state_key(range_key: str, project: str, model: str) -> str:
    """How the page names a combination: a JSON array, the string the page's ``JSON.stringify`` makes."""
    return orjson.dumps([range_key, project, model]).decode()


def plan(store: Any, base: Filters, offered: Choices, max_states: int, shared: Shared | None = None) -> Lattice:
    """Pick the combinations to embed (see the module doc).

    With ``shared``, the per-project summaries it reads to leave out empty
    combinations are kept for the views (they are those combinations' project tables).
    """
    projects, models = list(offered.projects), list(offered.models)
    ranges = offered.ranges
    combined = len(ranges) * (len(projects) + 1) * (len(models) + 1) <= max_states
    if not combined:
        while len(ranges) * (1 + len(projects) + len(models)) > max_states and (projects or models):
            (projects if len(projects) >= len(models) else models).pop()
        ranges = ranges[:max(1, max_states // (1 + len(projects) + len(models)))]  # then the last date ranges
    lattice = Lattice(ranges, tuple(projects), tuple(models), combined,
                      tuple(p for p in offered.projects if p not in projects),
                      tuple(m for m in offered.models if m not in models),
                      tuple(r.label for r in offered.ranges[len(ranges):]))
    for choice in ranges:
        present = _present(store, base, choice, combined, projects, models, shared or Shared())
        for project, model in itertools.product([ALL, *projects], [ALL, *models]):
            if not combined and project and model:
                continue
            if (project, model) == (ALL, ALL) or (project, model) in present:
                lattice.states.append((choice, project, model))
    return lattice


def _present(store: Any, base: Filters, choice: DateRange, combined: bool, projects: list[str],
             models: list[str], shared: Shared) -> set[tuple[str, str]]:
    """(project, model) pairs with spans in the range, so empty combinations are not embedded."""
    present: set[tuple[str, str]] = set()
    for model in [ALL, *models]:
        rows = shared.call(summaries.summary, store, "project", range_filters(base, choice, None, model or None))
        keys = {r.key for r in rows if r.spans}
        if keys:
            present.add((ALL, model))
        present.update((p, model) for p in projects if p in keys and (combined or model == ALL))
    return present


def columnar(value: Any) -> Any:
    """Lists of records with the same keys as ``{"$cols": keys, "$rows": [[values]]}`` (the page expands them).

    The embedded views are mostly tables and series; naming every key once per
    table rather than once per row halves the file.
    """
    if isinstance(value, dict):
        return {k: columnar(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > 1 and all(isinstance(v, dict) for v in value):
            keys = list(value[0])
            if all(list(v) == keys for v in value):
                return {"$cols": keys, "$rows": [[columnar(v[k]) for k in keys] for v in value]}
        return [columnar(v) for v in value]
    return value


def collect(store: Any, base_query: Query, lattice: Lattice,
            on_state: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Every embedded combination's views, each distinct view stored once.

    The views of all combinations share their analysis results (``shared.Shared``,
    the query's or a new one): a call repeated with the same arguments runs once,
    and the turns of each date range are walked once for all its projects and models. On a small
    store the deep views are read from TEMP copies meanwhile (``frozen.frozen_views``), and an analysis
    asked for one combination reads the others' in the same statement (``expected.expecting``).
    """
    with frozen_views(store) as frozen, expecting(store, frozen) as expected:
        if base_query.shared is not None:
            return _collect(store, base_query, lattice, on_state, expected)
        with Shared() as shared:
            return _collect(store, replace(base_query, shared=shared), lattice, on_state, expected)


def _collect(store: Any, base_query: Query, lattice: Lattice, on_state: Callable[[int, int], None] | None,
             expected: BuildSets) -> dict[str, Any]:
    pool: list[Any] = []
    index: dict[bytes, int] = {}
    cache: dict[tuple[Any, ...], int] = {}
    states: dict[str, dict[str, int]] = {}
    trees: dict[str, Any] = {}
    queries = [with_window(store, replace(base_query, filters=range_filters(base_query.filters, choice, project or None,
                                                                            model or None)))
               for choice, project, model in lattice.states]
    expected.add_queries(queries)
    for done, ((choice, project, model), query) in enumerate(zip(lattice.states, queries), 1):
        entry: dict[str, int] = {}
        for name, view in VIEWS.items():
            relevant = (choice.key, project if "project" in view.filtered_by else None,
                        model if "model" in view.filtered_by else None)
            slot = cache.get((name, *relevant))
            if slot is None:
                result = view.compute(store, query)
                if isinstance(result, dict) and "trees" in result:  # a trace's tree is the same in every view
                    for trace_id, tree in result.pop("trees").items():
                        trees[trace_id] = [[node[f] for f in TREE_FIELDS] for node in tree]
                encoded = orjson.dumps(columnar(result), option=orjson.OPT_NAIVE_UTC, default=str)
                slot = index.setdefault(encoded, len(pool))
                if slot == len(pool):
                    pool.append(orjson.Fragment(encoded))
                cache[(name, *relevant)] = slot
            entry[name] = slot
        states[state_key(choice.key, project, model)] = entry
        if on_state:
            on_state(done, len(lattice.states))
    return {"pool": pool, "states": states, "trees": trees, "tree_fields": TREE_FIELDS}


def build_report(store: Any, query: Query | None = None, *, source: str = "", max_states: int = DEFAULT_MAX_STATES,
                 on_plan: Callable[[Lattice], None] | None = None,
                 on_state: Callable[[int, int], None] | None = None) -> str:
    """The report page as one HTML string (no network needed to open it).

    ``on_plan`` hears which filter combinations will be embedded (and which
    projects and models were left out), ``on_state`` each one computed.
    """
    generated = datetime.now(timezone.utc).replace(microsecond=0)
    with Shared() as shared, frozen_views(store) as frozen, expecting(store, frozen) as expected:
        query = query or Query()  # judged at the generation time, which the page states: the file is read later
        query = replace(query, shared=shared, now=query.now or generated.replace(tzinfo=None))
        offered = choices(store, query.filters)
        # the planning's summaries per project: each date range, overall and per model
        expected.add("planning", (range_filters(query.filters, choice, None, model or None)
                                  for choice in offered.ranges for model in [ALL, *offered.models]))
        lattice = plan(store, query.filters, offered, max_states, shared)
        if on_plan:
            on_plan(lattice)
        data = collect(store, query, lattice, on_state)
    meta = {
        "mode": "static",
        "source": source,
        "generated": generated,
        "filters": {"since": query.filters.since, "until": query.filters.until,
                    "project": query.filters.project, "model": query.filters.model},
        "choices": Choices(lattice.ranges, lattice.projects, lattice.models, offered.unnamed).as_json(),
        "combined": lattice.combined,
        "omitted": {"projects": list(lattice.omitted_projects), "models": list(lattice.omitted_models),
                    "ranges": list(lattice.omitted_ranges)},
        "views": describe(),
        "unfinished": getattr(store, "unfinished", None),  # an interrupted ingest's rows: figures can be off
        "span_coverage": getattr(store, "span_coverage", None),  # spans hold fewer calls than metrics counted
    }
    return render_page("otel-llm report", {"meta": meta, **data})


#: The page may load nothing: scripts and styles are inline, downloads are blob: URLs. The live
#: dashboard may also call its own server.
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:"
LIVE_CSP = CSP + "; connect-src 'self'"


def render_page(title: str, data: Any, *, live: bool = False) -> str:
    """The page shell with the stylesheet, the script and ``data`` inlined.

    ``data["meta"]`` gains ``csv_formula_start``: the page's CSV downloads mark such
    text cells as every other CSV of otel-llm does (``export.FORMULA_START``).
    """
    from otel_llm_analysis.export import FORMULA_START

    data = {**data, "meta": {**data.get("meta", {}), "csv_formula_start": list(FORMULA_START)}}
    payload = orjson.dumps(data, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS, default=str).decode()
    # inside <script>, "</" could close the element and "<!--" open a comment: escape both the JSON way
    payload = payload.replace("</", "<\\/").replace("<!--", "<\\u0021--")
    parts = {"title": html.escape(title), "csp": LIVE_CSP if live else CSP, "style": assets.text("report.css"),
             "script": assets.text("report.js"),
             "data": payload}
    return assets.fill(assets.text("page.html"), parts)


def write_report(path: str | Path, page: str) -> Path:
    """Write the page; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, "utf-8")
    return out


__all__ = ["DEFAULT_MAX_STATES", "Lattice", "build_report", "collect", "columnar", "plan", "render_page", "state_key",
           "write_report"]
