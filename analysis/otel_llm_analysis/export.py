"""Any analysis result as JSON, CSV or Parquet; the spans table as partitioned Parquet.

Results are lists of dataclass rows (or dicts). JSON keeps nesting (a trace's
span tree); CSV and Parquet are flat, so nested lists are dropped from them.
Parquet goes through DuckDB's ``COPY ... TO`` so types (timestamps, doubles,
big integers) survive as Parquet types rather than strings. Terminal tables are
:mod:`otel_llm_analysis.terminal`'s.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Sequence

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
    """Records without list/dict values: what a CSV line or a Parquet row can hold.

    An analysis row's nested fields (a trace's span tree) are left out: JSON has them. A mapping's
    (``otel-llm sql``'s columns: a span's attributes, its finish reasons) are the columns asked
    for, so they stay, as JSON text - the same column in every row, whatever a row holds.
    """
    records = []
    for row in rows:
        record = to_records([row])[0]
        if isinstance(row, Mapping):
            records.append({k: _json_text(v) if isinstance(v, (list, tuple, dict)) else v for k, v in record.items()})
        else:
            records.append({k: v for k, v in record.items() if not isinstance(v, (list, tuple, dict))})
    return records


def _json_text(value: Any) -> str:
    """A list or mapping as one line of JSON (naive timestamps marked UTC, as :func:`to_json` does)."""
    import orjson

    return orjson.dumps(value, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS, default=str).decode()


def to_json(rows: Iterable[Any] | Mapping[str, Any]) -> bytes:
    """Indented JSON array of the rows (a mapping: that object as it is); naive timestamps are
    marked UTC (that is what they are)."""
    import orjson

    return orjson.dumps(
        dict(rows) if isinstance(rows, Mapping) else to_records(rows),
        option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS,
        default=str,
    ) + b"\n"


def to_csv(rows: Iterable[Any]) -> str:
    """CSV with a header; ``None`` is an empty cell, times are ISO 8601 with their UTC offset
    (``2026-12-02T14:34:44.312396+00:00``, as :func:`to_json` writes them: without it a spreadsheet
    or pandas reads them as local time), text a spreadsheet would run as a formula starts with a
    quote (:data:`FORMULA_START`)."""
    records = flat_records(rows)
    out = io.StringIO()
    if not records:
        return ""
    # CRLF (RFC 4180): Python's writer quotes a value holding a CR only when CR ends its lines,
    # and an unquoted CR splits the row in a spreadsheet.
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return out.getvalue()


#: First characters that make a spreadsheet read a cell as a formula ("CSV injection"):
#: a span, project or user name from the app must open as the text it is.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):  # naive times are the store's UTC: said, as JSON says it
        return (value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # the mark spreadsheets read as "text", and hide
    return "" if value is None else value


#: A naive (UTC) store time as :func:`to_csv` and :func:`to_json` write it: ISO 8601 with its offset,
#: the fraction only when there is one (``datetime.isoformat``).
_ISO_UTC = ("CASE WHEN microsecond({0}) % 1000000 = 0 THEN strftime({0}, '%Y-%m-%dT%H:%M:%S+00:00') "
            "ELSE strftime({0}, '%Y-%m-%dT%H:%M:%S.%f+00:00') END")


def _select_list(con: Any, relation: str, fmt: str) -> str:
    """The select list writing ``relation`` as ``fmt`` (DuckDB's ``COPY``). In the text formats (CSV,
    JSON) its times carry their UTC offset as every other export writes them (without it a spreadsheet
    or pandas reads a store's UTC time as local time); in CSV, text columns are also marked as
    :func:`_cell` marks them, and maps, lists and structs are JSON text: DuckDB would write them as it
    prints them (``{k=v, k2=v2}``), which no reader can split once a value holds ", " or "=".
    Parquet keeps every column as it is (typed times)."""
    if fmt == "parquet":
        return "*"
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_START)
    columns = []
    for name, sql_type, *_ in con.execute(f"DESCRIBE {relation}").fetchall():
        ident = '"' + name.replace('"', '""') + '"'
        if sql_type == "TIMESTAMP":
            ident = f"{_ISO_UTC.format(ident)} AS {ident}"
        elif fmt != "csv":
            pass
        elif sql_type == "VARCHAR":
            ident = f"CASE WHEN left({ident}, 1) IN ({starts}) THEN chr(39) || {ident} ELSE {ident} END AS {ident}"
        elif sql_type.endswith("]") or sql_type.startswith(("MAP(", "STRUCT(")):
            ident = f"CAST(to_json({ident}) AS VARCHAR) AS {ident}"
        columns.append(ident)
    return ", ".join(columns)


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


def export_rows(rows: Sequence[Any] | Mapping[str, Any], fmt: Format, out: str | Path) -> Path:
    """Write ``rows`` to ``out`` as ``json``, ``csv`` or ``parquet`` (JSON: a mapping is written as one object)."""
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


def export_spans(store: Any, out_dir: str | Path, fmt: Format = "parquet") -> Path:
    """The whole ``spans`` table as ``fmt`` files under ``out_dir/day=YYYY-MM-DD/``.

    Hive partitioning by day lets DuckDB, Spark or pandas read one day without
    touching the rest (``read_parquet('dir/**/*.parquet', hive_partitioning=true)``).
    A store on another engine (ClickHouse) writes the same files its own way
    (its ``export_spans``).
    """
    from otel_llm_analysis._filters import connection

    if fmt not in ("parquet", "csv", "json"):
        raise ValueError(f"format must be json, csv or parquet, not {fmt!r}")
    if hasattr(store, "export_spans"):
        return store.export_spans(out_dir, fmt)
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    con = connection(store)
    columns = _select_list(con, "spans", fmt)
    con.execute(
        f"COPY (SELECT {columns}, CAST(start_time AS DATE) AS day FROM spans) TO {_literal(path)} "
        f"(FORMAT {fmt}, PARTITION_BY (day), OVERWRITE_OR_IGNORE)"
    )
    return path


#: What :func:`export_spans` writes (DuckDB's partitioned ``COPY``): ``day=YYYY-MM-DD/data_N.<format>``, rows
#: of a store's spans table - not OTLP, so ingest refuses them and its directory walk leaves them (``_sources``).
EXPORTED_FILE = re.compile(r"data_\d+\.(?:parquet|csv|json)")
EXPORTED_DAY = re.compile(r"day=\d{4}-\d{2}-\d{2}")


def span_export_in(path: str | Path) -> Path | None:
    """A file of an :func:`export_spans` directory at ``path`` (the directory, one of its days, or
    one of its files), else ``None``. Such rows are the analysis store's, not OTLP: ingest cannot
    read them back, and says so up front instead of once per row."""
    path = Path(path)
    try:
        if path.is_file():
            return path if EXPORTED_DAY.fullmatch(path.parent.name) and EXPORTED_FILE.fullmatch(path.name) else None
        if not path.is_dir():
            return None
        days = [path] if EXPORTED_DAY.fullmatch(path.name) else \
            [d for d in path.glob("day=*") if EXPORTED_DAY.fullmatch(d.name)]
        return next((f for d in days for f in d.glob("data_*") if EXPORTED_FILE.fullmatch(f.name)), None)
    except OSError:  # a name too long, a directory without permission: ingest's own check names it
        return None


def _literal(path: Path) -> str:
    """A path as a SQL string literal (COPY targets cannot be bound parameters)."""
    return "'" + str(path).replace("'", "''") + "'"
