#!/usr/bin/env bash
# Installs the built package into a scratch prefix, then configures, builds and runs the
# consumer project against it with find_package, and compiles it once more with pkg-config.
set -euo pipefail
build_dir="$1"
work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log"
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log"
cmake --build "$work/build" >"$work/build.log"
"$work/build/consumer"

libdir="$(find "$work/prefix" -name mongo_orm.pc -printf '%h\n' | head -n 1)"
PKG_CONFIG_PATH="$libdir" c++ -std=c++20 "$here/main.cpp" -o "$work/consumer-pkgconfig" \
  $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs mongo_orm)
"$work/consumer-pkgconfig"
test -x "$work/prefix/bin/mongo-orm"
test -x "$work/prefix/bin/mongo-orm-server"
echo "consumer_package: find_package and pkg-config builds both ran"
