#!/usr/bin/env bash
# Sets up .venv with otel-llm[analysis] and runs the main job: the demo RAG chat
# app, traced through the embedded default (files in ./otel-data), then analysed.
# Extra arguments go to `otel-llm demo`, e.g. `bash scripts/demo.sh --turns 200`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[analysis]'
exec .venv/bin/otel-llm demo --turns 50 --output-dir ./otel-data "$@"
