// Tests for the standalone `mongo-orm migrate --dir DIR` with JSON migration files, and for the
// example application's migrate program (examples/legacy_users.cpp) running the README demo,
// each run as a separate process against the real server.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <map>

#include "mongo_orm/migrate/changelog.hpp"
#include "mongo_orm/migrate/migration_files.hpp"
#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;
using testing::ProcessRun;

class MigrationFilesCli : public testing::ServerTest {
 protected:
  void SetUp() override {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; }
  ProcessRun migrate(const std::string& arguments) {
    return testing::run_process(std::string(MONGO_ORM_CLI_PATH) + " migrate --uri '" + testing::server_uri() +
                                "' --database " + db.name() + " --dir " + dir.string() + " " + arguments);
  }
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("mongo_orm_files_" + db.name());
};

TEST_F(MigrationFilesCli, CreateWritesASkeletonThatRunsAsIs) {
  ProcessRun created = migrate("create 'add status field'");
  ASSERT_EQ(created.exit_code, 0) << created.both();
  ASSERT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  auto file = std::filesystem::directory_iterator(dir)->path();
  EXPECT_NE(file.filename().string().find("_add_status_field.json"), std::string::npos) << file;
  migrate::Migration m = migrate::read_migration_file(file);
  EXPECT_EQ(m.description, "add status field");
  ProcessRun status = migrate("status");
  EXPECT_NE(status.output.find("pending"), std::string::npos) << status.both();
}

TEST_F(MigrationFilesCli, PlanCountsThenUpAppliesAndPlanHasNothingLeft) {
  db.collection("users").insert_many(std::vector{from_json(R"({"name": "John Doe", "email": "A@x"})"),
                                                 from_json(R"({"name": "Cher", "email": "b@x", "status": "gone"})")});
  write("001_status.json", R"({"version": "001", "description": "status", "up": [
    {"op": "add_field", "collection": "users", "field": "status", "value": "active"}]})");
  write("002_split.json", R"({"version": "002", "description": "split names", "depends_on": ["001"], "up": [
    {"op": "split_field", "collection": "users", "from": "name", "into": ["first_name", "last_name"]}]})");
  ProcessRun plan = migrate("plan");
  EXPECT_EQ(plan.exit_code, 1) << plan.both();
  EXPECT_NE(plan.output.find("add_field users.status: 1 document, 1 batch"), std::string::npos) << plan.both();
  EXPECT_NE(plan.output.find("split_field users.name->first_name,last_name: 2 documents"), std::string::npos) << plan.both();

  ProcessRun json = migrate("plan --json");
  EXPECT_EQ(json.exit_code, 1);
  bson::Document parsed = from_json(json.output);
  EXPECT_EQ(parsed["migrations"].as_array().size(), 2u);

  ProcessRun up = migrate("up --batch-size 1");
  ASSERT_EQ(up.exit_code, 0) << up.both();
  EXPECT_NE(up.output.find("split_field users.name->first_name,last_name: 2 matched, 2 modified"), std::string::npos) << up.both();
  EXPECT_NE(up.errors.find("split_field users.name->first_name,last_name: 2/2"), std::string::npos)
      << "plain progress lines when not on a terminal: " << up.both();
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"first_name": "John", "status": "active"})")), 1);
  EXPECT_EQ(migrate("plan").exit_code, 0);

  ProcessRun down = migrate("down --all --json");
  ASSERT_EQ(down.exit_code, 0) << down.both();
  EXPECT_EQ(from_json(down.output)["reverted"].as_array().size(), 2u);
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"name": "John Doe", "status": {"$exists": false}})")), 1);
}

TEST_F(MigrationFilesCli, ConflictsMakePlanExitTwoAndUpRefuseTouchingNothing) {
  db.collection("users").insert_one(from_json(R"({"created_date": 1, "created_at": 2})"));
  write("001.json", R"({"version": "001", "description": "rename", "up": [
    {"op": "rename_field", "collection": "users", "from": "created_date", "to": "created_at"}]})");
  ProcessRun plan = migrate("plan");
  EXPECT_EQ(plan.exit_code, 2) << plan.both();
  EXPECT_NE(plan.output.find("CONFLICT: 1 documents of users hold both 'created_date' and 'created_at'"), std::string::npos)
      << plan.both();
  ProcessRun up = migrate("up");
  EXPECT_EQ(up.exit_code, 1) << up.both();
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"created_date": 1})")), 1);
}

