// Tests for the built-in operations (migrate/operations.hpp) against the real server: what each
// one changes, what its plan counts, what it refuses, and that down gives back the exact
// original documents.
#include "mongo_orm/migrate/operations.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "mongo_orm/migrate/runner.hpp"
#include "mongo_orm/migrate/testing.hpp"
#include "migrate/migration_test.hpp"
#include "support/server.hpp"

namespace mongo_orm::migrate {
namespace {

using bson::from_json;
using bson::make_value;
using testing::ServerTest;

class OperationsTest : public testing::MigrationTest {
 protected:
  bool detail_has_index(std::string_view name) {
    for (const auto& index : db.collection("users").list_indexes()) {
      if (index["name"].as_string() == name) return true;
    }
    return false;
  }
  // A registry of one migration with these steps.
  Registry one(std::vector<Step> steps, std::string version = "1") {
    Registry registry;
    registry.add(Migration{.version = std::move(version), .description = "under test", .steps = std::move(steps)});
    return registry;
  }
  // up, then down, then expects the data as it was; returns what up recorded. Then the same
  // through the transactional code path (rehearsed where the server has no transactions), so
  // that a step that would leave the transaction's session fails here on every server.
  std::vector<OperationStats> up_down_exact(const Registry& registry) {
    Snapshot before = snapshot(db);
    Runner runner(db, registry);
    runner.up();
    auto applied = runner.history().back().operations;
    runner.down({.all = true});
    EXPECT_EQ(difference(before, snapshot(db)), "");

    bool transactional_steps = true;
    for (const Migration* m : registry.ordered()) {
      for (const Step& step : m->steps) transactional_steps = transactional_steps && step->transactional();
    }
    if (!transactional_steps) return applied;
    Runner transactional(db, registry, {.rehearse_transactions = true});
    transactional.up();
    EXPECT_EQ(transactional.history().back().operations.size(), applied.size());
    transactional.down({.all = true});
    EXPECT_EQ(difference(before, snapshot(db)), "") << "through the transactional path";
    return applied;
  }
};

TEST_F(OperationsTest, AddFieldSetsOnlyWhereMissingAndUndoKeepsPreexistingValues) {
  load("users", {R"({"_id": 1, "name": "a"})", R"({"_id": 2, "name": "b", "status": "banned"})",
                 R"({"_id": 3, "name": "c", "status": "active"})"});
  Registry registry = one({ops::add_field("users", "status", make_value("active"))});
  Runner runner(db, registry);
  Plan plan = runner.plan();
  ASSERT_EQ(plan.migrations.size(), 1u);
  EXPECT_EQ(plan.migrations[0].operations[0].documents, 1);
  EXPECT_EQ(plan.exit_code(), 1);
  Snapshot before = snapshot(db);
  runner.up();
  EXPECT_EQ(count("users", R"({"status": "active"})"), 2);
  EXPECT_EQ(count("users", R"({"status": "banned"})"), 1);
  EXPECT_EQ(runner.history().back().operations[0].modified, 1);
  EXPECT_EQ(runner.plan().exit_code(), 0) << "nothing pending";
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "") << "document 3 had status: active before and keeps it";
}

TEST_F(OperationsTest, AddFieldValueIsNeverReadAsAnOperator) {
  // The value is compared with $eq: {"a": 1} is a value here, and only the document that had
  // exactly it before keeps it on undo.
  load("users", {R"({"_id": 1})", R"({"_id": 2, "v": {"a": 1}})", R"({"_id": 3, "v": {"a": 2}})"});
  up_down_exact(one({ops::add_field("users", "v", bson::Value(from_json(R"({"x": {"a": 1}})")["x"]))}));
}

TEST_F(OperationsTest, RemoveFieldBacksUpAndDownRestoresExactly) {
  load("users", {R"({"_id": 1, "legacy": {"a": [1, 2]}, "name": "a"})", R"({"_id": 2, "name": "b"})",
                 R"({"_id": 3, "legacy": null})"});
  Registry registry = one({ops::remove_field("users", "legacy")});
  Runner runner(db, registry);
  EXPECT_EQ(runner.plan().migrations[0].operations[0].documents, 2);
  Snapshot before = snapshot(db);
  runner.up();
  EXPECT_EQ(count("users", R"({"legacy": {"$exists": true}})"), 0);
  EXPECT_EQ(runner.history().back().operations[0].backed_up, 2);
  EXPECT_TRUE(db.has_collection(backup_collection_name("1", "remove_field users.legacy")));
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
  EXPECT_FALSE(db.has_collection(backup_collection_name("1", "remove_field users.legacy"))) << "dropped once restored";
}

TEST_F(OperationsTest, DownRefusesWhenABackupItNeedsIsGoneTouchingNothing) {
  load("users", {R"({"_id": 1, "legacy": 1})"});
  Registry registry = one({ops::remove_field("users", "legacy")});
  Runner runner(db, registry);
  runner.up();
  db.collection(backup_collection_name("1", "remove_field users.legacy")).drop();
  try {
    runner.down({.all = true});
    FAIL() << "down went ahead without its backup";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("backups"), std::string::npos) << e.what();
  }
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::applied);
  EXPECT_EQ(runner.plan_down({.all = true}).exit_code(), 2);
}

TEST_F(OperationsTest, RenameFieldRefusesToOverwriteAndRoundTrips) {
  load("users", {R"({"_id": 1, "created_date": 1})", R"({"_id": 2, "created_date": 2, "created_at": 9})"});
  Registry registry = one({ops::rename_field("users", "created_date", "created_at")});
  Runner runner(db, registry);
  Plan plan = runner.plan();
  EXPECT_EQ(plan.exit_code(), 2);
  ASSERT_FALSE(plan.migrations[0].operations[0].conflicts.empty());
  EXPECT_NE(plan.migrations[0].operations[0].conflicts[0].find("hold both"), std::string::npos);
  EXPECT_THROW(runner.up(), MigrationError);
  EXPECT_EQ(count("users", R"({"created_date": {"$exists": true}})"), 2) << "nothing renamed";
  db.collection("users").delete_one(from_json(R"({"_id": 2})"));
  up_down_exact(registry);
}

TEST_F(OperationsTest, FieldPathsThatAreOperatorsAreRefused) {
  EXPECT_THROW(ops::add_field("users", "$where", make_value(1)), InvalidRequestError);
  EXPECT_THROW(ops::remove_field("users", "a..b"), InvalidRequestError);
  EXPECT_THROW(ops::rename_field("users", "a", "a.b"), InvalidRequestError);
  EXPECT_THROW(ops::add_field("", "a", make_value(1)), InvalidRequestError);
}

TEST_F(OperationsTest, SetFieldsWhereAFilterMatchesIsUndoneFromTheBackup) {
  load("users", {R"({"_id": 1, "active": 1})", R"({"_id": 2, "active": 0, "is_active": "x"})", R"({"_id": 3})"});
  auto stats = up_down_exact(one({ops::set_fields("users", from_json(R"({"active": {"$exists": true}})"),
                                                  from_json(R"({"is_active": true, "flags.migrated": true})"))}));
  EXPECT_EQ(stats[0].matched, 2);
  EXPECT_EQ(stats[0].backed_up, 2);
}

