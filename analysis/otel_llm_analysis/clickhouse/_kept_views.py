"""The agents, tools, retries and calls views kept as tables, once per version of the stored spans.

ClickHouse expands a view where a query reads it, and plans it anew at every
reference. The scope views (``views_scopes_clickhouse.sql``) are built on each
other: ``turns_in`` reads the span-tree walk twice (itself and through
``retry_loop_scopes_in``), the model calls twice, the windowed spans a dozen
times, and an analysis reads ``turns_in`` or ``agent_invocations_in`` two to four
times (``queries/agents.sql``'s recursive CTE). So a turns query over 40 turns was
planned for 3-10 s, and a report (77 statements) took over two minutes, while
running the plans took well under a second each.

DuckDB works these rows out once, at ingest (``_scope_index``). A ClickHouse
store has no ingest step (the collector's exporter inserts), so they are worked
out once per version of the spans (:meth:`._Connection.data_version`: the span
table's parts, which every insert, merge or TTL drop changes) and window, when
an analysis first reads them: each view of :data:`KEPT` becomes a table
``otel_llm_kept_<digest>`` holding its rows, filled from its definition with the
views of :data:`KEPT` it reads replaced by their own tables, so each level is
planned once over small tables. An analysis statement then reads the tables
(:meth:`KeptViews.rewrite`); the same rows as the views, as the views' own
definitions fill them. A window's table is filled from the window's traces only,
as the view reads them (``window_spans``).

Tables of another version (or of other view definitions: another ``--pricing``)
are dropped when a new one is made; a statement that lost its table to another
process's drop is run again (:func:`is_lost_table`). A user who may not create
tables (``readonly``) reads the views, as before.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any, Callable

from sqlglot import exp

from otel_llm_analysis.clickhouse._views import SINCE, UNTIL, window_parameters

__all__ = ["KEPT", "PREFIX", "KeptViews", "is_lost_table"]

#: The views kept as tables: the span-tree walk, the model calls of the window's traces and the retry loops
#: (which the others read), and the views the analyses read (``<view>_in``, and ``llm_calls_in`` for a read
#: of ``llm_calls``).
KEPT = ("span_scope_walk_in", "window_llm_calls", "retry_loop_scopes_in", "llm_calls_in", "span_scopes_in",
        "tool_calls_in", "retry_attempts_in", "retry_loops_in", "agent_invocations_in", "turns_in")
#: The name of every kept table starts so.
PREFIX = "otel_llm_kept_"
#: The settings of an analysis statement (``store._SETTINGS``), under which the views' rows are read.
_SETTINGS = "SETTINGS prefer_column_name_to_alias = 1, join_use_nulls = 1"
_VIEW = re.compile(r"CREATE OR REPLACE VIEW `(?P<db>[^`]+)`\.(?P<name>\w+) AS\b(?P<body>.*)\Z", re.S)
#: ClickHouse's codes for a user who may not create tables: READONLY, ACCESS_DENIED, NOT_ENOUGH_PRIVILEGES.
_NOT_ALLOWED = re.compile(r"Code: (164|497|506)\.")
_TIME = "Nullable(DateTime64(9, 'UTC'))"


def is_lost_table(message: str) -> bool:
    """True for ClickHouse's answer to a statement whose kept table another process dropped meanwhile."""
    return message.startswith("Code: 60.") and PREFIX in message


