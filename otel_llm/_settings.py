"""Resolved configuration: one frozen dataclass, argument > environment > default.

Why a frozen dataclass resolved once: every per-call code path reads settings
from the current :class:`~otel_llm._runtime.Runtime`, so environment variables
are read exactly once (in ``configure()``) and never per call. Each field names
its environment variable and its parser in ``metadata``; a malformed
environment value warns once and falls back to the default instead of failing
the application at start-up.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from otel_llm.exporters._sizing import DEFAULT_MAX_REQUEST_BYTES

_log = logging.getLogger(__name__)

EXPORTERS = ("file", "otlp", "console", "none")
PROTOCOLS = ("http/protobuf", "grpc")
MIB = 1024 * 1024

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


# opentelemetry-util-genai's values of OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT (its
# ContentCapturingMode): where the content goes is otel-llm's to decide, whether it is captured is the user's.
_CAPTURE_MODES = {"span_only": True, "event_only": True, "span_and_event": True, "no_content": False}


def _parse_capture(raw: str) -> bool:
    """A boolean, or one of upstream's content capturing modes."""
    mode = _CAPTURE_MODES.get(raw.strip().lower())
    return _parse_bool(raw) if mode is None else mode


def _parse_choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {raw!r}")
        return value

    return parse


def _parse_positive_int(raw: str) -> int:
    value = int(raw.strip())
    if value <= 0:
        raise ValueError(f"expected a positive integer, got {raw!r}")
    return value


def _parse_mib(raw: str) -> int:
    value = float(raw.strip())
    if value <= 0:
        raise ValueError(f"expected a positive size in MiB, got {raw!r}")
    return int(value * MIB)


def _parse_seconds(raw: str) -> float:
    value = float(raw.strip())
    if not _finite_seconds(value):
        raise ValueError(f"expected a finite number of seconds >= 0, got {raw!r}")
    return value


