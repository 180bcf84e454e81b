// Checkpoints of batched loops, kept in the run's changelog record.
#include "mongo_orm/migrate/checkpoint.hpp"

#include "mongo_orm/bson/builder.hpp"
#include "fnv1a.hpp"

namespace mongo_orm::migrate {

int64_t content_hash(bson::DocumentView document) noexcept {
  return static_cast<int64_t>(detail::Fnv1a64{}.add(document.data(), document.length()).value());
}

bson::Document Checkpoint::to_document() const {
  bson::Builder b;
  b.append("operation", operation).append("done", done).append("processed", processed).append("phase", phase);
  if (last_id) b.append("last_id", *last_id);
  b.append("pending_ids", [&](bson::ArrayBuilder& ids) {
    for (const bson::Value& id : pending_ids) ids.append(id);
  });
  b.append("pending_hashes", [&](bson::ArrayBuilder& hashes) {
    for (int64_t hash : pending_hashes) hashes.append(hash);
  });
  if (result) {
    b.append("result", [&](bson::Builder& r) {
      r.append("operation", result->operation)
          .append("matched", result->matched)
          .append("modified", result->modified)
          .append("backed_up", result->backed_up)
          .append("quarantined", result->quarantined)
          .append("skipped", result->skipped);
    });
  }
  return b.extract();
}

Checkpoint Checkpoint::from_document(bson::DocumentView document) {
  Checkpoint c;
  if (auto e = document.find("operation")) c.operation = std::string(e->as_string());
  if (auto e = document.find("done")) c.done = e->as_bool();
  if (auto e = document.find("processed")) c.processed = e->as_int64();
  if (auto e = document.find("phase")) c.phase = std::string(e->as_string());
  if (auto e = document.find("last_id")) c.last_id = bson::Value(*e);
  if (auto e = document.find("pending_ids")) {
    for (const auto& id : e->as_array()) c.pending_ids.emplace_back(id);
  }
  if (auto e = document.find("pending_hashes")) {
    for (const auto& hash : e->as_array()) c.pending_hashes.push_back(hash.as_int64());
  }
  if (auto e = document.find("result"); e && e->type() == bson::Type::document) {
    bson::DocumentView r = e->as_document();
    OperationStats stats;
    if (auto f = r.find("operation")) stats.operation = std::string(f->as_string());
    auto number = [&](const char* key) -> int64_t {
      auto f = r.find(key);
      return f ? f->as_int64() : 0;
    };
    stats.matched = number("matched");
    stats.modified = number("modified");
    stats.backed_up = number("backed_up");
    stats.quarantined = number("quarantined");
    stats.skipped = number("skipped");
    c.result = stats;
  }
  if (c.pending_hashes.size() != c.pending_ids.size()) c.pending_ids.clear(), c.pending_hashes.clear();
  return c;
}

CheckpointLog::CheckpointLog(bson::Document resumed, Save save) : all_(std::move(resumed)), save_(std::move(save)) {}

std::optional<Checkpoint> CheckpointLog::resumed(const std::string& key, const std::string& operation) const {
  auto stored = all_.view().find(key);
  if (!stored || stored->type() != bson::Type::document) return std::nullopt;
  Checkpoint checkpoint = Checkpoint::from_document(stored->as_document());
  if (checkpoint.operation != operation) return std::nullopt;
  return checkpoint;
}

void CheckpointLog::restart_step() {
  std::string prefix = std::to_string(step_) + ":";
  bson::Builder kept;
  for (const auto& element : all_.view()) {
    if (!element.key().starts_with(prefix)) kept.append(element.key(), element);
  }
  all_ = kept.extract();
}

void CheckpointLog::save(const std::string& key, const Checkpoint& checkpoint) {
  bson::Document document = checkpoint.to_document();
  if (save_) save_(key, document);
  bson::Builder next;
  bool replaced = false;
  for (const auto& element : all_.view()) {
    if (element.key() == key) {
      next.append(key, document.view());
      replaced = true;
    } else {
      next.append(element.key(), element);
    }
  }
  if (!replaced) next.append(key, document.view());
  all_ = next.extract();
}

}  // namespace mongo_orm::migrate
