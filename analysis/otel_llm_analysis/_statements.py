"""The SQL that turns one staged batch (Arrow tables ``_b_<kind>``) into stored rows.

Everything table-specific comes from ``_rows``: the insert's select lists, the
columns hashed into a content key, the typed columns whose unreadable values
are reported. This module holds the plumbing those expressions run on:

* **Attribute lists** become two aligned lists, keys ``k`` and values ``v``, with
  JSON path wildcards (no per-entry lambdas: several times faster). A value is
  the text of its single AnyValue member: strings as-is, ints '42', doubles as
  written ('0.7'), bools 'true'; arrays / kvlists stay OTLP JSON text
  ('{"values":[{"stringValue":"stop"}]}'). An entry that is not one-key-one-value
  (an empty AnyValue, a missing key, a value with several members) would misalign
  the lists, so such rows take the slower per-entry path instead, where a value
  with several members is read as its first in ``_attribute_entries.VALUE_MEMBERS``'
  order (and the row named in the ingest report).
* **Per key list, not per row**: spans of one instrumentation share their
  attribute names, so the span insert works out key uniqueness and where each
  typed attribute sits once per distinct key list (``by_key_list``).
* **Resources** are staged once per batch (``_b_res``); what their rows take from
  them (hash, MAP, service, project) is computed once per resource, and each
  resource is stored once in ``resources`` (spans refer to it by number).
* **De-duplication**: spans on (trace_id, span_id, start time) - first occurrence
  in the batch, anti-joined against ``span_rows``; events and links follow their
  span. Logs and metric points on ``row_key``, a hash of every staged value that
  can make two records differ (scope and event name included); exemplars follow
  their point.
* **Cost that depends on the batch, not on the store**: a record sent again is
  the same bytes, so it has the same time - the start time is part of a span's
  key, the time part of a log's or point's ``row_key``. The anti-join therefore
  only reads stored rows whose time lies within the batch's times
  (``_rows.window``): a constant range DuckDB checks against each row group's
  min/max, so a batch of new data reads the few row groups of its own period,
  however many years the store holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from otel_llm import semconv
from otel_llm_analysis._attribute_entries import VALUE_MEMBERS
from otel_llm_analysis._rows import (
    EVAL_SCORE, EVAL_SCORE_TEXT, EVENTS, EXEMPLARS, LINKS, LOGS, POINTS, POSITION, RESOURCE_VALUES, RESOURCES, SPANS,
    Table, ts,
)
from otel_llm_analysis._row_keys import staged_key, staged_legacy_key
from otel_llm_analysis._spellings import SPELLINGS

__all__ = [
    "ENTRIES_NOT_KEPT",
    "EVENT_PLAN",
    "INSERT_RESOURCES",
    "LINK_PLAN",
    "Plan",
    "RESOURCES_NOT_KEPT",
    "RESOURCE_IDS",
    "INSERT_SPANS",
    "NEW_SPANS",
    "NEW_SPANS_UNSEEN",
    "PRUNED_ROWS",
    "PRUNED_SPANS",
    "ROW_PLANS",
    "STORED_WINDOW",
    "UNREADABLE_SCORES",
    "UNREADABLE_SPANS",
]

#: Each AnyValue member: its type for ``json_transform`` and the SQL of its text (``{}``: the member).
_MEMBERS = {"stringValue": ("VARCHAR", "{}"), "intValue": ("VARCHAR", "{}"),
            "doubleValue": ("JSON", "CAST({} AS VARCHAR)"), "boolValue": ("BOOLEAN", "CAST({} AS VARCHAR)"),
            "bytesValue": ("VARCHAR", "{}"), "kvlistValue": ("JSON", "CAST({} AS VARCHAR)"),
            "arrayValue": ("JSON", "CAST({} AS VARCHAR)")}
assert sorted(_MEMBERS) == sorted(VALUE_MEMBERS)
_ANY_VALUE = "{" + ",".join(f'"{name}":"{sql_type}"' for name, (sql_type, _) in _MEMBERS.items()) + "}"
_KEY_VALUES = f'[{{"key":"VARCHAR","value":{_ANY_VALUE}}}]'
#: Matches an attribute list's text holding an object key ending in ``Value`` that is not its object's first key
#: (after a comma, any whitespace): in OTLP JSON only an AnyValue's members end so (a quote inside a string is
#: escaped, so no string matches), so a list without a match has no value with several members. One RE2 scan of
#: the text: about a sixth of the three JSON parses of :func:`kv_parse` (0.08 against 0.47 s CPU on the
#: attribute lists of 98,619 generated spans).
_LATER_MEMBER = r',\s*"\w+Value"\s*:'


def _slow_entries(column: str) -> str:
    """Per-entry fallback: list of {k, v, m} structs, entries without a text key dropped; ``v`` is the text of the
    value's first member set in :data:`VALUE_MEMBERS`' order, ``m`` how many members are set."""
    members = {name: f"kv.value.{name}" for name in VALUE_MEMBERS}
    value = "coalesce(" + ", ".join(_MEMBERS[name][1].format(members[name]) for name in VALUE_MEMBERS) + ")"
    count = " + ".join(f"({member} IS NOT NULL)::INTEGER" for member in members.values())
    return (f"list_transform(list_filter(json_transform({column}, '{_KEY_VALUES}'), lambda kv: kv.key IS NOT NULL), "
            f"lambda kv: {{'k': kv.key, 'v': {value}, 'm': {count}}})")


def kv_parse(column: str) -> str:
    """Inner SELECT items: raw key list, value list and entry count of an OTLP KeyValue JSON array, and ``m0``:
    whether a value may have several members (:data:`_LATER_MEMBER`)."""
    # json_array_length measured cheaper (and is exact) than counting `"value":` in the text.
    return (f"json_extract_string({column}, '$[*].key') AS k0, json_extract_string({column}, '$[*].value.*') AS v0, "
            f"json_array_length({column}) AS n0, regexp_matches({column}, '{_LATER_MEMBER}') AS m0")


def kv_columns(column: str) -> str:
    """Outer SELECT items ``k1`` and ``v1`` (over :func:`kv_parse`): aligned keys and values, and ``m1``: how
    many entries have a value with several members (their first in :data:`VALUE_MEMBERS`' order is kept).

    Both lists must have one item per entry; otherwise (an empty value, a missing
    key) the row is re-read entry by entry so no value lands on the wrong key. So
    is a list that may hold a value with several members: beside an empty value,
    its members add up to one per entry, and the second would land on the empty
    value's key.
    """
    slow = _slow_entries(column)
    aligned = "len(k0) = n0 AND len(v0) = n0 AND NOT m0"
    return (f"CASE WHEN {aligned} THEN k0 ELSE list_transform({slow}, lambda e: e.k) END AS k1, "
            f"CASE WHEN {aligned} THEN v0 ELSE list_transform({slow}, lambda e: e.v) END AS v1, "
            f"CASE WHEN {aligned} THEN 0 ELSE len(list_filter({slow}, lambda e: e.m > 1)) END AS m1")


#: SELECT item ``uniq`` over ``k1``: true when the row's keys are unique and
#: none is NULL. Tested once per row on 64-bit key hashes: two ``list_unique``
#: calls on the strings were ~20% of the spans statement. A hash collision only
#: sends that row to the exact path of :func:`kv_from`; ``hash(NULL)`` is not
#: NULL, hence the separate count of non-NULL keys.
UNIQUE_TEST = "list_unique(list_transform(k1, lambda x: hash(x))) = len(k1) AND list_count(k1) = len(k1) AS uniq"

#: Outer SELECT items ``k`` and ``v`` over ``k1``/``v1``/``uniq``: keys unique (a
#: repeated key keeps its last value, NULL keys dropped), so a MAP can always be built.
_UNIQUE_K = ("CASE WHEN uniq THEN k1 "
             "ELSE list_filter(k1, lambda x, i: x IS NOT NULL AND NOT list_contains(k1[i + 1:], x)) END AS k")
_UNIQUE_V = ("CASE WHEN uniq THEN v1 "
             "ELSE list_filter(v1, lambda x, i: k1[i] IS NOT NULL AND NOT list_contains(k1[i + 1:], k1[i])) END AS v")


def _kv_aligned(source: str, column: str) -> str:
    """``source``'s rows with aligned (not yet de-duplicated) key and value lists ``k1``, ``v1``, and ``n0``: how
    many entries the list holds (what the lists do not keep is counted against it: :data:`_DROPPED_ENTRIES`)."""
    return (f"(SELECT * EXCLUDE ({column}, k0, v0, m0), {kv_columns(column)} FROM ("
            f"SELECT *, {kv_parse(column)} FROM {source}))")


def kv_from(source: str, column: str = "attrs") -> str:
    """``SELECT *, k, v, dropped_entries FROM source``: the source's rows with their attribute lists (``column``
    dropped) and how many of its entries the lists do not keep (:data:`_DROPPED_ENTRIES`, NULL when none)."""
    return (f"(SELECT * EXCLUDE (k1, v1, uniq, n0, m1), {_UNIQUE_V}, {_DROPPED_ENTRIES} FROM "
            f"(SELECT *, {_UNIQUE_K} FROM (SELECT *, {UNIQUE_TEST} FROM {_kv_aligned(source, column)})))")


#: SELECT item ``dropped_entries`` over ``k1``, ``uniq``, ``n0``, ``m1`` and ``k``: NULL for a row whose key list is
#: unique and whose lists were aligned with all of its entries (integer comparisons, made on checks made anyway),
#: else its entries less the keys kept (entries that are no key/value object or have no key, and the earlier of a
#: repeated key's) plus its values with several members, NULL when that is none: so only a row that lost entries
#: is looked at again, to be named (``_attribute_entries``).
_DROPPED_ENTRIES = ("CASE WHEN uniq AND len(k1) = n0 AND m1 = 0 THEN NULL ELSE nullif(n0 - len(k) + m1, 0) END "
                    "AS dropped_entries")

#: The FROM item a :func:`by_key_list` select names its rows by.
KEYED_ROWS = "_keyed_rows"
_POSITION = re.compile(re.escape(POSITION).replace(re.escape("{}"), "([^']*)"))


def by_key_list(source: str, select: str, column: str = "attrs") -> tuple[str, str]:
    """What depends on a row's attribute names only, computed once per distinct key list.

    Spans of one instrumentation carry the same attribute names in the same
    order (18 distinct key lists in 100k generated spans), so whether the keys
    are unique, the de-duplicated ``k``, ``has_other`` and the position of every
    attribute ``select`` looks up (:data:`_rows.POSITION`) are computed per key
    list and joined to the rows: the typed columns then index ``v`` directly
    instead of scanning ``k`` once per name and row. Only the values of a row
    whose keys repeat are filtered row by row (as in :func:`kv_from`).

    What the lists could not keep is counted as :func:`kv_from` counts it
    (``dropped_entries``): only a span that lost entries is looked at again
    (``ENTRIES_NOT_KEPT``).

    ``select`` reads its rows from :data:`KEYED_ROWS`: ``source``'s rows
    (``column`` dropped) with ``k``, ``v``, ``dropped_entries``, ``has_other`` and
    the positions. Returns (the CTE items ``kv`` and ``key_lists``; ``select`` reading them).
    """
    names = list(dict.fromkeys(_POSITION.findall(select)))
    position = {name: f"_pos_{i}" for i, name in enumerate(names)}
    select = _POSITION.sub(lambda m: position[m.group(1)], select)
    positions = "".join(f", {POSITION.format(name)} AS {p}" for name, p in position.items())
    ctes = f"""kv AS MATERIALIZED {_kv_aligned(source, column)},
