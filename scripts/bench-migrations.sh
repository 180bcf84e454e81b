#!/usr/bin/env bash
# Migrations at scale, side by side on the same server and the same data (docs/benchmarks.md):
#   (a) seed 000's per-document update_one loop      (b) seed 000's skip/limit batch loop
#   (c) mongo_orm's batched transform (the split)    (d) the raw driver's update_many adding a field
#   (e) mongo_orm's add_field doing the same         (f) the split as a migrate-mongo migration
# Every case starts from a freshly loaded collection. The per-document loops (a), (b) and (f) stop
# after --cap-seconds and their time for the whole collection is extrapolated from their rate.
#
#   scripts/bench-migrations.sh [--documents N] [--cap-seconds S] [--backend postgresql|sqlite]
#
# Without MONGODB_URI it starts FerretDB on the chosen backend: PostgreSQL (the default; Debian's
# postgresql package is installed and a throwaway database made in its first cluster) or SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
documents=200000 cap=120 backend=postgresql
while (($#)); do
  case "$1" in
    --documents) documents="$2"; shift 2 ;;
    --cap-seconds) cap="$2"; shift 2 ;;
    --backend) backend="$2"; shift 2 ;;
    *) echo "usage: $0 [--documents N] [--cap-seconds S] [--backend postgresql|sqlite]" >&2; exit 2 ;;
  esac
done
[[ "$backend" == postgresql || "$backend" == sqlite ]] || { echo "bench: unknown backend '$backend'" >&2; exit 2; }
say() { echo "bench: $*" >&2; }

scripts/bootstrap.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target migration_scale mongo-orm ferretdb_server >/dev/null
if [[ ! -x bench/peers/node_modules/.bin/migrate-mongo ]]; then
  (cd bench/peers && npm ci --no-audit --no-fund >/dev/null)
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/mongo-orm-bench-migrations.XXXXXX")"
pg_database="" pg_role="" pg_port=""
cleanup() {
  [[ -n "${MONGO_ORM_HOME:-}" && "$MONGO_ORM_HOME" == "$work"/* ]] && "$root/build/mongo-orm-server" stop >/dev/null 2>&1 || true
  if [[ -n "$pg_database" ]]; then
    runuser -u postgres -- psql -qX -p "$pg_port" -c "DROP DATABASE IF EXISTS $pg_database" -c "DROP ROLE IF EXISTS $pg_role" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -n "${MONGODB_URI:-}" ]]; then
  backend="the server at MONGODB_URI"
else
  export MONGO_ORM_HOME="$work/server"
  if [[ "$backend" == postgresql ]]; then
    if ! command -v pg_lsclusters >/dev/null; then
      say "installing Debian's PostgreSQL"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    read -r pg_version pg_cluster pg_port pg_status _ < <(pg_lsclusters --no-header | head -n 1)
    [[ -n "${pg_cluster:-}" ]] || { say "no PostgreSQL cluster (pg_createcluster makes one)"; exit 1; }
    [[ "$pg_status" == online* ]] || pg_ctlcluster "$pg_version" "$pg_cluster" start
    pg_role="mongo_orm_bench_$$" pg_database="mongo_orm_bench_$$"
    password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    runuser -u postgres -- psql -qX -p "$pg_port" -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE $pg_role LOGIN PASSWORD '$password'" -c "CREATE DATABASE $pg_database OWNER $pg_role" >/dev/null
    # FerretDB holds a pooled connection per statement of a write command; 200 leaves headroom.
    export MONGO_ORM_SERVER_ARGS="-handler postgresql -postgresql-url postgres://$pg_role:$password@127.0.0.1:$pg_port/$pg_database?pool_max_conns=200"
    backend="FerretDB v1.24.2 on PostgreSQL $pg_version"
  else
    backend="FerretDB v1.24.2 on SQLite"
  fi
  build/mongo-orm-server start >/dev/null
  MONGODB_URI="$(build/mongo-orm-server uri)"
  unset MONGO_ORM_SERVER_ARGS
fi

database=mongo_orm_bench_migrations
results="$work/results.jsonl"
scale() { build/bench/migration_scale "$1" --uri "$MONGODB_URI" --db "$database" --documents "$documents" --cap-seconds "$cap" \
            2> >(grep -v "endSessions" >&2); }
run_case() { # case
  say "$1: loading $documents documents"
  scale load >/dev/null
  say "$1: running"
  scale "$1" >>"$results"
}
run_case per_document
run_case skip_limit
run_case transform
run_case update_many
run_case add_field
say "migrate_mongo: loading $documents documents"
scale load >/dev/null
say "migrate_mongo: running"
(cd bench/peers/migrate-mongo && MONGODB_URI="$MONGODB_URI" BENCH_DATABASE="$database" BENCH_CAP_SECONDS="$cap" \
  BENCH_RESULT="$work/migrate_mongo.json" ../node_modules/.bin/migrate-mongo up >/dev/null)
done_f="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["done"])' "$work/migrate_mongo.json")"
build/bench/migration_scale check_split --uri "$MONGODB_URI" --db "$database" --documents "$documents" --done "$done_f" \
  2> >(grep -v "endSessions" >&2)
python3 - "$work/migrate_mongo.json" "$documents" >>"$results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
print(json.dumps({"case": "migrate_mongo", "documents": n, "done": r["done"], "seconds": r["seconds"], "complete": r["done"] == n}))
PY
scale drop

python3 - "$results" "$documents" "$cap" "$backend" <<'PY'
import json, sys
rows = {r["case"]: r for r in map(json.loads, open(sys.argv[1]))}
n, cap, backend = int(sys.argv[2]), sys.argv[3], sys.argv[4]
cases = [("a", "per_document", "seed 000: cursor + update_one per document (raw C driver)"),
         ("b", "skip_limit", "seed 000: skip/limit pages of 5000 + update_one each, 0.1 s pause"),
         ("c", "transform", "mongo_orm: ops::transform split, batched (Runner)"),
         ("d", "update_many", "raw C driver: update_many({}, {$set: {migrated: true}})"),
         ("e", "add_field", "mongo_orm: ops::add_field migrated = true (Runner)"),
         ("f", "migrate_mongo", "migrate-mongo 14.0.7: cursor + updateOne per document")]
def whole(r):  # seconds for all n documents; extrapolated from the rate when capped
    return r["seconds"] if r["complete"] else r["seconds"] * n / max(r["done"], 1)
print(f"{n:,} documents, {backend}; per-document loops capped at {cap} s\n")
print("| case | what | documents done | measured s | s for all | docs/s |")
print("|---|---|---:|---:|---:|---:|")
for key, name, what in cases:
    r = rows[name]
    total = whole(r)
    mark = "" if r["complete"] else " (extrapolated)"
    print(f"| ({key}) | {what} | {r['done']:,} | {r['seconds']:.1f} | {total:,.1f}{mark} | {r['done'] / r['seconds']:,.0f} |")
t = {name: whole(rows[name]) for _, name, _ in cases}
print()
print("| goal | ratio | met |")
print("|---|---:|---|")
for label, value, met in (("(c) at least 20x faster than (a)", t["per_document"] / t["transform"], lambda v: v >= 20),
                          ("(c) faster than (b) by", t["skip_limit"] / t["transform"], None),
                          ("(e) within 1.2x of (d)", t["add_field"] / t["update_many"], lambda v: v <= 1.2),
                          ("(c) at least 10x faster than (f)", t["migrate_mongo"] / t["transform"], lambda v: v >= 10)):
    print(f"| {label} | {value:.2f}x | {('yes' if met(value) else 'no') if met else '-'} |")
PY
