#!/usr/bin/env bash
# Builds (or reuses) the otelcol-llm collector binary from builder-config.yaml.
#
#   bash otel_llm/collector/config/build.sh          # prints the binary's path on its last line
#
# Idempotent: the binary is cached outside the repo in a directory keyed by the
# manifest,
#   ${OTEL_LLM_CACHE_DIR:-$HOME/.cache/otel-llm}/otelcol-llm-v0.161.0-<sha12>/otelcol-llm
# where <sha12> is the first 12 hex digits of the sha256 of builder-config.yaml
# (otel_llm/collector/_binary.py computes the same path). Two manifests never
# evict each other's binary; a cached binary is reused while its stamp (the full
# sha256) matches, otherwise it is rebuilt. The first build takes several minutes
# (Go module downloads + compile); later runs take milliseconds.
#
# Next to the binary, clickhouse-sql/ holds the ClickHouse exporter's table DDL
# templates (*.sql) copied from the very module source this build compiled, and
# clickhouse-sql/MODULE names that module and version: the ClickHouse analysis
# creates its tables from them, so its schema cannot drift from the exporter's.
# Needs Go 1.26+ (older Go 1.21+ fetches it) and the Go module proxy only; without them it stops with one
# "[otelcol-llm build] error: ..." line saying what to install. `otel-llm collector build` runs this script.
set -euo pipefail

VERSION="v0.161.0"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MANIFEST="$HERE/builder-config.yaml"
CACHE_ROOT="${OTEL_LLM_CACHE_DIR:-$HOME/.cache/otel-llm}"
want="$(sha256sum "$MANIFEST" | cut -d' ' -f1)"
DIST_DIR="$CACHE_ROOT/otelcol-llm-$VERSION-${want:0:12}"
BINARY="$DIST_DIR/otelcol-llm"
STAMP="$DIST_DIR/builder-config.sha256"
CLICKHOUSE_MODULE="github.com/open-telemetry/opentelemetry-collector-contrib/exporter/clickhouseexporter"
SQL_DIR="$DIST_DIR/clickhouse-sql"

#: The Go the collector builder asks for (its go.mod: go 1.26.0); Go 1.21+ fetches it by itself (GOTOOLCHAIN=auto).
GO_MIN_MINOR=26

log() { echo "[otelcol-llm build] $*" >&2; }
# The reason the build stops, one line; `otel-llm collector build` shows it as its error.
fail() { echo "[otelcol-llm build] error: $*" >&2; exit 1; }
need_go() {
  fail "building the collector needs Go 1.$GO_MIN_MINOR or newer ($1): install it from https://go.dev/doc/install" \
       "(distribution packages are often older), then run \`otel-llm collector build\` again"
}

if [ -x "$BINARY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f "$SQL_DIR/MODULE" ]; then
  log "reusing cached binary"
  echo "$BINARY"
  exit 0
fi

command -v go >/dev/null 2>&1 || need_go "no \`go\` on PATH"
go_version="$(go env GOVERSION 2>/dev/null || true)"
go_version="${go_version#go}"
IFS=. read -r go_major go_minor _ <<<"$go_version"
if [[ "$go_major" =~ ^[0-9]+$ && "${go_minor%%[!0-9]*}" =~ ^[0-9]+$ ]] && (( go_major == 1 )); then
  go_minor="${go_minor%%[!0-9]*}"
  if (( go_minor < 21 )); then
    need_go "found Go $go_version"
  elif (( go_minor < GO_MIN_MINOR )); then
    log "Go $go_version found: go fetches Go 1.$GO_MIN_MINOR for the build itself (GOTOOLCHAIN=auto, needs the network)"
  fi
fi
GOBIN_DIR="$(go env GOPATH)/bin"
BUILDER="$GOBIN_DIR/builder"
# `builder version` prints to stderr; captured whole (a `| grep -q` could SIGPIPE it under pipefail).
if [ ! -x "$BUILDER" ] || [[ "$("$BUILDER" version 2>&1)" != *"${VERSION#v}"* ]]; then
  log "installing the collector builder $VERSION (go install)"
  go install "go.opentelemetry.io/collector/cmd/builder@$VERSION"
fi

mkdir -p "$DIST_DIR"
log "building otelcol-llm $VERSION into $DIST_DIR (first build: several minutes)"
# -p caps parallel compile jobs (default 2, the machine's cores) so the build does not
# starve other work; override with OTEL_LLM_GO_PARALLEL. The dist dir is no VCS checkout.
(cd "$DIST_DIR" && GOFLAGS="${GOFLAGS:-} -buildvcs=false -p=${OTEL_LLM_GO_PARALLEL:-2}" \
  "$BUILDER" --config "$MANIFEST" >"$DIST_DIR/build.log" 2>&1) || {
  log "last lines of $DIST_DIR/build.log:"; tail -n 30 "$DIST_DIR/build.log" >&2
  fail "the Go build failed; the whole log is $DIST_DIR/build.log"; }
install -m 0755 "$DIST_DIR/build/otelcol-llm" "$BINARY.tmp"
# The exporter's DDL templates, from the module directory the generated go.mod resolved.
module_dir="$(cd "$DIST_DIR/build" && go list -m -f '{{.Dir}}' "$CLICKHOUSE_MODULE")" ||
  fail "cannot locate $CLICKHOUSE_MODULE in the build's module graph"
module_version="$(cd "$DIST_DIR/build" && go list -m -f '{{.Version}}' "$CLICKHOUSE_MODULE")"
rm -rf "$SQL_DIR.tmp" && mkdir -p "$SQL_DIR.tmp"
cp "$module_dir"/internal/sqltemplates/*.sql "$SQL_DIR.tmp/" && chmod u+w "$SQL_DIR.tmp"/*.sql  # the module cache is read-only
echo "$CLICKHOUSE_MODULE@$module_version" >"$SQL_DIR.tmp/MODULE"
rm -rf "$SQL_DIR" && mv "$SQL_DIR.tmp" "$SQL_DIR"
mv -f "$BINARY.tmp" "$BINARY"
echo "$want" >"$STAMP"
log "built $("$BINARY" --version 2>/dev/null || echo otelcol-llm)"
echo "$BINARY"