key_lists AS (
    SELECT k1, uniq, k, {_HAS_OTHER}{positions}
    FROM (SELECT k1, uniq, {_UNIQUE_K} FROM (SELECT k1, {UNIQUE_TEST} FROM (SELECT DISTINCT k1 FROM kv)))
)"""
    rows = (f"(SELECT * EXCLUDE (k1, v1, uniq, n0, m1), {_UNIQUE_V}, {_DROPPED_ENTRIES} FROM "
            "(SELECT kv.*, l.* EXCLUDE (k1) FROM kv JOIN key_lists l ON kv.k1 IS NOT DISTINCT FROM l.k1))")
    return ctes, select.replace(KEYED_ROWS, rows)


#: Every spelling but the first of each column. Rows carrying none of them (all
#: of otel-llm's own spans) look up only the first spelling: half the work.
#: Tested key by key with ``list_contains`` on a constant list: ``list_has_any``
#: with the same constants measured 2x slower (it hashes both lists per row),
#: ``x IN (...)`` 1.6x.
_OTHER_SPELLINGS = [name for names in SPELLINGS.values() for name in names[1:]]
_HAS_OTHER = ("list_bool_or(list_transform(k, lambda x: list_contains(["
              + ", ".join(f"'{n}'" for n in _OTHER_SPELLINGS) + "], x))) AS has_other")

def _resources(columns: str = "*") -> str:
    """CTE ``res``: the batch's resources (``_b_res``) with what their rows take from them
    (``_rows.RESOURCE_VALUES``: hash, MAP, service, project), computed once per resource. ``columns``: what else
    it selects of ``_b_res``'s rows with their attribute lists (:func:`kv_from`)."""
    return f"""res AS (
    SELECT {columns}, resource_text, {", ".join(f"{expr} AS {name}" for name, expr in RESOURCE_VALUES.items())}
    FROM {kv_from("(SELECT *, attrs AS resource_text FROM _b_res)")}
)"""


