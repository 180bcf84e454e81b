#!/usr/bin/env bash
# Benchmarks: builds, starts a local FerretDB unless MONGODB_URI names a server, runs the raw
# baselines beside mongo_orm's layers and prints a table of documents per second with ratios.
# Extra arguments go to Google Benchmark (for example --benchmark_filter=Decode).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
scripts/bootstrap.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target raw_baselines model_hydration model_streaming_memory populate mongo-orm ferretdb_server >/dev/null

source scripts/lib/bench-server.sh

results="$(mktemp -d)"
# Peers on the same server, same data shape: MongoEngine (Debian) and Mongoose (npm).
if [[ ! -d bench/peers/node_modules ]]; then
  (cd bench/peers && npm ci --no-audit --no-fund >/dev/null) || echo "bench: npm ci failed; Mongoose is skipped" >&2
fi
/usr/bin/python3 bench/peers/mongoengine_hydrate.py "$MONGODB_URI" mongo_orm_bench_peers >"$results/mongoengine.json" \
  || echo "bench: the MongoEngine run failed" >&2
node bench/peers/mongoose_hydrate.js "$MONGODB_URI" mongo_orm_bench_peers >"$results/mongoose.json" \
  || echo "bench: the Mongoose run failed" >&2

for program in raw_baselines model_hydration populate; do
  build/bench/$program --benchmark_out="$results/$program.json" --benchmark_out_format=json "$@" \
    >/dev/null 2>"$results/$program.log" || { cat "$results/$program.log" >&2; exit 1; }
done
python3 - "$results" <<'PY'
import json, os, sys
def rates(name):
    runs = json.load(open(os.path.join(sys.argv[1], name + ".json")))["benchmarks"]
    return {r["name"].split("/")[0]: r.get("items_per_second") for r in runs if "error_message" not in r}
tables = [
    ("raw_baselines", [("Encode", "RawLibbson", "MongoOrmBuilder"), ("Decode", "RawLibbson", "MongoOrmView"),
                       ("InsertMany100k", "RawLibmongoc", "MongoOrm"), ("FindIterate100k", "RawLibmongoc", "MongoOrm")]),
    ("model_hydration", [("Hydrate100k", "RawLibbson", "MongoOrmDecode"), ("Hydrate100k", "RawLibbson", "MongoOrmTracked"),
                         ("InsertMany100k", "RawLibmongoc", "MongoOrmModels")]),
    ("populate", [("Populate10k", "RawDriverIn", "MongoOrm")]),
]
print(f"{'benchmark':<34}{'raw docs/s':>14}{'mongo_orm docs/s':>18}{'time ratio (mongo_orm / raw)':>31}")
for program, pairs in tables:
    rate = rates(program)
    for name, raw, ours in pairs:
        r, o = rate.get(f"BM_{name}_{raw}"), rate.get(f"BM_{name}_{ours}")
        label = f"{name} ({ours})"
        if r is None or o is None:
            print(f"{label:<34}{'skipped':>14}")
            continue
        print(f"{label:<34}{r:>14,.0f}{o:>18,.0f}{r / o:>31.2f}x")

# Round trips per populate of 10k posts (commands sent, getMore included).
runs = json.load(open(os.path.join(sys.argv[1], "populate.json")))["benchmarks"]
trips = {r["name"]: r.get("round_trips") for r in runs if "error_message" not in r}
print(f"{'Populate10k round trips':<34}{trips.get('BM_Populate10k_RawDriverIn', 0):>14.0f}{trips.get('BM_Populate10k_MongoOrm', 0):>18.0f}")

# Peers: seconds for 100k documents; ratio = peer time / mongo_orm time (higher is better for us).
hydration = rates("model_hydration")
ours = {"end_to_end_s": 100000 / hydration["BM_FindHydrate100k_MongoOrm"],
        "hydrate_only_s": 100000 / hydration["BM_Hydrate100k_MongoOrmTracked"]}
print()
print(f"{'find + hydrate 100k':<34}{'mongo_orm s':>14}{'peer s':>18}{'peer time / mongo_orm time':>31}")
for name in ("mongoengine", "mongoose"):
    path = os.path.join(sys.argv[1], name + ".json")
    try:
        peer = json.loads(open(path).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        print(f"{name:<34}{'skipped':>14}")
        continue
    for key, label in (("end_to_end_s", "end to end"), ("hydrate_only_s", "hydration only")):
        print(f"{peer['peer'] + ' (' + label + ')':<34}{ours[key]:>14.3f}{peer[key]:>18.3f}{peer[key] / ours[key]:>31.1f}x")
PY
rm -rf "$results"

echo
echo "streaming through a typed cursor (peak resident memory):"
for n in 10000 1000000; do build/bench/model_streaming_memory "$n"; done
