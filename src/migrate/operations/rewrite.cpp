// Rewriting a collection into a new one and swapping it in.
#include "rewrite.hpp"

#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/checkpoint.hpp"

namespace mongo_orm::migrate::detail {

namespace {
constexpr const char* swapping = "swapping";
}

CollectionRewrite::CollectionRewrite(const StepContext& context, const Operation& operation, std::string collection)
    : context_(context),
      operation_(operation.name()),
      collection_(std::move(collection)),
      backup_name_(context.backup_collection(operation)) {
  new_name_ = "_mongo_orm_rewrite" + backup_name_.substr(std::string_view("_mongo_orm_backup").size());
  // The swap's own checkpoint, saved before the first rename.
  if (context.checkpoints) swap_key_ = context.checkpoints->step_key() + ":swap";
}

bool CollectionRewrite::begun() const {
  return context_.database.has_collection(backup_name_) || context_.database.has_collection(new_name_);
}

bool CollectionRewrite::finish_interrupted_swap() const {
  if (!context_.checkpoints) return false;
  auto resumed = context_.checkpoints->resumed(swap_key_, operation_ + " (swap)");
  if (!resumed || resumed->phase != swapping) return false;
  const Database& db = context_.database;
  if (db.has_collection(collection_) && !db.has_collection(backup_name_)) db.collection(collection_).rename(backup_name_);
  if (!db.has_collection(collection_) && db.has_collection(new_name_)) db.collection(new_name_).rename(collection_);
  return true;
}

Collection CollectionRewrite::begin() const {
  const Database& db = context_.database;
  if (db.has_collection(backup_name_)) {
    throw OperationRefused(operation_ + ": " + backup_name_ +
                           " exists already; it holds the original of an earlier rewrite: drop or rename it first");
  }
  if (!db.has_collection(new_name_)) {
    if (context_.checkpoints) context_.checkpoints->restart_step();
    db.create_collection(new_name_);  // before any cursor is open (FerretDB)
  }
  return db.collection(new_name_);
}

int64_t CollectionRewrite::swap_in(int64_t set_aside, const std::vector<IndexModel>& replacing) const {
  const Database& db = context_.database;
  Collection source = db.collection(collection_), rewritten = db.collection(new_name_);
  std::vector<IndexModel> indexes;
  for (const bson::Document& spec : source.list_indexes()) {
    if (spec["name"].as_string() == "_id_") continue;
    IndexModel model = index_model_from_spec(spec);
    bool replaced = false;
    for (const IndexModel& other : replacing) {
      auto name = other.options.find("name");
      replaced = replaced || other.keys.view() == model.keys.view() || (name && name->as_string() == spec["name"].as_string());
    }
    if (!replaced) indexes.push_back(std::move(model));
  }
  indexes.insert(indexes.end(), replacing.begin(), replacing.end());
  if (!indexes.empty()) rewritten.create_indexes(indexes);
  int64_t now = source.count_documents({}), copied = rewritten.count_documents({});
  if (now != copied + set_aside) {
    throw MigrationError(operation_ + ": " + collection_ + " holds " + std::to_string(now) + " documents but " +
                         std::to_string(copied) + " were copied to " + new_name_ +
                         (set_aside > 0 ? " and " + std::to_string(set_aside) + " set aside" : "") +
                         ": it was written to during the rewrite; stop the writes, drop " + new_name_ +
                         " and run up again (the original is untouched)");
  }
  if (context_.checkpoints) {
    Checkpoint checkpoint{operation_ + " (swap)"};
    checkpoint.phase = swapping;
    context_.checkpoints->save(swap_key_, checkpoint);
  }
  source.rename(backup_name_);
  db.collection(new_name_).rename(collection_);
  return now;
}

BatchTotals CollectionRewrite::undo(const std::string& label) const {
  const Database& db = context_.database;
  if (db.has_collection(collection_) && db.has_collection(backup_name_)) {
    if (db.has_collection(new_name_)) {
      throw MigrationError(label + ": " + new_name_ + " exists already: drop or rename it first");
    }
    db.collection(collection_).rename(new_name_);
  }
  if (!db.has_collection(collection_) && db.has_collection(backup_name_)) db.collection(backup_name_).rename(collection_);
  if (!db.has_collection(new_name_)) return {};
  Collection restored = db.collection(collection_);
  BatchTotals carried;
  BatchTotals totals = for_each_batch(context_, db.collection(new_name_), {}, label + " (new documents)",
                                      [&](const std::vector<bson::Document>& batch, BulkWrite&) {
    carried.inserted += insert_keeping_existing(restored, batch);
  }, {.leaves_source_alone = true});
  db.collection(new_name_).drop();
  totals.inserted = carried.inserted;
  return totals;
}

}  // namespace mongo_orm::migrate::detail