_RESOURCES = _resources("res_ord, resource_id")


def _in_context(rows: str) -> str:
    """``rows`` (with ``ctx``) joined to their context (file, line, scope) and their resource."""
    return (f"(SELECT b.*, c.* EXCLUDE (ctx), res.* EXCLUDE (res_ord) "
            f"FROM {rows} b JOIN _b_ctx c USING (ctx) JOIN res USING (res_ord))")


#: The resources of ``_b_res`` (``res_ord``, ``attrs``) not stored yet, each stored once
#: and numbered on from the highest number (``_rows.RESOURCES``); then every one's
#: number. Run on one connection before any row refers to them (see ``ingest``).
INSERT_RESOURCES = f"""
INSERT INTO {RESOURCES.name} BY NAME
WITH {_resources("res_ord")}
SELECT (SELECT coalesce(max(resource_id), 0) FROM {RESOURCES.name})
       + row_number() OVER (ORDER BY min(res_ord)) AS resource_id,
       resource_hash, any_value(resource_attributes) AS resource_attributes
FROM res
WHERE resource_hash NOT IN (SELECT resource_hash FROM {RESOURCES.name})
GROUP BY resource_hash
"""
RESOURCE_IDS = f"""
WITH {_resources("res_ord")}
SELECT res_ord, r.resource_id FROM res JOIN {RESOURCES.name} r USING (resource_hash) ORDER BY res_ord
"""
#: The resources of ``_b_res`` not stored yet whose attribute lists lost entries (``dropped_entries``), with their
#: text, for the ingest report to name them (``_attribute_entries``): asked before :data:`INSERT_RESOURCES`, so a
#: resource is named once, when it is first stored, as the store keeps it once.
RESOURCES_NOT_KEPT = f"""
WITH {_resources("res_ord, dropped_entries")}
SELECT res_ord, resource_text FROM res
WHERE dropped_entries IS NOT NULL AND resource_hash NOT IN (SELECT resource_hash FROM {RESOURCES.name})
ORDER BY res_ord
"""

