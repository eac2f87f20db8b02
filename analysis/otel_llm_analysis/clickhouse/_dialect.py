"""The analyses' one SQL text (DuckDB's) on ClickHouse: SQLGlot's transpiler plus the overrides it needs.

Every analysis is written once, in DuckDB SQL (``queries/*.sql``, ``views.sql``
and the fragments of ``_filters``). On ClickHouse the same text is parsed by
SQLGlot as DuckDB and written by :class:`ClickHouse`, SQLGlot's ClickHouse
dialect with the few constructs it gets wrong for these queries overridden
(docs/clickhouse.md lists what SQLGlot does unaided):

* ``quantile_cont(x, q)`` / ``quantile_cont(x, [q, …])`` -> DuckDB's exact, linearly interpolated
  percentile with DuckDB's arithmetic, to the last bit (:mod:`._quantile`; ClickHouse's
  ``quantileExactInclusive`` interpolates the same points with other roundings); over no
  values NULL (several: ``[]``), as DuckDB, not NaN; with ``FILTER (WHERE c)`` ``groupArrayIf``;
* ``sum(x)`` of a cost (``FILTER (WHERE c)``, ``OVER (…)``) -> the values sorted and added in order
  (:mod:`._sums`): the same bits whatever order the rows come in, as DuckDB's
  ``list_sum(list_sort(list(x)))`` (ClickHouse's ``sum`` adds floats in partial sums, in the parts' order);
  of token counts -> ``sum(toInt128(x))``, DuckDB's ``HUGEINT`` sum (an ``Int64`` sum wraps past 2**63);
* ``regexp_replace(s, p, r, 'g')`` -> ``replaceRegexpAll(s, p, r)`` (without
  ``'g'``: ``replaceRegexpOne``);
* ``regexp_extract_all(s, p, g)`` (a literal pattern) -> group ``g`` (0: the whole match) of each match,
  from ``extractAllGroupsVertical`` (ClickHouse has no function of DuckDB's name); of a NULL text ``[]``
  (ClickHouse arrays cannot be NULL), where DuckDB answers NULL;
* ``range(start, end, INTERVAL n unit)`` (a table of times) -> a subquery of
  ``arrayJoin`` over the times; ``date_trunc`` stays a time (not a ``Date``);
* ``array_agg`` / ``array_sort`` / ``flatten`` -> ``groupArray`` (NULLs left out) /
  ``arraySort`` / ``arrayFlatten`` (SQLGlot keeps DuckDB's names); ``list(x ORDER BY k)``
  (``FILTER (WHERE c)``) -> the ``x`` of ``groupArray[If]((k, x))`` sorted by ``k``;
* ``string_agg([DISTINCT] x, sep ORDER BY x)`` -> ``arrayStringConcat`` of the sorted
  ``groupArray`` (``groupUniqArray``), NULL over no values as DuckDB (SQLGlot writes a
  ``groupConcat`` with ``ORDER BY`` inside, which ClickHouse cannot read);
* ``attr_values[list_position(attr_keys, 'k')]`` (one attribute from the aligned lists) ->
  ``attributes['k']`` (a map lookup, NULL when absent);
* ``m['k']`` (a map's value by a literal key) -> ``multiIf(mapContains(m, 'k'), m['k'], NULL)``: NULL
  when absent, as DuckDB, where ClickHouse answers ``''`` (``resource_attributes['service.instance.id']``);
* ``list_position(l, x)`` -> ``nullIf(indexOf(l, x), 0)`` (NULL when absent, as DuckDB);
* ``list_sum(l)`` -> ``arraySum(l)``, NULL over no values as DuckDB (``arraySum([])`` is 0); an integer list
  sums in 64 bits here (DuckDB: 128);
* ``list_transform`` / ``list_filter`` with a lambda of two parameters (``lambda x, i: …``: the element and its
  index, from 1) -> ``arrayMap`` / ``arrayFilter`` over the list and ``arrayEnumerate`` of it (SQLGlot hands the
  two-parameter lambda one array, which ClickHouse refuses);
* ``min``/``max`` -> ``minOrNull``/``maxOrNull``: NULL over no rows, as DuckDB, where ClickHouse
  answers the type's default (a time: 1970-01-01, so ``trends`` on an empty store or window
  showed a zero row dated 1970-01-01);
* ``lower``/``upper`` -> ``lowerUTF8``/``upperUTF8``: DuckDB maps every letter (``É`` -> ``é``),
  ClickHouse's ``lower`` ASCII letters only (a log search for ``échec`` missed ``Échec``);
* ``TRY_CAST(x AS T)`` -> ``accurateCastOrNull(x, 'T')`` (SQLGlot writes a ``CAST`` to
  ``Nullable(T)``, which fails on text that is no ``T`` where DuckDB answers NULL); to a
  number, what that cast cannot read is read as DuckDB reads it (:func:`number_text`; to an
  integer, a decimal or exponent rounded half away from zero: ``'12.5'`` -> 13, ``'1e3'`` -> 1000);
* ``s[a:b]`` of a string (1-based, ends included, a negative end counts from the end) ->
  ``substringUTF8`` (the only slices of the analyses' SQL are of names);
* ``CAST(… AS TIMESTAMP)`` -> ``DateTime64(6, 'UTC')`` (SQLGlot writes ``DateTime``,
  which silently drops sub-second time; a time without its zone would be read in the
  server's, where DuckDB's store is naive UTC);
* a condition selected as a column (``l.as_of < $t AS stale``) -> ``CAST(… AS Nullable(Bool))`` in
  an analysis statement's outermost SELECT(s): ClickHouse answers a comparison as ``UInt8`` (0/1), which reaches
  Python as an int where DuckDB's is a bool (``running``'s ``stale`` printed ``1`` for ``✓``);
* ``WITH x AS MATERIALIZED (…)`` -> ``WITH x AS (…)``: ClickHouse cannot read the hint (DuckDB's: bind a
  view read twice once); it runs the CTE where each reference is;
* query parameters (``$name``, ``?``) -> literals of their bound values
  (:func:`bind`), quoted by SQLGlot: the HTTP interface's typed parameters
  would need a type per use, and a literal is what the server's planner sees
  best (a time filter on ``Timestamp`` prunes partitions either way).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

from sqlglot import exp, parse
from sqlglot.dialects.clickhouse import ClickHouse as _ClickHouse

__all__ = ["ClickHouse", "bind", "number_text", "transpile", "try_cast"]

#: ClickHouse's integer types DuckDB's INTEGER / BIGINT (and kin) are written as.
_INTEGERS = ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64")


def number_text(value: str) -> str:
    """``value`` (text) as DuckDB's casts to a number read it: surrounding whitespace trimmed, a ``_``
    between two digits dropped (``'1_000'``); NULL for any other ``_``. ClickHouse's ``toFloat64OrNull``
    and ``accurateCastOrNull`` take neither, so a number DuckDB reads would be NULL there."""
    trimmed = f"replaceRegexpAll({value}, '^[[:space:]]+|[[:space:]]+$', '')"
    return f"if(match({trimmed}, '(^|[^0-9])_|_([^0-9]|$)'), NULL, replaceAll({trimmed}, '_', ''))"


def _quantile(self: Any, expression: exp.PercentileCont, condition: exp.Expression | None = None) -> str:
    """Exact quantile(s) by DuckDB's arithmetic (:mod:`._quantile`), NULL (one) / ``[]`` (several; ClickHouse
    arrays cannot be NULL) over no values, as DuckDB answers. ``condition``: the aggregate's FILTER."""
    from otel_llm_analysis.clickhouse._quantile import interpolated

    fractions = expression.expression
    many = isinstance(fractions, exp.Array)
    column = f"toFloat64({self.sql(expression, 'this')})"
    gathered = (f"groupArray({column})" if condition is None
                else f"groupArrayIf({column}, {self.sql(condition)})")  # NULLs left out, as DuckDB leaves them
    values = f"arraySort({gathered})"
    if many:
        levels = ", ".join(self.sql(v) for v in fractions.expressions)
        return f"if(empty({values}), [], arrayMap(__q_q -> {interpolated(values, '__q_q')}, [{levels}]))"
    return f"if(empty({values}), NULL, {interpolated(values, self.sql(fractions))})"


