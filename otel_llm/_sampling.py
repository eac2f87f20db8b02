"""Whether the spans of otel-llm's calls are sampled, said once when otel-llm attaches to a tracer provider.

Why: otel-llm's metric points count every call whatever the sampler (they are
recorded from the call, not from its span), but calls, tokens and cost read
from spans (``otel-llm ingest``, reports, budgets) cover only the calls whose
spans were kept. A sampler that drops root spans (``TraceIdRatioBased``, the
``traceidratio`` / ``parentbased_traceidratio`` of ``OTEL_TRACES_SAMPLER``,
``AlwaysOff``, or one of the app's own) makes those figures a part taken for
the whole unless someone knows: one notice on stderr names it. A sampler that
keeps every root span (the SDK's default ``ParentBased{root:AlwaysOn}``) is not
said: what it drops under a parent that was not sampled is the app's own
distributed-tracing decision, made upstream of this process.

Read from the provider's ``sampler`` and its ``get_description()`` (the SDK's
public description), so nothing of the SDK is imported; a provider without a
sampler (the API's proxy or no-op provider, another SDK) says nothing.
"""

from __future__ import annotations

import re
from typing import Any

from otel_llm import _notices
from otel_llm._guard import internal_error

__all__ = ["say_if_sampled"]

_said: set[str] = set()  # descriptions of the samplers already said
# The SDK's descriptions of samplers that keep every root span: always-on, a ratio of 1 or more.
_KEEPS_EVERY_ROOT = re.compile(r"(ParentBased\{root:)?(AlwaysOnSampler|TraceIdRatioBased\{(?P<rate>[^}]*)\})")


def say_if_sampled(tracer_provider: Any) -> None:
    """One notice on stderr, once per sampler, when ``tracer_provider``'s sampler may drop calls' spans. Never raises."""
    try:
        sampler = getattr(tracer_provider, "sampler", None)
        if sampler is None:
            return
        description = str(sampler.get_description())
        if description in _said or _keeps_every_root(description):
            return
        _said.add(description)
        _notices.notice(
            f"spans go to a tracer provider whose sampler ({description}) keeps only some calls' spans: "
            "otel-llm's metrics (gen_ai.client.operation.duration, gen_ai.client.token.usage, otel_llm.cost) "
            "still count every call, but calls, tokens and cost read from spans (otel-llm ingest, reports, "
            "budgets) cover the sampled calls alone. For whole figures from spans, keep every root span "
            "(OTEL_TRACES_SAMPLER=parentbased_always_on)."
        )
    except Exception as exc:  # noqa: BLE001 — the app's sampler or provider: a notice is not worth a raise
        internal_error("sampling: describe the sampler", exc)


def _keeps_every_root(description: str) -> bool:
    """Whether a sampler so described samples every root span (its ratio, if any, 1 or more)."""
    match = _KEEPS_EVERY_ROOT.match(description)
    if match is None:
        return False
    rate = match.group("rate")
    if rate is None:
        return True
    try:
        return float(rate) >= 1.0
    except ValueError:
        return False
