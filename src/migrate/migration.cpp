// Migrations and what their up and down receive.
#include "mongo_orm/migrate/migration.hpp"

#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/checkpoint.hpp"

namespace mongo_orm::migrate {

MigrationContext::MigrationContext(const Database& database, const Capabilities& capabilities, std::string version,
                                   bool dry_run, BatchOptions batch, ProgressCallback progress,
                                   CheckpointLog* checkpoints, AfterCommit* after_commit)
    : database(dry_run ? Database(database.client().read_only("a dry run of migration " + version +
                                                               " writes nothing"),
                                  database.name())
                       : database),
      capabilities(capabilities),
      dry_run(dry_run),
      version_(std::move(version)),
      batch_(batch),
      progress_(std::move(progress)),
      checkpoints_(checkpoints),
      after_commit_(after_commit) {}

StepContext MigrationContext::step_context() const {
  return StepContext{database, capabilities, version_, batch_, progress_, checkpoints_, after_commit_};
}

template <class Run>
void MigrationContext::checkpointed(const Operation& operation, const std::string& name, Run&& run) {
  if (!checkpoints_) {
    operations_.push_back(run(step_context()));
    return;
  }
  checkpoints_->begin_step();
  std::string key = checkpoints_->step_key();
  if (auto finished = checkpoints_->resumed(key, name); finished && finished->done && finished->result) {
    // An interrupted run of this migration finished it, and may have died before dropping the
    // backup the step no longer needed.
    if (name.starts_with("undo ")) database.collection(step_context().backup_collection(operation)).drop();
    operations_.push_back(*finished->result);
    return;
  }
  // What the step leaves behind for good (its backup, an emptied quarantine) goes only once the
  // step is recorded as done: a run killed in between finds the step unfinished and its backup
  // still there to finish it from.
  AfterCommit after_step;
  StepContext context = step_context();
  if (!context.after_commit) context.after_commit = &after_step;
  OperationStats stats = run(context);
  Checkpoint done{name, true};
  done.result = stats;
  checkpoints_->save(key, done);
  for (const auto& action : after_step) action();
  operations_.push_back(std::move(stats));
}

void MigrationContext::protect(ProtectedCollections collections) { protected_ = std::move(collections); }

void refuse_protected(const Operation& operation, const ProtectedCollections& collections) {
  for (const std::string& name : operation.collections()) {
    for (const auto& [collection, what] : collections) {
      if (name == collection) {
        throw MigrationError(operation.name() + ": collection '" + name + "' is " + what +
                             ": migrations may not change it");
      }
    }
  }
}

void MigrationContext::apply(const Operation& operation) {
  refuse_protected(operation, protected_);
  if (dry_run) {
    estimates_.push_back(operation.estimate(step_context()));
    return;
  }
  try {
    checkpointed(operation, operation.name(), [&](const StepContext& c) { return operation.apply(c); });
  } catch (const MigrationError&) {
    throw;
  } catch (const std::exception& e) {
    throw MigrationError(operation.name() + ": " + e.what());
  }
}

void MigrationContext::revert(const Operation& operation) {
  if (!operation.reversible()) throw MigrationError(operation.name() + " cannot be undone");
  refuse_protected(operation, protected_);
  if (dry_run) {
    Estimate e{"undo " + operation.name()};
    e.documents = database.collection(step_context().backup_collection(operation)).count_documents({});
    estimates_.push_back(std::move(e));
    return;
  }
  try {
    checkpointed(operation, "undo " + operation.name(), [&](const StepContext& c) { return operation.revert(c); });
  } catch (const MigrationError&) {
    throw;
  } catch (const std::exception& e) {
    throw MigrationError("undo " + operation.name() + ": " + e.what());
  }
}

void MigrationContext::report(const Progress& progress) const {
  if (progress_) progress_(progress);
}

bool Migration::reversible() const noexcept {
  if (irreversible) return false;
  if (down) return true;
  if (steps.empty()) return false;
  for (const Step& step : steps) {
    if (!step->reversible()) return false;
  }
  return true;
}

std::vector<std::string> Migration::irreversible_steps() const {
  std::vector<std::string> names;
  if (down) return names;
  for (const Step& step : steps) {
    if (!step->reversible()) names.push_back(step->name());
  }
  return names;
}

namespace {

class WithInverse final : public Operation {
 public:
  WithInverse(Step step, Step inverse) : step_(std::move(step)), inverse_(std::move(inverse)) {}
  std::string name() const override { return step_->name() + " (undo: " + inverse_->name() + ")"; }
  Estimate estimate(const StepContext& context) const override { return step_->estimate(context); }
  OperationStats apply(const StepContext& context) const override { return step_->apply(context); }
  OperationStats revert(const StepContext& context) const override { return inverse_->apply(context); }
  std::string collection() const override { return step_->collection(); }
  std::vector<std::string> collections() const override {
    std::vector<std::string> names = step_->collections();
    for (std::string& name : inverse_->collections()) names.push_back(std::move(name));
    return names;
  }
  bool copies_documents() const override { return step_->copies_documents(); }
  bool transactional() const override { return step_->transactional() && inverse_->transactional(); }
  bool undo_needs_backup() const override { return false; }

 private:
  Step step_, inverse_;
};

}  // namespace

Step with_inverse(Step step, Step inverse) {
  if (!step || !inverse) throw InvalidRequestError("with_inverse needs a step and its inverse");
  return std::make_shared<WithInverse>(std::move(step), std::move(inverse));
}

}  // namespace mongo_orm::migrate
