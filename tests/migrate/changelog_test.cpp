// Tests for migrate/changelog.hpp against the real server: one record per run, state derived
// from the records, nothing deleted on down, and no write without the lock.
#include "mongo_orm/migrate/changelog.hpp"

#include <gtest/gtest.h>

#include "support/server.hpp"

namespace mongo_orm::migrate {
namespace {

using testing::ServerTest;

Migration add_status() {
  Migration m;
  m.version = "2023.01.001";
  m.description = "Add status field to users with default value";
  m.fingerprint = "v1";
  m.up = [](MigrationContext&) {};
  m.down = [](MigrationContext&) {};
  return m;
}

class ChangelogTest : public ServerTest {
 protected:
  Changelog changelog{db};
};

TEST_F(ChangelogTest, RecordsEveryRunAndDerivesState) {
  auto lock = LeaseLock::acquire(db);
  Migration m = add_status();

  auto up = changelog.begin(m, Direction::up, *lock);
  EXPECT_EQ(changelog.history().at(0).status, RunStatus::running);
  changelog.finish(up, RunStatus::applied, "", {{"add_field users.status", 2, 2}}, *lock);
  auto state = changelog.state();
  ASSERT_TRUE(state.contains(m.version));
  EXPECT_TRUE(state[m.version].applied);
  EXPECT_EQ(state[m.version].applied_checksum, checksum_of(m));

  auto down = changelog.begin(m, Direction::down, *lock);
  changelog.finish(down, RunStatus::rolled_back, "", {}, *lock);
  EXPECT_FALSE(changelog.state()[m.version].applied);

  auto again = changelog.begin(m, Direction::up, *lock);
  changelog.finish(again, RunStatus::failed, "E11000 duplicate key", {}, *lock);
  auto after_failure = changelog.state()[m.version];
  EXPECT_FALSE(after_failure.applied);
  EXPECT_EQ(after_failure.last->status, RunStatus::failed);
  EXPECT_EQ(after_failure.last->error, "E11000 duplicate key");

  auto runs = changelog.history();
  ASSERT_EQ(runs.size(), 3u) << "append-only: the down did not delete the up";
  EXPECT_EQ(runs[0].operations.at(0).modified, 2);
  EXPECT_EQ(runs[0].lock_token, lock->token());
  EXPECT_GT(runs[0].pid, 0);
  EXPECT_FALSE(runs[0].host.empty());
  EXPECT_TRUE(runs[0].ended_at.has_value());
  EXPECT_EQ(bson::to_relaxed_json(*changelog.raw().find_one({}, {.projection = bson::from_json(R"({"direction": 1, "status": 1, "_id": 0})")})),
            R"({ "direction" : "up", "status" : "applied" })");
}

TEST_F(ChangelogTest, ARunnerThatLostTheLockWritesNothing) {
  auto lock = LeaseLock::acquire(db, {.renew_in_background = false});
  LeaseLock::force_unlock(db);
  auto other = LeaseLock::acquire(db);
  EXPECT_THROW(changelog.begin(add_status(), Direction::up, *lock), LockLostError);
  EXPECT_TRUE(changelog.history().empty());
}

TEST(Checksum, ChangesWithTheDefinition) {
  Migration a = add_status();
  Migration b = add_status();
  EXPECT_EQ(checksum_of(a), checksum_of(b));
  b.fingerprint = "v2";
  EXPECT_NE(checksum_of(a), checksum_of(b));
  EXPECT_EQ(checksum_of(a).size(), 16u);
}

}  // namespace
}  // namespace mongo_orm::migrate
