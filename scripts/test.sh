#!/usr/bin/env bash
# Sets up .venv with otel-llm and its test extras, builds (or reuses) the
# OpenTelemetry Collector, makes sure Debian's chromium is there for the
# browser tests, then runs the whole test suite. Extra arguments go to pytest,
# e.g. `bash scripts/test.sh tests/sdk -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
setup_venv analysis,web,dev,peers,clickhouse
bash otel_llm/collector/config/build.sh
source scripts/_chromium.sh
ensure_chromium
exec .venv/bin/python -m pytest "$@"
