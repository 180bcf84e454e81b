// A migration written from what changed in the models (diff.hpp) and what the data holds: one
// built-in operation per change, in an order that is safe to run, each with why it is there
// and a safety label, and the counts it was generated with (its evidence), which `up` counts
// again before it runs.
//
//   auto changes = autogen::diff(autogen::read_snapshot(committed), autogen::describe_models(models));
//   autogen::GeneratedMigration m = autogen::generate(database, changes, autogen::describe_models(models));
//   std::cout << autogen::migration_file_text(m, "2026.12.03.001", "members get enabled");
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/autogen/diff.hpp"
#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/migrate/evidence.hpp"

namespace mongo_orm::autogen {

enum class Safety {
  safe,                  // changes no stored value, or only adds one where none is
  needs_data_migration,  // rewrites stored values, reversibly
  destructive,           // drops data (a field with values, duplicates set aside): refused unless acknowledged
  needs_review,          // the data says it will not do all it should (values that do not convert, both names present)
};
std::string_view to_string(Safety safety) noexcept;

struct PlannedStep {
  bson::Document operation;  // as a migration file holds it: {"op": ..., "why": ..., "safety": ...}
  Safety safety = Safety::safe;
};

struct GeneratedMigration {
  std::vector<PlannedStep> steps;
  // What no step answers, for the person who reviews it: suggested renames, classes whose
  // documents are left without one, factory defaults.
  std::vector<std::string> warnings;
  migrate::Evidence evidence;

  bool destructive() const noexcept;
};

struct GenerateOptions {
  double tolerance = 0.01;  // written into the evidence (see migrate::Evidence)
};

// The steps for `changes` (from diff, with `after` the models it compared) on `database`'s
// data. Order: collections renamed, classes remapped, fields renamed, added, retyped, removed,
// then indexes: created (duplicates set aside first for a unique one) before any is dropped.
GeneratedMigration generate(const Database& database, const std::vector<Change>& changes,
                            const std::vector<DescribedModel>& after, const GenerateOptions& options = {});

// The migration file: version, description, "up" with one step a line, "evidence".
std::string migration_file_text(const GeneratedMigration& migration, const std::string& version,
                                const std::string& description);

}  // namespace mongo_orm::autogen
