"""Capture policy for user text (prompts, completions, explanations).

Why a policy object: whether text may leave the process is a privacy decision
made once in ``configure()`` (or by
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``); every place that could
record text asks :meth:`ContentPolicy.text` and gets ``None`` unless the user
opted in. Captured text passes through the user's ``redact`` hook, then is
bounded so one huge prompt cannot bloat a span.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Callable

__all__ = ["ContentPolicy", "render"]

_log = logging.getLogger("otel_llm.content")
_REDACT_FAILED = "[redaction failed]"
_RENDER_FAILED = "[unrenderable {type}]"


def render(value: object) -> str:
    """Text of any value: strings as-is, JSON for plain data, ``repr`` otherwise. Never raises."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except Exception:  # noqa: BLE001 — cycles, hostile __repr__ ...
        try:
            return repr(value)
        except Exception:  # noqa: BLE001
            return _RENDER_FAILED.format(type=type(value).__name__)


@dataclass(frozen=True)
class ContentPolicy:
    """Whether and how user text is captured: off by default, redacted, bounded."""

    capture: bool = False
    redact: Callable[[str], str] | None = None
    max_chars: int = 8192

    def text(self, value: object) -> str | None:
        """The capturable text of ``value``, or ``None`` when capture is off. Never raises.

        A failing ``redact`` hook yields a placeholder rather than the
        unredacted text: when in doubt, leak nothing.
        """
        if not self.capture or value is None:
            return None
        text = render(value)
        if self.redact is not None:
            try:
                text = self.redact(text)
                if not isinstance(text, str):
                    text = render(text)
            except Exception:  # noqa: BLE001 — the user's hook must not break their call
                _log.warning("otel-llm: redact hook raised; content dropped", exc_info=True)
                return _REDACT_FAILED
        return self.truncate(text)

    def truncate(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return f"{text[: self.max_chars]}…[truncated from {len(text)} chars]"
