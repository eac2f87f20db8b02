"""Sending spooled OTLP-JSON lines over OTLP/HTTP: where to, one POST and its outcome, merged requests.

Replay speaks OTLP/HTTP JSON (``POST /v1/{signal}``, ``Content-Type:
application/json``) whatever protocol the app exports with, because the
stored lines are OTLP-JSON and the collector's otlp receiver accepts JSON.
Consecutive small lines of one signal (a worker process spools one span per
line) are merged into one request: an export request may hold any number of
resource entries.
"""

from __future__ import annotations

import enum
import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.util.re import parse_env_headers

from otel_llm import _upstream
from otel_llm.exporters._sizing import count_items

__all__ = ["Outcome", "headers_for", "line_items", "merged", "mergeable", "post", "replay_url"]

DEFAULT_HTTP_PORT = 4318
REQUEST_TIMEOUT_S = 10.0


def replay_url(inner: Any, signal: str) -> str:
    """The OTLP/HTTP URL that spooled ``signal`` lines are POSTed to.

    For an HTTP exporter its own URL; for a gRPC exporter the same host on port
    4318; ``OTEL_LLM_SPOOL_REPLAY_ENDPOINT`` (a base URL) overrides both.
    """
    override = os.environ.get("OTEL_LLM_SPOOL_REPLAY_ENDPOINT")
    if override:
        return f"{override.rstrip('/')}/v1/{signal}"
    endpoint = _upstream.exporter_endpoint(inner)
    if endpoint.startswith(("http://", "https://")) and endpoint.rstrip("/").endswith(f"/v1/{signal}"):
        return endpoint  # an OTLP/HTTP exporter: its own URL
    # A gRPC exporter keeps "host:port"; the collector's HTTP receiver sits beside it.
    parsed = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}")
    host = parsed.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{DEFAULT_HTTP_PORT}/v1/{signal}"


def headers_for(signal: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS`` / ``OTEL_EXPORTER_OTLP_{SIGNAL}_HEADERS``, plus the JSON content type."""
    headers = parse_env_headers(os.environ.get("OTEL_EXPORTER_OTLP_HEADERS", ""), liberal=True)
    headers.update(parse_env_headers(os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS", ""), liberal=True))
    return {**headers, "Content-Type": "application/json"}


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    REFUSED = "refused"  # answered with a permanent refusal: sending again cannot help
    FAILED = "failed"  # not answered, or a transient refusal: try again later


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[Outcome, str]:
    """POST one OTLP-JSON request; the outcome and a short reason (status or error)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            ok = 200 <= response.status < 300
            return (Outcome.DELIVERED if ok else Outcome.FAILED), f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500 and error.code not in (408, 429):
            return Outcome.REFUSED, f"HTTP {error.code} {error.reason}"
        return Outcome.FAILED, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return Outcome.FAILED, str(error)


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
