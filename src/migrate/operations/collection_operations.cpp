// Operations on indexes and whole collections: create_index, drop_index, rename_collection,
// copy_collection.
#include <algorithm>
#include <map>
#include <set>

#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/operations.hpp"
#include "mongo_orm/model/typed_collection.hpp"
#include "support.hpp"

namespace mongo_orm::migrate::ops {

namespace {

constexpr std::string_view existed_marker = "index existed before";

// Describes the groups of documents sharing a value under `keys`: "" when there are none.
std::string duplicates_under(const Collection& collection, bson::DocumentView keys) {
  int64_t groups = 0, extra = 0;
  std::string example;
  detail::for_each_duplicate_group(collection, keys, {}, 1000, {}, [&](std::vector<bson::Document>& group) {
    ++groups;
    extra += static_cast<int64_t>(group.size()) - 1;
    if (example.empty()) {
      bson::Builder values;
      for (const auto& key : keys) {
        auto value = group.front().find_path(key.key());
        if (value) {
          values.append(key.key(), *value);
        } else {
          values.append(key.key(), bson::Null{});
        }
      }
      example = bson::to_relaxed_json(values.view());
    }
  });
  if (groups == 0) return {};
  return std::to_string(groups) + " values of " + bson::to_relaxed_json(keys) + " in " + collection.name() +
         " are held by more than one document (" + std::to_string(extra) + " duplicates; for example " + example +
         "); a unique index cannot be created (dedupe_for_unique sets them aside)";
}

class CreateIndex final : public Operation {
 public:
  CreateIndex(std::string collection, bson::Document keys, bson::Document options)
      : collection_(std::move(collection)), keys_(std::move(keys)), options_(std::move(options)) {
    detail::check_collection_name(collection_, "create_index");
    if (keys_.empty()) throw InvalidRequestError("create_index " + collection_ + ": no keys");
    for (const auto& key : keys_) detail::check_path(key.key(), "create_index " + collection_);
    auto name = options_.find("name");
    index_name_ = name && name->type() == bson::Type::string ? std::string(name->as_string()) : default_index_name(keys_);
  }
  std::string name() const override { return "create_index " + collection_ + "." + index_name_; }

  Estimate estimate(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    Estimate e{name(), target.estimated_document_count(), 1};
    if (detail::index_with_keys(target, keys_)) e.notes.push_back("an index on these keys exists already: nothing to do");
    if (unique()) {
      if (auto dups = duplicates_under(target, keys_); !dups.empty()) e.conflicts.push_back(dups);
    }
    auto refuse_option = [&](std::string_view option, bool supported, std::string_view capability) {
      if (options_.contains(option) && !supported) {
        e.conflicts.push_back("the server has no " + std::string(capability) + " (index option " + std::string(option) + ")");
      }
    };
    refuse_option("partialFilterExpression", context.capabilities.partial_indexes, "partial indexes");
    refuse_option("expireAfterSeconds", context.capabilities.ttl_indexes, "TTL indexes");
    refuse_option("sparse", context.capabilities.sparse_indexes, "sparse indexes");
    refuse_option("collation", context.capabilities.collations, "collations");
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    if (detail::index_with_keys(target, keys_)) {
      backup.keep({bson::Builder{}.append("_id", existed_marker).extract()});
      return {name()};
    }
    if (unique()) {
      if (auto dups = duplicates_under(target, keys_); !dups.empty()) throw OperationRefused(name() + ": " + dups);
    }
    bson::Builder options;
    options.concat(options_);
    if (!options_.contains("name")) options.append("name", index_name_);
    target.create_index({keys_, options.extract()});
    return {name(), 0, 1};
  }
  OperationStats revert(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    bool existed = backup.collection().count_documents(bson::Builder{}.append("_id", existed_marker).extract()) > 0;
    OperationStats stats{"undo " + name()};
    if (!existed && detail::index_with_keys(target, keys_)) {
      target.drop_index(index_name_);
      stats.modified = 1;
    }
    backup.drop();
    return stats;
  }

  std::string collection() const override { return collection_; }

  bool transactional() const override { return false; }

 private:
  bool unique() const {
    auto u = options_.find("unique");
    return u && u->type() == bson::Type::boolean && u->as_bool();
  }

