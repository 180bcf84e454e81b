#!/usr/bin/env bash
# The client's own cost per document, counted in instructions by valgrind's callgrind: each
# scenario of build/bench/client_cost runs once under callgrind, which counts only what this
# process executes inside its measured_<scenario> function (not the set-up, not the server, which
# is another process). Prints instructions per document and the ratio to the raw C driver.
# usage: scripts/bench-client-cost.sh [DOCUMENTS]    (default 20000; MONGODB_URI names a server,
#        else a local FerretDB is started)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
documents="${1:-20000}"
if ! command -v valgrind >/dev/null; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "bench-client-cost: installing Debian's valgrind" >&2
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends valgrind >/dev/null \
    || { echo "bench-client-cost: cannot install valgrind" >&2; exit 1; }
fi
scripts/bootstrap.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target client_cost mongo-orm ferretdb_server >/dev/null

source scripts/lib/bench-server.sh

out="$(mktemp -d)"
count() {  # scenario -> instructions inside measured_<scenario>
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" --toggle-collect="*measured_$1*" \
    build/bench/client_cost "$1" "$documents" >/dev/null 2>"$out/$1.log" || { cat "$out/$1.log" >&2; exit 1; }
  awk '/^(summary|totals):/ { print $2; exit }' "$out/$1.out"
}
echo "client instructions per document, $documents documents (valgrind callgrind)"
printf '%-44s %14s %8s\n' "" "instructions" "ratio"
row() {  # label scenario raw-scenario
  local mine raw
  mine=$(count "$2"); raw=$(count "$3")
  awk -v label="$1" -v mine="$mine" -v raw="$raw" -v n="$documents" 'BEGIN {
    printf "%-44s %14.0f %8s\n", label " (raw)", raw / n, "1.00x"
    printf "%-44s %14.0f %7.2fx\n", label " (mongo_orm)", mine / n, mine / raw
  }'
}
row "encode + insert_many of models" encode_insert_models encode_insert_raw
row "insert_many of built documents" insert_documents insert_documents_raw
row "find + hydrate every document" find_hydrate_models find_hydrate_raw
row "find + hydrate, raw single client" find_hydrate_models find_hydrate_raw_single
rm -rf "$out"
