"""``otel_llm.attempt(n)``: retries of the app's own loop, visible on the calls and their parent.

Why a context manager and not a retry helper: apps already retry their own
way (a ``for`` loop, tenacity, backoff); they only need to say which attempt
is running. Inside ``with otel_llm.attempt(n):``

* every llm_call, tool or agent started *directly* inside the block — its
  parent is the span that was current when the block was entered — carries
  ``otel_llm.attempt = n``; calls nested deeper (the model calls inside a
  retried tool) are not themselves retried and carry nothing;
* when the block ends, the span that was current on entry (the agent, chat
  turn or node running the loop) gets ``otel_llm.retry.attempts = n`` and
  ``otel_llm.retry.outcome`` = ``succeeded`` (the block ended normally) or
  ``gave_up`` (it raised). Each attempt overwrites the last one's values, so
  when the loop is over they say "succeeded on attempt N" or "gave up after
  N". One retry loop per enclosing span: two loops in one function overwrite
  each other's outcome (decorate the function that holds each loop).

Exceptions pass through untouched; the block never swallows one.
"""

from __future__ import annotations

import logging
import numbers
from types import TracebackType

from opentelemetry import context as otel_context
from opentelemetry import trace

from otel_llm import semconv
from otel_llm._entries import Entries
from otel_llm._guard import internal_error

__all__ = ["ATTEMPT_KEY", "attempt", "attempt_number"]

_log = logging.getLogger("otel_llm")
# The innermost attempt block: (its number, the span id of the span it was entered in).
ATTEMPT_KEY = otel_context.create_key("otel_llm.attempt")


def _span_id(ctx: otel_context.Context | None) -> int:
    return trace.get_current_span(ctx).get_span_context().span_id  # 0 outside any span


# The largest attempt number: an attribute OTLP can encode (a 64-bit integer).
_MAX_ATTEMPT = 2**63 - 1


class attempt:  # noqa: N801 — public API name is lower-case, like ``session``
    """Mark the calls started inside the block as attempt ``number`` (1 = the first try).

    ``with`` and ``async with``::

        for n in range(1, 4):
            try:
                with otel_llm.attempt(n):
                    return search_web(query)
            except TimeoutError:
                if n == 3:
                    raise
    """

    __slots__ = ("_number", "_value", "_entered")

    def __init__(self, number: int) -> None:
        self._number = number  # what the block gets back, as given
        self._value = _attempt_value(number)  # what the spans carry: an ``int``, or ``None`` (warned at entry)
        # Each open entry keeps the span it was entered in (the object may be entered again meanwhile).
        self._entered: Entries[trace.Span] = Entries()

    def __enter__(self) -> int:
        number = self._value
        if number is None:
            _log.warning("otel-llm: attempt(%r) ignored: the attempt number is an int, 1 for the first try", self._number)
            return self._number
        try:
            ctx = otel_context.get_current()
            value = (number, _span_id(ctx))
            self._entered.enter(otel_context.set_value(ATTEMPT_KEY, value, ctx), trace.get_current_span(ctx))
        except Exception as exc:  # noqa: BLE001 — our fault: the app's block still runs
            internal_error("attempts.enter", exc)
        return self._number

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            entered, span = self._entered.exit()
            if entered and span is not None and span.is_recording():
                outcome = semconv.RETRY_SUCCEEDED if exc_type is None else semconv.RETRY_GAVE_UP
                span.set_attributes(
                    {semconv.OTEL_LLM_RETRY_ATTEMPTS: self._value, semconv.OTEL_LLM_RETRY_OUTCOME: outcome}
                )
        except Exception as internal:  # noqa: BLE001
            internal_error("attempts.exit", internal)

    async def __aenter__(self) -> int:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _attempt_value(number: object) -> int | None:
    """``number`` as the ``int`` spans carry when it is an attempt number: an integer of any type
    (``numbers.Integral``: numpy's ``int64`` from ``np.arange``, an ``IntEnum``) from 1 to
    :data:`_MAX_ATTEMPT`; ``None`` for anything else (a ``bool``, a float, text, 0, a negative
    number, an app's integer type whose conversion raises)."""
    if isinstance(number, bool) or not isinstance(number, numbers.Integral):
        return None
    try:
        value = int(number)
    except Exception:  # noqa: BLE001 — the app's integer type raising: no attempt number
        return None
    return value if 1 <= value <= _MAX_ATTEMPT else None


def attempt_number(parent: otel_context.Context) -> int | None:
    """The attempt a span about to start in ``parent`` is, else ``None``.

    Only a span whose parent is the span the ``attempt`` block was entered in
    is the attempt itself. Runs for every llm_call, tool and agent: outside any
    block it is one lookup in ``parent``.
    """
    value = parent.get(ATTEMPT_KEY)  # a Context is a read-only dict
    if value is None:
        return None
    number, owner = value
    return number if _span_id(parent) == owner else None
