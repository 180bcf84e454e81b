// Every scenario of the seed documents as an integration test against the real server, with
// the data set up as the seeds describe it. Seed 000: AddUserStatus, NormalizeEmails,
// SplitNameField, the v1 -> v2 upgrade, data type conflicts, index conflicts, DataMigrator, a
// large batch migration with progress, coexistence with raw driver code and its count check.
// Seed 002: example 1 (a field added with a default), example 2 (the inheritance refactor),
// post-processing checks. Then the round trip and the testing helpers.
#include <gtest/gtest.h>

#include "model/jedi_models.hpp"
#include "mongo_orm/mongo_orm.hpp"
#include "migrate/migration_test.hpp"
#include "support/server.hpp"

namespace seed002 {
using namespace mongo_orm;
// Example 1, version 2 of the application: `enabled` added with a default of true.
struct User {
  bson::ObjectId id;
  std::string name;
  bool enabled = true;
};
inline auto define_schema(model::SchemaTag<User>) {
  return model::schema<User>("users").id(&User::id).field(&User::name, "name", model::required()).field(
      &User::enabled, "enabled", model::default_value(true));
}
}  // namespace seed002

namespace seed000 {
using namespace mongo_orm;
// The model of the PyMongo / Motor migration scripts.
struct User {
  bson::ObjectId id;
  std::string name;
  std::string email;
};
inline auto define_schema(model::SchemaTag<User>) {
  return model::schema<User>("users").id(&User::id).field(&User::name, "name", model::required()).field(
      &User::email, "email", model::required());
}
}  // namespace seed000

namespace mongo_orm::migrate {
namespace {

using bson::from_json;
using bson::make_value;
using model::field;
using testing::ServerTest;

class SeedScenarios : public testing::MigrationTest {
 protected:
  Registry registry;
};

// Seed 000 AddUserStatusMigration, with its test (seed 000 "Testing Migrations").
Migration add_user_status() {
  return {.version = "2023.01.001",
          .description = "Add status field to users with default value",
          .steps = {ops::add_field("users", "status", make_value("active")),
                    ops::create_index("users", from_json(R"({"status": 1})"))}};
}

TEST_F(SeedScenarios, AddUserStatusUpAndDown) {
  load("users", {R"({"name": "User 1", "email": "user1@example.com"})", R"({"name": "User 2", "email": "user2@example.com"})"});
  registry.add(add_user_status());
  Runner runner(db, registry);
  runner.up();
  EXPECT_EQ(count("users", R"({"status": "active"})"), 2);
  bool indexed = false;
  for (const auto& index : db.collection("users").list_indexes()) indexed |= index["name"].as_string() == "status_1";
  EXPECT_TRUE(indexed);
  runner.down({.all = true});
  EXPECT_EQ(count("users", R"({"status": {"$exists": true}})"), 0);
}

TEST_F(SeedScenarios, NormalizeEmailsIsIrreversibleAndDownIsRefused) {
  load("users", {R"({"name": "User 1", "email": "User1@EXAMPLE.com"})", R"({"name": "User 2", "email": "USER2@example.COM"})"});
  registry.add({.version = "2023.01.002", .description = "Normalize email addresses to lowercase",
                .steps = {ops::normalize_string("users", "email", {.lowercase = true, .trim = false})}});
  Runner runner(db, registry);
  EXPECT_EQ(runner.plan().migrations[0].irreversible.size(), 1u);
  runner.up();
  EXPECT_EQ(count("users", R"({"email": {"$in": ["user1@example.com", "user2@example.com"]}})"), 2);
  try {
    runner.down({.all = true});
    FAIL() << "down of an irreversible migration went ahead";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("irreversible"), std::string::npos) << e.what();
  }
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::applied);
  EXPECT_EQ(runner.plan_down({.all = true}).exit_code(), 2);
}

