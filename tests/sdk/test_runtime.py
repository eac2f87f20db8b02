"""configure / flush / shutdown: before and after, re-configure, globals, adoption, capture()."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm
from otel_llm import _providers, _runtime, _upstream
from otel_llm._settings import Settings
from otel_llm.testing import capture

@pytest.fixture(autouse=True)
def isolated_runtime() -> Iterator[None]:
    """Each test starts unconfigured; OpenTelemetry globals are put back afterwards."""
    saved_globals = _upstream.reset_global_providers()  # start from "no global provider set"
    saved = _runtime._swap(None, None)
    root_handlers = list(logging.getLogger().handlers)
    try:
        yield
    finally:
        _runtime.shutdown()
        _runtime._swap(*saved)
        _upstream.restore_global_providers(saved_globals)
        logging.getLogger().handlers[:] = root_handlers


def read_spans(path: Path) -> list[tuple[str, str]]:
    """(scope name, span name) of every span in a traces.jsonl."""
    out = []
    for line in path.read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                out += [(ss["scope"]["name"], s["name"]) for s in ss["spans"]]
    return out


@otel_llm.llm_call(model="gpt-4o", provider="openai")
def decorated_before_configure(x: int) -> dict[str, Any]:
    return {"model": "gpt-4o", "usage": {"prompt_tokens": 10 * x, "completion_tokens": x}}


def test_current_before_configure_is_a_default_on_the_global_proxy() -> None:
    rt = _runtime.current()
    assert rt.settings.exporter == "none" and rt.content.capture is False
    assert _runtime.current() is rt  # built once
    # the proxy's tracer, watched for the provider the app may set later (test_sampled_spans_said)
    assert isinstance(rt.tracer, _runtime._AwaitingGlobal) and isinstance(rt.tracer._proxy, trace.ProxyTracer)


def test_default_runtime_honours_capture_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    assert _runtime.current().content.capture is True


def test_decorators_before_configure_never_raise_and_pick_up_configure_later() -> None:
    assert decorated_before_configure(2)["usage"]["completion_tokens"] == 2  # unconfigured: still works
    with capture() as cap:
        decorated_before_configure(3)
    span = cap.span("chat gpt-4o")
    assert span.attributes["gen_ai.usage.input_tokens"] == 30  # type: ignore[index]
    assert span.attributes["gen_ai.usage.cost"] > 0  # type: ignore[index,operator]


def test_configure_file_installs_globals_so_other_instrumentations_share_files(tmp_path: Path) -> None:
    otel_llm.configure(service_name="svc", project="alpha", output_dir=tmp_path, logs=False)
    assert trace.get_tracer_provider() is _runtime._providers.tracer_provider  # type: ignore[union-attr]
    assert metrics.get_meter_provider() is _runtime._providers.meter_provider  # type: ignore[union-attr]
    decorated_before_configure(1)
    with trace.get_tracer("some.web.framework").start_as_current_span("GET /chat"):
        pass
    assert otel_llm.flush() is True
    spans = read_spans(tmp_path / "traces.jsonl")
    assert ("some.web.framework", "GET /chat") in spans
    assert ("otel_llm", "chat gpt-4o") in spans
    assert _runtime.current().project == "alpha"
    resource = json.loads((tmp_path / "traces.jsonl").read_text().splitlines()[0])["resourceSpans"][0]
    assert {"key": "service.name", "value": {"stringValue": "svc"}} in resource["resource"]["attributes"]
    assert (tmp_path / "metrics.jsonl").exists()
    assert not (tmp_path / "logs.jsonl").exists()


def test_reconfigure_closes_the_previous_setup_and_swaps_globals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    otel_llm.configure(output_dir=first, logs=False)
    old_provider = _runtime._providers.tracer_provider  # type: ignore[union-attr]
    decorated_before_configure(1)
    otel_llm.configure(output_dir=second, logs=False)
    assert ("otel_llm", "chat gpt-4o") in read_spans(first / "traces.jsonl")  # flushed on swap
    assert trace.get_tracer_provider() is not old_provider
    decorated_before_configure(1)
    with trace.get_tracer("other").start_as_current_span("after"):
        pass
    otel_llm.flush()
    assert read_spans(second / "traces.jsonl") == [("otel_llm", "chat gpt-4o"), ("other", "after")]
    assert len(read_spans(first / "traces.jsonl")) == 1
    assert not [r for r in caplog.records if "Overriding" in r.getMessage()]


def test_shutdown_is_idempotent_and_decorators_keep_working(tmp_path: Path) -> None:
    otel_llm.configure(output_dir=tmp_path, logs=False)
    decorated_before_configure(1)
    otel_llm.shutdown()
    otel_llm.shutdown()
    assert read_spans(tmp_path / "traces.jsonl") == [("otel_llm", "chat gpt-4o")]
    assert decorated_before_configure(4)["usage"]["prompt_tokens"] == 40
    assert otel_llm.flush() is True


def test_configure_after_shutdown_installs_fresh_globals(tmp_path: Path) -> None:
    otel_llm.configure(output_dir=tmp_path / "a", logs=False)
    otel_llm.shutdown()
    otel_llm.configure(output_dir=tmp_path / "b", logs=False)
    with trace.get_tracer("lib").start_as_current_span("lands in b"):
        pass
    otel_llm.flush()
    assert read_spans(tmp_path / "b" / "traces.jsonl") == [("lib", "lands in b")]


def test_a_global_the_application_set_is_kept(tmp_path: Path) -> None:
    app_provider = TracerProvider()
    trace.set_tracer_provider(app_provider)
    otel_llm.configure(output_dir=tmp_path, logs=False)
    assert trace.get_tracer_provider() is app_provider
    decorated_before_configure(1)  # our own spans still reach our files
    otel_llm.flush()
    assert read_spans(tmp_path / "traces.jsonl") == [("otel_llm", "chat gpt-4o")]


def test_bad_exporter_is_a_clear_error_and_keeps_the_previous_runtime() -> None:
    otel_llm.configure(exporter="none")
    before = _runtime.current()
    with pytest.raises(ValueError, match="exporter must be one of"):
        otel_llm.configure(exporter="kafka")
    assert _runtime.current() is before


def test_adopted_providers_are_used_and_never_shut_down() -> None:
    memory = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(memory))
    reader = InMemoryMetricReader()
    mp = MeterProvider(metric_readers=[reader])
    global_before = trace.get_tracer_provider()
    otel_llm.configure(tracer_provider=tp, meter_provider=mp, exporter="none")
    assert trace.get_tracer_provider() is global_before  # adopted: not made global by us
    decorated_before_configure(1)
    otel_llm.shutdown()
    with tp.get_tracer("still-alive").start_as_current_span("after-shutdown"):
        pass
    assert [s.name for s in memory.get_finished_spans()] == ["chat gpt-4o", "after-shutdown"]
    assert "gen_ai.client.token.usage" in {
        m.name for rm in reader.get_metrics_data().resource_metrics  # type: ignore[union-attr]
        for sm in rm.scope_metrics for m in sm.metrics}


def test_exporter_none_without_providers_turns_otel_llm_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    global_before = trace.get_tracer_provider()
    otel_llm.configure(exporter="none", process_metrics=True)
    assert _runtime.current().enabled is False
    assert decorated_before_configure(1)["model"] == "gpt-4o"  # runs bare
    assert trace.get_tracer_provider() is global_before  # the global slot is left to the app
    assert list(tmp_path.iterdir()) == []
    otel_llm.configure(exporter="none", tracer_provider=trace.NoOpTracerProvider())
    assert _runtime.current().enabled is False
    with capture() as cap:  # exporter="none" *with* providers: recording, nothing added
        assert _runtime.current().enabled is True
        decorated_before_configure(1)
    assert len(cap.spans()) == 1


def test_atexit_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Any] = []
    monkeypatch.setattr(_runtime, "_atexit_registered", False)
    monkeypatch.setattr(_runtime.atexit, "register", registered.append)
    otel_llm.configure(exporter="none")
    otel_llm.configure(exporter="none")
    assert registered == [_runtime.shutdown]


def test_context_propagates_into_executors_after_configure() -> None:
    with capture() as cap:
        tracer = _runtime.current().tracer
        with tracer.start_as_current_span("parent"):
            with ThreadPoolExecutor(1) as pool:
                pool.submit(decorated_before_configure, 1).result()
    assert cap.span("chat gpt-4o").parent.span_id == cap.span("parent").context.span_id  # type: ignore[union-attr]


def test_capture_restores_the_previous_runtime_and_exposes_metrics() -> None:
    otel_llm.configure(exporter="none", project="outer")
    outer = _runtime.current()
    with capture(project="inner", pricing={"gpt-4o": {"input": 1.0, "output": 1.0}}) as cap:
        assert _runtime.current().project == "inner"
        decorated_before_configure(1_000)
    assert _runtime.current() is outer
    assert cap.span("chat gpt-4o").attributes["gen_ai.usage.cost"] == pytest.approx(0.011)  # type: ignore[index]
    points = cap.metrics()["gen_ai.client.token.usage"]
    assert sum(p.sum for p in points) == 11_000
    assert _runtime._providers is not None  # the outer configure's providers were not shut down


def test_otlp_build_wraps_exporters_with_the_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.resolve(env={}, exporter="otlp", endpoint="http://127.0.0.1:4318/",
                                spool_dir=tmp_path, logs=True)
    assert _providers._otlp_endpoint(settings, "traces") == {"endpoint": "http://127.0.0.1:4318/v1/traces"}
    grpc = Settings.resolve(env={}, exporter="otlp", endpoint="collector:4317", protocol="grpc")
    assert _providers._otlp_endpoint(grpc, "metrics") == {"endpoint": "collector:4317"}
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://from-env:4318")
    from_env = Settings.resolve(exporter="otlp")
    assert _providers._otlp_endpoint(from_env, "logs") == {}  # the exporter reads the env itself
    built = _providers.build(settings)
    try:
        batchers = {b.signal: b for b in built.bounded if hasattr(b, "exporter")}
        assert set(batchers) == {"traces", "logs"}
        assert all(type(b.exporter).__module__ == "otel_llm.exporters.spool" for b in batchers.values())
        assert built.logger_provider is not None
    finally:
        built.shutdown(budget_s=0.5)  # nothing listens: the exit waits only this long for it


def test_capture_fixed_ids_are_sequential() -> None:
    with capture(fixed_ids=True) as cap:
        with _runtime.current().tracer.start_as_current_span("outer"):
            decorated_before_configure(1)
    inner, outer = cap.spans()
    assert (outer.context.trace_id, outer.context.span_id, inner.context.span_id) == (1, 1, 2)
    assert inner.parent.span_id == 1  # type: ignore[union-attr]


def test_configure_arguments_reach_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    with capture(redact=str.upper, max_content_chars=5, service_name="svc"):
        rt = _runtime.current()
        assert rt.content.capture is True  # from the environment
        assert rt.content.text("hello world") == "HELLO…[truncated from 11 chars]"
        assert rt.settings.service_name == "svc"
    with capture(capture_content=False):
        assert _runtime.current().content.text("secret") is None  # the argument beats the env
    with pytest.raises(TypeError, match="unknown setting"):
        otel_llm.configure(exporter="none", max_content_char=5)  # typo: loud


def test_each_call_carries_the_project_configured_when_it_runs() -> None:
    """A decorated function keeps its static attributes between calls, but the project is the current one."""

    @otel_llm.llm_call(model="m", provider="openai")
    def call() -> str:
        return "ok"

    projects = []
    for project in ("first", "second", None, "first"):
        with capture(project=project) as cap:
            call()
        projects.append(cap.span("chat m").attributes.get("otel_llm.project"))  # type: ignore[union-attr]
    assert projects == ["first", "second", None, "first"]
