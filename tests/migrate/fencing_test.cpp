// A runner paused (SIGSTOP) past its lease is fenced out: another runner takes the lock and
// finishes the migration, and the paused one, once it wakes (SIGCONT), writes nothing more to
// the changelog and exits with a lost-lock error.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "mongo_orm/mongo_orm.hpp"
#include "support/child_process.hpp"
#include "support/server.hpp"

namespace mongo_orm::migrate {
namespace {

using namespace std::chrono_literals;

Registry slow_count() {
  Registry registry;
  registry.add({.version = "1", .description = "count every document, slowly",
                .steps = {ops::transform("items", {}, [](bson::DocumentView) -> std::optional<bson::Document> {
                  return bson::Builder{}.append("$inc", [](bson::Builder& inc) { inc.append("applied", 1); }).extract();
                }, {.label = "count", .strategy = ops::TransformStrategy::in_place})}});
  return registry;
}

// The batched, checkpointed path (transaction_limit 0): a transaction would leave no
// checkpoints to fence.
RunnerOptions options() {
  return {.lock = {.ttl = 1000ms, .wait = 30s, .retry_interval = 50ms},
          .batch = {.size = 10, .pause = 150ms},
          .transaction_limit = 0};
}

class Fencing : public testing::ServerTest {};

TEST_F(Fencing, ARunnerPausedPastItsLeaseCannotWriteTheChangelogWhenItWakes) {
  std::vector<bson::Document> docs;
  for (int i = 0; i < 200; ++i) docs.push_back(bson::Builder{}.append("_id", i).extract());
  db.collection("items").insert_many(docs);
  Collection changelog = db.collection(Changelog::default_collection);
  std::string uri = testing::server_uri(), name = db.name();

  std::fflush(nullptr);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t paused = testing::fork_bounded([&] {
    close(pipe_fds[0]);
    int code = 0;
    try {
      Client own(uri);
      Registry registry = slow_count();
      Runner(own.database(name), registry, options()).up();
    } catch (const LockLostError& e) {
      code = 3;
      if (write(pipe_fds[1], e.what(), std::strlen(e.what())) < 0) code = 4;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "paused runner: %s\n", e.what());
      code = 1;
    }
    return code;
  });
  close(pipe_fds[1]);
  // Wait until it is well into the migration (two batches checkpointed), then pause it.
  bson::Document running = bson::from_json(R"({"status": "running", "checkpoints.0:0.processed": {"$gte": 20}})");
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (changelog.count_documents(running) == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(changelog.count_documents(running), 1) << "the first runner never got going";
  kill(paused, SIGSTOP);
  std::this_thread::sleep_for(1500ms);  // past its lease
  auto before = *changelog.find_one(bson::from_json(R"({"status": "running"})"));

  // Another runner takes the expired lock and finishes the migration, resuming the paused run.
  Registry registry = slow_count();
  Runner(db, registry, options()).up();

  kill(paused, SIGCONT);
  int status = testing::wait_bounded(paused, "the paused runner");
  ASSERT_TRUE(WIFEXITED(status));
  char reason[512] = {};
  ssize_t n = read(pipe_fds[0], reason, sizeof reason - 1);
  close(pipe_fds[0]);
  EXPECT_EQ(WEXITSTATUS(status), 3) << "the woken runner must stop with a lost-lock error";
  EXPECT_GT(n, 0);
  std::printf("woken runner: %s\n", reason);

  auto after = *changelog.find_one(bson::Builder{}.append("_id", before["_id"]).extract());
  EXPECT_EQ(bson::to_relaxed_json(before), bson::to_relaxed_json(after)) << "the woken runner wrote to its changelog record";
  auto history = Runner(db, registry).history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].status, RunStatus::running);
  EXPECT_EQ(history[1].status, RunStatus::applied);
  EXPECT_GT(history[1].lock_token, history[0].lock_token) << "the fencing token rises";
  EXPECT_EQ(changelog.count_documents({}), 2) << "and it added no record";
}

}  // namespace
}  // namespace mongo_orm::migrate
