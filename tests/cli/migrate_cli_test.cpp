// Tests for `migrate ...` commands through an application's migrate program
// (tests/cli/example_migrate_main.cpp), run as a separate process against the real server.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/migrate/lock.hpp"
#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;
using testing::ProcessRun;

class MigrateCli : public testing::ServerTest {
 protected:
  void SetUp() override {
    db.collection("users").insert_many(std::vector{from_json(R"({"_id": 1, "email": "User1@EXAMPLE.com"})"),
                                                   from_json(R"({"_id": 2, "email": "USER2@example.COM"})")});
  }
  ProcessRun migrate(const std::string& arguments) {
    return testing::run_process(std::string(MONGO_ORM_EXAMPLE_MIGRATE) + " migrate --uri '" + testing::server_uri() +
                                "' --database " + db.name() + " " + arguments);
  }
};

TEST_F(MigrateCli, StatusUpHistoryValidate) {
  ProcessRun status = migrate("status");
  ASSERT_EQ(status.exit_code, 0) << status.both();
  EXPECT_NE(status.output.find("2023.01.001     pending   yes         Add status field"), std::string::npos)
      << status.both();
  EXPECT_NE(status.output.find("2023.01.002     pending   no          Normalize email"), std::string::npos)
      << status.both();

  ProcessRun up = migrate("up");
  ASSERT_EQ(up.exit_code, 0) << up.both();
  EXPECT_EQ(up.output, "applied 2023.01.001\napplied 2023.01.002\n");
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"status": "active"})")), 2);

  ProcessRun json = migrate("status --json");
  ASSERT_EQ(json.exit_code, 0) << json.both();
  bson::Document parsed = bson::from_json(json.output);
  for (bson::Element row : parsed["migrations"].as_array()) {
    EXPECT_EQ(row.as_document()["status"].as_string(), "applied");
  }

  ProcessRun history = migrate("history");
  EXPECT_EQ(history.exit_code, 0);
  EXPECT_NE(history.output.find("2023.01.002     up    applied"), std::string::npos) << history.both();

  ProcessRun validate = migrate("validate");
  EXPECT_EQ(validate.exit_code, 0) << validate.both();
  EXPECT_EQ(migrate("up").output, "nothing to do\n");
}

TEST_F(MigrateCli, DownRefusesIrreversibleStepsWithExitOne) {
  ASSERT_EQ(migrate("up").exit_code, 0);
  ProcessRun down = migrate("down --all");
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.errors.find("2023.01.002 (Normalize email addresses to lowercase) is irreversible"),
            std::string::npos)
      << down.both();
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"status": "active"})")), 2);
}

TEST_F(MigrateCli, DownStepsAndUpTo) {
  ASSERT_EQ(migrate("up --to 2023.01.001").exit_code, 0);
  ProcessRun down = migrate("down --steps 1");
  EXPECT_EQ(down.exit_code, 0) << down.both();
  EXPECT_EQ(down.output, "reverted 2023.01.001\n");
  EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"status": {"$exists": true}})")), 0);
}

TEST_F(MigrateCli, ABusyLockFailsWithTheHolderNamed) {
  auto held = migrate::LeaseLock::acquire(db);
  ProcessRun up = migrate("up");
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.errors.find("is held by " + held->owner()), std::string::npos) << up.both();
  held.reset();
  EXPECT_EQ(migrate("unlock --force").output, "the migration lock was not held\n");
}

TEST_F(MigrateCli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(migrate("down --to 2023.01.001 --all").exit_code, 2);
  EXPECT_EQ(migrate("unlock").exit_code, 2);
  EXPECT_EQ(migrate("baseline").exit_code, 2);
  EXPECT_EQ(migrate("").exit_code, 2);
}

