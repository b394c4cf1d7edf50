#!/usr/bin/env bash
# Installs what the real-client tests need, into .cache/ at the repo root.
# Idempotent and cached: every step is skipped when its inputs have not changed,
# so a second run takes a second or two.
#
#   kcat                     Debian package, only if `kcat` is not on PATH
#   .cache/kafka/libs/       Apache Kafka jars (broker, tools, clients, log4j2) from
#                            Maven Central, listed in scripts/kafka/pom.xml
#   .cache/java-classes/     test/clients/java/*.java compiled against those jars
#   .cache/bin/franz-client  test/clients/franz built with go
#   .cache/bin/franz-group   test/clients/franz-group built with go
#   .cache/bin/minio         MinIO server for the tiering tests, built with go (scripts/minio.sh)
#
# Env: BUNKA_SKIP_KCAT=1 skips the kcat step (for machines without apt); BUNKA_SKIP_MINIO=1 the
# MinIO build (the tiering integration tests then fail with a pointer here).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
mkdir -p "$CACHE"

say() { echo "setup-test-deps: $*"; }
die() { echo "setup-test-deps: ERROR: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH ($2)"; }
hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }
started=$SECONDS
# Replace directory $2 by $1 with two renames (the old one is deleted afterwards).
swap_in() {
  local old="$2.old.$$"
  if [ -e "$2" ]; then mv "$2" "$old"; fi
  mv "$1" "$2"
  rm -rf "$old"
}

# ---------------------------------------------------------------- kcat
if command -v kcat >/dev/null 2>&1; then
  say "kcat: present ($(command -v kcat))"
elif [ "${BUNKA_SKIP_KCAT:-}" = 1 ]; then
  say "kcat: missing, skipped (BUNKA_SKIP_KCAT=1)"
else
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "kcat is missing and we are not root and there is no sudo; install kcat by hand"
    SUDO=(sudo -n)
  fi
  need apt-get "kcat is missing; install it by hand"
  say "kcat: installing with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Try without refreshing the package lists first; update only if that fails.
  if ! "${SUDO[@]}" apt-get install -y -q kcat >"$CACHE/apt.log" 2>&1; then
    say "kcat: apt-get update"
    "${SUDO[@]}" apt-get update -q >>"$CACHE/apt.log" 2>&1 || { cat "$CACHE/apt.log" >&2; die "apt-get update failed"; }
    "${SUDO[@]}" apt-get install -y -q kcat >>"$CACHE/apt.log" 2>&1 || { cat "$CACHE/apt.log" >&2; die "apt-get install kcat failed"; }
  fi
  command -v kcat >/dev/null 2>&1 || die "kcat still not on PATH after apt-get install"
  say "kcat: installed ($(command -v kcat))"
fi

# ---------------------------------------------------------------- Kafka jars
need java "Java 17+ runs the Kafka broker and the Java test clients"
need javac "javac compiles test/clients/java"
LIBS="$CACHE/kafka/libs"
POM="$ROOT/scripts/kafka/pom.xml"
jars_hash="$(hash_files "$POM")"
if [ -f "$LIBS/.stamp" ] && [ "$(cat "$LIBS/.stamp")" = "$jars_hash" ]; then
  say "kafka jars: cached ($(ls "$LIBS"/*.jar | wc -l) jars in .cache/kafka/libs)"
else
  need mvn "Maven fetches the Kafka jars"
  say "kafka jars: fetching with maven (first run takes about a minute)"
  tmp="$CACHE/kafka/libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp" >"$CACHE/kafka/mvn.log" 2>&1; then
    cat "$CACHE/kafka/mvn.log" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (log above, also in .cache/kafka/mvn.log)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "maven ran but no kafka_2.13 jar arrived in $tmp"
  echo "$jars_hash" >"$tmp/.stamp"
  swap_in "$tmp" "$LIBS"
  say "kafka jars: $(ls "$LIBS"/*.jar | wc -l) jars in .cache/kafka/libs ($(ls "$LIBS" | grep -o '^kafka_2.13-.*\.jar'))"
