// Running migrations: ordering, refusals, preflight, plans, the lock, the changelog.
#include "mongo_orm/migrate/runner.hpp"

#include <algorithm>
#include <set>
#include <thread>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/driver/session.hpp"
#include "mongo_orm/migrate/checkpoint.hpp"

namespace mongo_orm::migrate {

Runner::Runner(Database database, const Registry& registry, RunnerOptions options)
    : database_(std::move(database)),
      registry_(registry),
      options_(std::move(options)),
      changelog_(database_, options_.changelog_collection) {}

namespace {

// A checkpoint a run saved, or nullopt when the saved value is not one (another tool's, or damaged).
std::optional<Checkpoint> checkpoint_in(const bson::Element& saved) {
  if (saved.type() != bson::Type::document) return std::nullopt;
  try {
    return Checkpoint::from_document(saved.as_document());
  } catch (const DecodeError&) {
    return std::nullopt;
  }
}

// "1 of 2 steps finished; 500 documents processed in the current one", from a run's checkpoints.
std::string progress_of(const ChangelogEntry& run, std::size_t steps) {
  std::size_t finished = 0;
  int64_t processed = 0;
  for (bson::Element saved : run.checkpoints) {
    std::optional<Checkpoint> checkpoint = checkpoint_in(saved);
    if (!checkpoint) continue;
    bool is_step = saved.key().find(':') == std::string_view::npos;
    if (is_step && checkpoint->done) ++finished;
    if (!is_step && !checkpoint->done) processed += checkpoint->processed;
  }
  std::string text = steps > 0 ? std::to_string(finished) + " of " + std::to_string(steps) + " steps finished"
                               : std::string("its own code (no steps to count)");
  if (processed > 0) text += "; " + std::to_string(processed) + " documents processed in the current one";
  return text;
}

}  // namespace

std::vector<StatusRow> Runner::status() const {
  auto state = changelog_.state();
  // Who holds the lock now, so that a run left 'running' by a runner that is gone shows as
  // interrupted, not as running.
  std::optional<int64_t> holder_token = LeaseLock::live_holder_token(database_, options_.lock);
  std::vector<StatusRow> rows;
  for (const Migration* m : registry_.ordered()) {
    StatusRow row{m->version, m->description, MigrationStatus::pending, m->reversible(), false, std::nullopt};
    if (auto it = state.find(m->version); it != state.end()) {
      row.last = it->second.last;
      if (it->second.applied) {
        row.status = MigrationStatus::applied;
        row.drifted = it->second.applied_checksum != checksum_of(*m);
      }
      if (row.last && row.last->status == RunStatus::failed) {
        row.status = MigrationStatus::failed;
        row.progress = progress_of(*row.last, m->steps.size());
      } else if (row.last && row.last->status == RunStatus::running) {
        row.status = holder_token == row.last->lock_token ? MigrationStatus::running : MigrationStatus::interrupted;
        row.progress = progress_of(*row.last, m->steps.size());
      }
    }
    rows.push_back(std::move(row));
  }
  // A version the changelog has applied (or left failed or running) that is no longer
  // registered, its file deleted: shown, never hidden, marked as no longer defined.
  for (const auto& [version, versioned] : state) {
    if (registry_.find(version) || !versioned.last) continue;
    bool applied = versioned.applied;
    RunStatus last = versioned.last->status;
    if (!applied && last != RunStatus::failed && last != RunStatus::running) continue;
    StatusRow row{version, versioned.last->description, MigrationStatus::applied, false, false, versioned.last};
    row.defined = false;
    if (last == RunStatus::failed) row.status = MigrationStatus::failed;
    if (last == RunStatus::running) {
      row.status = holder_token == versioned.last->lock_token ? MigrationStatus::running : MigrationStatus::interrupted;
    }
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const StatusRow& a, const StatusRow& b) { return compare_versions(a.version, b.version) < 0; });
  return rows;
}

std::vector<Drift> Runner::validate() const { return validate(changelog_.state()); }

std::vector<Drift> Runner::validate(const State& states) const {
  std::vector<Drift> drifts;
  for (const auto& [version, state] : states) {
    if (!state.applied) continue;
    const Migration* m = registry_.find(version);
    std::string current = m ? checksum_of(*m) : std::string();
    if (current != state.applied_checksum) drifts.push_back({version, state.applied_checksum, current});
  }
  return drifts;
}

