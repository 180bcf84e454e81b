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
  model::schema_of<Checkpoint>().encode(b.native(), *this);
  return b.extract();
}

Checkpoint Checkpoint::from_document(bson::DocumentView document) {
  Checkpoint c;
  model::schema_of<Checkpoint>().decode(document, c);
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
