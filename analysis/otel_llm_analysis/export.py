"""Any analysis result as a Rich table, JSON, CSV or Parquet; the spans table as partitioned Parquet.

Results are lists of dataclass rows (or dicts). JSON keeps nesting (a trace's
span tree); CSV and Parquet are flat, so nested lists are dropped from them.
Parquet goes through DuckDB's ``COPY ... TO`` so types (timestamps, doubles,
big integers) survive as Parquet types rather than strings.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

Format = Literal["json", "csv", "parquet"]


def to_records(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Rows (dataclasses or mappings) as plain dicts, nested dataclasses included."""
    records = []
    for row in rows:
        if dataclasses.is_dataclass(row) and not isinstance(row, type):
            records.append(dataclasses.asdict(row))
        elif isinstance(row, Mapping):
            records.append(dict(row))
        else:
            raise TypeError(f"cannot export {type(row).__name__}")
    return records


def flat_records(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Records without list/dict values: what a CSV line or a Parquet row can hold."""
    return [{k: v for k, v in r.items() if not isinstance(v, (list, tuple, dict))} for r in to_records(rows)]


def to_json(rows: Iterable[Any]) -> bytes:
    """Indented JSON array; naive timestamps are marked UTC (that is what they are)."""
    import orjson

    return orjson.dumps(
        to_records(rows),
        option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS,
        default=str,
    ) + b"\n"


def to_csv(rows: Iterable[Any]) -> str:
    """CSV with a header; ``None`` is an empty cell, times are ISO 8601."""
    records = flat_records(rows)
    out = io.StringIO()
    if not records:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return "" if value is None else value


def to_arrow(rows: Iterable[Any]) -> Any:
    """Rows as a ``pyarrow.Table`` (flat columns), for pandas/Polars or further DuckDB SQL."""
    import pyarrow as pa

    return pa.Table.from_pylist(flat_records(rows))


def write_parquet(rows: Iterable[Any], out: str | Path) -> Path:
    """Rows to one Parquet file via an Arrow table and DuckDB ``COPY``."""
    import duckdb

    table = to_arrow(rows)
    if table.num_rows == 0:
        raise ValueError("nothing to export: the result has no rows")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.register("result_rows", table)
        con.execute(f"COPY (SELECT * FROM result_rows) TO {_literal(path)} (FORMAT parquet)")
    return path


def export_rows(rows: Sequence[Any], fmt: Format, out: str | Path) -> Path:
    """Write ``rows`` to ``out`` as ``json``, ``csv`` or ``parquet``."""
    path = Path(out)
    if fmt == "parquet":
        return write_parquet(rows, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_bytes(to_json(rows))
    elif fmt == "csv":
        path.write_text(to_csv(rows), "utf-8")
    else:
        raise ValueError(f"format must be json, csv or parquet, not {fmt!r}")
    return path


def export_spans(store: Any, out_dir: str | Path) -> Path:
    """The whole ``spans`` table as Parquet under ``out_dir/day=YYYY-MM-DD/``.

    Hive partitioning by day lets DuckDB, Spark or pandas read one day without
    touching the rest (``read_parquet('dir/**/*.parquet', hive_partitioning=true)``).
    """
    from otel_llm_analysis._filters import connection

    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    connection(store).execute(
        f"COPY (SELECT *, CAST(start_time AS DATE) AS day FROM spans) TO {_literal(path)} "
        "(FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE)"
    )
    return path


def _literal(path: Path) -> str:
    """A path as a SQL string literal (COPY targets cannot be bound parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


# --- Rich -------------------------------------------------------------------


def rich_table(
    rows: Sequence[Any],
    title: str | None = None,
    columns: Sequence[str] | None = None,
    style: Callable[[str, Any], str | None] | None = None,
    *,
    width: int | None = None,
    rename: Mapping[str, str] | None = None,
) -> Any:
    """A Rich table of ``rows``: money as $, rates as %, durations in ms, big numbers grouped.

    ``columns`` picks the columns in priority order; with ``width`` (the
    terminal's), trailing columns are dropped until the table fits, rather than
    squeezing every cell into an unreadable fold. ``style(column, value)`` may
    return a Rich style for a cell (the budget status colours); ``rename`` changes
    headers (``key`` -> ``model``).
    """
    from rich.table import Table

    records = flat_records(rows)
    names = list(columns) if columns else (list(records[0]) if records else [])
    cells = {name: [format_value(name, r.get(name)) for r in records] for name in names}
    headers = {name: (rename or {}).get(name, name) for name in names}
    if width:
        def needed(chosen: list[str]) -> int:
            # long text (a log pattern) wraps inside its cell, so it claims at most 40
            return sum(min(40, max([len(headers[n]), *map(len, cells[n])])) + 3 for n in chosen) + 1

        while len(names) > 1 and needed(names) > width:
            names.pop()
    table = Table(title=title, header_style="bold", expand=False)
    for name in names:
        numeric = any(isinstance(r.get(name), (int, float)) and not isinstance(r.get(name), bool) for r in records)
        table.add_column(headers[name], justify="right" if numeric else "left", overflow="fold")
    for index, record in enumerate(records):
        row = []
        for name in names:
            text = cells[name][index]
            cell_style = style(name, record.get(name)) if style else None
            row.append(f"[{cell_style}]{text}[/]" if cell_style else text)
        table.add_row(*row)
    return table


def format_value(name: str, value: Any) -> str:
    """Human formatting chosen by the column name (``cost``/``usd``, ``rate``/``share``, ``_ms``)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != datetime.min.time() else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if "rate" in name or "share" in name:
            return f"{value * 100:.1f}%"
        if "pct" in name or "percent" in name:
            return f"{value:.1f}%"
        if "cost" in name or "usd" in name or name in {"spent", "remaining", "projected_month_end"}:
            if value == 0:
                return "$0"
            if abs(value) < 0.01:  # per-call costs are fractions of a cent
                return f"${value:.6f}"
            return f"${value:,.4f}" if abs(value) < 100 else f"${value:,.2f}"
        if name.endswith("_ms"):
            return f"{value:,.1f}"
        return f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