namespace {

using StateMap = std::map<std::string, VersionState>;

// Whether a run stopped part way: failed, or left 'running' (asked under the lock, which no live
// runner then holds).
bool stopped(const ChangelogEntry& run) { return run.status == RunStatus::failed || run.status == RunStatus::running; }

// The last run of `version` when it stopped part way going `direction`: failed, or left
// 'running' by a process that is gone (asked under the lock, which no live runner then holds).
// An up that ran in a transaction was rolled back: it left nothing part way.
const ChangelogEntry* stopped_run(const StateMap& state, const std::string& version, Direction direction) {
  auto it = state.find(version);
  if (it == state.end() || !it->second.last) return nullptr;
  const ChangelogEntry& last = *it->second.last;
  if (!stopped(last) || last.direction != direction || last.in_transaction) return nullptr;
  return &last;
}

// How many steps an up that stopped part way began: steps run in order, so those it finished
// and the one it was in; none after it.
std::size_t steps_begun(const Migration& migration, const ChangelogEntry& run) {
  std::size_t finished = 0;
  while (finished < migration.steps.size()) {
    auto saved = run.checkpoints.view().find(std::to_string(finished));
    std::optional<Checkpoint> checkpoint = saved ? checkpoint_in(*saved) : std::nullopt;
    if (!checkpoint || !checkpoint->done) break;
    ++finished;
  }
  return std::min(finished + 1, migration.steps.size());
}

// Why what `run`, an up of `migration` that stopped part way, changed cannot be undone from its
// backups; "" when it can.
std::string partial_undo_refusal(const Migration& migration, const ChangelogEntry& run) {
  if (run.checksum != checksum_of(migration)) return "its definition changed since that run";
  if (migration.up || migration.steps.empty()) return "it ran its own code, so what it changed is not known; undo it by hand";
  if (migration.down) return "its down function is written for a complete up; undo it by hand";
  if (migration.irreversible) return "it is marked irreversible";
  for (std::size_t i = 0, begun = steps_begun(migration, run); i < begun; ++i) {
    if (!migration.steps[i]->reversible()) {
      return "step " + std::to_string(i + 1) + " (" + migration.steps[i]->name() + ") cannot be undone";
    }
  }
  return "";
}

std::optional<std::size_t> undone_steps_of(const ChangelogEntry& run) {
  if (!run.undone_steps) return std::nullopt;
  return static_cast<std::size_t>(std::max<int64_t>(*run.undone_steps, 0));
}

}  // namespace

std::vector<Runner::Scheduled> Runner::to_apply(const std::optional<std::string>& to, const State& state) const {
  if (to && !registry_.find(*to)) throw MigrationError("unknown target version " + *to);
  std::vector<const Migration*> range;
  for (const Migration* m : registry_.ordered()) {
    range.push_back(m);
    if (to && m->version == *to) break;
  }
  std::vector<Scheduled> work;
  std::set<std::string> finished_down;
  for (auto m = range.rbegin(); m != range.rend(); ++m) {
    if (const ChangelogEntry* down = stopped_run(state, (*m)->version, Direction::down)) {
      work.push_back({*m, Direction::down, undone_steps_of(*down)});
      finished_down.insert((*m)->version);
    }
  }
  for (const Migration* m : range) {
    auto it = state.find(m->version);
    bool applied = it != state.end() && it->second.applied && !finished_down.contains(m->version);
    if (!applied) work.push_back({m, Direction::up});
  }
  return work;
}

std::vector<Runner::Scheduled> Runner::to_revert(const DownTarget& target, const State& state) const {
  if (!target.all && !target.to && !target.steps) {
    throw MigrationError("down needs a target: a version to go back to, a number of steps, or all");
  }
  if (target.to && !registry_.find(*target.to)) throw MigrationError("unknown target version " + *target.to);
  for (const auto& [version, s] : state) {
    if (s.applied && !registry_.find(version)) {
      throw MigrationError("refusing to go down: applied migration " + version +
                           " is not in the registry, so it cannot be reverted");
    }
  }
  std::vector<const Migration*> ordered = registry_.ordered();
  // Registry order, newest first: --to V reverts what is applied after V, whether or not V
  // itself is applied.
  std::vector<Scheduled> chosen;
  for (auto it = ordered.rbegin(); it != ordered.rend(); ++it) {
    const Migration* m = *it;
    if (target.to && m->version == *target.to) break;
    if (target.steps && static_cast<int>(chosen.size()) >= *target.steps) break;
    auto found = state.find(m->version);
    if (const ChangelogEntry* down = stopped_run(state, m->version, Direction::down)) {
      chosen.push_back({m, Direction::down, undone_steps_of(*down)});  // finished as it began
    } else if (const ChangelogEntry* up = stopped_run(state, m->version, Direction::up)) {
      chosen.push_back({m, Direction::down, steps_begun(*m, *up), true});
    } else if (found != state.end() && found->second.applied) {
      chosen.push_back({m, Direction::down});
    }
  }
  return chosen;
}

