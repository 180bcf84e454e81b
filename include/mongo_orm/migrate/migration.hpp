// A versioned migration: what it changes (up), how to undo it (down), what it needs first.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/driver/capabilities.hpp"
#include "mongo_orm/driver/database.hpp"

namespace mongo_orm::migrate {

// What a migration's up and down receive.
struct MigrationContext {
  const Database& database;
  const Capabilities& capabilities;
  bool dry_run = false;  // report what would change, change nothing
};

struct Migration {
  std::string version;                  // sortable: "2023.01.001" (see compare_versions)
  std::string description;
  std::vector<std::string> depends_on{};  // versions that must be applied first
  std::function<void(MigrationContext&)> up{};
  std::function<void(MigrationContext&)> down{};  // empty: the migration cannot be undone
  bool irreversible = false;                    // refuses down even when one is given
  // Identifies the definition in the changelog: a file's contents for file migrations, a
  // string the author changes when a C++ migration's behaviour changes.
  std::string fingerprint{};

  bool reversible() const noexcept { return !irreversible && static_cast<bool>(down); }
};

// Orders versions segment by segment ("2023.01.9" < "2023.01.010"): segments of digits
// compare as numbers, others as text, and a version that is a prefix of another sorts first.
int compare_versions(std::string_view a, std::string_view b) noexcept;

}  // namespace mongo_orm::migrate
