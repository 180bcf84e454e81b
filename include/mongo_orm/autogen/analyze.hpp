// What a collection actually holds, path by path: how many documents hold each field, by BSON
// type (int, long, double and decimal kept apart), missing and null; with a model, what it
// declares beside it, the values it refuses, the fields it does not declare, the `_cls` values
// none of its classes matches and the documents by schema version (seed 000 "Data type
// conflicts"). By default every count is exact: one streamed pass over the collection, in
// batches, holding only the counts, so memory stays flat whatever the collection's size. With
// AnalyzeOptions::sample, the counts are of a uniform random sample (driver/sample.hpp), and a
// share read off it carries its 95% bounds ("0 of 1,000 sampled: at most 0.3%"); `generate`
// never plans from a sample: what it plans it counts exactly. With AnalyzeOptions::on_server,
// a collection alone is counted by the server in one aggregation that sends back only the
// counts ($objectToArray and $type at each depth, then $group): the same exact counts, without
// moving the documents (capability type_expressions).
//
//   autogen::CollectionAnalysis users = autogen::analyze(db.collection("users"));
//   for (const auto& p : users.paths) std::cout << p.path << ": " << p.present << "\n";
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/migrate/verify.hpp"

namespace mongo_orm::autogen {

struct PathAnalysis {
  // "age", "address.zip" inside documents, "tags[]" for the items of an array, "items[].qty"
  // inside the documents of an array.
  std::string path;
  int64_t present = 0;  // values at the path (items, for a path inside an array)
  int64_t missing = 0;  // places that could hold it and do not: documents, or the objects above it
  int64_t null = 0;
  std::map<std::string, int64_t> types{};  // by alias ("int", "string", ...), null included
  // With a model: the type it declares ("" when it declares none: an unknown field), and how
  // many documents it refuses for a value here, with one reason.
  std::string declared{};
  int64_t refused = 0;
  std::string refused_example{};
};

struct CollectionAnalysis {
  std::string collection;
  std::string model{};     // "" without one
  int64_t documents = 0;   // read: every document of the collection, unless limited or sampled
  bool limited = false;    // stopped at AnalyzeOptions::limit: the counts are of those read only
  // With AnalyzeOptions::sample: how it sampled ("$sample", "uniform reservoir over _id"), and
  // the documents the collection held by its metadata; "" when every document was read (a
  // collection no larger than the sample is read whole).
  std::string sampling{};
  int64_t sampled_from = 0;
  std::vector<PathAnalysis> paths{};  // sorted by path
  int64_t paths_not_counted = 0;  // values at paths beyond AnalyzeOptions::max_paths
  // "client" (every document read here) or "server" (AnalyzeOptions::on_server); "client" with a
  // reason when the server's pass gave way to the client's.
  std::string counted_by = "client";
  // With a model.
  int64_t refused = 0;                           // documents the model does not load or validate
  std::map<std::string, int64_t> classes{};      // documents by _cls ("" for none), in a hierarchy
  std::vector<std::string> unknown_classes{};    // _cls values no class of the model matches
  std::map<std::string, int64_t> versions{};     // documents by schema version, when versioned
};

struct AnalyzeOptions {
  int32_t batch_size = 1000;
  int64_t limit = 0;  // read at most this many documents (0: all)
  // Read a uniform random sample of this many documents (0: all), seeded where the server has no
  // $sample; not with limit.
  int64_t sample = 0;
  std::optional<uint64_t> seed{};
  // Distinct paths counted: a collection whose keys are data (one per user id) would otherwise
  // grow the counts without bound; values at paths past it are counted in paths_not_counted.
  std::size_t max_paths = 10000;
  // Count on the server (capability type_expressions; refused without it, naming it): one
  // aggregation, only the counts sent back. For a collection alone, whole or limited: a model's
  // checks and a sample's draw run here. A document nested deeper than server_depth levels
  // makes the server's pass give way to the client's, so that every count stays exact. Where
  // the paths exceed max_paths, the server keeps the first in path order, the client the first
  // met.
  bool on_server = false;
  std::function<void(int64_t read)> progress{};  // told every batch
};

// Levels below the document that analyze's server-side pass expands: "a.b.c" is 3, "items[].qty" 2.
inline constexpr int server_depth = 8;

// The collection alone.
CollectionAnalysis analyze(const Collection& collection, const AnalyzeOptions& options = {});
// The collection of a model, against the model (each class of a hierarchy).
CollectionAnalysis analyze(const Database& database, const migrate::ModelSet::Entry& model, const AnalyzeOptions& options = {});

// The share of a population that `hits` of `sampled` documents suggest, with 95% confidence
// (Clopper-Pearson, exact for the binomial): two-sided, or one-sided when no document or every
// document of the sample had it.
struct ShareBounds {
  double low = 0;   // 0..1
  double high = 1;  // 0..1
};
ShareBounds share_bounds(int64_t hits, int64_t sampled);
// "0 of 1,000 sampled: at most 0.3%", "12 of 1,000 sampled: 0.62% to 2.1%",
// "1,000 of 1,000 sampled: at least 99.7%".
std::string describe_share(int64_t hits, int64_t sampled);

// As a table for people: one line per path.
std::string to_text(const CollectionAnalysis& analysis);
// As one JSON document.
bson::Document to_document(const CollectionAnalysis& analysis);

}  // namespace mongo_orm::autogen