# --- spans, their events and links -----------------------------------------------------

#: Where a statement's anti-join reads stored rows: replaced by ``_rows.window``'s predicate.
STORED_WINDOW = "/*stored window*/TRUE"


_START = ts("b.start_ns")

NEW_SPANS = f"""
CREATE OR REPLACE TEMP TABLE _new_spans AS
SELECT f.ord FROM (SELECT min(ord) AS ord FROM _b_spans GROUP BY trace_id, span_id, {ts("start_ns")}) f
JOIN _b_spans b USING (ord)
WHERE NOT EXISTS (SELECT 1 FROM (SELECT trace_id, span_id, start_time FROM span_rows WHERE {STORED_WINDOW}) s
                  WHERE s.trace_id = b.trace_id AND s.span_id = b.span_id AND s.start_time IS NOT DISTINCT FROM {_START})
"""
#: The same without the anti-join, for a batch that cannot repeat a stored span
#: (see ``_staging.SpanKeys``).
NEW_SPANS_UNSEEN = f"""
CREATE OR REPLACE TEMP TABLE _new_spans AS
SELECT min(ord) AS ord FROM _b_spans GROUP BY trace_id, span_id, {ts("start_ns")}
"""

#: The batch's new spans older than a prune's cutoff (``{cutoff_us}``, microseconds since the epoch,
#: as stored times compare) whose trace has no span at or after it, in the batch or stored: prune
#: removes whole traces and keeps the straddling ones whole, so these would be a pruned trace
#: coming back from a file read again (a copy, a restored backup). Left out of ``_new_spans``, so
#: their events and links stay out too. Undated spans are kept (prune cannot date them either).
PRUNED_SPANS = """
DELETE FROM _new_spans WHERE ord IN (
    SELECT b.ord FROM _b_spans b JOIN _new_spans n USING (ord)
    WHERE b.start_ns > 0 AND b.start_ns // 1000 < {cutoff_us}
      AND b.trace_id NOT IN (SELECT trace_id FROM _b_spans WHERE start_ns // 1000 >= {cutoff_us})
      AND b.trace_id NOT IN (SELECT trace_id FROM span_rows WHERE trace_id IN
                             (SELECT trace_id FROM _b_spans WHERE start_ns > 0 AND start_ns // 1000 < {cutoff_us})))
"""

