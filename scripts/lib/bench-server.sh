# Sourced by the benchmark scripts: unless MONGODB_URI names a server, starts the embedded FerretDB
# in a scratch MONGO_ORM_HOME, stopped and removed on exit; then prints the server line of doctor.
# Needs $root (the checkout) and a built build/.
if [[ -z "${MONGODB_URI:-}" ]]; then
  export MONGO_ORM_HOME="$(mktemp -d "${TMPDIR:-/tmp}/mongo-orm-bench.XXXXXX")"
  cleanup() { "$root/build/mongo-orm-server" stop >/dev/null || true; rm -rf "$MONGO_ORM_HOME"; }
  trap cleanup EXIT
  "$root/build/mongo-orm-server" start >/dev/null
  export MONGODB_URI="$("$root/build/mongo-orm-server" uri)"
fi
"$root/build/mongo-orm" doctor --uri "$MONGODB_URI" | sed -n '3p'
