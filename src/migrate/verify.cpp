// Sampling and checking documents through the registered models.
#include "mongo_orm/migrate/verify.hpp"

#include <algorithm>
#include <map>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/driver/sample.hpp"

namespace mongo_orm::migrate {

bool VerifyReport::ok() const noexcept {
  return std::all_of(models.begin(), models.end(), [](const ModelReport& m) { return m.ok(); });
}

namespace {

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
    m.sampling = sample_documents(collection, {options.sample_size, options.seed}, [&](bson::DocumentView document) {
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
