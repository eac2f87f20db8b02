#!/usr/bin/env bash
# Sets up .venv with otel-llm and its test extras, builds (or reuses) the
# OpenTelemetry Collector, then runs the whole test suite. Extra arguments go
# to pytest, e.g. `bash scripts/test.sh tests/sdk -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
setup_venv analysis,dev,peers
bash collector-config/build.sh
exec .venv/bin/python -m pytest "$@"
