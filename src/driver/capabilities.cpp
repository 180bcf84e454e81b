// Server capability flags from hello and buildInfo.
#include "mongo_orm/driver/capabilities.hpp"

namespace mongo_orm {

std::string_view to_string(ServerKind kind) noexcept {
  return kind == ServerKind::ferretdb ? "FerretDB" : "MongoDB";
}

std::string_view to_string(Topology topology) noexcept {
  switch (topology) {
    case Topology::standalone: return "standalone";
    case Topology::replica_set: return "replica set";
    case Topology::sharded: return "sharded";
  }
  return "unknown";
}

namespace {
int64_t integer(bson::DocumentView doc, std::string_view key, int64_t fallback) {
  auto e = doc.find(key);
  if (!e) return fallback;
  switch (e->type()) {
    case bson::Type::int32: return e->as_int32();
    case bson::Type::int64: return e->as_int64();
    case bson::Type::double_: return static_cast<int64_t>(e->as_double());
    default: return fallback;
  }
}

std::string text(bson::DocumentView doc, std::string_view key) {
  auto e = doc.find(key);
  return e && e->type() == bson::Type::string ? std::string(e->as_string()) : std::string();
}
}  // namespace

Capabilities Capabilities::from_replies(bson::DocumentView hello, bson::DocumentView build_info) {
  Capabilities caps;
  caps.version = text(build_info, "version");
  caps.ferretdb_version = text(build_info, "ferretdbVersion");
  caps.kind = caps.ferretdb_version.empty() ? ServerKind::mongodb : ServerKind::ferretdb;
  caps.max_wire_version = static_cast<int32_t>(integer(hello, "maxWireVersion", 0));
  caps.max_bson_object_size = integer(hello, "maxBsonObjectSize", caps.max_bson_object_size);
  if (text(hello, "msg") == "isdbgrid") {
    caps.topology = Topology::sharded;
  } else if (hello.contains("setName")) {
    caps.topology = Topology::replica_set;
  }

  if (caps.kind == ServerKind::ferretdb) {
    // FerretDB 1.x answers wire version 21 but lacks these (see docs/ferretdb.md); every flag
    // stays false so callers take their fallback paths.
    return caps;
  }
  int32_t wire = caps.max_wire_version;
  caps.transactions = (caps.topology == Topology::replica_set && wire >= 7) ||
                      (caps.topology == Topology::sharded && wire >= 8);
  caps.sample_stage = true;
  caps.lookup_stage = true;
  caps.type_expressions = true;
  caps.update_pipelines = wire >= 8;
  caps.collection_validators = true;
  caps.partial_indexes = true;
  caps.collations = true;
  caps.ttl_indexes = true;
  caps.sparse_indexes = true;
  caps.find_and_modify_projection = true;
  caps.upsert_indexes_per_batch = true;
  caps.decimal128_values = true;
  caps.nan_values = true;
  caps.nested_arrays = true;
  caps.dbref_values = true;
  caps.writes_beside_open_cursors = true;
  caps.update_statements_per_command = 0;
  caps.indexed_id_updates = true;
  return caps;
}

}  // namespace mongo_orm
