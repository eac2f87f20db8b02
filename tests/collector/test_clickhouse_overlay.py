"""The ClickHouse overlays: checked by the collector itself, and what an outage does.

No ClickHouse server runs here, so the outage is real: the exporter points at a
closed loopback port. What is asserted is what the collector does meanwhile —
acknowledge into its persistent queue, keep that queue across a restart, refuse
with a retryable error when it is full — and that no credential lands in a file.
"""

from __future__ import annotations

import itertools
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from otel_llm.collector import _process
from otel_llm.collector._clickhouse import ClickHouseTarget
from tests.support.ports import closed_port

from . import _otlp
from .conftest import Collector
from .test_cli import otel_llm
from .test_files import span_request

PASSWORD = "pw-3f9c1e"  # must never appear in a file, the pid file or CLI output


def post(collector: Collector, count: int, start: int) -> tuple[int, str]:
    """(HTTP status, body) of one OTLP/HTTP request with ``count`` spans."""
    request, _ = span_request(collector, count, start=start)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


COMBINATIONS = [
    dict(strip_content=strip, zstd=zstd, clickhouse=ch, files=files)
    for strip, zstd, (ch, files) in itertools.product(
        (False, True), (False, True), ((False, True), (True, True), (True, False))
    )
    if files or not zstd
]


