#!/usr/bin/env bash
# The main job on the embedded default database: installs what is missing, builds, starts the
# embedded FerretDB (unless MONGODB_URI points elsewhere), then walks through migrating the
# users collection a v1 application left behind (seed 000): load the legacy data, plan, up,
# verify, status, down, status. The migrations are examples/migrations/*.json (run with nothing
# to compile) plus one C++ migration in examples/legacy_users.cpp, which also declares the
# models that verify decodes the documents with.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
database=mongo_orm_demo
# The example program starts the embedded server through this script when MONGODB_URI is unset.
export MONGO_ORM_SERVER_SCRIPT="$PWD/build/mongo-orm-server"
app=(build/examples/legacy_users)
migrate=("${app[@]}" migrate --database "$database" --dir examples/migrations)

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

step "The server" "build/mongo-orm doctor"
build/mongo-orm doctor
# doctor started the embedded server if needed; every later command talks to the same one.
if [ -z "${MONGODB_URI:-}" ]; then MONGODB_URI="$(build/mongo-orm-server uri)"; export MONGODB_URI; fi

step "Legacy data: what a v1 application wrote through the raw driver" "legacy_users load-legacy --database $database"
"${app[@]}" load-legacy --database "$database"

step "Plan: a dry run with counts (exit 1: work is pending)" "legacy_users migrate --dir examples/migrations plan"
set +e
"${migrate[@]}" plan
code=$?
set -e
echo "(plan exited $code)"
[ "$code" -eq 1 ] || { echo "demo: expected pending work from plan" >&2; exit 1; }

step "Verify before migrating: the v2 model cannot read v1 documents" "legacy_users migrate verify --sample 200"
"${migrate[@]}" verify --sample 200 || echo "(verify exited $?: expected before the migration)"

step "Up: apply every pending migration" "legacy_users migrate up"
"${migrate[@]}" up

step "Verify: sample documents decode through the model, counts match" "legacy_users migrate verify --sample 200"
"${migrate[@]}" verify --sample 200

step "Status" "legacy_users migrate status"
"${migrate[@]}" status

step "Down: undo everything, restoring the original documents from the backups" "legacy_users migrate down --all"
"${migrate[@]}" down --all

step "Status after down (the changelog keeps every run: see 'migrate history')" "legacy_users migrate status"
"${migrate[@]}" status

printf '\nThe demo database is %s on %s.\n' "$database" "$(build/mongo-orm-server uri 2>/dev/null || echo "\$MONGODB_URI")"
