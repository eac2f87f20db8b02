"""``otel-llm collector build | start | stop | status | config`` through the real entry point."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from otel_llm.collector import _binary
from otel_llm.collector import _ports as ports

from . import _otlp
from .conftest import Collector
from .test_files import post_spans


def otel_llm(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("otel-llm")
    argv = [str(script)] if script.exists() else [sys.executable, "-c", "from otel_llm.cli import main; main()"]
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_start_status_stop(collector_binary: Path, tmp_path: Path) -> None:
    c = Collector(tmp_path)  # only for its free ports and helpers; the CLI runs the process
    run_dir = ["--run-dir", str(c.run_dir)]
    started = otel_llm(
        "collector", "start", "--data-dir", str(c.data_dir), *run_dir,
        "--grpc-endpoint", f"127.0.0.1:{c.grpc_port}", "--http-endpoint", f"127.0.0.1:{c.http_port}",
        "--health-endpoint", f"127.0.0.1:{c.health_port}",
    )
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert str(c.data_dir) in started.stdout

        status = otel_llm("collector", "status", *run_dir)
        assert status.returncode == 0 and "is running" in status.stdout and str(c.data_dir) in status.stdout

        again = otel_llm("collector", "start", "--data-dir", str(c.data_dir), *run_dir)
        assert again.returncode == 1 and "already runs" in again.stderr

        sent = post_spans(c, 5)
    finally:
        stopped = otel_llm("collector", "stop", *run_dir)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert _otlp.span_ids(_otlp.messages(c.data_dir, "traces")) == sent

    after = otel_llm("collector", "status", *run_dir)
    assert after.returncode == 3 and "not running" in after.stdout


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    result = otel_llm("collector", "start", "--run-dir", str(tmp_path / "run"),
                      env={"OTEL_LLM_CACHE_DIR": str(tmp_path / "empty-cache")})
    assert result.returncode == 1
    assert "not found" in result.stderr and "otel-llm collector build" in result.stderr


def test_config_prints_files_and_command() -> None:
    result = otel_llm("collector", "config", "--strip-content", "--zstd")
    assert result.returncode == 0, result.stderr
    assert "otelcol.yaml" in result.stdout and "otelcol-strip.yaml" in result.stdout
    assert "--feature-gates=exporter.file.nativeCompression" in result.stdout


def test_build_reuses_the_cached_binary(collector_binary: Path) -> None:
    result = otel_llm("collector", "build", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "reusing cached binary" in result.stderr
    assert Path(result.stdout.strip()) == _binary.binary_path() == collector_binary


#: A PATH with bash and coreutils, and no Go.
NO_GO = {"PATH": os.pathsep.join(p for p in ("/usr/bin", "/bin") if not (Path(p) / "go").exists())}


def test_build_without_go_says_which_go_to_install(tmp_path: Path) -> None:
    """It ended "build failed: Command '['bash', ...]' returned non-zero exit status 1." (and the Python API
    with a CalledProcessError traceback); now one line: the Go version needed and where to get it."""
    env = {**NO_GO, "OTEL_LLM_CACHE_DIR": str(tmp_path / "cache")}  # no cached binary: a build is needed
    result = otel_llm("collector", "build", env=env)
    assert result.returncode == 1 and result.stdout == ""
    line = _one_line(result.stderr)
    assert line.startswith("error: building the collector needs Go 1.26 or newer (no `go` on PATH)"), line
    assert "https://go.dev/doc/install" in line and "otel-llm collector build" in line, line
    script = subprocess.run(["bash", str(_binary.config_dir() / "build.sh")], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=60)
    assert script.returncode == 1 and "needs Go 1.26 or newer" in _one_line(script.stderr)


def test_the_python_build_without_go_raises_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", NO_GO["PATH"])
    monkeypatch.setenv("OTEL_LLM_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(_binary.CollectorBuildFailed, match=r"needs Go 1\.26 or newer .*go\.dev/doc/install"):
        _binary.build(quiet=True)


def test_start_refuses_when_the_health_endpoint_is_taken(collector: Collector, tmp_path: Path) -> None:
    """Another collector's health answer must not pass for ours."""
    result = otel_llm("collector", "start", "--run-dir", str(tmp_path / "run2"), "--data-dir", str(tmp_path / "d2"),
                      "--health-endpoint", f"127.0.0.1:{collector.health_port}")
    assert result.returncode == 1 and "already answers" in result.stderr


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"not one line:\n{stderr}"
    return lines[0]


