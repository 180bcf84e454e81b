// Temporary databases, snapshots and round trips for testing migrations.
#include "mongo_orm/migrate/testing.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/model/typed_collection.hpp"
#include "operations/support.hpp"

namespace mongo_orm::migrate {

namespace {

std::atomic<int> next_database{0};

std::string id_of(bson::DocumentView document) { return "_id " + model::detail::describe_id(document); }

bool bookkeeping(std::string_view name) { return name.starts_with("_mongo_orm_") || name.starts_with("system."); }

// The document with the fields of every embedded document in key order.
void append_sorted(bson::Builder& out, bson::DocumentView document);
void append_sorted_value(bson::Builder& out, std::string_view key, const bson::Element& value) {
  if (value.type() == bson::Type::document) {
    out.append(key, [&](bson::Builder& nested) { append_sorted(nested, value.as_document()); });
  } else if (value.type() == bson::Type::array) {
    out.append(key, [&](bson::ArrayBuilder& items) {
      for (const auto& item : value.as_array()) {
        if (item.type() == bson::Type::document) {
          items.append([&](bson::Builder& nested) { append_sorted(nested, item.as_document()); });
        } else {
          items.append(item);
        }
      }
    });
  } else {
    out.append(key, value);
  }
}
void append_sorted(bson::Builder& out, bson::DocumentView document) {
  std::vector<bson::Element> fields;
  for (const auto& field : document) fields.push_back(field);
  std::sort(fields.begin(), fields.end(), [](const bson::Element& a, const bson::Element& b) { return a.key() < b.key(); });
  for (const bson::Element& field : fields) append_sorted_value(out, field.key(), field);
}
bson::Document sorted(bson::DocumentView document) {
  bson::Builder out;
  append_sorted(out, document);
  return out.extract();
}

// The fields that differ between two versions of a document.
std::string field_difference(bson::DocumentView expected, bson::DocumentView actual) {
  std::string text;
  for (const auto& field : expected) {
    auto other = actual.find(field.key());
    if (!other) {
      text += " field '" + std::string(field.key()) + "' is missing;";
    } else if (sorted(bson::Builder{}.append("v", field).view()) != sorted(bson::Builder{}.append("v", *other).view())) {
      text += " field '" + std::string(field.key()) + "' was " + bson::to_relaxed_json(bson::Builder{}.append("v", field).view()) +
              ", is " + bson::to_relaxed_json(bson::Builder{}.append("v", *other).view()) + ";";
    }
  }
  for (const auto& field : actual) {
    if (!expected.contains(field.key())) text += " field '" + std::string(field.key()) + "' was added;";
  }
  return text;
}

}  // namespace

TemporaryDatabase::TemporaryDatabase(const Client& client, std::string prefix)
    : database_(client.database(prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(next_database++))) {
  database_.drop();
}

TemporaryDatabase::~TemporaryDatabase() {
  try {
    database_.drop();
  } catch (const std::exception&) {
    // a server that is gone keeps the database; nothing more can be done here
  }
}

Snapshot snapshot(const Database& database) {
  Snapshot result;
  for (const std::string& name : database.list_collection_names()) {
    if (bookkeeping(name)) continue;
    std::vector<bson::Document> documents;
    for (bson::DocumentView document : database.collection(name).find({}, {.sort = bson::Builder{}.append("_id", 1).extract()})) {
      documents.emplace_back(document);
    }
    if (!documents.empty()) result.collections.emplace(name, std::move(documents));
  }
  return result;
}

std::string difference(const Snapshot& expected, const Snapshot& actual, const std::vector<std::string>& ignored) {
  auto comparable = [&](const bson::Document& document) {
    if (ignored.empty()) return sorted(document);
    bson::Builder kept;
    for (const auto& field : document) {
      if (std::find(ignored.begin(), ignored.end(), field.key()) == ignored.end()) kept.append(field.key(), field);
    }
    return sorted(kept.view());
  };
  for (const auto& [name, documents] : expected.collections) {
    auto it = actual.collections.find(name);
    if (it == actual.collections.end()) return "collection " + name + " is gone (it held " + std::to_string(documents.size()) + " documents)";
    const auto& others = it->second;
    for (std::size_t i = 0; i < std::max(documents.size(), others.size()); ++i) {
      if (i >= others.size()) return name + ": document " + id_of(documents[i]) + " is missing";
      if (i >= documents.size()) return name + ": document " + id_of(others[i]) + " was added";
      if (id_of(documents[i]) != id_of(others[i])) {
        return name + ": expected document " + id_of(documents[i]) + ", found " + id_of(others[i]);
      }
      if (comparable(documents[i]) != comparable(others[i])) return name + ": document " + id_of(documents[i]) + ":" + field_difference(documents[i], others[i]);
    }
  }
  for (const auto& [name, documents] : actual.collections) {
    if (!expected.collections.contains(name)) {
      return "collection " + name + " appeared with " + std::to_string(documents.size()) + " documents";
    }
  }
  return {};
}

void copy_database(const Database& from, const Database& to, int32_t batch_size) {
  for (const std::string& name : from.list_collection_names()) {
    if (name.starts_with("system.") || name == "_mongo_orm_locks") continue;
    Collection target = to.collection(name);
    std::vector<bson::Document> batch;
    auto flush = [&] {
      if (!batch.empty()) target.insert_many(batch, {.ordered = false});
      batch.clear();
    };
    for (bson::DocumentView document : from.collection(name).find({}, {.batch_size = batch_size})) {
      batch.emplace_back(document);
      if (static_cast<int32_t>(batch.size()) >= batch_size) flush();
    }
    flush();
    for (const bson::Document& index : from.collection(name).list_indexes()) {
      if (index["name"].as_string() != "_id_") target.create_index(detail::index_model_from_spec(index));
    }
  }
}

std::string RoundTripResult::describe() const {
  if (!exercised()) return "nothing was pending, so nothing was exercised: the round trip tested no migration";
  if (ok()) {
    return "up, down and up again of " + std::to_string(applied.size()) + " migration" + (applied.size() == 1 ? "" : "s") +
           " gave back the same documents";
  }
  std::string text;
  if (!after_down.empty()) text += "after down, the data differs from before up: " + after_down;
  if (!after_second_up.empty()) text += (text.empty() ? "" : "; ") + std::string("the second up differs from the first: ") + after_second_up;
  return text;
}

RoundTripResult round_trip(const Database& database, const Registry& registry, RunnerOptions options) {
  Runner runner(database, registry, options);
  for (const StatusRow& row : runner.status()) {
    if (row.defined && row.status != MigrationStatus::applied && !row.reversible) {
      throw MigrationError("round trip impossible: pending migration " + row.version + " (" + row.description + ") is irreversible");
    }
  }
  RoundTripResult result;
  Snapshot before = snapshot(database);
  result.applied = runner.up().versions;
  Snapshot after_up = snapshot(database);
  if (!result.applied.empty()) runner.down({.steps = static_cast<int>(result.applied.size())});
  result.after_down = difference(before, snapshot(database));
  runner.up();
  result.after_second_up = difference(after_up, snapshot(database), {"quarantined_at"});
  return result;
}

RoundTripResult round_trip_on_copy(const Database& database, const Registry& registry, RunnerOptions options) {
  TemporaryDatabase copy(database.client(), "mongo_orm_round_trip");
  copy_database(database, copy.database());
  return round_trip(copy.database(), registry, std::move(options));
}

}  // namespace mongo_orm::migrate
