"""Where the ``otelcol-llm`` binary and its configuration live, and how it is built.

There is one build implementation: ``otel_llm/collector/config/build.sh``. The CLI's
``build`` command runs that script, so CI (``scripts/test.sh``), a developer's
shell and ``otel-llm collector build`` all produce and reuse the same cached
binary, in a directory keyed by the sha256 of ``builder-config.yaml`` (so two
manifests never evict each other's binary).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

#: The collector release every module in builder-config.yaml is pinned to.
COLLECTOR_VERSION = "v0.161.0"
BINARY_NAME = "otelcol-llm"

BUILD_HINT = (
    "build it with `otel-llm collector build` (or `bash otel_llm/collector/config/build.sh`); "
    "the first build needs Go and takes a few minutes"
)


class CollectorNotBuilt(FileNotFoundError):
    """The collector binary is missing: the message says how to build it."""


def config_dir() -> Path:
    """The shipped collector configuration: manifest, configs, overlays, build script.

    It is package data (``otel_llm/collector/config/``), so a wheel install has it
    as much as a source checkout. ``OTEL_LLM_COLLECTOR_CONFIG_DIR`` overrides it.
    """
    override = os.environ.get("OTEL_LLM_COLLECTOR_CONFIG_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parent / "config"


def cache_root() -> Path:
    """``$OTEL_LLM_CACHE_DIR`` or ``~/.cache/otel-llm`` (must match build.sh)."""
    return Path(os.environ.get("OTEL_LLM_CACHE_DIR") or Path.home() / ".cache" / "otel-llm")


def manifest_key() -> str:
    """The first 12 hex digits of the sha256 of ``builder-config.yaml`` (build.sh: ``${want:0:12}``)."""
    manifest = config_dir() / "builder-config.yaml"
    try:
        return hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]
    except OSError as exc:
        raise CollectorNotBuilt(f"collector manifest not readable at {manifest} ({exc.strerror}); "
                                "set OTEL_LLM_COLLECTOR_CONFIG_DIR") from None


def dist_dir() -> Path:
    """build.sh's cache directory for the current manifest: the binary and its build outputs."""
    return cache_root() / f"{BINARY_NAME}-{COLLECTOR_VERSION}-{manifest_key()}"


def binary_path() -> Path:
    """Where the binary is expected: ``$OTEL_LLM_COLLECTOR_BINARY`` or build.sh's cache path."""
    override = os.environ.get("OTEL_LLM_COLLECTOR_BINARY")
    if override:
        return Path(override).expanduser()
    return dist_dir() / BINARY_NAME


def find_binary() -> Path:
    """Return the executable binary, or raise :class:`CollectorNotBuilt` saying how to build it."""
    path = binary_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise CollectorNotBuilt(f"{BINARY_NAME} not found at {path}: {BUILD_HINT}")
    return path


class CollectorBuildFailed(RuntimeError):
    """build.sh stopped (no Go, a Go too old, a failed Go build): the message is its reason, one line."""


#: How build.sh starts the line that says why it stopped.
_FAILED = "[otelcol-llm build] error: "


def build(*, quiet: bool = False) -> Path:
    """Build (or reuse) the binary by running build.sh; its progress goes to stderr (unless ``quiet``).

    Raises :class:`CollectorBuildFailed` with build.sh's reason (what to install, where the Go log
    is) when the build stops; that line is not relayed, so a caller shows it once.
    """
    script = config_dir() / "build.sh"
    if not script.is_file():
        raise CollectorNotBuilt(f"build script not found at {script}; set OTEL_LLM_COLLECTOR_CONFIG_DIR")
    process = subprocess.Popen(["bash", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reasons = []
    assert process.stderr is not None and process.stdout is not None
    for line in process.stderr:  # relayed as it comes: the first build takes minutes
        if line.startswith(_FAILED):
            reasons.append(line[len(_FAILED):].strip())
        elif not quiet:
            sys.stderr.write(line)
            sys.stderr.flush()
    printed = process.stdout.read()
    if process.wait() != 0:
        raise CollectorBuildFailed("; ".join(reasons) or f"{script} exited {process.returncode}")
    return Path(printed.strip().splitlines()[-1])


class ExporterSqlMissing(FileNotFoundError):
    """The ClickHouse exporter's DDL templates are not beside the binary: the message says how to get them."""


def exporter_sql_dir() -> Path:
    """The ClickHouse exporter's table DDL templates (``*.sql``) as the collector build copied them.

    build.sh copies them from the exporter module the binary was compiled from into
    ``<dist dir>/clickhouse-sql/`` (with a ``MODULE`` file naming module@version),
    so tables created from them match what that collector's exporter writes.
    Beside ``$OTEL_LLM_COLLECTOR_BINARY`` when that is set. Raises
    :class:`ExporterSqlMissing` (saying how to build) when they are absent.
    """
    directory = binary_path().parent / "clickhouse-sql"
    if not (directory / "MODULE").is_file():
        raise ExporterSqlMissing(
            f"the ClickHouse exporter's DDL templates are not at {directory}: the collector build copies "
            f"them there from the Go module it compiles; {BUILD_HINT}"
        )
    return directory
