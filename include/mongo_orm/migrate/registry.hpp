// The set of migrations an application knows, added explicitly (no static registration, no
// scanning), checked as a whole before anything runs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mongo_orm/migrate/migration.hpp"

namespace mongo_orm::migrate {

class Registry {
 public:
  // Versions name backup collections and descriptions are stored in every changelog record:
  // longer ones are refused.
  static constexpr std::size_t max_version_bytes = 100;
  static constexpr std::size_t max_description_bytes = 64 * 1024;

  // MigrationError naming the version when it is empty, too long or already registered, when
  // the description is too long, or when up is missing.
  Registry& add(Migration migration);

  const Migration* find(std::string_view version) const;
  std::size_t size() const noexcept { return migrations_.size(); }

  // Every migration, dependencies before dependents and otherwise in version order.
  // MigrationError listing every missing dependency, or the versions of a cycle.
  std::vector<const Migration*> ordered() const;

 private:
  std::vector<Migration> migrations_;
};

}  // namespace mongo_orm::migrate