// A deploy script's up then down at once, each in its own process, within the same second:
// status, history and the next commands must follow the order they ran in.
TEST_F(MigrateCli, UpThenDownFromTwoProcessesInOneSecondLeavesTheTruth) {
  for (int round = 0; round < 6; ++round) {
    ASSERT_EQ(migrate("up --to 2023.01.001").exit_code, 0);
    ProcessRun down = migrate("down --steps 1");
    ASSERT_EQ(down.exit_code, 0) << down.both();
    ASSERT_EQ(down.output.find("reverted 2023.01.001"), 0u) << "round " << round << ": " << down.both();
    ProcessRun status = migrate("status");
    EXPECT_NE(status.output.find("2023.01.001     pending"), std::string::npos) << "round " << round << ": "
                                                                                 << status.both();
    EXPECT_EQ(db.collection("users").count_documents(from_json(R"({"status": {"$exists": true}})")), 0);
  }
  ProcessRun history = migrate("history --json");
  bson::Document runs = bson::from_json(history.output);
  int64_t previous = 0;
  std::string expected = "up";
  for (bson::Element run : runs["runs"].as_array()) {
    bson::Element sequence = run.as_document()["sequence"];
    int64_t value = sequence.type() == bson::Type::int32 ? sequence.as_int32() : sequence.as_int64();
    EXPECT_GT(value, previous);
    previous = value;
    EXPECT_EQ(run.as_document()["direction"].as_string(), expected) << history.both();
    expected = expected == "up" ? "down" : "up";
  }
  EXPECT_EQ(previous, 12);
  ProcessRun again = migrate("down --steps 1");
  EXPECT_EQ(again.output, "nothing to do\n") << "the undo does not run twice";
}

TEST_F(MigrateCli, ASampleOfZeroIsRefusedInOneReadableLine) {
  ProcessRun verify = migrate("verify --sample 0");
  EXPECT_EQ(verify.exit_code, 2) << verify.both();
  EXPECT_NE(verify.errors.find("--sample: must be at least 1, got 0"), std::string::npos) << verify.both();
  EXPECT_LT(verify.errors.size(), 200u) << verify.both();
}

// The model snapshot beside the migrations, and `check` with its exit codes, as CI runs it: 0
// clean, 1 the models differ from the snapshot, 2 migrations pending, 5 the check could not run.
TEST_F(MigrateCli, SnapshotAndCheckTellAMissingMigrationFromPendingOnes) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("mongo_orm_snapshot_" + db.name());
  std::filesystem::remove_all(dir);
  std::string snapshot = (dir / "model_snapshot.json").string();
  auto with_models = [&](const char* version, const std::string& arguments) {
    return testing::run_process(std::string("EXAMPLE_MODELS=") + version + " " + MONGO_ORM_EXAMPLE_MIGRATE +
                                " migrate --uri '" + testing::server_uri() + "' --database " + db.name() + " " + arguments);
  };
  ProcessRun no_snapshot = with_models("1", "check --file " + snapshot);
  EXPECT_EQ(no_snapshot.exit_code, 1) << no_snapshot.both();
  EXPECT_NE(no_snapshot.output.find("no snapshot at " + snapshot), std::string::npos) << no_snapshot.both();

  ProcessRun written = with_models("1", "snapshot --file " + snapshot);
  ASSERT_EQ(written.exit_code, 0) << written.both();
  ASSERT_TRUE(std::filesystem::exists(snapshot));
  ProcessRun pending = with_models("1", "check --file " + snapshot);
  EXPECT_EQ(pending.exit_code, 2) << pending.both();
  EXPECT_NE(pending.output.find("models: the same as"), std::string::npos) << pending.both();
  EXPECT_NE(pending.output.find("migrations: pending: 2023.01.001, 2023.01.002"), std::string::npos) << pending.both();

  ASSERT_EQ(migrate("up").exit_code, 0);
  ProcessRun clean = with_models("1", "check --file " + snapshot);
  EXPECT_EQ(clean.exit_code, 0) << clean.both();

  // The model gains a field, a rule and an index; nobody wrote the migration.
  ProcessRun changed = with_models("2", "check --file " + snapshot);
  EXPECT_EQ(changed.exit_code, 1) << changed.both();
  EXPECT_NE(changed.output.find("models: 3 changes since " + snapshot), std::string::npos) << changed.both();
  EXPECT_NE(changed.output.find(R"(accounts: field added: status (string, default { "value" : "active" }))"), std::string::npos)
      << changed.both();
  EXPECT_NE(changed.output.find(R"(accounts: rules changed: age: [] -> [{ "min" : 0 }])"), std::string::npos) << changed.both();
  EXPECT_NE(changed.output.find(R"(accounts: index added: email_1 ({ "email" : 1 } unique))"), std::string::npos)
      << changed.both();
  ProcessRun json = with_models("2", "check --json --file " + snapshot);
  EXPECT_EQ(json.exit_code, 1) << json.both();
  bson::Document report = bson::from_json_strict(json.output);
  EXPECT_EQ(report["exit_code"].as_int32(), 1);
  EXPECT_FALSE(report["snapshot"].as_document()["current"].as_bool());
  auto listed = report["snapshot"].as_document()["changes"].as_array();
  ASSERT_EQ(listed.size(), 3u) << json.output;
  EXPECT_EQ(listed[0].as_document()["kind"].as_string(), "field added") << json.output;
  EXPECT_EQ(listed[0].as_document()["path"].as_string(), "status") << json.output;

  // A merge that left its markers in the snapshot: the check cannot run, and says where and why.
  {
    std::ifstream in(snapshot);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(snapshot, std::ios::trunc) << "<<<<<<< HEAD\n" << text << "=======\n" << text << ">>>>>>> branch\n";
  }
  ProcessRun conflicted = with_models("1", "check --file " + snapshot);
  EXPECT_EQ(conflicted.exit_code, 5) << conflicted.both();
  EXPECT_NE(conflicted.errors.find(snapshot + ": the snapshot holds merge conflict markers"), std::string::npos)
      << conflicted.both();

  // In its default place, the migrations directory, the snapshot is read as no migration.
  std::filesystem::remove(snapshot);
  ASSERT_EQ(with_models("1", "--dir " + dir.string() + " snapshot").exit_code, 0);
  ASSERT_TRUE(std::filesystem::exists(snapshot));
  ProcessRun beside = with_models("1", "--dir " + dir.string() + " check");
  EXPECT_EQ(beside.exit_code, 0) << beside.both();
  ProcessRun standalone = testing::run_process(std::string(MONGO_ORM_CLI_PATH) + " migrate --uri '" + testing::server_uri() +
                                               "' --database " + db.name() + " --dir " + dir.string() + " status");
  EXPECT_EQ(standalone.exit_code, 0) << standalone.both();

  ProcessRun none = with_models("0", "check --file " + snapshot);
  EXPECT_EQ(none.exit_code, 5) << none.both();
  EXPECT_NE(none.errors.find("check needs the application's models"), std::string::npos) << none.both();
  ProcessRun unreachable = testing::run_process(std::string("EXAMPLE_MODELS=1 ") + MONGO_ORM_EXAMPLE_MIGRATE +
                                                " migrate --uri 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300' "
                                                "--database x check --file " + snapshot);
  EXPECT_EQ(unreachable.exit_code, 5) << unreachable.both();
  std::filesystem::remove_all(dir);
}

