// Tests for migrate/runner.hpp against the real server, with seed 000's migrations written
// against the raw collection: up, down, status, failures and resumption, drift, irreversible
// steps, concurrent runners, baseline.
#include "mongo_orm/migrate/runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "migrate/seed_migrations.hpp"
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

}  // namespace
}  // namespace mongo_orm::migrate
