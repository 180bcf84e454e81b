// Indexes declared on models, reconciled with the server: what is missing, extra or changed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/driver/capabilities.hpp"
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

// The createIndexes fields of a declared index besides its keys: its name, then the options it
// sets (unique, sparse, partialFilterExpression, expireAfterSeconds, collation).
bson::Document index_options(const IndexSpec& spec);

// An option of a declared index that the server cannot honour, and the capability it lacks.
struct UnsupportedIndexOption {
  std::string option;      // "a partial filter"
  std::string capability;  // "partial_indexes"
};
// The first such option of the index (none when the server can build it as declared).
std::optional<UnsupportedIndexOption> unsupported_option(const IndexSpec& spec, const Capabilities& capabilities);

// What differs between a declared index and one `listIndexes` returned under its name ("" when
// they are the same index), normalised first: key order is significant and kept; numbers are
// compared by value (a direction of 1, 1.0 or NumberLong(1), a partial filter's operands);
// an absent unique or sparse is false. Collations: none declared and the simple locale are one;
// every option the declaration sets must be the server's, and options it leaves out take the
// locale's defaults, which the server spells out in full (caseLevel, strength, version...), so
// they are not compared: a declaration that drops an option shows in the snapshot diff.
std::string index_differences(const IndexSpec& declared, bson::DocumentView server_index);

IndexDiff diff_indexes(const Collection& collection, const std::vector<IndexSpec>& declared);

// Creates the declared indexes that are missing and returns their names; creates nothing and
// raises when a declared index exists with other keys or options (drop it first) or needs an
// option the server cannot honour (partial, TTL or sparse on a server without them), so an
// index is never silently built differently from its declaration.
std::vector<std::string> ensure_indexes(const Collection& collection, const std::vector<IndexSpec>& declared);

}  // namespace mongo_orm::model
