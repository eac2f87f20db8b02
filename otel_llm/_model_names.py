"""A model name as otel-llm records it: bounded in length, control characters escaped.

Why: a model name comes from the app's arguments (``model=``), a partial, the
decorator, ``record_usage(model=...)`` or the provider's response, and is copied
into the span name, ``gen_ai.request.model`` / ``gen_ai.response.model``, the
attributes of every metric point of its call site and the price lookup (which
matches it against every price in the table, on the app's call). A name of a
megabyte (an id joined to a payload, a user's text passed as the model) would
be all of those, on every call. No model id is near :data:`MAX_MODEL_CHARS`
(Bedrock's ARNs, the longest, are about a hundred), so a longer one is cut with
the marker captured content is cut with (:func:`otel_llm._content.truncated`:
``…[truncated from N chars]``, the length it had), and never priced. A control
character (a newline, a terminal escape) is no part of a model id either, and
raw it would break a span name shown on one line or reach a terminal: whitespace
around such a name (a line's end read from a file) is trimmed, as the price lookup
trims it (so ``"gpt-4o\\n"`` is still recorded and priced as ``gpt-4o``), and each
control character left is written as its ``\\xNN`` escape. The first name cut and the first escaped are
each said once on stderr (:mod:`otel_llm._notices`); names already fit for
recording (nearly all) come back as they are, at the cost of three string tests.
"""

from __future__ import annotations

import re

from otel_llm import _notices
from otel_llm._content import truncated, utf8_safe
from otel_llm._usage import shown

__all__ = ["MAX_MODEL_CHARS", "model_name"]

# The longest model name recorded whole (module docstring); longer ones are cut to it with the marker.
MAX_MODEL_CHARS = 512
# C0 controls, DEL and C1 controls (Unicode category Cc).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_said: set[str] = set()  # what was said once: "cut", "control"


def model_name(text: str) -> str:
    """``text`` (a model name) as spans, span names, metric points and the price lookup take it: cut past
    :data:`MAX_MODEL_CHARS` with the marker, :func:`utf8_safe`, and with control characters trimmed from its
    ends with the whitespace there, those inside as ``\\xNN`` (each of those four characters long: a name of
    control characters is recorded at most four times as long)."""
    if len(text) <= MAX_MODEL_CHARS and text.isascii() and text.isprintable():
        return text
    whole = len(text)
    if whole > MAX_MODEL_CHARS:
        text = truncated(text, MAX_MODEL_CHARS)
        _once("cut", f"a model name of {whole} chars ({shown(text[:60])}) is recorded cut to {MAX_MODEL_CHARS} "
                     f"chars, ending '…[truncated from {whole} chars]', and gets no price; no model id is that "
                     "long: check what the app passes as the model. Further such names are not reported")
    text = utf8_safe(text)
    if _CONTROL.search(text) is not None:
        _once("control", f"a model name holds control characters ({shown(text[:60])}): recorded without the "
                         "whitespace around it (as prices are looked up) and with each one left written as its "
                         "\\xNN escape; further such names are not reported")
        text = _CONTROL.sub(_escape, text.strip() or text)
    return text


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _once(what: str, text: str) -> None:
    if what not in _said:
        _said.add(what)
        _notices.notice(text)
