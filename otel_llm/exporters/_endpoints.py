"""Whether an OTLP endpoint setting can be used at all, checked when ``configure()`` runs.

Why: upstream's exporters take any text as an endpoint and fail on every
export, so an endpoint such as ``"not a url"`` (or ``"localhost:4318"`` for
OTLP/HTTP, which has no scheme) surfaced only later, as "collector unreachable"
-- sending the operator to look for a collector that was never asked. A
setting that cannot work is said at setup, naming the setting and its value.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

__all__ = ["SIGNAL_VARIABLES", "endpoint_problem", "environment_problems"]

_HTTP_SCHEMES = ("http", "https")
_EXAMPLES = {"grpc": "localhost:4317 or http://localhost:4317", "http/protobuf": "http://localhost:4318"}

#: The variables upstream's exporters read for their endpoint, the generic one last.
SIGNAL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def endpoint_problem(value: str, protocol: str) -> str | None:
    """What makes ``value`` unusable as an OTLP endpoint for ``protocol``, or None when it is a URL
    (``http(s)://host[:port][/path]``; gRPC also takes ``host:port`` and ``unix:`` addresses)."""
    text = value.strip()
    if not text:
        return "it is empty"
    if any(c.isspace() for c in text):
        return "not a URL (it holds a space)"
    grpc = protocol == "grpc"
    if grpc and text.startswith("unix:"):
        return None
    if "://" in text or not grpc:
        parts = urlsplit(text)
        if parts.scheme not in _HTTP_SCHEMES:
            example = _EXAMPLES.get(protocol, _EXAMPLES["http/protobuf"])
            return f"not a URL with http:// or https:// (expected e.g. {example})"
    else:
        parts = urlsplit("//" + text)
    try:
        parts.port
    except ValueError:
        return "its port is not a number from 0 to 65535"
    if not parts.hostname:
        return "it names no host"
    return None


def environment_problems(protocol: str) -> list[str]:
    """One sentence per ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variable set to something unusable."""
    out = []
    for name in SIGNAL_VARIABLES:
        value = os.environ.get(name)
        problem = None if value is None else endpoint_problem(value, protocol)
        if problem:
            out.append(f"{name}={value!r} is not a usable OTLP endpoint: {problem}")
    return out
