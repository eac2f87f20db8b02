"""``otel-llm export --db clickhouse://…``: the ``spans`` table as DuckDB's export writes it, from ClickHouse.

The DuckDB store exports with ``COPY (SELECT *, CAST(start_time AS DATE) AS day
FROM spans) TO DIR (FORMAT …, PARTITION_BY (day))``. Here the rows come from
ClickHouse as an Arrow stream (clickhouse-connect), laid out as DuckDB's
``spans`` columns, and the same ``COPY`` writes them - DuckDB reading the stream,
not a table - so the files, their partition folders, column names, types and
formatting are those of a DuckDB export of the same data.

The columns are DuckDB's ``spans`` (read from an empty in-memory store: the row
shape of ``_rows`` and ``schema.sql``, not a copy of it). ClickHouse's ``spans``
view gives the contract's columns; the LLM nesting columns come from
``llm_wrappers`` and a peer call's context span from ``llm_call_contexts``
(views_clickhouse.sql), the scope version and trace state from
the exporter's table; what the exporter does not store (trace flags, dropped
counts, the source file) is NULL; ``unreadable_columns`` is the span table's
(NULL when none, as DuckDB's). Attribute text is
the exporter's (``AsString``: arrays as plain JSON), as docs/clickhouse.md says.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from otel_llm_analysis.clickhouse._ddl import TRACES_TABLE

__all__ = ["export_spans"]

#: DuckDB ``spans`` columns not in ClickHouse's ``spans`` view, and where they come from (aliases below).
_FROM_ELSEWHERE = {
    "wrapper_span_id": "if(s.otel_kind = 'llm_call', wrapper.span_id, NULL)",
    "wrapped_calls": "toInt32(wrapping.wrapped_calls)",
    "context_span_id": "context.context_span_id",
    "scope_version": "nullIf(t.ScopeVersion, '')",
    "trace_state": "nullIf(t.TraceState, '')",
    "trace_key": "s.trace_id",  # 32 hex digits: the DuckDB side casts them to its UUID
}
#: Read on the DuckDB side: ClickHouse arrays cannot be NULL, DuckDB's absent list is.
_ABSENT_LIST = ("finish_reasons", "unreadable_columns")
#: Times at DuckDB's precision (µs), the same instant.
_TIMES = ("start_time", "end_time")
#: Settings of the export query: Arrow strings as text, and NULL for a missing join side.
_SETTINGS = ("SETTINGS join_use_nulls = 1, output_format_arrow_string_as_string = 1, "
             "output_format_arrow_low_cardinality_as_dictionary = 0")


def duckdb_columns() -> list[tuple[str, str]]:
    """(name, DuckDB type) of a DuckDB store's ``spans`` view, in order."""
    from importlib import resources

    import duckdb

    from otel_llm_analysis._rows import create_tables

    with duckdb.connect() as con:
        create_tables(con)
        con.execute(resources.files("otel_llm_analysis").joinpath("schema.sql").read_text(encoding="utf-8"))
        return [(name, kind) for name, kind, *_ in con.execute("DESCRIBE spans").fetchall()]


def select_sql(database: str, columns: list[tuple[str, str]], available: set[str]) -> str:
    """The ClickHouse query giving ``columns`` (DuckDB's ``spans``) from the ``spans`` view of ``database``."""
    parts = []
    for name, _ in columns:
        if name in _TIMES:
            expression = f"toDateTime64(s.{name}, 6)"
        elif name in available:
            expression = f"s.{name}"
        else:
            expression = _FROM_ELSEWHERE.get(name, "NULL")
        parts.append(f"{expression} AS `{name}`")
    return (f"SELECT {', '.join(parts)}\nFROM `{database}`.spans AS s\n"
            f"LEFT JOIN (SELECT trace_id, span_id, wrapped_calls FROM `{database}`.llm_wrappers) AS wrapping "
            "ON wrapping.trace_id = s.trace_id AND wrapping.span_id = s.span_id\n"
            f"LEFT JOIN `{database}`.llm_wrappers AS wrapper ON wrapper.trace_id = s.trace_id "
            "AND wrapper.span_id = s.parent_span_id\n"
            f"LEFT JOIN (SELECT trace_id, span_id, context_span_id FROM `{database}`.llm_call_contexts) AS context "
            "ON context.trace_id = s.trace_id AND context.span_id = s.span_id\n"
            f"LEFT JOIN (SELECT TraceId, SpanId, ScopeVersion, TraceState FROM `{database}`.`{TRACES_TABLE}`) AS t "
            "ON t.TraceId = s.trace_id AND t.SpanId = s.span_id\n" + _SETTINGS)


def _value(name: str) -> str:
    return f'nullif("{name}", [])' if name in _ABSENT_LIST else f'"{name}"'


def export_spans(client: Any, database: str, out_dir: str | Path, fmt: str) -> Path:
    """Write every span under ``out_dir/day=YYYY-MM-DD/`` as ``fmt`` (parquet, csv, json), as DuckDB's export."""
    import duckdb
    import pyarrow as pa

    from otel_llm_analysis.export import _literal, _select_list

    if fmt not in ("parquet", "csv", "json"):
        raise ValueError(f"format must be json, csv or parquet, not {fmt!r}")
    columns = duckdb_columns()
    available = {name for (name,) in client.query(
        f"SELECT name FROM system.columns WHERE database = '{database}' AND table = 'spans'").result_rows}
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    typed = ", ".join(f'CAST({_value(name)} AS {kind}) AS "{name}"' for name, kind in columns)
    with client.query_arrow_stream(select_sql(database, columns, available)) as stream:
        batches = iter(stream)
        first = next(batches, None)
        if first is None:  # no spans: DuckDB's export writes no file either
            return path
        rows = pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))
        with duckdb.connect() as con:
            con.register("clickhouse_spans", rows)
            con.execute(f"CREATE TEMP VIEW typed_spans AS SELECT {typed} FROM clickhouse_spans")
            selected = _select_list(con, "typed_spans", fmt)
            con.execute(f"COPY (SELECT {selected}, CAST(start_time AS DATE) AS day FROM typed_spans) "
                        f"TO {_literal(path)} (FORMAT {fmt}, PARTITION_BY (day), OVERWRITE_OR_IGNORE)")
    return path
