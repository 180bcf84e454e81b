// What the connected server can do, detected once per client from hello and buildInfo.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/bson/document.hpp"

namespace mongo_orm {

enum class ServerKind { mongodb, ferretdb };
enum class Topology { standalone, replica_set, sharded };

std::string_view to_string(ServerKind kind) noexcept;
std::string_view to_string(Topology topology) noexcept;

struct Capabilities {
  ServerKind kind = ServerKind::mongodb;
  std::string version;           // buildInfo.version (FerretDB answers the MongoDB it emulates)
  std::string ferretdb_version;  // buildInfo.ferretdbVersion; empty on MongoDB
  int32_t max_wire_version = 0;
  Topology topology = Topology::standalone;
  int64_t max_bson_object_size = 16 * 1024 * 1024;

  // Multi-document transactions: MongoDB replica sets (wire 7+) and sharded clusters (wire 8+).
  bool transactions = false;
  // The $sample aggregation stage.
  bool sample_stage = false;
  // The $lookup aggregation stage: populate on a query joins the referenced documents on the
  // server, in the query's own round trip.
  bool lookup_stage = false;
  // The $type and $objectToArray aggregation expressions (with $map, $filter, $switch): analyze
  // can count a collection's paths by type on the server and receive only the counts.
  bool type_expressions = false;
  // Updates given as an aggregation pipeline (MongoDB 4.2+, wire 8+).
  bool update_pipelines = false;
  // collMod and collection validators.
  bool collection_validators = false;
  bool partial_indexes = false;
  // Collations (on indexes, queries and collections); FerretDB 1.x has none.
  bool collations = false;
  bool ttl_indexes = false;
  // Whether the sparse index option is honoured (FerretDB accepts and ignores it).
  bool sparse_indexes = false;
  // A projection ("fields") in findAndModify; without it mongo_orm projects client-side.
  bool find_and_modify_projection = false;
  // Values FerretDB 1.x cannot store (it closes the connection on some of them); without the
  // flag, writes and filters carrying them are refused before sending, naming the field.
  bool decimal128_values = false;
  bool nan_values = false;
  bool nested_arrays = false;
  // A DBRef ({$ref, $id}, model::RefStorage::dbref) in a stored document: FerretDB 1.x refuses
  // every key that starts with '$'.
  bool dbref_values = false;
  // Bulk update replies number upserted statements within the whole batch (FerretDB 1.x
  // numbers them from 0 within each statement).
  bool upsert_indexes_per_batch = false;
  // Writing batches to a collection while a cursor over it stays open on the server. FerretDB
  // 1.x on SQLite can stop answering then, so batched operations read each chunk to the end
  // (keyset pages in _id order) before they write.
  bool writes_beside_open_cursors = false;
  // Most update or delete statements one command may carry (0: no limit beyond the server's
  // maxWriteBatchSize). FerretDB 1.x on SQLite keeps one of its 100 pooled connections per
  // statement until the command ends, and stops answering for good once commands running at
  // once hold them all (one command of 100, or three clients' commands of 50), so bulk writes
  // split there at 10: it takes ten clients writing at the same moment to reach the limit.
  int32_t update_statements_per_command = 10;
  // An update statement whose filter is {_id: v} finds its document through the _id index.
  // FerretDB 1.x scans the collection for every update statement (measured: 72 ms a statement
  // at 50k documents on SQLite, 26 ms at 200k on PostgreSQL), so rewriting every document in
  // place grows with the square of the collection; transform copies into a new collection and
  // swaps it in instead.
  bool indexed_id_updates = false;

  // The flags learned by asking the server (Client::ask_capabilities); every other flag follows
  // from its kind, version and topology. Empty on FerretDB, whose known gaps are taken as they
  // are.
  std::vector<bool Capabilities::*> asked{};
  bool was_asked(bool Capabilities::*flag) const noexcept {
    for (auto member : asked) {
      if (member == flag) return true;
    }
    return false;
  }

  // Reads the flags from a hello reply and a buildInfo reply.
  static Capabilities from_replies(bson::DocumentView hello, bson::DocumentView build_info);
};

}  // namespace mongo_orm