def _ordered_list(self: Any, expression: exp.ArrayAgg, condition: exp.Expression | None = None) -> str:
    """``list(x ORDER BY k [DESC])`` (``FILTER (WHERE c)``): the pairs (k, x) gathered, sorted by k, the x kept."""
    order = expression.this
    if not isinstance(order, exp.Order):
        return self.func("groupArray", order) if condition is None else self.func("groupArrayIf", order, condition)
    if len(order.expressions) != 1:
        raise ValueError("list(... ORDER BY) with more than one key")
    key = order.expressions[0]
    pairs = f"({self.sql(key, 'this')}, {self.sql(order, 'this')})"
    gathered = f"groupArray({pairs})" if condition is None else f"groupArrayIf({pairs}, {self.sql(condition)})"
    sort = "arrayReverseSort" if key.args.get("desc") else "arraySort"
    return f"arrayMap(p -> p.2, {sort}(p -> p.1, {gathered}))"


def _string_agg(self: Any, expression: exp.GroupConcat) -> str:
    """``string_agg([DISTINCT] x, sep [ORDER BY x])``; NULL over no values (ClickHouse would answer '')."""
    value, ordered = expression.this, False
    if isinstance(value, exp.Order):
        keys = value.expressions
        value = value.this
        inner = value.expressions[0] if isinstance(value, exp.Distinct) else value
        if len(keys) != 1 or keys[0].this != inner or keys[0].args.get("desc"):
            raise ValueError("string_agg ordered by anything but its value, ascending")
        ordered = True
    if isinstance(value, exp.Distinct):
        values = f"groupUniqArray({self.sql(value.expressions[0])})"
        ordered = True  # groupUniqArray's order is arbitrary: sorted, as DuckDB's DISTINCT reads best
    else:
        values = f"groupArray({self.sql(value)})"
    if ordered:
        values = f"arraySort({values})"
    separator = self.sql(expression, "separator") or "','"
    return f"if(empty({values}), NULL, arrayStringConcat({values}, {separator}))"


