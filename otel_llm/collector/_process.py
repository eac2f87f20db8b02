"""Start, stop and inspect one ``otelcol-llm`` process per run directory.

A run directory holds ``otelcol-llm.pid`` (JSON: pid, endpoints, data dir,
ClickHouse endpoint without credentials, command) and ``otelcol-llm.log`` (the
collector's own output). ``start`` returns only once the collector serves (its
health check answers, or without one its OTLP ports accept), so callers may send data at once;
``stop`` sends SIGTERM and waits, because only a clean shutdown lets every
exporter close its file. SIGKILL is the fallback after the timeout.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from otel_llm.collector import _ports as ports
from otel_llm.collector._binary import BINARY_NAME, config_dir, find_binary
from otel_llm.collector._clickhouse import DATABASE_ENV, DEFAULT_DATABASE, QUEUE_DIR_ENV, ClickHouseTarget
from otel_llm.collector._endpoints import ConfigError, Endpoints, endpoints, resolved_config

NATIVE_COMPRESSION_GATE = "exporter.file.nativeCompression"
SIGNAL_FILES = ("traces.jsonl", "metrics.jsonl", "logs.jsonl")
QUEUE_SUBDIR = "clickhouse-queue"


class CollectorError(RuntimeError):
    """The collector could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class CollectorOptions:
    """How to run the collector: everything becomes a flag or an env variable of otelcol.yaml.

    An endpoint left at None keeps the config's own value (the shipped otelcol.yaml
    defaults to localhost:4317 / :4318 / :13133); either way ``start`` reads the
    endpoints it waits on and reports from the collector's resolved config.
    """

    data_dir: Path
    grpc_endpoint: str | None = None
    http_endpoint: str | None = None
    health_endpoint: str | None = None
    strip_content: bool = False
    zstd: bool = False
    clickhouse: ClickHouseTarget | None = None  # also send to ClickHouse (otelcol-clickhouse.yaml)
    files: bool = True  # False: ClickHouse only (otelcol-no-files.yaml)
    configs: tuple[Path, ...] = ()  # empty: the shipped otelcol.yaml (+ overlays)
    env: dict[str, str] = field(default_factory=dict)  # extra, e.g. OTEL_LLM_ROTATE_MAX_MB

    def __post_init__(self) -> None:
        if not self.files and self.clickhouse is None:
            raise ValueError("--no-files needs --clickhouse: the collector would write nowhere")
        if self.zstd and not self.files:
            raise ValueError("--zstd compresses the files; it makes no sense with --no-files")

    def config_files(self) -> list[Path]:
        """The ``--config`` files in merge order: base, then the chosen overlays."""
        shipped = config_dir()
        files = list(self.configs) or [shipped / "otelcol.yaml"]
        if self.strip_content:
            files.append(shipped / "otelcol-strip.yaml")
        if self.zstd:
            files.append(shipped / "otelcol-zstd.yaml")
        if self.clickhouse is not None:
            files.append(shipped / "otelcol-clickhouse.yaml")
            if not self.files:
                files.append(shipped / "otelcol-no-files.yaml")
        return files

    def command(self, binary: Path) -> list[str]:
        """The collector's argv."""
        argv = [str(binary)]
        if self.zstd:
            argv.append(f"--feature-gates={NATIVE_COMPRESSION_GATE}")
        for path in self.config_files():
            argv += ["--config", str(path)]
        return argv

    def environment(self) -> dict[str, str]:
        """The variables the configs read, over the caller's environment (arguments win)."""
        env = {**os.environ, "OTEL_LLM_DATA_DIR": str(self.data_dir)}
        for name, value in (
            ("OTEL_LLM_COLLECTOR_GRPC_ENDPOINT", self.grpc_endpoint),
            ("OTEL_LLM_COLLECTOR_HTTP_ENDPOINT", self.http_endpoint),
            ("OTEL_LLM_COLLECTOR_HEALTH_ENDPOINT", self.health_endpoint),
        ):
            if value is not None:
                env[name] = value
        if self.clickhouse is not None:
            env.setdefault(QUEUE_DIR_ENV, str(self.data_dir / QUEUE_SUBDIR))
            env.update(self.clickhouse.environment())
        return {**env, **self.env}


