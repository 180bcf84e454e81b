// The append-only record of every migration run: one entry per run of each migration, never
// deleted (a down adds a run, it does not erase the up). Current state is derived from it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/migrate/lock.hpp"
#include "mongo_orm/migrate/migration.hpp"
#include "mongo_orm/model/schema.hpp"
#include "mongo_orm/model/tracked.hpp"
#include "mongo_orm/model/typed_collection.hpp"

namespace mongo_orm::migrate {

enum class Direction { up, down };
// refused: its first step declined to start (OperationRefused), so nothing was written.
enum class RunStatus { running, applied, failed, rolled_back, refused };

constexpr auto enum_values(model::EnumTag<Direction>) {
  return std::array{std::pair{Direction::up, "up"}, std::pair{Direction::down, "down"}};
}
constexpr auto enum_values(model::EnumTag<RunStatus>) {
  return std::array{std::pair{RunStatus::running, "running"}, std::pair{RunStatus::applied, "applied"},
                    std::pair{RunStatus::failed, "failed"}, std::pair{RunStatus::rolled_back, "rolled back"},
                    std::pair{RunStatus::refused, "refused"}};
}

// The stored names: "up", "down"; "running", "applied", "failed", "rolled back", "refused".
std::string_view to_string(Direction direction) noexcept;
std::string_view to_string(RunStatus status) noexcept;

inline auto define_schema(model::SchemaTag<OperationStats>) {
  return model::schema<OperationStats>()
      .field(&OperationStats::operation, "operation")
      .field(&OperationStats::matched, "matched")
      .field(&OperationStats::modified, "modified")
      .field(&OperationStats::backed_up, "backed_up")
      .field(&OperationStats::quarantined, "quarantined")
      .field(&OperationStats::skipped, "skipped");
}

struct ChangelogEntry {
  bson::ObjectId id;
  // The run's place in the changelog: one more than the highest before it, taken under the
  // lease lock, so runs order by it across processes and hosts (an ObjectId _id only orders by
  // the second it was made). 0 for runs recorded before it existed: they order by _id, first.
  int64_t sequence = 0;
  std::string version;
  std::string description;
  std::string checksum;
  Direction direction = Direction::up;
  RunStatus status = RunStatus::running;
  std::chrono::system_clock::time_point started_at{};
  std::optional<std::chrono::system_clock::time_point> ended_at{};
  int64_t duration_ms = 0;
  std::string host;
  int64_t pid = 0;
  std::string error;
  std::vector<OperationStats> operations;
  int64_t lock_token = 0;
  bool in_transaction = false;  // the migration's writes ran inside one transaction
  bool baseline = false;        // recorded as applied by baseline: its steps never ran here
  // A down that reverts only the first that many steps, newest first: the undo of an up that
  // stopped part way (its later steps never began). Unset: every step.
  std::optional<int64_t> undone_steps{};
  // Where its steps and batched loops got to (see checkpoint.hpp), carried over from the
  // interrupted run it resumes.
  bson::Document checkpoints{};
};
inline auto define_schema(model::SchemaTag<ChangelogEntry>) {
  return model::schema<ChangelogEntry>()
      .id(&ChangelogEntry::id)
      .field(&ChangelogEntry::sequence, "sequence")
      .field(&ChangelogEntry::version, "version")
      .field(&ChangelogEntry::description, "description")
      .field(&ChangelogEntry::checksum, "checksum")
      .field(&ChangelogEntry::direction, "direction")
      .field(&ChangelogEntry::status, "status")
      .field(&ChangelogEntry::started_at, "started_at")
      .field(&ChangelogEntry::ended_at, "ended_at")
      .field(&ChangelogEntry::duration_ms, "duration_ms")
      .field(&ChangelogEntry::host, "host")
      .field(&ChangelogEntry::pid, "pid")
      .field(&ChangelogEntry::error, "error")
      .field(&ChangelogEntry::operations, "operations")
      .field(&ChangelogEntry::lock_token, "lock_token")
      .field(&ChangelogEntry::in_transaction, "in_transaction")
      .field(&ChangelogEntry::baseline, "baseline")
      .field(&ChangelogEntry::undone_steps, "undone_steps")
      .field(&ChangelogEntry::checkpoints, "checkpoints");
}

// Where a version stands, from its runs.
struct VersionState {
  bool applied = false;                 // the last finished run was a successful up
  std::optional<ChangelogEntry> last{};  // the latest run, finished or not
  std::string applied_checksum;         // checksum of the run that applied it
  std::vector<OperationStats> applied_operations{};  // what the run that applied it did
  bool baseline = false;  // it was applied by baseline: no run of its steps kept backups here
};

// A stable fingerprint of a migration's definition (FNV-1a 64 over version, description and
// fingerprint), so that a changed definition is seen as drift.
std::string checksum_of(const Migration& migration);

class Changelog {
 public:
  static constexpr const char* default_collection = "_mongo_orm_migrations";

  explicit Changelog(const Database& database, const std::string& collection = default_collection)
      : entries_(database, collection) {}

  // Records the start of a run (status running). Confirms the lock first: a runner that lost
  // it writes nothing (LockLostError).
  // `checkpoints`: those of the interrupted run this one resumes; `undone_steps`: see the entry.
  model::Tracked<ChangelogEntry> begin(const Migration& migration, Direction direction, LeaseLock& lock,
                                       bson::Document checkpoints = {},
                                       std::optional<int64_t> undone_steps = std::nullopt) const;
  // Saves one checkpoint into a running run's record. Confirms the lock first.
  void save_checkpoint(const ChangelogEntry& entry, const std::string& key, const bson::Document& checkpoint,
                       LeaseLock& lock) const;
  // Records how the run ended, with the error text of a failure and what each operation did.
  void finish(model::Tracked<ChangelogEntry>& entry, RunStatus status, const std::string& error,
              std::vector<OperationStats> operations, LeaseLock& lock) const;

  // Every run, oldest first (by sequence).
  std::vector<ChangelogEntry> history() const;
  // The state of every version that has runs.
  std::map<std::string, VersionState> state() const;

  const Collection& raw() const noexcept { return entries_.raw(); }

 private:
  int64_t last_sequence() const;

  model::TypedCollection<ChangelogEntry> entries_;
};

}  // namespace mongo_orm::migrate
