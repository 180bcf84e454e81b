// Options and results of collection operations. Aggregates, meant for designated
// initializers: `coll.find(filter, {.sort = by_age, .limit = 10})`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mongo_orm/bson/document.hpp"

namespace mongo_orm {

// An index to use, by name or by key pattern.
using Hint = std::variant<std::string, bson::Document>;

struct FindOptions {
  std::optional<bson::Document> sort{};
  std::optional<bson::Document> projection{};
  std::optional<int64_t> skip{};
  std::optional<int64_t> limit{};
  std::optional<int32_t> batch_size{};
  std::optional<Hint> hint{};
  std::optional<int64_t> max_time_ms{};
  // A sort larger than the server's memory limit for one may use temporary files (MongoDB 4.4+;
  // servers without them ignore it).
  bool allow_disk_use = false;
};

struct CountOptions {
  std::optional<int64_t> skip{};
  std::optional<int64_t> limit{};
  std::optional<Hint> hint{};
  std::optional<int64_t> max_time_ms{};
};

struct AggregateOptions {
  std::optional<int32_t> batch_size{};
  bool allow_disk_use = false;
  std::optional<Hint> hint{};
  std::optional<int64_t> max_time_ms{};
};

struct UpdateOptions {
  bool upsert = false;
  std::optional<Hint> hint{};
};

struct InsertManyOptions {
  bool ordered = true;
};

enum class ReturnDocument { before, after };

struct FindOneAndModifyOptions {
  std::optional<bson::Document> sort{};
  std::optional<bson::Document> projection{};
  bool upsert = false;  // ignored by find_one_and_delete
  ReturnDocument return_document = ReturnDocument::before;
};

struct RenameOptions {
  bool drop_target = false;
};

struct IndexModel {
  bson::Document keys{};     // {"email": 1} or {"a": 1, "b": -1}
  bson::Document options{};  // {"unique": true, "name": "..."}: the createIndexes fields
};

struct InsertOneResult {
  bson::Value inserted_id;
};

struct InsertManyResult {
  int64_t inserted_count = 0;
  std::vector<bson::Value> inserted_ids;  // in input order
};

struct UpdateResult {
  int64_t matched_count = 0;
  int64_t modified_count = 0;
  std::optional<bson::Value> upserted_id{};
};

struct DeleteResult {
  int64_t deleted_count = 0;
};

}  // namespace mongo_orm