@dataclass(frozen=True)
class CollectorState:
    """What the pid file records about a started collector (never a credential)."""

    pid: int
    data_dir: str
    grpc_endpoint: str | None
    http_endpoint: str | None
    health_endpoint: str | None  # None: the config has no health_check; readiness = OTLP ports accept
    command: list[str]
    log_file: str
    started_at: float
    health_path: str = "/"
    files: bool = True
    clickhouse_endpoint: str | None = None
    clickhouse_database: str | None = None

    @property
    def listens(self) -> Endpoints:
        return Endpoints(self.grpc_endpoint, self.http_endpoint, self.health_endpoint, self.health_path)

    @classmethod
    def read(cls, run_dir: Path) -> CollectorState | None:
        try:
            return cls(**json.loads(pid_file(run_dir).read_text()))
        except (OSError, ValueError, TypeError):
            return None


def pid_file(run_dir: Path) -> Path:
    return run_dir / f"{BINARY_NAME}.pid"


def log_file(run_dir: Path) -> Path:
    return run_dir / f"{BINARY_NAME}.log"


def is_alive(pid: int) -> bool:
    """True while ``pid`` is a live (non-zombie) otelcol-llm process.

    Checking the command line guards against a recycled pid; a zombie child is
    reaped here so a collector we started ourselves does not look alive forever.
    """
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fine
    if not Path("/proc/self").exists():  # no procfs (macOS): existence is all we can check
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state != "Z" and BINARY_NAME.encode() in cmdline


def ready(listens: Endpoints, timeout_s: float = 1.0) -> bool:
    """True when the collector at ``listens`` serves: its health check answers 200, or,
    for a config without a health_check extension, every OTLP port accepts a connection."""
    if listens.health_url:
        try:
            with urllib.request.urlopen(listens.health_url, timeout=timeout_s) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False
    probes = listens.probes()
    return bool(probes) and all(_accepts(address, timeout_s) for address in probes)


def _accepts(address: str, timeout_s: float) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


def repair_line_ends(data_dir: Path) -> None:
    """Terminate a last line that a killed collector left without its newline.

    The file exporter writes a record and its ``\\n`` with two writes; a crash
    between them would otherwise glue the next run's first record onto it.
    """
    for name in SIGNAL_FILES:
        path = data_dir / name
        try:
            with path.open("rb+") as f:
                if f.seek(0, os.SEEK_END) == 0:
                    continue
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")
        except FileNotFoundError:
            continue