def _summed(expression: exp.Expression) -> tuple[str, exp.Expression] | None:
    """``("cost" | "tokens", x)`` of ``sum(x)`` when ``x`` reads a cost or token column (:mod:`._sums`), else None."""
    from otel_llm_analysis.clickhouse._sums import is_cost, is_tokens

    if not isinstance(expression, exp.Sum):
        return None
    values = expression.this
    names = [column.name for column in values.find_all(exp.Column)]
    if any(is_cost(name) for name in names):
        return "cost", values
    if any(is_tokens(name) for name in names):
        return "tokens", values
    return None


def _sum(self: Any, expression: exp.Sum, condition: exp.Expression | None = None) -> str:
    """``sum(x)`` (``FILTER (WHERE condition)``): of a cost, sorted and added in order, the same bits in any row
    order; of token counts, in 128 bits as DuckDB's (:mod:`._sums`)."""
    from otel_llm_analysis.clickhouse._sums import sorted_sum, wide_sum

    summed = _summed(expression)
    where = None if condition is None else self.sql(condition)
    if summed is not None and summed[0] == "tokens":
        return wide_sum(self.sql(summed[1]), where)
    if summed is not None and not isinstance(expression.parent, exp.Window):
        return sorted_sum(self.sql(summed[1]), where)
    return self.func("sum", expression.this) if where is None else self.func("sumIf", expression.this, condition)


def _window(self: Any, expression: exp.Window) -> str:
    """``sum(cost) OVER (…)``: the window's values gathered (``groupArray(…) OVER (…)``), summed sorted."""
    from otel_llm_analysis.clickhouse._sums import sorted_array_sum

    summed = _summed(expression.this)
    if summed is None or summed[0] != "cost":
        return _ClickHouse.Generator.window_sql(self, expression)
    gathered = expression.copy()
    gathered.set("this", exp.Anonymous(this="groupArray", expressions=[summed[1].copy()]))
    return sorted_array_sum(_ClickHouse.Generator.window_sql(self, gathered))


def _filter(self: Any, expression: exp.Filter) -> str:
    if _summed(expression.this) is not None:
        return _sum(self, expression.this, expression.expression.this)
    if isinstance(expression.this, exp.PercentileCont):
        return _quantile(self, expression.this, expression.expression.this)
    if isinstance(expression.this, exp.ArrayAgg):
        return _ordered_list(self, expression.this, expression.expression.this)
    return _ClickHouse.Generator.filter_sql(self, expression)


