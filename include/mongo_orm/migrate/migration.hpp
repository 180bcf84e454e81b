// A versioned migration: what it changes (up), how to undo it (down), what it needs first.
// Written either as a list of built-in operations (steps), whose undo is derived, or as C++
// functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mongo_orm/driver/capabilities.hpp"
#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/migrate/evidence.hpp"
#include "mongo_orm/migrate/operation.hpp"

namespace mongo_orm::migrate {

// What a migration's up and down receive.
// Collections no migration may touch, each with what it is ("this runner's changelog").
using ProtectedCollections = std::vector<std::pair<std::string, std::string>>;

// Refuses (MigrationError, naming the operation and the collection) an operation that touches
// one of `collections`.
void refuse_protected(const Operation& operation, const ProtectedCollections& collections);

class MigrationContext {
 public:
  // With `checkpoints`, a step an interrupted run finished is not applied again, and batched
  // loops resume after their last finished batch.
  // With `after_commit` (inside a transaction), catalog changes the steps leave for after the
  // commit are collected there.
  MigrationContext(const Database& database, const Capabilities& capabilities, std::string version, bool dry_run,
                   BatchOptions batch = {}, ProgressCallback progress = {}, CheckpointLog* checkpoints = nullptr,
                   AfterCommit* after_commit = nullptr);

  // In a dry run, a handle that refuses every write (ReadOnlyError naming the call): a plan
  // never writes, whatever the migration's code does. Built-in operations applied through
  // apply() are estimated instead; code of its own should check dry_run and skip its writes.
  const Database database;
  const Capabilities& capabilities;
  const bool dry_run;  // report what would change, change nothing

  // Applies a built-in operation (in a dry run: estimates it), recording what it did.
  void apply(const Operation& operation);
  // Undoes a built-in operation applied by the same migration (in a dry run: estimates it).
  void revert(const Operation& operation);
  // From now on refuses (MigrationError, before anything is written) a step that touches one of
  // `collections`.
  void protect(ProtectedCollections collections);
  // Reports progress of the migration's own work.
  void report(const Progress& progress) const;

  const std::vector<OperationStats>& operations() const noexcept { return operations_; }
  const std::vector<Estimate>& estimates() const noexcept { return estimates_; }
  StepContext step_context() const;

 private:
  // Runs one step of `operation` through `run`, skipping it when an interrupted run finished it.
  template <class Run>
  void checkpointed(const Operation& operation, const std::string& name, Run&& run);

  std::string version_;
  BatchOptions batch_;
  ProgressCallback progress_;
  CheckpointLog* checkpoints_;
  AfterCommit* after_commit_;
  std::vector<OperationStats> operations_;
  std::vector<Estimate> estimates_;
  ProtectedCollections protected_;
};

struct Migration {
  std::string version;                  // sortable: "2023.01.001" (see compare_versions)
  std::string description;
  std::vector<std::string> depends_on{};  // versions that must be applied first
  // Either steps (built-in operations, applied in order and reverted in reverse order) ...
  std::vector<Step> steps{};
  // ... or functions. A down given here replaces the derived undo of the steps.
  std::function<void(MigrationContext&)> up{};
  std::function<void(MigrationContext&)> down{};  // empty (and no steps): cannot be undone
  bool irreversible = false;                    // refuses down even when one is given
  // Identifies the definition in the changelog: a file's contents for file migrations, a
  // string the author changes when a C++ migration's behaviour changes. The names of the
  // steps are part of the checksum already.
  std::string fingerprint{};
  // The counts a generated migration was reviewed with: counted again before it goes up, which
  // is refused when one moved past the tolerance (see evidence.hpp).
  Evidence evidence{};

  bool reversible() const noexcept;
  // The steps that cannot be undone (none when a down is given).
  std::vector<std::string> irreversible_steps() const;
};

// Orders versions segment by segment ("2023.01.9" < "2023.01.010"): segments of digits
// compare as numbers, others as text, and a version that is a prefix of another sorts first.
int compare_versions(std::string_view a, std::string_view b) noexcept;

}  // namespace mongo_orm::migrate
