"""Why a call with tokens has no cost: one reason per unpriced call, told from the call's own data.

Why: the fix differs by reason. A model without a price is priced by adding it
(``ingest --pricing FILE``); a call whose usage is only a total, or whose counts
were unreadable, dropped as invalid by the SDK, or contradict each other, is
left unpriced by the rules of ``otel_llm.pricing.ModelRates.refusal`` whatever
the price tables hold, and adding a price changes nothing. Counting them all as
"no price" gave the wrong advice.

The reasons are decided in the order the ingest applies them (``_costs``): a
usage that is only a total, a priced count unreadable (never looked at for a
price), a priced count dropped by the SDK, cache counts beyond the input, output
tokens beside no input count (a part of the call: ``ModelRates.missing_count``
refuses it for any price with an input rate, so a price added would not help),
and otherwise no price. The last also holds a call whose price has no rate for its
tokens (a user entry with an output price only): only the price tables tell it
apart, and its fix is the same (complete the entry).

A call the SDK priced and refused a price says why on its span
(``otel_llm.cost.refused``: a cost beyond one call's bound, a missing rate, ...):
that reason, the SDK's own, names it instead (a key ``refused: <the SDK's text>``,
:func:`named_refusals`), where the rules above could only guess ("no price" for a
model that has one).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import duckdb

from otel_llm import semconv
from otel_llm._usage import _COST_NEUTRAL_DROPS
from otel_llm_analysis._filters import CACHE_COUNTED, IS_UNPRICED, connection, per_data_version

__all__ = ["COUNTED", "REASONS", "REASON_SQL", "REFUSED", "UNREADABLE_COUNT", "from_counts", "may_hold_dropped",
           "may_hold_refused", "named_refusals", "reason_sql", "reasons_of_traces", "reasons_text", "refusals"]

#: reason key -> how a note says it (after a count: "2 whose model has no price ..."), in the order decided
REASONS: Mapping[str, str] = {
    "no_price": "whose model has no price (add it with --pricing FILE)",
    "total_only": "whose usage is only a total",
    "unreadable": "with a token count unreadable at ingest",
    "dropped": "with a token count dropped as invalid by the SDK",
    "contradicting": "whose token counts contradict each other",
    "no_input": "with output tokens and no input count",
}

#: the reasons a query counts one by one (``no_price`` is the rest of the unpriced calls: :func:`from_counts`)
COUNTED: tuple[str, ...] = tuple(why for why in REASONS if why != "no_price")

_PRICED_COUNTS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
#: A priced count present but unreadable (``unreadable_columns``): priced from the counts left, the cost would be part
#: of the call's, so the ingest does not price it.
UNREADABLE_COUNT = "(" + " OR ".join(f"list_contains(coalesce(unreadable_columns, []::VARCHAR[]), '{c}')"
                                     for c in _PRICED_COUNTS) + ")"  # (SQL ClickHouse's transpiler reads too)
#: ``Usage.partly_counted``: a count the price depends on was dropped (a dropped bill or total is not one).
#: Read from the attribute's text (an OTLP array, a JSON list, or one name), which ClickHouse's transpiler
#: reads too: any quoted name left once the neutral ones and the OTLP keys are taken out.
_DROPPED_TEXT = f"coalesce(attr_values[list_position(attr_keys, '{semconv.OTEL_LLM_USAGE_DROPPED}')], '')"
_NEUTRAL = sorted(_COST_NEUTRAL_DROPS)
_PARTLY_COUNTED = (f"CASE WHEN starts_with({_DROPPED_TEXT}, '{{') OR starts_with({_DROPPED_TEXT}, '[') THEN "
                   f"regexp_matches(regexp_replace({_DROPPED_TEXT}, '\"({'|'.join([*_NEUTRAL, 'values', 'stringValue'])})\"', "
                   "'', 'g'), '\"[A-Za-z0-9_]+\"') "
                   f"ELSE {_DROPPED_TEXT} NOT IN ('', {', '.join(repr(n) for n in _NEUTRAL)}) END")
#: ``pricing._contradiction`` over the stored counts: cache reads and writes beyond the input that includes them
_CONTRADICTING = ("(coalesce(cache_read_tokens, 0) <> 0 OR coalesce(cache_write_tokens, 0) <> 0) AND "
                  "coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0) > coalesce(input_tokens, 0)")


def reason_sql(dropped: bool = True) -> str:
    """The reason (a key of :data:`REASONS`) of a call of ``llm_calls`` that is unpriced (``_filters.IS_UNPRICED``).

    ``dropped=False`` leaves out the dropped-count test, which reads every call's attribute lists: for a store
    known to hold no span with a dropped count (:func:`may_hold_dropped`).
    """
    dropped_case = f"WHEN {_PARTLY_COUNTED} THEN 'dropped' " if dropped else ""
    # (cache counts alone are no total-only usage: they contradict an input of none)
    return (f"CASE WHEN input_tokens IS NULL AND output_tokens IS NULL AND NOT ({CACHE_COUNTED}) THEN 'total_only' "
            f"WHEN {UNREADABLE_COUNT} THEN 'unreadable' {dropped_case}"
            f"WHEN {_CONTRADICTING} THEN 'contradicting' "
            "WHEN input_tokens IS NULL AND output_tokens IS NOT NULL THEN 'no_input' ELSE 'no_price' END")


REASON_SQL = reason_sql()


def may_hold_dropped(con: Any) -> bool:
    """False only for a DuckDB store known to hold no LLM span with ``otel_llm.usage.dropped`` (looked at once
    per data version: a narrow scan of the attribute names)."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return True
    return per_data_version(con, "usage dropped", lambda con: _holds(con, semconv.OTEL_LLM_USAGE_DROPPED))


