// The asynchronous face against the real server: calls run on the executor's threads and
// complete on the loop's thread; the loop keeps running while they block; results, exceptions,
// cancellation before a call starts, and an executor destroyed with calls queued.
#include <gtest/gtest.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "model/models.hpp"
#include "mongo_orm/async/asio.hpp"
#include "support/server.hpp"

namespace app {
namespace {

using model::field;
using model::Tracked;
using model::TypedCollection;
using mongo_orm::async::AsyncCollection;
using mongo_orm::async::BlockingExecutor;
using mongo_orm::async::CallAbandoned;

class AsyncTest : public mongo_orm::testing::ServerTest {
 protected:
  Tracked<User> stored_user(const std::string& email, int32_t age) {
    User u = sample_user();
    u.email = email;
    u.age = age;
    return users.insert(u);
  }
  TypedCollection<User> users{db};
};

TEST_F(AsyncTest, TheFutureFormDeliversResultsAndExceptions) {
  BlockingExecutor pool({.threads = 2});
  Tracked<User> ada = stored_user("ada@example.com", 36);
  std::future<int64_t> n = pool.submit([users = users] { return users.count(); });
  std::future<std::optional<Tracked<User>>> found = pool.submit([users = users, id = ada->id] { return users.get_by_id(id); });
  EXPECT_EQ(n.get(), 1);
  EXPECT_EQ(found.get()->get().email, "ada@example.com");
  std::future<Tracked<User>> missing = pool.submit([users = users] { return users.query(field(&User::age) > 99).one(); });
  EXPECT_THROW(missing.get(), NotFoundError);
  std::future<void> nothing = pool.submit([] {});
  EXPECT_NO_THROW(nothing.get());
}

TEST_F(AsyncTest, ManyConcurrentCallsFromOneLoopThreadRunOnTheExecutorAndResumeOnTheLoop) {
  std::vector<bson::ObjectId> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(stored_user("u" + std::to_string(i) + "@example.com", i)->id);

  BlockingExecutor pool({.threads = 4});
  AsyncCollection<User> async_users(users, pool);
  asio::io_context loop;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::mutex seen_mutex;
  std::set<std::thread::id> call_threads;
  int found = 0;
  bool resumed_elsewhere = false;
  for (int round = 0; round < 4; ++round) {
    for (const bson::ObjectId& id : ids) {
      asio::co_spawn(
          loop,
          [&, id]() -> asio::awaitable<void> {
            auto user = co_await async_users.get_by_id(id, asio::use_awaitable);
            if (std::this_thread::get_id() != loop_thread) resumed_elsewhere = true;
            if (user && (*user)->id == id) ++found;
            std::thread::id ran_on = co_await mongo_orm::async::async_call(
                pool, [] { return std::this_thread::get_id(); }, asio::use_awaitable);
            std::lock_guard lock(seen_mutex);
            call_threads.insert(ran_on);
          },
          asio::detached);
    }
  }
  loop.run();
  EXPECT_EQ(found, 200);
  EXPECT_FALSE(resumed_elsewhere) << "every completion runs on the loop's thread";
  EXPECT_FALSE(call_threads.contains(loop_thread)) << "no blocking call ran on the loop's thread";
  EXPECT_GE(call_threads.size(), 2u) << "the calls spread over the executor's threads";
}

TEST_F(AsyncTest, TheLoopKeepsRunningWhileACallBlocks) {
  BlockingExecutor pool({.threads = 1});
  asio::io_context loop;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  bool call_done = false;
  int ticks_before_done = 0;
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        auto wait = [released] { released.wait(); };
        co_await mongo_orm::async::async_call(pool, wait, asio::use_awaitable);
        call_done = true;
      },
      asio::detached);
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(loop);
        for (int i = 0; i < 5; ++i) {
          timer.expires_after(std::chrono::milliseconds(10));
          co_await timer.async_wait(asio::use_awaitable);
          if (!call_done) ++ticks_before_done;
        }
        release.set_value();  // the loop ran five timers while the call was blocked
      },
      asio::detached);
  loop.run();
  EXPECT_TRUE(call_done);
  EXPECT_EQ(ticks_before_done, 5);
}

TEST_F(AsyncTest, ExceptionsAndWritesReachTheCoroutine) {
  BlockingExecutor pool({.threads = 2});
  AsyncCollection<User> async_users(users, pool);
  Tracked<User> ada = stored_user("ada@example.com", 36);
  asio::io_context loop;
  std::string caught;
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        // Callables with captures and filters are named before co_await: GCC 12 destroys a lambda
        // with captures created inside a co_await expression twice.
        Tracked<User> loaded = *co_await async_users.get_by_id(ada->id, asio::use_awaitable);
        loaded->age = 37;
        Tracked<User> saved = co_await async_users.save(std::move(loaded), asio::use_awaitable);
        EXPECT_EQ(saved->age, 37);
        model::Filter aged = field(&User::age) == 37;
        int64_t n = co_await async_users.count(aged, asio::use_awaitable);
        EXPECT_EQ(n, 1);
        User copy = sample_user();
        copy.email = "ada@example.com";
        model::Filter by_email = field(&User::email) == "ada@example.com";
        try {
          co_await async_users.insert(copy, asio::use_awaitable);
          auto query = users.query(by_email);
          auto both = co_await async_users.to_vector(query, asio::use_awaitable);
          EXPECT_EQ(both.size(), 2u);
          auto one = [u = users, by_email] { return u.query(by_email).one(); };
          co_await mongo_orm::async::async_call(pool, one, asio::use_awaitable);
        } catch (const MultipleFoundError& e) {
          caught = e.what();
        }
        DeleteResult deleted = co_await async_users.delete_many(by_email, asio::use_awaitable);
        EXPECT_EQ(deleted.deleted_count, 2);
      },
      asio::detached);
  loop.run();
  EXPECT_NE(caught.find("more than one document matches"), std::string::npos) << caught;
  EXPECT_EQ(users.count(), 0);
}

