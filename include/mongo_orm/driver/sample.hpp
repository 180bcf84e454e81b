// A uniform random sample of a collection's documents: the server's $sample stage where it has
// one, otherwise a reservoir (algorithm R) over a stream of _ids, which holds only the chosen
// _ids, then the chosen documents by _id. Either way each document comes at most once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "mongo_orm/driver/collection.hpp"

namespace mongo_orm {

struct SampleOptions {
  int64_t size = 1000;
  std::optional<uint64_t> seed{};  // a repeatable sample where $sample is not used
};

// Calls fn with each sampled document (every one when the collection holds no more than
// `size`); returns how it sampled: "$sample", or "uniform reservoir over _id".
std::string sample_documents(const Collection& collection, const SampleOptions& options,
                             const std::function<void(bson::DocumentView)>& fn);

}  // namespace mongo_orm
