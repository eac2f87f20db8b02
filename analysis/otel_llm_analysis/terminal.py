"""Analysis results on a terminal: formatted values, tables that fit, span trees.

Why a module of its own: the CLI commands, the demo's closing report and any
script print the same rows, so the choices made here - money as ``$``, rates as
``%``, short headers, the colours of a status - are made once. File formats
(JSON, CSV, Parquet) live in :mod:`otel_llm_analysis.export`.

A table never loses a column in silence: headers are short and wrap, long text
folds, and only when the narrowest layout is still wider than the terminal are
trailing columns hidden, with a line that names them and says how to see them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from otel_llm_analysis.export import flat_records

__all__ = ["STATUS_STYLE", "Table", "flow", "say", "format_value", "header", "kv_table", "span_tree", "table", "visible"]

#: Colours of a gate's status (budgets and checks), readable without colour too.
STATUS_STYLE: Mapping[str, str] = {
    "ok": "green", "warning": "yellow", "critical": "bold red", "breached": "bold red", "no data": "dim",
}

#: Short headers: a table of twelve columns must fit 80 columns of terminal.
HEADERS: Mapping[str, str] = {
    "llm_calls": "calls",
    "input_tokens": "input tok",
    "output_tokens": "output tok",
    "cache_read_tokens": "cached tok",
    "cache_write_tokens": "cache write tok",
    "reasoning_tokens": "reasoning tok",
    "total_tokens": "tokens",
    "tokens_per_call": "tok/call",
    "tokens_per_turn": "tok/turn",
    "cost_usd": "cost",
    "cost_share": "share",
    "estimated_cost_usd": "estimated cost",
    "cost_change_pct": "cost Δ",
    "cost_per_call": "$/priced call",
    "cost_per_success": "$/priced success",
    "cost_per_turn": "$/turn",
    "cost_per_trace": "$/trace",
    "error_rate": "error rate",
    "failed_calls": "failed",
    "priced_calls": "priced calls",
    "success_rate": "success",
    "monthly_usd": "budget",
    "percent_used": "used",
    "projected_month_end": "month-end",
    "runs_out_on": "runs out",
    "burn_rate_per_day": "$/day",
    "severity_text": "severity",
    "example_trace_id": "trace",
    "root_name": "root",
    "start_time": "start",
    "duration_ms": "duration ms",
    "pass_rate": "pass rate",
    "not_run": "not run",
    "turn_success_rate": "turn success",
    "first_time_right_rate": "first-time right",
    "mean_attempts": "attempts",
    "mean_turn_ms": "turn ms",
    "p95_turn_ms": "turn p95 ms",
    "calls_per_turn": "calls/turn",
    "time_share": "turn time",
    "retry_time_share": "retry time",
    "retry_cost_usd": "retry cost",
    "llm_calls_per_invocation": "calls/inv",
    "tool_calls_per_invocation": "tools/inv",
    "tokens_per_invocation": "tok/inv",
    "cost_per_invocation": "$/inv",
    "gave_up": "gave up",
}

#: Text longer than this folds onto more lines instead of widening its column.
FOLD_AT = 40


#: Characters a terminal obeys rather than shows: C0/C1 controls (escape sequences, newlines,
#: tabs, bells), the Unicode line and paragraph separators, and the bidi embeddings, overrides
#: and isolates that reorder what follows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with the characters a terminal would obey shown as escapes (``\\x1b``, ``\\n``):
    names and messages come from the traced app and its producers, and must neither recolour
    or clear the screen nor fake a row."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def header(name: str, rename: Mapping[str, str] | None = None) -> str:
    """The column header of a field: ``rename`` first, then :data:`HEADERS`, else the name spaced."""
    if rename and name in rename:
        return rename[name]
    return HEADERS.get(name, name.replace("_", " "))


#: Figures that are a part of another, estimated: 0 means nothing was estimated, shown "-" like
#: no figure (``$0 estimated`` would read as estimated to be free). json and csv keep the 0.
ESTIMATED_PARTS = frozenset({"estimated_cost_usd"})


def format_value(name: str, value: Any) -> str:
    """Human formatting chosen by the column name (``cost``/``usd``, ``rate``/``share``, ``_ms``)."""
    if value is None or (name in ESTIMATED_PARTS and not value):
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
            return f"{value:+.1f}%" if "change" in name else f"{value:.1f}%"
        if "cost" in name or "usd" in name or name in {"spent", "remaining", "projected_month_end", "burn_rate_per_day"}:
            return _money(value)
        if name.endswith("_ms"):
            return f"{value:,.1f}"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return visible(str(value))


def _column(name: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The cells of column ``name``. A time column holding a time of day (hours) shows midnight's too: alone,
    ``2026-12-03`` among ``2026-12-02 23:00:00`` reads as a day's row, not the 00:00 hour's."""
    cells = [_cell(name, r) for r in records]
    times = [r.get(name) for r in records if isinstance(r.get(name), datetime)]
    if any(t.time() != datetime.min.time() for t in times):
        cells = [f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value := r.get(name), datetime) else cell
                 for r, cell in zip(records, cells)]
    return cells


