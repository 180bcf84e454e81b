// A migration runner killed with SIGKILL at random points, then run again: the collection ends
// identical (a hash over every document in _id order) to an uninterrupted run's, nothing lost
// and nothing applied twice, and the changelog shows the killed run followed by the one that
// resumed it.
//
// Two shapes: seed 000's split of `name` into first_name / last_name over 100k documents
// (the automatic strategy: a rewrite on FerretDB, bulk updates in place on MongoDB), and a
// non-idempotent $inc over 1k documents forced in place, which a batch applied twice would
// show. MONGO_ORM_CRASH_TRIALS sets the killed runs per shape (3 by default; the long variant
// runs 20) and MONGO_ORM_CRASH_SEED the random kill points.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "mongo_orm/mongo_orm.hpp"
#include "support/server.hpp"

namespace mongo_orm::migrate {
namespace {

using namespace std::chrono_literals;

constexpr const char* version = "2023.01.001";

Registry split_names() {
  Registry registry;
  registry.add({.version = version, .description = "split name into first_name and last_name",
                .steps = {ops::transform("people", {}, [](bson::DocumentView person) -> std::optional<bson::Document> {
                  auto name = person.find("name");
                  if (!name || name->type() != bson::Type::string) return std::nullopt;
                  std::string_view whole = name->as_string();
                  std::size_t space = whole.find(' ');
                  std::string first(whole.substr(0, space));
                  std::string last(space == std::string_view::npos ? "" : whole.substr(space + 1));
                  return bson::Builder{}
                      .append("$set", [&](bson::Builder& set) { set.append("first_name", first).append("last_name", last); })
                      .append("$unset", [](bson::Builder& unset) { unset.append("name", ""); })
                      .extract();
                }, {.label = "split"})}});
  return registry;
}

Registry count_once() {
  Registry registry;
  registry.add({.version = version, .description = "add one to every counter",
                .steps = {ops::transform("people", {}, [](bson::DocumentView) -> std::optional<bson::Document> {
                  return bson::Builder{}.append("$inc", [](bson::Builder& inc) { inc.append("applied", 1); }).extract();
                }, {.label = "count", .strategy = ops::TransformStrategy::in_place})}});
  return registry;
}

RunnerOptions runner_options(int32_t batch) {
  // A short lease, so that the run after a kill does not wait long for the dead holder's.
  return {.lock = {.ttl = 1500ms, .wait = 60s, .retry_interval = 100ms}, .batch = {.size = batch}};
}

void load(const Database& database, int64_t count) {
  Collection people = database.collection("people");
  std::vector<bson::Document> batch;
  for (int64_t i = 0; i < count; ++i) {
    batch.push_back(bson::Builder{}
                        .append("_id", i)
                        .append("name", "First" + std::to_string(i) + " Last" + std::to_string(i % 977))
                        .append("age", static_cast<int32_t>(i % 90))
                        .extract());
    if (batch.size() == 10000) {
      people.insert_many(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) people.insert_many(batch);
}

// Every document's content_hash, in _id order, folded into one (order matters).
uint64_t collection_hash(const Database& database) {
  uint64_t hash = 0;
  FindOptions options;
  options.sort = bson::Builder{}.append("_id", 1).extract();
  for (bson::DocumentView document : database.collection("people").find({}, options)) {
    hash = hash * 1099511628211ULL + static_cast<uint64_t>(content_hash(document));
  }
  return hash;
}

int trials() {
  const char* text = std::getenv("MONGO_ORM_CRASH_TRIALS");
  return text ? std::max(1, std::atoi(text)) : 3;
}

class CrashTest : public testing::ServerTest {
 protected:
  // Runs `up` in a forked process, killed after `kill_after` unless it ends first; returns
  // whether it was killed.
  bool up_killed_after(const Registry& registry, int32_t batch, std::chrono::milliseconds kill_after) {
    std::string uri = testing::server_uri(), name = db.name();
    std::fflush(nullptr);
    pid_t child = fork();
    if (child == 0) {
      int code = 0;
      try {
        Client own(uri);
        Runner(own.database(name), registry, runner_options(batch)).up();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "runner: %s\n", e.what());
        code = 1;
      }
      _exit(code);
    }
    auto deadline = std::chrono::steady_clock::now() + kill_after;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(child, &status, WNOHANG) == child) return false;
      std::this_thread::sleep_for(5ms);
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return WIFSIGNALED(status);
  }

  // The shape's uninterrupted result, then `trials()` runs each killed at a random point and
  // resumed: each must end with the same hash and a changelog of the killed run, then the
  // resumed one.
  void killed_and_resumed(const Registry& registry, int64_t documents, int32_t batch) {
    load(db, documents);
    auto started = std::chrono::steady_clock::now();
    Runner(db, registry, runner_options(batch)).up();
    auto uninterrupted = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    uint64_t expected = collection_hash(db);

    unsigned seed = std::random_device{}();
    if (const char* text = std::getenv("MONGO_ORM_CRASH_SEED")) seed = static_cast<unsigned>(std::strtoul(text, nullptr, 10));
    std::mt19937 random(seed);
    std::uniform_int_distribution<int64_t> point(50, std::max<int64_t>(100, uninterrupted.count() * 9 / 10));
    std::printf("uninterrupted run: %lld ms; seed %u\n", static_cast<long long>(uninterrupted.count()), seed);

    int killed = 0;
    for (int attempt = 0; killed < trials() && attempt < trials() * 3; ++attempt) {
      db.drop();
      load(db, documents);
      std::chrono::milliseconds at(point(random));
      if (!up_killed_after(registry, batch, at)) {
        std::printf("trial %d: the run ended before %lld ms; not counted\n", attempt, static_cast<long long>(at.count()));
        continue;
      }
      ++killed;
      auto history = Runner(db, registry, runner_options(batch)).history();
      ASSERT_FALSE(history.empty() && history.back().status == RunStatus::applied)
          << "killed at " << at.count() << " ms, yet the run was recorded as finished";
      Runner(db, registry, runner_options(batch)).up();
      EXPECT_EQ(collection_hash(db), expected) << "killed at " << at.count() << " ms (seed " << seed << ")";
      EXPECT_EQ(db.collection("people").count_documents({}), documents);
      history = Runner(db, registry, runner_options(batch)).history();
      ASSERT_GE(history.size(), 1u);
      EXPECT_EQ(history.back().status, RunStatus::applied);
      // Killed before its first changelog write, a run leaves no record at all.
      if (history.size() >= 2) {
        EXPECT_EQ(history.front().status, RunStatus::running) << "the killed run stays 'running'";
      }
      std::printf("trial %d: killed at %lld ms; %zu runs in the changelog; hash %s\n", attempt,
                  static_cast<long long>(at.count()), history.size(),
                  collection_hash(db) == expected ? "equal" : "DIFFERENT");
    }
    EXPECT_EQ(killed, trials()) << "runs killed part way";
  }
};

TEST_F(CrashTest, SplitOf100kDocumentsKilledAndResumedEndsAsAnUninterruptedRun) {
  killed_and_resumed(split_names(), 100'000, 2000);
}

TEST_F(CrashTest, InPlaceIncrementKilledAndResumedIsAppliedExactlyOnce) {
  killed_and_resumed(count_once(), 1'000, 100);
  EXPECT_EQ(db.collection("people").count_documents(bson::from_json(R"({"applied": 1})")), 1000);
}

}  // namespace
}  // namespace mongo_orm::migrate
