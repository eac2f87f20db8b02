"""Logs bridge: Python logging -> logs.jsonl with the active span's ids, without feedback loops."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Iterator

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.trace import TracerProvider

from otel_llm import _logs
from otel_llm.exporters.file import FileLogExporter


@pytest.fixture
def app_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("tests.app")
    logger.setLevel(logging.INFO)
    logger.propagate = False  # keep records out of pytest's root capture
    yield logger
    logger.handlers.clear()
    logger.propagate = True


def log_records(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        for rl in json.loads(line)["resourceLogs"]:
            for sl in rl["scopeLogs"]:
                out += sl["logRecords"]
    return out


def test_records_carry_the_active_span_ids(tmp_path: Path, app_logger: logging.Logger) -> None:
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(FileLogExporter(tmp_path / "logs.jsonl")))
    detach = _logs.attach_logging(provider, app_logger)
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("llm call") as span:
        app_logger.warning("retrying %s", "gpt-4o")
    app_logger.info("outside any span")
    detach()
    app_logger.error("after detach: not exported")
    provider.shutdown()
    inside, outside = log_records(tmp_path / "logs.jsonl")
    ctx = span.get_span_context()
    assert inside["traceId"] == format(ctx.trace_id, "032x")
    assert inside["spanId"] == format(ctx.span_id, "016x")
    assert inside["body"] == {"stringValue": "retrying gpt-4o"}
    assert inside["severityText"] == "WARN" and inside["severityNumber"] == 13
    assert outside["body"] == {"stringValue": "outside any span"}
    assert not outside.get("traceId") and not outside.get("spanId")


def test_internal_and_export_time_records_are_not_exported() -> None:
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    root = logging.getLogger()
    detach = _logs.attach_logging(provider, root)
    try:
        otel_internal = logging.getLogger("opentelemetry.sdk.trace.export")
        exporters = logging.getLogger("otel_llm.exporters")
        for lg in (otel_internal, exporters):
            lg.warning("internal: must not loop back")
        with suppress_instrumentation():  # what exporters run under
            root.warning("emitted while exporting")
        root.warning("a real application warning")
    finally:
        detach()
    bodies = [r.log_record.body for r in memory.get_finished_logs()]
    assert bodies == ["a real application warning"]


class LoggingExporter(LogRecordExporter):
    """An exporter that logs while exporting (as a failing network exporter would)."""

    def __init__(self) -> None:
        self.exported: list[Any] = []

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        logging.getLogger("tests.app").warning("exporter complains")
        self.exported += [r.log_record.body for r in batch]
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        pass


def test_no_feedback_loop_when_the_exporter_itself_logs(app_logger: logging.Logger) -> None:
    exporter = LoggingExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    detach = _logs.attach_logging(provider, app_logger)
    app_logger.warning("one")
    detach()
    assert exporter.exported == ["one"]


def test_configure_bridges_root_logging_into_logs_jsonl(tmp_path: Path) -> None:
    from otel_llm import _runtime

    saved = _runtime._swap(None, None)
    app = logging.getLogger("tests.configured_app")
    app.setLevel(logging.INFO)
    try:
        _runtime.configure(output_dir=tmp_path, tracer_provider=TracerProvider(), exporter="file")
        rt = _runtime.current()
        with rt.tracer.start_as_current_span("turn") as span:
            app.info("answer graded %s", "pass")
        _runtime.flush()
    finally:
        _runtime.shutdown()
        _runtime._swap(*saved)
    assert not any(isinstance(h, _logs._BridgeHandler) for h in logging.getLogger().handlers)
    records = [r for r in log_records(tmp_path / "logs.jsonl") if r["body"] == {"stringValue": "answer graded pass"}]
    assert len(records) == 1
    assert records[0]["traceId"] == format(span.get_span_context().trace_id, "032x")


APP_AFTER_CONFIGURE = """
import logging, logging.config, sys
import otel_llm
if sys.argv[2] == "traced":
    otel_llm.configure(output_dir=sys.argv[1])
SETUP
logging.getLogger("app").info("started")
logging.getLogger("app").warning("careful")
"""
LOGGING_SETUPS = {
    "basicConfig": 'logging.basicConfig(level=logging.INFO, format="APP %(levelname)s %(name)s %(message)s")',
    "dictConfig": (
        'logging.config.dictConfig({"version": 1, "formatters": {"f": {"format": "APP %(levelname)s %(name)s %(message)s"}},'
        ' "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "f"}},'
        ' "root": {"handlers": ["console"], "level": "INFO"}})'
    ),
}


@pytest.mark.parametrize("setup", LOGGING_SETUPS.values(), ids=LOGGING_SETUPS.keys())
def test_logging_set_up_after_configure_prints_what_it_prints_without_otel_llm(tmp_path: Path, setup: str) -> None:
    """``configure()`` at import, logging set up in ``main`` (or by a framework such as Django's
    ``dictConfig``): the app's console is the same, and the bridge still exports every record."""
    code = APP_AFTER_CONFIGURE.replace("SETUP", setup)

    def run(mode: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / mode), mode], capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    plain = run("plain")
    assert plain.splitlines() == ["APP INFO app started", "APP WARNING app careful"]
    assert run("traced") == plain
    bodies = [r["body"]["stringValue"] for r in log_records(tmp_path / "traced" / "logs.jsonl")]
    assert bodies == ["started", "careful"]