_CHECKED = SPANS.checked()
_RAW = "".join(f", {c.raw} AS _raw_{c.name}" for c in _CHECKED)

#: The new spans, typed. A typed attribute's text is selected first as
#: ``_raw_<column>``, so the row can say which values it could not read
#: (``unreadable_columns``) without a second parse of its attributes.
_SPANS_KEYED = by_key_list("(SELECT * FROM _b_spans WHERE ord IN (SELECT ord FROM _new_spans))", f"""
SELECT
    {SPANS.select_list()}
FROM (SELECT *{_RAW} FROM {_in_context(KEYED_ROWS)})""")
INSERT_SPANS = f"""
INSERT INTO span_rows BY NAME
WITH {_RESOURCES},
{_SPANS_KEYED[0]}{_SPANS_KEYED[1]}
"""

#: This batch's rows with a typed attribute present but unreadable (a token count
#: of "many", a cost of NaN), for the ingest report. Cheap on any store: row groups
#: whose ``unreadable_columns`` are all NULL are skipped on their statistics, and
#: the few rows left are matched to this batch's new spans.
UNREADABLE_SPANS = """
SELECT c.source_file, c.line, s.span_id, s.unreadable_columns, s.attr_keys, s.attr_values
FROM (SELECT trace_id, span_id, unreadable_columns, attr_keys, attr_values
      FROM span_rows WHERE unreadable_columns IS NOT NULL) s
JOIN _b_spans b ON b.trace_id = s.trace_id AND b.span_id = s.span_id
JOIN _b_ctx c USING (ctx)
WHERE b.ord IN (SELECT ord FROM _new_spans)
"""

