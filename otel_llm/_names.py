"""Names and ids from the app or the model as otel-llm records them: bounded in length, control characters
escaped.

Why: a model name comes from the app's arguments (``model=``), a partial, the
decorator, ``record_usage(model=...)`` or the provider's response; a tool name
and a tool call id from the model's tool call; a response id from the response.
Each is copied into the span name or its attributes (``gen_ai.request.model`` /
``gen_ai.response.model``, ``gen_ai.tool.name``, ``gen_ai.tool.call.id``,
``gen_ai.response.id``), names into the attributes of every metric
point of its call site, and for a model the price lookup (which matches it
against every price in the table, on the app's call), for a tool call id the
ids remembered to link tool spans to the model call that asked for them. One
of a megabyte (an id joined to a payload, a user's text passed as the model, a
model making a tool name up) would be all of those, on every call. No real
name or id is near :data:`MAX_NAME_CHARS` (Bedrock's ARNs, the longest model
ids, are about a hundred), so a longer one is cut with the marker captured
content is cut with (:func:`otel_llm._content.truncated`: ``…[truncated from N
chars]``, the length it had); a model so cut is never priced. A control
character (a newline, a terminal escape) is no part of one either, and raw it
would break a span name shown on one line or reach a terminal: whitespace
around such a name (a line's end read from a file) is trimmed, as the price
lookup trims it (so ``"gpt-4o\\n"`` is still recorded and priced as
``gpt-4o``), and each control character left is written as its ``\\xNN``
escape. The first name of each kind cut and the first escaped are each said
once on stderr (:mod:`otel_llm._notices`); names already fit for recording
(nearly all) come back as they are, at the cost of three string tests.
"""

from __future__ import annotations

import re

from otel_llm import _notices
from otel_llm._content import as_text, truncated, utf8_safe
from otel_llm._usage import shown

__all__ = ["MAX_FINISH_REASONS", "MAX_NAME_CHARS", "MAX_TOOL_CALL_IDS", "at_most", "bounded_name", "bounded_value",
           "finish_reasons", "model_name", "tool_call_ids"]

# The longest name or id recorded whole (module docstring); longer ones are cut to it with the marker.
MAX_NAME_CHARS = 512
# C0 controls, DEL and C1 controls (Unicode category Cc).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# The end :func:`otel_llm._content.truncated` gives a name it cuts.
_CUT = re.compile(r"…\[truncated from \d+ chars\]")
# The most finish reasons a call records (one per choice: OpenAI's ``n`` asks for at most 128); the last
# of a longer list's is its marker, saying how many it had.
MAX_FINISH_REASONS = 128
# The most tool call ids a call's span lists (OpenAI takes at most 128 tools a request); the last of a
# longer list's is its marker, saying how many it had.
MAX_TOOL_CALL_IDS = 128
_said: set[str] = set()  # what was said once: ("cut " or "control ") + the kind of name


def model_name(text: str) -> str:
    """``text`` (a model name) as spans, span names, metric points and the price lookup take it
    (:func:`bounded_name`)."""
    return bounded_name(text, "model name")


def finish_reasons(reasons: tuple[str, ...]) -> tuple[str, ...]:
    """A response's finish reasons (``gen_ai.response.finish_reasons``) as spans take them: each a
    :func:`bounded_name`, at most :data:`MAX_FINISH_REASONS` of them, the last of a longer list
    ``…[truncated from N finish reasons]`` (said once on stderr). A single fitting reason (nearly every
    call) comes back as it is, at the cost of three string tests."""
    if len(reasons) == 1:
        reason = reasons[0]
        if type(reason) is str and len(reason) <= MAX_NAME_CHARS and reason.isascii() and reason.isprintable():
            return reasons
    kept = [bounded_name(as_text(r), "finish reason") for r in reasons[:MAX_FINISH_REASONS]]
    return tuple(at_most(kept, len(reasons), MAX_FINISH_REASONS, "finish reasons"))