void Runner::execute(const Migration& migration, Direction direction, MigrationContext& context,
                     std::optional<std::size_t> steps) {
  if (direction == Direction::up) {
    if (migration.up) {
      migration.up(context);
    } else {
      for (const Step& step : migration.steps) context.apply(*step);
    }
  } else if (migration.down) {
    migration.down(context);
  } else {
    std::size_t count = std::min(steps.value_or(migration.steps.size()), migration.steps.size());
    for (std::size_t i = count; i-- > 0;) context.revert(*migration.steps[i]);
  }
}

bool Runner::may_use_transaction(const Migration& migration, Direction direction) const {
  const Capabilities& caps = database_.client().capabilities();
  if (!(caps.transactions || options_.rehearse_transactions) || options_.transaction_limit <= 0) return false;
  if (migration.steps.empty()) return false;
  if (direction == Direction::up ? static_cast<bool>(migration.up) : static_cast<bool>(migration.down)) return false;
  return std::all_of(migration.steps.begin(), migration.steps.end(), [](const Step& step) { return step->transactional(); });
}

bool Runner::fits_in_transaction(const Migration& migration, Direction direction,
                                 const std::vector<Estimate>& estimates) const {
  if (!may_use_transaction(migration, direction)) return false;
  int64_t documents = 0;
  for (const Estimate& e : estimates) documents += e.documents;
  return documents <= options_.transaction_limit;
}

