// Indexes declared on models, reconciled with the server: what is missing, extra or changed.
#pragma once

#include <string>
#include <vector>

#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/model/schema.hpp"

namespace mongo_orm::model {

struct IndexDiff {
  struct Changed {
    IndexSpec declared;
    bson::Document existing;
    std::string difference;  // what differs, for messages
  };
  std::vector<IndexSpec> missing;
  std::vector<bson::Document> extra;  // on the server but not declared (the _id index excepted)
  std::vector<Changed> changed;       // same name, other keys or options

  bool empty() const noexcept { return missing.empty() && extra.empty() && changed.empty(); }
};

// The declared name, or the one MongoDB derives from the keys.
std::string index_name(const IndexSpec& spec);

// The keys and the options set, on one line: `{ "email" : 1 } unique`.
std::string index_summary(const IndexSpec& spec);

// What differs between a declared index and one `listIndexes` returned under its name ("" when
// they are the same index), normalised first: key order is significant and kept; numbers are
// compared by value (a direction of 1, 1.0 or NumberLong(1), a partial filter's operands);
// an absent unique or sparse is false; a collation the server reports must be the simple one,
// as no model declares another.
std::string index_differences(const IndexSpec& declared, bson::DocumentView server_index);

IndexDiff diff_indexes(const Collection& collection, const std::vector<IndexSpec>& declared);

// Creates the declared indexes that are missing and returns their names; creates nothing and
// raises when a declared index exists with other keys or options (drop it first) or needs an
// option the server cannot honour (partial, TTL or sparse on a server without them), so an
// index is never silently built differently from its declaration.
std::vector<std::string> ensure_indexes(const Collection& collection, const std::vector<IndexSpec>& declared);

}  // namespace mongo_orm::model