  std::string collection_;
  bson::Document keys_, options_;
  std::string index_name_;
};

class DropIndex final : public Operation {
 public:
  DropIndex(std::string collection, std::string index) : collection_(std::move(collection)), index_(std::move(index)) {
    detail::check_collection_name(collection_, "drop_index");
    if (index_.empty() || index_ == "_id_") throw InvalidRequestError("drop_index " + collection_ + ": cannot drop '" + index_ + "'");
  }
  std::string name() const override { return "drop_index " + collection_ + "." + index_; }

  Estimate estimate(const StepContext& context) const override {
    Estimate e{name(), 0, 1};
    if (!find(context.database.collection(collection_))) e.conflicts.push_back(collection_ + " has no index named " + index_);
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    auto spec = find(target);
    if (!spec) {
      if (backup.collection().count_documents({}) > 0) return {name()};  // dropped by an earlier, interrupted run
      throw OperationRefused(name() + ": " + collection_ + " has no index named " + index_);
    }
    backup.keep({bson::Builder{}.append("_id", "index").append("spec", spec->view()).extract()});
    target.drop_index(index_);
    return {name(), 0, 1, 1};
  }
  OperationStats revert(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    auto saved = backup.collection().find_one(bson::Builder{}.append("_id", "index").extract());
    if (!saved) throw MigrationError("undo " + name() + ": the index specification kept in " + backup.collection().name() + " is missing");
    if (!find(target)) target.create_index(detail::index_model_from_spec((*saved)["spec"].as_document()));
    backup.drop();
    return {"undo " + name(), 0, 1};
  }

  std::string collection() const override { return collection_; }

  bool transactional() const override { return false; }

 private:
  std::optional<bson::Document> find(const Collection& target) const {
    for (bson::Document& index : target.list_indexes()) {
      if (auto n = index.find("name"); n && n->as_string() == index_) return std::move(index);
    }
    return std::nullopt;
  }
  std::string collection_, index_;
};

class RenameCollection final : public Operation {
 public:
  RenameCollection(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {
    detail::check_collection_name(from_, "rename_collection");
    detail::check_collection_name(to_, "rename_collection");
  }
  std::string name() const override { return "rename_collection " + from_ + "->" + to_; }

  Estimate estimate(const StepContext& context) const override {
    Estimate e{name(), 0, 1};
    bool has_from = context.database.has_collection(from_), has_to = context.database.has_collection(to_);
    if (has_from) e.documents = context.database.collection(from_).estimated_document_count();
    if (has_to) e.conflicts.push_back("collection " + to_ + " exists already");
    if (!has_from && !has_to) e.conflicts.push_back("collection " + from_ + " does not exist");
    return e;
  }
  OperationStats apply(const StepContext& context) const override { return rename(context, from_, to_, name()); }
  OperationStats revert(const StepContext& context) const override { return rename(context, to_, from_, "undo " + name()); }
  bool undo_needs_backup() const override { return false; }

  std::string collection() const override { return from_; }
  std::vector<std::string> collections() const override { return {from_, to_}; }

  bool transactional() const override { return false; }

 private:
  static OperationStats rename(const StepContext& context, const std::string& from, const std::string& to,
                               const std::string& label) {
    bool has_from = context.database.has_collection(from), has_to = context.database.has_collection(to);
    if (!has_from && has_to) return {label};  // renamed by an earlier, interrupted run
    if (!has_from) throw OperationRefused(label + ": collection " + from + " does not exist");
    if (has_to) throw OperationRefused(label + ": collection " + to + " exists already; nothing renamed");
    Collection source = context.database.collection(from);
    int64_t n = source.estimated_document_count();
    source.rename(to);
    return {label, n, n};
  }
  std::string from_, to_;
};

class CopyCollection final : public Operation {
 public:
  CopyCollection(std::string source, std::string target, DocumentTransform transform, std::string label,
                 OnCollision on_collision)
      : source_(std::move(source)),
        target_(std::move(target)),
        transform_(std::move(transform)),
        label_(std::move(label)),
        on_collision_(on_collision) {
    detail::check_collection_name(source_, "copy_collection");
    detail::check_collection_name(target_, "copy_collection");
    if (source_ == target_) throw InvalidRequestError("copy_collection " + source_ + ": source and target are the same");
  }
  std::string name() const override {
    return "copy_collection " + source_ + "->" + target_ + (label_.empty() ? "" : " (" + label_ + ")") +
           (on_collision_ == OnCollision::skip        ? " skipping collisions"
            : on_collision_ == OnCollision::overwrite ? " overwriting collisions"
                                                      : "");
  }