ChangelogEntry Runner::run(const Migration& migration, Direction direction, LeaseLock& lock, const State& states,
                 std::optional<std::size_t> steps) const {
  bool transaction = false;
  if (may_use_transaction(migration, direction)) {
    MigrationContext dry(database_, database_.client().capabilities(), migration.version, true, options_.batch);
    execute(migration, direction, dry, steps);
    transaction = fits_in_transaction(migration, direction, dry.estimates());
  }
  // An interrupted run of the same definition, going the same way, is resumed from its
  // checkpoints: finished steps are not applied again, batched loops go on after their last batch.
  bson::Document resumed;
  bool runs_code = direction == Direction::up ? static_cast<bool>(migration.up) : static_cast<bool>(migration.down);
  if (!transaction) {
    if (auto it = states.find(migration.version); it != states.end() && it->second.last) {
      const ChangelogEntry& last = *it->second.last;
      bool interrupted = last.status == RunStatus::running || last.status == RunStatus::failed;
      if (interrupted && last.direction == direction && last.checksum == checksum_of(migration)) {
        resumed = last.checkpoints;
      }
    }
  }
  bool resumes = !resumed.empty();
  std::optional<int64_t> undone;
  if (direction == Direction::down && steps) undone = static_cast<int64_t>(*steps);
  auto entry = changelog_.begin(migration, direction, lock, resumed, undone);
  const Capabilities& caps = database_.client().capabilities();
  entry->in_transaction = transaction && caps.transactions;
  CheckpointLog checkpoints(std::move(resumed), [&](const std::string& key, const bson::Document& checkpoint) {
    changelog_.save_checkpoint(*entry, key, checkpoint, lock);
  });
  std::vector<OperationStats> operations;
  AfterCommit after_commit;  // backups to drop once the transaction has committed
  // Records the run as failed and says so; the error to throw.
  auto record_failure = [&](const std::exception& e) {
    std::string recorded = "; it is recorded as failed and the next run starts again at it";
    try {
      entry->checkpoints = checkpoints.all();
      changelog_.finish(entry, RunStatus::failed, e.what(), operations, lock);
    } catch (const LockLostError&) {
      throw;
    } catch (const std::exception& also) {
      recorded = std::string("; recording the failure failed too (") + also.what() +
                 "), so its run stays 'running' in the changelog; the next run starts again at it";
    }
    return MigrationError("migration " + migration.version + " (" + migration.description + ") failed while going " +
                          (direction == Direction::up ? "up" : "down") + ": " + e.what() +
                          (transaction ? "; its transaction was rolled back" : "") + recorded);
  };
  try {
    if (transaction) {
      // The body may run more than once (transient errors are retried by the driver); only the
      // last attempt's counts are kept.
      auto body = [&](const Session& session) {
        after_commit.clear();
        Database in_session = session.database(database_.name());
        MigrationContext context(in_session, caps, migration.version, false, options_.batch, options_.progress,
                                 nullptr, &after_commit);
        context.protect(own_collections());
        execute(migration, direction, context, steps);
        operations = context.operations();
      };
      if (caps.transactions) {
        database_.client().with_transaction(body);
      } else {
        database_.client().rehearse_transaction(body);
      }
    } else {
      MigrationContext context(database_, caps, migration.version, false, options_.batch, options_.progress,
                               &checkpoints);
      context.protect(own_collections());
      try {
        execute(migration, direction, context, steps);
      } catch (...) {
        operations = context.operations();
        throw;
      }
      operations = context.operations();
    }
  } catch (const LockLostError&) {
    throw;  // nothing more may be written, not even the failure
  } catch (const OperationRefused& e) {
    // Refused by its first step, in a run that resumes nothing and runs no code of its own:
    // nothing of this run was written, so it did not fail.
    if (!operations.empty() || resumes || runs_code) throw record_failure(e);
    changelog_.finish(entry, RunStatus::refused, e.what(), {}, lock);
    throw MigrationError("migration " + migration.version + " (" + migration.description + ") refused to go " +
                         (direction == Direction::up ? "up" : "down") + ": " + e.what() +
                         "; nothing was written (recorded as refused)");
  } catch (const std::exception& e) {
    throw record_failure(e);
  }
  entry->checkpoints = checkpoints.all();
  changelog_.finish(entry, direction == Direction::up ? RunStatus::applied : RunStatus::rolled_back, "", operations,
                    lock);
  // The transaction committed and its run is recorded; only now may its backups go.
  for (const auto& action : after_commit) {
    try {
      action();
    } catch (const std::exception& e) {
      throw MigrationError("migration " + migration.version + " (" + migration.description + ") went " +
                           (direction == Direction::up ? "up" : "down") +
                           " and is recorded, but a backup it no longer needs could not be dropped after the commit: " +
                           e.what() + "; drop it before this migration runs again");
    }
  }
  return *entry;
}

void Runner::refuse_failed_checks(const std::vector<PreflightCheck>& checks, std::string_view what) const {
  std::string failures;
  for (const PreflightCheck& check : checks) {
    if (!check.ok) failures += "\n  " + check.name + ": " + check.detail;
  }
  if (!failures.empty()) throw MigrationError("refusing to " + std::string(what) + ", preflight failed:" + failures);
}

namespace {

// Why `migration` cannot go down because baseline recorded it: "" when it can (its last apply
// ran here, a down is given, or every step's undo needs nothing from a run).
std::string baseline_undo_refusal(const Migration& migration, const std::map<std::string, VersionState>& state) {
  auto it = state.find(migration.version);
  if (it == state.end() || !it->second.baseline || migration.down) return "";
  for (std::size_t i = 0; i < migration.steps.size(); ++i) {
    if (!migration.steps[i]->undo_needs_backup()) continue;
    return "refusing to go down: migration " + migration.version + " (" + migration.description +
           ") was recorded as applied by baseline, so its steps never ran here and kept no backups; step " +
           std::to_string(i + 1) + " (" + migration.steps[i]->name() + ") undoes from its backup; nothing was reverted";
  }
  return "";
}

}  // namespace

