"""The redact hook applies to every app text otel-llm copies, when it copies it.

Prompts and completions are captured only with capture on (tests in
test_content / test_evaluation). Exception text on spans and bridged log
records are recorded whatever the capture setting, so the hook applies to
them always — and the app's own log output stays exactly what it was.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm import _logs
from otel_llm import semconv as sc
from otel_llm.testing import Capture

SECRET = "hunter2"


def _mask(text: str) -> str:
    return text.replace(SECRET, "[REDACTED]")


@pytest.fixture(params=[False, True], ids=["capture-off", "capture-on"])
def cap_redact(request) -> Iterator[Capture]:
    capture = Capture(capture_content=request.param, redact=_mask).start()
    try:
        yield capture
    finally:
        capture.stop()


DECORATORS = {
    "chat": otel_llm.chat,
    "graph_node": otel_llm.graph_node("node"),
    "vector_op": otel_llm.vector_op("search"),
    "llm_call": otel_llm.llm_call(model="m"),
}


@pytest.mark.parametrize("decorate", DECORATORS.values(), ids=DECORATORS.keys())
def test_exception_message_and_stacktrace_are_redacted_on_the_span(cap_redact, decorate):
    err = ValueError(f"password {SECRET} rejected")

    @decorate
    def login(user: str) -> None:
        raise err

    with pytest.raises(ValueError) as caught:
        login("ann")
    assert caught.value is err and str(err) == f"password {SECRET} rejected"  # the app's exception untouched

    (span,) = cap_redact.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: password [REDACTED] rejected"
    (event,) = [e for e in span.events if e.name == sc.EVENT_EXCEPTION]
    assert event.attributes[sc.EXCEPTION_MESSAGE] == "password [REDACTED] rejected"
    assert "password [REDACTED] rejected" in event.attributes[sc.EXCEPTION_STACKTRACE]
    assert event.attributes[sc.EXCEPTION_TYPE] == "ValueError"
    for value in [span.status.description, *event.attributes.values()]:
        assert SECRET not in str(value)


def test_without_a_hook_exception_text_is_recorded_as_is(cap):
    @otel_llm.graph_node("n")
    def fail() -> None:
        raise KeyError(SECRET)

    with pytest.raises(KeyError):
        fail()
    (event,) = [e for e in cap.spans()[0].events if e.name == sc.EVENT_EXCEPTION]
    assert SECRET in event.attributes[sc.EXCEPTION_MESSAGE]


def test_a_failing_hook_leaks_nothing_from_an_exception():
    def broken(text: str) -> str:
        raise RuntimeError("hook bug")

    with Capture(redact=broken) as capture:

        @otel_llm.graph_node("n")
        def fail() -> None:
            raise ValueError(SECRET)

        with pytest.raises(ValueError):
            fail()
    span = capture.spans()[0]
    texts = [span.status.description, *(str(v) for e in span.events for v in e.attributes.values())]
    assert not any(SECRET in t for t in texts)


@pytest.fixture
def app_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """An app logger with its own console-like handler, kept out of pytest's capture."""
    logger = logging.getLogger("tests.redaction.app")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    console = io.StringIO()
    handler = logging.StreamHandler(console)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    yield logger, console
    logger.handlers.clear()
    logger.propagate = True


def test_bridged_log_bodies_and_exceptions_are_redacted_and_the_app_prints_as_before(cap_redact, app_logger):
    logger, console = app_logger
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    detach = _logs.attach_logging(provider, logger)
    try:
        logger.warning("login for %s with %s", "ann", SECRET)
        try:
            raise ValueError(f"bad password {SECRET}")
        except ValueError:
            logger.exception("login failed")
    finally:
        detach()
        provider.shutdown()

    first, second = (r.log_record for r in memory.get_finished_logs())
    assert first.body == "login for ann with [REDACTED]"
    assert second.body == "login failed"
    assert second.attributes[sc.EXCEPTION_TYPE] == "ValueError"
    assert second.attributes[sc.EXCEPTION_MESSAGE] == "bad password [REDACTED]"
    assert "bad password [REDACTED]" in second.attributes[sc.EXCEPTION_STACKTRACE]
    for record in (first, second):
        assert SECRET not in str(record.body)
        assert not any(SECRET in str(v) for v in record.attributes.values())

    printed = console.getvalue()  # the app's own handler: unchanged, secret and traceback included
    assert f"WARNING login for ann with {SECRET}" in printed
    assert f"ValueError: bad password {SECRET}" in printed


def test_bridged_log_extra_attributes_are_redacted_and_the_app_prints_as_before(cap_redact, app_logger):
    """``extra={...}`` fields become log attributes: app text like the body, so redacted like it."""
    logger, console = app_logger
    console.truncate(0)
    logger.handlers[0].setFormatter(logging.Formatter("%(levelname)s %(message)s query=%(query)s"))
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    detach = _logs.attach_logging(provider, logger)
    try:
        logger.warning("lookup failed", extra={"query": f"password {SECRET}", "tags": ["login", SECRET], "tries": 3})
    finally:
        detach()
        provider.shutdown()

    (record,) = (r.log_record for r in memory.get_finished_logs())
    assert record.attributes["query"] == "password [REDACTED]"
    assert list(record.attributes["tags"]) == ["login", "[REDACTED]"]
    assert record.attributes["tries"] == 3
    assert not any(SECRET in str(v) for v in record.attributes.values())
    assert f"WARNING lookup failed query=password {SECRET}" in console.getvalue()  # the app's handler: unchanged