TEST_F(OperationsTest, CreateIndexPlansUniqueConflictsAndUndoDropsOnlyWhatItCreated) {
  load("users", {R"({"_id": 1, "email": "a"})", R"({"_id": 2, "email": "a"})", R"({"_id": 3, "email": "b"})"});
  Registry unique = one({ops::create_index("users", from_json(R"({"email": 1})"), from_json(R"({"unique": true})"))});
  Plan plan = Runner(db, unique).plan();
  EXPECT_EQ(plan.exit_code(), 2);
  ASSERT_EQ(plan.migrations[0].operations[0].conflicts.size(), 1u);
  EXPECT_NE(plan.migrations[0].operations[0].conflicts[0].find("1 duplicates"), std::string::npos)
      << plan.migrations[0].operations[0].conflicts[0];

  db.collection("users").create_index({from_json(R"({"name": 1})"), {}});
  Registry existing = one({ops::create_index("users", from_json(R"({"name": 1})"))}, "2");
  Runner runner(db, existing);
  runner.up();
  runner.down({.all = true});
  EXPECT_TRUE(detail_has_index("name_1")) << "the index was there before the migration";
  Registry fresh = one({ops::create_index("users", from_json(R"({"email": 1})"))}, "3");
  Runner other(db, fresh);
  other.up();
  EXPECT_TRUE(detail_has_index("email_1"));
  other.down({.all = true});
  EXPECT_FALSE(detail_has_index("email_1"));
}

TEST_F(OperationsTest, DropIndexUndoRecreatesTheExactSpecification) {
  load("users", {R"({"_id": 1, "email": "a"})"});
  db.collection("users").create_index({from_json(R"({"email": 1})"), from_json(R"({"unique": true, "name": "by_email"})")});
  Registry registry = one({ops::drop_index("users", "by_email")});
  Runner runner(db, registry);
  runner.up();
  EXPECT_FALSE(detail_has_index("by_email"));
  runner.down({.all = true});
  bool unique = false;
  for (const auto& index : db.collection("users").list_indexes()) {
    if (index["name"].as_string() == "by_email") unique = index.find("unique") && index["unique"].as_bool();
  }
  EXPECT_TRUE(unique);
  Registry missing = one({ops::drop_index("users", "nope")}, "2");
  EXPECT_EQ(Runner(db, missing).plan().exit_code(), 2);
}

TEST_F(OperationsTest, RenameCollectionRefusesAnExistingTargetAndRenamesBack) {
  load("old_users", {R"({"_id": 1})"});
  load("taken", {R"({"_id": 1})"});
  Registry onto_taken = one({ops::rename_collection("old_users", "taken")});
  EXPECT_EQ(Runner(db, onto_taken).plan().exit_code(), 2);
  Registry registry = one({ops::rename_collection("old_users", "users")}, "2");
  Runner runner(db, registry);
  runner.up();
  EXPECT_TRUE(db.has_collection("users"));
  EXPECT_FALSE(db.has_collection("old_users"));
  runner.down({.all = true});
  EXPECT_TRUE(db.has_collection("old_users"));
}