void Runner::settle(const LeaseLock& lock, const State& state) const {
  std::optional<int64_t> gone = lock.taken_over_from();
  if (!gone) return;
  std::set<std::string> collections;
  std::string versions;
  for (const auto& [version, versioned] : state) {
    if (!versioned.last || versioned.last->status != RunStatus::running || versioned.last->lock_token != *gone) continue;
    versions += (versions.empty() ? "" : ", ") + version;
    if (const Migration* m = registry_.find(version)) {
      for (const Step& step : m->steps) collections.insert(step->collection());
    }
  }
  if (versions.empty()) return;
  // A statement like those it sent: an update of one document by _id (it matches nothing).
  std::chrono::steady_clock::duration slowest{};
  for (const std::string& name : collections) {
    Collection collection = database_.collection(name);
    auto any = collection.find_one({}, {.projection = bson::Builder{}.append("_id", 1).extract()});
    if (!any || !any->find("_id")) continue;
    auto started = std::chrono::steady_clock::now();
    collection.update_one(bson::Builder{}.append("_id", (*any)["_id"]).append("_mongo_orm_settle", [](bson::Builder& f) {
      f.append("$exists", true);
    }).extract(), bson::Builder{}.append("$set", [](bson::Builder& set) { set.append("_mongo_orm_settle", 1); }).extract());
    slowest = std::max(slowest, std::chrono::steady_clock::now() - started);
  }
  int64_t statements = options_.batch.size;  // one batch, split into commands of at most this many
  if (int32_t most = database_.client().capabilities().update_statements_per_command; most > 0) {
    statements = std::min<int64_t>(statements, most);
  }
  statements = std::max<int64_t>(statements, 1);
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(3 * statements * slowest);
  wait = std::min(std::max(wait, std::chrono::milliseconds(500)), options_.lock.ttl);
  if (options_.lock.notice) {
    options_.lock.notice("the run of " + versions + " was interrupted with its process gone; waiting " +
                         std::to_string(wait.count()) + " ms for the server to finish the last command it sent");
  }
  std::this_thread::sleep_for(wait);
}

ProtectedCollections Runner::own_collections() const {
  return {{options_.changelog_collection, "this runner's changelog"}, {options_.lock.collection, "this runner's lock"}};
}

void Runner::refuse_before_lock() const {
  // Ordering refuses a missing dependency or a cycle. Then a step on the changelog or the lock (a
  // custom name escapes the operations' own check of "_mongo_orm_" names); a down given as code
  // is checked as it runs.
  ProtectedCollections own = own_collections();
  for (const Migration* m : registry_.ordered()) {
    for (const Step& step : m->steps) {
      try {
        refuse_protected(*step, own);
      } catch (const MigrationError& e) {
        throw MigrationError("migration " + m->version + " (" + m->description + "): " + e.what());
      }
    }
  }
}

RunReport Runner::up(const std::optional<std::string>& to) {
  if (to && !registry_.find(*to)) throw MigrationError("unknown target version " + *to);
  refuse_before_lock();
  auto lock = LeaseLock::acquire(database_, options_.lock);

  // Decided under the lock, so two runners never apply the same migration.
  auto state = changelog_.state();
  settle(*lock, state);
  auto drifts = validate(state);
  if (!drifts.empty()) {
    std::string text = "refusing to run: applied migrations differ from their definitions (run validate):";
    for (const Drift& d : drifts) {
      text += " " + d.version + (d.current_checksum.empty() ? " is no longer defined;" : " changed;");
    }
    text.pop_back();
    throw MigrationError(text);
  }
  std::vector<Scheduled> work = to_apply(to, state);
  refuse_failed_checks(preflight(work, state), "go up");
  return run_all(work, *lock, state);
}

RunReport Runner::run_all(const std::vector<Scheduled>& work, LeaseLock& lock, const State& state) const {
  RunReport report;
  for (const Scheduled& s : work) {
    report.runs.push_back(run(*s.migration, s.direction, lock, state, s.steps));
    report.versions.push_back(s.migration->version);
  }
  return report;
}

namespace {

// Why `s`, a down that down() scheduled, may not run; "" when it may. A down that stopped part
// way began with these checks passed, so it is finished.
std::string refusal_to_revert(const Runner::Scheduled& s, const StateMap& state) {
  const Migration& m = *s.migration;
  if (s.partial) {
    const ChangelogEntry& stopped = *stopped_run(state, m.version, Direction::up);
    std::string why = partial_undo_refusal(m, stopped);
    if (why.empty()) return "";
    return "refusing to go down: migration " + m.version + " (" + m.description + ") stopped part way through its up (" +
           std::string(stopped.status == RunStatus::failed ? "failed" : "interrupted") +
           "), and what that run changed cannot be undone from its backups: " + why +
           "; finish it with up, or undo it by hand; nothing was reverted";
  }
  if (stopped_run(state, m.version, Direction::down)) return "";
  if (!m.reversible()) {
    return "refusing to go down: migration " + m.version + " (" + m.description + ") is irreversible; nothing was reverted";
  }
  return baseline_undo_refusal(m, state);
}

}  // namespace

