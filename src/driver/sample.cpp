// Uniform random samples of a collection.
#include "mongo_orm/driver/sample.hpp"

#include <random>
#include <set>
#include <vector>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm {

std::string sample_documents(const Collection& collection, const SampleOptions& options,
                             const std::function<void(bson::DocumentView)>& fn) {
  if (options.size <= 0) {
    throw InvalidRequestError(collection.namespace_name() + ": a sample size must be positive, not " + std::to_string(options.size));
  }
  if (collection.client().capabilities().sample_stage) {
    // $sample may return a document twice when it samples with a random cursor: each _id once.
    std::vector<bson::Document> pipeline{
        bson::Builder{}.append("$sample", [&](bson::Builder& s) { s.append("size", options.size); }).extract()};
    std::set<std::string> seen;
    for (bson::DocumentView document : collection.aggregate(pipeline)) {
      auto id = document.find("_id");
      if (id) {
        auto bytes = id->value_bytes();
        std::string key(1, static_cast<char>(id->type()));
        key.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        if (!seen.insert(std::move(key)).second) continue;
      }
      fn(document);
    }
    return "$sample";
  }
  std::mt19937_64 random(options.seed ? *options.seed : std::random_device{}());
  std::vector<bson::Document> chosen;
  int64_t seen = 0;
  FindOptions ids{.projection = bson::Builder{}.append("_id", 1).extract()};
  for (bson::DocumentView id : collection.find({}, ids)) {
    if (seen < options.size) {
      chosen.emplace_back(id);
    } else {
      std::uniform_int_distribution<int64_t> pick(0, seen);
      if (int64_t slot = pick(random); slot < options.size) chosen[static_cast<std::size_t>(slot)] = bson::Document(id);
    }
    ++seen;
  }
  constexpr std::size_t per_query = 200;
  for (std::size_t start = 0; start < chosen.size(); start += per_query) {
    std::size_t end = std::min(chosen.size(), start + per_query);
    bson::Document filter = bson::Builder{}.append("_id", [&](bson::Builder& f) {
      f.append("$in", [&](bson::ArrayBuilder& in) {
        for (std::size_t i = start; i < end; ++i) in.append(chosen[i]["_id"]);
      });
    }).extract();
    // One reply, the cursor closed with it: at most one document per id.
    FindOptions chosen_only{.limit = static_cast<int64_t>(end - start), .batch_size = static_cast<int32_t>(end - start + 1)};
    for (bson::DocumentView document : collection.find(filter, chosen_only)) fn(document);
  }
  return "uniform reservoir over _id";
}

}  // namespace mongo_orm