fi

# ---------------------------------------------------------------- Java test clients
CLASSES="$CACHE/java-classes"
java_hash="$(hash_files "$LIBS/.stamp" "$ROOT"/test/clients/java/*.java)"
if [ -f "$CLASSES/.stamp" ] && [ "$(cat "$CLASSES/.stamp")" = "$java_hash" ]; then
  say "java clients: cached (.cache/java-classes)"
else
  say "java clients: compiling test/clients/java"
  # Compile aside and swap in, so a test run going on meanwhile never sees a half-built dir.
  tmp="$CACHE/java-classes.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  javac -nowarn -d "$tmp" -cp "$LIBS/*" "$ROOT"/test/clients/java/*.java || { rm -rf "$tmp"; die "javac failed"; }
  echo "$java_hash" >"$tmp/.stamp"
  swap_in "$tmp" "$CLASSES"
  say "java clients: compiled into .cache/java-classes"
fi

# ---------------------------------------------------------------- franz-go client
need go "Go builds test/clients/franz"
FRANZ_SRC="$ROOT/test/clients/franz"
FRANZ_BIN="$CACHE/bin/franz-client"
franz_hash="$(hash_files "$FRANZ_SRC/go.mod" "$FRANZ_SRC/go.sum" "$FRANZ_SRC"/*.go)"
if [ -x "$FRANZ_BIN" ] && [ -f "$FRANZ_BIN.stamp" ] && [ "$(cat "$FRANZ_BIN.stamp")" = "$franz_hash" ]; then
  say "franz client: cached (.cache/bin/franz-client)"
else
  say "franz client: go build (first run downloads modules and takes about a minute)"
  mkdir -p "$CACHE/bin"
  (cd "$FRANZ_SRC" && go build -o "$FRANZ_BIN.tmp" .) || die "go build of test/clients/franz failed"
  mv "$FRANZ_BIN.tmp" "$FRANZ_BIN"
  echo "$franz_hash" >"$FRANZ_BIN.stamp"
  say "franz client: built .cache/bin/franz-client"
fi

# ---------------------------------------------------------------- franz-go group member
# test/clients/franz-group: a kgo consumer-group member (cooperative-sticky, autocommit) for the
# group integration tests; built and cached like the franz client above.
FRANZ_GROUP_SRC="$ROOT/test/clients/franz-group"
FRANZ_GROUP_BIN="$CACHE/bin/franz-group"
franz_group_hash="$(hash_files "$FRANZ_GROUP_SRC/go.mod" "$FRANZ_GROUP_SRC/go.sum" "$FRANZ_GROUP_SRC"/*.go)"
if [ -x "$FRANZ_GROUP_BIN" ] && [ -f "$FRANZ_GROUP_BIN.stamp" ] && [ "$(cat "$FRANZ_GROUP_BIN.stamp")" = "$franz_group_hash" ]; then
  say "franz group member: cached (.cache/bin/franz-group)"
else
  say "franz group member: go build"
  mkdir -p "$CACHE/bin"
  (cd "$FRANZ_GROUP_SRC" && go build -o "$FRANZ_GROUP_BIN.tmp" .) || die "go build of test/clients/franz-group failed"
  mv "$FRANZ_GROUP_BIN.tmp" "$FRANZ_GROUP_BIN"
  echo "$franz_group_hash" >"$FRANZ_GROUP_BIN.stamp"
  say "franz group member: built .cache/bin/franz-group"
fi

# ---------------------------------------------------------------- MinIO (tiering tests)
# Built from source with go (cached by version in .cache/bin/minio.stamp); the first build takes
# several minutes on 2 cores. scripts/minio.sh holds the pinned version and starts/stops servers.
if [ "${BUNKA_SKIP_MINIO:-}" = 1 ]; then
  say "minio: skipped (BUNKA_SKIP_MINIO=1)"
else
  bash "$ROOT/scripts/minio.sh" build | sed 's/^/setup-test-deps: /' || die "building MinIO failed"
fi

say "done in $((SECONDS - started))s"
