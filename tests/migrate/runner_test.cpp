// Tests for migrate/runner.hpp against the real server, with seed 000's migrations written
// against the raw collection: up, down, status, failures and resumption, drift, irreversible
// steps, concurrent runners, baseline.
#include "mongo_orm/migrate/runner.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <atomic>
#include <thread>

#include "migrate/seed_migrations.hpp"
#include "mongo_orm/migrate/operations.hpp"
#include "support/child_process.hpp"
#include "support/server.hpp"

namespace mongo_orm::migrate {
namespace {

using bson::from_json;
using namespace std::chrono_literals;
using seed::add_user_status;
using seed::normalize_emails;
using testing::ServerTest;

class RunnerTest : public ServerTest {
 protected:
  void SetUp() override {
    db.collection("users").insert_many(std::vector{from_json(R"({"_id": 1, "name": "User 1", "email": "User1@EXAMPLE.com"})"),
                                                   from_json(R"({"_id": 2, "name": "User 2", "email": "USER2@example.COM"})")});
    registry.add(add_user_status()).add(normalize_emails());
  }
  int64_t count(const char* filter) { return db.collection("users").count_documents(from_json(filter)); }
  Registry registry;
};

TEST_F(RunnerTest, UpAppliesPendingInOrderAndStatusShowsIt) {
  Runner runner(db, registry);
  auto before = runner.status();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before[0].status, MigrationStatus::pending);
  EXPECT_TRUE(before[0].reversible);
  EXPECT_FALSE(before[1].reversible);

  EXPECT_EQ(runner.up().versions, (std::vector<std::string>{"2023.01.001", "2023.01.002"}));
  EXPECT_EQ(count(R"({"status": "active"})"), 2);
  EXPECT_EQ(count(R"({"email": {"$regex": "[A-Z]"}})"), 0);
  for (const auto& row : runner.status()) EXPECT_EQ(row.status, MigrationStatus::applied);
  EXPECT_TRUE(runner.up().versions.empty()) << "nothing pending: nothing runs";
  EXPECT_EQ(runner.history().size(), 2u);
}

TEST_F(RunnerTest, UpToStopsAtTheTarget) {
  Runner runner(db, registry);
  EXPECT_EQ(runner.up("2023.01.001").versions, (std::vector<std::string>{"2023.01.001"}));
  EXPECT_EQ(runner.status()[1].status, MigrationStatus::pending);
  EXPECT_THROW(runner.up("2099.01.001"), MigrationError);
}

TEST_F(RunnerTest, DownRevertsAndRefusesIrreversibleStepsTouchingNothing) {
  Runner runner(db, registry);
  runner.up("2023.01.001");
  EXPECT_EQ(runner.down({.steps = 1}).versions, (std::vector<std::string>{"2023.01.001"}));
  EXPECT_EQ(count(R"({"status": {"$exists": true}})"), 0) << "seed 000: down removes the status field";
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::pending);

