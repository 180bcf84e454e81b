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
  BatchOptions batch{};         // how client-side operations read and write
  ProgressCallback progress{};  // called as operations advance
  // On servers with transactions, a migration made of steps that may run in one, and that its
  // plan says touches at most this many documents, runs inside a single transaction (0: never).
  int64_t transaction_limit = 10'000;
  // On a server without transactions, run the migrations that would fit one through the
  // transactional code path anyway (Client::rehearse_transaction): the same session-bound
  // handles and the same checks that nothing leaves the session, but nothing is atomic and
  // nothing is checkpointed. For tests of migrations written for transactions; never in
  // production. Recorded with in_transaction false.
  bool rehearse_transactions = false;
};

// running: its latest run has not finished and its runner holds the lock; interrupted: its
// latest run has not finished and no runner holds the lock under that run's token (killed, or
// its host lost): the next run of the same direction resumes it.
enum class MigrationStatus { pending, applied, failed, running, interrupted };

struct StatusRow {
  std::string version;
  std::string description;
  MigrationStatus status = MigrationStatus::pending;
  bool reversible = false;
  bool drifted = false;                // applied with a checksum other than the definition's
  std::optional<ChangelogEntry> last{};  // the latest run
  // For a running, interrupted or failed run: how far it got, from its checkpoints
  // ("1 of 2 steps finished; 500 documents processed in the current one").
  std::string progress{};
  bool defined = true;  // false: in the changelog, no longer registered (its file deleted)
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
  std::vector<ChangelogEntry> runs;   // their records as finished, in the same order
};

// One preflight check: what was checked, whether it passed, and what was found.
struct PreflightCheck {
  std::string name;
  bool ok = true;
  std::string detail{};
};

// What `up` (or `down`) would do to one migration.
struct PlannedMigration {
  std::string version;
  std::string description;
  Direction direction = Direction::up;
  std::vector<Estimate> operations{};      // per operation: documents, batches, conflicts, notes
  std::vector<std::string> irreversible{}; // steps that could not be undone afterwards
  bool runs_code = false;                  // an up function: only the operations it applies are counted
  bool in_transaction = false;             // it would run inside one transaction (see RunnerOptions)
  std::string error{};                     // the dry run itself failed
  // The migration's own code wrote directly (not through apply): the write was refused, as
  // every write of a dry run is, so what follows it in that code is not counted. Names the call.
  std::string uncounted{};
  // What else a reader of the plan must know: the undo of an up that stopped part way, a down
  // that stopped part way being finished, counts taken before such a down is finished.
  std::vector<std::string> notes{};
};

// A dry run: nothing is written and no lock is taken (the handles a migration's code receives
// refuse every write). The counts are taken from the data as it
// is now, so a step that depends on an earlier pending step is counted before that step.
struct Plan {
  std::vector<PlannedMigration> migrations;
  std::vector<PreflightCheck> checks;           // preflight
  std::vector<std::string> problems;   // conflicts, failed checks, drift: what would block it

  bool pending() const noexcept { return !migrations.empty(); }
  // 0: nothing to do; 1: work is pending; 2: there is a problem.
  int exit_code() const noexcept { return !problems.empty() ? 2 : pending() ? 1 : 0; }
};

class Runner {
 public:
  // The runner refers to the registry, which must outlive it.
  Runner(Database database, const Registry& registry, RunnerOptions options = {});
  Runner(Database database, Registry&& registry, RunnerOptions options = {}) = delete;

  // One migration a command runs, and which way. `steps` (down only): revert just the first that
  // many steps, newest first. `partial`: the down undoes what an up that stopped part way did.
  struct Scheduled {
    const Migration* migration;
    Direction direction;
    std::optional<std::size_t> steps{};
    bool partial = false;
  };

  std::vector<StatusRow> status() const;
  std::vector<ChangelogEntry> history() const { return changelog_.history(); }
  // Applied migrations whose definition changed since, and applied versions no longer known.
  std::vector<Drift> validate() const;