#: This batch's new spans whose attribute lists lost entries (``span_rows.attr_entries_dropped``), with their
#: staged attribute text, for the ingest report to name them (``_attribute_entries``). Cheap on any store, as
#: :data:`UNREADABLE_SPANS`: row groups whose ``attr_entries_dropped`` is all NULL are skipped on their statistics.
ENTRIES_NOT_KEPT = f"""
SELECT c.source_file, c.line, s.span_id, b.attrs
FROM (SELECT trace_id, span_id, start_time FROM span_rows
      WHERE attr_entries_dropped IS NOT NULL) s
JOIN _b_spans b ON b.trace_id = s.trace_id AND b.span_id = s.span_id AND s.start_time IS NOT DISTINCT FROM {_START}
JOIN _b_ctx c USING (ctx)
WHERE b.ord IN (SELECT ord FROM _new_spans)
ORDER BY b.ord
"""


@dataclass(frozen=True, slots=True)
class Plan:
    """How the batch's rows of one staged kind are stored.

    ``stage`` makes ``_stage_<kind>``: the rows to store (new ones only), with their attribute lists
    (:func:`kv_from`) and ``dropped_entries``; ``legacy_stage``, where not empty, is the stage for a table
    holding rows keyed otherwise (:func:`_stage_keyed`); ``insert`` stores them; ``lossy`` lists those whose lists lost
    entries, as ``ingest.entries_problems`` reads them (file, line, what names the row, the staged attribute
    text): a scan of the stage, joined to the batch only for the rows it finds. ``following``: the plans of the
    rows stored with these (a point's exemplars).
    """

    kind: str
    stage: str
    insert: str
    lossy: str
    following: tuple["Plan", ...] = ()
    legacy_stage: str = ""


def _lossy(kind: str, label: str, located: str = "") -> str:
    """``Plan.lossy`` of ``kind``: ``label`` names a row; ``located`` joins what gives its file and line
    (``source_file``, ``line``) when its stage lacks them."""
    return f"""
SELECT source_file, line, {label}, b.attrs
FROM (SELECT * FROM _stage_{kind} WHERE dropped_entries IS NOT NULL) s
JOIN _b_{kind} b USING (ord){located}
ORDER BY s.ord
"""


def _following_span(table: Table, kind: str) -> Plan:
    """The plan of a span's events or links: stored when their span is new (``_new_spans``)."""
    return Plan(
        kind,
        f"CREATE OR REPLACE TEMP TABLE _stage_{kind} AS SELECT * FROM "
        f"{kv_from(f'(SELECT * FROM _b_{kind} WHERE span_ord IN (SELECT ord FROM _new_spans))')}",
        _insert_staged(table, kind),
        _lossy(kind, "s.span_id", " JOIN _b_spans p ON p.ord = s.span_ord JOIN _b_ctx c ON c.ctx = p.ctx"))


def _insert_staged(table: Table, kind: str) -> str:
    return f"INSERT INTO {table.name} BY NAME SELECT {table.select_list()} FROM _stage_{kind}"


EVENT_PLAN = _following_span(EVENTS, "events")
LINK_PLAN = _following_span(LINKS, "links")