TEST_F(SeedScenarios, SplitNameFieldUpThenDownRestoresTheExactDocuments) {
  load("users", {R"({"_id": 1, "name": "John Doe", "email": "j@x"})", R"({"_id": 2, "name": "Madonna"})",
                 R"({"_id": 3, "name": "Mary Ann Evans"})", R"({"_id": 4, "name": "Trailing "})"});
  registry.add({.version = "2023.01.003", .description = "Split name field into first_name and last_name",
                .steps = {ops::split_field("users", "name", "first_name", "last_name")}});
  Snapshot before = snapshot(db);
  Runner runner(db, registry);
  runner.up();
  EXPECT_EQ(count("users", R"({"_id": 3, "first_name": "Mary", "last_name": "Ann Evans"})"), 1);
  EXPECT_EQ(count("users", R"({"_id": 2, "first_name": "Madonna", "last_name": ""})"), 1);
  EXPECT_EQ(count("users", R"({"name": {"$exists": true}})"), 0);
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

TEST_F(SeedScenarios, UpgradeV1ToV2RenamesAndAddsIsActiveWhereMissing) {
  load("users", {R"({"_id": 1, "name": "a", "created_date": {"$date": "2021-01-01T00:00:00Z"}, "modified_date": {"$date": "2021-02-01T00:00:00Z"}})",
                 R"({"_id": 2, "name": "b", "created_date": {"$date": "2021-03-01T00:00:00Z"}, "is_active": false})"});
  registry.add({.version = "2.0.0", .description = "Upgrade from v1.0 to v2.0",
                .steps = {ops::rename_field("users", "created_date", "created_at"),
                          ops::rename_field("users", "modified_date", "updated_at"),
                          ops::add_field("users", "is_active", make_value(true))}});
  Snapshot before = snapshot(db);
  Runner runner(db, registry);
  runner.up();
  EXPECT_EQ(count("users", R"({"created_date": {"$exists": true}})"), 0);
  EXPECT_EQ(count("users", R"({"created_at": {"$exists": true}})"), 2);
  EXPECT_EQ(count("users", R"({"_id": 1, "updated_at": {"$exists": true}, "is_active": true})"), 1);
  EXPECT_EQ(count("users", R"({"_id": 2, "is_active": false})"), 1) << "only where missing";
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

TEST_F(SeedScenarios, DataTypeConflictsConvertAndInvalidValuesGetTheDefault) {
  load("users", {R"({"_id": 1, "age": "31"})", R"({"_id": 2, "age": "thirty"})", R"({"_id": 3, "age": 45})", R"({"_id": 4, "age": ""})"});
  registry.add({.version = "1", .description = "age as int",
                .steps = {ops::convert_type("users", "age", bson::Type::int32,
                                            {.on_failure = ops::OnConversionFailure::set_default, .default_value = make_value(0)})}});
  Runner runner(db, registry);
  auto estimate = runner.plan().migrations[0].operations[0];
  EXPECT_EQ(estimate.documents, 3);
  runner.up();
  EXPECT_EQ(count("users", R"({"age": {"$type": "string"}})"), 0);
  EXPECT_EQ(count("users", R"({"_id": 1, "age": 31})"), 1);
  EXPECT_EQ(count("users", R"({"age": 0})"), 2) << "seed 000: invalid values get 0";
}

TEST_F(SeedScenarios, IndexConflictsDuplicatesAreQuarantinedAndTheUniqueIndexCreated) {
  load("users", {R"({"_id": 1, "email": "a@example.com"})", R"({"_id": 2, "email": "a@example.com"})",
                 R"({"_id": 3, "email": "b@example.com"})", R"({"_id": 4, "email": "a@example.com"})"});
  // Without dedupe the plan shows the conflict that would make the index fail.
  Registry plain;
  plain.add({.version = "1", .description = "unique emails",
             .steps = {ops::create_index("users", from_json(R"({"email": 1})"), from_json(R"({"unique": true})"))}});
  EXPECT_EQ(Runner(db, plain).plan().exit_code(), 2);

  registry.add({.version = "1", .description = "unique emails",
                .steps = {ops::dedupe_for_unique("users", from_json(R"({"email": 1})"))}});
  Runner runner(db, registry);
  runner.up();
  EXPECT_EQ(count("users", "{}"), 2);
  EXPECT_EQ(count("users", R"({"_id": 1})"), 1) << "seed 000 keeps the first";
  EXPECT_EQ(count("users_quarantine", R"({"_id": {"$in": [2, 4]}, "reason": {"$regex": "duplicate of _id 1"}})"), 2)
      << "never just deleted";
  EXPECT_THROW(db.collection("users").insert_one(from_json(R"({"email": "b@example.com"})")), DuplicateKeyError);
}

TEST_F(SeedScenarios, DataMigratorCopiesOldUsersThroughTheTransform) {
  std::vector<bson::Document> old;
  for (int i = 0; i < 120; ++i) {
    old.push_back(bson::Builder{}
                      .append("_id", i)
                      .append("name", "User " + std::to_string(i))
                      .append("email", "User" + std::to_string(i) + "@EXAMPLE.com")
                      .append("created_date", bson::DateTime(1'600'000'000'000 + i))
                      .extract());
  }
  db.collection("old_users").insert_many(old);
  auto migration_date = bson::DateTime::now();
  // Seed 000 DataMigrator.transform_user_data.
  auto transform_user_data = [&](bson::DocumentView doc) -> std::optional<bson::Document> {
    std::string email(doc.contains("email") ? doc["email"].as_string() : "");
    for (char& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bson::Builder out;
    out.append("id", doc["_id"]).append("name", doc["name"]).append("email", email);
    if (auto created = doc.find("created_date")) out.append("created_at", *created); else out.append("created_at", migration_date);
    if (auto modified = doc.find("modified_date")) out.append("updated_at", *modified); else out.append("updated_at", migration_date);
    out.append("is_active", doc.contains("active") ? doc["active"].as_bool() : true);
    out.append("metadata", [&](bson::Builder& m) { m.append("migrated_from", "old_users").append("migration_date", migration_date); });
    return out.extract();
  };
  std::vector<int64_t> progress;
  registry.add({.version = "1", .description = "DataMigrator: old_users -> users",
                .steps = {ops::copy_collection("old_users", "users", transform_user_data, "transform_user_data")}});
  Runner runner(db, registry, {.batch = {.size = 50}, .progress = [&](const Progress& p) { progress.push_back(p.done); }});
  runner.up();
  EXPECT_EQ(count("users", "{}"), 120);
  EXPECT_EQ(count("users", R"({"email": "user7@example.com", "metadata.migrated_from": "old_users", "is_active": true})"), 1);
  EXPECT_EQ(progress, (std::vector<int64_t>{0, 50, 100, 120}));
  runner.down({.all = true});
  EXPECT_EQ(count("users", "{}"), 0);
  EXPECT_EQ(count("old_users", "{}"), 120) << "the source is untouched";
}

TEST_F(SeedScenarios, LargeDatasetBatchMigrationReportsProgress) {
  constexpr int total = 600;
  std::vector<bson::Document> docs;
  for (int i = 0; i < total; ++i) docs.push_back(bson::Builder{}.append("_id", i).append("name", "u").extract());
  db.collection("users").insert_many(docs);
  auto when = bson::DateTime::now();
  std::vector<std::pair<int64_t, int64_t>> seen;
  registry.add({.version = "1", .description = "migrate_large_dataset",
                .steps = {ops::transform("users", {}, [&](bson::DocumentView) -> std::optional<bson::Document> {
                  return bson::Builder{}.append("$set", [&](bson::Builder& s) {
                    s.append("migrated", true).append("migration_date", when);
                  }).extract();
                }, {.label = "mark migrated"})}});
  Runner runner(db, registry, {.batch = {.size = 250, .pause = std::chrono::milliseconds(100)},
                               .progress = [&](const Progress& p) { seen.emplace_back(p.done, p.total); }});
  auto started = std::chrono::steady_clock::now();
  runner.up();
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300)) << "the pause after each batch";
  EXPECT_EQ(count("users", R"({"migrated": true})"), total);
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, int64_t>>{{0, total}, {250, total}, {500, total}, {600, total}}));
  EXPECT_EQ(runner.history().back().operations[0].modified, total);
}

