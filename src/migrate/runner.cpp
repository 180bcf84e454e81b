// Running migrations: ordering, refusals, the lock, the changelog.
#include "mongo_orm/migrate/runner.hpp"

#include <algorithm>

namespace mongo_orm::migrate {

Runner::Runner(Database database, const Registry& registry, RunnerOptions options)
    : database_(std::move(database)),
      registry_(registry),
      options_(std::move(options)),
      changelog_(database_, options_.changelog_collection) {}

std::vector<StatusRow> Runner::status() const {
  auto state = changelog_.state();
  std::vector<StatusRow> rows;
  for (const Migration* m : registry_.ordered()) {
    StatusRow row{m->version, m->description, MigrationStatus::pending, m->reversible(), false, std::nullopt};
    if (auto it = state.find(m->version); it != state.end()) {
      row.last = it->second.last;
      if (it->second.applied) {
        row.status = MigrationStatus::applied;
        row.drifted = it->second.applied_checksum != checksum_of(*m);
      } else if (row.last && row.last->status == RunStatus::failed) {
        row.status = MigrationStatus::failed;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<Drift> Runner::validate() const {
  std::vector<Drift> drifts;
  for (const auto& [version, state] : changelog_.state()) {
    if (!state.applied) continue;
    const Migration* m = registry_.find(version);
    std::string current = m ? checksum_of(*m) : std::string();
    if (current != state.applied_checksum) drifts.push_back({version, state.applied_checksum, current});
  }
  return drifts;
}

std::vector<const Migration*> Runner::applied_in_order(const std::map<std::string, VersionState>& state) const {
  std::vector<const Migration*> applied;
  for (const Migration* m : registry_.ordered()) {
    if (auto it = state.find(m->version); it != state.end() && it->second.applied) applied.push_back(m);
  }
  return applied;
}

void Runner::run(const Migration& migration, Direction direction, LeaseLock& lock) const {
  auto entry = changelog_.begin(migration, direction, lock);
  MigrationContext context{database_, database_.client().capabilities(), false};
  try {
    (direction == Direction::up ? migration.up : migration.down)(context);
  } catch (const LockLostError&) {
    throw;  // nothing more may be written, not even the failure
  } catch (const std::exception& e) {
    changelog_.finish(entry, RunStatus::failed, e.what(), {}, lock);
    throw MigrationError("migration " + migration.version + " (" + migration.description + ") failed while going " +
                         (direction == Direction::up ? "up" : "down") + ": " + e.what() +
                         "; it is recorded as failed and the next run starts again at it");
  }
  changelog_.finish(entry, direction == Direction::up ? RunStatus::applied : RunStatus::rolled_back, "", {}, lock);
}

RunReport Runner::up(const std::optional<std::string>& to) {
  std::vector<const Migration*> order = registry_.ordered();
  if (to && !registry_.find(*to)) throw MigrationError("unknown target version " + *to);
  auto lock = LeaseLock::acquire(database_, options_.lock);

  // Decided under the lock, so two runners never apply the same migration.
  auto drifts = validate();
  if (!drifts.empty()) {
    std::string text = "refusing to run: applied migrations differ from their definitions (run validate):";
    for (const Drift& d : drifts) {
      text += " " + d.version + (d.current_checksum.empty() ? " is no longer defined;" : " changed;");
    }
    text.pop_back();
    throw MigrationError(text);
  }
  auto state = changelog_.state();
  RunReport report;
  for (const Migration* m : order) {
    bool applied = state.contains(m->version) && state[m->version].applied;
    if (!applied) {
      run(*m, Direction::up, *lock);
      report.versions.push_back(m->version);
    }
    if (to && m->version == *to) break;
  }
  return report;
}

RunReport Runner::down(const DownTarget& target) {
  if (!target.all && !target.to && !target.steps) {
    throw MigrationError("down needs a target: a version to go back to, a number of steps, or all");
  }
  std::vector<const Migration*> order = registry_.ordered();
  if (target.to && !registry_.find(*target.to)) throw MigrationError("unknown target version " + *target.to);
  auto lock = LeaseLock::acquire(database_, options_.lock);
  auto state = changelog_.state();

  for (const auto& [version, s] : state) {
    if (s.applied && !registry_.find(version)) {
      throw MigrationError("refusing to go down: applied migration " + version +
                           " is not in the registry, so it cannot be reverted");
    }
  }
  std::vector<const Migration*> applied = applied_in_order(state);
  std::reverse(applied.begin(), applied.end());
  std::vector<const Migration*> chosen;
  for (const Migration* m : applied) {
    if (target.to && m->version == *target.to) break;
    if (target.steps && static_cast<int>(chosen.size()) >= *target.steps) break;
    chosen.push_back(m);
  }
  for (const Migration* m : chosen) {
    if (!m->reversible()) {
      throw MigrationError("refusing to go down: migration " + m->version + " (" + m->description +
                           ") is irreversible; nothing was reverted");
    }
  }
  RunReport report;
  for (const Migration* m : chosen) {
    run(*m, Direction::down, *lock);
    report.versions.push_back(m->version);
  }
  return report;
}

RunReport Runner::baseline(const std::string& version) {
  if (!registry_.find(version)) throw MigrationError("unknown baseline version " + version);
  auto lock = LeaseLock::acquire(database_, options_.lock);
  auto state = changelog_.state();
  RunReport report;
  for (const Migration* m : registry_.ordered()) {
    if (!(state.contains(m->version) && state[m->version].applied)) {
      auto entry = changelog_.begin(*m, Direction::up, *lock);
      changelog_.finish(entry, RunStatus::applied, "", {{"baseline: recorded as applied without running", 0, 0}}, *lock);
      report.versions.push_back(m->version);
    }
    if (m->version == version) break;
  }
  return report;
}

}  // namespace mongo_orm::migrate