def _regexp_replace(self: Any, expression: exp.RegexpReplace) -> str:
    modifiers = expression.args.get("modifiers")
    every = modifiers is not None and "g" in modifiers.name
    name = "replaceRegexpAll" if every else "replaceRegexpOne"
    return self.func(name, expression.this, expression.expression, expression.args.get("replacement"))


def _regexp_extract_all(self: Any, expression: exp.RegexpExtractAll) -> str:
    """``regexp_extract_all(s, p[, g])``: group ``g`` of every match, in order. The whole match (``g`` 0 or
    none) is the first group of the pattern in parentheses: ``extractAllGroupsVertical`` gives groups only."""
    pattern, group = expression.expression, expression.args.get("group")
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise ValueError("regexp_extract_all with a pattern that is not a literal")
    number = int(group.to_py()) if group is not None else 0
    if number == 0:
        pattern, number = exp.Literal.string(f"({pattern.name})"), 1
    text = f"coalesce({self.sql(expression, 'this')}, '')"
    return f"arrayMap(g -> g[{number}], extractAllGroupsVertical({text}, {self.sql(pattern)}))"


def _series(self: Any, expression: exp.GenerateSeries) -> str:
    """DuckDB's ``range(start, end, INTERVAL n unit)`` table (one column, ``range``; end excluded) as a
    subquery: ClickHouse's ``numbers``/``range`` count integers, not times."""
    start, end = self.sql(expression, "start"), self.sql(expression, "end")
    step = expression.args["step"]
    unit, size = step.unit.name.lower(), step.this.name
    times = (f"arrayMap(i -> {start} + toInterval{unit.capitalize()}(i * {size}), "
             f"range(toUInt64(greatest(dateDiff('{unit}', {start}, {end}), 0) + 1)))")
    return f"(SELECT arrayJoin(arrayFilter(t -> t < {end}, {times})) AS range)"


def _truncate(self: Any, expression: exp.TimestampTrunc) -> str:
    """``date_trunc(unit, t)`` stays a time (DuckDB's type); ClickHouse's dateTrunc gives a Date for a day or week."""
    return f"toDateTime64(dateTrunc('{expression.unit.name.lower()}', {self.sql(expression, 'this')}), 6, 'UTC')"


def _bracket(self: Any, expression: exp.Bracket) -> str:
    """``attr_values[list_position(attr_keys, 'k')]`` (DuckDB's fast read of one attribute from the
    aligned lists) is a map lookup here: ``attributes['k']``, NULL when absent."""
    index = expression.expressions[0] if len(expression.expressions) == 1 else None
    values = expression.this
    if (isinstance(values, exp.Column) and values.name == "attr_values" and isinstance(index, exp.Anonymous)
            and index.name.lower() == "list_position" and len(index.expressions) == 2
            and isinstance(index.expressions[0], exp.Column) and index.expressions[0].name == "attr_keys"
            and index.expressions[0].table == values.table):
        attributes = self.sql(exp.column("attributes", table=values.table or None))
        key = self.sql(index.expressions[1])
        return f"multiIf(mapContains({attributes}, {key}), {attributes}[{key}], NULL)"
    if isinstance(index, exp.Literal) and index.is_string:  # m['k'] of a map: NULL when absent, as DuckDB's
        value, key = self.sql(values), self.sql(index)
        return f"multiIf(mapContains({value}, {key}), {value}[{key}], NULL)"
    sliced = _slice(self, expression)
    if sliced is not None:
        return sliced
    return _ClickHouse.Generator.bracket_sql(self, expression)


def _slice(self: Any, expression: exp.Bracket) -> str | None:
    """``s[a:b]`` (DuckDB string slicing; literal bounds) as ``substringUTF8``, else None."""
    if len(expression.expressions) != 1 or not isinstance(expression.expressions[0], exp.Slice):
        return None
    bounds = expression.expressions[0]
    text = self.sql(expression, "this")
    start, end = bounds.this, bounds.expression
    first = int(start.to_py()) if start is not None else 1
    if end is None:
        return f"substringUTF8({text}, {first})"
    last = int(end.to_py())
    stop = f"lengthUTF8({text}) + {last + 1}" if last < 0 else str(last)
    return f"substringUTF8({text}, {first}, greatest({stop} - {first - 1}, 0))"