def may_hold_refused(con: Any) -> bool:
    """Whether a store may hold an LLM span with ``otel_llm.cost.refused``: looked at once per data version, as
    :func:`may_hold_dropped` (on ClickHouse a read of the span table's kinds and attribute names, its version
    the span table's parts)."""
    return per_data_version(con, "cost refused", lambda con: _holds(con, semconv.OTEL_LLM_COST_REFUSED))


def _holds(con: duckdb.DuckDBPyConnection, attribute: str) -> bool:
    """Whether an LLM span carries ``attribute`` (True when the store cannot be asked)."""
    try:
        ((found,),) = con.execute(
            f"SELECT EXISTS (SELECT 1 FROM span_rows WHERE otel_kind = '{semconv.KIND_LLM_CALL}' "
            f"AND list_contains(attr_keys, '{attribute}'))").fetchall()
    except duckdb.Error:
        return True
    return bool(found)


#: The reason key of a call the SDK refused a price, before the SDK's text (``otel_llm.cost.refused``).
REFUSED = "refused: "
_REFUSED_TEXT = f"attr_values[list_position(attr_keys, '{semconv.OTEL_LLM_COST_REFUSED}')]"


def refusals(store: Any, key_sql: str, where: str, params: Mapping[str, Any], reason: str,
             is_unpriced: str = IS_UNPRICED) -> dict[Any, list[tuple[str, str, int]]]:
    """Per group (``key_sql`` over ``llm_calls``), the unpriced calls under ``where`` whose span says why the SDK
    refused them a price: ``(the reason`` ``reason`` gives, ``the SDK's text, calls)``. Empty, without a query,
    for a store that holds no such span (:func:`may_hold_refused`)."""
    con = connection(store)
    if not may_hold_refused(con):
        return {}
    found: dict[Any, list[tuple[str, str, int]]] = {}
    for key, why, text, calls in con.execute(
            f"SELECT {key_sql}, {reason}, {_REFUSED_TEXT}, count(*) FROM llm_calls WHERE ({where}) AND {is_unpriced} "
            f"AND list_contains(attr_keys, '{semconv.OTEL_LLM_COST_REFUSED}') GROUP BY ALL", dict(params)).fetchall():
        found.setdefault(key, []).append((why, text, calls))
    return found


def named_refusals(reasons: Mapping[str, int], refused: Sequence[tuple[str, str, int]]) -> dict[str, int]:
    """``reasons`` with the calls of ``refused`` (:func:`refusals`' of one group) moved from the reason the rules
    gave them to the SDK's own (``refused: <text>``, first: the SDK knew)."""
    named: dict[str, int] = {}
    left = dict(reasons)
    for why, text, calls in refused:
        named[REFUSED + text] = named.get(REFUSED + text, 0) + calls
        left[why] = left.get(why, 0) - calls
    return {**named, **{why: calls for why, calls in left.items() if calls > 0}}


def from_counts(unpriced: int, counts: Mapping[str, int]) -> dict[str, int]:
    """The reasons of ``unpriced`` calls from the counts of every reason but ``no_price`` (the rest), as a
    dict in :data:`REASONS`' order without the reasons no call has."""
    reasons = {**counts, "no_price": unpriced - sum(counts.values())}
    return {why: reasons[why] for why in REASONS if reasons.get(why)}


def reasons_of_traces(store: Any, trace_ids: Sequence[str]) -> dict[str, int]:
    """Reason -> unpriced calls among all the calls of the traces ``trace_ids`` (whole traces, as a ranking shows)."""
    where, params = "list_contains($ids, trace_id)", {"ids": list(trace_ids)}
    rows = dict(connection(store).execute(
        f"SELECT {REASON_SQL} AS why, count(*) FROM llm_calls WHERE {where} AND {IS_UNPRICED} GROUP BY ALL",
        params).fetchall())
    reasons = {why: rows[why] for why in REASONS if why in rows}
    return named_refusals(reasons, refusals(store, "NULL", where, params, REASON_SQL).get(None, []))


def reasons_text(reasons: Mapping[str, int]) -> str:
    """``reasons`` (reason -> calls) as a note says them: "1 whose price the SDK refused (its cost is ...), 2 whose
    model has no price (...), 1 whose usage ..."."""
    refused = [f"{calls} whose price the SDK refused ({why[len(REFUSED):]})" for why, calls in reasons.items()
               if why.startswith(REFUSED) and calls]
    return ", ".join(refused + [f"{reasons[why]} {REASONS[why]}" for why in REASONS if reasons.get(why)])
