"""App text that UTF-8 cannot encode (lone surrogates) never costs a span.

Python strings may hold lone surrogates: ``os.fsdecode`` of a non-UTF-8 file
name (``'\\udcff.txt'``), ``json.loads('"\\ud800"')`` of a model's tool
arguments, bytes decoded with ``surrogateescape``. OTLP carries UTF-8 strings:
a span whose status description holds one fails to encode, and with it the
whole batch it was exported in; an attribute holding one is dropped with an
error in the app's log. So otel-llm writes such text with U+FFFD in place of
each lone surrogate, wherever it copies app text: status, exception event,
captured content.
"""

from __future__ import annotations

import logging
import os

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import semconv as sc
from otel_llm._content import utf8_safe
from otel_llm.testing import Capture

NAME = os.fsdecode(b"report-\xff.txt")  # 'report-\udcff.txt'


def _encodes(spans, caplog) -> None:
    with caplog.at_level(logging.ERROR):
        encode_spans(spans).SerializeToString()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("redact", [None, lambda text: text.replace("secret", "***")], ids=["no-hook", "hook"])
def test_a_failure_naming_an_undecodable_file_name_still_exports(caplog, redact):
    with Capture(redact=redact) as cap:

        @otel_llm.tool("read_report")
        def read_report() -> str:
            for name in [NAME]:  # as os.listdir() of a directory holding it gives it
                raise LookupError(f"no parser for {name}")
            return ""

        with pytest.raises(LookupError) as info:
            read_report()
    assert info.value.args == (f"no parser for {NAME}",)  # the app's exception is untouched
    (span,) = cap.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert "report-\ufffd.txt" in span.status.description
    (event,) = span.events
    assert "report-\ufffd.txt" in event.attributes[sc.EXCEPTION_MESSAGE]
    assert "report-\ufffd.txt" in event.attributes[sc.EXCEPTION_STACKTRACE]
    _encodes(cap.spans(), caplog)


def test_captured_content_with_lone_surrogates_still_exports(caplog):
    with Capture(capture_content=True) as cap:

        @otel_llm.tool("lookup")
        def lookup(arguments: dict) -> str:
            return "found \ud800"

        assert lookup({"q": "\udc80"}) == "found \ud800"  # the app's values are untouched
    attributes = cap.spans()[0].attributes
    assert "\ufffd" in attributes[sc.GEN_AI_TOOL_CALL_ARGUMENTS]
    assert attributes[sc.GEN_AI_TOOL_CALL_RESULT] == "found \ufffd"
    _encodes(cap.spans(), caplog)


def test_a_valid_astral_character_is_kept():
    with Capture(capture_content=True) as cap:

        @otel_llm.tool("echo")
        def echo(text: str) -> str:
            return text

        echo("robot \U0001f916")
    assert cap.spans()[0].attributes[sc.GEN_AI_TOOL_CALL_RESULT] == "robot \U0001f916"


def test_an_exception_raised_from_one_naming_an_undecodable_file_still_exports(caplog):
    with Capture() as cap:

        @otel_llm.llm_call(model="m")
        def ask() -> None:
            try:
                raise LookupError(f"no parser for {NAME}")
            except LookupError as exc:
                raise RuntimeError("cannot build the prompt") from exc

        with pytest.raises(RuntimeError):
            ask()
    (event,) = cap.spans()[0].events
    assert event.attributes[sc.EXCEPTION_MESSAGE] == "cannot build the prompt"
    assert "report-\ufffd.txt" in event.attributes[sc.EXCEPTION_STACKTRACE]
    _encodes(cap.spans(), caplog)


@pytest.mark.parametrize("redact", [None, lambda text: text.replace("secret", "***")], ids=["no-hook", "hook"])
def test_a_bridged_log_line_naming_an_undecodable_file_still_exports(caplog, redact):
    """The app logs ``processing %s`` of such a name: its own handlers print it as ever, and the
    exported record (whose body would fail its whole batch) carries U+FFFD."""
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    from otel_llm import _logs
    from otel_llm.exporters.otlp import _well_formed_record

    logger = logging.getLogger("tests.unencodable.app")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    printed: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: printed.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    with Capture(redact=redact):
        detach = _logs.attach_logging(provider, logger)
        try:
            logger.info("processing %s", NAME)
            logger.info("done")
        finally:
            detach()
            logger.removeHandler(handler)
            provider.shutdown()
    assert printed == [f"processing {NAME}", "done"]
    # As otel-llm's OTLP exporter encodes them (without a hook the message is formatted on the export side).
    records = [_well_formed_record(r) for r in memory.get_finished_logs()]
    assert [r.log_record.body for r in records] == ["processing report-\ufffd.txt", "done"]
    encode_logs(records).SerializeToString()


