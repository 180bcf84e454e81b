// Sampling and checking documents through the registered models.
#include "mongo_orm/migrate/verify.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/driver/collection.hpp"

namespace mongo_orm::migrate {

bool VerifyReport::ok() const noexcept {
  return std::all_of(models.begin(), models.end(), [](const ModelReport& m) { return m.ok(); });
}

namespace {

// Calls `fn` with a uniform random sample of `size` documents of the collection.
void for_each_sampled(const Database& database, const Collection& collection, const VerifyOptions& options,
                      std::string& method, const std::function<void(bson::DocumentView)>& fn) {
  if (database.client().capabilities().sample_stage) {
    method = "$sample";
    std::vector<bson::Document> pipeline{
        bson::Builder{}.append("$sample", [&](bson::Builder& s) { s.append("size", options.sample_size); }).extract()};
    for (bson::DocumentView document : collection.aggregate(pipeline)) fn(document);
    return;
  }
  // Without $sample: a reservoir (algorithm R) over a stream of _ids, which keeps only
  // sample_size of them, then the chosen documents by _id.
  method = "uniform reservoir over _id";
  std::mt19937_64 random(options.seed ? *options.seed : std::random_device{}());
  std::vector<bson::Document> chosen;
  int64_t seen = 0;
  FindOptions ids{.projection = bson::Builder{}.append("_id", 1).extract()};
  for (bson::DocumentView id : collection.find({}, ids)) {
    if (seen < options.sample_size) {
      chosen.emplace_back(id);
    } else {
      std::uniform_int_distribution<int64_t> pick(0, seen);
      if (int64_t slot = pick(random); slot < options.sample_size) chosen[static_cast<std::size_t>(slot)] = bson::Document(id);
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
    for (bson::DocumentView document : collection.find(filter)) fn(document);
  }
}

void record(std::map<std::string, FieldFailures>& fields, const std::string& path, const std::string& reason,
            bson::DocumentView document) {
  FieldFailures& f = fields[path];
  f.path = path;
  if (f.count++ == 0) f.example_reason = reason;
  if (f.example_ids.size() < 3) f.example_ids.push_back(model::detail::describe_id(document));
}

}  // namespace

VerifyReport verify(const Database& database, const ModelSet& models, const VerifyOptions& options) {
  if (options.sample_size <= 0) throw InvalidRequestError("verify: the sample size must be positive");
  VerifyReport report;
  for (const ModelSet::Entry& entry : models.entries()) {
    Collection collection = database.collection(entry.collection);
    ModelReport m{entry.name, entry.collection};
    m.documents = collection.count_documents({});
    m.visible = entry.visible(database);
    std::map<std::string, FieldFailures> fields;
    for_each_sampled(database, collection, options, m.sampling, [&](bson::DocumentView document) {
      ++m.sampled;
      try {
        entry.check(document, collection.namespace_name());
      } catch (const DecodeError& e) {
        ++m.failed;
        record(fields, e.path().empty() ? "(document)" : e.path(), e.reason(), document);
      } catch (const ValidationError& e) {
        ++m.failed;
        for (const ValidationFailure& failure : e.failures()) record(fields, failure.path, failure.message, document);
      }
    });
    for (auto& [path, failures] : fields) m.fields.push_back(std::move(failures));
    std::sort(m.fields.begin(), m.fields.end(), [](const FieldFailures& a, const FieldFailures& b) { return a.count > b.count; });
    report.models.push_back(std::move(m));
  }
  return report;
}

}  // namespace mongo_orm::migrate
