"""What a live OTLP endpoint answered: its error in its own words, and the items it rejected.

Why: an endpoint that answers is not an unreachable one, and its answer is
the operator's best clue. A collector whose disk is full answers every export
with HTTP 503 / gRPC UNAVAILABLE and the reason ("write .../traces.jsonl: no
space left on device") in a ``google.rpc.Status``; calling that "busy" sends
the operator to wait for a load spike. And an endpoint that accepts a request
but rejects some of its items says so in the answer's ``partial_success`` (the
OTLP specification: the rest is accepted and must not be sent again); those
items are lost, and counted with the endpoint's message.

Pure functions over the bytes and codes an answer carries; no transport here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["BUSY_STATUSES", "NO_ANSWER", "Answer", "tls_answer", "transport_answer", "Rejected", "grpc_answer", "http_answer", "plus", "rejected_in",
           "redirect_message", "rejected_in_body", "rejected_in_refusal", "status_message"]

#: HTTP statuses that answer "not now" (a full queue, a gateway in front of a busy collector).
BUSY_STATUSES = frozenset({429, 502, 503, 504})

#: gRPC codes a live endpoint answers when it cannot take the data now (send it again later).
_GRPC_ANSWERS = frozenset({"UNAVAILABLE", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL", "DATA_LOSS", "UNKNOWN"})

#: How gRPC's own transport begins the details when it reached no server (connection refused, reset,
#: DNS): an UNAVAILABLE with such details is not an answer. A live server's UNAVAILABLE carries its own
#: words (which may well mention a refused connection further on: "dial tcp ...: connection refused").
_GRPC_TRANSPORT_FAILURES = ("failed to connect", "connection refused", "connection reset", "socket closed",
                            "broken pipe", "dns resolution failed", "connections to all backends failing",
                            "network is unreachable", "no route to host", "empty address list",
                            "endpoint closing", "keepalive watchdog timeout", "goaway", "connection timed out")


@dataclass(frozen=True)
class Answer:
    """A live endpoint's error answer to an export: ``what`` ("HTTP 503 Service Unavailable",
    "gRPC UNAVAILABLE"), the reason it gave (``message``), and whether it only said "not now"."""

    what: str
    message: str | None = None
    busy: bool = False
    silent: bool = False  # no answer in time: a slow or hung endpoint (or a network dropping packets)
    tls: bool = False  # the TLS handshake failed: the endpoint is there, its certificate is not trusted

    def __str__(self) -> str:
        return f"{self.what}: {self.message}" if self.message else self.what

    def said(self, where: str, units: str, unanswered: str | None = None) -> str:
        """``"<where> is busy (HTTP 429 ...)"``, ``"<where> could not take the spans (HTTP 503 ...: <why>)"``
        or ``"<where> did not answer within the exporter's timeout (...)"``; ``unanswered``: what the
        request without an answer carried (``"1,000 metric points of that request"``), which may arrive twice."""
        if self.tls:
            return (f"{where} failed the TLS handshake ({self.message}; OTEL_EXPORTER_OTLP_CERTIFICATE names "
                    "the CA that signed the collector's certificate)")
        if self.silent:  # it may have taken the data, answering too late: the copy sent again is a second one
            taken = unanswered or units
            return (f"{where} did not answer within the exporter's timeout ({self}; a slow or hung collector, "
                    f"or a network that drops packets; if it took the {taken} after all, they are delivered "
                    "twice)")
        if self.busy:
            return f"{where} is busy ({self})"
        return f"{where} could not take the {units} ({self})"


#: No answer within the exporter's timeout, over HTTP.
NO_ANSWER = Answer("OTEL_EXPORTER_OTLP_TIMEOUT", silent=True)


def http_answer(status: int | None, reason: str | None, message: str | None) -> Answer | None:
    """The answer of an HTTP error status that is not a refusal for good (those are the dead letter's)."""
    if status is None or status < 400 or (status < 500 and status not in (408, 429)):
        return None
    what = f"HTTP {status} {reason or ''}".rstrip()
    # 429 is "slow down" whatever it says; a 503 with a reason is the endpoint's own failure (a full disk).
    return Answer(what, message, busy=status == 429 or (status in BUSY_STATUSES and not message))


#: How the TLS layers word a failed handshake: Python's ``ssl`` ("[SSL: CERTIFICATE_VERIFY_FAILED] ..."),
#: gRPC's BoringSSL ("Ssl handshake failed: SSL_ERROR_SSL: ...:CERTIFICATE_VERIFY_FAILED").
_TLS_FAILURE = re.compile(r"\[SSL: [A-Z_]+\] ([^()'\"]+)|handshake failed[^A-Z]*(?:[\w:]*:)?([A-Z_]{6,}[^()'\"]*)",
                          re.IGNORECASE)


def tls_answer(error: str | None) -> Answer | None:
    """The answer of a failed TLS handshake, from a transport error's text; None when it is another failure.

    Why: the endpoint is up and took the connection; calling it unreachable sends
    the operator to look for a collector that runs, when its certificate (a
    private CA, a self-signed one, an expired one) is the cause.
    """
    match = _TLS_FAILURE.search(error or "")
    if match is None:
        return None
    reason = " ".join((match.group(1) or match.group(2) or "").split()).rstrip(" .,:")
    reason = reason.rsplit("OPENSSL_internal:", 1)[-1]  # BoringSSL's error stack: its last entry says why
    return Answer("TLS", reason or "handshake failed", tls=True)


#: How Python's HTTP clients word an endpoint that took the request and closed the connection unanswered.
_CLOSED_UNANSWERED = ("remote end closed connection without response", "incompleteread", "connection broken:")


def transport_answer(error: str | None) -> Answer | None:
    """What a live endpoint did when an HTTP export failed below HTTP, from the error's text: a failed TLS
    handshake (:func:`tls_answer`), or the connection closed without an answer; None otherwise (nobody
    listening, no route: unreachable).

    Why: an endpoint that takes the connection is there; a proxy or load balancer
    in front of a collector that is down closes it unanswered, and "unreachable"
    would send the operator to look at a network that works.
    """
    tls = tls_answer(error)
    if tls is not None:
        return tls
    if any(marker in (error or "").lower() for marker in _CLOSED_UNANSWERED):
        return Answer("connection closed", "the endpoint closed the connection without an answer (or in the "
                                           "middle of one): a proxy or load balancer before a collector that is "
                                           "down, or a collector that failed on the request")
    return None


def grpc_answer(code: str, details: str | None) -> Answer | None:
    """The answer of a gRPC status a live server sent (not a refusal for good, not a transport failure),
    or of a failed TLS handshake (:func:`tls_answer`)."""
    if code == "UNAVAILABLE" and (tls := tls_answer(details)) is not None:
        return tls
    if code == "DEADLINE_EXCEEDED":
        return Answer("gRPC DEADLINE_EXCEEDED, OTEL_EXPORTER_OTLP_TIMEOUT", silent=True)
    if code not in _GRPC_ANSWERS:
        return None
    if code == "UNAVAILABLE" and (details or "").lower().startswith(_GRPC_TRANSPORT_FAILURES):
        return None
    return Answer(f"gRPC {code}", details or None,
                  busy=code == "RESOURCE_EXHAUSTED" or (code == "UNAVAILABLE" and not details))


def redirect_message(location: str | None) -> str:
    """What to say of a redirect answer: OTLP exports are POSTs, never followed to another URL, so the
    endpoint setting has to name where the collector now is."""
    where = f"it redirects to {location}" if location else "it answered with a redirect"
    return f"{where}; OTLP exports are not followed there: set the endpoint to the collector's own URL"


def status_message(body: bytes, content_type: str | None) -> str | None:
    """The ``message`` of the ``google.rpc.Status`` an OTLP/HTTP error answer carries (protobuf or JSON);
    a plain-text body as it is (a proxy's page, cut short); None when there is none."""
    if not body:
        return None
    kind = (content_type or "").lower()
    try:
        if "protobuf" in kind:
            from google.rpc import status_pb2

            return status_pb2.Status.FromString(body).message.strip() or None
        if "json" in kind:
            value = json.loads(body)
            return str(value.get("message") or "").strip() or None if isinstance(value, dict) else None
    except Exception:  # noqa: BLE001 — an answer we cannot read has no message; the status still speaks
        return None
    if kind.startswith("text/plain"):
        text = body[:300].decode("utf-8", "replace").strip()
        return " ".join(text.split()) or None
    return None


@dataclass(frozen=True)
class Rejected:
    """Items of an accepted request the endpoint rejected (its ``partial_success``), with its message."""

    count: int
    message: str = ""

    def __add__(self, other: "Rejected | None") -> "Rejected":
        if other is None:
            return self
        return Rejected(self.count + other.count, self.message or other.message)


def plus(total: Rejected | None, more: Rejected | None) -> Rejected | None:
    """``total`` and ``more`` together (either may be None): a batch sent as several requests."""
    return more if total is None else total + more


def rejected_in(response: Any) -> Rejected | None:
    """The ``partial_success`` of an ``Export*ServiceResponse``: a protobuf message, or its OTLP-JSON dict
    (``rejectedSpans``/``rejectedLogRecords``/``rejectedDataPoints``, an int64 written as text)."""
    if isinstance(response, dict):
        partial = response.get("partialSuccess") or response.get("partial_success")
        if not isinstance(partial, dict):
            return None
        count = next((value for key, value in partial.items() if key.startswith("rejected")), 0)
        message = partial.get("errorMessage") or partial.get("error_message") or ""
    else:
        partial = getattr(response, "partial_success", None)
        if partial is None:
            return None
        count = next((getattr(partial, k) for k in _REJECTED_FIELDS if hasattr(partial, k)), 0)
        message = getattr(partial, "error_message", "")
    try:
        count = int(count or 0)
    except (TypeError, ValueError):
        return None
    return Rejected(count, str(message or "")) if count > 0 else None


_REJECTED_FIELDS = ("rejected_spans", "rejected_log_records", "rejected_data_points")


def rejected_in_body(body: bytes, content_type: str | None, response_type: Any = None) -> Rejected | None:
    """:func:`rejected_in` for the body of a 2xx OTLP/HTTP answer: JSON, or protobuf of ``response_type``."""
    if not body:
        return None
    try:
        if "json" in (content_type or "").lower():
            return rejected_in(json.loads(body))
        if response_type is not None and "protobuf" in (content_type or "").lower():
            return rejected_in(response_type.FromString(body))
    except Exception:  # noqa: BLE001 — an unreadable success body: nothing known to be rejected
        return None
    return None


def rejected_in_refusal(status: int | None, body: bytes, content_type: str | None,
                        response_type: Any = None) -> Rejected | None:
    """The ``partial_success`` of an HTTP 4xx answer (other than 408/429) whose body is an
    ``Export*ServiceResponse`` rather than a ``google.rpc.Status``: the endpoint took the request but
    for these items, so the rest is delivered. None for a plain refusal.

    A ``Status`` read as a response has no ``partial_success`` (its field 1 is a number, the
    response's a message), so the two cannot be mistaken for each other.
    """
    if status is None or not 400 <= status < 500 or status in (408, 429):
        return None
    return rejected_in_body(body, content_type, response_type)