#: The new events of this batch whose evaluation score is present but no finite number (``span_events.eval_score``
#: left NULL, the event kept: ``_rows.eval_score``), for the ingest report: file, line, span, the score's text. Only the events whose
#: attribute text names the score are read again.
UNREADABLE_SCORES = f"""
SELECT c.source_file, c.line, e.span_id, e.score
FROM (SELECT ord, span_ord, span_id, {EVAL_SCORE_TEXT} AS score, {EVAL_SCORE} AS read
      FROM {kv_from(f"(SELECT * FROM _b_events WHERE span_ord IN (SELECT ord FROM _new_spans) "
                    f"AND contains(attrs, '{semconv.GEN_AI_EVALUATION_SCORE_VALUE}'))")}) e
JOIN _b_spans b ON b.ord = e.span_ord
JOIN _b_ctx c USING (ctx)
WHERE e.score IS NOT NULL AND e.read IS NULL
ORDER BY e.ord
"""

# --- logs and metric points (+ exemplars) ----------------------------------------------

def _stage_keyed(table: Table, kind: str, legacy: bool = False) -> str:
    """First occurrence per content key (``_row_keys``) of the batch's rows, minus those already stored; with
    ``legacy``, also minus those matching rows keyed otherwise (``legacy_key``: the columns every version
    stored hold the record's values), for a table holding such rows (``_row_keys.legacy_tables``)."""
    legacy_key = f", {staged_legacy_key(table)} AS _legacy_key" if legacy else ""
    legacy_match = (f"\n  AND NOT EXISTS (SELECT 1 FROM {table.name} t WHERE {STORED_WINDOW} "
                    "AND t.legacy_key = k._legacy_key)") if legacy else ""
    return f"""
CREATE OR REPLACE TEMP TABLE _stage_{kind} AS
WITH {_RESOURCES},
keyed AS (
    SELECT *, {staged_key(table)} AS row_key{legacy_key}
    FROM {_in_context(kv_from(f"(SELECT *, attrs AS attrs_text FROM _b_{kind})"))}
), fresh AS (SELECT min(ord) AS ord FROM keyed GROUP BY row_key)
SELECT k.* FROM keyed k JOIN fresh USING (ord)
WHERE NOT EXISTS (SELECT 1 FROM {table.name} t WHERE {STORED_WINDOW} AND t.row_key = k.row_key){legacy_match}
"""


#: Exemplars follow their point: those of the points staged as new (``_stage_points``).
_EXEMPLAR_PLAN = Plan(
    "exemplars",
    f"""CREATE OR REPLACE TEMP TABLE _stage_exemplars AS SELECT * FROM {kv_from(
        "(SELECT e.*, p.row_key AS point_key FROM _b_exemplars e "
        "JOIN (SELECT ord, row_key FROM _stage_points) p ON e.point_ord = p.ord)")}""",
    _insert_staged(EXEMPLARS, "exemplars"),
    _lossy("exemplars", "s.metric_name", " JOIN _stage_points p ON p.ord = s.point_ord"))

#: Per signal, its staged rows (``_stage_<kind>``) older than a prune's cutoff (``{cutoff_us}``), left
#: out as :data:`PRUNED_SPANS` leaves spans (an exemplar follows its point); the time is the stored one's.
PRUNED_ROWS = {
    "points": "DELETE FROM _stage_points WHERE time_ns > 0 AND time_ns // 1000 < {cutoff_us}",
    "logs": "DELETE FROM _stage_logs WHERE coalesce(nullif(time_ns, 0), observed_ns) > 0 "
            "AND coalesce(nullif(time_ns, 0), observed_ns) // 1000 < {cutoff_us}",
}

#: Per-signal plans for content-keyed rows; their stage is made with the stored window (:data:`STORED_WINDOW`).
ROW_PLANS: tuple[Plan, ...] = (
    Plan("points", _stage_keyed(POINTS, "points"), _insert_staged(POINTS, "points"),
         _lossy("points", "s.metric_name"), (_EXEMPLAR_PLAN,), _stage_keyed(POINTS, "points", legacy=True)),
    Plan("logs", _stage_keyed(LOGS, "logs"), _insert_staged(LOGS, "logs"), _lossy("logs", "NULL"),
         legacy_stage=_stage_keyed(LOGS, "logs", legacy=True)),
)