TEST_F(MigrationFilesCli, MistakesInAFileAreNamedWithTheOperationAndKey) {
  write("001.json", R"({"version": "001", "description": "x", "up": [
    {"op": "add_field", "collection": "users", "field": "status", "value": "a"},
    {"op": "add_field", "colection": "users", "field": "status", "value": "a"}]})");
  ProcessRun status = migrate("status");
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.errors.find("001.json: up[1] (add_field)"), std::string::npos) << status.both();
  EXPECT_NE(status.errors.find("colection"), std::string::npos) << status.both();

  write("001.json", R"({"version": "001", "up": [{"op": "add_field", "collection": "users", "field": "$where", "value": 1}]})");
  status = migrate("status");
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.errors.find("'$where'"), std::string::npos) << status.both();

  write("001.json", R"({"version": "001", "up": [{"op": "drop_everything"}]})");
  EXPECT_NE(migrate("status").errors.find("unknown operation \"drop_everything\""), std::string::npos);
  write("001.json", R"({"version": "001", "up": [)");
  EXPECT_NE(migrate("status").errors.find("not valid JSON"), std::string::npos);

  // What generate writes beside the operations is checked as strictly.
  write("001.json", R"({"version": "001", "up": [{"op": "add_field", "collection": "users", "field": "s", "value": 1,
    "why": "a reason", "safety": "risky"}]})");
  EXPECT_NE(migrate("status").errors.find("001.json: up[0] (add_field) \"safety\" must be safe, needs data migration, "
                                          "destructive or needs review (not \"risky\")"),
            std::string::npos) << migrate("status").both();
  write("001.json", R"({"version": "001", "up": [], "evidence": {"checks": [{"collection": "users", "count": 1}]}})");
  EXPECT_NE(migrate("status").errors.find("001.json: \"evidence\" check needs \"collection\", \"filter\" and \"count\""),
            std::string::npos) << migrate("status").both();
  write("001.json", R"({"version": "001", "up": [], "evidence": {"tolerance": 2, "checks": []}})");
  EXPECT_NE(migrate("status").errors.find("\"tolerance\" must be a fraction from 0 to 1"), std::string::npos)
      << migrate("status").both();
  write("001.json", R"({"version": "001", "up": [{"op": "add_field", "collection": "users", "field": "s", "value": 1,
    "why": "a reason", "safety": "safe"}], "evidence": {"recorded": "now", "tolerance": 0, "checks": [
    {"collection": "users", "filter": {"s": {"$exists": false}}, "count": 0, "what": "documents missing s"}]}})");
  EXPECT_EQ(migrate("status").exit_code, 0) << migrate("status").both();
}

TEST_F(MigrationFilesCli, CopyCollectionCollisionsAreRefusedSkippedOrOverwrittenAsTheFileSays) {
  db.collection("old_users").insert_many(std::vector<bson::Document>{from_json(R"({"_id": 1, "name": "A"})"),
                                                                     from_json(R"({"_id": 2, "name": "B"})")});
  db.collection("users").insert_one(from_json(R"({"_id": 2, "name": "own"})"));
  auto copy = [&](const std::string& policy) {
    write("001.json", R"({"version": "001", "description": "copy", "up": [{"op": "copy_collection", "from": "old_users",
      "to": "users")" + (policy.empty() ? std::string() : R"(, "on_collision": ")" + policy + "\"") + "}]}");
  };
  copy("");
  ProcessRun plan = migrate("plan");
  EXPECT_EQ(plan.exit_code, 2) << plan.both();
  EXPECT_NE(plan.output.find("1 copy has an _id that users holds already (e.g. _id 2)"), std::string::npos) << plan.both();

  copy("replace");
  ProcessRun bad = migrate("plan");
  EXPECT_EQ(bad.exit_code, 2) << bad.both();
  EXPECT_NE(bad.errors.find("\"on_collision\" must be refuse, skip or overwrite (not \"replace\")"), std::string::npos)
      << bad.both();

  copy("overwrite");
  ProcessRun up = migrate("up");
  ASSERT_EQ(up.exit_code, 0) << up.both();
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"_id": 2, "name": "B"})")), 1);
  ProcessRun down = migrate("down --all");
  ASSERT_EQ(down.exit_code, 0) << down.both();
  EXPECT_EQ(db.collection("users").count_documents({}), 1);
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"_id": 2, "name": "own"})")), 1);

  copy("skip");
  ProcessRun skip = migrate("up");
  ASSERT_EQ(skip.exit_code, 0) << skip.both();
  EXPECT_EQ(db.collection("users").count_documents({}), 2);
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"_id": 2, "name": "own"})")), 1);
}