def _try_cast(self: Any, expression: exp.TryCast) -> str:
    to = self.sql(expression, "to")
    to = to[len("Nullable("):-1] if to.startswith("Nullable(") else to  # the result is Nullable anyway
    return try_cast(self.sql(expression, "this"), to)


def try_cast(value: str, to: str) -> str:
    """DuckDB's ``TRY_CAST(value AS to)`` in ClickHouse SQL; ``value``: a ClickHouse expression, ``to``: a
    ClickHouse type (``'Float64'``, ``'Int64'``, …). What a view of ours reads as DuckDB's ingest reads it
    (an evaluation's score) is read with this, the same rule as the transpiled analyses'."""
    cast = f"accurateCastOrNull({value}, '{to}')"
    if to != "Float64" and to not in _INTEGERS:
        return cast
    number = f"toFloat64OrNull({number_text(f'toString({value})')})"  # DuckDB's reading, when the cast fails
    if to != "Float64":
        number = f"accurateCastOrNull(sign({number}) * floor(abs({number}) + 0.5), '{to}')"
    return f"if(isNotNull({cast}), {cast}, {number})"  # if, not coalesce: the reading runs only when needed


def _anonymous(self: Any, expression: exp.Anonymous) -> str:
    name = expression.name.lower()
    if name == "list_position":
        return f"nullIf({self.func('indexOf', *expression.expressions)}, 0)"
    if name == "list_sum" and len(expression.expressions) == 1:
        values = self.sql(expression.expressions[0])
        return f"if(empty({values}), NULL, arraySum({values}))"
    return _ClickHouse.Generator.anonymous_sql(self, expression)


def _indexed(name: str) -> Callable[[Any, exp.Expression], str]:
    """DuckDB's ``list_transform`` / ``list_filter`` as ClickHouse's ``name`` (``arrayMap`` / ``arrayFilter``).
    DuckDB hands a lambda of two parameters (``lambda x, i: …``) each element's index (from 1) as its second;
    ClickHouse's lambda takes one array per parameter, so the list's indexes (``arrayEnumerate``) go beside it
    (SQLGlot writes the lambda over the one list, which ClickHouse refuses)."""
    def generate(self: Any, expression: exp.Expression) -> str:
        function, values = expression.expression, expression.this
        if isinstance(function, exp.Lambda) and len(function.expressions) == 2:
            return self.func(name, function, values, exp.Anonymous(this="arrayEnumerate", expressions=[values.copy()]))
        return self.func(name, function, values)
    return generate


class ClickHouse(_ClickHouse):
    """SQLGlot's ClickHouse dialect, plus the overrides listed in this module's docstring."""

    class Generator(_ClickHouse.Generator):
        TRANSFORMS = {
            **_ClickHouse.Generator.TRANSFORMS,
            exp.PercentileCont: _quantile,
            exp.Filter: _filter,
            exp.Sum: _sum,
            exp.Window: _window,
            exp.RegexpReplace: _regexp_replace,
            exp.RegexpExtractAll: _regexp_extract_all,
            exp.Anonymous: _anonymous,
            exp.Transform: _indexed("arrayMap"),
            exp.ArrayFilter: _indexed("arrayFilter"),
            exp.Bracket: _bracket,
            exp.GenerateSeries: _series,
            exp.ArraySort: lambda self, e: self.func("arraySort", e.this),
            exp.ArrayAgg: _ordered_list,
            exp.GroupConcat: _string_agg,
            exp.Flatten: lambda self, e: self.func("arrayFlatten", e.this),
            exp.TimestampTrunc: _truncate,
            exp.TryCast: _try_cast,
            exp.Min: lambda self, e: self.func("minOrNull", e.this),
            exp.Max: lambda self, e: self.func("maxOrNull", e.this),
            exp.Lower: lambda self, e: self.func("lowerUTF8", e.this),
            exp.Upper: lambda self, e: self.func("upperUTF8", e.this),
        }
        TYPE_MAPPING = {**_ClickHouse.Generator.TYPE_MAPPING, exp.DataType.Type.TIMESTAMP: "DateTime64(6, 'UTC')",
                        exp.DataType.Type.TIMESTAMPNTZ: "DateTime64(6, 'UTC')"}

        def cte_sql(self, expression: exp.CTE) -> str:
            """The CTE without DuckDB's ``MATERIALIZED`` (a hint there: bind a view read twice once), which
            ClickHouse cannot read; it runs the CTE where each reference is, as it would without the hint."""
            if expression.args.get("materialized") is not None:
                expression = expression.copy()
                expression.set("materialized", None)
            return super().cte_sql(expression)


