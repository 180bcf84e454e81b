// Where the batched loops of a migration run stand, so that a run killed part way resumes
// after its last finished batch and applies nothing twice.
//
// Every step has a key, "<step>" (its position in the migration), saved when it finishes, and
// every batched loop in it another, "<step>:<loop>" (the loop's position in the step). Before a batch is written, its checkpoint
// records the last _id of the batches already done and, for the batch about to be written,
// each document's _id with a hash of its content as read (the pre-image). The checkpoint is
// saved in the run's changelog record, after the lease lock is confirmed. A resumed run starts
// after `last_id`; of the pending batch it writes only the documents whose content still
// hashes to the pre-image, so a batch the killed run had already written is not applied again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/migrate/changelog.hpp"
#include "mongo_orm/migrate/operation.hpp"
#include "mongo_orm/model/schema.hpp"

namespace mongo_orm::migrate {

struct Checkpoint {
  std::string operation{};               // the operation's name, checked when resuming
  bool done = false;                     // the loop finished
  std::optional<bson::Value> last_id{};  // every document up to this _id (in _id order) is done
  int64_t processed = 0;                 // documents read so far
  std::string phase{};                   // an operation's own stage (rewrite: "swapping")
  std::vector<bson::Value> pending_ids{};  // the batch being written ...
  std::vector<int64_t> pending_hashes{};   // ... and the hash of each document as it was read
  std::optional<OperationStats> result{};  // a finished step: what it did

  bson::Document to_document() const;
  // Throws DecodeError naming the field that does not read; a pending batch whose _ids and
  // hashes do not pair up is dropped.
  static Checkpoint from_document(bson::DocumentView document);
};
inline auto define_schema(model::SchemaTag<Checkpoint>) {
  return model::schema<Checkpoint>()
      .field(&Checkpoint::operation, "operation")
      .field(&Checkpoint::done, "done")
      .field(&Checkpoint::processed, "processed")
      .field(&Checkpoint::phase, "phase")
      .field(&Checkpoint::last_id, "last_id")
      .field(&Checkpoint::pending_ids, "pending_ids")
      .field(&Checkpoint::pending_hashes, "pending_hashes")
      .field(&Checkpoint::result, "result");
}

// FNV-1a 64 over a document's BSON bytes: equal for byte-identical documents.
int64_t content_hash(bson::DocumentView document) noexcept;

// The checkpoints of one run: those an interrupted earlier run of the same migration left
// (read once), and a way to save new ones to this run's record.
class CheckpointLog {
 public:
  using Save = std::function<void(const std::string& key, const bson::Document& checkpoint)>;
  CheckpointLog(bson::Document resumed, Save save);

  // The checkpoint the interrupted run left under `key` for `operation` (none if the key
  // holds another operation's).
  std::optional<Checkpoint> resumed(const std::string& key, const std::string& operation) const;
  void save(const std::string& key, const Checkpoint& checkpoint);
  // Every checkpoint this run holds (resumed ones included), keyed as saved.
  const bson::Document& all() const noexcept { return all_; }

  // Keys: the step being applied and its next loop.
  void begin_step() { ++step_, loop_ = 0; }
  std::string next_loop_key() { return std::to_string(step_) + ":" + std::to_string(loop_++); }
  std::string step_key() const { return std::to_string(step_); }
  // Forgets what an interrupted run left for the loops of the current step, which then start
  // from the beginning (their new checkpoints replace the old ones).
  void restart_step();

 private:
  bson::Document all_;
  Save save_;
  int step_ = -1;
  int loop_ = 0;
};

}  // namespace mongo_orm::migrate