TEST_F(MigrationFilesCli, StatusShowsAnAppliedMigrationWhoseFileWasDeleted) {
  write("001.json", R"({"version": "001", "description": "first", "up": [{"op": "add_field", "collection": "u", "field": "a", "value": 1}]})");
  write("002.json", R"({"version": "002", "description": "second", "up": [{"op": "add_field", "collection": "u", "field": "b", "value": 1}]})");
  ASSERT_EQ(migrate("up").exit_code, 0);
  std::filesystem::remove(dir / "002.json");
  ProcessRun status = migrate("status");
  EXPECT_EQ(status.exit_code, 0) << status.both();
  EXPECT_NE(status.output.find("applied!"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("second"), std::string::npos) << "described as it was recorded: " << status.output;
  EXPECT_NE(status.output.find("no longer defined"), std::string::npos) << status.output;
  ProcessRun json = migrate("status --json");
  ASSERT_EQ(json.exit_code, 0) << json.both();
  bson::Document rows = from_json(json.output);
  std::vector<std::pair<std::string, bool>> seen;
  for (bson::Element row : rows["migrations"].as_array()) {
    seen.emplace_back(std::string(row.as_document()["version"].as_string()), row.as_document()["defined"].as_bool());
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, bool>>{{"001", true}, {"002", false}}));
}

TEST_F(MigrationFilesCli, AChangedFileIsDriftAndUpRefuses) {
  write("001.json", R"({"version": "001", "description": "a", "up": [{"op": "add_field", "collection": "u", "field": "f", "value": 1}]})");
  ASSERT_EQ(migrate("up").exit_code, 0);
  write("001.json", R"({"version": "001", "description": "a", "up": [{"op": "add_field", "collection": "u", "field": "f", "value": 2}]})");
  ProcessRun validate = migrate("validate");
  EXPECT_EQ(validate.exit_code, 1) << validate.both();
  ProcessRun up = migrate("up");
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.errors.find("001 changed"), std::string::npos) << up.both();
}

// The README demo: legacy data, plan, up, verify, status, down, and the round trip.
TEST_F(MigrationFilesCli, LegacyUsersDemo) {
  std::string program = std::string(MONGO_ORM_LEGACY_USERS) + " ";
  std::string target = "--uri '" + testing::server_uri() + "' --database " + db.name();
  std::string migrate_args = "migrate " + target + " --dir " + MONGO_ORM_EXAMPLE_MIGRATIONS + " ";
  ProcessRun load = testing::run_process(program + "load-legacy " + target);
  ASSERT_EQ(load.exit_code, 0) << load.both();
  ProcessRun plan = testing::run_process(program + migrate_args + "plan");
  EXPECT_EQ(plan.exit_code, 1) << plan.both();
  EXPECT_NE(plan.output.find("2 values do not convert"), std::string::npos) << plan.both();
  ProcessRun verify_before = testing::run_process(program + migrate_args + "verify");
  EXPECT_EQ(verify_before.exit_code, 1) << "legacy documents do not load yet: " << verify_before.both();
  ProcessRun up = testing::run_process(program + migrate_args + "up");
  ASSERT_EQ(up.exit_code, 0) << up.both();
  ProcessRun verify = testing::run_process(program + migrate_args + "verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.both();
  EXPECT_NE(verify.output.find("0 failed  OK"), std::string::npos) << verify.both();
  EXPECT_EQ(db.collection("users_quarantine").count_documents({}), 3) << "two bad ages, one duplicate email";
  ProcessRun down = testing::run_process(program + migrate_args + "down --all");
  ASSERT_EQ(down.exit_code, 0) << down.both();
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"created_date": {"$exists": true}})")), 508);
  ProcessRun round_trip = testing::run_process(program + migrate_args + "round-trip");
  EXPECT_EQ(round_trip.exit_code, 0) << round_trip.both();
}

