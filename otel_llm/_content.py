"""Capture policy for user text (prompts, completions, tool arguments, explanations, errors).

Why a policy object: whether text may leave the process is a privacy decision
made once in ``configure()`` (or by
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``); every place that could
record text asks :meth:`ContentPolicy.text` and gets ``None`` unless the user
opted in. Captured text passes through the user's ``redact`` hook, then is
bounded so one huge prompt cannot bloat a span.

Some app text is recorded whatever the capture setting, because it is how a
failure is diagnosed: exception messages and stack traces on spans (status
description, ``exception.message``, ``exception.stacktrace``) and the bodies of
log records the logs bridge exports. The ``redact`` hook applies to those too,
at the moment otel-llm copies them (:meth:`ContentPolicy.scrub`,
:meth:`ContentPolicy.exception_attributes`, :meth:`ContentPolicy.log_record`);
they are not truncated (the end of a stack trace is the part that matters).
"""

from __future__ import annotations

import copy
import json
import logging
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from opentelemetry import context as otel_context

from otel_llm import semconv

__all__ = [
    "REDACTING_KEY", "SUPPRESS_INSTRUMENTATION_KEY", "ContentPolicy", "StreamedText", "as_text", "encodable", "class_name", "render", "truncated", "type_name", "utf8_safe",
]

# Set in the context the ``redact`` hook runs in. The hook is otel-llm's work, not the app's:
# a decorated function it calls runs bare (``_core.open_call``), or recording it would copy the
# very text being redacted and send it through the hook again, without end; OpenTelemetry's
# "suppress instrumentation" is set too, so other instrumentations (an HTTP client's, a
# provider's) record nothing of it either.
REDACTING_KEY = otel_context.create_key("otel_llm.redacting")
# OpenTelemetry's "suppress instrumentation" flag (set while span processors export), ``None`` if it has none.
SUPPRESS_INSTRUMENTATION_KEY = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", None)

_log = logging.getLogger("otel_llm.content")
# The fields every LogRecord has (and the two ``Formatter`` adds); any other field came from ``extra=``.
_LOG_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_REDACT_FAILED = "[redaction failed]"
T = TypeVar("T")
_RENDER_FAILED = "[unrenderable {type}]"


# The type's own name and qualified name, read past its metaclass.
_TYPE_NAMES = (type.__dict__["__name__"], type.__dict__["__qualname__"])


def type_name(value: object, qualified: bool = False) -> str:
    """The name (``qualified``: the qualified name) of ``value``'s class (:func:`class_name`). Never raises."""
    return class_name(type(value), qualified)


def class_name(tp: type, qualified: bool = False) -> str:
    """The name (``qualified``: the qualified name) of the class ``tp``. Never raises.

    A metaclass may make ``__name__``/``__qualname__`` raise or be no string (proxies,
    lazy loaders, mocks): the name the class was created with is then read through
    ``type``'s own descriptor, and failing that it is ``_OTHER`` (OpenTelemetry's
    ``error.type`` for a type that cannot be named).
    """
    try:
        name = tp.__qualname__ if qualified else tp.__name__
        if isinstance(name, str):
            return name
    except Exception:  # noqa: BLE001 — the app's metaclass: not our fault
        pass
    try:
        name = _TYPE_NAMES[qualified].__get__(tp, type(tp))
        if isinstance(name, str):
            return name
    except Exception:  # noqa: BLE001
        pass
    return semconv.ERROR_TYPE_OTHER


