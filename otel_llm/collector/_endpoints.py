"""What a collector will listen on, read from its own resolved configuration.

``otel-llm collector start`` must wait for *this* collector's health check and
report *its* OTLP endpoints, whatever config files it was given: the shipped
``otelcol.yaml`` reads its endpoints from environment variables, a user's
``my.yaml`` may hard-code others or have no ``health_check`` at all. Rather than
re-implement the collector's config merging and ``${env:…}`` expansion, we ask
the binary: ``otelcol-llm print-config --format=json`` with the same flags and
environment as the run prints the merged, expanded, validated config (secrets
redacted). That costs one short process (~40 ms) and also rejects a broken
config before anything starts.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Wildcard listen hosts and the loopback address that reaches them.
_WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "[::]": "[::1]", "::": "[::1]"}


class ConfigError(ValueError):
    """The collector rejected its configuration; the message is the collector's own."""


@dataclass(frozen=True)
class Endpoints:
    """Listen addresses (``host:port``) from the resolved config; None where not configured."""

    grpc: str | None
    http: str | None
    health: str | None  # the health_check extension's endpoint, when the service enables one
    health_path: str = "/"

    def probes(self) -> list[str]:
        """``host:port`` addresses a local client can connect to (wildcard hosts -> loopback)."""
        return [reachable(e) for e in (self.grpc, self.http) if e]

    @property
    def health_url(self) -> str | None:
        return f"http://{reachable(self.health)}{self.health_path}" if self.health else None


def reachable(endpoint: str) -> str:
    """``0.0.0.0:13133`` -> ``127.0.0.1:13133``: where a client on this machine connects."""
    host, sep, port = endpoint.rpartition(":")
    if not sep:
        return endpoint
    return f"{_WILDCARDS.get(host, host)}:{port}"


def resolved_config(binary_argv: Sequence[str], env: Mapping[str, str], *, timeout_s: float = 30.0) -> dict[str, Any]:
    """The merged, env-expanded config of ``binary_argv`` (binary, then its flags), as JSON.

    Raises :class:`ConfigError` with the collector's message when it refuses the config.
    """
    binary, *flags = binary_argv
    result = subprocess.run(
        [binary, "print-config", "--format=json", *flags],
        env=dict(env), capture_output=True, text=True, timeout=timeout_s,
    )
    if result.returncode != 0:
        raise ConfigError((result.stderr or result.stdout).strip() or f"print-config exited {result.returncode}")
    return json.loads(result.stdout)


def endpoints(config: Mapping[str, Any]) -> Endpoints:
    """The first enabled ``otlp`` receiver's gRPC/HTTP endpoints and the enabled health_check's."""
    service = config.get("service") or {}
    used_receivers = {r for p in (service.get("pipelines") or {}).values() for r in p.get("receivers") or ()}
    grpc = http = None
    for name in sorted(used_receivers):
        if _component_type(name) != "otlp":
            continue
        protocols = ((config.get("receivers") or {}).get(name) or {}).get("protocols") or {}
        grpc = grpc or (protocols.get("grpc") or {}).get("endpoint")
        http = http or (protocols.get("http") or {}).get("endpoint")
    for name in service.get("extensions") or ():
        if _component_type(name) == "health_check":
            health = (config.get("extensions") or {}).get(name) or {}
            return Endpoints(grpc, http, health.get("endpoint"), health.get("path") or "/")
    return Endpoints(grpc, http, None)


def _component_type(component_id: str) -> str:
    """``otlp/internal`` -> ``otlp``: a component id is ``type[/name]``."""
    return component_id.split("/", 1)[0]