// The exit-code contract (docs/migrations.md): 0 success, 1 the command failed or work is
// pending (plan), 2 a usage error or, for plan, a problem. A CI gate must be able to trust it.
TEST_F(MigrationFilesCli, ExitCodesKeepTheDocumentedContract) {
  write("001_broken.json", R"({"version": "001", "description": "broken", "up": [)");
  ProcessRun plan = migrate("plan");
  EXPECT_EQ(plan.exit_code, 2) << "a malformed file is a problem, not pending work: " << plan.both();
  EXPECT_NE(plan.errors.find("001_broken.json"), std::string::npos) << plan.both();
  std::filesystem::remove(dir / "001_broken.json");

  ProcessRun down = migrate("down");
  EXPECT_EQ(down.exit_code, 2) << down.both();
  EXPECT_NE(down.errors.find("down needs a target"), std::string::npos) << down.both();

  ProcessRun round_trip = migrate("round-trip");
  EXPECT_NE(round_trip.exit_code, 0) << "nothing pending is no pass: " << round_trip.both();
  EXPECT_NE(round_trip.output.find("nothing was exercised"), std::string::npos) << round_trip.both();

  for (const char* bad : {"up --batch-size 0", "up --lock-wait-ms -100", "down --steps 0"}) {
    ProcessRun refused = migrate(bad);
    EXPECT_EQ(refused.exit_code, 2) << bad << ": " << refused.both();
    EXPECT_NE(refused.errors.find("must be at least"), std::string::npos) << bad << ": " << refused.both();
    EXPECT_EQ(refused.both().find("1.79769"), std::string::npos) << bad << ": " << refused.both();
  }

  // A version argument naming no migration is a usage error: 2, one line naming it.
  write("001.json", R"({"version": "001", "description": "one", "up": []})");
  for (const char* bad : {"up --to 999", "down --to 999", "plan --to 999", "baseline 999", "undo-failed 999"}) {
    ProcessRun refused = migrate(bad);
    EXPECT_EQ(refused.exit_code, 2) << bad << ": " << refused.both();
    EXPECT_NE(refused.errors.find("no migration has version '999'"), std::string::npos) << bad << ": " << refused.both();
    EXPECT_EQ(std::count(refused.errors.begin(), refused.errors.end(), '\n'), 1) << bad << ": " << refused.both();
  }
  ProcessRun version = testing::run_process(MONGO_ORM_CLI_PATH " --version");
  EXPECT_EQ(version.exit_code, 0) << version.both();
  EXPECT_EQ(version.output.rfind("mongo-orm ", 0), 0u) << version.both();
  ProcessRun baseline = migrate("baseline 001 --json");
  ASSERT_EQ(baseline.exit_code, 0) << baseline.both();
  EXPECT_EQ(from_json(baseline.output)["recorded as applied"].as_array().size(), 1u) << baseline.output;
}

// Every command that prints a result prints it as one JSON document with --json.
TEST_F(MigrationFilesCli, EveryCommandThatPrintsAResultTakesJson) {
  ProcessRun created = migrate("create 'add status' --json");
  ASSERT_EQ(created.exit_code, 0) << created.both();
  std::filesystem::path file(std::string(bson::from_json_strict(created.output)["created"].as_string()));
  ASSERT_TRUE(std::filesystem::exists(file)) << created.output;
  db.collection("users").insert_one(from_json(R"({"_id": 1})"));
  std::ofstream(file) << R"({"version": "001", "description": "status", "up": [
    {"op": "add_field", "collection": "users", "field": "status", "value": "active"}]})";

  ProcessRun round_trip = migrate("round-trip --json");
  ASSERT_EQ(round_trip.exit_code, 0) << round_trip.both();
  bson::Document trip = bson::from_json_strict(round_trip.output);
  EXPECT_TRUE(trip["ok"].as_bool()) << round_trip.output;
  EXPECT_EQ(trip["applied"].as_array().size(), 1u) << round_trip.output;
  EXPECT_EQ(trip["after_down"].as_string(), "") << round_trip.output;

  ASSERT_EQ(migrate("up").exit_code, 0);
  ProcessRun clean = migrate("validate --json");
  EXPECT_EQ(clean.exit_code, 0) << clean.both();
  EXPECT_EQ(bson::from_json_strict(clean.output).view(), from_json(R"({"ok": true, "drift": []})").view()) << clean.output;
  std::ofstream(file) << R"({"version": "001", "description": "status", "up": [
    {"op": "add_field", "collection": "users", "field": "status", "value": "new"}]})";
  ProcessRun drift = migrate("validate --json");
  EXPECT_EQ(drift.exit_code, 1) << drift.both();
  bson::Document drifted = bson::from_json_strict(drift.output);
  ASSERT_EQ(drifted["drift"].as_array().size(), 1u) << drift.output;
  EXPECT_EQ(drifted["drift"].as_array()[0].as_document()["version"].as_string(), "001") << drift.output;
  EXPECT_TRUE(drifted["drift"].as_array()[0].as_document()["defined"].as_bool()) << drift.output;

  ProcessRun unlock = migrate("unlock --force --json");
  EXPECT_EQ(unlock.exit_code, 0) << unlock.both();
  EXPECT_EQ(bson::from_json_strict(unlock.output).view(), from_json(R"({"freed": false})").view()) << unlock.output;
}