class KeptViews:
    """The kept tables of one database, made through ``command`` (a clickhouse-connect client's).

    ``statements``: the ``CREATE OR REPLACE VIEW`` statements the store ran (``_views.view_statements``,
    ``_scope_views.statements``), whose bodies fill the tables; ``ran`` hears every statement run."""

    def __init__(self, client: Any, database: str, statements: list[str], ran: Callable[[str], None]) -> None:
        self._client = client
        self._database = database
        self._ran = ran
        self._bodies: dict[str, str] = {}
        for statement in statements:
            found = _VIEW.search(statement)
            if found and found.group("name") in KEPT:
                self._bodies[found.group("name")] = found.group("body").strip()
        missing = set(KEPT) - set(self._bodies)
        if missing:
            raise ValueError(f"no definition of the kept view(s) {', '.join(sorted(missing))}")
        #: What the tables' rows depend on besides the spans: every view's definition (pricing included).
        self._definitions = hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
        self.enabled = True
        self._made: dict[str, str] = {}  # table name -> the version tag it was checked at

    def forget(self) -> None:
        """Check every table again before reading it (one was dropped by another process)."""
        self._made.clear()

    def _tag(self, version: tuple[int, ...]) -> str:
        return f"{self._definitions}-{'-'.join(str(v) for v in version)}"

    def table(self, view: str, since: str, until: str, version: tuple[int, ...]) -> str:
        """The name of the table holding ``view``'s rows for the window ``(since, until)`` (ClickHouse literals:
        a quoted time or NULL) at ``version`` of the spans; made (with the kept views it reads) when missing."""
        tag = self._tag(version)
        name = PREFIX + hashlib.sha256(f"{tag}|{view}|{since}|{until}".encode()).hexdigest()[:24]
        if self._made.get(name) == tag:
            return name
        body = self._bodies[view]
        window = window_parameters()["window"]
        for other in KEPT:
            reference = f"`{self._database}`.{other}({window})"
            if other != view and reference in body:
                body = body.replace(reference, f"`{self._database}`.`{self.table(other, since, until, version)}`")
        body = body.replace(f"since = {SINCE}", f"since = {since}").replace(f"until = {UNTIL}", f"until = {until}")
        body = body.replace(SINCE, f"CAST({since} AS {_TIME})").replace(UNTIL, f"CAST({until} AS {_TIME})")
        if not self._exists(name):
            self._drop_other_versions(tag)
            self._fill(name, view, tag, body)
        self._made[name] = tag
        return name

    def _exists(self, name: str) -> bool:
        return bool(self._client.query(
            f"SELECT count() FROM system.tables WHERE database = '{self._database}' AND name = '{name}'"
        ).result_rows[0][0])

    def _fill(self, name: str, view: str, tag: str, body: str) -> None:
        """Create the table under a name of its own, then rename it into place: a reader never sees it half
        filled; when another process made it first, its copy stays and this one is dropped."""
        from clickhouse_connect.driver.exceptions import ClickHouseError as DriverError

        filling = f"{name}_{secrets.token_hex(4)}"  # no other process fills under this name
        create = (f"CREATE TABLE `{self._database}`.`{filling}` ENGINE = MergeTree ORDER BY tuple() "
                  f"COMMENT 'otel-llm: {view} at {tag}' AS SELECT * FROM (\n{body}\n) {_SETTINGS}, "
                  "allow_suspicious_low_cardinality_types = 1")  # the views' own types, LowCardinality(Bool) too
        self._ran(create)
        self._client.command(create)
        try:
            self._client.command(f"RENAME TABLE `{self._database}`.`{filling}` TO `{self._database}`.`{name}`")
        except DriverError:
            self._client.command(f"DROP TABLE IF EXISTS `{self._database}`.`{filling}`")
            if not self._exists(name):
                raise

    def _drop_other_versions(self, tag: str) -> None:
        """Drop the kept tables of other versions of the spans or of the views (their rows are out of date)."""
        for (name,) in self._client.query(
                f"SELECT name FROM system.tables WHERE database = '{self._database}' AND startsWith(name, '{PREFIX}') "
                f"AND comment NOT LIKE '% at {tag}'").result_rows:
            self._client.command(f"DROP TABLE IF EXISTS `{self._database}`.`{name}`")
        self._made = {name: made for name, made in self._made.items() if made == tag}

    def rewrite(self, tree: exp.Expression, version: tuple[int, ...]) -> exp.Expression:
        """``tree`` (a statement after ``_scope_views.windowed``) reading the kept tables instead of the kept
        views it reads: ``<view>_in(since = …, until = …)`` and the whole-store views (``turns``,
        ``llm_calls``, …; not a CTE of the same name). Unchanged once the user may not create tables."""
        if not self.enabled:
            return tree
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            found = _kept_read(table, ctes)
            if found is None:
                continue
            view, since, until = found
            try:
                name = self.table(view, since, until, version)
            except Exception as exc:  # noqa: BLE001 - the driver's error: may this user create tables?
                if not _NOT_ALLOWED.search(str(exc)):
                    raise
                self.enabled = False
                return tree
            alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(view.removesuffix("_in")))
            table.replace(exp.Table(this=exp.to_identifier(name), alias=alias))
        return tree


def _kept_read(table: exp.Table, ctes: set[str]) -> tuple[str, str, str] | None:
    """``(view, since, until)`` when ``table`` reads a kept view an analysis reads, else None."""
    if isinstance(table.this, exp.Anonymous):
        view = table.this.name.lower()
        if view not in KEPT or len(table.this.expressions) != 2:
            return None
        bounds = {}
        for argument in table.this.expressions:
            if not (isinstance(argument, exp.EQ) and isinstance(argument.this, exp.Column)):
                return None
            value = argument.expression
            if not (isinstance(value, exp.Null) or (isinstance(value, exp.Literal) and value.is_string)):
                return None
            bounds[argument.this.name] = value.sql(dialect="clickhouse")
        if set(bounds) != {"since", "until"}:
            return None
        return view, bounds["since"], bounds["until"]
    if isinstance(table.this, exp.Identifier) and not table.db and table.name.lower() not in ctes:
        view = f"{table.name.lower()}_in"
        if view in KEPT:
            return view, "NULL", "NULL"
    return None