RunReport Runner::down(const DownTarget& target) {
  if (target.to && !registry_.find(*target.to)) throw MigrationError("unknown target version " + *target.to);
  if (!target.all && !target.to && !target.steps) to_revert(target, {});  // refuses: no target
  refuse_before_lock();
  auto lock = LeaseLock::acquire(database_, options_.lock);
  auto state = changelog_.state();
  settle(*lock, state);
  std::vector<Scheduled> chosen = to_revert(target, state);
  for (const Scheduled& s : chosen) {
    if (std::string refusal = refusal_to_revert(s, state); !refusal.empty()) throw MigrationError(refusal);
  }
  refuse_failed_checks(preflight(chosen, state), "go down");
  return run_all(chosen, *lock, state);
}

RunReport Runner::undo_failed(const std::string& version) {
  const Migration* m = registry_.find(version);
  if (!m) throw MigrationError("unknown version " + version);
  refuse_before_lock();
  auto lock = LeaseLock::acquire(database_, options_.lock);
  auto state = changelog_.state();
  settle(*lock, state);
  auto it = state.find(version);
  std::string refusing = "refusing to undo the failed run of " + version + " (" + m->description + "): ";
  if (it == state.end() || !it->second.last) throw MigrationError(refusing + "it has never run");
  const ChangelogEntry& last = *it->second.last;
  // An undo of a stopped up that itself stopped part way is finished.
  if (const ChangelogEntry* undo = stopped_run(state, version, Direction::down); undo && undo->undone_steps) {
    return run_all({{m, Direction::down, undone_steps_of(*undo)}}, *lock, state);
  }
  if (last.direction != Direction::up || !stopped(last)) {
    throw MigrationError(refusing + "its last run is a " + std::string(to_string(last.direction)) + " that is " +
                         std::string(to_string(last.status)) + ", not a failed or interrupted up (down reverts what is applied)");
  }
  if (last.in_transaction) throw MigrationError(refusing + "it ran in a transaction, which rolled it back: nothing to undo");
  if (std::string why = partial_undo_refusal(*m, last); !why.empty()) {
    throw MigrationError(refusing + why + "; nothing was reverted");
  }
  return run_all({{m, Direction::down, steps_begun(*m, last)}}, *lock, state);
}

RunReport Runner::baseline(const std::string& version) {
  if (!registry_.find(version)) throw MigrationError("unknown baseline version " + version);
  refuse_before_lock();
  auto lock = LeaseLock::acquire(database_, options_.lock);
  auto state = changelog_.state();
  RunReport report;
  for (const Migration* m : registry_.ordered()) {
    if (!(state.contains(m->version) && state[m->version].applied)) {
      auto entry = changelog_.begin(*m, Direction::up, *lock);
      entry->baseline = true;
      changelog_.finish(entry, RunStatus::applied, "", {{"baseline: recorded as applied without running"}}, *lock);
      report.versions.push_back(m->version);
      report.runs.push_back(*entry);
    }
    if (m->version == version) break;
  }
  return report;
}

namespace {

int64_t number_field(bson::DocumentView reply, std::string_view name) {
  auto value = reply.find(name);
  if (!value) return -1;
  switch (value->type()) {
    case bson::Type::int32: return value->as_int32();
    case bson::Type::int64: return value->as_int64();
    case bson::Type::double_: return static_cast<int64_t>(value->as_double());
    default: return -1;
  }
}

std::string megabytes(int64_t bytes) { return std::to_string((bytes + 1024 * 1024 - 1) / (1024 * 1024)) + " MB"; }

}  // namespace

std::vector<PreflightCheck> Runner::preflight(const std::vector<const Migration*>& migrations, Direction direction) const {
  std::vector<Scheduled> work;
  for (const Migration* m : migrations) work.push_back({m, direction});
  return preflight(work, changelog_.state());
}