TEST_F(SeedScenarios, CoexistenceRawWritesAreMigratedThenReadByModelsAndCountsCheckedByVerify) {
  // Written by code that uses the driver directly (seed 000 PyMongo / Motor), names not split.
  Collection raw = db.collection("users");
  raw.insert_one(from_json(R"({"name": "Motor User", "email": "MOTOR@example.com"})"));
  raw.insert_one(from_json(R"({"name": "PyMongo User", "email": "py@example.com"})"));
  model::TypedCollection<seed000::User> users(db);
  users.insert(seed000::User{{}, "ORM User", "orm@example.com"});
  EXPECT_EQ(raw.find_one(from_json(R"({"email": "orm@example.com"})"))->view()["name"].as_string(), "ORM User")
      << "read back through the raw driver";
  registry.add({.version = "1", .description = "normalize emails",
                .steps = {ops::normalize_string("users", "email", {.keep_backup = true})}});
  Runner(db, registry).up();
  auto motor = users.find_one(field(&seed000::User::email) == std::string("motor@example.com"));
  ASSERT_TRUE(motor);
  EXPECT_EQ((*motor)->name, "Motor User");

  ModelSet models;
  models.add<seed000::User>("User");
  VerifyReport report = verify(db, models);
  ASSERT_EQ(report.models.size(), 1u);
  EXPECT_EQ(report.models[0].documents, 3) << "raw count";
  EXPECT_EQ(report.models[0].visible, 3) << "ORM count: the same";
  EXPECT_EQ(report.models[0].sampled, 3);
  EXPECT_TRUE(report.ok());
}