// analyze, for any collection, with no model: a table for people and JSON for machines.
TEST_F(MigrationFilesCli, AnalyzePrintsEachPathByTypeAsATableOrJson) {
  db.collection("people").insert_many(std::vector{from_json(R"({"_id": 1, "age": "42"})"), from_json(R"({"_id": 2, "age": 42})"),
                                                  from_json(R"({"_id": 3})")});
  ProcessRun table = migrate("analyze people");
  ASSERT_EQ(table.exit_code, 0) << table.both();
  EXPECT_NE(table.output.find("people: 3 documents, every one read"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("int 1, string 1"), std::string::npos) << table.output;
  ProcessRun json = migrate("analyze people --json");
  ASSERT_EQ(json.exit_code, 0) << json.both();
  bson::Document parsed = bson::from_json_strict(json.output);
  bson::DocumentView people = parsed["collections"].as_array()[0].as_document();
  EXPECT_EQ(people["documents"].number(), 3);
  EXPECT_EQ(people["counted_by"].as_string(), "client");
  bson::DocumentView age = people["paths"].as_array()[1].as_document();
  EXPECT_EQ(age["path"].as_string(), "age");
  EXPECT_EQ(age["missing"].number(), 1);
  EXPECT_EQ(age["types"].as_document()["string"].number(), 1);
  ProcessRun nothing = migrate("analyze");
  EXPECT_EQ(nothing.exit_code, 2) << nothing.both();
  EXPECT_NE(nothing.errors.find("analyze needs a collection name"), std::string::npos) << nothing.both();
  EXPECT_EQ(db.list_collection_names(), std::vector<std::string>{"people"}) << "analyze writes nothing";

  // A sample: said to be one, with the bounds of each top-level share; a sample no smaller than
  // the collection is the whole, exact; a sample and a limit together are refused.
  std::vector<bson::Document> more;
  for (int i = 10; i < 60; ++i) more.push_back(bson::Builder{}.append("_id", i).append("age", i).extract());
  db.collection("people").insert_many(more);
  ProcessRun sampled = migrate("analyze people --sample 20 --seed 5");
  ASSERT_EQ(sampled.exit_code, 0) << sampled.both();
  EXPECT_NE(sampled.output.find("people: a uniform sample of 20 of about 53 documents ("), std::string::npos) << sampled.output;
  EXPECT_NE(sampled.output.find("missing in "), std::string::npos) << sampled.output;
  EXPECT_NE(sampled.output.find(" of 20 sampled: "), std::string::npos) << sampled.output;
  ProcessRun sampled_json = migrate("analyze people --sample 20 --json");
  ASSERT_EQ(sampled_json.exit_code, 0) << sampled_json.both();
  bson::Document sample_doc = bson::from_json_strict(sampled_json.output);
  EXPECT_EQ(sample_doc["collections"].as_array()[0].as_document()["documents"].number(), 20);
  EXPECT_FALSE(sample_doc["collections"].as_array()[0].as_document()["sampling"].as_string().empty());
  ProcessRun whole = migrate("analyze people --sample 100");
  EXPECT_NE(whole.output.find("people: 53 documents, every one read"), std::string::npos) << whole.output;
  ProcessRun both = migrate("analyze people --sample 20 --limit 5");
  EXPECT_EQ(both.exit_code, 2) << both.both();

  // On the server: the same counts, said to be the server's; or, without the expressions it
  // needs, refused naming the capability. Not with a sample.
  ProcessRun on_server = migrate("analyze people --on-server");
  if (capabilities().type_expressions) {
    ASSERT_EQ(on_server.exit_code, 0) << on_server.both();
    EXPECT_NE(on_server.output.find("people: 53 documents, every one counted by the server"), std::string::npos) << on_server.output;
  } else {
    EXPECT_NE(on_server.exit_code, 0) << on_server.both();
    EXPECT_NE(on_server.errors.find("type_expressions"), std::string::npos) << on_server.both();
  }
  EXPECT_EQ(migrate("analyze people --on-server --sample 20").exit_code, 2);
}

// A missing dependency or a cycle needs only the files: it is refused before anything is
// written, the lock included.
TEST_F(MigrationFilesCli, DependencyProblemsAreRefusedBeforeTheLockIsTaken) {
  write("001.json", R"({"version": "001", "depends_on": ["000"], "up": []})");
  for (const char* command : {"up", "down --all", "baseline 001"}) {
    ProcessRun refused = migrate(command);
    EXPECT_EQ(refused.exit_code, 1) << command << ": " << refused.both();
    EXPECT_NE(refused.errors.find("001 needs 000"), std::string::npos) << command << ": " << refused.both();
  }
  write("001.json", R"({"version": "001", "depends_on": ["002"], "up": []})");
  write("002.json", R"({"version": "002", "depends_on": ["001"], "up": []})");
  ProcessRun refused = migrate("up");
  EXPECT_EQ(refused.exit_code, 1) << refused.both();
  EXPECT_NE(refused.errors.find("cycle"), std::string::npos) << refused.both();
  std::vector<std::string> collections = db.list_collection_names();
  EXPECT_TRUE(collections.empty()) << "written: " << collections.front();
}

TEST_F(MigrationFilesCli, PingReadsMongodbUriAsEveryOtherCommandDoes) {
  ProcessRun ping = testing::run_process("MONGODB_URI='" + testing::server_uri() + "' " MONGO_ORM_CLI_PATH " ping");
  EXPECT_EQ(ping.exit_code, 0) << ping.both();
  EXPECT_EQ(ping.output, "ok\n");
}

// docs/migrations.md lists each operation's keys in a table: exactly the keys the reader takes.
TEST(MigrationFileKeys, TheDocsTableListsExactlyTheKeysEachOperationTakes) {
  std::ifstream doc(MONGO_ORM_MIGRATIONS_DOC);
  std::map<std::string, std::set<std::string>> documented;
  bool in_table = false;  // the table under the "| `op` | keys |" header
  for (std::string line; std::getline(doc, line);) {
    if (line.starts_with("| `op` | keys |")) {
      in_table = true;
      continue;
    }
    if (!line.starts_with("|")) in_table = false;
    if (!in_table || !line.starts_with("| `")) continue;
    std::size_t end = line.find('`', 3);
    std::string op = line.substr(3, end - 3);
    if (!migrate::migration_file_keys().contains(op)) continue;
    std::string keys = line.substr(line.find('|', end) + 1);
    for (std::size_t at = keys.find('`'); at != std::string::npos; at = keys.find('`', keys.find('`', at + 1) + 1)) {
      std::string key = keys.substr(at + 1, keys.find('`', at + 1) - at - 1);
      documented[op].insert(key);
    }
  }
  for (const auto& [op, keys] : migrate::migration_file_keys()) {
    EXPECT_EQ(documented[op], std::set<std::string>(keys.begin(), keys.end())) << op;
  }
}

// A file of two JSON documents, or an object holding a key twice, is refused naming the file and
// the key; every command exits 2 (or 1) and nothing is written.
TEST_F(MigrationFilesCli, FilesHoldingTwoDocumentsOrARepeatedKeyAreRefused) {
  write("001_two.json", R"({"version": "001", "up": []}
{"version": "002", "up": [{"op": "add_field", "collection": "users", "field": "x", "value": 1}]})");
  ProcessRun plan = migrate("plan");
  EXPECT_EQ(plan.exit_code, 2) << plan.both();
  EXPECT_NE(plan.errors.find("001_two.json is not valid JSON: more than one JSON document"), std::string::npos)
      << plan.both();
  ProcessRun up = migrate("up");
  EXPECT_NE(up.exit_code, 0) << up.both();
  EXPECT_NE(up.errors.find("001_two.json"), std::string::npos) << up.both();

  std::filesystem::remove(dir / "001_two.json");
  write("001_twice.json", R"({"version": "001", "up": [
    {"op": "set_fields", "collection": "users", "values": {"status": "a", "status": "b"}}]})");
  plan = migrate("plan");
  EXPECT_EQ(plan.exit_code, 2) << plan.both();
  EXPECT_NE(plan.errors.find("001_twice.json is not valid JSON: the object at up.0.values: the key \"status\" appears twice"),
            std::string::npos) << plan.both();
  write("001_twice.json", R"({"version": "001", "version": "002", "up": []})");
  plan = migrate("plan");
  EXPECT_NE(plan.errors.find("the top-level object: the key \"version\" appears twice"), std::string::npos) << plan.both();
  EXPECT_FALSE(db.collection(migrate::Changelog::default_collection).count_documents({}) > 0) << "nothing was written";
  EXPECT_EQ(db.collection("_mongo_orm_locks").count_documents({}), 0) << "not even the lock";
}