def _make_directory(path: Path, what: str) -> None:
    """``path`` made if missing; a :class:`CollectorError` naming it when it cannot be (under a file, no permission)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CollectorError(f"cannot create the {what} directory {path}: {exc.strerror or exc}") from None


def start(options: CollectorOptions, run_dir: Path, *, timeout_s: float = 30.0) -> CollectorState:
    """Start the collector, wait until it serves, write the pid file; return its state.

    The endpoints waited on and recorded are the ones the collector's resolved
    config names (:mod:`._endpoints`), so a ``--config my.yaml`` with its own
    health_check endpoint is waited on there. Raises :class:`CollectorNotBuilt`
    without a binary and :class:`CollectorError` when the config is rejected, one
    already runs for ``run_dir``, something else answers on its endpoints, or it
    does not become healthy in time (the error carries the tail of its log).
    """
    binary = find_binary()
    run_dir = run_dir.resolve()  # the pid file's log path must hold from any working directory
    _make_directory(run_dir, "run")
    previous = CollectorState.read(run_dir)
    if previous and is_alive(previous.pid):
        raise CollectorError(f"{BINARY_NAME} already runs (pid {previous.pid}); stop it first")
    data_dir = options.data_dir.resolve()
    options = replace(options, data_dir=data_dir)
    for config in options.configs:  # said as the user's mistake, not as the collector's "unable to read file:…"
        if not config.exists():
            raise CollectorError(f"--config {config}: no such file")
        if config.is_dir():
            raise CollectorError(f"--config {config} is a directory, not a config file")
    argv = options.command(binary)
    env = options.environment()
    try:
        listens = endpoints(resolved_config(argv, env))
    except ConfigError as exc:
        files = ", ".join(str(path) for path in options.config_files())
        raise CollectorError(f"{BINARY_NAME} rejects its configuration ({files}): {_one_line(str(exc))}") from None
    if not listens.health and not listens.probes():
        raise CollectorError("the configuration has neither a health_check extension nor an OTLP receiver "
                             "in its pipelines: there is nothing to wait for")
    if ready(listens):  # else that process's answer would pass for ours
        where = listens.health_url or ", ".join(listens.probes())
        raise CollectorError(f"something already answers on {where}; "
                             "stop it or choose other endpoints (--health-endpoint, --grpc-endpoint, --http-endpoint)")
    addresses = {"grpc": listens.grpc, "http": listens.http, "health": listens.health}
    taken = ports.problem(addresses, own_config=bool(options.configs))
    if taken:
        raise CollectorError(taken)
    _make_directory(data_dir, "data")
    if options.files:
        repair_line_ends(data_dir)
    log = log_file(run_dir)
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C in the caller's terminal must not kill it
        )
    clickhouse = options.clickhouse
    state = CollectorState(
        pid=process.pid,
        data_dir=str(data_dir),
        grpc_endpoint=listens.grpc,
        http_endpoint=listens.http,
        health_endpoint=listens.health,
        health_path=listens.health_path,
        command=argv,
        log_file=str(log),
        started_at=time.time(),
        files=options.files,
        clickhouse_endpoint=clickhouse.endpoint if clickhouse else None,
        clickhouse_database=(env.get(DATABASE_ENV) or DEFAULT_DATABASE) if clickhouse else None,
    )
    deadline = time.monotonic() + timeout_s
    while not ready(listens, timeout_s=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                _terminate(process.pid, timeout_s=5)
            taken = ports.in_use_in_log(_tail(log), addresses, own_config=bool(options.configs))
            if taken:  # taken between the check above and the collector's start
                raise CollectorError(taken)
            raise CollectorError(
                f"{BINARY_NAME} did not become healthy (exit code {process.poll()}); "
                f"log {log}:\n{_tail(log)}"
            )
        time.sleep(0.05)
    _write_atomically(pid_file(run_dir), json.dumps(asdict(state), indent=2))
    return state


@dataclass(frozen=True)
class Stopped:
    """What :func:`stop` did: the collector it stopped, and whether SIGTERM was enough.

    ``killed``: it did not end within the timeout (hung, or suspended by SIGSTOP) and was
    SIGKILLed, so its exporters did not close their files as a clean stop does.
    """

    state: CollectorState
    killed: bool = False


def stop(run_dir: Path, *, timeout_s: float = 30.0) -> Stopped | None:
    """Stop the collector of ``run_dir`` cleanly (SIGKILL after ``timeout_s``); None when none was running."""
    state = CollectorState.read(run_dir)
    if state is None:
        return None
    killed = _terminate(state.pid, timeout_s=timeout_s) if is_alive(state.pid) else False
    pid_file(run_dir).unlink(missing_ok=True)
    return Stopped(state, killed)


def status(run_dir: Path) -> tuple[CollectorState | None, str]:
    """(recorded state or None, ``"running"`` | ``"unhealthy"`` | ``"stopped"``).

    ``unhealthy``: the process lives but its health check does not answer 200
    (starting, shutting down, or stuck), or, without a health check, an OTLP
    port does not accept connections.
    """
    state = CollectorState.read(run_dir)
    if state is None or not is_alive(state.pid):
        return state, "stopped"
    return state, "running" if ready(state.listens) else "unhealthy"


def _terminate(pid: int, *, timeout_s: float) -> bool:
    """SIGTERM (exporters flush and close their files), SIGKILL after ``timeout_s``; True when it took the
    SIGKILL."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    killed = False
    deadline = time.monotonic() + timeout_s
    while is_alive(pid):
        if time.monotonic() > deadline:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # it ended between the check and the kill: stopped, as asked
                return killed
            killed = True
            deadline = time.monotonic() + 5
        time.sleep(0.05)
    return killed


def _one_line(message: str) -> str:
    """The collector's multi-line message (``Error: …``, an empty line, one line per problem) as one line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if lines and lines[0].startswith("Error: "):
        lines[0] = lines[0].removeprefix("Error: ")
    return " ".join(lines)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
