"""``record_usage`` and ``record_evaluation``: facts the return value cannot carry.

Why explicit calls: some clients return plain text (usage known only from a
header or a callback), and quality checks happen after the answer exists.
Both functions are fire-and-forget: they never raise into the app (``_guard``)
and do nothing outside a span that can take them (counts given to
``record_usage`` there are lost, and stderr says so once).
"""

from __future__ import annotations

import numbers
from decimal import Decimal

from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

from otel_llm import _notices, _runtime, semconv
from otel_llm._content import as_text, type_name
from otel_llm._core import current_usage_sink
from otel_llm._guard import guarded
from otel_llm._usage import Billing, Usage, _amount, refused_bill, token_count

__all__ = ["record_evaluation", "record_usage"]

_outside_said = False
_bad_model_said = False
_bad_cost_said = False
_bad_score_said = False


@guarded("record.usage", None)
def record_usage(
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cache_read_tokens: int | None = None,
    cache_write_tokens: int | None = None,
    reasoning_tokens: int | None = None,
    model: str | None = None,
    cache_write_1h_tokens: int | None = None,
    cost_usd: float | None = None,
) -> None:
    """Add token counts to the innermost active ``llm_call`` (its values win over the result's).

    ``input_tokens`` counts *all* input tokens, cached ones included; ``model``
    is the model that actually answered (priced instead of the requested one).
    ``cache_write_1h_tokens``: of ``cache_write_tokens``, those kept for an
    hour (Anthropic's 1-hour TTL), priced at the 1-hour write rate.
    ``cost_usd``: what the provider billed for the call, in USD: the span's
    cost (``otel_llm.cost.source`` = ``record_usage``) instead of a pricing of
    its tokens. A count that is not an integer in 0..2**63-1 is dropped with a
    notice on stderr (see ``_usage.token_count``), as is a ``model`` that is not
    a non-empty string and a ``cost_usd`` that is not a finite number >= 0 (named
    ``billed_cost`` in ``otel_llm.usage.dropped``; the call is priced from its
    tokens). Outside an llm_call (or after it ended) no span can take the
    counts: they are not recorded, and the first time stderr says so.
    """
    global _outside_said
    sink = current_usage_sink()
    if sink is None or sink.ended:
        if not _outside_said:
            _outside_said = True
            _notices.notice(
                "otel_llm.record_usage() was called outside any @otel_llm.llm_call (or after it ended): its counts are "
                "not recorded. Call it inside the decorated model call (said once)."
            )
        return
    dropped: list[str] = []
    counts = {
        name: token_count(value, name, dropped, strict=True)
        for name, value in (
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("cache_read_tokens", cache_read_tokens),
            ("cache_write_tokens", cache_write_tokens),
            ("reasoning_tokens", reasoning_tokens),
        )
    }
    write_1h = token_count(cache_write_1h_tokens, "cache_write_1h_tokens", dropped, strict=True)
    cost = _billed(cost_usd, dropped)
    billing = None
    if write_1h is not None or cost is not None:
        billing = Billing(cache_write_1h_tokens=write_1h, cost_usd=cost,
                          cost_source="record_usage" if cost is not None else None)
    sink.add_usage(Usage(**counts, response_model=_model_name(model), dropped=tuple(dropped), billing=billing))


def _billed(cost_usd: object, dropped: list[str]) -> float | None:
    """``cost_usd`` as an amount in USD; anything else, and an amount beyond one call's cost
    (:func:`otel_llm._usage.refused_bill`), is dropped (named ``billed_cost``, said once on stderr)."""
    global _bad_cost_said
    if cost_usd is None:
        return None
    cost = _amount(cost_usd)
    if cost is None:
        dropped.append("billed_cost")
        if not _bad_cost_said:
            _bad_cost_said = True
            _notices.notice(
                f"record_usage(cost_usd=...) ignored: a cost is a finite number >= 0 in USD, got {cost_usd!r:.80}; "
                "the call is priced from its tokens, further such values are not reported"
            )
    elif refused_bill(cost, "record_usage(cost_usd)", dropped):
        return None
    return cost


def _model_name(model: object) -> str | None:
    """``model`` if it is a non-empty string; anything else is dropped (said once on stderr)."""
    global _bad_model_said
    if model is None or (isinstance(model, str) and model):
        return model
    if not _bad_model_said:
        _bad_model_said = True
        _notices.notice(
            f"record_usage(model=...) ignored: the model must be a non-empty string, got a {type_name(model)}; "
            "the call is priced as the requested model, further such values are not reported"
        )
    return None


def _score(score: object) -> float | None:
    """``score`` as a float when it is a real number of any type (``bool``, numpy's, ``Decimal``, ``Fraction``
    included) that a float can hold; anything else (a mock, whose ``__float__`` answers 1.0, text, a number
    too big for a float) is dropped, said once on stderr."""
    global _bad_score_said
    if score is None:
        return None
    if isinstance(score, (numbers.Real, Decimal)):
        try:
            return float(score)
        except Exception:  # noqa: BLE001 — beyond a float (10**400), or the app's number type raising: no score
            pass
    if not _bad_score_said:
        _bad_score_said = True
        _notices.notice(
            f"otel_llm.record_evaluation(score=...) ignored: a score is a number a float can hold, got a {type_name(score)}; "
            "the evaluation is recorded without it, further such values are not reported"
        )
    return None


@guarded("record.evaluation", None)
def record_evaluation(
    name: str,
    score: float | None = None,
    label: str | None = None,
    explanation: str | None = None,
) -> None:
    """Emit a ``gen_ai.evaluation.result`` event on the current span (a QA check's verdict).

    ``explanation`` is user-derived text: recorded only when content capture is on.
    """
    span = trace.get_current_span()
    if not span.is_recording():
        return
    attrs: dict[str, AttributeValue] = {semconv.GEN_AI_EVALUATION_NAME: as_text(name)}
    value = _score(score)
    if value is not None:
        attrs[semconv.GEN_AI_EVALUATION_SCORE_VALUE] = value
    if label is not None:
        attrs[semconv.GEN_AI_EVALUATION_SCORE_LABEL] = as_text(label)
    if explanation is not None:
        text = _runtime.current().content.text(explanation)
        if text is not None:
            attrs[semconv.GEN_AI_EVALUATION_EXPLANATION] = text
    span.add_event(semconv.EVENT_EVALUATION_RESULT, attrs)
