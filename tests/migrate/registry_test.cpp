// Tests for migrate/registry.hpp: ordering and the refusals that come before anything runs.
#include "mongo_orm/migrate/registry.hpp"

#include <gtest/gtest.h>

#include "mongo_orm/error.hpp"

namespace mongo_orm::migrate {
namespace {

Migration make(std::string version, std::vector<std::string> depends_on = {}) {
  Migration m;
  m.version = std::move(version);
  m.description = "migration " + m.version;
  m.depends_on = std::move(depends_on);
  m.up = [](MigrationContext&) {};
  return m;
}

std::vector<std::string> versions(const Registry& registry) {
  std::vector<std::string> out;
  for (const Migration* m : registry.ordered()) out.push_back(m->version);
  return out;
}

TEST(Versions, CompareSegmentBySegment) {
  EXPECT_LT(compare_versions("2023.01.9", "2023.01.010"), 0);
  EXPECT_LT(compare_versions("2023.01.001", "2023.01.002"), 0);
  EXPECT_EQ(compare_versions("2023.01.001", "2023.1.1"), 0);
  EXPECT_LT(compare_versions("2023.01", "2023.01.001"), 0);
  EXPECT_GT(compare_versions("2024.01.001", "2023.12.999"), 0);
  EXPECT_LT(compare_versions("1.0.0-alpha", "1.0.0-beta"), 0);
}

TEST(Registry, OrdersByVersionAndDependencies) {
  Registry registry;
  registry.add(make("2023.01.003")).add(make("2023.01.001")).add(make("2023.01.002", {"2023.01.004"}));
  registry.add(make("2023.01.004"));
  EXPECT_EQ(versions(registry), (std::vector<std::string>{"2023.01.001", "2023.01.003", "2023.01.004", "2023.01.002"}));
}

TEST(Registry, RefusesDuplicateVersions) {
  Registry registry;
  registry.add(make("2023.01.001"));
  try {
    registry.add(make("2023.01.001"));
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate migration version 2023.01.001"), std::string::npos);
  }
  EXPECT_EQ(registry.size(), 1u);
}

TEST(Registry, RefusesMissingDependenciesNamingEachOne) {
  Registry registry;
  registry.add(make("2", {"1"})).add(make("3", {"1", "0"}));
  try {
    registry.ordered();
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_STREQ(e.what(), "missing migration dependencies: 2 needs 1; 3 needs 1; 3 needs 0");
  }
}

TEST(Registry, RefusesCyclesNamingTheVersions) {
  Registry registry;
  registry.add(make("1")).add(make("2", {"4"})).add(make("3", {"2"})).add(make("4", {"3"}));
  try {
    registry.ordered();
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_STREQ(e.what(), "migration dependency cycle among: 2, 3, 4");
  }
}

TEST(Registry, RefusesMigrationsWithoutVersionOrUp) {
  Registry registry;
  EXPECT_THROW(registry.add(make("")), MigrationError);
  Migration no_up = make("1");
  no_up.up = nullptr;
  EXPECT_THROW(registry.add(no_up), MigrationError);
}

TEST(Migration, ReversibleOnlyWithADownAndNotMarkedIrreversible) {
  Migration m = make("1");
  EXPECT_FALSE(m.reversible());
  m.down = [](MigrationContext&) {};
  EXPECT_TRUE(m.reversible());
  m.irreversible = true;
  EXPECT_FALSE(m.reversible());
}

}  // namespace
}  // namespace mongo_orm::migrate