def test_start_on_a_port_another_process_holds_says_so_in_one_line(collector_binary: Path, tmp_path: Path) -> None:
    """It printed "did not become healthy" and twenty lines of the collector's log; now one line names the
    port, its holder (this test's process) and the option that chooses another, and nothing is left running."""
    c = Collector(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", c.grpc_port))
        holder.listen()
        result = otel_llm("collector", "start", "--run-dir", str(c.run_dir), "--data-dir", str(c.data_dir),
                          "--grpc-endpoint", f"127.0.0.1:{c.grpc_port}", "--http-endpoint", f"127.0.0.1:{c.http_port}",
                          "--health-endpoint", f"127.0.0.1:{c.health_port}")
    assert result.returncode == 1
    line = _one_line(result.stderr)
    assert line.startswith(f"error: port {c.grpc_port} (OTLP gRPC") and "already in use" in line, line
    assert f"by pid {os.getpid()} " in line and "--grpc-endpoint 127.0.0.1:PORT" in line, line
    assert otel_llm("collector", "status", "--run-dir", str(c.run_dir)).returncode == 3


def test_start_on_the_port_of_a_running_collector_names_it(collector: Collector, tmp_path: Path) -> None:
    other = Collector(tmp_path / "other")
    result = otel_llm("collector", "start", "--run-dir", str(other.run_dir), "--data-dir", str(other.data_dir),
                      "--grpc-endpoint", f"127.0.0.1:{other.grpc_port}",
                      "--http-endpoint", f"127.0.0.1:{collector.http_port}",
                      "--health-endpoint", f"127.0.0.1:{other.health_port}")
    assert result.returncode == 1
    line = _one_line(result.stderr)
    assert collector.state is not None
    assert f"port {collector.http_port} (OTLP HTTP" in line and f"by pid {collector.state.pid} (otelcol-llm)" in line
    assert "--http-endpoint" in line, line


def test_two_endpoints_on_one_port_are_one_line(collector_binary: Path, tmp_path: Path) -> None:
    c = Collector(tmp_path)
    result = otel_llm("collector", "start", "--run-dir", str(c.run_dir), "--data-dir", str(c.data_dir),
                      "--grpc-endpoint", f"127.0.0.1:{c.grpc_port}", "--http-endpoint", f"127.0.0.1:{c.grpc_port}",
                      "--health-endpoint", f"127.0.0.1:{c.health_port}")
    assert result.returncode == 1
    assert f"both listen on port {c.grpc_port}" in _one_line(result.stderr)


def test_a_port_taken_after_the_check_is_read_from_the_collector_s_log(collector_binary: Path, tmp_path: Path) -> None:
    """The port taken between start's check and the collector's bind: the collector's own log line is
    turned into the same one line (the log of the real binary, run on a port this test holds)."""
    c = Collector(tmp_path)
    options = c.options()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", c.http_port))
        holder.listen()
        ran = subprocess.run(options.command(collector_binary), env=options.environment(), capture_output=True,
                             text=True, timeout=60)
    assert ran.returncode != 0
    addresses = {"grpc": f"127.0.0.1:{c.grpc_port}", "http": f"127.0.0.1:{c.http_port}",
                 "health": f"127.0.0.1:{c.health_port}"}
    said = ports.in_use_in_log(ran.stdout + ran.stderr, addresses)
    assert said is not None and said.startswith(f"port {c.http_port} (OTLP HTTP"), said
    assert "--http-endpoint 127.0.0.1:PORT" in said


def _own_config(c: Collector, *, health: bool) -> str:
    """A user's config with literal endpoints (no otel-llm env knobs), writing to c.data_dir."""
    extension = f"extensions:\n  health_check/own:\n    endpoint: 127.0.0.1:{c.health_port}\n    path: /alive\n" \
        if health else ""
    return extension + f"""
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{c.grpc_port}"}}
      http: {{endpoint: "127.0.0.1:{c.http_port}"}}
exporters:
  file/own:
    path: {c.data_dir}/traces.jsonl
    create_directory: true
service:
  {"extensions: [health_check/own]" if health else ""}
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file/own]}}
"""


@pytest.mark.parametrize("health", [True, False], ids=["own-health-endpoint", "no-health-check"])
def test_start_with_own_config_waits_on_that_configs_endpoints(collector_binary: Path, tmp_path: Path,
                                                               health: bool) -> None:
    """`--config my.yaml` is waited on where my.yaml listens, reported healthy, and left running."""
    c = Collector(tmp_path)
    config = tmp_path / "my.yaml"
    config.write_text(_own_config(c, health=health))
    run_dir = ["--run-dir", str(c.run_dir)]
    started = otel_llm("collector", "start", "--config", str(config), *run_dir, "--timeout", "20")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        expected = f"http://127.0.0.1:{c.health_port}/alive" if health else "no health_check"
        assert expected in started.stdout and f"127.0.0.1:{c.grpc_port}" in started.stdout
        status = otel_llm("collector", "status", *run_dir)
        assert status.returncode == 0 and "is running" in status.stdout, status.stdout
        sent = post_spans(c, 3)
    finally:
        stopped = otel_llm("collector", "stop", *run_dir)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert _otlp.span_ids(_otlp.messages(c.data_dir, "traces")) == sent


def test_start_reports_a_config_the_collector_rejects(collector_binary: Path, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("receivers:\n  otlp: {}\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [nope]}\n")
    result = otel_llm("collector", "start", "--config", str(config), "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 1
    assert "rejects its configuration" in result.stderr and "must specify at least one protocol" in result.stderr


@pytest.mark.parametrize("which", ["--data-dir", "--run-dir"])
def test_start_names_a_directory_it_cannot_create(collector_binary: Path, tmp_path: Path, which: str) -> None:
    """A data or run directory under a file (a typo, a stale mount): it said "otel-llm failed
    (NotADirectoryError: ...)" and pointed at a traceback; it is one line naming the directory."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    dirs = {"--data-dir": str(tmp_path / "data"), "--run-dir": str(tmp_path / "run")}
    dirs[which] = str(blocker / "sub")
    result = otel_llm("collector", "start", *[x for item in dirs.items() for x in item])
    assert result.returncode == 1, result.stderr
    what = "data" if which == "--data-dir" else "run"
    assert f"cannot create the {what} directory {blocker / 'sub'}: Not a directory" in result.stderr, result.stderr
    assert "otel-llm failed" not in result.stderr and "Traceback" not in result.stderr


def test_stop_of_a_collector_that_ignores_sigterm_says_it_was_killed(collector: Collector) -> None:
    """``stop`` promises SIGTERM so the file exporters flush and close; a collector that does not end within
    ``--timeout`` (hung, or stopped by SIGSTOP) is SIGKILLed instead. The user must be told which happened:
    "stopped" alone would claim the clean shutdown that did not take place."""
    import signal

    assert collector.state is not None
    pid = collector.state.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        result = otel_llm("collector", "stop", "--run-dir", str(collector.run_dir), "--timeout", "1")
    finally:
        if _process_alive(pid):
            os.kill(pid, signal.SIGCONT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"otelcol-llm killed (pid {pid})" in result.stdout and "SIGTERM" in result.stdout, result.stdout
    assert not _process_alive(pid)
    assert otel_llm("collector", "status", "--run-dir", str(collector.run_dir)).returncode == 3


def _process_alive(pid: int) -> bool:
    from otel_llm.collector import _process

    return _process.is_alive(pid)


def test_config_s_command_line_runs_as_printed_from_a_path_with_spaces(collector_binary: Path, tmp_path: Path) -> None:
    """``config`` prints "the exact command line": pasted into a shell, it must hand the collector the same
    arguments when the binary's cache lies under a path with spaces (a home like ``/Users/Ana Lima``)."""
    cache = tmp_path / "My Cache ü"
    cache.mkdir()
    (cache / collector_binary.parent.name).symlink_to(collector_binary.parent, target_is_directory=True)
    result = otel_llm("collector", "config", "--zstd", env={"OTEL_LLM_CACHE_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("command: ")]
    printed = line.removeprefix("command: ")
    argv = subprocess.run(["bash", "-c", f"printf '%s\\n' {printed}"], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    assert argv[0] == str(cache / collector_binary.parent.name / collector_binary.name), printed
    assert argv[1:] == ["--feature-gates=exporter.file.nativeCompression",
                        "--config", str(_binary.config_dir() / "otelcol.yaml"),
                        "--config", str(_binary.config_dir() / "otelcol-zstd.yaml")], printed


@pytest.mark.parametrize("name, text, said", [
    ("missing.yaml", None, "no such file"),
    ("a-directory", "", "is a directory"),
    ("broken.yaml", "receivers: [\n", "did not find expected node content"),
    ("unknown.yaml", "exporters:\n  nop:\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [nop]}\n",
     "unknown type: \"nop\""),
])
def test_start_with_a_config_that_cannot_run_is_one_line_naming_the_file(
        collector_binary: Path, tmp_path: Path, name: str, text: str | None, said: str) -> None:
    """``start --config FILE``: a missing file, a directory, YAML that does not parse, a component the build lacks.
    One ``error:`` line naming FILE and the collector's reason (its message spans lines, with an empty one),
    and nothing started."""
    config = tmp_path / name
    if name == "a-directory":
        config.mkdir()
    elif text is not None:
        config.write_text(text)
    result = otel_llm("collector", "start", "--config", str(config), "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 1, result.stdout + result.stderr
    line = _one_line(result.stderr)
    assert line.startswith("error: ") and str(config) in line and said in line, line
    assert otel_llm("collector", "status", "--run-dir", str(tmp_path / "run")).returncode == 3


@pytest.mark.parametrize("command", ["start", "stop"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_timeout_that_is_no_number_of_seconds_is_a_usage_error(command: str, value: str, tmp_path: Path) -> None:
    """``--timeout nan`` never ran out: ``stop`` of a hung collector waited forever for a SIGKILL that never came
    (and ``start`` for a health check); ``-1`` killed it at once, no clean shutdown. Refused before anything runs."""
    # start: a config that does not exist, so that a timeout let through fails there (exit 1), starting nothing
    own = ["--config", str(tmp_path / "none.yaml")] if command == "start" else []
    result = otel_llm("collector", command, "--timeout", value, "--run-dir", str(tmp_path / "run"), *own)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--timeout" in result.stderr and "Traceback" not in result.stderr, result.stderr
