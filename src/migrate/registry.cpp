// Version ordering and the dependency checks of a registry.
#include "mongo_orm/migrate/registry.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "mongo_orm/error.hpp"

namespace mongo_orm::migrate {

int compare_versions(std::string_view a, std::string_view b) noexcept {
  auto next_segment = [](std::string_view& rest) {
    std::size_t dot = rest.find('.');
    std::string_view segment = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    return segment;
  };
  auto numeric = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  while (!a.empty() || !b.empty()) {
    if (a.empty()) return -1;
    if (b.empty()) return 1;
    std::string_view x = next_segment(a), y = next_segment(b);
    if (numeric(x) && numeric(y)) {
      x.remove_prefix(std::min(x.find_first_not_of('0'), x.size()));
      y.remove_prefix(std::min(y.find_first_not_of('0'), y.size()));
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
    }
    if (int c = x.compare(y); c != 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

Registry& Registry::add(Migration migration) {
  if (migration.version.empty()) throw MigrationError("a migration needs a version");
  if (migration.version.size() > max_version_bytes) {
    throw MigrationError("migration version \"" + printable(migration.version.substr(0, 40)) + "...\" is " +
                         std::to_string(migration.version.size()) + " bytes long; a version may be at most " +
                         std::to_string(max_version_bytes) + " (it names the migration's backup collections)");
  }
  if (migration.description.size() > max_description_bytes) {
    throw MigrationError("the description of migration " + migration.version + " is " +
                         std::to_string(migration.description.size()) + " bytes long; it may be at most " +
                         std::to_string(max_description_bytes) + " (64 KiB: it is stored in every changelog record)");
  }
  if (printable(migration.version) != migration.version) {
    throw MigrationError("migration version \"" + printable(migration.version) +
                         "\" holds a control character (a NUL byte, a newline): versions are printed and compared as text");
  }
  if (!migration.up && migration.steps.empty()) {
    throw MigrationError("migration " + migration.version + " has neither steps nor an up function");
  }
  if (migration.up && !migration.steps.empty()) {
    throw MigrationError("migration " + migration.version +
                         " has both steps and an up function; give one (an up function can apply operations itself)");
  }
  for (const Step& step : migration.steps) {
    if (!step) throw MigrationError("migration " + migration.version + " has an empty step");
  }
  for (const Migration& other : migrations_) {
    if (compare_versions(other.version, migration.version) != 0) continue;
    std::string same = other.version == migration.version ? "" : " and " + other.version + ", which compare equal,";
    throw MigrationError("duplicate migration version " + migration.version + same + " (\"" + migration.description +
                         "\" and \"" + other.description + "\")");
  }
  migrations_.push_back(std::move(migration));
  return *this;
}

const Migration* Registry::find(std::string_view version) const {
  for (const Migration& m : migrations_) {
    if (m.version == version) return &m;
  }
  return nullptr;
}

std::vector<const Migration*> Registry::ordered() const {
  std::string missing;
  for (const Migration& m : migrations_) {
    for (const std::string& dependency : m.depends_on) {
      if (!find(dependency)) missing += " " + m.version + " needs " + dependency + ";";
    }
  }
  if (!missing.empty()) {
    missing.pop_back();
    throw MigrationError("missing migration dependencies:" + missing);
  }

  // Kahn's algorithm, always taking the lowest version that is ready.
  auto by_version = [](const Migration* a, const Migration* b) { return compare_versions(a->version, b->version) < 0; };
  std::map<const Migration*, std::size_t> waiting_on;
  for (const Migration& m : migrations_) waiting_on[&m] = m.depends_on.size();
  std::set<const Migration*, decltype(by_version)> ready(by_version);
  for (const auto& [m, count] : waiting_on) {
    if (count == 0) ready.insert(m);
  }
  std::vector<const Migration*> order;
  while (!ready.empty()) {
    const Migration* next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (const Migration& m : migrations_) {
      if (std::count(m.depends_on.begin(), m.depends_on.end(), next->version) && --waiting_on[&m] == 0) {
        ready.insert(&m);
      }
    }
  }
  if (order.size() != migrations_.size()) {
    std::vector<const Migration*> stuck;
    for (const auto& [m, count] : waiting_on) {
      if (count > 0) stuck.push_back(m);
    }
    std::sort(stuck.begin(), stuck.end(), by_version);
    std::string versions;
    for (const Migration* m : stuck) versions += (versions.empty() ? "" : ", ") + m->version;
    throw MigrationError("migration dependency cycle among: " + versions);
  }
  return order;
}

}  // namespace mongo_orm::migrate
