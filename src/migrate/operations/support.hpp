// What the built-in operations share: the batched read-and-write loop, backups, quarantine,
// path checks and filter building.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/driver/bulk_write.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/migrate/operation.hpp"

namespace mongo_orm::migrate::detail {

// Refuses a field path a user could turn into an operator or that names nothing: empty, an
// empty segment, or a segment starting with '$'. `where` names the operation.
void check_path(std::string_view path, std::string_view where);
// Refuses an empty name, '$' or a NUL byte, and the collections of mongo_orm itself.
void check_collection_name(std::string_view name, std::string_view where);
// A quarantine's name: a valid collection name other than `collection` and outside mongo_orm's
// own "_mongo_orm_" collections (it may end in "_quarantine").
void check_quarantine_name(std::string_view name, std::string_view collection, std::string_view where);
// The most bytes of BSON a value to be stored may take: it must fit, with the command around it,
// in one document, and MongoDB documents hold at most 16 MiB. A larger one makes the server
// reset the connection part way through a run.
std::size_t max_value_bytes();
// Refuses (InvalidRequestError: "<where>: <what> is N bytes of BSON; ...") a value of `size` bytes
// larger than max_value_bytes.
void check_value_size(std::size_t size, std::string_view where, std::string_view what);
// Refuses a value to be stored (a default, a field's new value) larger than max_value_bytes, or
// holding a key that starts with '$' at any depth: the server would read it as an operator (or
// refuse it half way through a run). `path` names the value in the message ("default",
// "values.status").
void check_literal(const bson::Value& value, std::string_view where, const std::string& path);
void check_literal(bson::DocumentView value, std::string_view where, const std::string& path, bool is_array);

// {$and: [a, b]}, or the one that is not empty.
bson::Document both(bson::DocumentView a, bson::DocumentView b);
// {path: {$exists: exists}}
bson::Document exists(std::string_view path, bool exists);
// {_id: id}
bson::Document by_id(const bson::Element& id);
// {_id: <the document's _id>}
bson::Document id_of(bson::DocumentView document);

// Reads the documents matching `filter` in _id order with one cursor and hands them to `fill`
// `context.batch.size` at a time; `fill` adds statements to an unordered bulk write, which is
// sent after each batch to `write_to` (default: the collection read). Reports progress,
// honours the rate limit and the pause.
struct BatchTotals {
  int64_t matched = 0;   // documents read
  int64_t modified = 0;  // documents the writes changed
  int64_t inserted = 0;
  int64_t deleted = 0;
  int64_t batches = 0;
};
using BatchFill = std::function<void(const std::vector<bson::Document>& batch, BulkWrite& writes)>;
struct BatchLoop {
  FindOptions read{};
  const Collection* write_to = nullptr;  // where the bulk writes go; default: the collection read
  // The loop never writes the documents it reads (it copies them elsewhere, keeping what is
  // there), so a batch written twice changes nothing: its checkpoint keeps the last _id only,
  // without the pre-images of the pending batch. Implied by `write_to`.
  bool leaves_source_alone = false;
};
BatchTotals for_each_batch(const StepContext& context, const Collection& collection, bson::DocumentView filter,
                           const std::string& label, const BatchFill& fill, const BatchLoop& loop = {});

// The document `update` ({$set: {...}, $unset: {...}, $inc: {...}}, dotted paths) makes of
// `document`, computed here rather than by the server. Refuses other operators, paths
// through arrays and a $set below a value that is not a document, naming the path; every
// message starts with `where`.
bson::Document apply_update(bson::DocumentView document, bson::DocumentView update, const std::string& where);

// The bytes of {"": id}: a map key for an _id of any type.
std::string id_bytes(const bson::Element& id);

// Documents an operation leaves alone for a reason: how many match `filter`, and up to five of
// their _ids ("_id 1, _id 7"), for plans and stats that never skip silently.
struct LeftAlone {
  int64_t count = 0;
  std::string examples;
};
LeftAlone left_alone(const Collection& collection, bson::DocumentView filter);

// Batches a client-side operation would need for `documents`.
int64_t batches_for(const StepContext& context, int64_t documents);

// Inserts documents unordered, skipping those whose _id is already there (a run resumed
// after a failure keeps the first copy); returns how many were inserted.
int64_t insert_keeping_existing(const Collection& target, const std::vector<bson::Document>& documents);
// The same, saying for each document whether it was inserted (false: its _id was there).
std::vector<bool> insert_reporting(const Collection& target, const std::vector<bson::Document>& documents);

// The backup of one operation of one migration: the original documents it is about to change,
// stored whole under their own _id (the first copy wins).
class Backup {
 public:
  Backup(const StepContext& context, const Operation& operation);
  int64_t keep(const std::vector<bson::Document>& originals) const { return insert_keeping_existing(backup_, originals); }
  const Collection& collection() const noexcept { return backup_; }
  // Puts `paths` of every backed-up document back into `target`: the old value, or no field
  // when the original had none. Returns the documents changed.
  BatchTotals restore_paths(const StepContext& context, const Collection& target,
                            const std::vector<std::string>& paths, const std::string& label) const;
  // Replaces every backed-up document of `target` by its backup.
  BatchTotals restore_documents(const StepContext& context, const Collection& target, const std::string& label) const;
  // Drops the backup once the step is recorded as done (see StepContext::after_commit).
  void drop() const;

