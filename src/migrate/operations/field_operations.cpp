// Operations on fields: add_field, remove_field, rename_field, set_fields, remap_class.
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/operations.hpp"
#include "support.hpp"

namespace mongo_orm::migrate::ops {

namespace {

using detail::both;
using detail::exists;

// {path: {$eq: value}}: the value is compared, never read as an operator.
bson::Document equals(std::string_view path, const bson::Value& value) {
  return bson::Builder{}.append(path, [&](bson::Builder& f) { f.append("$eq", value); }).extract();
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ",") + name;
  return text;
}

class AddField final : public Operation {
 public:
  AddField(std::string collection, std::string path, bson::Value value, bson::Document filter)
      : collection_(std::move(collection)), path_(std::move(path)), value_(std::move(value)), filter_(std::move(filter)) {
    detail::check_collection_name(collection_, "add_field");
    detail::check_path(path_, "add_field " + collection_);
    detail::check_literal(value_, "add_field " + collection_ + "." + path_, "value");
  }
  std::string name() const override { return "add_field " + collection_ + "." + path_; }

  Estimate estimate(const StepContext& context) const override {
    Collection users = context.database.collection(collection_);
    Estimate e{name(), users.count_documents(missing()), 1};
    if (int64_t same = users.count_documents(already_equal()); same > 0) {
      e.notes.push_back(std::to_string(same) + " documents already hold the value; they are recorded so that undo leaves them as they are");
    }
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    OperationStats stats{name()};
    // The documents undo must not touch: they had the value before.
    detail::for_each_batch(context, target, already_equal(), name() + " (recording documents that have the value)",
                           [&](const std::vector<bson::Document>& batch, BulkWrite&) { stats.backed_up += backup.keep(batch); });
    bson::Document set = bson::Builder{}.append("$set", [&](bson::Builder& s) { s.append(path_, value_); }).extract();
    UpdateResult result = target.update_many(missing(), set);
    stats.matched = result.matched_count;
    stats.modified = result.modified_count;
    return stats;
  }
  OperationStats revert(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    bson::Document unset = bson::Builder{}.append("$unset", [&](bson::Builder& u) { u.append(path_, ""); }).extract();
    UpdateResult result = target.update_many(already_equal(), unset);
    OperationStats stats{"undo " + name(), result.matched_count, result.modified_count};
    stats.modified -= backup.restore_paths(context, target, {path_}, "undo " + name() + " (restoring)").modified;
    backup.drop();
    return stats;
  }

  std::string collection() const override { return collection_; }

 private:
  bson::Document missing() const { return both(filter_, exists(path_, false)); }
  bson::Document already_equal() const { return both(filter_, both(exists(path_, true), equals(path_, value_))); }

  std::string collection_, path_;
  bson::Value value_;
  bson::Document filter_;
};

// Sets and removes fields on the documents matching a filter, backing each document up first
// and writing by _id in batches; undo restores the touched paths from the backup.
class BackedUpUpdate final : public Operation {
 public:
  BackedUpUpdate(std::string name, std::string collection, bson::Document filter, bson::Document set,
                 std::vector<std::string> unset)
      : name_(std::move(name)),
        collection_(std::move(collection)),
        filter_(std::move(filter)),
        set_(std::move(set)),
        unset_(std::move(unset)) {
    detail::check_collection_name(collection_, name_);
    for (const auto& field : set_) detail::check_path(field.key(), name_);
    for (const std::string& path : unset_) detail::check_path(path, name_);
    if (set_.empty() && unset_.empty()) throw InvalidRequestError(name_ + ": nothing to set or remove");
    bson::Builder update;
    if (!set_.empty()) update.append("$set", set_.view());
    if (!unset_.empty()) {
      update.append("$unset", [&](bson::Builder& u) {
        for (const std::string& path : unset_) u.append(path, "");
      });
    }
    update_ = update.extract();
  }
  std::string name() const override { return name_; }

  Estimate estimate(const StepContext& context) const override {
    int64_t n = context.database.collection(collection_).count_documents(filter_);
    Estimate e{name(), n, detail::batches_for(context, n)};
    if (n > 0) e.notes.push_back(std::to_string(n) + " documents backed up to " + context.backup_collection(*this) + " first");
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    OperationStats stats{name()};
    auto totals = detail::for_each_batch(context, target, filter_, name(),
                                         [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
                                           stats.backed_up += backup.keep(batch);
                                           for (const bson::Document& d : batch) writes.update_one(detail::id_of(d), update_);
                                         });
    stats.matched = totals.matched;
    stats.modified = totals.modified;
    return stats;
  }
  OperationStats revert(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    std::vector<std::string> paths = unset_;
    for (const auto& field : set_) paths.emplace_back(field.key());
    auto totals = backup.restore_paths(context, target, paths, "undo " + name());
    backup.drop();
    return {"undo " + name(), totals.matched, totals.modified};
  }