  runner.up();
  try {
    runner.down({.all = true});
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("2023.01.002 (Normalize email addresses to lowercase) is irreversible"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(count(R"({"status": "active"})"), 2) << "the refused down reverted nothing, not even 2023.01.001";
  EXPECT_EQ(runner.history().size(), 4u) << "append-only: up, down, up, up";
  EXPECT_THROW(runner.down({}), MigrationError) << "a down needs a target";
}

TEST_F(RunnerTest, AFailedMigrationIsRecordedAndTheNextUpResumesAtIt) {
  Registry failing;
  failing.add(add_user_status());
  Migration broken = normalize_emails();
  broken.up = [](MigrationContext&) { throw std::runtime_error("disk full"); };
  failing.add(broken);
  Runner runner(db, failing);
  try {
    runner.up();
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("2023.01.002"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("disk full"), std::string::npos);
  }
  auto rows = runner.status();
  EXPECT_EQ(rows[0].status, MigrationStatus::applied);
  EXPECT_EQ(rows[1].status, MigrationStatus::failed);
  EXPECT_EQ(rows[1].last->error, "disk full");

  Runner fixed(db, registry);  // same version and description, the fixed definition
  EXPECT_EQ(fixed.up().versions, (std::vector<std::string>{"2023.01.002"}));
}

TEST_F(RunnerTest, ChangedDefinitionsAreDriftAndRefused) {
  Runner(db, registry).up("2023.01.001");
  Registry changed;
  Migration edited = add_user_status();
  edited.fingerprint = "now also sets a default plan";
  changed.add(edited).add(normalize_emails());
  Runner runner(db, changed);
  auto drifts = runner.validate();
  ASSERT_EQ(drifts.size(), 1u);
  EXPECT_EQ(drifts[0].version, "2023.01.001");
  EXPECT_TRUE(runner.status()[0].drifted);
  EXPECT_THROW(runner.up(), MigrationError);
  EXPECT_EQ(count(R"({"email": {"$regex": "[A-Z]"}})"), 2) << "nothing ran";
}

TEST_F(RunnerTest, ConcurrentRunnersApplyEachMigrationOnce) {
  std::atomic<int> applied_runs{0};
  Registry counting;
  Migration slow = add_user_status();
  auto original_up = slow.up;
  slow.up = [&, original_up](MigrationContext& ctx) {
    ++applied_runs;
    std::this_thread::sleep_for(100ms);
    original_up(ctx);
  };
  counting.add(slow);
  std::vector<std::thread> runners;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    runners.emplace_back([&] {
      try {
        Runner(db, counting, {.lock = {.wait = 20'000ms, .retry_interval = 20ms}}).up();
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& r : runners) r.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied_runs.load(), 1);
  EXPECT_EQ(Runner(db, counting).history().size(), 1u);
}

TEST_F(RunnerTest, BaselineAdoptsAnExistingDatabase) {
  Runner runner(db, registry);
  EXPECT_EQ(runner.baseline("2023.01.001").versions, (std::vector<std::string>{"2023.01.001"}));
  EXPECT_EQ(count(R"({"status": {"$exists": true}})"), 0) << "recorded, not run";
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::applied);
  EXPECT_EQ(runner.up().versions, (std::vector<std::string>{"2023.01.002"}));
}


// Baseline records a migration without running it, so its steps kept no backups: a down that
// would restore from them (silently restoring nothing) is refused before anything is reverted;
// one whose undo needs nothing from a run (a rename back) goes down.
TEST_F(RunnerTest, ADownOfABaselinedMigrationThatUndoesFromBackupsIsRefused) {
  Registry steps;
  steps.add({.version = "1", .description = "rename name",
             .steps = {ops::rename_field("users", "name", "full_name")}});
  steps.add({.version = "2", .description = "set a flag",
             .steps = {ops::set_fields("users", {}, from_json(R"({"flag": true})"))}});
  Runner runner(db, steps);

  // The data holds the rename, made by hand before the tool was adopted: baselined, it goes
  // down, since undoing a rename needs nothing from a run.
  db.collection("users").update_many({}, from_json(R"({"$rename": {"name": "full_name"}})"));
  ASSERT_EQ(runner.baseline("1").versions, (std::vector<std::string>{"1"}));
  EXPECT_EQ(runner.down({.all = true}).versions, (std::vector<std::string>{"1"}));
  EXPECT_EQ(count(R"({"name": {"$exists": true}, "full_name": {"$exists": false}})"), 2);

  // Both changes made by hand and baselined: undoing set_fields needs the values its run kept.
  db.collection("users").update_many({}, from_json(R"({"$rename": {"name": "full_name"}, "$set": {"flag": true}})"));
  ASSERT_EQ(runner.baseline("2").versions, (std::vector<std::string>{"1", "2"}));
  Plan plan = runner.plan_down({.all = true});
  ASSERT_EQ(plan.problems.size(), 1u) << "plan shows the refusal before a down is tried";
  EXPECT_NE(plan.problems[0].find("recorded as applied by baseline"), std::string::npos) << plan.problems[0];
  try {
    runner.down({.all = true});
    ADD_FAILURE() << "down of a baselined set_fields was not refused";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("migration 2 (set a flag) was recorded as applied by baseline"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("step 1 (set_fields users (flag))"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count(R"({"flag": true, "full_name": {"$exists": true}})"), 2) << "nothing was reverted";
  for (const auto& row : runner.status()) EXPECT_EQ(row.status, MigrationStatus::applied) << row.version;
}

// docs/migrations.md's first example writes through ctx.database: a plan must not run that
// write (it would be applied twice by plan then up), and must say it could not count it.
TEST_F(RunnerTest, APlanNeverWritesWhateverTheMigrationsCodeDoes) {
  Registry direct;
  direct.add({.version = "1", .description = "bump a counter with a raw write",
              .up = [](MigrationContext& ctx) {
                ctx.database.collection("users").update_many({}, from_json(R"({"$inc": {"visits": 1}})"));
              }});
  Runner runner(db, direct);
  Plan plan = runner.plan();
  ASSERT_EQ(plan.migrations.size(), 1u);
  EXPECT_EQ(plan.exit_code(), 1) << "work is pending; a write it could not count is not a problem";
  EXPECT_NE(plan.migrations[0].uncounted.find("update_many on " + db.name() + ".users refused"), std::string::npos)
      << plan.migrations[0].uncounted;
  EXPECT_EQ(count(R"({"visits": {"$exists": true}})"), 0) << "the plan wrote";
  EXPECT_FALSE(db.has_collection(Changelog::default_collection) && !runner.history().empty());
  runner.up();
  EXPECT_EQ(count(R"({"visits": 1})"), 2) << "applied exactly once";
}

TEST_F(RunnerTest, MigrationsMayNotTouchARunnersChangelogOrLockUnderCustomNames) {
  RunnerOptions options;
  options.changelog_collection = "deploy_history";
  options.lock.collection = "deploy_lock";
  Registry steps;
  steps.add({.version = "1", .description = "archive the history",
             .steps = {ops::rename_collection("deploy_history", "old_history")}});
  Runner by_steps(db, steps, options);
  for (auto attempt : std::vector<std::function<void()>>{[&] { by_steps.up(); }, [&] { by_steps.down({.all = true}); },
                                                          [&] { by_steps.baseline("1"); }}) {
    try {
      attempt();
      ADD_FAILURE() << "a step on the changelog was accepted";
    } catch (const MigrationError& e) {
      EXPECT_NE(std::string(e.what()).find("migration 1 (archive the history): rename_collection deploy_history->old_history: "
                                           "collection 'deploy_history' is this runner's changelog"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_FALSE(db.has_collection("deploy_lock")) << "the refusal came after the lock was taken";
  Plan plan = by_steps.plan();
  EXPECT_EQ(plan.exit_code(), 2);

  // A step applied by a migration's own code is refused as it runs, before it writes.
  Registry code;
  code.add({.version = "1", .description = "tag the lock",
            .up = [](MigrationContext& ctx) { ctx.apply(*ops::add_field("deploy_lock", "tag", bson::Value(from_json(R"({"v": 1})")["v"]))); }});
  Runner by_code(db, code, options);
  EXPECT_THROW(by_code.up(), MigrationError);
  EXPECT_EQ(db.collection("deploy_lock").count_documents(from_json(R"({"tag": {"$exists": true}})")), 0);
  EXPECT_EQ(by_code.status()[0].status, MigrationStatus::failed);
  EXPECT_NE(by_code.history().back().error.find("collection 'deploy_lock' is this runner's lock"), std::string::npos)
      << by_code.history().back().error;
}

// Runs are ordered by a sequence taken under the lock, not by their ObjectId _id, whose
// order within one second depends on each process's random part.
TEST_F(RunnerTest, RunsAreOrderedByTheirSequenceEvenWhenTheirIdsSayOtherwise) {
  Runner runner(db, registry);
  runner.up("2023.01.001");
  runner.down({.steps = 1});
  auto runs = runner.history();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].sequence, 1);
  EXPECT_EQ(runs[1].sequence, 2);
  // The down's record is given an _id that sorts before the up's, as a second process in the
  // same second may make it: the order, and so the state, must not change.
  Collection changelog = db.collection(Changelog::default_collection);
  auto down = changelog.find_one(from_json(R"({"direction": "down"})"));
  ASSERT_TRUE(down);
  bson::Builder earlier;
  for (bson::Element e : *down) {
    if (e.key() == "_id") earlier.append("_id", bson::ObjectId::from_hex("000000000000000000000001"));
    else earlier.append(e.key(), e);
  }
  changelog.delete_one(bson::Builder{}.append("_id", (*down)["_id"]).extract());
  changelog.insert_one(earlier.extract());
  runs = runner.history();
  EXPECT_EQ(runs[0].direction, Direction::up);
  EXPECT_EQ(runs[1].direction, Direction::down);
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::pending);
  EXPECT_EQ(runner.up("2023.01.001").versions, std::vector<std::string>{"2023.01.001"});
  EXPECT_EQ(runner.history().back().sequence, 3);
}

// runner.hpp: what can be refused is refused before anything is written. A run its first step
// refuses is recorded as refused (nothing was written), not as failed; one refused after an
// earlier step wrote did fail.
TEST_F(RunnerTest, ARefusalIsRecordedAsRefusedNotFailed) {
  Registry refused;
  refused.add({.version = "1", .description = "rename onto a field that exists",
               .steps = {ops::rename_field("users", "name", "email")}});
  Runner runner(db, refused);
  try {
    runner.up();
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("refused to go up"), std::string::npos) << message;
    EXPECT_NE(message.find("nothing was written"), std::string::npos) << message;
  }
  ASSERT_EQ(runner.history().size(), 1u);
  EXPECT_EQ(runner.history()[0].status, RunStatus::refused);
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::pending);
  EXPECT_EQ(count(R"({"email": {"$exists": true}, "name": {"$exists": true}})"), 2) << "nothing changed";

  Registry partly;
  partly.add({.version = "1", .description = "a field, then a rename onto a field that exists",
              .steps = {ops::add_field("users", "plan", bson::Value(from_json(R"({"v": "free"})")["v"])),
                        ops::rename_field("users", "name", "email")}});
  Runner second(db, partly);
  try {
    second.up();
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("failed while going up"), std::string::npos) << e.what();
  }
  EXPECT_EQ(second.history().back().status, RunStatus::failed) << "its first step had written";
  EXPECT_EQ(second.status()[0].status, MigrationStatus::failed);
}

// kill -9 of a runner in the middle of a migration: status says interrupted, with how far it
// got, and the next up takes the lock over at once (its holder is provably gone) and finishes.
TEST_F(RunnerTest, AKilledRunnerShowsAsInterruptedAndIsTakenOverAtOnce) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  auto blocking = [fd = ready[1]](MigrationContext& ctx) {
    if (ctx.dry_run) return;
    char byte = 1;
    (void)!write(fd, &byte, 1);
    pause();  // killed here, holding the lock, its run recorded as running
  };
  pid_t child = testing::fork_bounded([&] {
    close(ready[0]);
    Registry own;
    own.add({.version = "1", .description = "blocks", .up = blocking, .down = [](MigrationContext&) {}});
    Client client(testing::server_uri());
    Runner(client.database(db.name()), own, {.lock = {.ttl = 60'000ms}}).up();
    return 0;
  });
  ASSERT_GE(child, 0);
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1) << "the runner never reached its migration (its error is on stderr)";
  close(ready[0]);

  Registry same;
  same.add({.version = "1", .description = "blocks", .up = [](MigrationContext&) {}, .down = [](MigrationContext&) {}});
  Runner runner(db, same);
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::running) << "its runner is alive and holds the lock";
  kill(child, SIGKILL);
  testing::wait_bounded(child, "the killed runner");
  StatusRow row = runner.status()[0];
  EXPECT_EQ(row.status, MigrationStatus::interrupted);
  EXPECT_NE(row.progress.find("its own code"), std::string::npos) << row.progress;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(runner.up().versions, std::vector<std::string>{"1"}) << "no LockBusy for the lease's 60 s";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::applied);
}

}  // namespace
}  // namespace mongo_orm::migrate
