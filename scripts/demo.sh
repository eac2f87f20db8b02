#!/usr/bin/env bash
# Sets up .venv with otel-llm[analysis,web] (the analysis, the report and the
# dashboard) and runs the main job: the demo RAG chat app, traced through the
# embedded default (files in ./otel-data), then analysed.
# Extra arguments go to `otel-llm demo`, e.g. `bash scripts/demo.sh --turns 200`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
setup_venv analysis,web
exec .venv/bin/otel-llm demo --turns 50 --output-dir ./otel-data "$@"