def tool_call_ids(ids: list[str]) -> list[str]:
    """A response's tool call ids (each a bounded :func:`otel_llm._toolcalls.tool_call_id`) as its span lists
    them (``otel_llm.response.tool_call_ids``): at most :data:`MAX_TOOL_CALL_IDS`, the last of a longer list
    ``…[truncated from N tool call ids]`` (said once on stderr)."""
    return at_most(ids, len(ids), MAX_TOOL_CALL_IDS, "tool call ids")


def at_most(first: list[str], whole: int, most: int, what: str) -> list[str]:
    """The first items of a list of ``whole`` items (``first``: at least ``most`` of them, or all) as an attribute
    takes them: all when ``whole`` <= ``most``, else the first ``most - 1`` and ``…[truncated from N <what>]``,
    said once on stderr."""
    if whole <= most:
        return first
    _once(f"many {what}", f"a response with {whole} {what} is recorded with its first {most - 1} and "
                          f"'…[truncated from {whole} {what}]'; further such responses are not reported")
    return [*first[: most - 1], f"…[truncated from {whole} {what}]"]


def bounded_name(text: str, what: str) -> str:
    """``text`` (a name or id of the kind ``what``, for the notice) as spans, span names and metric points take
    it: cut past :data:`MAX_NAME_CHARS` with the marker, :func:`utf8_safe`, and with control characters trimmed
    from its ends with the whitespace there, those inside as ``\\xNN`` (each of those four characters long: a
    name of control characters is recorded at most four times as long)."""
    if len(text) <= MAX_NAME_CHARS and text.isascii() and text.isprintable():
        return text
    if _CUT.fullmatch(text, MAX_NAME_CHARS) is not None and text[:MAX_NAME_CHARS].isprintable():
        return text  # a name this cut already (a name passed on inside otel-llm): cut once, not again
    whole = len(text)
    if whole > MAX_NAME_CHARS:
        text = truncated(text, MAX_NAME_CHARS)
        _once(f"cut {what}", f"a {what} of {whole} chars ({shown(text[:60])}) is recorded cut to {MAX_NAME_CHARS} "
                             f"chars, ending '…[truncated from {whole} chars]' (a model so cut gets no price); none "
                             "is that long: check where it comes from. Further such names are not reported")
    text = utf8_safe(text)
    if _CONTROL.search(text) is not None:
        _once(f"control {what}", f"a {what} holds control characters ({shown(text[:60])}): recorded without the "
                                 "whitespace around it (as prices are looked up) and with each one left written "
                                 "as its \\xNN escape; further such names are not reported")
        text = _CONTROL.sub(_escape, text.strip() or text)
    return text


def bounded_value(text: str, what: str, limit: int) -> str:
    """``text`` (a value of the kind ``what`` the app gives a session: its thread or user id, a ``run_config``
    value) as every span inside the session takes it: at most ``limit`` characters *in all*, a longer one
    cut to end with ``…[truncated from N chars]`` (said once on stderr for each kind).

    ``limit`` is the SDK's span attribute value length limit when one is set, else
    :data:`MAX_NAME_CHARS` (``Runtime.value_chars``): the marker fits within it, so the
    SDK's own cut to the same limit, which says nothing, leaves it. A limit shorter than
    the marker gets the text's start alone, as the SDK would cut it. Text that fits
    comes back as it is, at the cost of one length test. ``text`` is already :func:`utf8_safe`
    (``as_text``): a cut between two code points leaves it so.
    """
    whole = len(text)
    if whole <= limit:
        return text
    marker = truncated("", 0, whole)
    cut = truncated(text, limit - len(marker), whole) if limit > len(marker) else text[:limit]
    # Not quoted: the app's own data (a user id, a user's text passed as the thread id).
    _once(f"cut {what}", f"a session's {what} of {whole:,} chars is recorded on its spans cut to {limit} chars, "
                         f"ending '{marker}' (otel-llm's bound, or the SDK's attribute value length limit when "
                         "set); further such values are not reported")
    return cut


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _once(what: str, text: str) -> None:
    if what not in _said:
        _said.add(what)
        _notices.notice(text)
