"""Decorator options, checked once at decoration: what a span can carry, or a warning.

Why: a decorator's options become span names and attributes (``model``,
``graph``, ``collection``, ``temperature``...) and metric attribute sets, which
must be hashable. An option of the wrong type — ``model=["gpt-4o"]``,
``provider={"name": "openai"}``, ``temperature={"value": 0.2}`` — is the app's
mistake, but must neither break the function nor leave it silently
uninstrumented: the function is instrumented, and the option is recorded as
text (a name) or left out (a request setting), with one warning at decoration
naming the decorator and the option.
"""

from __future__ import annotations

import logging
import numbers
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm._content import as_text, type_name

__all__ = ["as_argument_name", "as_name", "as_setting"]

_log = logging.getLogger("otel_llm")
_PRIMITIVES = (str, bool, int, float)


def as_name(decorator: str, option: str, value: Any) -> str | None:
    """A name option (model, provider, graph, collection, id...): ``None``, a string, else its ``str`` (warned)."""
    if value is None or isinstance(value, str):
        return value
    text = as_text(value)
    _log.warning(
        "otel_llm.%s: %s=%s is not a string; recorded as its text %r", decorator, option, type_name(value), text
    )
    return text


def as_setting(decorator: str, option: str, value: Any) -> AttributeValue | None:
    """A request setting as a span attribute: a str/bool/int/float (another number type's value, such as
    numpy's, as an int or float), or a list or tuple of one of those types; anything else is left out (warned)."""
    if value is None or isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        kinds = {type(v) for v in value}
        if len(kinds) <= 1 and kinds <= set(_PRIMITIVES):
            return tuple(value)
    _log.warning(
        "otel_llm.%s: %s=%s is not a span attribute value (a str, bool, int, float or a list of one of them); "
        "left out", decorator, option, type_name(value),
    )
    return None


def as_argument_name(decorator: str, option: str, value: Any) -> str | None:
    """The name of the function's argument to read (``thread_id_arg``, ``call_id_arg``): ``None`` or a
    string; anything else is ignored (warned), as if it were not given."""
    if value is None or isinstance(value, str):
        return value
    _log.warning(
        "otel_llm.%s: %s=%s is not an argument name (a string); ignored", decorator, option, type_name(value)
    )
    return None