def _cell(name: str, record: Mapping[str, Any]) -> str:
    """One table cell: a cost the row's calls lack for want of a price reads "unpriced", not "-" (nothing).

    A percentage change of a cost (``cost_change_pct``) is None when there is no earlier
    figure to compare with, which is "-", whatever the row's calls.
    """
    value = record.get(name)
    calls = record.get("llm_calls") or record.get("calls") or 0
    if value is None and ("cost" in name or "usd" in name) and not name.endswith("_pct") and calls > 0:
        return "unpriced"
    return format_value(name, value)


def _money(value: float) -> str:
    """Dollars to print. Rounded to 12 significant digits first: a sum's last bits depend
    on the order its terms were added (DuckDB and ClickHouse add them in different orders),
    and must not flip a printed digit at a rounding boundary."""
    value = float(f"{value:.12g}")
    if value == 0:
        return "$0"
    if abs(value) < 0.01:  # per-call costs are fractions of a cent
        return f"${value:.6f}"
    return f"${value:,.4f}" if abs(value) < 100 else f"${value:,.2f}"


class Table:
    """A fitted Rich table and the headers of the columns that did not fit (named when printed)."""

    def __init__(self, renderable: Any, hidden: Sequence[str]) -> None:
        self.renderable = renderable
        self.hidden = list(hidden)

    def print(self, console: Any) -> None:
        """Print the table, then the hidden-columns note if any (wrapped between its words only)."""
        from rich.markup import escape

        console.print(self.renderable)
        if self.hidden:
            count = len(self.hidden)
            names = [f"{name}," for name in self.hidden[:-1]] + [f"{self.hidden[-1]}"]
            phrases = [f"{count} column{'s' if count > 1 else ''} hidden:", *names,
                       "— widen the terminal", "or use --format json"]
            for line in flow(phrases, console.width, " "):
                console.print(f"[dim]{escape(line)}[/dim]", highlight=False, soft_wrap=True)