APP_WITH_CLIENT_DEBUG_LOGS = """
import logging, sys
import httpx, openai
import otel_llm
otel_llm.configure(output_dir=sys.argv[1])
logging.basicConfig(level=logging.DEBUG, format="APP %(name)s %(message)s")  # the app turns on DEBUG everywhere

def reply(request):
    return httpx.Response(200, json={"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ANSWER-TEXT"}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}})

client = openai.OpenAI(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(reply)))

@otel_llm.llm_call(model="gpt-4o", provider="openai")
def ask():
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "SECRET-PROMPT-TEXT"}])

ask()
logging.getLogger("app").debug("the app's own debug line")
"""


@pytest.mark.parametrize("capture", ["false", "true"])
def test_provider_clients_debug_logs_carry_prompts_and_are_exported_only_with_capture_on(
        tmp_path: Path, capture: str) -> None:
    """openai's (anthropic's, botocore's...) DEBUG records hold the request body, prompts included: with
    content capture off the bridge leaves them out of logs.jsonl; the app's console prints them as ever."""
    import os

    env = {**os.environ, "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": capture}
    proc = subprocess.run([sys.executable, "-c", APP_WITH_CLIENT_DEBUG_LOGS, str(tmp_path)], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "SECRET-PROMPT-TEXT" in proc.stderr  # the app asked for DEBUG: its console shows the request
    exported = (tmp_path / "logs.jsonl").read_text()
    assert ("SECRET-PROMPT-TEXT" in exported) == (capture == "true")
    said = [line for line in proc.stderr.splitlines() if line.startswith("otel-llm: left openai")]
    assert len(said) == (1 if capture == "false" else 0)  # said once, not per record
    bodies = [r["body"].get("stringValue") for r in log_records(tmp_path / "logs.jsonl")]
    assert "the app's own debug line" in bodies  # the app's own records are exported either way


class _Formatted:
    """A log argument that notes the thread its text is made on."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def __str__(self) -> str:
        import threading

        self.threads.append(threading.current_thread().name)
        return "gpt-4o \udc80"  # a lone surrogate: OTLP cannot carry it as it is


def test_the_app_thread_only_hands_the_record_off_its_message_is_formatted_on_export(
        tmp_path: Path, app_logger: logging.Logger) -> None:
    """The bridge formatted every record's message (``getMessage()``) on the app's thread; the exporter's
    encoder does it now. The app's own handler prints what it printed, from the same record."""
    import io

    from otel_llm.exporters._batching import BatchLogProcessor

    printed = io.StringIO()
    own = logging.StreamHandler(printed)
    own.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    app_logger.addHandler(own)
    without_bridge = _Formatted()
    app_logger.warning("retrying %s", without_bridge)  # what the app's handlers (and pytest's) format
    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogProcessor(FileLogExporter(tmp_path / "logs.jsonl"), max_queue=100,
                                                        max_batch=10, delay_s=0.05, local=True))
    detach = _logs.attach_logging(provider, app_logger)
    argument = _Formatted()
    app_logger.warning("retrying %s", argument)
    on_app_thread = list(argument.threads)
    provider.force_flush()
    detach()
    provider.shutdown()
    assert printed.getvalue() == "WARNING retrying gpt-4o \udc80\n" * 2  # the app's handler: as without otel-llm
    assert on_app_thread == without_bridge.threads, argument.threads  # the bridge formatted nothing there
    (record,) = log_records(tmp_path / "logs.jsonl")
    assert record["body"] == {"stringValue": "retrying gpt-4o \ufffd"}
    assert argument.threads[len(on_app_thread):] == ["otel-llm-logs-export"]


@pytest.mark.parametrize("message", [deque([1, 2]), {"model": "gpt-4o"}, {3}], ids=["deque", "dict", "set"])
def test_a_message_its_arguments_do_not_fit_is_exported_as_str_of_it(
        tmp_path: Path, app_logger: logging.Logger, message: object) -> None:
    """A non-text message with arguments it has no place for (``logging`` cannot format it) is exported
    as ``str(msg)``, the text logging gives that message -- not JSON (``[1, 2]``, ``{"model": ...}``)."""
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(FileLogExporter(tmp_path / "logs.jsonl")))
    before = list(app_logger.handlers)  # pytest's capture among them: it raises where logging prints
    detach = _logs.attach_logging(provider, app_logger)
    (bridge,) = [handler for handler in app_logger.handlers if handler not in before]
    bridge.handle(app_logger.makeRecord(app_logger.name, logging.WARNING, __file__, 1, message, ("extra",), None))
    detach()
    provider.shutdown()
    (record,) = log_records(tmp_path / "logs.jsonl")
    assert record["body"] == {"stringValue": str(message)}
