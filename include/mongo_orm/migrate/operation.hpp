// One step of a migration: a built-in operation (add_field, rename_field, convert_type, ...)
// that can say what it would touch (plan), apply itself, and undo itself. The undo is derived
// from the operation, or from the backup the operation keeps of what it overwrites or removes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/driver/capabilities.hpp"
#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::migrate {

// An operation declined to start because of what it found (a target that exists, fields it
// would overwrite, duplicates under a unique index): it wrote nothing. A run refused by its
// first step is recorded as refused, not failed.
class OperationRefused : public MigrationError {
 public:
  using MigrationError::MigrationError;
};

// How far an operation has got; `total` is -1 when unknown.
struct Progress {
  std::string operation;
  int64_t done = 0;
  int64_t total = -1;
  std::chrono::steady_clock::duration elapsed{};

  double rate() const noexcept;                              // documents per second so far
  std::optional<std::chrono::seconds> eta() const noexcept;  // remaining time at that rate
};
using ProgressCallback = std::function<void(const Progress&)>;

// How client-side operations read and write: one cursor in _id order, unordered bulk writes of
// `size` statements, at most `max_per_second` documents a second (0: no limit), and a pause
// after every batch. A read or a batch that fails with a transient error (the network, a
// server that is not primary, a timeout) is tried again up to `retries` times, waiting
// `retry_delay`, doubled each time (at most 5 s); any other error stops the operation.
struct BatchOptions {
  int32_t size = 1000;
  double max_per_second = 0;
  std::chrono::milliseconds pause{0};
  int32_t retries = 5;
  std::chrono::milliseconds retry_delay{200};
};

// Whether an error is worth trying again: a lost or refused connection, or a server error
// with a transient code or label (FerretDB stopping: code 1, "context canceled", as MongoDB's
// InterruptedAtShutdown).
bool is_transient(const std::exception& error) noexcept;

// What one operation did (recorded in the changelog) or, in a plan, would do.
struct OperationStats {
  std::string operation{};
  int64_t matched = 0;      // documents the operation selected
  int64_t modified = 0;     // documents it changed
  int64_t backed_up = 0;    // documents copied to its backup collection first
  int64_t quarantined = 0;  // documents moved to a quarantine collection
  int64_t skipped = 0;      // documents left as they were (values that do not convert)
};

// What a plan reports for one operation.
struct Estimate {
  std::string operation{};
  int64_t documents = 0;  // documents it would touch
  int64_t batches = 0;    // round trips of writes it would send
  std::vector<std::string> conflicts{};  // problems that would make it fail: the plan refuses
  std::vector<std::string> notes{};      // what it would do besides (quarantine, backups)
  int64_t failures = 0;                  // values it cannot change as asked (convert_type: that do not convert)
  bool reversible = true;
};

class Operation;
class CheckpointLog;

// "_mongo_orm_backup__<version>__<operation name>", characters outside [A-Za-z0-9_-] as _: where
// an operation of a migration keeps what it overwrites or removes.
std::string backup_collection_name(std::string_view version, std::string_view operation);

// Catalog changes a step inside a transaction leaves for after the commit (dropping a backup it
// restored from): run in order once the transaction has committed; an aborted transaction runs
// none, so its backups stay.
using AfterCommit = std::vector<std::function<void()>>;

// Where an operation runs.
struct StepContext {
  const Database& database;
  const Capabilities& capabilities;
  std::string migration;  // the version, which names the backups
  BatchOptions batch{};
  ProgressCallback progress{};
  // Where batched loops save their checkpoints (none: they run without, as in a dry run or a
  // transaction).
  CheckpointLog* checkpoints{};
  // Where drops of what a step leaves behind for good (its backup, an emptied quarantine) go,
  // to be made once the step is recorded as done (inside a transaction: after the commit, as a
  // drop cannot be part of it). None: made at once.
  AfterCommit* after_commit{};

  // The collection where `operation` keeps what it overwrites or removes in this migration.
  std::string backup_collection(const Operation& operation) const;
};

class Operation {
 public:
  virtual ~Operation() = default;

  // "add_field users.status": names the operation, its collection and fields.
  virtual std::string name() const = 0;
  // Counts what apply would touch and finds what would make it fail; writes nothing.
  virtual Estimate estimate(const StepContext& context) const = 0;
  // Makes the change. Safe to run again after a failure part way: it picks up the documents
  // not yet changed.
  virtual OperationStats apply(const StepContext& context) const = 0;
  // Undoes apply. Only called when reversible().
  virtual OperationStats revert(const StepContext& context) const = 0;
  virtual bool reversible() const { return true; }
  // Whether undo needs what apply kept in the backup collection (values it overwrote, documents
  // it recorded): a migration recorded by baseline, whose steps never ran, cannot undo such a
  // step. False only where undo needs nothing from the run (a rename back, a given inverse).
  virtual bool undo_needs_backup() const { return true; }
  // The collection it changes (for a copy: the source it reads).
  virtual std::string collection() const = 0;
  // Every collection it writes or reads (a rename or a copy: both; a quarantine too).
  virtual std::vector<std::string> collections() const { return {collection()}; }
  // Whether apply writes copies of documents (backups, quarantine, a copied collection), so
  // that preflight checks free space for up to the collection's size.
  virtual bool copies_documents() const { return false; }
  // Whether it may run inside a multi-document transaction: it reads and writes documents only
  // (through the context's database), reads no catalog (listIndexes, listCollections, the count
  // command) and changes none, but for dropping its backup on undo, which it leaves to
  // `after_commit`. Index and collection changes may not.
  virtual bool transactional() const { return true; }
};

// A step of a migration; shared so that migrations copy cheaply.
using Step = std::shared_ptr<const Operation>;

// `step` with a user-given undo: reverting runs `inverse` forwards.
Step with_inverse(Step step, Step inverse);

}  // namespace mongo_orm::migrate
