#!/usr/bin/env bash
# Installs what mongo_orm needs and is missing (Debian packages, Go modules of the embedded
# server). Idempotent: a second run installs nothing. Stops with a clear message when
# something cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "bootstrap: $*"; }
die() { echo "bootstrap: error: $*" >&2; exit 1; }

# Debian packages: compiler and build tools, the MongoDB C driver, test, benchmark and CLI
# libraries, Asio for the asynchronous face, Boost (Boost.Math's binomial bounds for sampled
# analysis), pkg-config for the consumer check, MongoEngine for the interop test and benchmark.
packages=(g++ cmake ninja-build pkg-config libmongoc-dev libbson-dev libgtest-dev libgmock-dev
          libbenchmark-dev libcli11-dev libasio-dev libboost-dev python3-mongoengine)
install_debian() {
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: $*"
    sudo="sudo"
  fi
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
    || die "apt-get could not install: $*"
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  install_debian "${missing[@]}"
else
  say "Debian packages present"
fi

mongoc_version="$(pkg-config --modversion libmongoc-1.0 2>/dev/null || true)"
[[ "$mongoc_version" == 1.2[3-9]* ]] || die "libmongoc 1.23 or newer is required, found '${mongoc_version:-none}'"

# Go builds the embedded FerretDB server. FerretDB v1.24.2 needs Go 1.24+; an older go
# fetches the toolchain go.mod asks for through the Go module proxy.
if ! command -v go >/dev/null; then
  say "installing Debian's Go (golang-go)"
  install_debian golang-go
fi
say "$(go version)"
say "downloading Go modules of tools/ferretdb-server (FerretDB v1.24.2)"
(cd tools/ferretdb-server && GOFLAGS=-mod=readonly go mod download) \
  || die "cannot download the Go modules of the embedded server from the Go module proxy"

say "building the embedded server (build/mongo-orm-ferretdb), the mongo-orm program and the example"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || die "cmake could not configure build/"
cmake --build build --target ferretdb_server mongo-orm legacy_users >/dev/null || die "building the server failed; run 'cmake --build build' to see why"
say "done"
