"""A user's install: the wheel in a fresh venv runs every collector command outside the repo.

The wheel is built from a copy of the sources (so the build leaves nothing in
the checkout), installed with its dependencies by pip into a new venv, and the
commands run from a directory outside the repository with that venv's
``otel-llm``: nothing can fall back on the source tree. The build reuses the
binary the suite already uses (same cache root, same manifest, so the same key).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from otel_llm.collector import _binary

from . import _otlp
from .conftest import Collector
from .test_files import post_spans

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "otel_llm", "analysis")
SHIPPED = ("builder-config.yaml", "build.sh", "otelcol.yaml", "otelcol-strip.yaml", "otelcol-zstd.yaml",
           "otelcol-clickhouse.yaml", "otelcol-no-files.yaml", "README.md")


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["OTEL_LLM_CACHE_DIR"] = str(_binary.cache_root())  # the suite's binary, whatever the default
    env.pop("OTEL_LLM_COLLECTOR_CONFIG_DIR", None)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(origin, src / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("otel_llm-*.whl")
    return wheel


def test_collector_commands_work_from_a_wheel_install_outside_the_repo(collector_binary: Path, tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"otel_llm/collector/config/{name}" for name in SHIPPED} <= names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    installed = _run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    cli = str(env_dir / "bin" / "otel-llm")
    elsewhere = tmp_path / "elsewhere"  # not the repo, not under it
    elsewhere.mkdir()
    site = next((env_dir / "lib").glob("python3*/site-packages"))

    config = _run([cli, "collector", "config", "--clickhouse", "--strip-content"], cwd=elsewhere)
    assert config.returncode == 0, config.stderr
    listed = [Path(line[2:]) for line in config.stdout.splitlines() if line.startswith("# ")]
    assert [p.name for p in listed] == ["otelcol.yaml", "otelcol-strip.yaml", "otelcol-clickhouse.yaml"]
    assert all(p.is_file() and p.is_relative_to(site) for p in listed), listed

    build = _run([cli, "collector", "build"], cwd=elsewhere)
    assert build.returncode == 0, build.stderr
    assert "reusing cached binary" in build.stderr and Path(build.stdout.strip()) == collector_binary

    c = Collector(elsewhere)  # free ports and file helpers; the installed CLI runs the process
    run_dir = ["--run-dir", str(c.run_dir)]
    started = _run([cli, "collector", "start", "--data-dir", "otel-data", *run_dir,
                    "--grpc-endpoint", f"127.0.0.1:{c.grpc_port}", "--http-endpoint", f"127.0.0.1:{c.http_port}",
                    "--health-endpoint", f"127.0.0.1:{c.health_port}"], cwd=elsewhere)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        status = _run([cli, "collector", "status", *run_dir], cwd=elsewhere)
        assert status.returncode == 0 and "is running" in status.stdout, status.stdout + status.stderr
        assert str(site) in " ".join(_recorded_command(c.run_dir))
        sent = post_spans(c, 4)
    finally:
        stopped = _run([cli, "collector", "stop", *run_dir], cwd=elsewhere)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stderr
    assert _otlp.span_ids(_otlp.messages(elsewhere / "otel-data", "traces")) == sent
    assert _run([cli, "collector", "status", *run_dir], cwd=elsewhere).returncode == 3


def _recorded_command(run_dir: Path) -> list[str]:
    """The argv the installed CLI recorded: its --config files must be the installed ones."""
    from otel_llm.collector._process import CollectorState

    state = CollectorState.read(run_dir)
    assert state is not None
    return state.command