// A save or insert that fails hands the object back beside the error, its changes kept:
// asio::experimental::as_tuple receives both; use_awaitable rethrows.
TEST_F(AsyncTest, AFailedSaveOrInsertHandsTheObjectBack) {
  BlockingExecutor pool({.threads = 1});
  AsyncCollection<User> async_users(users, pool);
  Tracked<User> ada = stored_user("ada@example.com", 36);
  asio::io_context loop;
  bool checked = false;
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        Tracked<User> loaded = *co_await async_users.get_by_id(ada->id, asio::use_awaitable);
        loaded->age = 500;  // max(150)
        loaded->name = "Ada L.";
        auto [error, back] = co_await async_users.save(std::move(loaded), asio::experimental::as_tuple(asio::use_awaitable));
        EXPECT_TRUE(error);
        EXPECT_THROW(std::rethrow_exception(error), ValidationError);
        EXPECT_EQ(back->age, 500) << "the object comes back as it went in";
        EXPECT_EQ(back->name, "Ada L.");
        EXPECT_TRUE(back.is_stored());
        back->age = 37;  // mended, saved again: only what changed goes out
        Tracked<User> saved = co_await async_users.save(std::move(back), asio::use_awaitable);
        EXPECT_EQ(saved->name, "Ada L.");
        User twin = sample_user();
        twin.email = "ada@example.com";
        twin.age = 200;
        auto [insert_error, unsaved] = co_await async_users.insert(twin, asio::experimental::as_tuple(asio::use_awaitable));
        EXPECT_TRUE(insert_error);
        EXPECT_EQ(unsaved->age, 200);
        EXPECT_FALSE(unsaved.is_stored());
        checked = true;
      },
      asio::detached);
  loop.run();
  EXPECT_TRUE(checked);
  EXPECT_EQ(users.get_by_id(ada->id)->get().age, 37);
  EXPECT_EQ(users.count(), 1);
}

TEST_F(AsyncTest, ACallCancelledBeforeItStartsNeverRuns) {
  BlockingExecutor pool({.threads = 1});
  asio::io_context loop;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = pool.submit([released] { released.wait(); });

  asio::cancellation_signal signal;
  bool ran = false;
  std::exception_ptr outcome;
  bool completed = false;
  mongo_orm::async::async_call(
      pool, [&ran] { ran = true; return 1; },
      asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(loop, [&](std::exception_ptr e, int) {
                                     outcome = e;
                                     completed = true;
                                   })));
  signal.emit(asio::cancellation_type::terminal);
  loop.run();
  release.set_value();
  blocker.get();
  ASSERT_TRUE(completed);
  EXPECT_FALSE(ran);
  try {
    std::rethrow_exception(outcome);
  } catch (const CallAbandoned& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled before it ran"), std::string::npos) << e.what();
  }
}

TEST_F(AsyncTest, DestroyingTheExecutorAbandonsQueuedCallsAndWaitsForRunningOnes) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto pool = std::make_unique<BlockingExecutor>(BlockingExecutor::Options{.threads = 1});
  std::atomic<bool> running_finished{false};
  auto running = pool->submit([released, &running_finished] {
    released.wait();
    running_finished = true;
  });
  while (pool->queued() > 0) std::this_thread::yield();  // the worker took it
  std::atomic<bool> queued_ran{false};
  auto queued = pool->submit([&queued_ran] { queued_ran = true; });
  std::thread destroyer([&] { pool.reset(); });
  EXPECT_THROW(queued.get(), CallAbandoned) << "abandoned at once, while the running call still blocks";
  release.set_value();
  destroyer.join();
  EXPECT_TRUE(running_finished) << "the destructor waited for the running call";
  EXPECT_FALSE(queued_ran);
  EXPECT_NO_THROW(running.get());

  BlockingExecutor small({.threads = 1, .queue_limit = 1});
  std::promise<void> hold;
  std::shared_future<void> held = hold.get_future().share();
  auto busy = small.submit([held] { held.wait(); });
  while (small.queued() > 0) std::this_thread::yield();
  auto waiting = small.submit([] {});
  EXPECT_THROW(small.submit([] {}), CallAbandoned) << "a full queue refuses, naming it";
  hold.set_value();
  busy.get();
  waiting.get();
}

TEST_F(AsyncTest, AMigrationRunsOffTheLoop) {
  migrate::Registry registry;
  registry.add({.version = "1", .description = "mark users", .up = [](migrate::MigrationContext& ctx) {
                  if (!ctx.dry_run) ctx.database.collection("users").update_many({}, bson::from_json(R"({"$set": {"marked": true}})"));
                }});
  stored_user("ada@example.com", 36);
  BlockingExecutor pool({.threads = 1});
  asio::io_context loop;
  std::future<migrate::RunReport> report =
      mongo_orm::async::async_call(pool, [runner = migrate::Runner(db, registry)]() mutable { return runner.up(); }, asio::use_future);
  loop.run();
  EXPECT_EQ(report.get().versions, (std::vector<std::string>{"1"}));
  EXPECT_EQ(db.collection("users").count_documents(bson::from_json(R"({"marked": true})")), 1);
}

}  // namespace
}  // namespace app