// "1.0" and "1.00" are one version: refused as duplicates naming both files, not a cycle among
// nothing.
TEST_F(MigrationFilesCli, VersionsThatCompareEqualAreRefusedAsDuplicatesNamingBothFiles) {
  write("a.json", R"({"version": "1.0", "description": "one", "up": []})");
  write("b.json", R"({"version": "1.00", "description": "the same", "up": []})");
  ProcessRun status = migrate("status");
  EXPECT_NE(status.exit_code, 0) << status.both();
  EXPECT_NE(status.errors.find("duplicate migration version"), std::string::npos) << status.both();
  EXPECT_NE(status.errors.find("a.json"), std::string::npos) << status.both();
  EXPECT_NE(status.errors.find("b.json"), std::string::npos) << status.both();
  EXPECT_EQ(status.errors.find("cycle"), std::string::npos) << status.both();

  migrate::Registry registry;
  registry.add({.version = "2023.01.1", .description = "a", .up = [](migrate::MigrationContext&) {}});
  try {
    registry.add({.version = "2023.01.01", .description = "b", .up = [](migrate::MigrationContext&) {}});
    FAIL() << "equal versions were both registered";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("2023.01.01 and 2023.01.1, which compare equal"), std::string::npos) << e.what();
  }
}

// A version holding a NUL byte is refused, the byte shown; `.JSON` files are read; two creates
// in the same second make two versions, and the directory still loads.
TEST_F(MigrationFilesCli, ControlCharactersInVersionsUpperCaseExtensionsAndCreatesInOneSecond) {
  write("001.json", std::string(R"({"version": "0\u00001", "up": []})"));
  ProcessRun status = migrate("status");
  EXPECT_NE(status.exit_code, 0) << status.both();
  EXPECT_NE(status.errors.find("\"0\\x001\" holds a control character"), std::string::npos) << status.both();
  std::filesystem::remove(dir / "001.json");

  write("002_upper.JSON", R"({"version": "002", "description": "upper case", "up": []})");
  status = migrate("status");
  EXPECT_NE(status.output.find("upper case"), std::string::npos) << "a .JSON file is read: " << status.both();
  std::filesystem::remove(dir / "002_upper.JSON");

  for (int i = 0; i < 3; ++i) {
    ProcessRun created = migrate("create 'same second'");
    ASSERT_EQ(created.exit_code, 0) << created.both();
  }
  std::set<std::string> versions;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    versions.insert(migrate::read_migration_file(entry.path()).version);
  }
  EXPECT_EQ(versions.size(), 3u);
  status = migrate("status");
  EXPECT_EQ(status.exit_code, 0) << "the directory loads: " << status.both();
}