def _exception_text(exc: BaseException) -> str:
    """``str(exc)``; an exception's ``__str__`` may itself raise."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 — the app's exception cannot be rendered: not our fault
        return _RENDER_FAILED.format(type=type_name(exc))


def _stack_text(exc: BaseException, message: str) -> str:
    """``exc``'s stack trace as ``traceback`` formats it; when the exception (or one it was raised from)
    cannot be formatted, its own frames and ``Type: message``."""
    try:
        return "".join(traceback.format_exception(exc))
    except Exception:  # noqa: BLE001 — the app's exception class cannot be named by traceback
        frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        return f"Traceback (most recent call last):\n{frames}{type_name(exc, qualified=True)}: {message}\n"


# How many exceptions of a chain (``raise ... from``, raised while handling) are looked at.
_CHAIN_LIMIT = 8


def _chain_texts(exc: BaseException, message: str) -> list[str]:
    """``message`` (``exc``'s) and the messages of the exceptions ``exc`` was raised from or
    while handling: the texts of its stack trace that come from the app's data."""
    texts = [message]
    seen = {id(exc)}
    link = exc.__cause__ or exc.__context__
    while link is not None and id(link) not in seen and len(texts) < _CHAIN_LIMIT:
        seen.add(id(link))
        texts.append(_exception_text(link))
        link = link.__cause__ or link.__context__
    return texts


def _message_text(record: logging.LogRecord) -> str:
    """The formatted message of a log record; a bad format string is the app's, shown raw."""
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 — the app's format string and args do not match: not our fault
        return as_text(record.msg)  # the app's own text of it, as the export without a redact hook gives


def utf8_safe(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: what UTF-8, and so OTLP, can carry.

    Python strings may hold lone surrogates (``os.fsdecode`` of a non-UTF-8 file
    name, ``json.loads`` of ``"\\ud800"``, ``surrogateescape``). A span whose status
    description holds one cannot be encoded, and its whole export batch is lost;
    an attribute holding one is dropped with an error in the app's log. Valid
    text (every ASCII string at once) comes back as it is; a surrogate pair, the
    character it encodes.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16: a pair of surrogates becomes the character it encodes, a lone one U+FFFD.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


# OTLP's integers are 64-bit: its encoder drops a larger one (logging an error in the app's log).
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _big(value: object) -> bool:
    return type(value) is int and not _INT64_MIN <= value <= _INT64_MAX  # type: ignore[operator]


def encodable(value: T) -> T:
    """An attribute value as OTLP can encode it: text :func:`utf8_safe`, an integer beyond 64 bits as its
    decimal text; in a list or tuple likewise (all its integers as text when one is that big: a list's
    values share a type). Other values, and values already encodable, come back as they are."""
    if isinstance(value, str):
        return utf8_safe(value)  # type: ignore[return-value]
    if _big(value):
        return str(value)  # type: ignore[return-value]
    if isinstance(value, (list, tuple)):
        if any(_big(v) for v in value):
            return type(value)(str(v) for v in value)  # type: ignore[return-value]
        if any(isinstance(v, str) and utf8_safe(v) is not v for v in value):
            return type(value)(utf8_safe(v) if isinstance(v, str) else v for v in value)  # type: ignore[return-value]
    return value


def as_text(value: object) -> str:
    """``str(value)`` as an attribute can carry it (:func:`utf8_safe`): the app's name, id or key.

    Never raises: a value whose ``__str__`` raises is ``[unrenderable Type]``.
    """
    if type(value) is str:
        return utf8_safe(value)  # type: ignore[arg-type]
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 — the app's object cannot be rendered: not our fault
        return _RENDER_FAILED.format(type=type_name(value))
    return utf8_safe(text) if isinstance(text, str) else _RENDER_FAILED.format(type=type_name(value))


# Collections JSON has no type for, rendered as lists (their items in iteration order).
_LIST_LIKE = (set, frozenset, deque)


def _json_default(value: object) -> object:
    """What ``json.dumps`` encodes in place of a value it has no type for: a list of a set's or
    deque's items, else the value's ``repr``."""
    return list(value) if isinstance(value, _LIST_LIKE) else repr(value)  # type: ignore[call-overload]


def render(value: object) -> str:
    """Text of any value: strings as-is, JSON for plain data (sets and deques as lists), ``repr``
    otherwise. Never raises."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    try:
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    except Exception:  # noqa: BLE001 — cycles, hostile __repr__ ...
        try:
            return repr(value)
        except Exception:  # noqa: BLE001
            return _RENDER_FAILED.format(type=type_name(value))


class _Budget:
    """Characters still to be copied by :func:`_bounded`; ``cut`` once something was left out."""

    __slots__ = ("left", "cut", "path")

    def __init__(self, left: int) -> None:
        self.left = left
        self.cut = False
        self.path: set[int] = set()  # ids of the containers being copied: a cycle is no plain data


# The values whose rendering :func:`_bounded` copies item by item, to a budget.
_COLLECTIONS = (dict, list, tuple, *_LIST_LIKE)


def _bounded(value: object, budget: _Budget) -> object:
    """A copy of plain data holding about ``budget.left`` characters of it, rendered as :func:`render` would.

    Strings (and nested bytes, as their ``repr``) are cut, and collections -- mappings
    (``OrderedDict``, ``defaultdict``, any ``dict``), lists, tuples, sets, deques and
    their subclasses -- stop at the budget, so encoding the copy costs about the budget
    however large ``value`` is. Other values are left to ``json.dumps`` (as
    :func:`render` renders them), costing one character each.
    """
    if isinstance(value, str):
        if str.__len__(value) > budget.left:  # a subclass's own text, as json.dumps encodes it
            budget.cut = True
            value = str.__getitem__(value, slice(max(budget.left, 0)))
        budget.left -= str.__len__(value) + 2
        return value
    if isinstance(value, (bytes, bytearray)):  # nested: json.dumps encodes its repr
        if len(value) > budget.left:
            budget.cut = True
            value = value[: max(budget.left, 0)]
        return _bounded(repr(value), budget)
    if not isinstance(value, _COLLECTIONS):
        budget.left -= 1
        return value
    if id(value) in budget.path:
        raise ValueError("circular reference")  # rendered by repr, as json.dumps would have it
    budget.path.add(id(value))
    mapping = isinstance(value, dict)
    try:
        items = value.items() if mapping else value  # type: ignore[union-attr]
        out: list[Any] = []
        for item in items:
            if budget.left <= 0:
                budget.cut = True
                break
            budget.left -= 1
            if mapping:
                key, item_value = item
                out.append((_bounded(key, budget) if isinstance(key, str) else key, _bounded(item_value, budget)))
            else:
                out.append(_bounded(item, budget))
    finally:
        budget.path.discard(id(value))
    return dict(out) if mapping else out


def _bounded_bytes(value: bytes | bytearray, limit: int) -> tuple[str, int]:
    """The first ``limit`` characters of :func:`render` of ``value`` (more than ``limit`` bytes), and a
    lower bound of the whole text's length: a UTF-8 character is at most 4 bytes."""
    head = bytes(value[: 4 * limit + 4]).decode("utf-8", errors="replace")  # over ``limit`` characters
    return head[:limit], max(limit + 1, len(value) // 4)


def render_bounded(value: object, limit: int) -> tuple[str, int | None, bool]:
    """:func:`render` of ``value``, its work bounded to about ``limit`` for strings, bytes and plain data.

    Returns ``(text, whole, exact)``: ``whole`` is ``None`` when ``text`` is the
    whole rendering. A value too large to render whole -- a 200 MB argument must
    not cost 200 MB, nor a 200 MB pass of the redact hook -- gives its first
    ``limit`` characters and ``whole``: a string's length (``exact`` True), else
    a lower bound of its rendering's (``exact`` False).
    """
    if isinstance(value, str):
        if str.__len__(value) <= limit:  # no copy
            return value, None, True
        return str.__getitem__(value, slice(limit)), str.__len__(value), True
    if isinstance(value, (bytes, bytearray)) and len(value) > limit:
        text, whole = _bounded_bytes(value, limit)
        return text, whole, False
    if isinstance(value, _COLLECTIONS):
        budget = _Budget(limit)
        try:
            shrunk = _bounded(value, budget)
            if budget.cut:
                text = json.dumps(shrunk, ensure_ascii=False, default=_json_default)
                return text[:limit], max(len(text), limit + 1), False
        except Exception:  # noqa: BLE001 — rendered whole below, as render() would
            pass
    return render(value), None, True


# The redact hooks whose failure was already said (a hook failing on every call is said once).
_failed_hooks: set[str] = set()


def _hook_failed(hook: Callable[[str], str], exc: Exception) -> None:
    """Say once per hook that it raised: by its exception's type only.

    The exception's message and traceback may hold the very text the hook was
    given (``cannot redact 'my password is ...'``): logging them would copy
    unredacted app text into the app's own log. The text itself is recorded as
    ``[redaction failed]`` wherever it would have gone.
    """
    name = getattr(hook, "__qualname__", None) or type_name(hook, qualified=True)
    if name in _failed_hooks:
        return
    _failed_hooks.add(name)
    _log.warning(
        "otel-llm: the redact hook %s raised %s; the text it was given is recorded as %r "
        "(further failures of this hook are not logged)",
        name, type_name(exc, qualified=True), _REDACT_FAILED,
    )


# How far past the recorded bound streamed text is kept: the redact hook sees a secret the bound
# would cut (up to this long) whole, so no prefix of it is recorded.
REDACT_MARGIN = 1024


class StreamedText:
    """A stream's pieces as they arrive, kept only up to ``limit`` characters; their whole length counted.

    Why: captured text is truncated to ``max_content_chars`` when recorded, so
    keeping more of a long stream than that (plus :data:`REDACT_MARGIN`) only
    costs memory for as long as the stream runs. A string piece counts its
    length (the one that crosses the limit is cut), any other piece one.
    """

    __slots__ = ("parts", "kept", "total", "limit")

    def __init__(self, limit: int) -> None:
        self.parts: list[object] = []
        self.kept = 0  # characters in ``parts``
        self.total = 0  # characters streamed
        self.limit = limit

    def add(self, piece: object) -> None:
        size = len(piece) if isinstance(piece, str) else 1
        self.total += size
        room = self.limit - self.kept
        if room <= 0:
            return
        if size > room:  # only a string is longer than one
            piece, size = piece[:room], room  # type: ignore[index]
        self.parts.append(piece)
        self.kept += size

    def __bool__(self) -> bool:
        return self.total > 0

    def value(self) -> object:
        """What was kept: the text, or the list of pieces when some are not strings."""
        parts = self.parts
        return "".join(parts) if all(isinstance(p, str) for p in parts) else parts  # type: ignore[arg-type]


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
        return self._captured(value, None)

    def streamed(self) -> StreamedText:
        """The keeper of a stream's text pieces: bounded as :meth:`streamed_text` records them (nothing
        kept, only counted, when capture is off)."""
        return StreamedText(self.max_chars + REDACT_MARGIN if self.capture else 0)

    def streamed_text(self, pieces: StreamedText) -> str | None:
        """:meth:`text` of a stream's pieces: the kept text, truncated as the whole stream's would be."""
        value = pieces.value()
        cut = pieces.total > pieces.kept and isinstance(value, str)
        return self._captured(value, pieces.total if cut else None)

    def _captured(self, value: object, whole: int | None) -> str | None:
        """``value`` rendered, redacted, bounded (``whole``: the length of the text it was cut from)."""
        if not self.capture or value is None:
            return None
        # Only what can be recorded is rendered and redacted (the margin keeps a secret at the cut whole).
        rendered, cut_from, exact = render_bounded(value, self.max_chars + REDACT_MARGIN)
        text = self.scrub(rendered)
        if text is _REDACT_FAILED:
            return text
        if cut_from is None:
            return utf8_safe(self.truncate(text, whole))
        return utf8_safe(self.truncate(text, whole or cut_from, exact=exact))

    def scrub(self, text: str) -> str:
        """``text`` through the ``redact`` hook (whatever the capture setting). Never raises.

        The hook runs in a context marked :data:`REDACTING_KEY`; text copied from
        inside it again (the hook re-entered) is dropped, never recorded unredacted.
        """
        if self.redact is None:
            return text
        current = otel_context.get_current()
        if current.get(REDACTING_KEY):
            return _REDACT_FAILED
        values: dict[str, object] = {REDACTING_KEY: True}
        if SUPPRESS_INSTRUMENTATION_KEY is not None:
            values[SUPPRESS_INSTRUMENTATION_KEY] = True
        token = otel_context.attach(otel_context.Context({**current, **values}))
        try:
            redacted = self.redact(text)
            return redacted if isinstance(redacted, str) else render(redacted)
        except Exception as exc:  # noqa: BLE001 — the user's hook must not break their call
            _hook_failed(self.redact, exc)
            return _REDACT_FAILED
        finally:
            otel_context.detach(token)

    def exception_attributes(self, exc: BaseException) -> dict[str, str] | None:
        """Redacted, UTF-8-safe (:func:`utf8_safe`) ``exception.message``/``stacktrace`` for a span's exception event.

        ``None`` without a ``redact`` hook when the messages of the exception and of
        those it was raised from are valid UTF-8: the tracer's own rendering is then
        used unchanged.
        """
        message = _exception_text(exc)
        if self.redact is None and all(utf8_safe(text) is text for text in _chain_texts(exc, message)):
            return None
        return {
            semconv.EXCEPTION_MESSAGE: utf8_safe(self.scrub(message)),
            semconv.EXCEPTION_STACKTRACE: utf8_safe(self.scrub(_stack_text(exc, message))),
        }

    def log_record(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record to export for ``record``: a redacted copy, or ``record`` itself without a hook
        (a copy whose message carries U+FFFD for lone surrogates, when it holds some: :func:`utf8_safe`).

        A copy, because the same record object goes on to the app's other
        handlers, which must print what they always printed. The message is
        formatted, then redacted, and so are the string fields ``extra=`` added
        (the bridge exports them as attributes); an attached exception becomes redacted
        ``exception.*`` attributes (the bridge exports the record's extra
        attributes as log attributes) instead of ``exc_info``.
        """
        message = _message_text(record)
        if self.redact is None:
            safe = utf8_safe(message)
            if safe is message:
                return record
            unencodable = copy.copy(record)  # a body OTLP cannot encode would lose its whole batch
            unencodable.msg, unencodable.args = safe, None
            return unencodable
        redacted = copy.copy(record)
        redacted.msg = utf8_safe(self.scrub(message))
        redacted.args = None
        for key, value in record.__dict__.items():  # ``extra={...}`` fields: exported as attributes
            if key not in _LOG_RECORD_FIELDS:
                redacted.__dict__[key] = self._scrub_value(value)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            redacted.__dict__[semconv.EXCEPTION_TYPE] = type_name(exc)
            redacted.__dict__.update(self.exception_attributes(exc) or {})
        redacted.exc_info = None
        redacted.exc_text = None
        redacted.stack_info = None
        return redacted

    def _scrub_value(self, value: object) -> object:
        """A log record's extra field through the hook: strings and the strings of a list or tuple."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.scrub(v) if isinstance(v, str) else v for v in value)
        return value

    def truncate(self, text: str, whole: int | None = None, exact: bool = True) -> str:
        """``text`` bounded to ``max_chars`` (:func:`truncated`)."""
        return truncated(text, self.max_chars, whole, exact)


def truncated(text: str, limit: int, whole: int | None = None, exact: bool = True) -> str:
    """``text`` bounded to ``limit`` characters, its end saying the length it had (``whole``: of the text it
    was cut from; ``exact=False``: at least that long): a reader sees that it was cut, and how much."""
    if whole is None:
        if len(text) <= limit:
            return text
        whole = len(text)
    return f"{text[:limit]}…[truncated from {'' if exact else 'over '}{whole} chars]"