def _literal(value: Any) -> exp.Expression:
    """A Python value bound to a query as a ClickHouse literal."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def bind(tree: exp.Expression, params: Mapping[str, Any] | Sequence[Any] | None) -> exp.Expression:
    """``tree`` with every ``$name`` / ``?`` replaced by the literal of its value (a copy)."""
    if not params:
        return tree
    tree = tree.copy()
    positional = list(params) if not isinstance(params, Mapping) else None
    index = 0
    for node in list(tree.find_all(exp.Placeholder, exp.Parameter)):
        name = node.name
        if positional is not None and name in ("", "?"):
            value, index = positional[index], index + 1
        elif positional is not None:
            value = positional[int(name) - 1]
        else:
            if name not in params:  # type: ignore[operator]
                raise ValueError(f"no value for query parameter ${name}")
            value = params[name]  # type: ignore[index]
        node.replace(_literal(value))
    return tree


#: Expressions whose value is a truth value in DuckDB (a ``BOOLEAN``), and a ``UInt8`` in ClickHouse.
_CONDITIONS = (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)


def _conditions_returned(tree: exp.Expression) -> list[tuple[exp.Select, int]]:
    """(SELECT, index) of each condition column of ``tree``'s outermost SELECT(s)."""
    outer = [tree] if isinstance(tree, exp.Select) else list(tree.find_all(exp.Select)) if isinstance(
        tree, exp.SetOperation) else []
    outer = [select for select in outer if select.parent is None or isinstance(select.parent, exp.SetOperation)]
    return [(select, i) for select in outer for i, column in enumerate(select.expressions)
            if isinstance(column.unalias(), _CONDITIONS)]


def booleans(tree: exp.Expression) -> exp.Expression:
    """``tree`` with each condition its outermost SELECT(s) return cast to ``Bool`` (a copy when any), so
    the driver hands back ``True``/``False`` as DuckDB does. Inner SELECTs are left as they are: what
    reads their columns (``sum``, ``WHERE``) reads 0/1 alike."""
    if not _conditions_returned(tree):
        return tree
    tree = tree.copy()  # the parsed statement is cached (_parse): never change it in place
    for select, i in _conditions_returned(tree):
        column = select.expressions[i]
        condition = column.unalias()
        name = column.alias_or_name if isinstance(column, exp.Alias) else None
        cast = exp.cast(condition.copy(), exp.DataType.build("Nullable(Bool)", dialect="clickhouse"))
        select.expressions[i].replace(exp.alias_(cast, name) if name else cast)
    return tree


@lru_cache(maxsize=512)
def _parse(sql: str) -> tuple[exp.Expression, ...]:
    return tuple(statement for statement in parse(sql, read="duckdb") if statement is not None)


def transpile(sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None, *,
              results: bool = False,
              tables: Callable[[exp.Expression], exp.Expression] | None = None) -> list[str]:
    """DuckDB ``sql`` (one or more statements) as ClickHouse SQL, its parameters bound as literals.
    ``results``: the statements' rows go back to Python (an analysis), so conditions they return are
    ``Bool`` (:func:`booleans`); a view's text leaves them as ClickHouse types them. ``tables``: applied to
    each statement after its windows (``_kept_views.KeptViews.rewrite``: the views it reads kept as tables)."""
    from otel_llm_analysis.clickhouse._scope_views import windowed

    trees = [windowed(bind(statement, params)) for statement in _parse(sql)]
    if tables is not None:
        trees = [tables(tree) for tree in trees]
    return [(booleans(tree) if results else tree).sql(dialect=ClickHouse) for tree in trees]