  // Applies pending migrations in order, up to and including `to`. Refuses drift first. A
  // failing migration is recorded as failed with its error and stops the run (MigrationError);
  // the next up starts again at it. A down left stopped part way in that range is finished
  // first (from its checkpoints), then its migration goes up again.
  RunReport up(const std::optional<std::string>& to = std::nullopt);
  // Reverts applied migrations, newest first. Refuses, touching nothing, when one of them is
  // irreversible or no longer in the registry. A down left stopped part way is finished; what
  // an up that stopped part way did is undone (or refused, touching nothing, as undo_failed
  // refuses, saying how to finish it).
  RunReport down(const DownTarget& target);
  // Undoes what the last, failed or interrupted, up of `version` changed before it stopped: the
  // steps it finished and the one it was in, reverted newest first from their backups, recorded
  // as a down; the version is then pending. Refused, touching nothing, when that run is not a
  // failed or interrupted up, ran in a transaction (rolled back already), ran the migration's
  // own code (what it changed is unknown), was made from another definition, or reached a
  // step that cannot be undone.
  RunReport undo_failed(const std::string& version);
  // Records migrations up to and including `version` as applied without running them, for a
  // database that already has their effects (adopting an existing database).
  RunReport baseline(const std::string& version);

  // What up would do, without doing it: counts, conflicts, irreversible steps, batches, and
  // the preflight checks.
  Plan plan(const std::optional<std::string>& to = std::nullopt) const;
  // What down would do.
  Plan plan_down(const DownTarget& target) const;
  // Connectivity, dependencies, drift, free space for the copies the migrations make, and, for
  // a down, the backups its undo needs.
  std::vector<PreflightCheck> preflight(const std::vector<const Migration*>& migrations, Direction direction) const;

 private:
  using State = std::map<std::string, VersionState>;
  // The same, from a state already read (one read of the changelog serves a whole command).
  std::vector<Drift> validate(const State& state) const;
  std::vector<PreflightCheck> preflight(const std::vector<Scheduled>& work, const State& state) const;
  // What up runs: first the downs left stopped part way in its range, finished newest first
  // (their versions then go up again), then the pending migrations up to `to`, in order.
  std::vector<Scheduled> to_apply(const std::optional<std::string>& to, const State& state) const;
  // What down runs, newest first: applied migrations, a down left stopped part way (finished), and
  // the partial work of an up that stopped part way (undone, as undo_failed does).
  std::vector<Scheduled> to_revert(const DownTarget& target, const State& state) const;
  // `steps` (down only): revert just the first that many steps, newest first.
  // `state`: the changelog as read under the lock at the start of the command (a run changes
  // only its own version's state).
  // Returns the finished record.
  ChangelogEntry run(const Migration& migration, Direction direction, LeaseLock& lock, const State& state,
                     std::optional<std::size_t> steps = std::nullopt) const;
  // Whether the migration may run in a transaction at all: the server has them (or the runner
  // rehearses), the limit is not 0, and every step may run in one.
  bool may_use_transaction(const Migration& migration, Direction direction) const;
  // ... and whether its plan, `estimates`, stays within the limit.
  bool fits_in_transaction(const Migration& migration, Direction direction, const std::vector<Estimate>& estimates) const;
  // When `lock` was taken over at once from a runner whose process is gone, with a run of it
  // left 'running': waits until the server has surely finished the last command that process
  // sent (a killed client's command runs on), so that nothing it wrote lands after this runner
  // undoes or redoes it. The bound: three times the statements of one command at the cost of
  // one update by _id measured now on the collections it touched (500 ms at least, one lease at
  // most), said through the lock's notice.
  void settle(const LeaseLock& lock, const State& state) const;
  // Refuses, before the lock is taken and anything written, what needs only the registry: a
  // missing dependency, a cycle, a step on this runner's changelog or lock collection.
  void refuse_before_lock() const;
  // The collections no migration may touch, with what each is.
  ProtectedCollections own_collections() const;
  // Runs each in turn (see run); what they did.
  RunReport run_all(const std::vector<Scheduled>& work, LeaseLock& lock, const State& state) const;
  static void execute(const Migration& migration, Direction direction, MigrationContext& context,
                      std::optional<std::size_t> steps = std::nullopt);
  void refuse_failed_checks(const std::vector<PreflightCheck>& checks, std::string_view what) const;
  Plan make_plan(const std::vector<Scheduled>& work, const State& state) const;

  Database database_;
  const Registry& registry_;
  RunnerOptions options_;
  Changelog changelog_;
};

}  // namespace mongo_orm::migrate