class _ModelRedactor:
    """A redact hook that asks a (decorated) model to mask the text, as a PII scrubber might.

    Bounded: past a few nested uses it answers without the model, so a hook that
    re-enters otel-llm fails this test instead of recursing without end.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.calls = 0

        @otel_llm.llm_call(model="test-model", provider="openai")
        def pii_model(text: str) -> dict:
            return {"choices": [{"message": {"content": _mask(text)}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

        self.model = pii_model

    def __call__(self, text: str) -> str:
        self.calls += 1
        if self.depth >= 3:
            return _mask(text)
        self.depth += 1
        try:
            return self.model(text)["choices"][0]["message"]["content"]
        finally:
            self.depth -= 1


def test_a_redact_hook_calling_a_decorated_function_runs_it_bare(app_logger):
    """The hook is otel-llm's work, not the app's: what it calls records nothing (with capture on,
    recording the hook's own model call would copy the very text being redacted, and redact it
    again through the hook, without end)."""
    redactor = _ModelRedactor()
    with Capture(capture_content=True, redact=redactor) as capture:
        @otel_llm.tool("lookup")
        def lookup(query: str) -> str:
            return f"found {query}"

        assert lookup(f"password {SECRET}") == f"found password {SECRET}"
        (span,) = capture.spans()
        assert span.name == "execute_tool lookup"
        assert span.attributes[sc.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"query": "password [REDACTED]"}'
        assert span.attributes[sc.GEN_AI_TOOL_CALL_RESULT] == "found password [REDACTED]"
        assert redactor.calls == 2  # once per text copied: the arguments and the result


def test_a_redact_hook_that_logs_does_not_export_its_own_records(app_logger):
    """A hook that logs what it masked, to a logger the bridge exports: its record is not
    redacted through the hook again (no recursion), and it is not exported - but the app's
    own handler prints it as it always would."""
    logger, console = app_logger

    def noisy_mask(text: str) -> str:
        logger.info("masking %d chars", len(text))
        return _mask(text)

    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    with Capture(capture_content=True, redact=noisy_mask):
        detach = _logs.attach_logging(provider, logger)
        try:
            logger.warning("login with %s", SECRET)
        finally:
            detach()
            provider.shutdown()
    bodies = [r.log_record.body for r in memory.get_finished_logs()]
    assert bodies == ["login with [REDACTED]"]
    assert console.getvalue().splitlines() == [f"WARNING login with {SECRET}", "INFO masking 18 chars"]


def test_other_instrumentations_record_nothing_of_what_the_redact_hook_does():
    """What instrumentations ask before recording (``is_instrumentation_enabled``) says no inside the hook."""
    from opentelemetry.instrumentation.utils import is_instrumentation_enabled

    seen: list[bool] = []

    def mask(text: str) -> str:
        seen.append(is_instrumentation_enabled())
        return _mask(text)

    with Capture(capture_content=True, redact=mask):
        otel_llm.tool("lookup")(lambda query: query)(SECRET)
    assert seen == [False, False]
    assert is_instrumentation_enabled()


def test_a_hook_that_raises_on_the_apps_text_is_said_once_and_never_shows_that_text(caplog):
    """The hook's exception may carry the very text it was given (``cannot redact 'hunter2...'``):
    otel-llm says once that the hook failed, by its exception type, and logs neither its message
    nor its traceback, however many calls the hook fails on."""

    def refusing(text: str) -> str:
        raise ValueError(f"cannot redact {text!r}")

    with Capture(capture_content=True, redact=refusing) as capture:

        @otel_llm.llm_call(model="m")
        def ask(prompt: str) -> dict:
            return {"choices": [{"message": {"content": f"yours is {SECRET}"}, "finish_reason": "stop"}]}

        with caplog.at_level(logging.DEBUG):
            for _ in range(3):
                ask(f"my password is {SECRET}")
    said = [r for r in caplog.records if r.name.startswith("otel_llm")]
    assert len(said) == 1
    assert "ValueError" in said[0].getMessage()
    shown = logging.Formatter().format(said[0])
    assert SECRET not in shown and "cannot redact" not in shown
    events = [e for s in capture.spans() for e in s.events]
    assert events and all(e.attributes[sc.EVENT_ATTR_CONTENT] == "[redaction failed]" for e in events)


@pytest.mark.parametrize("message", [{"model": "gpt-4o", "key": "secret"}, {"a", "secret"}, ["secret", 1]])
def test_a_redacted_message_whose_arguments_do_not_fit_is_str_of_it(message) -> None:
    """``log.info(obj, extra_arg)`` whose format fails: what the redact hook sees and the record carries is
    ``str(obj)`` (the app's own text of it, as the unredacted export gives), never its JSON rendering."""
    from otel_llm._content import ContentPolicy

    policy = ContentPolicy(redact=lambda text: text.replace("secret", "[x]"))
    record = logging.LogRecord("app", logging.INFO, __file__, 1, message, ("extra",), None)
    assert policy.log_record(record).msg == str(message).replace("secret", "[x]")
