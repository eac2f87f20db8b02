"""DuckDB's ``quantile_cont`` in ClickHouse SQL, to the last bit.

Both engines interpolate linearly between the two values around ``(n - 1) * q``,
but each writes the interpolation its own way: ClickHouse's
``quantileExactInclusive`` takes the fraction from ``q * (n - 1) + 1`` (one more
rounding) and adds ``lo + frac * (hi - lo)``; DuckDB takes it from
``RN = (n - 1) * q`` (``d = RN - floor(RN)``) and computes ``lo * (1 - d) + hi * d``,
which its build contracts to one fused multiply-add, ``fma(lo, 1 - d, hi * d)``
(checked against DuckDB over random samples: ``test_quantile_clickhouse.py``). So a
p95 differed in its last bits between the engines. Here the two values are picked
from the sorted values and DuckDB's arithmetic is redone; ClickHouse has no
``fma``, so it is computed exactly from error-free products and sums (Dekker's
split, Knuth's two-sum), rounded once as the fused instruction rounds.

Lambda parameters are named ``__q_…`` so they never shadow a column of the query.
"""

from __future__ import annotations

__all__ = ["fused_multiply_add", "interpolated"]

#: Veltkamp's splitter for doubles (2**27 + 1): a * it splits a into two 26-bit halves.
_SPLIT = "134217729.0"


def _bind(names: list[str], values: list[str], body: str) -> str:
    """``body`` with each of ``names`` bound to the SQL of its value, each computed once (a lambda's argument)."""
    parameters = ", ".join(names)
    arrays = ", ".join(f"[{value}]" for value in values)
    return f"arrayMap(({parameters}) -> {body}, {arrays})[1]"


def _halves(value: str, high: str, low: str, body: str) -> str:
    """``body`` with ``high`` + ``low`` = ``value`` exactly, each with at most 26 significant bits."""
    scaled = f"{_SPLIT} * {value}"
    return _bind([high], [f"({scaled}) - (({scaled}) - {value})"], _bind([low], [f"{value} - {high}"], body))


def fused_multiply_add(a: str, b: str, c: str) -> str:
    """``a * b + c`` rounded once (C's ``fma``), for Float64 SQL expressions ``a``, ``b``, ``c``.

    ``a * b`` is ``p + e`` exactly (``p`` the rounded product, ``e`` its error from the halves of ``a`` and
    ``b``); ``p + c`` is ``s + t`` exactly (two-sum); the result is ``s + (t + e)``."""
    error = "((__q_ah * __q_bh - __q_p) + __q_ah * __q_bl + __q_al * __q_bh) + __q_al * __q_bl"
    two_sum = _bind(["__q_s"], ["__q_p + __q_c"], _bind(
        ["__q_v"], ["__q_s - __q_p"], "__q_s + (((__q_p - (__q_s - __q_v)) + (__q_c - __q_v)) + __q_e)"))
    body = _bind(["__q_e"], [error], two_sum)
    body = _halves("__q_a", "__q_ah", "__q_al", _halves("__q_b", "__q_bh", "__q_bl", body))
    return _bind(["__q_a", "__q_b", "__q_c"], [a, b, c], _bind(["__q_p"], ["__q_a * __q_b"], body))


def interpolated(values: str, fraction: str) -> str:
    """DuckDB's ``quantile_cont`` at ``fraction`` of ``values`` (SQL of a sorted, non-empty ``Array(Float64)``):
    ``RN = (n - 1) * q``; the value at ``floor(RN)`` when ``RN`` is whole, else ``fma(lo, 1 - d, hi * d)``
    of the values at ``floor(RN)`` and ``ceil(RN)``, ``d = RN - floor(RN)``."""
    interpolate = fused_multiply_add("__q_lo", "1.0 - __q_d", "__q_hi * __q_d")
    at = _bind(["__q_lo", "__q_hi", "__q_d"],
               [f"{values}[toUInt64(floor(__q_rn)) + 1]", f"{values}[toUInt64(ceil(__q_rn)) + 1]",
                "__q_rn - floor(__q_rn)"],
               f"if(__q_d = 0, __q_lo, {interpolate})")
    return _bind(["__q_rn"], [f"toFloat64(length({values}) - 1) * {fraction}"], at)