def table(
    rows: Sequence[Any],
    title: str | None = None,
    columns: Sequence[str] | None = None,
    *,
    width: int | None = None,
    rename: Mapping[str, str] | None = None,
    style: Callable[[str, Any], str | None] | None = None,
) -> Table:
    """A table of ``rows`` (dataclasses or mappings) fitted to ``width`` terminal columns.

    ``columns`` picks and orders the fields (most important first: when even the
    narrowest layout is too wide, the last ones are hidden and named in
    :attr:`Table.hidden`). ``style(column, value)`` may colour a cell (the status
    of a budget); ``rename`` changes headers (``key`` -> ``model``).
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    records = flat_records(rows)
    names = list(columns) if columns else (list(records[0]) if records else [])
    cells = {name: _column(name, records) for name in names}

    def build(chosen: Sequence[str]) -> Any:
        result = RichTable(title=title, header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                           collapse_padding=True, title_justify="left", title_style="bold")
        for name in chosen:
            numeric = any(isinstance(r.get(name), (int, float)) and not isinstance(r.get(name), bool)
                          for r in records)
            # A fixed width: cells are never cut (long text folds at FOLD_AT), headers wrap at spaces.
            title_words = max((len(word) for word in header(name, rename).split()), default=0)
            longest = min(max(map(len, cells[name]), default=0), FOLD_AT)
            result.add_column(header(name, rename), justify="right" if numeric else "left", overflow="fold",
                              width=max(longest, title_words, 1))
        for index, record in enumerate(records):
            row = []
            for name in chosen:  # a Text, not markup: a name from the app prints whole, whatever its brackets
                cell_style = style(name, record.get(name)) if style else None
                row.append(Text(cells[name][index], style=cell_style or ""))
            result.add_row(*row)
        return result

    shown = list(names)
    if width:
        # A measurement is capped at the console's width. Both sizes given: Rich answers 80 columns for a
        # console with a width and no height on a dumb terminal (TERM=dumb), and nothing would be hidden.
        measure = Console(width=100_000, height=25)
        while len(shown) > 1 and _min_width(measure, build(shown)) > width:
            shown.pop()
    return Table(build(shown), [header(n, rename) for n in names[len(shown):]])


def _min_width(console: Any, renderable: Any) -> int:
    from rich.measure import Measurement

    return Measurement.get(console, console.options, renderable).minimum


def kv_table(record: Mapping[str, Any], title: str | None = None) -> Any:
    """One record as a two-column "figure / value" table (the totals of ``summary``)."""
    from rich import box
    from rich.table import Table as RichTable

    result = RichTable(title=title, show_header=False, box=box.SIMPLE, pad_edge=False, title_justify="left")
    result.add_column("figure")
    result.add_column("value", justify="right")
    for name, value in record.items():
        result.add_row(header(name), format_value(name, value))
    return result


def span_tree(row: Any) -> Any:
    """A Rich tree of one ranked trace's spans: duration, model, tokens, cost; failures marked.

    A failed span (OTLP status 2) is red *and* carries ``✗ error`` with its status
    message, so the mark survives a terminal without colour and a copy-paste.
    """
    from rich.markup import escape
    from rich.tree import Tree

    root = Tree(f"[bold]{row.trace_id}[/bold] {escape(visible(row.root_name or ''))} "
                f"({format_value('cost_usd', row.cost_usd)})")
    stack: list[Any] = [root]
    for node in row.tree:
        del stack[node.depth:]
        parts = [escape(visible(node.name)), f"{format_value('duration_ms', node.duration_ms)} ms"]
        if node.model:
            parts.append(escape(visible(node.model)))
        if node.input_tokens or node.output_tokens:
            parts.append(f"{(node.input_tokens or 0) + (node.output_tokens or 0):,} tok")
        if node.cost_usd is not None:
            parts.append(format_value("cost_usd", node.cost_usd))
        label = " · ".join(parts)
        if node.status_code == 2:
            message = (getattr(node, "status_message", None) or "").strip().split("\n")[0]
            if len(message) > 60:
                message = message[:59] + "…"
            label = f"[red]✗ error[/red] {label}" + (f" [red]({escape(visible(message))})[/red]" if message else "")
        stack.append(stack[-1].add(label))
    return root


def flow(phrases: Iterable[str], width: int, separator: str = " · ") -> list[str]:
    """Pack ``phrases`` (Rich markup allowed) onto lines of at most ``width`` cells, never splitting a phrase."""
    from rich.text import Text

    lines: list[str] = []
    used = 0
    for phrase in phrases:
        size = Text.from_markup(phrase).cell_len
        if lines and used + len(separator) + size <= width:
            lines[-1] += separator + phrase
            used += len(separator) + size
        else:
            lines.append(phrase)
            used = size
    return lines


def say(console: Any, phrases: Iterable[str], separator: str = " · ") -> None:
    """Print ``phrases`` packed onto whole lines of the console's width (see :func:`flow`)."""
    for line in flow(phrases, console.width, separator):
        console.print(line, highlight=False, soft_wrap=True)
