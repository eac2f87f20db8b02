"""Sending spooled OTLP-JSON lines over OTLP/HTTP: where to, one POST and its outcome, merged requests.

Replay speaks OTLP/HTTP JSON (``POST /v1/{signal}``, ``Content-Type:
application/json``) whatever protocol the app exports with, because the
stored lines are OTLP-JSON and the collector's otlp receiver accepts JSON.
Consecutive small lines of one signal (a worker process spools one span per
line) are merged into one request: an export request may hold any number of
resource entries.
"""

from __future__ import annotations

import email.utils
import enum
import gzip
import http.client
import json
import os
import ssl
import zlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.util.re import parse_env_headers

from otel_llm import _notices, _upstream
from otel_llm.exporters._answers import (
    NO_ANSWER,
    http_answer,
    redirect_message,
    rejected_in_body,
    rejected_in_refusal,
    status_message,
    transport_answer,
)
from otel_llm.exporters._sizing import count_items

__all__ = ["BUSY_STATUSES", "Outcome", "Reply", "Sending", "headers_for", "line_items", "merged", "mergeable",
           "post", "replay_url", "retry_after", "sending_for", "tls_context"]

DEFAULT_HTTP_PORT = 4318
REQUEST_TIMEOUT_S = 10.0


def replay_url(inner: Any, signal: str) -> str:
    """The OTLP/HTTP URL that spooled ``signal`` lines are POSTed to.

    For an HTTP exporter its own URL; for a gRPC exporter the same host on port
    4318, over TLS when the exporter uses TLS; ``OTEL_LLM_SPOOL_REPLAY_ENDPOINT``
    (a base URL) overrides both.
    """
    override = os.environ.get("OTEL_LLM_SPOOL_REPLAY_ENDPOINT")
    if override:
        return f"{override.rstrip('/')}/v1/{signal}"
    endpoint = _upstream.exporter_endpoint(inner)
    if endpoint.startswith(("http://", "https://")):
        return endpoint  # an OTLP/HTTP exporter: its own URL, whatever its path (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    # A gRPC exporter keeps "host:port" (upstream strips the scheme); the collector's HTTP receiver sits beside it.
    parsed = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}")
    host = parsed.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    scheme = "https" if _upstream.exporter_uses_tls(inner) else "http"
    return f"{scheme}://{host}:{DEFAULT_HTTP_PORT}/v1/{signal}"