// A value the server would read as an operator ({"$gt": ""} as convert_type's default, a value
// of add_field or set_fields) is refused by plan and by up before anything is written, naming the
// file, the operation and the key; values are stored as given, so such a value cannot be stored.
TEST_F(MigrationFilesCli, OperatorLookingValuesAreRefusedBeforeAnyWrite) {
  db.collection("users").insert_many(std::vector{from_json(R"({"_id": 1, "age": "41"})"), from_json(R"({"_id": 2, "age": "x"})")});
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"op": "convert_type", "collection": "users", "field": "age", "to": "int", "on_failure": "set_default", "default": {"$gt": ""}})",
       "up[0]: convert_type users.age: the value at 'default.$gt' has the key '$gt'"},
      {R"({"op": "add_field", "collection": "users", "field": "tags", "value": [{"ok": 1}, {"$where": "1"}]})",
       "up[0]: add_field users.tags: the value at 'value[1].$where' has the key '$where'"},
      {R"({"op": "set_fields", "collection": "users", "values": {"profile": {"nested": {"$set": 1}}}})",
       "up[0]: set_fields users: the value at 'values.profile.nested.$set' has the key '$set'"},
  };
  for (const auto& [operation, refusal] : cases) {
    write("001.json", R"({"version": "001", "up": [)" + operation + "]}");
    ProcessRun plan = migrate("plan");
    EXPECT_EQ(plan.exit_code, 2) << operation << ": " << plan.both();
    EXPECT_NE(plan.errors.find("001.json: " + refusal), std::string::npos) << plan.both();
    ProcessRun up = migrate("up");
    EXPECT_NE(up.exit_code, 0) << up.both();
    EXPECT_NE(up.errors.find(refusal), std::string::npos) << up.both();
  }
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"age": {"$type": "string"}})")), 2) << "nothing converted";
  EXPECT_EQ(db.collection(migrate::Changelog::default_collection).count_documents({}), 0);
}

