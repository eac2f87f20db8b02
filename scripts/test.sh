#!/usr/bin/env bash
# Sets up .venv with otel-llm and its test extras, builds (or reuses) the
# OpenTelemetry Collector, makes sure Debian's chromium is there for the
# browser tests, then runs the whole test suite. Extra arguments go to pytest,
# e.g. `bash scripts/test.sh tests/sdk -x`.
#
# The suite runs on two pytest-xdist workers on a machine with two cores or more, else
# in one process: many tests wait on real processes (the collector, Chromium, the CLI),
# so a second worker fills the other core while one waits. OTEL_LLM_TEST_WORKERS=N
# runs it on N workers instead (at most 4), 0 in one process, in collection order.
# `--dist loadfile` keeps each test file on one worker, so a file's module-scoped
# fixtures are made once. No test file depends on what ran before it in its process
# (the browser is started per file; counts of running calls are taken relative to the
# test's start), so any split works.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
setup_venv analysis,web,dev,peers,clickhouse
bash otel_llm/collector/config/build.sh
source scripts/_chromium.sh
ensure_chromium
cores="$(nproc 2>/dev/null || echo 1)"
workers="${OTEL_LLM_TEST_WORKERS:-$(( cores >= 2 ? 2 : 0 ))}"
if [ "$workers" -gt 4 ]; then
  workers=4
fi
if [ "$workers" -gt 0 ]; then
  exec .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
fi
exec .venv/bin/python -m pytest "$@"