def _finite_seconds(value: object) -> bool:
    """Whether ``value`` is a budget that ends: a number of seconds, 0 or more, not infinite (nor NaN).
    The app's exit waits for the shutdown budget."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf


def _parse_str(raw: str) -> str | None:
    return raw.strip() or None


def _parse_path(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("empty path")
    return Path(raw.strip()).expanduser()


def _env(name: str, parse: Callable[[str], Any]) -> dict[str, Any]:
    return {"env": name, "parse": parse}


@dataclass(frozen=True)
class Settings:
    """Everything ``configure()`` decides, resolved once.

    ``None`` for ``logs`` means "on with the file exporter, off otherwise";
    ``None`` for ``spool_dir`` means ``output_dir / "spool"``.
    """

    service_name: str = field(default="otel-llm-app", metadata=_env("OTEL_SERVICE_NAME", _parse_str))
    project: str | None = field(default=None, metadata=_env("OTEL_LLM_PROJECT", _parse_str))
    exporter: str = field(default="file", metadata=_env("OTEL_LLM_EXPORTER", _parse_choice(EXPORTERS)))
    output_dir: Path = field(default=Path("./otel-data"), metadata=_env("OTEL_LLM_OUTPUT_DIR", _parse_path))
    endpoint: str | None = field(default=None, metadata=_env("OTEL_EXPORTER_OTLP_ENDPOINT", _parse_str))
    protocol: str = field(
        default="http/protobuf", metadata=_env("OTEL_EXPORTER_OTLP_PROTOCOL", _parse_choice(PROTOCOLS))
    )
    pricing: Any = field(default=None, metadata=_env("OTEL_LLM_PRICING", _parse_str))
    capture_content: bool = field(
        default=False, metadata=_env("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", _parse_capture)
    )
    redact: Callable[[str], str] | None = None
    max_content_chars: int = field(
        default=8192, metadata=_env("OTEL_LLM_MAX_CONTENT_CHARS", _parse_positive_int)
    )
    logs: bool | None = field(default=None, metadata=_env("OTEL_LLM_LOGS", _parse_bool))
    process_metrics: bool = field(default=False, metadata=_env("OTEL_LLM_PROCESS_METRICS", _parse_bool))
    rotate_max_bytes: int = field(default=100 * MIB, metadata=_env("OTEL_LLM_ROTATE_MAX_MB", _parse_mib))
    spool_dir: Path | None = field(default=None, metadata=_env("OTEL_LLM_SPOOL_DIR", _parse_path))
    spool_max_bytes: int = field(default=256 * MIB, metadata=_env("OTEL_LLM_SPOOL_MAX_MB", _parse_mib))
    # Largest OTLP request and file line (bigger batches are split, single oversized items cut).
    max_request_bytes: int = field(
        default=DEFAULT_MAX_REQUEST_BYTES, metadata=_env("OTEL_LLM_MAX_REQUEST_MB", _parse_mib)
    )
    # How long shutdown (and so the app's exit) may wait for the collector; the rest is spooled.
    shutdown_timeout_s: float = field(default=5.0, metadata=_env("OTEL_LLM_SHUTDOWN_TIMEOUT_S", _parse_seconds))
    metric_export_interval_ms: int = field(
        default=60_000, metadata=_env("OTEL_METRIC_EXPORT_INTERVAL", _parse_positive_int)
    )

    @property
    def logs_enabled(self) -> bool:
        """Logs default to on with the embedded file exporter only."""
        return self.exporter == "file" if self.logs is None else self.logs

    @property
    def resolved_spool_dir(self) -> Path:
        return self.spool_dir if self.spool_dir is not None else Path(self.output_dir) / "spool"

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None, **arguments: Any) -> "Settings":
        """Build settings: an argument that is not ``None`` wins, then the env, then the default.

        Unknown argument names raise ``TypeError`` (a typo in ``configure()``
        should be loud); a malformed env value warns and is ignored.
        """
        env = os.environ if env is None else env
        known = {f.name: f for f in fields(cls)}
        unknown = set(arguments) - set(known)
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, f in known.items():
            if arguments.get(name) is not None:
                values[name] = arguments[name]
                continue
            env_name = f.metadata.get("env")
            raw = env.get(env_name) if env_name else None
            if raw is None:
                continue
            try:
                parsed = f.metadata["parse"](raw)
            except (ValueError, TypeError) as exc:
                warn_malformed(env_name, raw, exc, f.default)
                continue
            if parsed is not None:
                values[name] = parsed
        settings = cls(**values)
        settings._validate()
        return settings

    def _validate(self) -> None:
        """Explicit arguments are checked here: configuration errors are the caller's to see."""
        if self.exporter not in EXPORTERS:
            raise ValueError(f"exporter must be one of {', '.join(EXPORTERS)}, got {self.exporter!r}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {self.protocol!r}")
        if not _finite_seconds(self.shutdown_timeout_s):
            raise ValueError(f"shutdown_timeout_s must be a finite number of seconds >= 0, got {self.shutdown_timeout_s!r}")
        if self.redact is not None and not callable(self.redact):
            raise TypeError("redact must be a callable(str) -> str")
        if not isinstance(self.output_dir, Path):
            object.__setattr__(self, "output_dir", Path(self.output_dir))
        if self.spool_dir is not None and not isinstance(self.spool_dir, Path):
            object.__setattr__(self, "spool_dir", Path(self.spool_dir))


# The specification's span attribute value length limits, the span's first (upstream's ``SpanLimits`` order).
_VALUE_LENGTH_LIMITS = ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")


def attribute_value_limit(env: Mapping[str, str] | None = None) -> int | None:
    """The length the SDK cuts span attribute values to, read from the environment as upstream's
    ``SpanLimits`` reads it; ``None`` when there is none (nothing set, or ``unset``).

    ``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`` first, then
    ``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT``; a malformed one (not an integer, or
    negative) warns once and is taken as unset, as otel-llm's providers take it
    (``_upstream.tolerant_limits``). otel-llm cuts the values it copies from the
    app on every span (a session's) within it, so the SDK's own cut, which says
    nothing, never takes their marker away.
    """
    env = os.environ if env is None else env
    for name in _VALUE_LENGTH_LIMITS:
        raw = env.get(name)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value == "unset":
            return None
        try:
            limit = int(value)
            if limit < 0:
                raise ValueError("a negative length")
            return limit
        except ValueError as exc:
            warn_malformed(name, raw, exc, None)
    return None


_warned: set[tuple[str, str]] = set()


def warn_malformed(env_name: str, raw: str, exc: Exception, default: object) -> None:
    """Warn, once per variable and value, that ``env_name=raw`` is ignored for ``default`` (``exc``: why)."""
    if (env_name, raw) in _warned:
        return
    _warned.add((env_name, raw))
    shown = default if default is not MISSING else None
    warnings.warn(
        f"otel-llm: ignoring malformed {env_name}={raw!r} ({exc}); using default {shown!r}",
        RuntimeWarning,
        stacklevel=4,
    )