def test_an_agent_named_by_an_undecodable_instance_name_still_exports(caplog):
    class Reader:
        name = NAME  # e.g. the file the agent was made for

        @otel_llm.agent
        def run(self) -> str:
            return self.name

    with Capture() as cap:
        assert Reader().run() == NAME
    (span,) = cap.spans()
    assert span.name == "invoke_agent report-\ufffd.txt"
    assert span.attributes[sc.GEN_AI_AGENT_NAME] == "report-\ufffd.txt"
    _encodes(cap.spans(), caplog)


LONE = "n\ud800x"  # a lone surrogate in app text (json.loads('"n\\ud800x"') gives it)
SAFE = "n\ufffdx"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _recorded_text(cap) -> list[str]:
    """Every string otel-llm recorded: span names, attribute keys and values, event attributes, metric attributes."""
    texts: list[str] = []
    for span in cap.spans():
        texts.append(span.name)
        for attributes in [span.attributes, *(event.attributes for event in span.events)]:
            for key, value in (attributes or {}).items():
                texts += [key, *_strings(value)]
    for points in cap.metrics().values():
        for point in points:
            for key, value in point.attributes.items():
                texts += [key, *_strings(value)]
    return texts


def _run_names_everywhere() -> None:
    """Every otel-llm API that turns app text into a span name or attribute, given a lone surrogate."""

    @otel_llm.graph_node(LONE, graph=LONE)
    def node() -> dict:
        return {LONE: 1}

    @otel_llm.vector_op(LONE, collection=LONE, db_system=LONE)
    def search() -> list:
        return []

    @otel_llm.llm_call(model=LONE, provider=LONE, operation=LONE)
    def ask() -> dict:
        otel_llm.record_evaluation(LONE, label=LONE)
        return {"id": LONE, "model": LONE, "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

    @otel_llm.llm_call
    def ask_model(model: str) -> dict:
        otel_llm.record_usage(input_tokens=1, model=LONE)
        return {}

    @otel_llm.tool(LONE, type=LONE, description=LONE)
    def use(tool_call_id: str) -> str:
        return "ok"

    @otel_llm.agent(LONE, id=LONE, description=LONE)
    def run() -> None:
        node(), search(), ask(), ask_model(LONE), use(LONE)

    @otel_llm.chat
    def turn(thread_id: str, text: str) -> str:
        run()
        return "done"

    with otel_llm.session(thread_id=LONE, user_id=LONE, run_config={LONE: LONE}):
        turn(LONE, "hi")


def test_lone_surrogates_in_names_and_session_values_are_recorded_as_utf8(caplog):
    with Capture() as cap:
        _run_names_everywhere()
    texts = _recorded_text(cap)
    assert [text for text in texts if utf8_safe(text) != text] == []
    assert SAFE in cap.span(SAFE).name
    attributes = {k: v for span in cap.spans() for k, v in span.attributes.items()}
    assert attributes[sc.USER_ID] == SAFE and attributes[sc.GEN_AI_CONVERSATION_ID] == SAFE
    assert attributes[sc.OTEL_LLM_GRAPH_NODE] == SAFE
    _encodes(cap.spans(), caplog)


@pytest.mark.parametrize("project", [123, "alpha"], ids=["int", "str"])
def test_a_project_that_is_no_string_is_still_recorded(project):
    with Capture(project=project) as cap:
        otel_llm.graph_node("n")(lambda: None)()
    assert cap.span("n").attributes[sc.OTEL_LLM_PROJECT] == project


BIG = 2**70  # beyond OTLP's 64-bit integers


def test_integers_beyond_64_bits_are_recorded_as_text(caplog):
    with Capture() as cap:
        with otel_llm.session(run_config={"seed": BIG, "shards": [1, BIG]}):
            otel_llm.llm_call(model="m", seed=BIG, stop_sequences=[1, BIG])(lambda: None)()
        with otel_llm.attempt(BIG):  # no attempt number: ignored with a warning
            otel_llm.tool("t")(lambda: None)()
    span = cap.span("chat m").attributes
    assert span[sc.OTEL_LLM_RUN_CONFIG_PREFIX + "seed"] == str(BIG)
    assert span[sc.OTEL_LLM_RUN_CONFIG_PREFIX + "shards"] == str([1, BIG])  # a list: its text, as before
    assert span[sc.GEN_AI_REQUEST_SEED] == str(BIG)
    assert span[sc.GEN_AI_REQUEST_STOP_SEQUENCES] == ("1", str(BIG))
    assert sc.OTEL_LLM_ATTEMPT not in cap.span("execute_tool t").attributes
    _encodes(cap.spans(), caplog)
