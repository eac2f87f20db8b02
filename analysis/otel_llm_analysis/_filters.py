"""The one place where analyses turn parameters into SQL: dimensions, filters, row fetching.

Why one helper: every analysis is "group spans by X, restricted to a time window
and a few equalities". Writing that eight times is how two commands end up
disagreeing about what an LLM call or a project is. The SQL fragments here are the
definitions the README documents; the per-analysis ``queries/*.sql`` only add their
aggregates.

Safety: dimension expressions come from a whitelist, and a ``run_config.<key>``
key must match ``[A-Za-z0-9_.-]+``; every user value (times, names) is a bound
parameter, never formatted into SQL.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from otel_llm import semconv
from otel_llm_analysis._rows import COUNT
from otel_llm_analysis._spellings import FIRST_TOKEN_SCOPE, REQUEST_STREAM, TOTAL_TOKENS

#: A span that some producer marked as a model call (``otel_kind`` is mapped from
#: every producer's kind at ingest). Call figures read the ``llm_calls`` view
#: instead, where a call two producers traced (one span inside the other) is
#: one row; this predicate is for span-level questions (which spans are not calls).
IS_LLM_SPAN = f"(otel_kind = '{semconv.KIND_LLM_CALL}')"
#: One row per model call (``views.sql``): what calls, tokens and cost count.
LLM_CALLS = "llm_calls"
#: A chat turn is one span of kind ``chat`` (one user message and its answer).
IS_TURN = f"(otel_kind = '{semconv.KIND_CHAT}')"
#: OTLP status code 2 is ERROR.
IS_ERROR = "(status_code = 2)"
#: The total token count of a call whose usage is only a total (no input or output count,
#: ``_spellings.TOTAL_TOKENS``), else NULL. No column keeps it (a total can be neither split
#: nor priced), so it is read from the call's attributes, and only for the calls without a split.
#: The first spelling present is read as the split counts are (``_rows.COUNT``: a non-negative
#: integer up to 2**53): "-12.5" or "abc" is no total, never a rounded -13.
TOTAL_ONLY_TOKENS = ("(CASE WHEN input_tokens IS NULL AND output_tokens IS NULL THEN "
                     + COUNT.format("coalesce(" + ", ".join(f"attr_values[list_position(attr_keys, '{name}')]"
                                                            for name in TOTAL_TOKENS) + ")") + " END)")
#: A call with cache tokens (a count above 0): with no input count beside them, tokens no price covers.
CACHE_COUNTED = "coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0) > 0"
#: A call that carries tokens but no cost: its model has no price, its usage is only a total, or its counts
#: were refused a price (``_unpriced.REASONS``; cache tokens alone among them: they exceed an input of none).
IS_UNPRICED = (f"(cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR {CACHE_COUNTED} "
               f"OR {TOTAL_ONLY_TOKENS} IS NOT NULL))")
#: :data:`IS_UNPRICED` on a store known to hold no call whose usage is only a total (``_total_only``).
IS_UNPRICED_WITH_SPLIT = f"(cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR {CACHE_COUNTED}))"

#: A call whose tokens are its producer's estimate, not the API's usage. OpenLIT's OpenAI
#: instrumentation (its scope below) writes ``ceil(len(text) / 2)`` tokens as ``gen_ai.usage.*`` when
#: a stream reports no usage (no ``stream_options.include_usage``), and writes the cache counts
#: (``gen_ai.usage.cache_read.input_tokens``, 0 included) only when the API reported usage: a streamed
#: call of that scope without them carries the estimate. Not told (counted as real usage, as OpenLIT
#: writes it): the estimates of OpenLIT's other instrumentations (Anthropic, Bedrock, Ollama...) when
#: their API reports no usage. (A non-streamed OpenAI answer without usage is no estimate: OpenLIT
#: 1.45 fails its own span there, ``tests/analysis/test_peer_edges.py`` pins it.)
ESTIMATING_SCOPE = f"{FIRST_TOKEN_SCOPE}instrumentation.openai"
IS_ESTIMATED_USAGE = (f"(scope_name = '{ESTIMATING_SCOPE}' "
                      f"AND attr_values[list_position(attr_keys, '{REQUEST_STREAM}')] = 'true' "
                      f"AND attr_values[list_position(attr_keys, '{semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS}')] IS NULL "
                      "AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL))")


def estimated_usage_sql(con: Any) -> str:
    """:data:`IS_ESTIMATED_USAGE`, or ``FALSE`` on a DuckDB store holding no span of that scope.

    Why: the predicate reads every call's attribute lists, the widest columns of
    the store (a summary over 200k calls took about half as long again); one
    narrow scan of the scope names tells whether any call can match. That answer
    is kept per connection and data version (:func:`per_data_version`), so repeated
    summaries (the dashboard's, an API user's) look once until the data changes.
    Other engines (ClickHouse) get the predicate as it is.
    """
    import duckdb

    if isinstance(con, duckdb.DuckDBPyConnection) and not per_data_version(con, "estimating scope",
                                                                           _holds_estimating_scope):
        return "FALSE"
    return IS_ESTIMATED_USAGE


#: connection -> what :func:`per_data_version` keeps: name -> (data version, answer)
_KEPT: "weakref.WeakKeyDictionary[Any, dict[str, tuple[tuple[int, ...], Any]]]" = weakref.WeakKeyDictionary()
#: (connection id, sql, params) -> (column names, rows, whether a value is a list or dict), and
#: (connection id, "remembered", name) -> answer:
#: what :func:`remembering` keeps in its block, else None
_REMEMBERED: ContextVar[dict[tuple[int, str, str], Any] | None] = ContextVar("otel_llm_remembered", default=None)


def per_data_version(con: Any, name: str, look: Callable[[Any], T]) -> T:
    """``look(con)``, worked out once per data version of ``con``'s store (:func:`_data_version`) and kept
    under ``name``: for the questions about the whole store that every analysis asks (does it hold
    OpenLIT's scope, any instrumentation failure) and whose answer changes only with its data.

    Inside a :func:`remembering` block the data does not change: the answer is kept in the block once
    found, and the version (itself a query) is not asked again."""
    return remembered(con, name, lambda con: _per_version(con, name, look))


def remembered(con: Any, name: str, look: Callable[[Any], T]) -> T:
    """``look(con)``; inside a :func:`remembering` block, worked out once in the block and kept under ``name``:
    for a question about the store's state that only an ingest changes (which a block never spans)."""
    block = _REMEMBERED.get()
    if block is None:
        return look(con)
    key = (id(con), "remembered", name)
    if key not in block:
        block[key] = look(con)
    return block[key]  # type: ignore[no-any-return]


def _per_version(con: Any, name: str, look: Callable[[Any], T]) -> T:
    """:func:`per_data_version` outside a :func:`remembering` block."""
    version = _data_version(con)
    kept = _KEPT.setdefault(con, {})
    known = kept.get(name)
    if version is not None and known is not None and known[0] == version:
        return known[1]
    answer = look(con)
    if version is not None:
        kept[name] = (version, answer)
    return answer


def _holds_estimating_scope(con: Any) -> bool:
    """Whether any stored span is of :data:`ESTIMATING_SCOPE` (True when the store cannot be asked)."""
    import duckdb

    try:
        ((held,),) = con.execute("SELECT EXISTS (SELECT 1 FROM span_rows WHERE scope_name = ?)",
                                 [ESTIMATING_SCOPE]).fetchall()
    except duckdb.Error:
        return True
    return bool(held)


def _data_version(con: Any) -> tuple[int, ...] | None:
    """What changes whenever the store's spans do, read from table metadata: the span rows' count
    (an ingest adds rows, a prune deletes some) and the highest rowid the ingest's scope walk reached
    (``span_scope_state``: each ingest moves it, so a prune then an ingest of as many rows still
    differs). ``None`` when the store has no such tables (nothing is kept then). A ClickHouse store's
    connection says its own (``clickhouse/store.py``: the span table's parts)."""
    import duckdb

    versioned = getattr(con, "data_version", None)
    if versioned is not None:
        return versioned()
    try:
        ((spans, walked),) = con.execute(
            "SELECT (SELECT count(*) FROM span_rows), (SELECT coalesce(max(watermark), -1) FROM span_scope_state)"
        ).fetchall()
    except duckdb.Error:
        return None
    return int(spans), int(walked)


def total_only_sql(total_only: bool) -> dict[str, str]:
    """The ``is_unpriced`` and ``total_only_tokens`` parts of a query: reading each call's total, or, on a
    store known to hold none (``_total_only.may_hold``), the cheap forms that read no attribute list."""
    if total_only:
        return {"is_unpriced": IS_UNPRICED, "total_only_tokens": TOTAL_ONLY_TOKENS}
    return {"is_unpriced": IS_UNPRICED_WITH_SPLIT, "total_only_tokens": "NULL::BIGINT"}

RUN_CONFIG_ATTRIBUTE = semconv.OTEL_LLM_RUN_CONFIG_PREFIX
_RUN_CONFIG_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")

#: ``--by`` names -> SQL expression over the ``spans`` table (``{p}`` is the alias prefix).
DIMENSIONS: Mapping[str, str] = {
    # the model asked for (request model, else response model): failed calls (no
    # response) and answered ones group together; response_model splits snapshots
    "model": "{p}model",
    "response_model": "{p}response_model",
    "project": "{p}project",
    "service": "{p}service_name",
    "provider": "{p}provider",
    "operation": "{p}operation",
    "kind": "{p}otel_kind",
    "node": "{p}graph_node",
    "collection": "{p}db_collection",
    "db_operation": "{p}db_operation",  # a vector store's operation: search, insert, ...
    "user": "{p}user_id",
    "conversation": "{p}conversation_id",
    "hour": "date_trunc('hour', {p}start_time)",
    "day": "CAST({p}start_time AS DATE)",
    "week": "date_trunc('week', {p}start_time)",
}

#: Duration units as Prometheus and Grafana write them. Upper case is read too (``7D``), except ``M``:
#: Grafana's month, Prometheus' minute - refused rather than guessed.
_PERIOD_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_AMOUNT = r"(\d+(?:\.\d+)?)\s*([smhdwSHDW])"
#: ``now``, ``now-<duration>`` or ``<duration>``; a duration is one amount or several (``1h30m``, ``1d 12h``).
_RELATIVE = re.compile(rf"(?:(?i:now)(?:\s*-\s*(?P<after_now>(?:{_AMOUNT}\s*)+))?|(?P<alone>(?:{_AMOUNT}\s*)+))")
#: Words that name a day without saying where it starts (which time zone; its start or 24 hours ago).
_DAY_WORDS = ("today", "yesterday")
#: The accepted forms, as the refusals of a near miss (``1M``, ``yesterday``) list them.
TIME_FORMS = ("an ISO date or time (2026-11-01, 2026-11-01T08:00, 2026-11-01T08:00Z; without an offset it is UTC), "
              "now, or a duration before now: 30s, 15m, 1.5h, 7d, 2w, 1h30m or now-7d "
              "(s seconds, m minutes, h hours, d days, w weeks)")


def dimension_sql(by: str | None, alias: str = "") -> str:
    """SQL expression for a ``--by`` value; ``None`` groups everything into one row.

    ``run_config.<key>`` reads the span attribute ``otel_llm.run_config.<key>``, so
    any key a user passed to ``session(run_config=...)`` can be compared without a
    schema change. It reads the aligned key/value lists rather than the
    ``attributes`` MAP: building the MAP per row made this ~25x slower on 1M spans
    (668 ms against 28 ms in ``benchmarks/ingest_bench.py``).
    """
    if by is None:
        return "NULL::VARCHAR"
    prefix = f"{alias}." if alias else ""
    if by.startswith("run_config."):
        key = by[len("run_config."):]
        if not _RUN_CONFIG_KEY.match(key):
            raise ValueError(f"invalid run_config key {key!r}")
        return f"{prefix}attr_values[list_position({prefix}attr_keys, '{RUN_CONFIG_ATTRIBUTE}{key}')]"
    try:
        return DIMENSIONS[by].format(p=prefix)
    except KeyError:
        known = ", ".join([*DIMENSIONS, "run_config.<key>"])
        raise ValueError(f"unknown dimension {by!r}; choose one of: {known}") from None


def parse_time(value: str | date | datetime | None, *, now: datetime | None = None) -> datetime | None:
    """Accept a datetime, a date, an ISO string (naive is UTC), ``now``, or a duration before now as
    Grafana and Prometheus write it: ``30s``, ``15m``, ``1.5h``, ``7d`` (or ``7D``), ``2w``, ``1h30m``,
    ``now-7d`` (:data:`TIME_FORMS`).

    Refused: ``M`` (a month in Grafana, a minute in Prometheus) and ``today``/``yesterday`` (which zone's
    day, its start or 24 hours back?), each with a message listing the accepted forms; anything else as
    "not a time", naming an ISO date and a duration.
    Returned datetimes are naive UTC, the way the ``spans`` table stores them.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = value.strip()
    match = _RELATIVE.fullmatch(text)
    if match:
        base = now or datetime.now(timezone.utc).replace(tzinfo=None)
        amounts = re.findall(_AMOUNT, match.group("after_now") or match.group("alone") or "")
        try:
            return base - sum((timedelta(**{_PERIOD_UNITS[unit.lower()]: float(amount)}) for amount, unit in amounts),
                              timedelta(0))
        except OverflowError:  # before year 1: no span can be that old
            raise ValueError(f"{value!r} reaches back before the year 1") from None
    if "M" in text and _RELATIVE.fullmatch(text.replace("M", "m")):  # 1M, now-1M, 1M2d
        raise ValueError(f"not a time: {value!r}: M could mean minutes or months; write m for minutes, "
                         f"or days (30d) for a month. Accepted: {TIME_FORMS}") from None
    if text.lower() in _DAY_WORDS:
        raise ValueError(f"not a time: {value!r} does not say where its day starts: write 1d (24 hours back) "
                         f"or the date (2026-11-01, midnight UTC). Accepted: {TIME_FORMS}") from None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        # the line `otel-llm report`/`serve` users read (tests/web pin it): the forms in short
        raise ValueError(f"not a time: {value!r} (use ISO like 2026-11-01 or relative like 7d)") from None
    return parse_time(parsed)


def _shown(start: datetime, end: datetime) -> tuple[str, str]:
    """Two naive UTC times as a message shows them, ``2026-12-01 10:00:00 UTC``: to the second, or to the
    microsecond when two different times would read the same."""
    close = start != end and start.replace(microsecond=0) == end.replace(microsecond=0)
    spec = "microseconds" if close else "seconds"
    return f"{start.isoformat(sep=' ', timespec=spec)} UTC", f"{end.isoformat(sep=' ', timespec=spec)} UTC"


def time_window(column: str, since: datetime | None, until: datetime | None) -> tuple[list[str], dict[str, Any]]:
    """The half-open window ``since <= column < until`` as SQL clauses and named parameters.

    One definition for every table: spans filter on ``start_time``, logs and
    metric points on ``time``.
    """
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if since is not None:
        clauses.append(f"{column} >= $since")
        params["since"] = since
    if until is not None:
        clauses.append(f"{column} < $until")
        params["until"] = until
    return clauses, params


@dataclass(frozen=True)
class Filters:
    """Restrictions every analysis accepts: a half-open time window and equalities.

    ``since`` is inclusive, ``until`` exclusive, both on span start time.
    ``model`` matches the requested model (``gpt-4o``, the ``model`` column) or
    the response model (``gpt-4o-2024-08-06``), so a budget for ``gpt-4o``
    covers its dated snapshots.
    """

    since: datetime | None = None
    until: datetime | None = None
    project: str | None = None
    model: str | None = None
    service: str | None = None
    #: call figures only: analyses of calls (compare) skip counting the other spans
    calls_only: bool = False

    def __post_init__(self) -> None:
        """An aware ``since`` / ``until`` becomes the naive UTC the store keeps: bound as it is,
        DuckDB would compare it with the columns read in the machine's time zone."""
        for name in ("since", "until"):
            value = getattr(self, name)
            if isinstance(value, datetime) and value.tzinfo is not None:
                object.__setattr__(self, name, parse_time(value))

    @classmethod
    def of(cls, since: Any = None, until: Any = None, **equalities: str | None) -> "Filters":
        """Build filters from loose values (strings from the CLI, the API or the web page, dates from Python).

        Relative times are read against one clock reading. A window that ends at or before its start
        is a ``ValueError`` naming both times in UTC: it selects nothing whatever the store holds, and
        every analysis would answer 0 calls, $0, as if nothing had run (``since=1d, until=2d`` is the
        order people swap)."""
        now = datetime.now(timezone.utc).replace(tzinfo=None)  # one reading: since=1h, until=60m is empty
        start, end = parse_time(since, now=now), parse_time(until, now=now)
        if start is not None and end is not None and end <= start:
            shown = _shown(start, end)
            raise ValueError(f"since {since} ({shown[0]}) must be before until {until} ({shown[1]}): "
                             "no call can start at or after since and before until")
        return cls(since=start, until=end, **equalities)

    def where(self, alias: str = "") -> tuple[str, dict[str, Any]]:
        """SQL boolean over ``spans`` (optionally aliased) plus its named parameters."""
        prefix = f"{alias}." if alias else ""
        window, params = time_window(f"{prefix}start_time", self.since, self.until)
        clauses = ["TRUE", *window]
        if self.calls_only:
            clauses.append(f"{prefix}otel_kind = '{semconv.KIND_LLM_CALL}'")
        for name, column in (("project", "project"), ("service", "service_name")):
            value = getattr(self, name)
            if value is not None:
                clauses.append(f"{prefix}{column} = ${name}")
                params[name] = value
        if self.model is not None:  # the model asked for, or the dated one that answered
            clauses.append(f"($model = {prefix}model OR $model = {prefix}response_model)")
            params["model"] = self.model
        return " AND ".join(clauses), params


@lru_cache(maxsize=None)
def load_query(name: str) -> str:
    """Text of ``queries/<name>.sql`` shipped with the package."""
    return resources.files("otel_llm_analysis").joinpath("queries", f"{name}.sql").read_text("utf-8")


def connection(store: Any) -> Any:
    """The DuckDB connection behind a ``TraceStore`` (or a bare connection in tests)."""
    for attribute in ("connection", "con", "conn", "_con", "_conn"):
        con = getattr(store, attribute, None)
        if con is not None:
            return con() if callable(con) and not hasattr(con, "execute") else con
    if hasattr(store, "execute"):
        return store
    raise TypeError(f"{type(store).__name__} has no DuckDB connection")


#: the most rows of one answer :func:`remembering` keeps: a larger one costs its data, not its binding, to ask
#: again, and kept it would hold memory for the block's whole duration
REMEMBERED_ROWS_MAX = 10_000


@contextmanager
def remembering(kept: dict[tuple[int, str, str], Any]) -> Iterator[None]:
    """Within the block, :func:`fetch_dicts` answers a statement already asked with the same parameters on the
    same connection from ``kept`` (and keeps each new answer there), as :func:`remembered` its questions.

    Why: a report build asks the same statements again and again (a view's query for every filter
    combination it does not depend on, a window's bounds for every view); on a small store nearly all of a
    statement's cost is DuckDB binding and optimizing the deep views (``llm_calls``), not reading data. Only
    for a block over data that does not change: the caller owns ``kept`` and drops it with that data (a
    report build, one data version of the dashboard: ``web.shared.Shared``).
    """
    token = _REMEMBERED.set(kept)
    try:
        yield
    finally:
        _REMEMBERED.reset(token)


def fetch_dicts(store: Any, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Run ``sql`` and return rows as dicts keyed by column name (fresh dicts: callers may change them),
    answered from what :func:`remembering` keeps when the same statement was asked before in its block."""
    con = connection(store)
    kept = _REMEMBERED.get()
    key = _kept_key(store, sql, params)
    if kept is None or key not in kept:
        cursor = con.execute(sql, params or {})
        names, rows = [d[0] for d in cursor.description], cursor.fetchall()
        if not _keep(kept, key, names, rows):
            return [dict(zip(names, row)) for row in rows]
    names, rows, mutable = kept[key]
    return [dict(zip(names, row)) for row in (copy.deepcopy(rows) if mutable else rows)]


def keeping() -> bool:
    """Whether this runs inside a :func:`remembering` block."""
    return _REMEMBERED.get() is not None


def is_remembered(store: Any, sql: str, params: Mapping[str, Any] | Sequence[Any] | None) -> bool:
    """Whether :func:`fetch_dicts` would answer ``sql`` with ``params`` from what :func:`remembering` keeps (False
    outside such a block)."""
    kept = _REMEMBERED.get()
    return kept is not None and _kept_key(store, sql, params) in kept


def remember(store: Any, sql: str, params: Mapping[str, Any] | Sequence[Any] | None,
             rows: Sequence[Mapping[str, Any]]) -> None:
    """Inside a :func:`remembering` block, keep ``rows`` as the answer of ``sql`` with ``params`` (what it answers:
    the caller read them otherwise, e.g. with other statements' in one), for :func:`fetch_dicts` to hand out."""
    names = list(rows[0]) if rows else []
    _keep(_REMEMBERED.get(), _kept_key(store, sql, params), names,
          [tuple(row[name] for name in names) for row in rows])


def _kept_key(store: Any, sql: str, params: Mapping[str, Any] | Sequence[Any] | None) -> tuple[int, str, str]:
    """What :func:`remembering` keeps an answer under: the connection, the statement and its parameters."""
    return id(connection(store)), sql, repr(params)


def _keep(kept: dict[tuple[int, str, str], Any] | None, key: tuple[int, str, str], names: list[str],
          rows: Sequence[tuple[Any, ...]]) -> bool:
    """Keep ``rows`` under ``key`` in ``kept`` unless there is no block or they are too many; whether kept.
    Lists and structs (DuckDB LIST, STRUCT, MAP) are marked to be copied for each caller; other values cannot
    change."""
    if kept is None or len(rows) > REMEMBERED_ROWS_MAX:
        return False
    kept[key] = names, rows, any(isinstance(value, (list, dict)) for row in rows for value in row)
    return True


T = TypeVar("T")


def as_rows(cls: type[T], dicts: Iterable[Mapping[str, Any]]) -> list[T]:
    """Dicts -> dataclass rows, ignoring columns the dataclass does not declare."""
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return [cls(**{k: v for k, v in d.items() if k in fields}) for d in dicts]


def ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """``numerator / denominator``, or ``None`` when there is nothing to divide by."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator
