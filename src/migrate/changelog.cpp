// Changelog records and the state derived from them.
#include "mongo_orm/migrate/changelog.hpp"

#include <unistd.h>

#include <cstdio>

#include "fnv1a.hpp"
#include "process.hpp"

namespace mongo_orm::migrate {

namespace {
std::chrono::system_clock::time_point now() { return bson::DateTime::now().to_time_point(); }
}  // namespace

namespace {
template <class E>
std::string_view stored_name(E value) noexcept {
  for (const auto& [candidate, name] : enum_values(model::EnumTag<E>{})) {
    if (candidate == value) return name;
  }
  return "unknown";
}
}  // namespace

std::string_view to_string(Direction direction) noexcept { return stored_name(direction); }
std::string_view to_string(RunStatus status) noexcept { return stored_name(status); }

std::string checksum_of(const Migration& migration) {
  detail::Fnv1a64 hash;
  auto mix = [&](std::string_view text) {
    hash.add(text).add("\xff");  // field separator, so ("ab", "c") and ("a", "bc") differ
  };
  mix(migration.version);
  mix(migration.description);
  mix(migration.fingerprint);
  for (const Step& step : migration.steps) mix(step->name());
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash.value()));
  return text;
}

model::Tracked<ChangelogEntry> Changelog::begin(const Migration& migration, Direction direction, LeaseLock& lock,
                                                bson::Document checkpoints,
                                                std::optional<int64_t> undone_steps) const {
  lock.confirm();
  ChangelogEntry entry;
  entry.version = migration.version;
  entry.description = migration.description;
  entry.checksum = checksum_of(migration);
  entry.direction = direction;
  entry.status = RunStatus::running;
  entry.started_at = now();
  entry.host = detail::host_name();
  entry.pid = getpid();
  entry.lock_token = lock.token();
  entry.checkpoints = std::move(checkpoints);
  entry.undone_steps = undone_steps;
  entry.sequence = last_sequence() + 1;
  return entries_.insert(std::move(entry));
}

void Changelog::save_checkpoint(const ChangelogEntry& entry, const std::string& key, const bson::Document& checkpoint,
                                LeaseLock& lock) const {
  lock.confirm();
  entries_.raw().update_one(bson::Builder{}.append("_id", entry.id).extract(),
                            bson::Builder{}.append("$set", [&](bson::Builder& set) {
                              set.append("checkpoints." + key, checkpoint.view());
                            }).extract());
}

void Changelog::finish(model::Tracked<ChangelogEntry>& entry, RunStatus status, const std::string& error,
                       std::vector<OperationStats> operations, LeaseLock& lock) const {
  lock.confirm();
  entry->status = status;
  entry->error = error;
  entry->operations = std::move(operations);
  entry->ended_at = now();
  entry->duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(*entry->ended_at - entry->started_at).count();
  entries_.save(entry);
}

int64_t Changelog::last_sequence() const {
  auto last = entries_.raw().find_one({}, {.sort = bson::Builder{}.append("sequence", -1).extract(),
                                           .projection = bson::Builder{}.append("sequence", 1).extract()});
  if (!last) return 0;
  auto sequence = last->find("sequence");
  if (!sequence) return 0;
  switch (sequence->type()) {
    case bson::Type::int64: return sequence->as_int64();
    case bson::Type::int32: return sequence->as_int32();
    default: return 0;
  }
}

std::vector<ChangelogEntry> Changelog::history() const {
  std::vector<ChangelogEntry> runs;
  auto order = bson::Builder{}.append("sequence", 1).append("_id", 1).extract();
  for (auto& entry : entries_.find({}, {.sort = std::move(order)})) runs.push_back(*entry);
  return runs;
}

std::map<std::string, VersionState> Changelog::state() const {
  std::map<std::string, VersionState> states;
  for (ChangelogEntry& run : history()) {
    VersionState& state = states[run.version];
    if (run.status == RunStatus::applied && run.direction == Direction::up) {
      state.applied = true;
      state.applied_checksum = run.checksum;
      state.applied_operations = run.operations;
      state.baseline = run.baseline;
    } else if (run.status == RunStatus::rolled_back && run.direction == Direction::down) {
      state.applied = false;
      state.applied_checksum.clear();
      state.applied_operations.clear();
      state.baseline = false;
    }
    state.last = std::move(run);
  }
  return states;
}

}  // namespace mongo_orm::migrate