  Estimate estimate(const StepContext& context) const override {
    int64_t n = context.database.collection(source_).count_documents({});
    Estimate e{name(), n, detail::batches_for(context, n)};
    if (Collisions found = collisions(context); found.count > 0) {
      std::string text = collisions_text(found);
      switch (on_collision_) {
        case OnCollision::refuse:
          e.conflicts.push_back(text + "; refused: choose OnCollision::skip or overwrite, or clear them from " + target_);
          break;
        case OnCollision::skip:
          e.notes.push_back(text + "; they are skipped and counted, the target's documents stay");
          break;
        case OnCollision::overwrite:
          e.notes.push_back(text + "; the copies replace them, each kept first in " + context.backup_collection(*this) +
                            " for undo");
          break;
      }
    }
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    Collection source = context.database.collection(source_), target = context.database.collection(target_);
    detail::Backup record(context, *this);  // what undo needs: see copy_collection in operations.hpp
    if (on_collision_ == OnCollision::refuse) {
      if (Collisions found = collisions(context); found.count > 0) {
        throw OperationRefused(name() + ": " + collisions_text(found) +
                               "; nothing copied (OnCollision::skip leaves the target's documents and counts them, "
                               "OnCollision::overwrite backs them up and replaces them)");
      }
    }
    OperationStats stats{name()};
    auto totals = detail::for_each_batch(context, source, {}, name(), [&](const std::vector<bson::Document>& batch, BulkWrite&) {
      std::vector<bson::Document> copies;
      for (const bson::Document& original : batch) {
        std::optional<bson::Document> copy = transform_ ? transform_(original) : std::optional(original);
        if (!copy) continue;
        if (!copy->contains("_id")) {
          copy = bson::Builder{}.append("_id", original["_id"]).concat(*copy).extract();
        }
        copies.push_back(std::move(*copy));
      }
      if (on_collision_ == OnCollision::overwrite) {
        copy_overwriting(target, record.collection(), copies, stats);
      } else {
        copy_keeping(target, record.collection(), copies, stats);
      }
    }, {.leaves_source_alone = true});
    stats.matched = totals.matched;
    return stats;
  }
  OperationStats revert(const StepContext& context) const override {
    Collection target = context.database.collection(target_);
    detail::Backup record(context, *this);
    auto totals = detail::for_each_batch(
        context, record.collection(), {}, "undo " + name(),
        [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
          std::vector<std::size_t> inserted;  // one statement for them all: cheaper on every server
          for (std::size_t i = 0; i < batch.size(); ++i) {
            if (auto original = batch[i].find("original")) {
              writes.replace_one(detail::id_of(batch[i]), original->as_document(), true);
            } else {
              inserted.push_back(i);
            }
          }
          if (!inserted.empty()) writes.delete_many(ids_in(batch, inserted));
        },
        {.write_to = &target});
    record.drop();
    return {"undo " + name(), totals.matched, totals.modified + totals.deleted};
  }

  std::string collection() const override { return source_; }
  std::vector<std::string> collections() const override { return {source_, target_}; }
  bool copies_documents() const override { return true; }
  // Skipping and overwriting rely on the target refusing a duplicate _id (overwriting, when a
  // document appears between its read and the insert), and inside a MongoDB transaction any
  // write error aborts the whole transaction: they run outside one.
  bool transactional() const override { return on_collision_ == OnCollision::refuse; }

 private:
  struct Collisions {
    int64_t count = 0;
    std::string examples;  // up to five _ids
  };
  std::string collisions_text(const Collisions& found) const {
    return std::to_string(found.count) + " cop" + (found.count == 1 ? "y has an _id" : "ies have _ids") + " that " +
           target_ + " holds already (e.g. " + found.examples + ")";
  }

