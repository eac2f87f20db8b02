#!/usr/bin/env bash
# Builds (or reuses) the otelcol-llm collector binary from builder-config.yaml.
#
#   bash collector-config/build.sh          # prints the binary's path on its last line
#
# Idempotent: the binary is cached outside the repo in
#   ${OTEL_LLM_CACHE_DIR:-$HOME/.cache/otel-llm}/otelcol-llm-v0.161.0/otelcol-llm
# next to a stamp holding the sha256 of builder-config.yaml; a cached binary is
# reused while the stamp matches, otherwise it is rebuilt. The first build takes
# several minutes (Go module downloads + compile); later runs take milliseconds.
# Needs Go and the Go module proxy only. `otel-llm collector build` runs this script.
set -euo pipefail

VERSION="v0.161.0"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MANIFEST="$HERE/builder-config.yaml"
CACHE_ROOT="${OTEL_LLM_CACHE_DIR:-$HOME/.cache/otel-llm}"
DIST_DIR="$CACHE_ROOT/otelcol-llm-$VERSION"
BINARY="$DIST_DIR/otelcol-llm"
STAMP="$DIST_DIR/builder-config.sha256"

log() { echo "[otelcol-llm build] $*" >&2; }

want="$(sha256sum "$MANIFEST" | cut -d' ' -f1)"
if [ -x "$BINARY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  log "reusing cached binary"
  echo "$BINARY"
  exit 0
fi

command -v go >/dev/null 2>&1 || { log "Go is required (https://go.dev/doc/install)"; exit 1; }
GOBIN_DIR="$(go env GOPATH)/bin"
BUILDER="$GOBIN_DIR/builder"
if [ ! -x "$BUILDER" ] || ! "$BUILDER" version 2>/dev/null | grep -q "${VERSION#v}"; then
  log "installing the collector builder $VERSION (go install)"
  go install "go.opentelemetry.io/collector/cmd/builder@$VERSION"
fi

mkdir -p "$DIST_DIR"
log "building otelcol-llm $VERSION into $DIST_DIR (first build: several minutes)"
# -p caps parallel compile jobs (default 2, the machine's cores) so the build does not
# starve other work; override with OTEL_LLM_GO_PARALLEL. The dist dir is no VCS checkout.
(cd "$DIST_DIR" && GOFLAGS="${GOFLAGS:-} -buildvcs=false -p=${OTEL_LLM_GO_PARALLEL:-2}" \
  "$BUILDER" --config "$MANIFEST" >"$DIST_DIR/build.log" 2>&1) || {
  log "build failed; last lines of $DIST_DIR/build.log:"; tail -n 30 "$DIST_DIR/build.log" >&2; exit 1; }
install -m 0755 "$DIST_DIR/build/otelcol-llm" "$BINARY.tmp"
mv -f "$BINARY.tmp" "$BINARY"
echo "$want" >"$STAMP"
log "built $("$BINARY" --version 2>/dev/null || echo otelcol-llm)"
echo "$BINARY"
