// Applies and reverts the migrations of a registry on a database, one runner at a time (the
// lease lock), recording every run in the changelog. Everything that can be refused is refused
// before anything is written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/migrate/changelog.hpp"
#include "mongo_orm/migrate/lock.hpp"
#include "mongo_orm/migrate/registry.hpp"

namespace mongo_orm::migrate {

struct RunnerOptions {
  std::string changelog_collection = Changelog::default_collection;
  LockOptions lock{};
};

enum class MigrationStatus { pending, applied, failed };

struct StatusRow {
  std::string version;
  std::string description;
  MigrationStatus status = MigrationStatus::pending;
  bool reversible = false;
  bool drifted = false;                // applied with a checksum other than the definition's
  std::optional<ChangelogEntry> last{};  // the latest run
};

// A definition that no longer matches what was applied.
struct Drift {
  std::string version;
  std::string applied_checksum;
  std::string current_checksum;  // empty: the applied version is not in the registry any more
};

// Which migrations a down reverts, newest first.
struct DownTarget {
  std::optional<std::string> to{};  // revert everything applied after this version
  std::optional<int> steps{};       // revert this many
  bool all = false;               // revert everything
};

struct RunReport {
  std::vector<std::string> versions;  // in the order they ran
};

class Runner {
 public:
  Runner(Database database, const Registry& registry, RunnerOptions options = {});

  std::vector<StatusRow> status() const;
  std::vector<ChangelogEntry> history() const { return changelog_.history(); }
  // Applied migrations whose definition changed since, and applied versions no longer known.
  std::vector<Drift> validate() const;

  // Applies pending migrations in order, up to and including `to`. Refuses drift first. A
  // failing migration is recorded as failed with its error and stops the run (MigrationError);
  // the next up starts again at it.
  RunReport up(const std::optional<std::string>& to = std::nullopt);
  // Reverts applied migrations, newest first. Refuses, touching nothing, when one of them is
  // irreversible or no longer in the registry.
  RunReport down(const DownTarget& target);
  // Records migrations up to and including `version` as applied without running them, for a
  // database that already has their effects (adopting an existing database).
  RunReport baseline(const std::string& version);

 private:
  std::vector<const Migration*> applied_in_order(const std::map<std::string, VersionState>& state) const;
  void run(const Migration& migration, Direction direction, LeaseLock& lock) const;

  Database database_;
  const Registry& registry_;
  RunnerOptions options_;
  Changelog changelog_;
};

}  // namespace mongo_orm::migrate
