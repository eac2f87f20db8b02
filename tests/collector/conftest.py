"""Fixtures for the end-to-end tests: the real otelcol-llm binary, real processes, real files.

A missing binary FAILS these tests (never skips) with the command that builds
it. Each collector runs on free loopback ports with its own data and run
directories under the test's tmp_path, with the shipped otelcol.yaml.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from otel_llm.collector import _binary, _process
from otel_llm.collector._clickhouse import ClickHouseTarget
from tests.support.ports import free_port

EMITTER = Path(__file__).with_name("emitter.py")


@pytest.fixture(scope="session")
def collector_binary() -> Path:
    try:
        return _binary.find_binary()
    except _binary.CollectorNotBuilt as exc:
        pytest.fail(str(exc), pytrace=False)


@dataclass
class Collector:
    """One collector under test; ports stay fixed across restarts (apps keep sending there)."""

    tmp: Path
    strip_content: bool = False
    zstd: bool = False
    clickhouse: str | None = None  # --clickhouse URL
    files: bool = True
    env: dict[str, str] = field(default_factory=dict)  # otelcol.yaml knobs, e.g. OTEL_LLM_ROTATE_MAX_MB
    grpc_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)
    state: _process.CollectorState | None = None

    @property
    def data_dir(self) -> Path:
        return self.tmp / "collector-data"

    @property
    def run_dir(self) -> Path:
        return self.tmp / "collector-run"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    def endpoint(self, protocol: str) -> str:
        return self.grpc_endpoint if protocol == "grpc" else self.http_endpoint

    def options(self) -> _process.CollectorOptions:
        return _process.CollectorOptions(
            data_dir=self.data_dir,
            grpc_endpoint=f"127.0.0.1:{self.grpc_port}",
            http_endpoint=f"127.0.0.1:{self.http_port}",
            health_endpoint=f"127.0.0.1:{self.health_port}",
            strip_content=self.strip_content,
            zstd=self.zstd,
            clickhouse=ClickHouseTarget.parse(self.clickhouse) if self.clickhouse else None,
            files=self.files,
            env=self.env,
        )

    def start(self) -> Collector:
        self.state = _process.start(self.options(), self.run_dir, timeout_s=30)
        return self

    def stop(self) -> None:
        """SIGTERM and wait: the file exporters close their files."""
        _process.stop(self.run_dir, timeout_s=30)

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye -- a crash."""
        assert self.state is not None
        os.kill(self.state.pid, signal.SIGKILL)
        while _process.is_alive(self.state.pid):
            time.sleep(0.01)

    def log(self) -> str:
        return _process.log_file(self.run_dir).read_text(errors="replace")


@pytest.fixture
def collector_factory(collector_binary: Path, tmp_path: Path) -> Iterator[type[Collector]]:
    """Build collectors (``collector_factory(strip_content=True)``); all are stopped at teardown."""
    made: list[Collector] = []

    def make(**kwargs: object) -> Collector:
        c = Collector(tmp_path / f"c{len(made)}", **kwargs)  # type: ignore[arg-type]
        made.append(c)
        return c

    yield make  # type: ignore[misc]
    for c in made:
        c.stop()


@pytest.fixture
def collector(collector_factory) -> Collector:  # type: ignore[no-untyped-def]
    """A started collector with the shipped config."""
    return collector_factory().start()


def app_env(replay_base: str, otlp_timeout_s: float) -> dict[str, str]:
    """Environment for the emitter: the exporter's timeout, frequent metric and span exports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env.update(
        OTEL_EXPORTER_OTLP_TIMEOUT=str(otlp_timeout_s),  # seconds, retries included
        OTEL_METRIC_EXPORT_INTERVAL="300",
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_LLM_SPOOL_REPLAY_ENDPOINT=replay_base,  # gRPC apps: our HTTP port is not 4318
        PYTHONUNBUFFERED="1",
    )
    return env


def run_app(tmp: Path, collector: Collector, *args: str, protocol: str = "http/protobuf",
            background: bool = False, timeout: float = 60, otlp_timeout_s: float = 10,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    """Run emitter.py against ``collector`` (running or not); spool under ``tmp/spool``.

    ``otlp_timeout_s``: upstream's default (10 s) where nothing should fail, so a
    slow moment on a loaded machine cannot turn into a retry and a duplicate;
    the durability tests pass 1 s so a down collector is noticed fast.
    """
    argv = [sys.executable, str(EMITTER), "--endpoint", collector.endpoint(protocol), "--protocol", protocol,
            "--spool-dir", str(tmp / "spool"), *args]
    env = {**app_env(collector.http_endpoint, otlp_timeout_s), **(env or {})}
    if background:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