namespace {

// The steps a run finished, by the name its checkpoints give them ("undo add_field ...").
std::set<std::string> finished_steps(const ChangelogEntry& run) {
  std::set<std::string> names;
  for (bson::Element saved : run.checkpoints) {
    if (saved.key().find(':') != std::string_view::npos) continue;
    std::optional<Checkpoint> checkpoint = checkpoint_in(saved);
    if (checkpoint && checkpoint->done) names.insert(checkpoint->operation);
  }
  return names;
}

}  // namespace

std::vector<PreflightCheck> Runner::preflight(const std::vector<Scheduled>& work, const State& state) const {
  std::vector<PreflightCheck> checks;
  try {
    const Capabilities& caps = database_.client().capabilities();
    database_.run_command(bson::Builder{}.append("ping", 1).view());
    checks.push_back({"connectivity", true,
                      caps.kind == ServerKind::ferretdb ? "FerretDB " + caps.ferretdb_version : "MongoDB " + caps.version});
  } catch (const std::exception& e) {
    checks.push_back({"connectivity", false, e.what()});
    return checks;
  }
  try {
    registry_.ordered();
    checks.push_back({"dependencies", true, "every dependency is registered and there is no cycle"});
  } catch (const std::exception& e) {
    checks.push_back({"dependencies", false, e.what()});
  }
  if (auto drifts = validate(state); !drifts.empty()) {
    std::string versions;
    for (const Drift& d : drifts) versions += (versions.empty() ? "" : ", ") + d.version;
    checks.push_back({"checksums", false, "applied migrations changed since: " + versions + " (run validate)"});
  } else {
    checks.push_back({"checksums", true, "applied migrations match their definitions"});
  }

  bool downs = std::any_of(work.begin(), work.end(), [](const Scheduled& s) { return s.direction == Direction::down; });
  bool ups = std::any_of(work.begin(), work.end(), [](const Scheduled& s) { return s.direction == Direction::up; });
  if (downs) {
    // Each undo restores from the backups of the run it undoes: the applying run, or the up
    // that stopped part way. A down that stopped part way already used (and dropped) the
    // backups of the steps it finished.
    std::set<std::string> collections;
    for (const std::string& name : database_.list_collection_names()) collections.insert(name);
    std::string missing;
    for (const Scheduled& s : work) {
      const Migration* m = s.migration;
      auto it = state.find(m->version);
      if (s.direction != Direction::down || it == state.end() || m->down) continue;
      const ChangelogEntry* stopped_up = s.partial ? stopped_run(state, m->version, Direction::up) : nullptr;
      const std::vector<OperationStats>& done = stopped_up ? stopped_up->operations : it->second.applied_operations;
      std::set<std::string> undone;
      if (const ChangelogEntry* down = stopped_run(state, m->version, Direction::down)) undone = finished_steps(*down);
      for (const OperationStats& op : done) {
        if (undone.contains("undo " + op.operation)) continue;
        std::string backup = backup_collection_name(m->version, op.operation);
        if (op.backed_up > 0 && !collections.contains(backup)) missing += "\n    " + m->version + " " + op.operation + ": " + backup;
      }
    }
    checks.push_back(missing.empty() ? PreflightCheck{"backups", true, "every backup the undo needs is present"}
                                     : PreflightCheck{"backups", false, "the backups these undos need are missing:" + missing});
  }
  if (!ups) return checks;

  // A generated migration's counts, as they were at review.
  std::string moved;
  bool reviewed = false;
  for (const Scheduled& s : work) {
    if (s.direction != Direction::up || s.migration->evidence.empty()) continue;
    // A run that stopped part way changed what was counted; resuming it finishes that work.
    if (stopped_run(state, s.migration->version, Direction::up)) continue;
    reviewed = true;
    for (const std::string& line : evidence_differences(database_, s.migration->evidence)) {
      moved += "\n    " + s.migration->version + " " + line;
    }
  }
  if (reviewed) {
    checks.push_back(moved.empty() ? PreflightCheck{"evidence", true, "the data is as it was when the migrations were reviewed"}
                                   : PreflightCheck{"evidence", false,
                                                    "the data changed since the migration was reviewed; generate it again "
                                                    "and review it, or edit its evidence:" + moved});
  }

  // Copies (backups, quarantine, copied collections) need up to the size of what they copy.
  std::set<std::string> copied;
  for (const Scheduled& s : work) {
    if (s.direction != Direction::up) continue;
    for (const Step& step : s.migration->steps) {
      if (step->copies_documents()) copied.insert(step->collection());
    }
  }
  int64_t needed = 0;
  for (const std::string& name : copied) {
    try {
      bson::Document stats = database_.run_command(bson::Builder{}.append("collStats", name).view());
      needed += std::max<int64_t>(number_field(stats, "size"), 0);
    } catch (const CommandError&) {
      // a collection that does not exist yet copies nothing
    }
  }
  bson::Document db_stats = database_.run_command(bson::Builder{}.append("dbStats", 1).view());
  int64_t total = number_field(db_stats, "fsTotalSize"), used = number_field(db_stats, "fsUsedSize");
  if (total > 0 && used >= 0) {
    int64_t free = total - used;
    checks.push_back({"free space", needed <= free,
                      "copies need up to " + megabytes(needed) + "; the server's disk has " + megabytes(free) + " free"});
  } else {
    checks.push_back({"free space", true,
                      "copies need up to " + megabytes(needed) + "; the server does not report its free disk space"});
  }
  return checks;
}

