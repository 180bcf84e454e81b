#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a local FerretDB unless
# MONGODB_URI names a server, runs every test, then runs them again built with
# AddressSanitizer and UndefinedBehaviorSanitizer. Pass --no-sanitizers to skip that part.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

sanitizers=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitizers) sanitizers=0 ;;
    *) echo "usage: scripts/test.sh [--no-sanitizers]" >&2; exit 2 ;;
  esac
done

scripts/bootstrap.sh

echo "test: building (build/)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build

if [[ -z "${MONGODB_URI:-}" ]]; then
  export MONGO_ORM_HOME="$(mktemp -d "${TMPDIR:-/tmp}/mongo-orm-test.XXXXXX")"
  cleanup() {
    "$root/build/mongo-orm-server" stop || true
    rm -rf "$MONGO_ORM_HOME"
  }
  trap cleanup EXIT
  build/mongo-orm-server start
  export MONGODB_URI="$(build/mongo-orm-server uri)"
  echo "test: using the local FerretDB at $MONGODB_URI"
else
  echo "test: using the server at MONGODB_URI"
fi

ctest --test-dir build --output-on-failure -j2 -LE long

if ((sanitizers)); then
  echo "test: building with AddressSanitizer and UndefinedBehaviorSanitizer (build-sanitize/)"
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMONGO_ORM_SANITIZE=ON \
    -DMONGO_ORM_BUILD_SERVER=OFF -DMONGO_ORM_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build build-sanitize
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-sanitize --output-on-failure -j2 -LE long
fi