 private:
  const Database& database_;
  Collection backup_;
  AfterCommit* after_commit_;
};

// Documents set aside rather than deleted: {_id, migration, operation, reason, quarantined_at,
// document: <the original>} in the quarantine collection.
class Quarantine {
 public:
  Quarantine(const StepContext& context, const Operation& operation, std::string collection);
  const std::string& name() const noexcept { return name_; }
  // Moves documents of `source` (copied first, then deleted by _id); returns how many moved.
  int64_t move(const Collection& source, const std::vector<std::pair<bson::Document, std::string>>& documents) const;
  // Records documents, each with why, leaving their source alone (a rewrite leaves them out of
  // the new collection); returns how many were recorded now (not already there).
  int64_t keep(const std::vector<std::pair<bson::Document, std::string>>& documents) const;
  // How many documents this operation has quarantined.
  int64_t count() const;
  // Forgets what this operation quarantined (its documents are back by other means) and drops
  // the quarantine when that leaves it empty; returns how many were forgotten.
  int64_t discard() const;
  // Moves every document this operation quarantined back into `source`; drops the quarantine
  // collection when that leaves it empty (after the commit, in a transaction).
  BatchTotals restore(const StepContext& context, const Collection& source, const std::string& label) const;

 private:
  bson::Document mine() const;
  // Drops the quarantine when empty (after the commit, in a transaction).
  void drop_if_empty() const;

  const StepContext& context_;
  std::string operation_;
  std::string name_;
  Collection quarantine_;
};

// Orders two values: numbers by value whatever their type, other values of different BSON types
// by type number, strings by bytes.
int compare_values(const bson::Element& a, const bson::Element& b);
// Every group of documents holding the same values under `keys` (as a unique index compares
// them), members in _id order, read whole or through `projection`: one pass over the collection
// sorted by the keys, holding only the current group, so memory stays flat. A $group answers in
// time on MongoDB but not on FerretDB 1.x (22 s for 20,000 documents of 10,000 values, growing
// with the square of the groups); the sorted pass is one scan on both. `progress` (if set) is
// told how many documents were read, every `batch`.
void for_each_key_group(const Collection& collection, bson::DocumentView keys, const std::optional<bson::Document>& projection,
                        int32_t batch, const std::function<void(int64_t)>& progress,
                        const std::function<void(std::vector<bson::Document>&)>& fn);
// The groups of two or more, read with _id, the keys and `fields`.
void for_each_duplicate_group(const Collection& collection, bson::DocumentView keys, const std::vector<std::string>& fields,
                              int32_t batch, const std::function<void(int64_t)>& progress,
                              const std::function<void(std::vector<bson::Document>&)>& fn);

// An index as listIndexes describes it, ready to create again (keys and options).
IndexModel index_model_from_spec(bson::DocumentView spec);

// Whether the collection has an index with exactly these keys; its specification if so.
std::optional<bson::Document> index_with_keys(const Collection& collection, bson::DocumentView keys);

}  // namespace mongo_orm::migrate::detail