TEST_F(OperationsTest, RemapClassChangesClsAndRemovesFieldsThenRestoresThem) {
  load("humans", {R"({"_id": 1, "_cls": "Human.Jedi", "name": "Darth Vader", "dark_side": true})",
                  R"({"_id": 2, "_cls": "Human.Jedi", "name": "Obi Wan Kenobi", "dark_side": false})",
                  R"({"_id": 3, "_cls": "Human", "name": "Han"})"});
  Registry registry = one({ops::remap_class("humans", from_json(R"({"_cls": "Human.Jedi", "dark_side": false})"),
                                            "Human.GoodJedi", {"dark_side"}),
                           ops::remap_class("humans", from_json(R"({"_cls": "Human.Jedi", "dark_side": true})"),
                                            "Human.BadSith", {"dark_side"})});
  Snapshot before = snapshot(db);
  Runner runner(db, registry);
  runner.up();
  EXPECT_EQ(count("humans", R"({"_cls": "Human.GoodJedi", "dark_side": {"$exists": false}})"), 1);
  EXPECT_EQ(count("humans", R"({"_cls": "Human.BadSith", "dark_side": {"$exists": false}})"), 1);
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

TEST_F(OperationsTest, ConvertTypeQuarantinesWhatDoesNotConvertAndDownBringsItBack) {
  load("users", {R"({"_id": 1, "age": "42"})", R"({"_id": 2, "age": " 7 "})", R"({"_id": 3, "age": "forty"})",
                 R"({"_id": 4, "age": 30})", R"({"_id": 5, "age": null})", R"({"_id": 6, "age": 12.0})", R"({"_id": 7})"});
  Registry registry = one({ops::convert_type("users", "age", bson::Type::int32,
                                             {.on_failure = ops::OnConversionFailure::quarantine})});
  Runner runner(db, registry);
  Plan plan = runner.plan();
  const Estimate& e = plan.migrations[0].operations[0];
  EXPECT_EQ(e.documents, 5) << "the strings, the double and the null (a value that does not convert); not the int or the missing";
  ASSERT_EQ(e.notes.size(), 2u);
  EXPECT_NE(e.notes[0].find("1 document has no 'age' (e.g. _id 7)"), std::string::npos) << e.notes[0];
  EXPECT_NE(e.notes[1].find("2 values do not convert"), std::string::npos) << e.notes[1];
  EXPECT_NE(e.notes[1].find("\"forty\""), std::string::npos) << e.notes[1];
  Snapshot before = snapshot(db);
  runner.up();
  EXPECT_EQ(count("users", R"({"age": {"$type": "int"}})"), 4);
  EXPECT_EQ(count("users", R"({"_id": 3})"), 0);
  auto quarantined = db.collection("users_quarantine").find_one(from_json(R"({"_id": 3})"));
  ASSERT_TRUE(quarantined);
  EXPECT_EQ((*quarantined)["document"].as_document()["age"].as_string(), "forty");
  EXPECT_EQ((*quarantined)["migration"].as_string(), "1");
  EXPECT_EQ(count("users", R"({"_id": 5})"), 0) << "the null is quarantined too";
  EXPECT_EQ(runner.history().back().operations[0].quarantined, 2);
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

TEST_F(OperationsTest, ConvertTypeSetsADefaultOrLeavesValuesAsAsked) {
  load("users", {R"({"_id": 1, "age": "42"})", R"({"_id": 2, "age": "n/a"})"});
  Registry with_default = one({ops::convert_type("users", "age", bson::Type::int32,
                                                 {.on_failure = ops::OnConversionFailure::set_default, .default_value = make_value(0)})});
  Runner set(db, with_default);
  set.up();
  EXPECT_EQ(count("users", R"({"age": 0})"), 1) << "seed 000: invalid values get the default";
  EXPECT_EQ(count("users", R"({"age": 42})"), 1);
  set.down({.all = true});
  EXPECT_EQ(count("users", R"({"age": "n/a"})"), 1);
  Registry leaving = one({ops::convert_type("users", "age", bson::Type::int64)}, "2");
  Runner leave(db, leaving);
  leave.up();
  EXPECT_EQ(count("users", R"({"age": {"$type": "long"}})"), 1);
  EXPECT_EQ(count("users", R"({"age": "n/a"})"), 1);
  EXPECT_EQ(leave.history().back().operations[0].skipped, 1);
}

TEST_F(OperationsTest, ConvertTypeCoversTheOtherTargets) {
  load("t", {R"({"_id": 1, "s": 12, "d": "2.5", "b": "TRUE", "when": "2024-01-02T03:04:05Z"})"});
  Registry registry = one({ops::convert_type("t", "s", bson::Type::string), ops::convert_type("t", "d", bson::Type::double_),
                           ops::convert_type("t", "b", bson::Type::boolean), ops::convert_type("t", "when", bson::Type::date_time)});
  Runner runner(db, registry);
  runner.up();
  auto doc = *db.collection("t").find_one();
  EXPECT_EQ(doc["s"].as_string(), "12");
  EXPECT_EQ(doc["d"].as_double(), 2.5);
  EXPECT_TRUE(doc["b"].as_bool());
  EXPECT_EQ(doc["when"].as_date_time().to_iso8601(), "2024-01-02T03:04:05Z");
}

TEST_F(OperationsTest, NormalizeStringIsIrreversibleUnlessABackupIsKept) {
  load("users", {R"({"_id": 1, "email": " User1@EXAMPLE.com"})", R"({"_id": 2, "email": "ok@example.com"})"});
  Registry plain = one({ops::normalize_string("users", "email")});
  EXPECT_FALSE(plain.find("1")->reversible());
  Plan plan = Runner(db, plain).plan();
  EXPECT_EQ(plan.migrations[0].operations[0].documents, 1);
  EXPECT_EQ(plan.migrations[0].irreversible.size(), 1u);
  auto stats = up_down_exact(one({ops::normalize_string("users", "email", {.keep_backup = true})}, "2"));
  EXPECT_EQ(stats[0].modified, 1);
}

TEST_F(OperationsTest, SplitThenMergeGivesBackEveryOriginalExactly) {
  load("users", {R"({"_id": 1, "name": "John Doe"})", R"({"_id": 2, "name": "Cher"})", R"({"_id": 3, "name": "Cher "})",
                 R"({"_id": 4, "name": " Leading"})", R"({"_id": 5, "name": "A  B C"})", R"({"_id": 6, "name": ""})",
                 R"({"_id": 7, "name": 42})", R"({"_id": 8})"});
  Registry registry = one({ops::split_field("users", "name", "first_name", "last_name")});
  Snapshot before = snapshot(db);
  Runner runner(db, registry);
  runner.up();
  auto john = *db.collection("users").find_one(from_json(R"({"_id": 1})"));
  EXPECT_EQ(john["first_name"].as_string(), "John");
  EXPECT_EQ(john["last_name"].as_string(), "Doe");
  EXPECT_FALSE(john.contains("name"));
  EXPECT_EQ(count("users", R"({"name": 42})"), 1) << "non-strings are left alone";
  EXPECT_EQ(runner.history().back().operations[0].backed_up, 1) << "only 'Cher ' does not merge back exactly";
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

TEST_F(OperationsTest, SplitRefusesToOverwriteExistingTargetFields) {
  load("users", {R"({"_id": 1, "name": "John Doe", "first_name": "J"})"});
  Registry registry = one({ops::split_field("users", "name", "first_name", "last_name")});
  EXPECT_EQ(Runner(db, registry).plan().exit_code(), 2);
}

TEST_F(OperationsTest, MergeFieldsIsTheOppositeOfSplit) {
  load("users", {R"({"_id": 1, "first": "John", "last": "Doe"})", R"({"_id": 2, "first": "Mary Ann", "last": "Lee"})"});
  auto stats = up_down_exact(one({ops::merge_fields("users", "first", "last", "name")}));
  EXPECT_EQ(stats[0].modified, 2);
  EXPECT_EQ(stats[0].backed_up, 1) << "'Mary Ann' would split differently";
}

// Both ways of writing a dedupe, on every server.
constexpr ops::TransformStrategy dedupe_strategies[] = {ops::TransformStrategy::in_place, ops::TransformStrategy::rewrite};

TEST_F(OperationsTest, DedupeForUniqueQuarantinesDuplicatesThenCreatesTheIndex) {
 for (auto strategy : dedupe_strategies) {
  SCOPED_TRACE(strategy == ops::TransformStrategy::rewrite ? "rewrite" : "in place");
  db.drop();
  load("users", {R"({"_id": 1, "email": "a@x", "seen": 5})", R"({"_id": 2, "email": "a@x", "seen": 9})",
                 R"({"_id": 3, "email": "a@x", "seen": 1})", R"({"_id": 4, "email": "b@x"})"});
  Registry registry = one({ops::dedupe_for_unique("users", from_json(R"({"email": 1})"),
                                                  {.keep = ops::Keep::highest, .by = "seen", .strategy = strategy})});
  Runner runner(db, registry);
  Plan plan = runner.plan();
  EXPECT_EQ(plan.exit_code(), 1) << (plan.problems.empty() ? "" : plan.problems[0]);
  EXPECT_EQ(plan.migrations[0].operations[0].documents, 2);
  Snapshot before = snapshot(db);
  runner.up();
  EXPECT_EQ(count("users", "{}"), 2);
  EXPECT_EQ(count("users", R"({"_id": 2})"), 1) << "the highest 'seen' is kept";
  EXPECT_EQ(count("users_quarantine", "{}"), 2);
  EXPECT_TRUE(detail_has_index("email_1"));
  EXPECT_THROW(db.collection("users").insert_one(from_json(R"({"_id": 9, "email": "b@x"})")), DuplicateKeyError);
  EXPECT_EQ(count("users_quarantine", R"({"_id": 1, "reason": "duplicate of _id 2 under the unique index email_1"})"), 1);
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
  EXPECT_FALSE(detail_has_index("email_1"));
  EXPECT_FALSE(db.has_collection("users_quarantine"));
 }
}

// A unique index compares numbers by value and takes a missing key as null: 1, 1.0 and 1L are
// one value, and two documents without the key collide. Dedupe groups them the same way, in
// one sorted pass with progress, so that the index can be built; more groups than a batch.
TEST_F(OperationsTest, DedupeForUniqueGroupsAsTheUniqueIndexCompares) {
 for (auto strategy : dedupe_strategies) {
  SCOPED_TRACE(strategy == ops::TransformStrategy::rewrite ? "rewrite" : "in place");
  db.drop();
  load("users", {R"({"_id": 1, "k": 1})", R"({"_id": 2, "k": 1.0})", R"({"_id": 3, "k": {"$numberLong": "1"}})",
                 R"({"_id": 4, "k": 2})", R"({"_id": 5})", R"({"_id": 6, "k": null})", R"({"_id": 7, "k": "1"})"});
  std::vector<bson::Document> more;
  for (int i = 0; i < 30; ++i) more.push_back(from_json(R"({"_id": )" + std::to_string(100 + i) + R"(, "k": "v)" + std::to_string(i / 2) + "\"}"));
  db.collection("users").insert_many(more);
  Registry registry = one({ops::dedupe_for_unique("users", from_json(R"({"k": 1})"), {.strategy = strategy})});
  std::vector<int64_t> told;
  Runner runner(db, registry, {.batch = {.size = 4}, .progress = [&](const Progress& p) {
    if (p.operation.find("finding duplicates") != std::string::npos) told.push_back(p.done);
  }});
  Snapshot before = snapshot(db);
  RunReport report = runner.up();
  EXPECT_EQ(report.runs[0].operations[0].quarantined, 2 + 1 + 15) << "1.0 and 1L, the null, and one of each v pair";
  EXPECT_EQ(count("users", R"({"_id": {"$in": [1, 4, 5, 7]}})"), 4) << "the first of each group is kept";
  EXPECT_TRUE(detail_has_index("k_1"));
  EXPECT_FALSE(told.empty()) << "progress while finding duplicates";
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
  std::vector<std::string> names = db.list_collection_names();
  EXPECT_EQ(std::count(names.begin(), names.end(), "users_quarantine"), 0) << "the emptied quarantine is dropped";
 }
}

// Where every delete by _id scans the collection (FerretDB 1.x), deleting the duplicates costs
// collection size times duplicates (a 500,000-document dedupe did not finish in 9 minutes): by
// default the dedupe rewrites the collection there, and deletes in place where the _id index
// serves (MongoDB).
TEST_F(OperationsTest, ADedupeRewritesByDefaultWhereWritesByIdScanTheCollection) {
  load("users", {R"({"_id": 1, "email": "a"})", R"({"_id": 2, "email": "a"})", R"({"_id": 3, "email": "b"})"});
  Registry registry = one({ops::dedupe_for_unique("users", from_json(R"({"email": 1})"))});
  Runner runner(db, registry);
  Plan plan = runner.plan();
  std::string notes;
  for (const auto& note : plan.migrations[0].operations[0].notes) notes += note + "\n";
  bool scans = !db.client().capabilities().indexed_id_updates;
  EXPECT_EQ(notes.find("rewrites the collection without the duplicates") != std::string::npos, scans) << notes;
  Snapshot before = snapshot(db);
  RunReport report = runner.up();
  EXPECT_EQ(report.runs[0].operations[0].quarantined, 1);
  EXPECT_EQ(report.runs[0].operations[0].backed_up, scans ? 3 : 0) << "a rewrite keeps the original whole";
  EXPECT_EQ(count("users", "{}"), 2);
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

// A dedupe applied in place (by an earlier version, whose default differed) is undone in
// place: its documents come back from the quarantine even when the strategy now says rewrite.
TEST_F(OperationsTest, ADedupeAppliedInPlaceIsUndoneInPlaceWhateverTheStrategyNow) {
  load("users", {R"({"_id": 1, "email": "a"})", R"({"_id": 2, "email": "a"})", R"({"_id": 3, "email": "b"})"});
  Snapshot before = snapshot(db);
  auto dedupe = [&](ops::TransformStrategy strategy) {
    return one({ops::dedupe_for_unique("users", from_json(R"({"email": 1})"), {.strategy = strategy})});
  };
  Registry in_place = dedupe(ops::TransformStrategy::in_place), rewrite = dedupe(ops::TransformStrategy::rewrite);
  Runner(db, in_place).up();
  EXPECT_EQ(count("users", "{}"), 2);
  Runner(db, rewrite).down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

// A dedupe by rewrite gives the new collection the old one's indexes, the unique one replacing
// an index on the same keys; a write during the pass refuses the swap, the original untouched.
TEST_F(OperationsTest, ADedupeByRewriteKeepsTheIndexesAndRefusesTheSwapAfterAWrite) {
  std::vector<bson::Document> people;
  for (int i = 0; i < 40; ++i) {
    people.push_back(from_json(R"({"_id": )" + std::to_string(i) + R"(, "email": "e)" + std::to_string(i % 25) +
                               R"(", "name": "n)" + std::to_string(i) + "\"}"));
  }
  db.collection("users").insert_many(people);
  db.collection("users").create_index({from_json(R"({"name": 1})"), from_json(R"({"name": "by_name"})")});
  db.collection("users").create_index({from_json(R"({"email": 1})"), from_json(R"({"name": "email_1"})")});
  Registry registry = one({ops::dedupe_for_unique("users", from_json(R"({"email": 1})"),
                                                  {.strategy = ops::TransformStrategy::rewrite})});
  Snapshot before = snapshot(db);
  Plan plan = Runner(db, registry).plan();
  EXPECT_EQ(plan.migrations[0].operations[0].documents, 15);
  std::string notes;
  for (const auto& note : plan.migrations[0].operations[0].notes) notes += note + "\n";
  EXPECT_NE(notes.find("rewrites the collection without the duplicates into _mongo_orm_rewrite__1__"), std::string::npos) << notes;

  bool wrote = false;
  Runner writing(db, registry, {.batch = {.size = 8}, .progress = [&](const Progress&) {
    if (!std::exchange(wrote, true)) db.collection("users").insert_one(from_json(R"({"_id": 1000, "email": "late"})"));
  }});
  try {
    writing.up();
    ADD_FAILURE() << "the swap was not refused";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("holds 41 documents but 25 were copied to _mongo_orm_rewrite__1__"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("and 15 set aside: it was written to during the rewrite"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count("users", "{}"), 41) << "the original is untouched";
  db.collection("users").delete_many(from_json(R"({"_id": 1000})"));
  writing.undo_failed("1");
  EXPECT_EQ(difference(before, snapshot(db)), "");

  Runner runner(db, registry);
  RunReport report = runner.up();
  EXPECT_EQ(report.runs[0].operations[0].quarantined, 15);
  EXPECT_EQ(report.runs[0].operations[0].backed_up, 40);
  EXPECT_EQ(count("users", "{}"), 25);
  std::map<std::string, bool> indexes;
  for (const auto& index : db.collection("users").list_indexes()) {
    auto unique = index.find("unique");
    indexes[std::string(index["name"].as_string())] = unique && unique->as_bool();
  }
  EXPECT_EQ(indexes, (std::map<std::string, bool>{{"_id_", false}, {"by_name", false}, {"email_1", true}}));
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
  EXPECT_FALSE(db.has_collection("users_quarantine"));
}

TEST_F(OperationsTest, CopyCollectionTransformsInBatchesAndUndoDeletesOnlyTheCopies) {
  load("old_users", {R"({"_id": 1, "name": "A", "email": "A@X"})", R"({"_id": 2, "name": "B"})", R"({"_id": 3, "skip": true})"});
  load("users", {R"({"_id": 100, "name": "already here"})"});
  auto transform = [](bson::DocumentView old) -> std::optional<bson::Document> {
    if (old.contains("skip")) return std::nullopt;
    std::string email(old.contains("email") ? old["email"].as_string() : "");
    for (char& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return bson::Builder{}.append("name", old["name"]).append("email", email).extract();
  };
  Registry registry = one({ops::copy_collection("old_users", "users", transform, "lowercase emails")});
  Snapshot before = snapshot(db);
  Runner runner(db, registry, {.batch = {.size = 1}});
  runner.up();
  EXPECT_EQ(count("users", "{}"), 3);
  EXPECT_EQ(count("users", R"({"_id": 1, "email": "a@x"})"), 1) << "the source _id is kept";
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

// Seed 000's DataMigrator into a target that holds some of the _ids: never a silent skip.
TEST_F(OperationsTest, CopyCollectionRefusesCollisionsByDefaultAndCountsThemWhenToldToSkip) {
  load("old_users", {R"({"_id": 1, "name": "A"})", R"({"_id": 2, "name": "B"})", R"({"_id": 3, "name": "C"})"});
  load("users", {R"({"_id": 2, "name": "the target's own"})"});
  Registry refusing = one({ops::copy_collection("old_users", "users")});
  Runner runner(db, refusing);
  Plan plan = runner.plan();
  EXPECT_EQ(plan.exit_code(), 2);
  ASSERT_EQ(plan.migrations.size(), 1u);
  ASSERT_EQ(plan.migrations[0].operations.size(), 1u);
  ASSERT_EQ(plan.migrations[0].operations[0].conflicts.size(), 1u);
  EXPECT_NE(plan.migrations[0].operations[0].conflicts[0].find("1 copy has an _id that users holds already (e.g. _id 2)"),
            std::string::npos) << plan.migrations[0].operations[0].conflicts[0];
  try {
    runner.up();
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count("users", "{}"), 1) << "nothing copied";
  EXPECT_EQ(runner.history().back().status, RunStatus::refused);

  Registry skipping = one({ops::copy_collection("old_users", "users", {}, {}, ops::OnCollision::skip)}, "2");
  EXPECT_FALSE(skipping.find("2")->steps[0]->transactional())
      << "a skipped duplicate is a write error, which aborts a MongoDB transaction";
  Runner second(db, skipping);
  Plan counted = second.plan();
  EXPECT_EQ(counted.exit_code(), 1);
  ASSERT_EQ(counted.migrations[0].operations[0].notes.size(), 1u);
  EXPECT_NE(counted.migrations[0].operations[0].notes[0].find("1 copy has an _id that users holds already (e.g. _id 2)"),
            std::string::npos);
  second.up();
  OperationStats stats = second.history().back().operations.at(0);
  EXPECT_EQ(stats.modified, 2);
  EXPECT_EQ(stats.skipped, 1) << "the collision is counted";
  EXPECT_EQ(count("users", R"({"_id": 2, "name": "the target's own"})"), 1);
  second.down({.all = true});
  EXPECT_EQ(count("users", "{}"), 1) << "undo deletes only the copies";
}

TEST_F(OperationsTest, CopyCollectionResumedAfterAKillDoesNotLetUndoDeleteTheTargetsOwnDocuments) {
  load("old_users", {R"({"_id": 1, "name": "A"})", R"({"_id": 2, "name": "B"})"});
  load("users", {R"({"_id": 1, "name": "the target's own"})"});
  Registry registry = one({ops::copy_collection("old_users", "users")});
  // A run killed after recording the _ids of its batch and before forgetting the one the target
  // already had: both _ids are in the record, only _id 2 is a copy.
  const Migration& migration = *registry.find("1");  // NOLINT: registered above
  Collection recorded = db.collection(backup_collection_name("1", migration.steps[0]->name()));
  recorded.insert_many(std::vector<bson::Document>{from_json(R"({"_id": 1})"), from_json(R"({"_id": 2})")});
  db.collection("users").insert_one(from_json(R"({"_id": 2, "name": "B"})"));
  Runner runner(db, registry);
  runner.up();
  EXPECT_EQ(recorded.count_documents({}), 1) << "the target's own _id is forgotten";
  runner.down({.all = true});
  EXPECT_EQ(count("users", R"({"_id": 1, "name": "the target's own"})"), 1);
  EXPECT_EQ(count("users", "{}"), 1);
}

TEST_F(OperationsTest, CopyCollectionOverwritingCollisionsKeepsTheTargetsDocumentsForUndo) {
  load("old_users", {R"({"_id": 1, "name": "A"})", R"({"_id": 2, "name": "B"})", R"({"_id": 3, "name": "C"})"});
  load("users", {R"({"_id": 2, "name": "the target's own", "since": 2019})", R"({"_id": 9, "name": "untouched"})"});
  Registry registry = one({ops::copy_collection("old_users", "users", {}, {}, ops::OnCollision::overwrite)});
  EXPECT_FALSE(registry.find("1")->steps[0]->transactional())
      << "a document appearing between the read and the insert is a write error, which aborts a MongoDB transaction";
  Runner runner(db, registry);
  Plan plan = runner.plan();
  EXPECT_EQ(plan.exit_code(), 1) << "a collision is no problem when overwriting";
  const Estimate& estimate = plan.migrations.at(0).operations.at(0);
  EXPECT_TRUE(estimate.conflicts.empty());
  ASSERT_EQ(estimate.notes.size(), 1u);
  EXPECT_NE(estimate.notes[0].find("1 copy has an _id that users holds already (e.g. _id 2); the copies replace them"),
            std::string::npos) << estimate.notes[0];
  EXPECT_EQ(count("users", "{}"), 2) << "plan writes nothing";

  runner.up();
  OperationStats stats = runner.history().back().operations.at(0);
  EXPECT_EQ(stats.matched, 3);
  EXPECT_EQ(stats.modified, 3) << "two inserted, one replaced";
  EXPECT_EQ(stats.skipped, 0);
  EXPECT_EQ(stats.backed_up, 3) << "two _ids recorded, one original kept";
  EXPECT_EQ(count("users", R"({"_id": 2, "name": "B"})"), 1) << "the copy replaced the target's document";
  EXPECT_EQ(count("users", "{}"), 4);
  Collection record = db.collection(backup_collection_name("1", registry.find("1")->steps[0]->name()));
  EXPECT_EQ(count(record.name().c_str(), R"({"_id": 2, "original": {"_id": 2, "name": "the target's own", "since": 2019}})"), 1);

  runner.down({.all = true});
  EXPECT_EQ(count("users", "{}"), 2) << "undo deletes the inserted copies";
  EXPECT_EQ(count("users", R"({"_id": 2, "name": "the target's own", "since": 2019})"), 1) << "and puts the original back";
  EXPECT_EQ(count("users", R"({"_id": 9, "name": "untouched"})"), 1);
  EXPECT_FALSE(db.has_collection(record.name())) << "the backup is dropped after the undo";
}

TEST_F(OperationsTest, CopyCollectionOverwritingResumedAfterAKillNeitherBacksUpItsOwnCopiesNorLosesOriginals) {
  load("old_users", {R"({"_id": 1, "name": "A"})", R"({"_id": 2, "name": "B"})", R"({"_id": 3, "name": "C"})",
                     R"({"_id": 4, "name": "D"})"});
  load("users", {R"({"_id": 2, "name": "own 2"})", R"({"_id": 3, "name": "own 3"})", R"({"_id": 4, "name": "own 4"})"});
  Registry registry = one({ops::copy_collection("old_users", "users", {}, {}, ops::OnCollision::overwrite)});
  const Migration& migration = *registry.find("1");  // NOLINT: registered above
  Collection record = db.collection(backup_collection_name("1", migration.steps[0]->name()));
  // A run killed part way through its batch:
  //  _id 1 recorded and inserted (the target holds the copy);
  //  _id 2 kept and replaced;
  //  _id 3 kept, not yet replaced;
  //  _id 4 the target's own, not yet looked at.
  record.insert_many(std::vector<bson::Document>{from_json(R"({"_id": 1})"),
                                                 from_json(R"({"_id": 2, "original": {"_id": 2, "name": "own 2"}})"),
                                                 from_json(R"({"_id": 3, "original": {"_id": 3, "name": "own 3"}})")});
  db.collection("users").insert_one(from_json(R"({"_id": 1, "name": "A"})"));
  db.collection("users").replace_one(from_json(R"({"_id": 2})"), from_json(R"({"_id": 2, "name": "B"})"));

  Runner runner(db, registry);
  runner.up();
  for (const char* copy : {R"({"_id": 1, "name": "A"})", R"({"_id": 2, "name": "B"})", R"({"_id": 3, "name": "C"})",
                           R"({"_id": 4, "name": "D"})"}) {
    EXPECT_EQ(count("users", copy), 1) << copy;
  }
  EXPECT_EQ(count(record.name().c_str(), R"({"_id": 2, "original.name": "own 2"})"), 1) << "the first original is kept";
  EXPECT_EQ(count(record.name().c_str(), R"({"_id": 4, "original.name": "own 4"})"), 1);
  EXPECT_EQ(count(record.name().c_str(), R"({"_id": 1, "original": {"$exists": true}})"), 0)
      << "the copy an earlier run inserted is not taken for an original";

  runner.down({.all = true});
  EXPECT_EQ(count("users", "{}"), 3);
  for (const char* original : {R"({"_id": 2, "name": "own 2"})", R"({"_id": 3, "name": "own 3"})", R"({"_id": 4, "name": "own 4"})"}) {
    EXPECT_EQ(count("users", original), 1) << original;
  }
}

TEST_F(OperationsTest, TransformWritesInBatchesAndReportsProgress) {
  std::vector<bson::Document> docs;
  for (int i = 0; i < 250; ++i) docs.push_back(bson::Builder{}.append("_id", i).append("n", i).extract());
  db.collection("items").insert_many(docs);
  std::vector<int64_t> seen;
  RunnerOptions options{.batch = {.size = 100}, .progress = [&](const Progress& p) {
    if (p.total == 250) seen.push_back(p.done);
  }};
  Registry registry = one({ops::transform("items", from_json(R"({"n": {"$gte": 0}})"), [](bson::DocumentView d) -> std::optional<bson::Document> {
    return bson::Builder{}.append("$set", [&](bson::Builder& s) { s.append("double", d["n"].as_int32() * 2); }).extract();
  }, {.label = "double n", .backup = true})});
  Snapshot before = snapshot(db);
  Runner runner(db, registry, options);
  runner.up();
  EXPECT_EQ(count("items", R"({"n": 7, "double": 14})"), 1);
  EXPECT_EQ(count("items", R"({"double": {"$exists": true}})"), 250);
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 100, 200, 250}));
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

// The rewrite strategy, asked for explicitly so that it runs on every server.
Step split_by_rewrite(bson::Document filter = {}) {
  return ops::transform("users", std::move(filter), [](bson::DocumentView d) -> std::optional<bson::Document> {
    auto name = d.find("name");
    if (!name) return std::nullopt;
    std::string whole(name->as_string());
    std::size_t space = whole.find(' ');
    return bson::Builder{}
        .append("$set", [&](bson::Builder& s) {
          s.append("first_name", whole.substr(0, space)).append("profile.last", whole.substr(space + 1));
        })
        .append("$unset", [](bson::Builder& u) { u.append("legacy", ""); })
        .append("$inc", [](bson::Builder& i) { i.append("version", 1); })
        .extract();
  }, {.label = "split", .strategy = ops::TransformStrategy::rewrite});
}

TEST_F(OperationsTest, RewriteSwapsInTheTransformedCollectionWithItsIndexesAndUndoIsExact) {
  // Every document has its own email: MongoDB indexes a missing field as null, so two documents
  // without one could not share a unique index.
  load("users", {R"({"_id": 1, "name": "Ada Lovelace", "email": "ada@example.org", "legacy": true, "profile": {"age": 36}, "version": 1})",
                 R"({"_id": 2, "name": "Alan Turing", "email": "alan@example.org", "version": 2147483647})",
                 R"({"_id": 3, "email": "x@example.org"})"});
  db.collection("users").create_index({from_json(R"({"email": 1})"), from_json(R"({"name": "email_1", "unique": true})")});
  Registry registry = one({split_by_rewrite()});
  Snapshot before = snapshot(db);
  Runner runner(db, registry, {.transaction_limit = 0});
  runner.up();
  EXPECT_EQ(count("users", R"({"_id": 1, "first_name": "Ada", "profile.last": "Lovelace", "profile.age": 36, "version": 2})"), 1);
  EXPECT_EQ(count("users", R"({"_id": 1, "legacy": {"$exists": true}})"), 0);
  EXPECT_EQ(count("users", R"({"_id": 2, "version": 2147483648})"), 1) << "$inc past int32 gives an int64";
  EXPECT_EQ(count("users", R"({"_id": 3, "email": "x@example.org", "version": {"$exists": false}})"), 1);
  EXPECT_TRUE(detail_has_index("email_1")) << "the source's indexes are built on the new collection";
  EXPECT_TRUE(db.has_collection(backup_collection_name("1", registry.find("1")->steps[0]->name())));
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
}

TEST_F(OperationsTest, RewriteCarriesUnmatchedDocumentsOverUnchanged) {
  load("users", {R"({"_id": 1, "name": "Ada Lovelace", "kind": "a"})", R"({"_id": 2, "name": "Alan Turing", "kind": "b"})"});
  up_down_exact(one({split_by_rewrite(from_json(R"({"kind": "a"})"))}));
  Registry registry = one({split_by_rewrite(from_json(R"({"kind": "a"})"))});
  Runner(db, registry, {.transaction_limit = 0}).up();
  EXPECT_EQ(count("users", R"({"_id": 1, "profile.last": "Lovelace"})"), 1);
  EXPECT_EQ(count("users", R"({"_id": 2, "name": "Alan Turing", "profile": {"$exists": false}})"), 1);
}

TEST_F(OperationsTest, RewriteRefusesOperatorsItCannotApplyNamingTheDocument) {
  load("users", {R"({"_id": 7, "tags": ["a"]})"});
  Registry registry = one({ops::transform("users", {}, [](bson::DocumentView) -> std::optional<bson::Document> {
    return from_json(R"({"$push": {"tags": "b"}})");
  }, {.strategy = ops::TransformStrategy::rewrite})});
  try {
    Runner(db, registry, {.transaction_limit = 0}).up();
    FAIL() << "$push cannot be applied by a rewrite";
  } catch (const MigrationError& e) {
    std::string text = e.what();
    EXPECT_NE(text.find("$push"), std::string::npos) << text;
    EXPECT_NE(text.find("_id 7"), std::string::npos) << text;
  }
  EXPECT_EQ(count("users", R"({"tags": ["a"]})"), 1) << "the collection is untouched";
}

TEST_F(OperationsTest, RewriteRefusesToSwapWhenTheCollectionWasWrittenMeanwhile) {
  load("users", {R"({"_id": 1, "name": "Ada Lovelace"})", R"({"_id": 2, "name": "Alan Turing"})"});
  Collection users = db.collection("users");
  bool wrote = false;
  Registry registry = one({ops::transform("users", {}, [&](bson::DocumentView) -> std::optional<bson::Document> {
    if (!std::exchange(wrote, true)) users.insert_one(from_json(R"({"_id": 0, "name": "Written Meanwhile"})"));
    return from_json(R"({"$set": {"seen": true}})");
  }, {.strategy = ops::TransformStrategy::rewrite})});
  try {
    Runner(db, registry, {.transaction_limit = 0}).up();
    FAIL() << "the swap must be refused";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("written to during the rewrite"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count("users", R"({"seen": {"$exists": true}})"), 0) << "the original stays in place";
  EXPECT_EQ(count("users", "{}"), 3);
}

// A failing step after a successful one: with transactions the first step's writes are rolled
// back with it; without, the run is recorded failed and the first step's writes stay (backed up).
Registry failing_after_a_write() {
  Registry registry;
  registry.add({.version = "1", .description = "fails half way",
                .steps = {ops::set_fields("users", {}, from_json(R"({"touched": true})")),
                          ops::transform("users", {}, [](bson::DocumentView) -> std::optional<bson::Document> {
                            throw std::runtime_error("boom");
                          }, {.strategy = ops::TransformStrategy::in_place})}});
  return registry;
}

// Both steps may run in a transaction (the transform says in_place), and two documents are
// under the limit: the plan says so, and the failure rolls the first step back.
TEST_F(OperationsTest, SmallMigrationsRunInATransactionWhereTheServerHasThem) {
  MONGO_ORM_REQUIRE_CAPABILITY(transactions);
  load("users", {R"({"_id": 1})", R"({"_id": 2})"});
  Registry registry = failing_after_a_write();
  Runner runner(db, registry);
  EXPECT_TRUE(runner.plan().migrations.at(0).in_transaction);
  EXPECT_THROW(runner.up(), MigrationError);
  EXPECT_EQ(count("users", R"({"touched": true})"), 0) << "rolled back";
  EXPECT_TRUE(runner.history().back().in_transaction);
  EXPECT_FALSE(Runner(db, registry, {.transaction_limit = 1}).plan().migrations.at(0).in_transaction)
      << "over the limit: batched, with checkpoints";
}

// Every operation that says it may run in a transaction keeps to the transaction's session
// going up and down (rehearsed where the server has no transactions, so the check runs on
// every server), and the backups an undo restored from are dropped only after the commit.
TEST_F(OperationsTest, EveryTransactionalOperationKeepsToItsSessionUpAndDown) {
  load("users", {R"({"_id": 1, "_cls": "Human.Jedi", "name": "Ann Lee", "email": " A@X.COM ", "age": "42", "legacy": 1})",
                 R"({"_id": 2, "_cls": "Human.Jedi", "name": "Bob", "email": "b@x.com", "age": "old", "legacy": 2})",
                 R"({"_id": 3, "_cls": "Human", "name": "Cher ", "email": "c@x.com", "age": 7})"});
  load("old_users", {R"({"_id": 10, "name": "Dee"})"});
  std::vector<Step> steps{
      ops::add_field("users", "status", make_value("active")),
      ops::remove_field("users", "legacy"),
      ops::rename_field("users", "email", "mail"),
      ops::set_fields("users", from_json(R"({"_id": 2})"), from_json(R"({"vip": true})")),
      ops::remap_class("users", from_json(R"({"_cls": "Human.Jedi"})"), "Human.GoodJedi", {"vip"}),
      ops::convert_type("users", "age", bson::Type::int32, {.on_failure = ops::OnConversionFailure::quarantine}),
      ops::normalize_string("users", "mail", {.keep_backup = true}),
      ops::split_field("users", "name", "first_name", "last_name"),
      ops::merge_fields("users", "first_name", "last_name", "full_name"),
      ops::copy_collection("old_users", "users"),
      with_inverse(
          ops::transform("users", from_json(R"({"_id": 3})"), [](bson::DocumentView) -> std::optional<bson::Document> {
            return from_json(R"({"$set": {"touched": true}})");
          }, {.strategy = ops::TransformStrategy::in_place}),
          ops::transform("users", from_json(R"({"_id": 3})"), [](bson::DocumentView) -> std::optional<bson::Document> {
            return from_json(R"({"$unset": {"touched": ""}})");
          }, {.label = "untouch", .strategy = ops::TransformStrategy::in_place})),
  };
  for (const Step& step : steps) ASSERT_TRUE(step->transactional()) << step->name();
  Registry registry;
  registry.add({.version = "1", .description = "every transactional operation", .steps = steps});
  Snapshot before = snapshot(db);
  Runner runner(db, registry, {.rehearse_transactions = true});
  EXPECT_TRUE(runner.plan().migrations.at(0).in_transaction || !capabilities().transactions);
  runner.up();
  EXPECT_EQ(runner.history().back().in_transaction, capabilities().transactions);
  EXPECT_EQ(count("users", R"({"_cls": "Human.GoodJedi"})"), 1) << "Bob went to quarantine (age: old)";
  EXPECT_EQ(count("users", R"({"full_name": "Ann Lee", "mail": "a@x.com", "age": 42, "status": "active"})"), 1);
  EXPECT_EQ(count("users", R"({"_id": 10})"), 1);
  runner.down({.all = true});
  EXPECT_EQ(difference(before, snapshot(db)), "");
  for (const std::string& name : db.list_collection_names()) {
    EXPECT_FALSE(name.starts_with("_mongo_orm_backup__")) << name << " stayed after the commit";
  }
}

// Nothing is left alone silently: a name that is not a string is counted and named by plan and
// counted by the run; a null is a value that does not convert (the failure policy applies), and
// a document without the field is named by plan.
TEST_F(OperationsTest, DocumentsLeftAloneAreCountedAndNamedBeforeAndAfter) {
  load("users", {R"({"_id": 1, "name": "Ann Lee", "age": "7"})", R"({"_id": 2, "name": 42, "age": null})",
                 R"({"_id": 3, "name": null})"});
  Registry split = one({ops::split_field("users", "name", "first_name", "last_name")});
  Runner splitter(db, split);
  Plan split_plan = splitter.plan();
  const Estimate& planned = split_plan.migrations.at(0).operations.at(0);
  ASSERT_EQ(planned.notes.size(), 1u);
  EXPECT_NE(planned.notes[0].find("2 documents hold a 'name' that is not a string (e.g. _id 2, _id 3)"), std::string::npos)
      << planned.notes[0];
  splitter.up();
  EXPECT_EQ(splitter.history().back().operations.at(0).skipped, 2);
  EXPECT_EQ(splitter.history().back().operations.at(0).modified, 1);

  Registry convert = split;
  convert.add({.version = "2", .description = "ages as numbers",
               .steps = {ops::convert_type("users", "age", bson::Type::int32,
                                           {.on_failure = ops::OnConversionFailure::set_default,
                                            .default_value = make_value(int32_t{0})})}});
  Runner converter(db, convert);
  Plan convert_plan = converter.plan();
  const Estimate& counted = convert_plan.migrations.at(0).operations.at(0);
  EXPECT_EQ(counted.documents, 2) << "the string and the null";
  std::string notes;
  for (const std::string& note : counted.notes) notes += note + "\n";
  EXPECT_NE(notes.find("1 document has no 'age' (e.g. _id 3)"), std::string::npos) << notes;
  EXPECT_NE(notes.find("1 values do not convert (for example null at _id 2)"), std::string::npos) << notes;
  converter.up();
  EXPECT_EQ(count("users", R"({"age": 7})"), 1);
  EXPECT_EQ(count("users", R"({"_id": 2, "age": 0})"), 1) << "the null took the default";
  EXPECT_EQ(count("users", R"({"_id": 3, "age": {"$exists": false}})"), 1);
}

TEST_F(OperationsTest, WithoutTransactionsAFailedRunKeepsItsBackupsAndIsRecorded) {
  load("users", {R"({"_id": 1})", R"({"_id": 2})"});
  Registry registry = failing_after_a_write();
  Runner runner(db, registry, {.transaction_limit = 0});
  try {
    runner.up();
    FAIL() << "the transform throws";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos) << e.what();
  }
  ChangelogEntry last = runner.history().back();
  EXPECT_EQ(last.status, RunStatus::failed);
  EXPECT_FALSE(last.in_transaction);
  ASSERT_EQ(last.operations.size(), 1u) << "what the completed step did is recorded";
  EXPECT_EQ(last.operations[0].backed_up, 2);
  EXPECT_EQ(count("users", R"({"touched": true})"), 2);
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::failed);
}

// Migration 1: a set_fields, then a transform that throws, whose undo (nothing to put back) first
// calls `in_undo` for each document.
Registry fails_half_way(std::function<void()> in_undo) {
  Registry registry;
  registry.add({.version = "1", .description = "fails half way",
                .steps = {ops::set_fields("users", {}, from_json(R"({"touched": true})")),
                          with_inverse(ops::transform("users", {}, [](bson::DocumentView) -> std::optional<bson::Document> {
                                         throw std::runtime_error("boom");
                                       }, {.strategy = ops::TransformStrategy::in_place}),
                                       ops::transform("users", {}, [in_undo](bson::DocumentView) -> std::optional<bson::Document> {
                                         in_undo();
                                         return std::nullopt;
                                       }, {.label = "nothing to put back", .strategy = ops::TransformStrategy::in_place}))}});
  return registry;
}

// A run that failed part way is undone from its backups: the step it finished and the one it
// failed in, newest first; then the version is pending again and nothing of it is left.
TEST_F(OperationsTest, AFailedRunsPartialWorkIsUndoneFromItsBackups) {
  load("users", {R"({"_id": 1, "name": "a"})", R"({"_id": 2, "name": "b", "touched": "before"})"});
  Snapshot before = snapshot(db);
  // The step that fails has an undo of its own (here: nothing to put back), so both can be undone.
  Registry registry = fails_half_way([] {});
  Runner runner(db, registry, {.transaction_limit = 0});
  EXPECT_THROW(runner.undo_failed("1"), MigrationError) << "it has never run";
  EXPECT_THROW(runner.up(), MigrationError);
  EXPECT_EQ(count("users", R"({"touched": true})"), 2) << "the first step's writes stayed";
  ASSERT_EQ(runner.status()[0].status, MigrationStatus::failed);
  EXPECT_EQ(runner.undo_failed("1").versions, std::vector<std::string>{"1"});
  EXPECT_EQ(difference(before, snapshot(db)), "");
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::pending);
  EXPECT_EQ(runner.history().back().direction, Direction::down);
  EXPECT_EQ(runner.history().back().status, RunStatus::rolled_back);
  try {
    runner.undo_failed("1");
    FAIL() << "nothing failed is left to undo";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("not a failed or interrupted up"), std::string::npos) << e.what();
  }
}

// A down over a failed up undoes that run's partial work; when that undo itself fails part way,
// the next down finishes it (with the same steps), and the version is pending.
TEST_F(OperationsTest, AnUndoOfAFailedUpThatFailsIsFinishedByTheNextDown) {
  load("users", {R"({"_id": 1, "name": "a"})", R"({"_id": 2, "name": "b", "touched": "before"})"});
  Snapshot before = snapshot(db);
  bool undo_fails = true;
  Registry registry = fails_half_way([&] {
    if (undo_fails) throw std::runtime_error("the undo stops");
  });
  Runner runner(db, registry, {.transaction_limit = 0});
  EXPECT_THROW(runner.up(), MigrationError);
  EXPECT_THROW(runner.down({.all = true}), MigrationError) << "the undo of the partial work fails";
  ASSERT_EQ(runner.history().back().direction, Direction::down);
  EXPECT_EQ(runner.history().back().undone_steps, std::optional<int64_t>(2));
  undo_fails = false;
  RunReport report = runner.down({.all = true});
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].status, RunStatus::rolled_back);
  EXPECT_EQ(difference(before, snapshot(db)), "");
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::pending);
}

// A failed run whose steps cannot be undone is refused, naming the step, and nothing is touched.
TEST_F(OperationsTest, AFailedRunThatCannotBeUndoneIsRefusedNamingTheStep) {
  load("users", {R"({"_id": 1, "email": "A@X"})"});
  Registry registry = one({ops::normalize_string("users", "email"),
                           ops::transform("users", {}, [](bson::DocumentView) -> std::optional<bson::Document> {
                             throw std::runtime_error("boom");
                           }, {.strategy = ops::TransformStrategy::in_place})});
  Runner runner(db, registry, {.transaction_limit = 0});
  EXPECT_THROW(runner.up(), MigrationError);
  try {
    runner.undo_failed("1");
    FAIL() << "normalize_string without a backup cannot be undone";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("step 1 (normalize_string users.email"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::failed) << "nothing was recorded";
  EXPECT_EQ(count("users", R"({"email": "a@x"})"), 1);
}

TEST_F(OperationsTest, WithInverseUsesTheGivenUndo) {
  load("users", {R"({"_id": 1, "flag": true})"});
  Step forward = ops::transform("users", {}, [](bson::DocumentView) -> std::optional<bson::Document> {
    return from_json(R"({"$set": {"flag": false}})");
  }, {.strategy = ops::TransformStrategy::in_place});
  Step back = ops::transform("users", {}, [](bson::DocumentView) -> std::optional<bson::Document> {
    return from_json(R"({"$set": {"flag": true}})");
  }, {.label = "back"});
  EXPECT_FALSE(forward->reversible());
  up_down_exact(one({with_inverse(forward, back)}));
}

}  // namespace
}  // namespace mongo_orm::migrate
