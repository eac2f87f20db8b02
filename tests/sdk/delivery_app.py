"""A small app for the delivery tests, run as a subprocess (clean logging and exit paths).

    python delivery_app.py OUTPUT_DIR [--spans N] [--full traces,metrics,logs] [--log-file F]
        [--app-handler] [--silence-root] [--unpriced MODEL] [--app-warning TEXT] [--usage JSON]
        [--record-model JSON] [--then-sleep S] [--more N] [--sigkill | --sigterm]

``--full`` turns the named files into links to ``/dev/full`` (every write fails
with ENOSPC: a full disk). ``--log-file`` configures the app's logging to a
file *before* ``configure()``; ``--app-handler`` gives the root logger a stderr
handler of the app's own; ``--silence-root`` sets the root logger above CRITICAL
with a handler that prints nothing (so Python's last-resort handler stays quiet
too). ``--usage`` is the usage each call returns; ``--record-model`` is passed
to ``record_usage(model=...)`` inside each call.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from opentelemetry import trace

import otel_llm


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("output_dir", type=Path)
    p.add_argument("--spans", type=int, default=1000)
    p.add_argument("--full", default="")
    p.add_argument("--log-file", type=Path)
    p.add_argument("--app-handler", action="store_true")
    p.add_argument("--unpriced", default="")
    p.add_argument("--app-warning", default="")
    p.add_argument("--silence-root", action="store_true")
    p.add_argument("--usage", type=json.loads, default={"prompt_tokens": 10, "completion_tokens": 5})
    p.add_argument("--record-model", type=json.loads, default=None)
    p.add_argument("--then-sleep", type=float, default=0.0, help="seconds to wait after the spans")
    p.add_argument("--more", type=int, default=0, help="spans ended after the wait")
    p.add_argument("--sigkill", action="store_true", help="end by SIGKILL (no flush, no atexit)")
    p.add_argument("--sigterm", action="store_true", help="end by SIGTERM (docker stop, kubectl delete pod)")
    p.add_argument("--app-sigterm-exit", type=int, help="the app's own SIGTERM handler: sys.exit(CODE)")
    args = p.parse_args()

    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=logging.INFO)
    if args.app_handler:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("APP %(message)s"))
        logging.getLogger().addHandler(handler)
    if args.silence_root:
        logging.getLogger().addHandler(logging.NullHandler())
        logging.getLogger().setLevel(logging.CRITICAL + 1)
    for name in filter(None, args.full.split(",")):
        args.output_dir.mkdir(parents=True, exist_ok=True)
        (args.output_dir / f"{name}.jsonl").symlink_to("/dev/full")

    if args.app_sigterm_exit is not None:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(args.app_sigterm_exit))
    otel_llm.configure(output_dir=args.output_dir, service_name="delivery-app")
    model = args.unpriced or "gpt-4o"

    ended: list[list[str]] = []

    @otel_llm.llm_call(model=model, provider="openai")
    def call(i: int) -> dict:
        ctx = trace.get_current_span().get_span_context()
        ended.append([format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")])
        if args.record_model is not None:
            otel_llm.record_usage(model=args.record_model)
        return {"model": model, "usage": args.usage}

    for i in range(args.spans):
        call(i)
    if args.app_warning:
        logging.warning(args.app_warning)
    if args.then_sleep:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        (args.output_dir / "ended-before.json").write_text(json.dumps(ended))
        time.sleep(args.then_sleep)
        for i in range(args.more):
            call(i)
    if args.sigkill:
        os.kill(os.getpid(), signal.SIGKILL)
    if args.sigterm:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        (args.output_dir / "ended.json").write_text(json.dumps(ended))
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # the signal ends the process during this wait


if __name__ == "__main__":
    main()