def headers_for(signal: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_{SIGNAL}_HEADERS``, else ``OTEL_EXPORTER_OTLP_HEADERS``, plus the JSON content type.

    One or the other, never both merged: the OTLP exporters read them so, and a
    generic credential meant for another backend must not reach this signal's
    endpoint through replay when the app's own exports never send it there.
    """
    raw = (os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS")
           or os.environ.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    return {**parse_env_headers(raw, liberal=True), "Content-Type": "application/json"}


_COMPRESSORS = {"gzip": gzip.compress, "deflate": zlib.compress}


@dataclass(frozen=True)
class Sending:
    """How each replay request is sent: its timeout in seconds and its ``Content-Encoding`` (None: plain)."""

    timeout_s: float = REQUEST_TIMEOUT_S
    compression: str | None = None


def _setting(signal: str, name: str) -> str | None:
    """``OTEL_EXPORTER_OTLP_{SIGNAL}_{name}``, else ``OTEL_EXPORTER_OTLP_{name}`` (the spec's precedence)."""
    value = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_{name}") or os.environ.get(f"OTEL_EXPORTER_OTLP_{name}")
    return value.strip() if value and value.strip() else None


def sending_for(signal: str) -> Sending:
    """The timeout and compression the OTLP exporters of this process use for ``signal``.

    ``OTEL_EXPORTER_OTLP_{,SIGNAL_}TIMEOUT`` is read as the Python OTLP exporters
    read it, in seconds (the spec writes milliseconds; one setting must mean
    the same to the exporter and to its replay). ``..._COMPRESSION``: ``gzip``,
    ``deflate`` or ``none``. A value that cannot be used falls back to the default,
    as the exporters do (they say so in their own warning).
    """
    timeout = REQUEST_TIMEOUT_S
    raw = _setting(signal, "TIMEOUT")
    if raw is not None:
        try:
            timeout = float(raw) if float(raw) > 0 else REQUEST_TIMEOUT_S
        except ValueError:
            pass
    compression = (_setting(signal, "COMPRESSION") or "none").lower()
    return Sending(timeout, compression if compression in _COMPRESSORS else None)


# OTLP/HTTP's throttling answers: the endpoint is up and asks to be called again later.
BUSY_STATUSES = _upstream.BUSY_STATUSES


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    REFUSED = "refused"  # answered with a permanent refusal: sending again cannot help
    BUSY = "busy"  # answered "not now" (429, 502, 503, 504): the data is fine, send it again later
    FAILED = "failed"  # not answered, or another failure: try again later


@dataclass(frozen=True)
class Reply:
    """What one POST came to: the outcome, a short reason, the server's Retry-After in seconds, and
    what the endpoint answered when it could not take the data now (with its own message)."""

    outcome: Outcome
    why: str
    retry_after_s: float | None = None
    answer: _upstream.Answer | None = None
    rejected: _upstream.Rejected | None = None  # items of a delivered request the endpoint rejected
    status: int | None = None  # the HTTP status of an error answer


def tls_context(signal: str) -> ssl.SSLContext | None:
    """The TLS settings the OTLP exporters read, for replay to an ``https://`` endpoint; None: the defaults.

    ``OTEL_EXPORTER_OTLP_{SIGNAL}_CERTIFICATE`` / ``OTEL_EXPORTER_OTLP_CERTIFICATE``
    (the CA to trust) and ``..._CLIENT_CERTIFICATE`` / ``..._CLIENT_KEY`` (mutual
    TLS), the signal's own variable first. Without them a collector behind a
    private CA answers the exporter but never the replayer. A file that cannot
    be loaded is said once on stderr; replay then uses the defaults.
    """
    def setting(name: str) -> str | None:
        return (os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_{name}")
                or os.environ.get(f"OTEL_EXPORTER_OTLP_{name}") or None)

    ca, cert, key = setting("CERTIFICATE"), setting("CLIENT_CERTIFICATE"), setting("CLIENT_KEY")
    if not (ca or cert):
        return None
    try:
        context = ssl.create_default_context(cafile=ca)
        if cert:
            context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError, ValueError) as error:
        _notices.notice(f"spool replay of {signal}: cannot load the OTLP TLS files ({error}); "
                        "replaying with the system's defaults")
        return None
    return context


def post(url: str, headers: dict[str, str], body: bytes, tls: ssl.SSLContext | None = None,
         sending: Sending = Sending(), signal: str | None = None) -> Reply:
    """POST one OTLP-JSON request (``tls``: see :func:`tls_context`, ``sending``: :func:`sending_for`);
    the outcome and a short reason. ``signal`` (``traces``/``logs``/``metrics``) reads a ``partial_success``
    the endpoint answers in protobuf (it may, whatever the request's encoding); without it only JSON is read."""
    answer_type = _upstream.export_response_type(signal) if signal else None
    if sending.compression:
        body = _COMPRESSORS[sending.compression](body)
        headers = {**headers, "Content-Encoding": sending.compression}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener(tls).open(request, timeout=sending.timeout_s) as response:
            ok = 200 <= response.status < 300
            rejected = _rejected(response, answer_type) if ok else None
            return Reply(Outcome.DELIVERED if ok else Outcome.FAILED, f"HTTP {response.status}", rejected=rejected)
    except urllib.error.HTTPError as error:
        body, content_type = _answer_body(error), error.headers.get("Content-Type")
        rejected = rejected_in_refusal(error.code, body, content_type, answer_type)
        if rejected is not None:  # taken but for these items: the rest must not be sent again nor set aside
            return Reply(Outcome.DELIVERED, f"HTTP {error.code}", rejected=rejected)
        message = status_message(body, content_type)
        if 300 <= error.code < 400:  # not followed: the body would not go along, or not to the collector
            message = redirect_message(error.headers.get("Location"))
        why = f"HTTP {error.code} {error.reason}" + (f": {message}" if message else "")
        answer = http_answer(error.code, str(error.reason), message)
        if error.code in BUSY_STATUSES:
            return Reply(Outcome.BUSY, why, retry_after(error.headers.get("Retry-After")), answer)
        if 300 <= error.code < 500 and error.code != 408:
            return Reply(Outcome.REFUSED, why, status=error.code)
        return Reply(Outcome.FAILED, why, answer=answer)
    except (urllib.error.URLError, OSError) as error:
        if isinstance(getattr(error, "reason", error), TimeoutError):  # connected (or trying), no answer
            return Reply(Outcome.FAILED, f"no answer within {sending.timeout_s:g} s", answer=NO_ANSWER)
        return Reply(Outcome.FAILED, str(error), answer=transport_answer(_notices.failure(error)))
    except http.client.HTTPException as error:  # not HTTP/1.x (a gRPC port), cut short, a URL it cannot use
        why = _notices.failure(error).rstrip(": ")
        return Reply(Outcome.FAILED, why, answer=transport_answer(why))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Leaves a redirect answer as it is (an ``HTTPError``): urllib would follow a 301/302/303 as a GET
    without the body, which a proxy page may answer with 200 -- the spooled line then deleted as delivered."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(tls: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    """urllib's opener (proxies from the environment, as ``urlopen``) that follows no redirect."""
    if tls is None:
        return urllib.request.build_opener(_NoRedirects)
    return urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(context=tls))


