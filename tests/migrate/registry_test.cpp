// Tests for migrate/registry.hpp and the operations' constructors: ordering and the refusals
// that come before anything runs.
#include "mongo_orm/migrate/registry.hpp"

#include <gtest/gtest.h>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/operations.hpp"

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

TEST(Registry, RefusesLongVersionsAndDescriptionsWithoutPrintingThem) {
  Registry registry;
  try {
    registry.add(make(std::string(101, '7')));
    ADD_FAILURE() << "a 101-byte version was accepted";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("is 101 bytes long; a version may be at most 100"), std::string::npos) << e.what();
    EXPECT_LT(std::string(e.what()).size(), 200u) << e.what();
  }
  Migration wordy = make("1");
  wordy.description.assign(Registry::max_description_bytes + 1, 'd');
  try {
    registry.add(wordy);
    ADD_FAILURE() << "a description over 64 KiB was accepted";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("the description of migration 1 is 65537 bytes long"), std::string::npos) << e.what();
    EXPECT_LT(std::string(e.what()).size(), 200u);
  }
  EXPECT_NO_THROW(registry.add(make(std::string(100, '7'))));
  EXPECT_EQ(registry.size(), 1u);
}

bson::Value text(std::size_t bytes) {
  bson::Document holder = bson::Builder{}.append("v", std::string(bytes, 'x')).extract();
  return bson::Value(holder["v"]);
}

TEST(Operations, ValuesNoDocumentCouldHoldAreRefusedWhenTheStepIsBuilt) {
  bson::Value huge = text(16 * 1024 * 1024);
  try {
    ops::add_field("users", "blob", huge);
    ADD_FAILURE() << "a 16 MiB value was accepted";
  } catch (const InvalidRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("add_field users.blob: the value at 'value' is 16777221 bytes"), std::string::npos)
        << e.what();
  }
  bson::Builder values;
  values.append("a", std::string(9 * 1024 * 1024, 'a')).append("b", std::string(9 * 1024 * 1024, 'b'));
  EXPECT_THROW(ops::set_fields("users", {}, values.extract()), InvalidRequestError);
  ops::ConvertOptions options;
  options.on_failure = ops::OnConversionFailure::set_default;
  options.default_value = huge;
  EXPECT_THROW(ops::convert_type("users", "age", bson::Type::int32, options), InvalidRequestError);
  EXPECT_NO_THROW(ops::add_field("users", "blob", text(1024 * 1024)));
}

TEST(Operations, AQuarantineMayNotBeTheCollectionItselfNorOneOfMongoOrms) {
  for (const char* name : {"users", "_mongo_orm_migrations", "_mongo_orm_locks"}) {
    ops::ConvertOptions convert;
    convert.on_failure = ops::OnConversionFailure::quarantine;
    convert.quarantine_collection = name;
    EXPECT_THROW(ops::convert_type("users", "age", bson::Type::int32, convert), InvalidRequestError) << name;
    ops::DedupeOptions dedupe;
    dedupe.quarantine_collection = name;
    EXPECT_THROW(ops::dedupe_for_unique("users", bson::from_json(R"({"email": 1})"), dedupe), InvalidRequestError) << name;
  }
  ops::DedupeOptions elsewhere;
  elsewhere.quarantine_collection = "duplicate_users";
  EXPECT_NO_THROW(ops::dedupe_for_unique("users", bson::from_json(R"({"email": 1})"), elsewhere));
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

namespace mongo_orm::migrate {
namespace {

// What a batch retries: connection losses, MongoDB's transient codes and labels, and FerretDB's
// answer to a command cut short by its shutdown; never a refusal.
TEST(IsTransient, ConnectionLossesShutdownsAndRetryableLabelsButNoRefusal) {
  EXPECT_TRUE(is_transient(ConnectionError("socket error")));
  EXPECT_TRUE(is_transient(CommandError("interrupted at shutdown", 11600, "InterruptedAtShutdown", {}, {})));
  EXPECT_TRUE(is_transient(CommandError("x", 2, "BadValue", {"RetryableWriteError"}, {})));
  EXPECT_TRUE(is_transient(CommandError("[msg_update.go:133 handler.(*Handler).updateDocument] context canceled after delay",
                                        1, "InternalError", {}, {})));
  EXPECT_FALSE(is_transient(CommandError("E11000 duplicate key error", 1, "InternalError", {}, {})));
  EXPECT_FALSE(is_transient(CommandError("bad value", 2, "BadValue", {}, {})));
  EXPECT_FALSE(is_transient(InvalidRequestError("no")));
}

}  // namespace
}  // namespace mongo_orm::migrate
