// Several runner processes started together on the same pending migrations: each migration is
// applied exactly once (a non-idempotent $inc shows any second application), the others wait
// for the lock and then find nothing left to do, and every process exits cleanly.
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "mongo_orm/mongo_orm.hpp"
#include "migrate/runner_process.hpp"
#include "support/server.hpp"

namespace mongo_orm::migrate {
namespace {

using bson::from_json;
using namespace std::chrono_literals;

Registry counting_migrations() {
  Registry registry;
  for (const char* version : {"1", "2", "3"}) {
    std::string field = std::string("applied_") + version;
    registry.add({.version = version, .description = "count applications",
                  .steps = {ops::transform("items", {}, [field](bson::DocumentView) -> std::optional<bson::Document> {
                    return bson::Builder{}.append("$inc", [&](bson::Builder& inc) { inc.append(field, 1); }).extract();
                  }, {.label = field})}});
  }
  return registry;
}

class ConcurrentRunners : public testing::ServerTest {};

TEST_F(ConcurrentRunners, SixProcessesApplyEachMigrationExactlyOnce) {
  std::vector<bson::Document> docs;
  for (int i = 0; i < 60; ++i) docs.push_back(bson::Builder{}.append("_id", i).extract());
  db.collection("items").insert_many(docs);
  std::string uri = testing::server_uri(), name = db.name();

  Registry registry = counting_migrations();
  std::vector<pid_t> children;
  for (int i = 0; i < 6; ++i) {
    children.push_back(testing::fork_up(uri, name, registry,
                                        {.lock = {.wait = 120s, .retry_interval = 50ms}, .batch = {.size = 20}}));
  }
  for (pid_t child : children) {
    int status = testing::wait_bounded(child, "a runner", std::chrono::seconds(300));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a runner failed";
  }
  Collection items = db.collection("items");
  for (const char* field : {"applied_1", "applied_2", "applied_3"}) {
    std::string once = std::string(R"({")") + field + R"(": 1})";
    EXPECT_EQ(items.count_documents(from_json(once)), 60) << field << " applied exactly once to every document";
  }
  auto runs = Runner(db, registry).history();
  EXPECT_EQ(runs.size(), 3u) << "one run per migration in the changelog";
  for (const auto& run : runs) EXPECT_EQ(run.status, RunStatus::applied);
}

}  // namespace
}  // namespace mongo_orm::migrate
