#!/usr/bin/env bash
# The main job on the embedded default database: installs what is missing, builds the
# mongo-orm program and the embedded FerretDB server, then runs `mongo-orm doctor`, which
# starts the local server when it is not running and reports what it can do.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec build/mongo-orm doctor "$@"
