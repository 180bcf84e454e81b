// The counts a generated migration was reviewed with. Before it goes up each is counted again,
// and the run is refused, naming the count, when the data moved past a tolerance between the
// review and the deployment (documents written since by the application, another migration).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/driver/database.hpp"

namespace mongo_orm::migrate {

struct EvidenceCheck {
  std::string collection;
  bson::Document filter;  // what was counted
  int64_t count = 0;      // at review
  std::string what;       // "documents missing enabled"
};

struct Evidence {
  std::string recorded{};  // when and on what server: "2026-12-03T07:40:00Z, FerretDB 1.24.2"
  // How far a count may move, as a fraction of it: 0.01 lets 1,000 become 990..1,010. A count
  // that was 0 must stay 0 (no unconvertible values at review means none at deployment).
  double tolerance = 0.01;
  std::vector<EvidenceCheck> checks{};

  bool empty() const noexcept { return checks.empty(); }
};

// Each check counted again: one line for each count past the tolerance ("members: documents
// missing enabled: 3 at review, 5 now (tolerance 1%)"); empty when the data is as reviewed.
std::vector<std::string> evidence_differences(const Database& database, const Evidence& evidence);

// As a migration file holds it: {"recorded", "tolerance", "checks": [{"collection", "filter",
// "count", "what"}]}; and back (MigrationError naming `where` and the key).
bson::Document to_document(const Evidence& evidence);
Evidence evidence_from(bson::DocumentView document, const std::string& where);

}  // namespace mongo_orm::migrate
