"""Text with a lone surrogate (half an emoji from a JavaScript client, ``surrogateescape``d bytes) over OTLP.

Python's UTF-8 codec refuses such strings, so an encoder that calls
``str.encode("utf-8")`` raises on the whole batch. A real app sends to the
built collector while it is up: nothing may be spooled, no "collector
unreachable" may be claimed, and the text arrives with U+FFFD in place of the
broken half (what the collector makes of the same text sent as JSON).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files

from . import _otlp
from .conftest import Collector

APP = r"""
import json, logging, sys, otel_llm
from opentelemetry import trace
endpoint, protocol, spool = sys.argv[1:4]
otel_llm.configure(service_name="surrogates", exporter="otlp", endpoint=endpoint, protocol=protocol,
                   spool_dir=spool, logs=True)
logging.getLogger().setLevel(logging.INFO)
broken = json.loads('"half an emoji \\ud83d here"')  # a JSON escape of one UTF-16 half: a lone surrogate

@otel_llm.tool("lookup")
def lookup(query):
    trace.get_current_span().set_attribute("app.query", query)
    logging.getLogger("app").info("looked up %s", query)
    return query

for i in range(3):
    lookup(broken if i == 1 else f"query {i}")
otel_llm.shutdown()
"""


def run(app: str, collector: Collector, protocol: str, spool: Path) -> str:
    """Run ``app`` against ``collector``, stop the collector (its files complete); the app's stderr.

    The app ends well, without a traceback, and -- the collector being up -- spools nothing.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env["OTEL_LLM_SPOOL_REPLAY_ENDPOINT"] = collector.http_endpoint  # gRPC apps: our HTTP port is not 4318
    done = subprocess.run([sys.executable, "-c", app, collector.endpoint(protocol), protocol, str(spool)],
                          env=env, capture_output=True, text=True, timeout=60)
    collector.stop()
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert segment_files(spool) == [], "the collector was up: nothing needed the spool"
    return done.stderr


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_lone_surrogate_is_delivered_directly_with_a_replacement_character(
    collector: Collector, tmp_path: Path, protocol: str
) -> None:
    stderr = run(APP, collector, protocol, tmp_path / "spool")
    assert "unreachable" not in stderr and "internal error" not in stderr.lower(), stderr

    spans = _otlp.spans(_otlp.messages(collector.data_dir, "traces"))
    queries = [_otlp.attributes(s["attributes"]).get("app.query") for s in spans]
    assert sorted(q for q in queries if q) == ["half an emoji \ufffd here", "query 0", "query 2"], queries
    bodies = [r.get("body", {}).get("stringValue", "")
              for r in _otlp.log_records(_otlp.messages(collector.data_dir, "logs"))]
    assert "looked up half an emoji \ufffd here" in bodies, bodies


METRICS_AND_LOG_ATTRIBUTES_APP = r"""
import json, logging, sys, otel_llm
from opentelemetry import metrics
endpoint, protocol, spool = sys.argv[1:4]
otel_llm.configure(service_name="surrogates", exporter="otlp", endpoint=endpoint, protocol=protocol,
                   spool_dir=spool, logs=True)
logging.getLogger().setLevel(logging.INFO)
broken = json.loads('"half an emoji \\ud83d here"')
lookups = metrics.get_meter("app").create_counter("app.lookups")
lookups.add(1, {"app.query": broken})
lookups.add(1, {"app.query": "query 0"})
logging.getLogger("app").info("with a broken attribute", extra={"app.query": broken})
otel_llm.shutdown()
"""


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_lone_surrogate_in_metric_and_log_attributes_does_not_fail_the_batch(
    collector: Collector, tmp_path: Path, protocol: str
) -> None:
    stderr = run(METRICS_AND_LOG_ATTRIBUTES_APP, collector, protocol, tmp_path / "spool")
    assert "otel-llm" not in stderr, stderr  # nothing lost, nothing said

    points = [point for message in _otlp.messages(collector.data_dir, "metrics")
              for rm in message["resourceMetrics"] for sm in rm["scopeMetrics"] for m in sm["metrics"]
              if m["name"] == "app.lookups" for point in m["sum"]["dataPoints"]]
    queries = {_otlp.attributes(p["attributes"])["app.query"] for p in points}
    assert queries == {"half an emoji \ufffd here", "query 0"}, queries
    records = [_otlp.attributes(r.get("attributes", []))
               for r in _otlp.log_records(_otlp.messages(collector.data_dir, "logs"))]
    assert {"app.query": "half an emoji \ufffd here"}.items() <= {k: v for r in records for k, v in r.items()}.items()