// The changelog, the lock, backups and quarantines are off limits to migrations, and a field path
// holding a NUL byte is refused with the whole path shown.
TEST_F(MigrationFilesCli, TheToolsOwnCollectionsAreRefusedAndNulBytesAreShown) {
  for (const std::string& operation : {
           std::string(R"({"op": "rename_collection", "from": "_mongo_orm_migrations", "to": "old_changelog"})"),
           std::string(R"({"op": "remove_field", "collection": "_mongo_orm_locks", "field": "token"})"),
           std::string(R"({"op": "add_field", "collection": "users_quarantine", "field": "seen", "value": true})")}) {
    write("001.json", R"({"version": "001", "up": [)" + operation + "]}");
    ProcessRun plan = migrate("plan");
    EXPECT_EQ(plan.exit_code, 2) << operation << ": " << plan.both();
    EXPECT_NE(plan.errors.find("belongs to mongo_orm"), std::string::npos) << plan.both();
  }
  write("001.json", R"({"version": "001", "up": [{"op": "add_field", "collection": "users", "field": "a\u0000b.c", "value": 1}]})");
  ProcessRun plan = migrate("plan");
  EXPECT_EQ(plan.exit_code, 2) << plan.both();
  EXPECT_NE(plan.errors.find("field path 'a\\x00b.c' contains a NUL byte"), std::string::npos) << plan.both();
}

// Peak resident memory of a command and what it starts, in kB.
long peak_kb(const std::string& command) {
  pid_t child = fork();
  if (child == 0) {
    std::string line = "exec " + command + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(child, &status, 0, &usage) != child) return -1;
  return usage.ru_maxrss;
}

TEST_F(MigrationFilesCli, OversizedFilesValuesDescriptionsAndVersionsAreRefusedBeforeTheLock) {
  db.collection("users").insert_one(from_json(R"({"_id": 1, "name": "Ann"})"));
  auto refused_before_the_lock = [&](const std::string& expected) {
    for (const char* command : {"status", "plan", "up"}) {
      ProcessRun run = migrate(command);
      EXPECT_EQ(run.exit_code, std::string(command) == "plan" ? 2 : 1) << command << ": " << run.errors.substr(0, 400);
      EXPECT_NE(run.errors.find(expected), std::string::npos) << command << ": " << run.errors.substr(0, 400);
      EXPECT_LT(run.errors.size(), 1000u) << command << ": the message repeats the input";
    }
    EXPECT_EQ(db.list_collection_names(), std::vector<std::string>{"users"}) << "the lock or the changelog was written";
    EXPECT_EQ(db.collection("users").find_one(from_json(R"({"_id": 1})"))->view(), from_json(R"({"_id": 1, "name": "Ann"})").view());
    std::filesystem::remove(dir / "001.json");
  };
  // A value no document can hold, in a file under the file limit: named by file, operation and key.
  std::string value(16 * 1024 * 1024 - 200, 'v');
  write("001.json", R"({"version": "001", "up": [{"op": "add_field", "collection": "users", "field": "blob", "value": ")" +
                        value + "\"}]}");
  refused_before_the_lock("001.json: up[0] (add_field): \"value\" is 16777021 bytes of BSON");
  write("001.json", R"({"version": "001", "description": ")" + std::string(70000, 'd') + R"(", "up": []})");
  refused_before_the_lock("001.json: the description of migration 001 is 70000 bytes long");
  write("001.json", R"({"version": ")" + std::string(120, '1') + R"(", "up": []})");
  refused_before_the_lock("is 120 bytes long; a version may be at most 100");
  // A file over 16 MiB is refused unread: memory stays that of a small file.
  write("001.json", R"({"version": "001", "description": ")" + std::string(48 * 1024 * 1024, 'd') + R"(", "up": []})");
  refused_before_the_lock("001.json is 50331695 bytes; a migration file may be at most 16777216");
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine, so resident memory says nothing here";
#endif
  std::string status = std::string(MONGO_ORM_CLI_PATH) + " migrate --uri '" + testing::server_uri() + "' --database " +
                       db.name() + " --dir " + dir.string() + " status";
  write("001.json", R"({"version": "001", "up": []})");
  long small = peak_kb(status);
  write("001.json", R"({"version": "001", "description": ")" + std::string(48 * 1024 * 1024, 'd') + R"(", "up": []})");
  long large = peak_kb(status);
  EXPECT_GT(small, 0);
  EXPECT_LE(large - small, 8 * 1024) << "status of a 48 MiB file took " << large << " kB, of a small one " << small << " kB";
}

}  // namespace
}  // namespace mongo_orm