Plan Runner::make_plan(const std::vector<Scheduled>& work, const State& state) const {
  Plan plan;
  plan.checks = preflight(work, state);
  for (const PreflightCheck& check : plan.checks) {
    if (!check.ok) plan.problems.push_back(check.name + ": " + check.detail);
  }
  std::set<std::string> finishing;  // versions whose stopped down runs first
  for (const Scheduled& s : work) {
    const Migration* m = s.migration;
    Direction direction = s.direction;
    PlannedMigration planned{m->version, m->description, direction};
    planned.irreversible = m->irreversible_steps();
    if (m->irreversible) planned.irreversible.push_back("the migration is marked irreversible");
    planned.runs_code = direction == Direction::up ? static_cast<bool>(m->up) : static_cast<bool>(m->down);
    MigrationContext context(database_, database_.client().capabilities(), m->version, true, options_.batch);
    context.protect(own_collections());
    try {
      if (direction == Direction::up || m->reversible() || s.steps) execute(*m, direction, context, s.steps);
    } catch (const ReadOnlyError& e) {
      planned.uncounted = e.what();
    } catch (const std::exception& e) {
      planned.error = e.what();
      plan.problems.push_back(m->version + ": the dry run failed: " + e.what());
    }
    planned.operations = context.estimates();
    if (s.partial) {
      planned.notes.push_back("undoes what its up did before it stopped part way: " + std::to_string(s.steps.value_or(0)) +
                              " of " + std::to_string(m->steps.size()) + " steps");
    } else if (direction == Direction::down && stopped_run(state, m->version, Direction::down)) {
      planned.notes.push_back("finishes its down, which stopped part way, from its checkpoints");
      finishing.insert(m->version);
    } else if (finishing.contains(m->version)) {
      planned.notes.push_back("counted on the data as it is now, before its down is finished");
    }
    planned.in_transaction = planned.error.empty() && planned.uncounted.empty() &&
                             database_.client().capabilities().transactions &&
                             fits_in_transaction(*m, direction, planned.operations);
    for (const Estimate& e : planned.operations) {
      for (const std::string& conflict : e.conflicts) plan.problems.push_back(m->version + " " + e.operation + ": " + conflict);
    }
    plan.migrations.push_back(std::move(planned));
  }
  return plan;
}

Plan Runner::plan(const std::optional<std::string>& to) const {
  Plan plan;
  try {
    auto state = changelog_.state();
    return make_plan(to_apply(to, state), state);
  } catch (const std::exception& e) {
    plan.problems.push_back(e.what());
  }
  return plan;
}

Plan Runner::plan_down(const DownTarget& target) const {
  Plan plan;
  try {
    auto state = changelog_.state();
    std::vector<Scheduled> chosen = to_revert(target, state);
    Plan result = make_plan(chosen, state);
    for (const Scheduled& s : chosen) {
      if (std::string refusal = refusal_to_revert(s, state); !refusal.empty()) result.problems.push_back(refusal);
    }
    return result;
  } catch (const std::exception& e) {
    plan.problems.push_back(e.what());
  }
  return plan;
}

}  // namespace mongo_orm::migrate