TEST_F(SeedScenarios, Seed002Example1QueriesMissOldDocumentsUntilTheFieldIsAdded) {
  db.collection("users").insert_one(from_json(R"({"name": "John Doe"})"));  // version 1 of the app
  model::TypedCollection<seed002::User> users(db);
  EXPECT_EQ(users.count(), 1);
  auto user = users.find_one();
  ASSERT_TRUE(user);
  EXPECT_TRUE((*user)->enabled) << "the default fills the loaded object";
  EXPECT_EQ(users.count(field(&seed002::User::enabled) == true), 0) << "uh? as the seed shows";
  EXPECT_EQ(users.count(field(&seed002::User::enabled) == false), 0);
  EXPECT_EQ(users.missing_count(field(&seed002::User::enabled)), 1);

  registry.add({.version = "1", .description = "enabled defaults to true",
                .steps = {ops::add_field("users", "enabled", make_value(true))}});
  Runner(db, registry).up();
  EXPECT_EQ(users.count(field(&seed002::User::enabled) == true), 1);
  EXPECT_EQ(users.missing_count(field(&seed002::User::enabled)), 0);
}

TEST_F(SeedScenarios, Seed002Example2InheritanceRefactorWithPostProcessingChecks) {
  model::TypedCollection<v1::Jedi> jedis(db);
  jedis.insert(v1::Jedi{{{}, "Darth Vader"}, true, "red"});
  jedis.insert(v1::Jedi{{{}, "Obi Wan Kenobi"}, false, "blue"});
  model::TypedCollection<v2::Human> humans(db);
  model::TypedCollection<v2::GoodJedi> good(db);
  model::TypedCollection<v2::BadSith> bad(db);
  // Where MongoEngine reads as if the collection were empty, every read names the stored class.
  EXPECT_THROW(good.count(), DecodeError);
  EXPECT_THROW(humans.count(), DecodeError);
  EXPECT_THROW(humans.find_one(), DecodeError);
  EXPECT_EQ(db.collection("humans").count_documents({}), 2);

  // Post-processing checks before the migration: every document fails, naming _cls.
  ModelSet models;
  models.add_hierarchy<v2::Humans>();
  VerifyReport before = verify(db, models, {.sample_size = 1000, .seed = 7});
  ASSERT_EQ(before.models.size(), 1u);
  EXPECT_FALSE(before.ok());
  EXPECT_EQ(before.models[0].documents, 2);
  EXPECT_EQ(before.models[0].visible, 0);
  EXPECT_EQ(before.models[0].failed, 2);
  ASSERT_FALSE(before.models[0].fields.empty());
  EXPECT_EQ(before.models[0].fields[0].path, "_cls");
  EXPECT_EQ(before.models[0].fields[0].example_ids.size(), 2u);

  registry.add({.version = "1", .description = "Jedi -> GoodJedi / BadSith",
                .steps = {ops::remap_class("humans", from_json(R"({"_cls": "Human.Jedi", "dark_side": false})"),
                                           "Human.GoodJedi", {"dark_side"}),
                          ops::remap_class("humans", from_json(R"({"_cls": "Human.Jedi", "dark_side": true})"),
                                           "Human.BadSith", {"dark_side"})}});
  Runner runner(db, registry);
  runner.up();
  EXPECT_EQ(good.count(), 1);
  EXPECT_EQ(bad.count(), 1);
  EXPECT_EQ(humans.count(), 2);
  EXPECT_EQ((*good.find_one())->name, "Obi Wan Kenobi") << "loads: dark_side is gone";
  EXPECT_EQ((*bad.find_one())->name, "Darth Vader");
  VerifyReport after = verify(db, models);
  EXPECT_TRUE(after.ok()) << (after.models[0].fields.empty() ? "" : after.models[0].fields[0].example_reason);

  runner.down({.all = true});
  EXPECT_EQ(jedis.count(), 2) << "the v1 application sees its documents again";
}

