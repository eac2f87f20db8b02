"""The one internal-error guard: otel-llm's own faults never reach the app.

Why one guard: instrumentation runs inside the user's hot path, so a bug in an
extractor, a price table or an exporter must not turn a working LLM call into a
crash. Every ``except Exception`` in otel-llm's own code hands the error to
:func:`internal_error`, which logs it once per call site (a busy app would
otherwise log the same fault a million times) and swallows it.

With ``OTEL_LLM_RAISE_INTERNAL_ERRORS=1`` (set by otel-llm's own test suite) the
same call re-raises instead, so our bugs fail our tests rather than hiding in a
log. It is an explicit switch, not "running under pytest": an application's own
test suite must see the production behaviour. Tests that *prove* the swallowing
switch it off with :func:`swallowing`.

The three zones of a decorated call (see ``_wrap``):

1. setup fails (span start, attribute extraction) -> the function runs bare;
2. the user's function raises -> recorded on the span, re-raised untouched;
3. post-processing fails (usage, cost, metrics) -> logged, the result returned.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import sysconfig
import traceback
from pathlib import Path
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["guarded", "internal_error", "raised_by_app", "reraise_requested", "swallowing"]

_log = logging.getLogger("otel_llm")
_seen: set[str] = set()
RAISE_ENV = "OTEL_LLM_RAISE_INTERNAL_ERRORS"
# None: decide by environment (RAISE_ENV); True/False: forced.
_reraise: bool | None = None

T = TypeVar("T")


def reraise_requested() -> bool:
    """True when internal errors must propagate (``OTEL_LLM_RAISE_INTERNAL_ERRORS=1`` or a test's choice).

    The ``otel-llm`` command asks this before turning an unexpected error into one
    line: in our suite the traceback must reach the test.
    """
    return _should_reraise()


def _should_reraise() -> bool:
    if _reraise is not None:
        return _reraise
    # Read only on the (rare) error path, never per call.
    return os.environ.get(RAISE_ENV) == "1"


def internal_error(site: str, exc: Exception) -> None:
    """Handle an otel-llm fault caught at ``site``: log once, or re-raise when asked to.

    Call it from inside the ``except`` block that caught ``exc``.
    """
    if _should_reraise():
        raise exc
    if site in _seen:
        return
    _seen.add(site)
    _log.warning(
        "otel-llm internal error at %s; the application is unaffected "
        "(further errors at this site are not logged)",
        site,
        exc_info=exc if _formattable(exc) else None,
    )


def _formattable(exc: BaseException) -> bool:
    """Whether ``traceback`` can format ``exc`` and the exceptions it was raised from.

    An app's exception class whose metaclass makes its name unreadable cannot be
    formatted; chained to otel-llm's fault, it would make the app's log handler raise
    (after printing ``--- Logging error ---``): such a fault is logged without its traceback.
    """
    try:
        traceback.format_exception(exc)
    except Exception:  # noqa: BLE001
        return False
    return True


_PACKAGE = str(Path(__file__).resolve().parent) + os.sep


def raised_by_app(exc: BaseException) -> bool:
    """Whether ``exc`` was raised in the app's own code (a chunk's property, a ``__getattr__``), not in ours.

    Read from the traceback, so only on the error path: reading the app's objects
    costs nothing more for it. Such an error is the app's data being unreadable,
    not otel-llm's fault to report. Judged by the innermost frame that is not a
    library's (see :func:`_library_frame`): otel-llm's code calling ``json`` or
    OpenTelemetry wrongly is otel-llm's fault, while the app's code reached through
    the standard library (a ``UserDict`` iterating the app's object), or itself
    calling a library that raises, is the app's. Code that stands in for
    otel-llm's own (a method of one of its classes, a function set on one of its
    modules) is otel-llm's.
    """
    tb = exc.__traceback__
    frame = None
    while tb is not None:
        if frame is None or not _library_frame(tb.tb_frame.f_code.co_filename):
            frame = tb.tb_frame
        tb = tb.tb_next
    if frame is None:
        return False
    code = frame.f_code
    if os.path.abspath(code.co_filename).startswith(_PACKAGE):
        return False
    try:
        owner = frame.f_locals.get("self") if code.co_argcount else None
        if owner is not None and any(str(cls.__module__).startswith("otel_llm") for cls in type(owner).__mro__):
            return False
        for name, module in list(sys.modules.items()):
            if (name == "otel_llm" or name.startswith("otel_llm.")) and module is not None:
                if any(getattr(value, "__code__", None) is code for value in list(vars(module).values())):
                    return False
    except Exception:  # noqa: BLE001 — undecidable: reported as otel-llm's, never hidden
        return False
    return True


# Where third-party packages live: inside the standard library's folder in some installs, never of it.
_SITE_FOLDERS = frozenset({"site-packages", "dist-packages"})


@functools.cache
def _library_folders() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the standard library's folders, OpenTelemetry's): the libraries otel-llm's own code calls."""
    paths = sysconfig.get_paths()
    stdlib = {os.path.realpath(paths[key]) + os.sep for key in ("stdlib", "platstdlib") if paths.get(key)}
    opentelemetry = sys.modules.get("opentelemetry")
    otel = {os.path.realpath(path) + os.sep for path in getattr(opentelemetry, "__path__", ())}
    return tuple(stdlib), tuple(otel)


def _library_frame(filename: str) -> bool:
    """Whether code of ``filename`` belongs to a library otel-llm calls (the standard library, OpenTelemetry).

    A frame of such a library tells nothing of whose fault an error is: the code
    that called it (otel-llm's, or the app's) does.
    """
    if filename.startswith("<frozen "):
        return True
    path = os.path.realpath(filename)
    stdlib, otel = _library_folders()
    if path.startswith(otel):
        return True
    for folder in stdlib:
        if path.startswith(folder):
            return path[len(folder):].split(os.sep, 1)[0] not in _SITE_FOLDERS
    return False


def guarded(site: str, default: T) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorate an otel-llm helper so a fault returns ``default`` instead of raising."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: object, **kwargs: object) -> T:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 — the guard's whole purpose
                internal_error(site, exc)
                return default

        return wrapper

    return decorate


@contextmanager
def swallowing() -> Iterator[None]:
    """Within the block, behave as in production: swallow and log (for tests).

    Also forgets which sites were already logged, so a test sees its log record.
    """
    global _reraise
    previous = _reraise
    _reraise = False
    _seen.clear()
    try:
        yield
    finally:
        _reraise = previous
        _seen.clear()