  // {_id: {$in: [the _ids of `documents` at `indices`]}}
  static bson::Document ids_in(const std::vector<bson::Document>& documents, const std::vector<std::size_t>& indices) {
    return bson::Builder{}.append("_id", [&](bson::Builder& f) {
      f.append("$in", [&](bson::ArrayBuilder& list) {
        for (std::size_t i : indices) list.append(documents[i]["_id"]);
      });
    }).extract();
  }
  static bson::Document ids_in(const std::vector<bson::Document>& documents) {
    return bson::Builder{}.append("_id", [&](bson::Builder& f) {
      f.append("$in", [&](bson::ArrayBuilder& list) {
        for (const bson::Document& document : documents) list.append(document["_id"]);
      });
    }).extract();
  }
  static bool same_bytes(bson::DocumentView a, bson::DocumentView b) {
    return a.length() == b.length() && std::equal(a.data(), a.data() + a.length(), b.data());
  }

  // refuse and skip: inserts the copies, leaving every document the target holds already.
  void copy_keeping(const Collection& target, const Collection& record, const std::vector<bson::Document>& copies,
                    OperationStats& stats) const {
    std::vector<bson::Document> ids;
    ids.reserve(copies.size());
    for (const bson::Document& copy : copies) ids.push_back(detail::id_of(copy));
    // The _ids are recorded before the copies go in, so that an interrupted run leaves none
    // unrecorded; an _id newly recorded whose document was in the target already is the
    // target's own and is forgotten again.
    std::vector<bool> newly_recorded = detail::insert_reporting(record, ids);
    std::vector<bool> copied = detail::insert_reporting(target, copies);
    stats.backed_up += std::count(copied.begin(), copied.end(), true);
    std::vector<std::size_t> forget, recorded_before;  // recorded before: by a run killed before it could forget
    for (std::size_t i = 0; i < copies.size(); ++i) {
      if (copied[i]) ++stats.modified;
      if (!copied[i] && newly_recorded[i]) {
        forget.push_back(i);
        ++stats.skipped;  // the target's own document: left as it was
      }
      if (!copied[i] && !newly_recorded[i]) recorded_before.push_back(i);
    }
    // An _id an earlier run recorded and found in the target is the copy when the target
    // holds exactly the copy; otherwise it is the target's own, and undo must not delete it.
    if (!recorded_before.empty()) {
      std::map<std::string, std::size_t> by_id;
      for (std::size_t i : recorded_before) by_id.emplace(detail::id_bytes(copies[i]["_id"]), i);
      for (bson::DocumentView there : target.find(ids_in(copies, recorded_before))) {
        auto it = by_id.find(detail::id_bytes(there["_id"]));
        if (it != by_id.end() && !same_bytes(there, copies[it->second])) forget.push_back(it->second);
      }
    }
    if (!forget.empty()) record.delete_many(ids_in(copies, forget));
  }

