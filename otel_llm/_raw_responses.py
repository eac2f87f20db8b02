"""Raw-response wrappers of the Stainless-built clients (openai, anthropic) returned from a decorated call.

Why: ``client.chat.completions.with_raw_response.create(...)`` returns the
HTTP response (``LegacyAPIResponse``) and ``with_streaming_response.create(...)``
a context manager (``ResponseContextManager``) whose response the app reads in
its ``with`` block. The usage is in what the app parses, not in the wrapper: a
span that ended with the wrapper carried no tokens. Here:

* a raw response (``with_raw_response``, its body read) is parsed as the call
  returns: the response caches what ``parse()`` gives, so the app's own
  ``parse()`` returns that same object, and no byte is read twice;
* a raw response of a stream, and ``with_streaming_response``'s response,
  stand behind a :class:`ResponseProxy`: what the app
  gets from ``parse()``/``json()`` is read for usage (a parsed stream is put
  behind a stream proxy, which the app then reads as before), and the span ends
  with the ``with`` block, with that stream, or when the response is dropped;
* a response whose usage otel-llm could not see (the app read its lines or
  bytes itself, or never parsed it) says so in ``otel_llm.usage.unobserved``:
  no tokens, not zero tokens.

otel-llm never reads a body the app has not read. Types are known by name (no
provider SDK is imported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otel_llm import _streams
from otel_llm._guard import internal_error
from otel_llm._streams import (
    AsyncManagerProxy, SyncManagerProxy, _Forwarding, _ManagerProxy, _proxy_class, _StreamProxy, defer, wrap,
)

if TYPE_CHECKING:
    from otel_llm._core import Call

__all__ = ["ResponseProxy", "proxy_class"]

UNOBSERVED = "response not parsed"  # the value of otel_llm.usage.unobserved


class ResponseProxy(_Forwarding):
    """Stands in for a raw response until the call ends: what ``parse()``/``json()`` give is the call's result."""

    __slots__ = ("_stream", "_observed", "_parsed")
    _own = frozenset({"_inner", "_call", "_stream", "_observed", "_parsed"})
    _what = "raw response proxy"

    def __init__(self, inner: Any, call: "Call") -> None:
        self._inner = inner
        self._call = call
        self._stream: _StreamProxy | None = None
        self._observed = False
        self._parsed: tuple[Any, Any] | None = None  # (what the response parsed, what the app was given)

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._given(self._inner.parse(*args, **kwargs))

    def json(self, *args: Any, **kwargs: Any) -> Any:
        return self._given(self._inner.json(*args, **kwargs))

    def _given(self, value: Any) -> Any:
        """``value`` (parsed by the response) for the app: read for usage, a stream behind its proxy."""
        parsed = self._parsed
        if parsed is not None and parsed[0] is value:  # the response's cached parse: given as before
            return parsed[1]
        given = value
        try:
            if _is_stream(value):
                self._stream = given = wrap(value, self._call)
            elif not self._call.ended:
                self._call.kind.on_result(self._call, value)
            self._observed = True
        except Exception as exc:  # noqa: BLE001
            internal_error("raw_responses.parse", exc)
        self._parsed = (value, given)
        return given

    def end(self, end_ns: int | None = None) -> None:
        """End the call (once): with its parsed stream, or as a result, unobserved if nothing was parsed
        (``end_ns``: when, if not now)."""
        stream = self._stream
        if stream is not None:
            stream._closed()
            return
        call = self._call
        if call.ended:
            return
        try:
            if not self._observed:
                call.say_unobserved(UNOBSERVED)
        finally:
            call.end(end_ns)

    _closed = end  # the name a stream manager proxy ends what it handed out by

    def _abandon(self) -> None:
        if _streams.collecting_here():  # never end a span inside the garbage collector (see ``_streams.defer``)
            defer(self.end)
            return
        try:
            self.end()
        except Exception as exc:  # noqa: BLE001 — never raise our errors from __del__
            internal_error("raw_responses.gc", exc)


class AsyncResponseProxy(ResponseProxy):
    """:class:`ResponseProxy` of an async client's response (``parse()``/``json()`` are coroutines)."""

    __slots__ = ()

    async def parse(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._given(await self._inner.parse(*args, **kwargs))

    async def json(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._given(await self._inner.json(*args, **kwargs))


class _ResponseManager:
    """What a ``with_streaming_response`` manager proxy adds to a stream manager proxy: its response.

    The ``with`` block is the call, as for a stream manager (:class:`SyncManagerProxy`);
    the response it hands out stands behind a :class:`ResponseProxy` (kept where a stream
    manager keeps its stream: leaving the block ends it). A manager never entered sent no
    request: its usage is unobserved.
    """

    __slots__ = ()
    _what = "response manager proxy"
    _response_proxy: type[ResponseProxy] = ResponseProxy

    def _entered(self: Any, response: Any) -> Any:
        self._stream = proxy = self._response_proxy(response, self._call)
        return proxy

    def _end(self: Any) -> None:
        if self._stream is None and not self._call.ended:
            self._call.say_unobserved(UNOBSERVED)
        _ManagerProxy._end(self)


class SyncResponseManagerProxy(_ResponseManager, SyncManagerProxy):
    """``with ask() as response:`` where ``ask`` returned ``with_streaming_response.create(...)``."""

    __slots__ = ()


class AsyncResponseManagerProxy(_ResponseManager, AsyncManagerProxy):
    """``async with ask() as response:`` where ``ask`` returned an async client's ``with_streaming_response.create(...)``."""

    __slots__ = ()
    _response_proxy = AsyncResponseProxy


def _raw_response(value: Any, call: "Call") -> Any:
    """A ``LegacyAPIResponse`` (``with_raw_response``): parsed now, as the call returns.

    ``parse()`` reads no byte of a streamed body (it gives the provider's
    stream, unread) and caches what it gives, so the app's own ``parse()``
    returns that same object. A parsed stream: the response stands behind a
    :class:`ResponseProxy` (its ``parse()`` gives the stream behind a stream
    proxy). Anything else is the call's result: the call ends here and the
    response is given back unchanged. One that cannot be parsed (the app's own
    ``parse()`` raises it again) ends the call too, its usage unobserved.
    """
    try:
        parsed = value.parse()
    except Exception:  # noqa: BLE001 — raised again by the app's parse(), where the app expects it
        call.say_unobserved(UNOBSERVED)
        call.end()
        return value
    if _is_stream(parsed):
        return ResponseProxy(value, call)
    try:
        call.kind.on_result(call, parsed)
    except Exception as exc:  # noqa: BLE001
        internal_error("raw_responses.parse", exc)
    call.end()
    return value


def _is_stream(value: Any) -> bool:
    """Whether ``value`` is a stream a stream proxy stands in for."""
    proxy = _proxy_class(type(value))
    return isinstance(proxy, type) and issubclass(proxy, _StreamProxy)


# The wrapper classes, by name: each is in its SDK's ``_response``/``_legacy_response`` module.
_BY_NAME: dict[str, tuple[str, Any]] = {
    "ResponseContextManager": ("__enter__", SyncResponseManagerProxy),
    "AsyncResponseContextManager": ("__aenter__", AsyncResponseManagerProxy),
    "LegacyAPIResponse": ("parse", _raw_response),
}


def proxy_class(tp: type) -> Any:
    """What stands in for a value of ``tp`` if it is a raw-response wrapper (see :data:`_BY_NAME`), else ``None``."""
    known = _BY_NAME.get(tp.__name__)
    if known is None or not tp.__module__.endswith(("._response", "._legacy_response")):
        return None
    method, proxy = known
    return proxy if hasattr(tp, method) else None
