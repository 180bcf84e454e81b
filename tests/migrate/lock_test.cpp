// Tests for migrate/lock.hpp against the real server: exclusion, waiting, expiry of a crashed
// holder, fencing tokens, losing the lease, forced unlock.
#include "mongo_orm/migrate/lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "support/server.hpp"

namespace mongo_orm::migrate {
namespace {

using namespace std::chrono_literals;
using testing::ServerTest;

class LockTest : public ServerTest {};

TEST_F(LockTest, SecondRunnerIsRefusedNamingTheHolder) {
  auto first = LeaseLock::acquire(db);
  try {
    LeaseLock::acquire(db);
    FAIL() << "expected LockBusyError";
  } catch (const LockBusyError& e) {
    EXPECT_NE(std::string(e.what()).find(first->owner()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(server time)"), std::string::npos) << e.what();
  }
}

TEST_F(LockTest, ReleasedLockIsTakenAgainWithAHigherToken) {
  int64_t first_token = 0;
  {
    auto first = LeaseLock::acquire(db);
    first_token = first->token();
  }
  auto second = LeaseLock::acquire(db);
  EXPECT_GT(second->token(), first_token);
}

TEST_F(LockTest, AWaitingRunnerGetsTheLockWhenItIsReleased) {
  auto first = LeaseLock::acquire(db);
  std::thread release([&] {
    std::this_thread::sleep_for(400ms);
    first.reset();
  });
  auto second = LeaseLock::acquire(db, {.wait = 5000ms, .retry_interval = 50ms});
  release.join();
  EXPECT_NO_THROW(second->confirm());
}

TEST_F(LockTest, OnlyOneOfManyRunnersHoldsItAtATime) {
  std::atomic<int> inside{0}, most{0}, done{0};
  std::vector<std::thread> runners;
  for (int i = 0; i < 6; ++i) {
    runners.emplace_back([&] {
      auto lock = LeaseLock::acquire(db, {.wait = 20'000ms, .retry_interval = 20ms});
      int now = ++inside;
      most = std::max(most.load(), now);
      std::this_thread::sleep_for(50ms);
      lock->confirm();
      --inside;
      ++done;
    });
  }
  for (auto& r : runners) r.join();
  EXPECT_EQ(done.load(), 6);
  EXPECT_EQ(most.load(), 1);
}

TEST_F(LockTest, ACrashedHoldersLockExpires) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a runner that takes the lock and dies without releasing it
    Client own(testing::server_uri());
    auto lock = LeaseLock::acquire(own.database(db.name()), {.ttl = 800ms, .renew_in_background = false});
    std::_Exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_THROW(LeaseLock::acquire(db), LockBusyError) << "held until it expires";
  auto taken = LeaseLock::acquire(db, {.wait = 5000ms, .retry_interval = 100ms});
  EXPECT_EQ(taken->token(), 2);
}

TEST_F(LockTest, ALeaseTakenOverIsFencedOut) {
  auto stale = LeaseLock::acquire(db, {.ttl = 600ms, .renew_in_background = false});
  std::this_thread::sleep_for(900ms);  // as if the runner had been paused past its lease
  auto fresh = LeaseLock::acquire(db);
  EXPECT_GT(fresh->token(), stale->token());
  EXPECT_THROW(stale->confirm(), LockLostError);
  EXPECT_TRUE(stale->lost());
  stale.reset();  // a lost lease releases nothing
  EXPECT_NO_THROW(fresh->confirm());
}

TEST_F(LockTest, RenewalKeepsALongRunAlive) {
  auto lock = LeaseLock::acquire(db, {.ttl = 600ms});
  std::this_thread::sleep_for(1500ms);
  EXPECT_THROW(LeaseLock::acquire(db), LockBusyError);
  EXPECT_NO_THROW(lock->confirm());
}

TEST_F(LockTest, ForceUnlockRemovesAnyHolder) {
  auto held = LeaseLock::acquire(db, {.renew_in_background = false});
  EXPECT_TRUE(LeaseLock::force_unlock(db));
  EXPECT_FALSE(LeaseLock::force_unlock(db));
  EXPECT_THROW(held->confirm(), LockLostError);
  EXPECT_NO_THROW(LeaseLock::acquire(db));
}

}  // namespace
}  // namespace mongo_orm::migrate
