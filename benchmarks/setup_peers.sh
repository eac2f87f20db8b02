#!/usr/bin/env bash
# Creates .bench-venv (repo root) for benchmarks/peers.py: otel-llm plus the
# peer instrumentations it is compared with, installed from PyPI into this
# benchmark-only environment — never project dependencies. Re-run to update.
#
#   bash benchmarks/setup_peers.sh && .bench-venv/bin/python benchmarks/peers.py
#
# The OpenTelemetry SDK stays at otel-llm's pinned version, so every
# configuration runs on the very same TracerProvider/MeterProvider code.
# OpenLIT and Langfuse are optional: if pip cannot fit them next to the rest,
# peers.py reports them as not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .bench-venv/bin/python ]; then
  python3 -m venv .bench-venv
fi
pip=(.bench-venv/bin/python -m pip install -q)
"${pip[@]}" --upgrade pip
"${pip[@]}" -e . openai httpx
# Required peers: upstream openai-v2, OpenLLMetry, OpenInference. openai-v2 2.4b0
# imports opentelemetry.util.genai.instruments, which util-genai dropped in 1.2b0.
"${pip[@]}" -e . \
  opentelemetry-instrumentation-openai-v2 \
  "opentelemetry-util-genai<1.2" \
  opentelemetry-instrumentation-openai \
  openinference-instrumentation-openai
# Optional peers, each on its own so one that does not fit leaves the others.
for optional in openlit langfuse; do
  "${pip[@]}" -e . "$optional" || echo "setup_peers: $optional did not install next to otel-llm's pins; skipped"
done
.bench-venv/bin/python -m pip list 2>/dev/null \
  | grep -i -E "^(openai|opentelemetry-(sdk|api|util-genai|instrumentation-openai.*)|openinference-instrumentation-openai|openlit|langfuse) "