@pytest.mark.parametrize("combo", COMBINATIONS, ids=lambda c: "-".join(k for k, v in c.items() if v) or "base")
def test_every_overlay_combination_is_accepted_by_the_collector(collector_binary: Path, tmp_path: Path,
                                                                combo: dict[str, bool]) -> None:
    options = _process.CollectorOptions(
        data_dir=tmp_path / "data",
        strip_content=combo["strip_content"],
        zstd=combo["zstd"],
        clickhouse=ClickHouseTarget.parse(f"tcp://u:{PASSWORD}@127.0.0.1:9000/db") if combo["clickhouse"] else None,
        files=combo["files"],
    )
    binary, *flags = options.command(collector_binary)
    result = subprocess.run([binary, "validate", *flags], env=options.environment(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_overlay_without_an_endpoint_is_refused_by_the_collector(collector_binary: Path, tmp_path: Path) -> None:
    options = _process.CollectorOptions(data_dir=tmp_path, clickhouse=ClickHouseTarget("tcp://127.0.0.1:9000"))
    binary, *flags = options.command(collector_binary)
    env = {k: v for k, v in options.environment().items() if k != "OTEL_LLM_CLICKHOUSE_ENDPOINT"}
    result = subprocess.run([binary, "validate", *flags], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "endpoint must be specified" in result.stderr


def test_shipped_configs_hold_no_credentials() -> None:
    from otel_llm.collector._binary import config_dir

    overlay = (config_dir() / "otelcol-clickhouse.yaml").read_text()
    assert "password: ${env:OTEL_LLM_CLICKHOUSE_PASSWORD:-}" in overlay
    assert "username: ${env:OTEL_LLM_CLICKHOUSE_USERNAME:-}" in overlay


@pytest.mark.parametrize(("url", "endpoint", "database", "user", "password"), [
    ("tcp://localhost:9000", "tcp://localhost:9000", None, None, None),
    ("http://bob:p%40ss@ch.example:8123/llm", "http://ch.example:8123", "llm", "bob", "p@ss"),
    ("https://ch.example/analytics?secure=true", "https://ch.example?secure=true", "analytics", None, None),
    ("clickhouse://alice@[::1]:9000", "clickhouse://[::1]:9000", None, "alice", None),
])
def test_clickhouse_url_splits_credentials_and_database_off(url: str, endpoint: str, database: str | None,
                                                             user: str | None, password: str | None) -> None:
    target = ClickHouseTarget.parse(url)
    assert (target.endpoint, target.database, target.username, target.password) == (endpoint, database, user, password)


@pytest.mark.parametrize("url", ["localhost:9000", "mysql://h:1", "tcp://", "tcp://h:port"])
def test_a_malformed_clickhouse_url_is_a_clear_cli_error(url: str, tmp_path: Path) -> None:
    result = otel_llm("collector", "start", "--run-dir", str(tmp_path / "run"), "--clickhouse", url)
    assert result.returncode == 1 and "--clickhouse" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("flags", "message"), [
    (["--no-files"], "--no-files needs --clickhouse"),
    (["--no-files", "--zstd", "--clickhouse", "tcp://127.0.0.1:9000"], "--zstd"),
])
def test_flag_combinations_without_sense_are_refused(flags: list[str], message: str, tmp_path: Path) -> None:
    result = otel_llm("collector", "start", "--run-dir", str(tmp_path / "run"), *flags)
    assert result.returncode == 1 and message in result.stderr, result.stderr


def test_clickhouse_down_at_start_is_reported_with_the_collector_log(collector_factory) -> None:  # type: ignore[no-untyped-def]
    """create_schema (the default) needs ClickHouse at start: the error says why it failed."""
    collector = collector_factory(clickhouse=f"tcp://127.0.0.1:{closed_port()}")
    with pytest.raises(_process.CollectorError, match="did not become healthy") as failure:
        collector.start()
    assert "connection refused" in str(failure.value) and '"clickhouse" exporter' in str(failure.value)


def test_an_outage_fills_the_persistent_queue_which_survives_a_restart(collector_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Acknowledged data waits on disk; a full queue refuses with a retryable 503; a restart keeps the queue."""
    queue_items = 5000  # the overlay's smallest valid size: its batch min_size
    collector = collector_factory(
        clickhouse=f"tcp://writer:{PASSWORD}@127.0.0.1:{closed_port()}/llm",
        env={"OTEL_LLM_CLICKHOUSE_CREATE_SCHEMA": "false", "OTEL_LLM_CLICKHOUSE_QUEUE_ITEMS": str(queue_items)},
    ).start()
    accepted = [post(collector, 1000, start=i * 1000) for i in range(queue_items // 1000)]
    assert [status for status, _ in accepted] == [200] * 5
    status, body = post(collector, 1000, start=queue_items)
    assert status == 503 and "sending queue is full" in body  # retryable: senders retry or spool

    queue_dir = collector.data_dir / _process.QUEUE_SUBDIR
    assert (queue_dir / "exporter_clickhouse__traces").stat().st_size > 0
    status_out = otel_llm("collector", "status", "--run-dir", str(collector.run_dir))
    assert "ClickHouse: tcp://127.0.0.1:" in status_out.stdout and "database llm" in status_out.stdout
    collector.stop()

    collector.start()  # same data dir, ClickHouse still down: the 5000 queued spans are still there
    status, body = post(collector, 1, start=queue_items + 1000)
    assert status == 503 and "sending queue is full" in body
    collector.stop()

    # Beside the files: every request reached traces.jsonl, including the refused one (the
    # file exporter ran before the fanout reported ClickHouse's refusal), so a sender's
    # retry duplicates it there; the analysis de-duplicates on (trace_id, span_id).
    assert len(_otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))) == queue_items + 1000 + 1
    for path in [*collector.run_dir.iterdir(), *collector.data_dir.glob("*.jsonl")]:
        assert PASSWORD not in path.read_text(errors="replace"), path
    assert PASSWORD not in status_out.stdout + status_out.stderr


def test_no_files_sends_to_clickhouse_only(collector_factory) -> None:  # type: ignore[no-untyped-def]
    collector = collector_factory(
        clickhouse=f"http://127.0.0.1:{closed_port()}", files=False,
        env={"OTEL_LLM_CLICKHOUSE_CREATE_SCHEMA": "false"},
    ).start()
    assert post(collector, 10, start=0)[0] == 200
    collector.stop()
    assert not list(collector.data_dir.glob("*.jsonl*"))
    assert (collector.data_dir / _process.QUEUE_SUBDIR / "exporter_clickhouse__traces").exists()
