// The built-in operations of a migration. Each one knows how to estimate, apply and undo
// itself; what cannot be derived from the operation (removed values, overwritten values,
// documents set aside) is kept in a backup or quarantine collection first, so that `down`
// restores the documents exactly.
//
//   Migration m{.version = "2023.01.001", .description = "Add status field to users",
//               .steps = {ops::add_field("users", "status", bson::make_value("active")),
//                         ops::create_index("users", bson::from_json(R"({"status": 1})"))}};
//
// Filters are documents the caller writes, never built from end-user input.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/bson/types.hpp"
#include "mongo_orm/migrate/operation.hpp"

namespace mongo_orm::migrate::ops {

// Sets `path` to `value` on the documents matching `filter` that lack it; uses one server-side
// update. Undo removes the value again, except from documents that already had that value
// before (they are recorded in the backup).
Step add_field(std::string collection, std::string path, bson::Value value, bson::Document filter = {});

// Removes `path` from the documents matching `filter`, after copying those documents to the
// backup collection; undo puts the values back.
Step remove_field(std::string collection, std::string path, bson::Document filter = {});

// Renames `from` to `to` where `from` exists (server-side $rename). The plan and apply refuse
// when documents hold both fields, since the rename would overwrite `to`. Undo renames back.
Step rename_field(std::string collection, std::string from, std::string to);

// Sets the fields of `values` ({"is_active": true}) on the documents matching `filter`, after
// backing them up; undo restores every set field to its old value (or removes it).
Step set_fields(std::string collection, bson::Document filter, bson::Document values);

// Creates an index (options: the createIndexes fields: unique, name, ...). The plan reports
// documents that break a unique index as conflicts. Undo drops it, unless it existed before.
Step create_index(std::string collection, bson::Document keys, bson::Document options = {});
// Drops an index, recording its exact specification; undo recreates it.
Step drop_index(std::string collection, std::string name);

// Renames a collection; refused when the target exists. Undo renames it back.
Step rename_collection(std::string from, std::string to);

// Sets `_cls` to `new_class` on the documents matching `filter` and removes `remove_fields`
// (seed 002's Jedi -> GoodJedi / BadSith), after backing them up; undo restores both.
Step remap_class(std::string collection, bson::Document filter, std::string new_class,
                 std::vector<std::string> remove_fields = {});

// What convert_type does with a value that does not convert.
enum class OnConversionFailure {
  leave,           // keep the value as it is (reported)
  set_default,     // store ConvertOptions::default_value instead
  quarantine,      // move the document to the quarantine collection
};

struct ConvertOptions {
  OnConversionFailure on_failure = OnConversionFailure::leave;
  std::optional<bson::Value> default_value{};  // for set_default
  std::string quarantine_collection{};         // default: "<collection>_quarantine"
  bson::Document filter{};                     // limits the documents considered
};

// Converts `path` to `target` (int32, int64, double, string, boolean, date_time) where it holds
// another type. A null is a value that does not convert (on_failure applies); a document
// without the field is left as it is, and plan names it. Strings convert to numbers only when they are a whole decimal number (spaces
// around allowed) in range; doubles to integers only when integral; booleans from
// true/false/1/0. Undo restores the original values from the backup and brings quarantined
// documents back.
Step convert_type(std::string collection, std::string path, bson::Type target, ConvertOptions options = {});

struct NormalizeOptions {
  bool lowercase = true;
  bool trim = true;
  // Back up the documents whose value changes, which makes the operation reversible.
  bool keep_backup = false;
};
// Lowercases and trims the string at `path` (seed 000 NormalizeEmails). Irreversible unless
// keep_backup. Uses a server-side pipeline update where the server has one and no backup is
// kept.
Step normalize_string(std::string collection, std::string path, NormalizeOptions options = {});

// Splits the string `from` at the first `separator` into `first` and `second` (the rest, or ""
// when there is no separator), removing `from` (seed 000 SplitNameField). Values that merging
// would not give back exactly ("Cher ", a trailing separator) are backed up, so undo restores
// every original exactly.
Step split_field(std::string collection, std::string from, std::string first, std::string second,
                 std::string separator = " ");
// The opposite: `into` = first + separator + second (just first when second is empty),
// removing both; undo splits again, exactly.
Step merge_fields(std::string collection, std::string first, std::string second, std::string into,
                  std::string separator = " ");

// Which document of a group of duplicates dedupe_for_unique keeps.
enum class Keep {
  first,    // the smallest _id (for ObjectIds: the oldest)
  last,     // the largest _id
  highest,  // the largest value of DedupeOptions::by (updated_at, version, ...)
  lowest,   // the smallest value of DedupeOptions::by
};

// How an operation that changes many documents of a collection (transform, dedupe_for_unique)
// writes.
//  - in_place: bulk writes by _id to the documents themselves. The collection stays online
//    throughout; this is the path on servers whose writes by _id use the index.
//  - rewrite: the documents to keep, changed, go to a new collection ("_mongo_orm_rewrite__
//    <version>__<operation>", in batches, with the source's indexes), which is then swapped in
//    by two renames; the original collection is kept whole as the backup, so the step is always
//    reversible. Its cost grows with the collection, not its square, on servers that scan for
//    every write by _id (FerretDB). The application must not write to the collection while it
//    runs: before the swap the document counts are compared, and a change refuses the swap.
//  - automatic: rewrite where writes by _id scan the collection
//    (Capabilities::indexed_id_updates false); in_place otherwise.
enum class TransformStrategy { automatic, in_place, rewrite };

struct DedupeOptions {
  Keep keep = Keep::first;
  std::string by{};                     // for highest / lowest
  std::string quarantine_collection{};  // default: "<collection>_quarantine"
  std::string index_name{};             // default: the server's name for the keys
  TransformStrategy strategy = TransformStrategy::automatic;
};
// Moves every duplicate under `keys` ({"email": 1}) but one to the quarantine collection (never
// just deletes), then creates the unique index (seed 000 "Index conflicts"). Undo drops the
// index and brings the quarantined documents back. Under the rewrite strategy the duplicates
// are recorded in the quarantine and left out of the new collection, which is swapped in with
// the unique index; undo puts the original collection back.
Step dedupe_for_unique(std::string collection, bson::Document keys, DedupeOptions options = {});

// A per-document function: the new document, or nothing to skip it.
using DocumentTransform = std::function<std::optional<bson::Document>(bson::DocumentView)>;

// What copy_collection does with a copy whose _id the target already holds (a document the
// copy did not put there).
enum class OnCollision {
  refuse,  // the default: refused (OperationRefused) before anything is written, naming the _ids
  skip,    // the target's document stays; each one is counted as skipped and named by plan
  // the copy replaces the target's document, which is kept first in the operation's backup
  // collection; undo puts it back
  overwrite,
};

// Copies `source` into `target` through `transform` (none: as they are), in batches (seed 000
// DataMigrator). A transformed document without an _id takes the source's, so running again
// after a failure copies nothing twice. `label` names the transform in the changelog and the
// checksum. The operation's backup collection records, before the target is written, {_id}
// for each copy it inserts and {_id, original} for each target document it replaces; undo
// deletes exactly the former and puts back the latter. Plan counts the collisions exactly,
// with example _ids; a refused collision is a plan conflict.
Step copy_collection(std::string source, std::string target, DocumentTransform transform = {},
                     std::string label = {}, OnCollision on_collision = OnCollision::refuse);

// A per-document change: an update document ({"$set": ...}), or nothing to leave it.
using UpdateTransform = std::function<std::optional<bson::Document>(bson::DocumentView)>;

// How transform writes: see TransformStrategy. Updates may use $set, $unset and $inc under the
// rewrite; it is automatic's choice only when the filter is empty.

struct TransformOptions {
  std::string label{};  // names the transform in the changelog and the checksum
  // Back up every document before changing it in place, which makes the operation reversible
  // (undo puts the whole documents back). Only needed with the in_place strategy: automatic
  // always backs up, and rewrite keeps the original collection.
  bool backup = false;
  TransformStrategy strategy = TransformStrategy::automatic;
};
// Applies `change` to every document matching `filter`, with bulk writes of the batch size,
// never one round trip per document (seed 000 "Performance issues"). Applied exactly once per
// document, also when a run is killed and resumed (see checkpoint.hpp): `change` must give the
// same update for the same document.
Step transform(std::string collection, bson::Document filter, UpdateTransform change, TransformOptions options = {});

}  // namespace mongo_orm::migrate::ops