  std::string collection() const override { return collection_; }
  bool copies_documents() const override { return true; }

 private:
  std::string name_, collection_;
  bson::Document filter_, set_;
  std::vector<std::string> unset_;
  bson::Document update_;
};

class RenameField final : public Operation {
 public:
  RenameField(std::string collection, std::string from, std::string to)
      : collection_(std::move(collection)), from_(std::move(from)), to_(std::move(to)) {
    detail::check_collection_name(collection_, "rename_field");
    detail::check_path(from_, "rename_field " + collection_);
    detail::check_path(to_, "rename_field " + collection_);
    auto prefix = [](const std::string& a, const std::string& b) { return b.starts_with(a + ".") || a == b; };
    if (prefix(from_, to_) || prefix(to_, from_)) {
      throw InvalidRequestError("rename_field " + collection_ + ": '" + from_ + "' and '" + to_ +
                                "' overlap; a field cannot be renamed into itself or its parent");
    }
  }
  std::string name() const override { return "rename_field " + collection_ + "." + from_ + "->" + to_; }

  Estimate estimate(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    Estimate e{name(), target.count_documents(exists(from_, true)), 1};
    if (auto clash = clashes(target, from_, to_); !clash.empty()) e.conflicts.push_back(clash);
    return e;
  }
  OperationStats apply(const StepContext& context) const override { return rename(context, from_, to_, name()); }
  OperationStats revert(const StepContext& context) const override { return rename(context, to_, from_, "undo " + name()); }
  bool undo_needs_backup() const override { return false; }

  std::string collection() const override { return collection_; }

 private:
  // Documents holding both fields, which $rename would overwrite: described, or "".
  std::string clashes(const Collection& target, const std::string& from, const std::string& to) const {
    int64_t both_present = target.count_documents(both(exists(from, true), exists(to, true)));
    if (both_present == 0) return {};
    auto example = target.find_one(both(exists(from, true), exists(to, true)));
    return std::to_string(both_present) + " documents of " + collection_ + " hold both '" + from + "' and '" + to +
           "' (for example _id " + bson::to_relaxed_json(detail::id_of(*example)) + "); renaming would overwrite '" + to + "'";
  }
  OperationStats rename(const StepContext& context, const std::string& from, const std::string& to,
                        const std::string& label) const {
    Collection target = context.database.collection(collection_);
    if (auto clash = clashes(target, from, to); !clash.empty()) throw OperationRefused(label + ": " + clash + "; nothing renamed");
    bson::Document update = bson::Builder{}.append("$rename", [&](bson::Builder& r) { r.append(from, to); }).extract();
    UpdateResult result = target.update_many(exists(from, true), update);
    return {label, result.matched_count, result.modified_count};
  }

  std::string collection_, from_, to_;
};

}  // namespace

Step add_field(std::string collection, std::string path, bson::Value value, bson::Document filter) {
  return std::make_shared<AddField>(std::move(collection), std::move(path), std::move(value), std::move(filter));
}

Step remove_field(std::string collection, std::string path, bson::Document filter) {
  detail::check_path(path, "remove_field " + collection);
  std::string name = "remove_field " + collection + "." + path;
  bson::Document selected = both(filter, exists(path, true));
  return std::make_shared<BackedUpUpdate>(std::move(name), std::move(collection), std::move(selected), bson::Document{},
                                          std::vector<std::string>{std::move(path)});
}

Step rename_field(std::string collection, std::string from, std::string to) {
  return std::make_shared<RenameField>(std::move(collection), std::move(from), std::move(to));
}

Step set_fields(std::string collection, bson::Document filter, bson::Document values) {
  detail::check_value_size(values.view().length(), "set_fields " + collection, "the values together");
  std::vector<std::string> keys;
  for (const auto& field : values) {
    keys.emplace_back(field.key());
    detail::check_path(field.key(), "set_fields " + collection);
    detail::check_literal(bson::Value(field), "set_fields " + collection, "values." + std::string(field.key()));
  }
  std::string name = "set_fields " + collection + " (" + joined(keys) + ")";
  return std::make_shared<BackedUpUpdate>(std::move(name), std::move(collection), std::move(filter), std::move(values),
                                          std::vector<std::string>{});
}

Step remap_class(std::string collection, bson::Document filter, std::string new_class,
                 std::vector<std::string> remove_fields) {
  if (new_class.empty()) throw InvalidRequestError("remap_class " + collection + ": the new class name is empty");
  std::string name = "remap_class " + collection + " -> " + new_class;
  if (!remove_fields.empty()) name += " (removing " + joined(remove_fields) + ")";
  bson::Document set = bson::Builder{}.append("_cls", new_class).extract();
  return std::make_shared<BackedUpUpdate>(std::move(name), std::move(collection), std::move(filter), std::move(set),
                                          std::move(remove_fields));
}

}  // namespace mongo_orm::migrate::ops
