// Rewriting a collection into a new one and swapping it in: how transform and
// dedupe_for_unique change a whole collection on servers that scan it for every write by _id
// (FerretDB 1.x), where changing documents in place costs the square of its size.
#pragma once

#include <string>
#include <vector>

#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/migrate/operation.hpp"
#include "support.hpp"

namespace mongo_orm::migrate::detail {

// The new collection is "_mongo_orm_rewrite__<version>__<operation>"; the original is kept whole
// as the operation's backup collection, so undo can always put it back. Every stage resumes
// after a kill: the copy is idempotent by _id, the swap finishes from its own checkpoint. The
// application must not write to the collection meanwhile: before the swap the document counts
// are compared, and a difference refuses it.
class CollectionRewrite {
 public:
  CollectionRewrite(const StepContext& context, const Operation& operation, std::string collection);

  const std::string& new_name() const noexcept { return new_name_; }
  const std::string& backup_name() const noexcept { return backup_name_; }
  // Whether a rewrite of this operation was begun (its new collection) or swapped in (the
  // original kept as its backup): what undo takes back.
  bool begun() const;

  // Finishes the swap of a run killed during it; true when it did (the step is done).
  bool finish_interrupted_swap() const;
  // Refuses a backup left from elsewhere (never taken for a finished swap) and creates the new
  // collection, a fresh start of the step when it was not there yet.
  Collection begin() const;
  // Gives the new collection the original's indexes (but those `replacing` names or keys) and
  // `replacing`, checks that the original holds the new collection's documents plus
  // `set_aside` (nothing was written meanwhile), and swaps: the original becomes the backup.
  // Returns how many documents the original held.
  int64_t swap_in(int64_t set_aside, const std::vector<IndexModel>& replacing = {}) const;
  // Puts the original back, carrying over the documents added since the swap; the new
  // collection is dropped. Does nothing when there is nothing to undo (or it is done).
  BatchTotals undo(const std::string& label) const;

 private:
  const StepContext& context_;
  std::string operation_;
  std::string collection_;
  std::string new_name_;
  std::string backup_name_;
  std::string swap_key_;
};

}  // namespace mongo_orm::migrate::detail
