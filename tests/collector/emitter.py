"""A small instrumented app, run as a subprocess by the e2e tests.

Why a subprocess: ``configure()`` installs global providers and an atexit
hook, and the tests need real process endings (``sys.exit`` inside a span, an
unhandled exception, SIGKILL). Every span the app ends is also captured by an
in-memory exporter and written to ``--truth`` (JSON) at exit: the ground truth
the collector's file is compared with.

    python emitter.py --endpoint http://127.0.0.1:4318 --protocol http/protobuf \
        --spool-dir SPOOL --truth truth.json --turns 20 [--end sys_exit|raise|sigkill]
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm
from otel_llm import semconv
from otel_llm.exporters._spool_segments import segment_files

log = logging.getLogger("e2e.app")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--protocol", default="http/protobuf")
    p.add_argument("--spool-dir", type=Path, required=True)
    p.add_argument("--truth", type=Path)
    p.add_argument("--turns", type=int, default=10)
    p.add_argument("--pace", type=float, default=0.0, help="seconds between turns")
    p.add_argument("--end", choices=("normal", "sys_exit", "raise", "sigkill"), default="normal")
    p.add_argument("--marker", default="", help="user text put into prompts, messages and attributes")
    p.add_argument("--big-turns", type=int, default=0, help="first turns whose marker is --big-chars long")
    p.add_argument("--big-chars", type=int, default=100_000)
    p.add_argument("--capture-content", action="store_true")
    p.add_argument("--sdk-file-dir", type=Path, help="also write the same spans with the SDK's file exporter")
    p.add_argument("--demo-turns", type=int, default=0, help="also play the `otel-llm demo` RAG app")
    p.add_argument("--wait-spool-empty", type=float, default=0.0, help="seconds to wait for replay")
    return p.parse_args()


def build_app(marker: str) -> Any:
    """A chat turn: graph node -> vector search, then an LLM call with usage."""

    @otel_llm.vector_op("search", collection="docs", db_system="chroma")
    def search(query: str) -> list[str]:
        return ["doc-1", "doc-2", "doc-3"]

    @otel_llm.graph_node("retrieve")
    def retrieve(query: str) -> list[str]:
        return search(query)

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def generate(prompt: str) -> dict[str, Any]:
        return {
            "id": "resp-1",
            "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"answer {marker}"}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30},
        }

    @otel_llm.chat
    def turn(i: int) -> str:
        docs = retrieve(f"question {i} {marker}")
        answer = generate(f"context {docs}; question {i} {marker}")
        span = trace.get_current_span()
        if marker:  # user text set directly as the semconv attributes and on a log record
            span.set_attribute(semconv.GEN_AI_INPUT_MESSAGES, f"[{{\"role\":\"user\",\"content\":\"{marker}\"}}]")
            span.set_attribute(semconv.GEN_AI_OUTPUT_MESSAGES, f"[{{\"role\":\"assistant\",\"content\":\"{marker}\"}}]")
            span.set_attribute(semconv.GEN_AI_SYSTEM_INSTRUCTIONS, marker)
            log.warning("turn %d", i, extra={semconv.GEN_AI_INPUT_MESSAGES: marker})
        else:
            log.warning("turn %d", i)
        return answer["choices"][0]["message"]["content"]

    return turn


def span_record(span: Any) -> dict[str, Any]:
    return {
        "trace_id": format(span.context.trace_id, "032x"),
        "span_id": format(span.context.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "name": span.name,
        "attributes": {k: list(v) if isinstance(v, tuple) else v for k, v in (span.attributes or {}).items()},
        "events": [e.name for e in span.events],
        "event_attributes": [{k: str(v) for k, v in (e.attributes or {}).items()} for e in span.events],
    }


def main() -> None:
    args = parse_args()
    otel_llm.configure(
        service_name="e2e-app",
        project="e2e",
        exporter="otlp",
        endpoint=args.endpoint,
        protocol=args.protocol,
        spool_dir=args.spool_dir,
        capture_content=args.capture_content,
        logs=True,
    )
    memory = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    provider.add_span_processor(SimpleSpanProcessor(memory))  # type: ignore[attr-defined]
    if args.sdk_file_dir:
        from otel_llm.exporters.file import FileSpanExporter

        provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(args.sdk_file_dir / "traces.jsonl")))  # type: ignore[attr-defined]

    def dump_truth() -> None:
        if args.truth:
            args.truth.write_text(json.dumps([span_record(s) for s in memory.get_finished_spans()]))

    atexit.register(dump_truth)  # registered after configure(): runs before otel_llm's shutdown
    logging.getLogger().setLevel(logging.INFO)

    if args.demo_turns:
        from otel_llm.demo.app import run as run_demo

        run_demo(args.demo_turns, seed=7, latency_scale=0.0)
    turn = build_app(args.marker)
    big_turn = build_app("P" * args.big_chars) if args.big_turns else turn
    for i in range(args.turns):
        (big_turn if i < args.big_turns else turn)(i)
        if args.pace:
            time.sleep(args.pace)

    if args.end == "sys_exit":
        with trace.get_tracer("e2e").start_as_current_span("exiting"):
            sys.exit(3)
    if args.end == "raise":
        with trace.get_tracer("e2e").start_as_current_span("failing"):
            raise RuntimeError("unhandled on purpose")
    if args.end == "sigkill":
        otel_llm.flush()  # hand every span to the exporter (and so to the spool) first
        dump_truth()
        os.kill(os.getpid(), signal.SIGKILL)

    deadline = time.monotonic() + args.wait_spool_empty
    while time.monotonic() < deadline and segment_files(args.spool_dir):
        time.sleep(0.1)
    otel_llm.shutdown()


if __name__ == "__main__":
    main()