_ANSWER_MAX_BYTES = 64 * 1024  # of an answer's body, read and (decompressed) kept: a status, a partial_success

#: ``Content-Encoding`` of an answer -> the ``zlib`` window bits that undo it (urllib leaves bodies as sent).
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _rejected(response: Any, answer_type: Any) -> _upstream.Rejected | None:
    """The items a 2xx answer's body rejects (``partial_success``, JSON or protobuf of ``answer_type``); None
    when it says none, or breaks off (the status already said the request was taken)."""
    return rejected_in_body(_answer_body(response), response.headers.get("Content-Type"), answer_type)


def _answer_body(answer: Any) -> bytes:
    """An answer's body (a ``google.rpc.Status``, a ``partial_success``), decompressed when the endpoint
    compressed it; empty when cut off or undecodable (the status still speaks)."""
    try:
        body = answer.read(_ANSWER_MAX_BYTES)
    except Exception:  # noqa: BLE001 — a body cut off mid-read
        return b""
    encoding = (answer.headers.get("Content-Encoding") or "").strip().lower()
    if encoding not in _DECODERS:
        return body
    try:
        return zlib.decompressobj(_DECODERS[encoding]).decompress(body, _ANSWER_MAX_BYTES)
    except zlib.error:
        return b""


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def _merge_prefix(line: bytes) -> bytes | None:
    """``{"resourceSpans":[`` (or Logs/Metrics) when ``line`` is exactly one such request, else None."""
    for prefix in (b'{"resourceSpans":[', b'{"resourceLogs":[', b'{"resourceMetrics":['):
        if line.startswith(prefix) and line.endswith(b"]}"):
            return prefix
    return None


def mergeable(first: bytes, line: bytes) -> bool:
    """Whether ``line`` can join a request that starts with ``first`` (the same signal, plain layout)."""
    prefix = _merge_prefix(first)
    return prefix is not None and prefix == _merge_prefix(line)


def merged(lines: list[bytes]) -> bytes:
    """One export request holding the resource entries of every line (all of one signal, see :func:`mergeable`)."""
    prefix = _merge_prefix(lines[0]) or b""
    return prefix + b",".join(body for line in lines if (body := line[len(prefix):-2])) + b"]}"


def line_items(line: bytes) -> int:
    """Spans, log records or metric points in one spooled line (0 when it is not JSON)."""
    try:
        return count_items(json.loads(line))
    except ValueError:
        return 0
