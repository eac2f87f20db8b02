"""Log search and error patterns over the ``logs`` table.

Severity follows OpenTelemetry's numbers (TRACE 1, DEBUG 5, INFO 9, WARN 13,
ERROR 17, FATAL 21); a filter keeps records *at or above* the level. Records
without a number are ranked by their text. Text search is case-insensitive
substring search over the body; ``pattern`` is a regular expression (RE2 syntax,
as DuckDB and ClickHouse read it) found anywhere in the body, case-sensitive
unless ``ignore_case``.

Patterns mask, in this order: quoted values ('..' or "..") -> ``<str>``, UUIDs ->
``<uuid>``, runs of 8+ digits -> ``<num>``, hex ids (``0x..`` or 8+ hex digits) ->
``<hex>``, other numbers (with decimals, after a space or ``=:,;([{/``, so
``1500ms`` masks but ``gpt-4o`` and ``claude-sonnet-4-5`` do not) -> ``<num>``. Each pattern links to the trace of its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from otel_llm_analysis._filters import Filters, as_rows, fetch_dicts, load_query, time_window

#: The log data model's short names (TRACE 1 .. FATAL 21), the levels you filter by.
SEVERITY_LEVELS = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}
#: Every severity text read as a number when a producer sent only the text: the short
#: names and their TRACE2..FATAL4 steps, and the words of the data model's mapping
#: appendix (Python, .NET, syslog, java.util.logging), upper-cased.
SEVERITY_NUMBERS = {
    **SEVERITY_LEVELS,
    **{f"{name}{step}": number + step - 1 for name, number in SEVERITY_LEVELS.items() for step in (2, 3, 4)},
    "WARNING": 13, "CRITICAL": 21, "CRIT": 21, "EMERG": 21, "EMERGENCY": 21, "ALERT": 21, "PANIC": 19, "DPANIC": 18,
    "ERR": 17, "SEVERE": 17, "NOTICE": 10, "INFORMATION": 9, "INFORMATIONAL": 9, "VERBOSE": 1,
    "FINEST": 1, "FINER": 5, "FINE": 6, "CONFIG": 7,
}

#: Severity number, from the text when the producer left the number out.
SEVERITY_SQL = (
    "coalesce(nullif(severity_number, 0), CASE upper(severity_text) "
    + " ".join(f"WHEN '{name}' THEN {number}" for name, number in SEVERITY_NUMBERS.items())
    + " ELSE 0 END)"
)

_MASKS = (
    (r"'[^']*'|\"[^\"]*\"", "<str>"),
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<uuid>"),
    (r"\b[0-9]{8,}\b", "<num>"),
    (r"\b0[xX][0-9a-fA-F]+\b|\b[0-9a-fA-F]{8,}\b", "<hex>"),
    (r"(^|[\s=:,;(\[{/])[0-9]+(?:\.[0-9]+)?", "\\1<num>"),
)


def masked_sql(column: str = "body") -> str:
    """Nested ``regexp_replace`` applying the masks to ``column`` (vectorised in DuckDB)."""
    expression = f"coalesce({column}, '')"
    for pattern, placeholder in _MASKS:
        literal = pattern.replace("'", "''")
        expression = f"regexp_replace({expression}, '{literal}', '{placeholder}', 'g')"
    return expression


def severity_number(level: str | int | None) -> int | None:
    """``ERROR`` -> 17; numbers pass through; ``None`` means no filter."""
    if level is None or isinstance(level, int):
        return level
    try:
        return SEVERITY_NUMBERS[level.strip().upper()]
    except KeyError:
        raise ValueError(f"unknown severity {level!r}; use one of {', '.join(SEVERITY_LEVELS)}") from None


#: The narrowing keywords of both searches: the record's ``service.name``, its logger
#: (the instrumentation scope: Python's logger name through the logging bridge) and its trace.
SOURCE_COLUMNS = {"service": "service_name", "logger": "scope_name", "trace_id": "trace_id"}


def regex(pattern: str, ignore_case: bool = False) -> str:
    """``pattern`` checked as an RE2 regular expression (``(?i)`` before it for ``ignore_case``).

    Raises ValueError naming the mistake, before any query runs.
    """
    import duckdb

    expression = f"(?i){pattern}" if ignore_case else pattern
    with duckdb.connect() as con:
        try:
            con.execute("SELECT regexp_matches('', ?)", [expression])
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0].split(": ", 1)[-1]
            raise ValueError(f"not a regular expression: {pattern!r} ({reason})") from None
    return expression


def _where(text: str | None, severity: str | int | None, since: Any, until: Any,
           sources: dict[str, str | None], pattern: str | None = None) -> tuple[str, dict[str, Any]]:
    chosen = Filters.of(since, until)  # parsed, and refused when it ends before it starts, as every analysis's
    window, params = time_window("time", chosen.since, chosen.until)
    clauses = ["TRUE", *window]
    if pattern is not None:
        clauses.append("regexp_matches(coalesce(body, ''), $pattern)")
        params["pattern"] = pattern
    for name, value in sources.items():
        if value is not None:
            clauses.append(f"{SOURCE_COLUMNS[name]} = ${name}")
            params[name] = value
    if text:
        clauses.append("contains(lower(body), lower($text))")
        params["text"] = text
    level = severity_number(severity)
    if level is not None:
        clauses.append(f"{SEVERITY_SQL} >= $level")
        params["level"] = level
    return " AND ".join(clauses), params


@dataclass(slots=True)
class LogRow:
    """One log record."""

    time: datetime
    severity_number: int
    severity_text: str | None
    body: str | None
    trace_id: str | None
    span_id: str | None
    service_name: str | None
    #: the logger that wrote it (its instrumentation scope's name)
    logger: str | None = None


def source_names(store: Any, source: str) -> list[str]:
    """The names a ``service`` or ``logger`` filter (:data:`SOURCE_COLUMNS`) can match: those the store's
    log records hold, sorted, for a name matching none to be refused rather than answered with no record."""
    column = SOURCE_COLUMNS[source]
    return [row["name"] for row in fetch_dicts(
        store, f"SELECT DISTINCT {column} AS name FROM logs WHERE {column} IS NOT NULL ORDER BY name")]


def search_logs(
    store: Any,
    text: str | None = None,
    severity: str | int | None = None,
    since: Any = None,
    until: Any = None,
    limit: int = 100,
    *,
    service: str | None = None,
    logger: str | None = None,
    trace_id: str | None = None,
    pattern: str | None = None,
    ignore_case: bool = False,
) -> list[LogRow]:
    """Newest log records containing ``text`` at or above ``severity`` in [since, until),
    of one ``service``, ``logger`` or trace when given, whose body matches ``pattern`` when given."""
    where, params = _where(text, severity, since, until, {"service": service, "logger": logger, "trace_id": trace_id},
                           None if pattern is None else regex(pattern, ignore_case))
    sql = load_query("log_search").format(where=where, severity=SEVERITY_SQL)
    return as_rows(LogRow, fetch_dicts(store, sql, {**params, "limit": limit}))


@dataclass(slots=True)
class LogPattern:
    """A family of log messages that differ only in masked values."""

    pattern: str
    count: int
    first_seen: datetime
    last_seen: datetime
    max_severity: int
    example: str | None
    example_trace_id: str | None


def log_patterns(
    store: Any,
    severity: str | int | None = "ERROR",
    text: str | None = None,
    since: Any = None,
    until: Any = None,
    limit: int = 50,
    *,
    service: str | None = None,
    logger: str | None = None,
    trace_id: str | None = None,
    pattern: str | None = None,
    ignore_case: bool = False,
) -> list[LogPattern]:
    """Message patterns of records at or above ``severity`` (default ERROR), most frequent first,
    of one ``service``, ``logger`` or trace when given, of the bodies matching ``pattern`` when given."""
    where, params = _where(text, severity, since, until, {"service": service, "logger": logger, "trace_id": trace_id},
                           None if pattern is None else regex(pattern, ignore_case))
    sql = load_query("log_patterns").format(where=where, severity=SEVERITY_SQL, masked=masked_sql())
    return as_rows(LogPattern, fetch_dicts(store, sql, {**params, "limit": limit}))