TEST_F(SeedScenarios, PostProcessingChecksReportFailuresPerFieldWithExampleIds) {
  load("users", {R"({"name": "ok", "email": "a@x"})", R"({"name": 5, "email": "b@x"})", R"({"email": "c@x"})",
                 R"({"name": 6, "email": "d@x"})"});
  ModelSet models;
  models.add<seed000::User>("User");
  VerifyReport report = verify(db, models, {.sample_size = 3, .seed = 1});
  EXPECT_EQ(report.models[0].sampled, 3);
  report = verify(db, models);
  ASSERT_EQ(report.models.size(), 1u);
  EXPECT_EQ(report.models[0].failed, 3);
  ASSERT_EQ(report.models[0].fields.size(), 1u);
  EXPECT_EQ(report.models[0].fields[0].path, "name");
  EXPECT_EQ(report.models[0].fields[0].count, 3);
  EXPECT_EQ(report.models[0].fields[0].example_ids.size(), 3u);
}

TEST_F(SeedScenarios, RoundTripOnACopyLeavesTheDatabaseAndFindsNoDifference) {
  load("users", {R"({"_id": 1, "name": "John Doe", "created_date": 1, "age": "12"})", R"({"_id": 2, "name": "Cher", "age": "x"})"});
  registry.add(add_user_status());
  registry.add({.version = "2023.01.003", .description = "split", .depends_on = {"2023.01.001"},
                .steps = {ops::split_field("users", "name", "first_name", "last_name"),
                          ops::rename_field("users", "created_date", "created_at"),
                          ops::convert_type("users", "age", bson::Type::int32, {.on_failure = ops::OnConversionFailure::quarantine})}});
  Snapshot before = snapshot(db);
  RoundTripResult result = round_trip_on_copy(db, registry);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.applied.size(), 2u);
  EXPECT_EQ(difference(before, snapshot(db)), "") << "the original is untouched";
  EXPECT_EQ(Runner(db, registry).status()[0].status, MigrationStatus::pending);
}

TEST_F(SeedScenarios, RoundTripFindsAMigrationWhoseDownDoesNotUndoItsUp) {
  load("users", {R"({"_id": 1, "email": "A@x"})"});
  registry.add({.version = "1", .description = "lossy",
                .up = [](MigrationContext& ctx) { ctx.database.collection("users").update_many({}, from_json(R"({"$set": {"email": "a@x"}})")); },
                .down = [](MigrationContext&) {}});
  RoundTripResult result = round_trip(db, registry);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.after_down.find("email"), std::string::npos) << result.after_down;
}

TEST(TemporaryDatabaseTest, IsDroppedAfterwards) {
  std::string name;
  {
    TemporaryDatabase scratch(mongo_orm::testing::shared_client());
    name = scratch.database().name();
    scratch.database().collection("c").insert_one(from_json(R"({"x": 1})"));
    auto names = mongo_orm::testing::shared_client().database(name).list_collection_names();
    EXPECT_EQ(names.size(), 1u);
  }
  EXPECT_TRUE(mongo_orm::testing::shared_client().database(name).list_collection_names().empty());
}

}  // namespace
}  // namespace mongo_orm::migrate
