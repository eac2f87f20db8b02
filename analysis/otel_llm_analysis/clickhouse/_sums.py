"""Sums as DuckDB's: costs that do not depend on the order of the rows, token counts past 64 bits.

Floating-point addition is not associative, and ClickHouse's ``sum`` of a float
adds in several interleaved partial sums, over the rows in whatever order parts,
merges and threads give them: the same costs stored in another order could total
to other last digits. A sum of the values sorted ascending and added left to right
(``arraySum(arraySort(groupArray(x)))``; ``arraySum`` adds in order) has one answer
for one multiset of values — the answer DuckDB gives for
``list_sum(list_sort(list(x)))``, whose ``list_sum`` also adds in order. So the
engines agree to the bit once both sum costs this way.

Which sums: those of a cost (:func:`is_cost`), the analyses' money; a count is
exact in any order, and sorting every sum would cost each query for nothing.
Over no values the sum is NULL, as ``sum``'s.

Token counts (:func:`is_tokens`): DuckDB sums a ``BIGINT`` into a ``HUGEINT`` (128 bits), exact past
2**63 - 1; ClickHouse's ``sum`` of an ``Int64`` is an ``Int64`` that wraps around in silence (a negative
total). Summed as ``Int128`` (:func:`wide_sum`), they read as DuckDB's.
"""

from __future__ import annotations

import re

__all__ = ["is_cost", "is_tokens", "sorted_sum", "wide_sum", "expand"]

#: A cost column: ``cost``, ``cost_usd``, ``retry_cost_usd``, ``estimated_cost_usd`` (not ``unknown_cost_calls``).
_COST_COLUMN = re.compile(r"(^|_)cost(_usd)?$")


def is_cost(column: str) -> bool:
    """Whether ``column`` (a name) holds a cost in dollars."""
    return bool(_COST_COLUMN.search(column))


def is_tokens(column: str) -> bool:
    """Whether ``column`` (a name) holds a token count (``input_tokens``, ``tokens``, …; an integer)."""
    return column.endswith("tokens")


def wide_sum(values: str, condition: str | None = None) -> str:
    """ClickHouse SQL: the sum of the integers ``values`` in 128 bits (``Int128``, DuckDB's ``HUGEINT``),
    over the rows where ``condition`` holds when given."""
    return f"sum(toInt128({values}))" if condition is None else f"sumIf(toInt128({values}), {condition})"


def sorted_sum(values: str, condition: str | None = None) -> str:
    """ClickHouse SQL: the sum of ``values`` (an expression; NULLs left out) over the group, sorted and added
    in order, NULL over no values; only the rows where ``condition`` holds (DuckDB's ``FILTER (WHERE …)``)."""
    gathered = f"groupArray({values})" if condition is None else f"groupArrayIf({values}, {condition})"
    return sorted_array_sum(gathered)


def sorted_array_sum(array: str) -> str:
    """ClickHouse SQL: the sum of the values of ``array`` sorted ascending, added in order; NULL when empty."""
    return f"if(empty({array}), NULL, arraySum(arraySort({array})))"


#: In the view files: ``sortedSum(x)`` / ``sortedSumIf(x, condition)``, arguments without parentheses.
_MARKER = re.compile(r"\bsortedSum(If)?\(([^()]*)\)")


def expand(text: str) -> str:
    """``text`` (ClickHouse SQL of a view file) with each ``sortedSum(x)`` / ``sortedSumIf(x, c)`` written out
    (:func:`sorted_sum`). A marker left (an argument with parentheses) is an error, never sent to the server."""
    def written(match: re.Match[str]) -> str:
        if match.group(1):
            values, condition = (part.strip() for part in match.group(2).split(",", 1))
            return sorted_sum(values, condition)
        return sorted_sum(match.group(2).strip())

    expanded = _MARKER.sub(written, text)
    if "sortedSum" in expanded:
        raise ValueError("sortedSum( with an argument in parentheses: give it a column")
    return expanded
