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

IndexDiff diff_indexes(const Collection& collection, const std::vector<IndexSpec>& declared);

// Creates the declared indexes that are missing and returns their names; creates nothing and
// raises when a declared index exists with other keys or options (drop it first) or needs an
// option the server cannot honour (partial, TTL or sparse on a server without them), so an
// index is never silently built differently from its declaration.
std::vector<std::string> ensure_indexes(const Collection& collection, const std::vector<IndexSpec>& declared);

}  // namespace mongo_orm::model
