// Tests for migrate/lock.hpp against the real server: exclusion, waiting, expiry of a crashed
// holder, fencing tokens, losing the lease, forced unlock.
#include "mongo_orm/migrate/lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "support/child_process.hpp"
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

// A runner in a child process takes the lock (with a lease longer than the test) and tells
// the parent through a pipe; it then dies at once or lives until it is killed.
pid_t child_holding_the_lock(const Database& db, bool die_at_once, LockOptions options = {.ttl = 60'000ms}) {
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  pid_t child = testing::fork_bounded([&] {
    close(ready[0]);
    Client own(testing::server_uri());
    options.renew_in_background = false;
    auto lock = LeaseLock::acquire(own.database(db.name()), options);
    char byte = 1;
    (void)!write(ready[1], &byte, 1);
    if (!die_at_once) pause();
    std::_Exit(0);
    return 0;
  });
  close(ready[1]);
  char byte = 0;
  EXPECT_EQ(read(ready[0], &byte, 1), 1) << "the child could not take the lock (its error is on stderr)";
  close(ready[0]);
  return child;
}

TEST_F(LockTest, AHolderWhoseProcessIsGoneIsTakenOverAtOnce) {
  pid_t child = child_holding_the_lock(db, true);
  testing::wait_bounded(child, "the lock holder");
  std::string notice;
  auto taken = LeaseLock::acquire(db, {.notice = [&](const std::string& text) { notice = text; }});
  EXPECT_EQ(taken->token(), 2);
  EXPECT_NE(notice.find("took over"), std::string::npos) << notice;
  EXPECT_NE(notice.find(std::to_string(child)), std::string::npos) << notice;
}

TEST_F(LockTest, ALiveHolderIsNotTakenOverButAKilledOneIs) {
  pid_t child = child_holding_the_lock(db, false);
  EXPECT_THROW(LeaseLock::acquire(db), LockBusyError);
  kill(child, SIGKILL);
  testing::wait_bounded(child, "the lock holder");
  EXPECT_EQ(LeaseLock::acquire(db)->token(), 2);
}

TEST_F(LockTest, AWaitingRunnerSaysWhoHoldsTheLockAndUntilWhen) {
  pid_t child = child_holding_the_lock(db, false);
  std::string notice;
  EXPECT_THROW(LeaseLock::acquire(db, {.wait = 300ms, .retry_interval = 100ms,
                                       .notice = [&](const std::string& text) { notice += text; }}),
               LockBusyError);
  kill(child, SIGKILL);
  testing::wait_bounded(child, "the lock holder");
  EXPECT_NE(notice.find("waiting up to 300 ms"), std::string::npos) << notice;
  EXPECT_NE(notice.find(":" + std::to_string(child) + ":"), std::string::npos) << notice;
  EXPECT_NE(notice.find("(server time)"), std::string::npos) << notice;
}

// A holder recorded by another machine (or process table) cannot be checked from here: its
// lease is waited out.
TEST_F(LockTest, AHolderOnAnotherMachineExpiresWithItsLease) {
  pid_t child = child_holding_the_lock(db, true, {.ttl = 800ms});
  testing::wait_bounded(child, "the lock holder");
  db.collection("_mongo_orm_locks")
      .update_one(bson::Builder{}.append("_id", "migrations").extract(),
                  bson::Builder{}.append("$set", [](bson::Builder& set) {
                    set.append("process_table", "another-host/boot/pid:[1]");
                  }).extract());
  EXPECT_THROW(LeaseLock::acquire(db), LockBusyError) << "held until it expires";
  auto taken = LeaseLock::acquire(db, {.wait = 5000ms, .retry_interval = 100ms});
  EXPECT_EQ(taken->token(), 2);
}

// A pid that runs again, for another process, is not the holder: the start time tells them apart.
TEST_F(LockTest, AReusedPidIsNotMistakenForTheHolder) {
  pid_t child = child_holding_the_lock(db, true);
  testing::wait_bounded(child, "the lock holder");
  auto holder = db.collection("_mongo_orm_locks").find_one(bson::Builder{}.append("_id", "migrations").extract());
  ASSERT_TRUE(holder);
  ASSERT_GT((*holder)["pid_start"].as_int64(), 0) << "the lock records when its holder's process started";
  auto set_pid = [&](int64_t pid, int64_t start) {
    db.collection("_mongo_orm_locks")
        .update_one(bson::Builder{}.append("_id", "migrations").extract(),
                    bson::Builder{}.append("$set", [&](bson::Builder& set) {
                      set.append("pid", pid).append("pid_start", start);
                    }).extract());
  };
  pid_t alive = getppid();  // a process that runs, but not the one that took the lock
  set_pid(alive, 1);
  EXPECT_EQ(LeaseLock::acquire(db)->token(), 2) << "pid " << alive << " runs, but started at another time";
}

TEST(ServerClock, IsReadFromADateOrFromIntegerMilliseconds) {
  using std::chrono::milliseconds;
  auto at = [](auto&& value) {
    return std::chrono::duration_cast<milliseconds>(
               clock_of_hello(bson::Builder{}.append("localTime", value).extract()).time_since_epoch())
        .count();
  };
  EXPECT_EQ(at(bson::DateTime(1'700'000'000'123)), 1'700'000'000'123);
  EXPECT_EQ(at(int64_t{1'700'000'000'123}), 1'700'000'000'123);
  EXPECT_EQ(at(1.7e12), 1'700'000'000'000);
  try {
    clock_of_hello(bson::Builder{}.append("ok", 1).extract());
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("no localTime"), std::string::npos) << e.what();
  }
  EXPECT_THROW(clock_of_hello(bson::Builder{}.append("localTime", "noon").extract()), MigrationError);
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