// The whole loop as a user runs it: the snapshot taken, the model changed (a defaulted field, a
// rule, a unique index over duplicate emails), `generate` refusing the destructive dedupe until
// acknowledged, then writing a file that plan, up and check accept.
TEST_F(MigrateCli, GenerateWritesTheMigrationThatUpAppliesAndCheckThenAccepts) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("mongo_orm_generate_" + db.name());
  std::filesystem::remove_all(dir);
  auto with_models = [&](const char* version, const std::string& arguments) {
    return testing::run_process(std::string("EXAMPLE_MODELS=") + version + " " + MONGO_ORM_EXAMPLE_MIGRATE +
                                " migrate --uri '" + testing::server_uri() + "' --database " + db.name() + " --dir " +
                                dir.string() + " " + arguments);
  };
  auto files = [&] { return std::distance(std::filesystem::directory_iterator(dir), {}); };
  db.collection("accounts").insert_many(std::vector{from_json(R"({"email": "a@x", "age": 1})"),
                                                    from_json(R"({"email": "a@x", "age": 2})"),
                                                    from_json(R"({"email": "b@x", "age": 3})")});
  ASSERT_EQ(with_models("1", "snapshot").exit_code, 0);
  ASSERT_EQ(with_models("1", "up").exit_code, 0);
  ASSERT_EQ(with_models("1", "check").exit_code, 0);

  ProcessRun destructive = with_models("2", "check");
  EXPECT_EQ(destructive.exit_code, 4) << "the models differ, and their migration drops duplicates: " << destructive.both();
  EXPECT_NE(destructive.output.find("models: the migration for them drops data (generate needs --accept-destructive)"),
            std::string::npos) << destructive.both();

  ProcessRun refused = with_models("2", "generate 'accounts v2'");
  EXPECT_EQ(refused.exit_code, 4) << refused.both();
  EXPECT_NE(refused.errors.find("refusing to write a migration that drops data without --accept-destructive"),
            std::string::npos) << refused.both();
  EXPECT_NE(refused.errors.find("[destructive] dedupe_for_unique: accounts declares the index email_1"), std::string::npos)
      << refused.both();
  EXPECT_EQ(files(), 1) << "only the snapshot: nothing was written";

  ProcessRun written = with_models("2", "generate 'accounts v2' --accept-destructive");
  ASSERT_EQ(written.exit_code, 0) << written.both();
  EXPECT_NE(written.output.find("[safe] add_field: accounts: status added with a default; 3 documents lack it"),
            std::string::npos) << written.both();
  EXPECT_NE(written.output.find("warning: accounts: rules changed: age"), std::string::npos) << written.both();
  EXPECT_EQ(files(), 2);
  EXPECT_EQ(with_models("2", "check").exit_code, 2) << "the snapshot follows the models; the migration is pending";
  EXPECT_EQ(with_models("2", "plan").exit_code, 1);
  ProcessRun up = with_models("2", "up");
  ASSERT_EQ(up.exit_code, 0) << up.both();
  EXPECT_EQ(db.collection("accounts").count_documents(from_json(R"({"status": "active"})")), 2);
  EXPECT_EQ(db.collection("accounts_quarantine").count_documents({}), 1);
  ProcessRun clean = with_models("2", "check --data");
  EXPECT_EQ(clean.exit_code, 0) << clean.both();
  EXPECT_NE(clean.output.find("data: the models load every stored document"), std::string::npos) << clean.both();
  // A document the application's old version still writes: an age the model refuses.
  db.collection("accounts").insert_one(from_json(R"({"email": "c@x", "age": "old", "status": "active"})"));
  EXPECT_EQ(with_models("2", "check").exit_code, 0) << "without --data the data is not read";
  ProcessRun data = with_models("2", "check --data");
  EXPECT_EQ(data.exit_code, 3) << data.both();
  EXPECT_NE(data.output.find("data: accounts (model accounts): 1 of 3 documents refused: age 1"), std::string::npos)
      << data.both();
  EXPECT_EQ(with_models("2", "check --data --max-refused 0.5").exit_code, 0);
  ProcessRun again = with_models("2", "generate 'nothing'");
  EXPECT_EQ(again.exit_code, 0) << again.both();
  EXPECT_NE(again.output.find("nothing changed since"), std::string::npos) << again.both();
  EXPECT_EQ(files(), 2);
  std::filesystem::remove_all(dir);
}

