#!/usr/bin/env bash
# Sets up .venv with otel-llm and its test extras, builds (or reuses) the
# OpenTelemetry Collector, makes sure Debian's chromium is there for the
# browser tests, then runs the whole test suite. Extra arguments go to pytest,
# e.g. `bash scripts/test.sh tests/sdk -x`.
#
# The suite runs on one pytest-xdist worker per core, at most 4
# (OTEL_LLM_TEST_WORKERS=N overrides; 0 runs it in this one process): most of its
# time goes to real processes (collectors, apps, Chromium) and DuckDB, which a
# second core runs beside the first. `--dist loadfile` keeps each test file on one
# worker, so a file's module-scoped fixtures (a store, a built report) are made once.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
setup_venv analysis,web,dev,peers,clickhouse
bash otel_llm/collector/config/build.sh
source scripts/_chromium.sh
ensure_chromium
workers="${OTEL_LLM_TEST_WORKERS:-$(nproc)}"
if [ "$workers" -gt 4 ]; then
  workers=4
fi
exec .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
