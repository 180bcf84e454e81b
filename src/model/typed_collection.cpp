// Messages of the typed collection: how a document's _id is named, a document that is gone.
#include "mongo_orm/model/typed_collection.hpp"

#include "mongo_orm/bson/json.hpp"

#include <algorithm>
#include <mutex>
#include <set>

namespace mongo_orm::model::detail {

void ensure_indexes_once(const Collection& collection, const std::vector<IndexSpec>& declared) {
  static std::mutex mutex;
  static std::set<std::string> ensured;  // hosts and namespace
  std::string key = collection.client().hosts() + "/" + collection.namespace_name();
  std::lock_guard lock(mutex);  // one creation at a time; the others wait for it
  if (ensured.contains(key)) return;
  model::ensure_indexes(collection, declared);
  ensured.insert(std::move(key));  // only once they exist: a failure is raised again next time
}

const std::string* interned_namespace(const std::string& name) {
  thread_local const std::string* last = nullptr;  // reads of one collection ask for one name
  if (last && *last == name) return last;
  static std::mutex mutex;
  static std::set<std::string>* names = new std::set<std::string>;  // never destroyed: objects may outlive main
  std::lock_guard lock(mutex);
  last = &*names->insert(name).first;
  return last;
}

std::string describe_id(bson::DocumentView document) {
  auto id = document.find("_id");
  if (!id) return "(no _id)";
  switch (id->type()) {
    case bson::Type::object_id: return "ObjectId('" + id->as_object_id().to_hex() + "')";
    case bson::Type::string: return "'" + std::string(id->as_string()) + "'";
    case bson::Type::int32: return std::to_string(id->as_int32());
    case bson::Type::int64: return std::to_string(id->as_int64());
    default: {
      std::string json = bson::to_relaxed_json(bson::Builder{}.append("v", *id).extract());
      return json.substr(8, json.size() - 10);  // { "v" : X } -> X
    }
  }
}

void throw_gone(const std::string& collection, const std::string& id) {
  throw ConflictError(collection + " _id=" + id +
                      ": the stored document no longer exists (deleted since it was loaded); nothing was saved");
}

int64_t next_sequence_value(const Collection& collection) {
  Collection counters(collection.client(), collection.database_name(), "_mongo_orm_counters");
  auto counter = counters.find_one_and_update(
      bson::Builder{}.append("_id", collection.name()).extract(),
      bson::Builder{}.append("$inc", [](bson::Builder& inc) { inc.append("seq", int64_t{1}); }).extract(),
      {.upsert = true, .return_document = ReturnDocument::after});
  auto seq = (*counter)["seq"];
  return seq.type() == bson::Type::int32 ? seq.as_int32() : seq.as_int64();
}

namespace {
void append_chains(bson::Builder& builder, const char* op, const std::vector<std::string>& chains) {
  builder.append(op, [&](bson::ArrayBuilder& list) {
    for (const auto& chain : chains) list.append(chain);
  });
}
}  // namespace

Filter class_filter(const std::vector<std::string>& chains) {
  bson::Builder filter;
  if (chains.size() == 1) {
    filter.append("_cls", chains.front());
  } else {
    filter.append("_cls", [&](bson::Builder& in) { append_chains(in, "$in", chains); });
  }
  return filter.extract();
}

Filter unknown_class_filter(const std::vector<std::string>& known) {
  return bson::Builder{}.append("_cls", [&](bson::Builder& nin) { append_chains(nin, "$nin", known); }).extract();
}

Filter read_scope(const std::vector<std::string>& mine, const std::vector<std::string>& known) {
  if (mine.size() == known.size()) return Filter{};  // the root: every document is its own or unknown
  return class_filter(mine) || unknown_class_filter(known);
}

void check_class_of(bson::DocumentView document, const std::vector<std::string>& mine,
                    const std::vector<std::string>& known) {
  std::string_view stored = checked_class(document, known);
  if (std::find(mine.begin(), mine.end(), stored) == mine.end()) {
    throw DecodeError::at("_cls", "'" + std::string(stored) + "' is another class of the hierarchy, not " +
                                      mine.front() + (mine.size() > 1 ? " or one of its subclasses" : ""));
  }
}

std::string_view checked_class(bson::DocumentView document, const std::vector<std::string>& known) {
  auto list = [&] {
    std::string text;
    for (const auto& chain : known) text += (text.empty() ? "" : ", ") + chain;
    return text;
  };
  auto stored = document.find("_cls");
  if (!stored) throw DecodeError::at("_cls", "missing; expected one of: " + list());
  if (stored->type() != bson::Type::string) {
    throw DecodeError::at("_cls", "expected string, got " + std::string(bson::type_name(stored->type())));
  }
  std::string_view value = stored->as_string();
  if (std::find(known.begin(), known.end(), value) == known.end()) {
    throw DecodeError::at("_cls", "'" + std::string(value) + "' is not a registered class (known: " + list() + ")");
  }
  return value;
}

}  // namespace mongo_orm::model::detail