// generate's declarations are checked before anything is read or written: a rename or a class
// mapping that is malformed is a usage error naming it, and one naming what the snapshot and the
// models do not have says so.
TEST_F(MigrateCli, GenerateRefusesMalformedRenamesAndClassMappings) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("mongo_orm_generate_" + db.name());
  std::filesystem::remove_all(dir);
  auto migrate_in_dir = [&](const std::string& arguments) {
    return testing::run_process(std::string("EXAMPLE_MODELS=1 ") + MONGO_ORM_EXAMPLE_MIGRATE + " migrate --uri '" +
                                testing::server_uri() + "' --database " + db.name() + " --dir " + dir.string() + " " + arguments);
  };
  auto generate = [&](const std::string& arguments) { return migrate_in_dir("generate x " + arguments); };
  ASSERT_EQ(migrate_in_dir("snapshot").exit_code, 0);
  ProcessRun rename = generate("--rename accounts-email");
  EXPECT_EQ(rename.exit_code, 2) << rename.both();
  EXPECT_NE(rename.errors.find("--rename takes MODEL:OLD=NEW"), std::string::npos) << rename.both();
  ProcessRun no_target = generate("--map-class Human.Jedi");
  EXPECT_EQ(no_target.exit_code, 2) << no_target.both();
  EXPECT_NE(no_target.errors.find("--map-class takes OLD=NEW or OLD=NEW:FILTER"), std::string::npos) << no_target.both();
  ProcessRun bad_filter = generate("--map-class 'Human.Jedi=Human.GoodJedi:{dark_side'");
  EXPECT_EQ(bad_filter.exit_code, 2) << bad_filter.both();
  EXPECT_NE(bad_filter.errors.find("--map-class Human.Jedi=Human.GoodJedi: the filter is not a JSON object"), std::string::npos)
      << bad_filter.both();
  ProcessRun unknown = generate("--map-class 'Human.Jedi=Human.GoodJedi:{\"dark_side\": false}'");
  EXPECT_NE(unknown.exit_code, 0) << unknown.both();
  EXPECT_NE(unknown.errors.find("the class mapping Human.Jedi -> Human.GoodJedi: Human.Jedi is no class of a hierarchy in the snapshot"),
            std::string::npos) << unknown.both();
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1) << "only the snapshot";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mongo_orm
