// A migration whose server goes away: a runner (a forked process) exits non-zero with a clear
// error within its retry budget when the server stays down, and `up` resumes and completes
// once it is back; an outage shorter than the retry budget is ridden out. Each test runs its
// own FerretDB (testing::PrivateServer), so it can stop and restart it.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mongo_orm/mongo_orm.hpp"
#include "support/private_server.hpp"

namespace mongo_orm::migrate {
namespace {

using bson::from_json;
using namespace std::chrono_literals;

// In place, journaled: a batch cut by the outage is retried from its pre-images.
Registry mark_everything() {
  Registry registry;
  registry.add({.version = "1", .description = "mark every document",
                .steps = {ops::transform("items", from_json(R"({"marked": {"$exists": false}})"),
                                         [](bson::DocumentView) -> std::optional<bson::Document> {
                                           return from_json(R"({"$set": {"marked": true}})");
                                         },
                                         {.label = "mark", .strategy = ops::TransformStrategy::in_place})}});
  return registry;
}

class ServerLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = server.start();
    ASSERT_EQ(started.exit_code, 0) << started.both();
    Client client(uri);
    std::vector<bson::Document> docs;
    for (int i = 0; i < 600; ++i) docs.push_back(bson::Builder{}.append("_id", i).extract());
    client.database("loss").collection("items").insert_many(docs);
  }
  // Runs `up` in a child process with its own client; returns its pid. The error, if any, goes
  // to error_file.
  pid_t run_child(RunnerOptions options) {
    pid_t pid = fork();
    if (pid == 0) {
      int code = 0;
      try {
        Client client(uri);
        Registry registry = mark_everything();
        Runner runner(client.database("loss"), registry, options);
        runner.up();
      } catch (const std::exception& e) {
        std::ofstream(error_file) << e.what();
        code = 1;
      }
      _exit(code);
    }
    return pid;
  }
  // Waits for the child; nullopt when it is still running after `limit`.
  std::optional<int> wait_child(pid_t pid, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
      std::this_thread::sleep_for(50ms);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return std::nullopt;
  }
  int64_t marked() {
    Client client(uri);
    return client.database("loss").collection("items").count_documents(from_json(R"({"marked": true})"));
  }
  void wait_for_progress() {
    for (int i = 0; i < 200 && marked() == 0; ++i) std::this_thread::sleep_for(20ms);
  }

  testing::PrivateServer server;
  std::string home = server.home(), uri = server.uri(), error_file;
};

TEST_F(ServerLoss, RunnerExitsWithAClearErrorThenUpResumesAfterTheServerReturns) {
  error_file = home + "/child_error";
  RunnerOptions options{.lock = {.ttl = 3s},
                        .batch = {.size = 20, .pause = 50ms, .retries = 2, .retry_delay = 200ms}};
  pid_t child = run_child(options);
  wait_for_progress();
  ASSERT_EQ(server.stop().exit_code, 0);
  auto stopped_at = std::chrono::steady_clock::now();
  std::optional<int> code = wait_child(child, 30s);
  ASSERT_TRUE(code.has_value()) << "the runner did not give up within 30 s";
  EXPECT_EQ(*code, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 20s);
  std::string error;
  std::getline(std::ifstream(error_file), error);
  EXPECT_NE(error.find("mark"), std::string::npos) << "names the operation: " << error;

  ASSERT_EQ(server.start().exit_code, 0);
  EXPECT_LT(marked(), 600) << "the outage stopped it part way";
  Client client(uri);
  Registry registry = mark_everything();
  Runner runner(client.database("loss"), registry, {.lock = {.ttl = 3s, .wait = 15s}});
  EXPECT_EQ(runner.up().versions, (std::vector<std::string>{"1"})) << "the interrupted migration runs again";
  EXPECT_EQ(marked(), 600);
  auto runs = runner.history();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].status, RunStatus::running) << "the lost run could not record its end";
  EXPECT_EQ(runs[1].status, RunStatus::applied);
}

TEST_F(ServerLoss, ABriefOutageIsRiddenOutByRetries) {
  error_file = home + "/child_error";
  RunnerOptions options{.batch = {.size = 20, .pause = 50ms, .retries = 8, .retry_delay = 250ms}};
  pid_t child = run_child(options);
  wait_for_progress();
  ASSERT_EQ(server.stop().exit_code, 0);
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(server.start().exit_code, 0);
  std::optional<int> code = wait_child(child, 120s);
  ASSERT_TRUE(code.has_value());
  std::string error;
  std::getline(std::ifstream(error_file), error);
  EXPECT_EQ(*code, 0) << error;
  EXPECT_EQ(marked(), 600);
  // What it reports counts the documents a retried batch's failed attempt changed too.
  Client client(uri);
  Registry registry = mark_everything();
  auto runs = Runner(client.database("loss"), registry).history();
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_EQ(runs[0].operations.size(), 1u);
  EXPECT_EQ(runs[0].operations[0].modified, 600);
}

}  // namespace
}  // namespace mongo_orm::migrate
