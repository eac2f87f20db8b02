"""The stripping overlay keeps captured user text out of the collector's files."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from otel_llm import semconv
from otel_llm.collector._binary import config_dir

from . import _otlp
from .conftest import run_app

MARKER = "PROMPT-MARKER-7f3a"


def _deleted_keys(statements: list[str]) -> set[str]:
    prefix, suffix = 'delete_key(attributes, "', '")'
    assert all(s.startswith(prefix) and s.endswith(suffix) for s in statements), statements
    return {s[len(prefix):-len(suffix)] for s in statements}


def test_overlay_deletes_exactly_the_content_attributes_everywhere() -> None:
    overlay = yaml.safe_load((config_dir() / "otelcol-strip.yaml").read_text())
    transform = overlay["processors"]["transform/strip_content"]
    contexts = {
        group["context"]: _deleted_keys(group["statements"])
        for key in ("trace_statements", "log_statements")
        for group in transform[key]
    }
    assert contexts == {name: set(semconv.CONTENT_ATTRIBUTES) for name in ("span", "spanevent", "log")}
    pipelines = overlay["service"]["pipelines"]
    assert all("transform/strip_content" in pipelines[p]["processors"] for p in ("traces", "logs"))


def test_stripping_variant_with_capture_on_writes_no_prompt_text(collector_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = collector_factory(strip_content=True).start()
    truth_file = tmp_path / "truth.json"
    app = run_app(tmp_path, collector, "--turns", "3", "--capture-content", "--marker", MARKER, "--truth", str(truth_file))
    assert app.returncode == 0, app.stdout + app.stderr
    collector.stop()

    truth = json.loads(truth_file.read_text())
    assert any(MARKER in str(s["attributes"]) for s in truth), "the app set text attributes"
    assert any(MARKER in str(s["event_attributes"]) for s in truth), "the app captured text in events"
    written = _otlp.span_ids(_otlp.messages(collector.data_dir, "traces"))
    assert {(s["trace_id"], s["span_id"]) for s in truth} <= written
    assert _otlp.log_records(_otlp.messages(collector.data_dir, "logs")), "logs still arrive"
    for path in collector.data_dir.iterdir():
        assert MARKER not in path.read_text(), f"prompt text reached {path.name}"
