#!/usr/bin/env bash
# A real MinIO server for the tiering tests and for local use, built from source with the Go
# toolchain (no prebuilt binaries are fetched).
#
#   scripts/minio.sh build                 go install MinIO into .cache/bin (cached, idempotent)
#   scripts/minio.sh start [port] [dir]    start it on 127.0.0.1:<port> (default 9000, console on
#                                          port+1), data in <dir> (default .cache/minio-data);
#                                          waits for /minio/health/live; pid in <dir>.pid
#   scripts/minio.sh stop [dir]            stop the server started with that data dir
#
# Credentials: MINIO_ROOT_USER / MINIO_ROOT_PASSWORD (default bunka / bunka-secret).
#
# Version: MinIO's last release is RELEASE.2025-10-15T17-29-55Z (commit 9e49d5e7a648), but the Go
# module proxy answers 403 "not available" for that commit's pseudo-version; the newest master
# commit (2026-02-12, 7aac2a2c5b7c) is served. Between the two there are only README/doc changes
# and five small bug fixes (2025-10-23), so that pseudo-version is pinned here.
set -euo pipefail

MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
BIN="$CACHE/bin/minio"
STAMP="$BIN.stamp"

say() { echo "minio: $*"; }
die() { echo "minio: ERROR: $*" >&2; exit 1; }

build() {
  if [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$MINIO_VERSION" ]; then
    say "cached ($BIN, $MINIO_VERSION)"
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build MinIO)"
  mkdir -p "$CACHE/bin"
  say "building $MINIO_MODULE@$MINIO_VERSION (several minutes on 2 cores; log in .cache/minio-build.log)"
  # MinIO's go.mod names toolchain go1.24.8: the local go (newer) is fine, never download another.
  if ! GOBIN="$CACHE/bin" GOTOOLCHAIN=local CGO_ENABLED=0 go install "$MINIO_MODULE@$MINIO_VERSION" \
      >"$CACHE/minio-build.log" 2>&1; then
    tail -40 "$CACHE/minio-build.log" >&2
    die "go install failed (log above, also in .cache/minio-build.log)"
  fi
  [ -x "$BIN" ] || die "go install ran but $BIN is missing"
  echo "$MINIO_VERSION" >"$STAMP"
  say "built $BIN"
}

start() {
  local port="${1:-9000}" dir="${2:-$CACHE/minio-data}"
  local console=$((port + 1))
  [ -x "$BIN" ] || die "$BIN is missing: run scripts/minio.sh build"
  mkdir -p "$dir"
  if [ -f "$dir.pid" ] && kill -0 "$(cat "$dir.pid")" 2>/dev/null; then
    say "already running (pid $(cat "$dir.pid"))"
    return 0
  fi
  MINIO_ROOT_USER="${MINIO_ROOT_USER:-bunka}" MINIO_ROOT_PASSWORD="${MINIO_ROOT_PASSWORD:-bunka-secret}" \
    MINIO_BROWSER=off MINIO_UPDATE=off \
    setsid nohup "$BIN" server --quiet --address "127.0.0.1:$port" --console-address "127.0.0.1:$console" "$dir" \
    >"$dir.log" 2>&1 </dev/null &
  echo $! >"$dir.pid"
  local i
  for i in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/live" 2>/dev/null; then
      say "listening on 127.0.0.1:$port (pid $(cat "$dir.pid"), data $dir)"
      return 0
    fi
    kill -0 "$(cat "$dir.pid")" 2>/dev/null || { cat "$dir.log" >&2; die "minio exited during startup"; }
    sleep 0.1
  done
  die "minio did not become live on 127.0.0.1:$port within 30 s (log: $dir.log)"
}

stop() {
  local dir="${1:-$CACHE/minio-data}"
  [ -f "$dir.pid" ] || { say "not running (no $dir.pid)"; return 0; }
  local pid
  pid="$(cat "$dir.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local i
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$dir.pid"
  say "stopped (pid $pid)"
}

case "${1:-}" in
  build) build ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: scripts/minio.sh build | start [port] [datadir] | stop [datadir]" >&2; exit 2 ;;
esac