  // overwrite: the record gets {_id} for a copy about to be inserted and {_id, original} for a
  // target document about to be replaced, always before the target is written, and the first
  // original kept is never replaced, so a resumed run neither backs up its own copy nor loses
  // the target's document.
  void copy_overwriting(const Collection& target, const Collection& record, const std::vector<bson::Document>& copies,
                        OperationStats& stats) const {
    if (copies.empty()) return;
    bson::Document in = ids_in(copies);
    std::map<std::string, bson::Document> there;  // the target's documents under these _ids
    for (bson::DocumentView document : target.find(in)) there.emplace(detail::id_bytes(document["_id"]), document);
    std::map<std::string, bool> recorded;  // by an earlier, interrupted run: whether with an original
    for (bson::DocumentView entry : record.find(in)) recorded.emplace(detail::id_bytes(entry["_id"]), entry.contains("original"));

    BulkWrite entries = record.bulk_write(false);
    std::vector<std::size_t> inserts, replaces;
    auto keep_original = [&](std::size_t i, bson::DocumentView original, bool has_entry) {
      bson::Document id = detail::id_of(copies[i]);
      bson::Document entry = bson::Builder{}.append("_id", copies[i]["_id"]).append("original", original).extract();
      if (has_entry) {
        entries.replace_one(id, entry);
      } else {
        entries.insert_one(entry);
      }
      ++stats.backed_up;
    };
    for (std::size_t i = 0; i < copies.size(); ++i) {
      std::string key = detail::id_bytes(copies[i]["_id"]);
      auto in_target = there.find(key);
      auto entry = recorded.find(key);
      bool has_entry = entry != recorded.end();
      if (in_target == there.end()) {
        if (!has_entry) entries.insert_one(detail::id_of(copies[i]));
        inserts.push_back(i);
      } else if (has_entry && entry->second) {
        replaces.push_back(i);  // its original is kept already
      } else if (has_entry && same_bytes(in_target->second, copies[i])) {
        continue;  // the copy an earlier run inserted
      } else {
        keep_original(i, in_target->second, has_entry);
        replaces.push_back(i);
      }
    }
    entries.execute();

    std::vector<bson::Document> new_documents;
    new_documents.reserve(inserts.size());
    for (std::size_t i : inserts) new_documents.push_back(copies[i]);
    std::vector<bool> inserted = detail::insert_reporting(target, new_documents);
    std::vector<std::size_t> raced;  // written into the target by someone else since it was read
    for (std::size_t k = 0; k < inserts.size(); ++k) {
      if (inserted[k]) {
        ++stats.modified;
        ++stats.backed_up;
      } else {
        raced.push_back(inserts[k]);
      }
    }
    if (!raced.empty()) {
      entries = record.bulk_write(false);
      std::map<std::string, std::size_t> by_id;
      for (std::size_t i : raced) by_id.emplace(detail::id_bytes(copies[i]["_id"]), i);
      for (bson::DocumentView document : target.find(ids_in(copies, raced))) {
        auto it = by_id.find(detail::id_bytes(document["_id"]));
        if (it != by_id.end()) keep_original(it->second, document, true);
      }
      entries.execute();
      // Each is replaced; one deleted again meanwhile is inserted by the upsert, and its
      // record (an _id alone) lets undo delete it.
      replaces.insert(replaces.end(), raced.begin(), raced.end());
    }
    if (replaces.empty()) return;
    BulkWrite writes = target.bulk_write(false);
    for (std::size_t i : replaces) writes.replace_one(detail::id_of(copies[i]), copies[i], true);
    writes.execute();
    stats.modified += static_cast<int64_t>(replaces.size());
  }
  // The copies whose _id the target holds and that this copy did not insert (an interrupted
  // run's own copies are recorded and do not count), streaming the source batch by batch.
  Collisions collisions(const StepContext& context) const {
    Collisions found;
    Collection source = context.database.collection(source_), target = context.database.collection(target_);
    if (target.count_documents({}, {.limit = 1}) == 0) return found;
    Collection recorded = context.database.collection(context.backup_collection(*this));
    std::vector<bson::Document> ids;
    auto check = [&] {
      if (ids.empty()) return;
      bson::Document in = ids_in(ids);
      std::set<std::string> ours;
      for (bson::DocumentView mine : recorded.find(in, {.projection = bson::Builder{}.append("_id", 1).extract()})) {
        ours.insert(detail::id_bytes(mine["_id"]));
      }
      for (bson::DocumentView there : target.find(in, {.projection = bson::Builder{}.append("_id", 1).extract()})) {
        if (ours.contains(detail::id_bytes(there["_id"]))) continue;
        if (++found.count <= 5) found.examples += (found.examples.empty() ? "_id " : ", ") + mongo_orm::model::detail::describe_id(there);
      }
      ids.clear();
    };
    for (bson::DocumentView original : source.find({}, {.batch_size = context.batch.size})) {
      std::optional<bson::Document> copy = transform_ ? transform_(original) : std::optional(bson::Document(original));
      if (!copy) continue;
      ids.push_back(bson::Builder{}.append("_id", copy->contains("_id") ? (*copy)["_id"] : original["_id"]).extract());
      if (static_cast<int32_t>(ids.size()) >= context.batch.size) check();
    }
    check();
    return found;
  }

  std::string source_, target_;
  DocumentTransform transform_;
  std::string label_;
  OnCollision on_collision_;
};

}  // namespace

Step create_index(std::string collection, bson::Document keys, bson::Document options) {
  return std::make_shared<CreateIndex>(std::move(collection), std::move(keys), std::move(options));
}

Step drop_index(std::string collection, std::string name) {
  return std::make_shared<DropIndex>(std::move(collection), std::move(name));
}

Step rename_collection(std::string from, std::string to) {
  return std::make_shared<RenameCollection>(std::move(from), std::move(to));
}

Step copy_collection(std::string source, std::string target, DocumentTransform transform, std::string label,
                     OnCollision on_collision) {
  return std::make_shared<CopyCollection>(std::move(source), std::move(target), std::move(transform), std::move(label),
                                          on_collision);
}

}  // namespace mongo_orm::migrate::ops
