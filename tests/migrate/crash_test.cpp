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
#include <algorithm>
#include <functional>
#include <random>
#include <thread>

#include "mongo_orm/mongo_orm.hpp"
#include "migrate/runner_process.hpp"
#include "support/server.hpp"
#include "support/split_name.hpp"

namespace mongo_orm::migrate {
namespace {

using namespace std::chrono_literals;

constexpr const char* version = "2023.01.001";

Registry split_names() {
  Registry registry;
  registry.add({.version = version, .description = "split name into first_name and last_name",
                .steps = {ops::transform("people", {}, testing::split_name_update, {.label = "split"})}});
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
  // The run after a kill takes the dead holder's lease at once (same host, process gone), so the
  // lease need not be short; a long one keeps a run on a loaded server from losing it between
  // renewals. The batched, checkpointed path on every server (transaction_limit 0): what a kill
  // interrupts there is what these tests resume.
  return {.lock = {.ttl = 10s, .wait = 60s, .retry_interval = 100ms}, .batch = {.size = batch},
          .transaction_limit = 0};
}

Registry copy_overwriting() {
  Registry registry;
  registry.add({.version = version, .description = "copy the archive over people",
                .steps = {ops::copy_collection("archive", "people", {}, {}, ops::OnCollision::overwrite)}});
  return registry;
}

void load(const Database& database, int64_t count, const char* into = "people", int64_t first = 0) {
  Collection people = database.collection(into);
  std::vector<bson::Document> batch;
  for (int64_t i = first; i < first + count; ++i) {
    batch.push_back(bson::Builder{}
                        .append("_id", i)
                        .append("from", into)
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
  // Runs `up` in a forked process and kills it `delay` after its first loop has checkpointed
  // `processed` documents, unless it ends first; returns whether it was killed.
  // With `down`, the same for `down --all`.
  bool up_killed_at(const Registry& registry, int32_t batch, int64_t processed, std::chrono::milliseconds delay,
                    bool down = false) {
    pid_t child = testing::fork_up(testing::server_uri(), db.name(), registry, runner_options(batch),
                                   std::chrono::seconds(600), down);
    Collection changelog = db.collection(Changelog::default_collection);
    bson::Document reached = bson::Builder{}
                                 .append("direction", down ? "down" : "up")
                                 .append("checkpoints.0:0.processed", [&](bson::Builder& f) { f.append("$gte", processed); })
                                 .extract();
    int status = 0;
    auto ended = [&] { return waitpid(child, &status, WNOHANG) == child; };
    while (changelog.count_documents(reached) == 0) {
      if (ended()) return false;
      std::this_thread::sleep_for(5ms);
    }
    for (auto until = std::chrono::steady_clock::now() + delay; std::chrono::steady_clock::now() < until;) {
      if (ended()) return false;
      std::this_thread::sleep_for(1ms);
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return WIFSIGNALED(status);
  }

  // The shape's uninterrupted result, then `trials()` runs each killed at a random point and
  // resumed: each must end with the same hash and a changelog of the killed run, then the
  // resumed one; with `undo`, a down after the resumed run must give back the data as loaded.
  // `loader` loads the data (default: `documents` people); the first loop reads `documents`.
  void killed_and_resumed(const Registry& registry, int64_t documents, int32_t batch,
                          std::function<void()> loader = {}, bool undo = false) {
    if (!loader) loader = [&] { load(db, documents); };
    loader();
    uint64_t before = collection_hash(db);
    int64_t count = db.collection("people").count_documents({});
    Runner(db, registry, runner_options(batch)).up();
    uint64_t expected = collection_hash(db);
    int64_t expected_count = db.collection("people").count_documents({});
    if (undo) {
      Runner(db, registry, runner_options(batch)).down({.all = true});
      ASSERT_EQ(collection_hash(db), before) << "an uninterrupted run's undo";
    }

    unsigned seed = std::random_device{}();
    if (const char* text = std::getenv("MONGO_ORM_CRASH_SEED")) seed = static_cast<unsigned>(std::strtoul(text, nullptr, 10));
    std::mt19937 random(seed);
    // Kill points: after a random number of documents is checkpointed, plus a random delay
    // that lands anywhere in a batch (its read, its checkpoint, its write, the server's work).
    std::uniform_int_distribution<int64_t> progress(0, documents - 2 * batch);
    std::uniform_int_distribution<int> delay_ms(0, 400);
    std::printf("seed %u\n", seed);
    int killed = 0;
    for (int attempt = 0; killed < trials() && attempt < trials() * 3; ++attempt) {
      db.drop();
      loader();
      int64_t processed = progress(random);
      std::chrono::milliseconds delay(delay_ms(random));
      std::string at = std::to_string(processed) + " documents + " + std::to_string(delay.count()) + " ms";
      if (!up_killed_at(registry, batch, processed, delay)) {
        std::printf("trial %d: the run ended before %s; not counted\n", attempt, at.c_str());
        continue;
      }
      ++killed;
      auto history = Runner(db, registry, runner_options(batch)).history();
      ASSERT_FALSE(history.empty() && history.back().status == RunStatus::applied)
          << "killed at " << at << ", yet the run was recorded as finished";
      Runner(db, registry, runner_options(batch)).up();
      EXPECT_EQ(collection_hash(db), expected) << "killed at " << at << " (seed " << seed << ")";
      EXPECT_EQ(db.collection("people").count_documents({}), expected_count);
      history = Runner(db, registry, runner_options(batch)).history();
      ASSERT_GE(history.size(), 1u);
      EXPECT_EQ(history.back().status, RunStatus::applied);
      // Killed before its first changelog write, a run leaves no record at all.
      if (history.size() >= 2) {
        EXPECT_EQ(history.front().status, RunStatus::running) << "the killed run stays 'running'";
      }
      std::printf("trial %d: killed at %s; %zu runs in the changelog; hash %s\n", attempt, at.c_str(), history.size(),
                  collection_hash(db) == expected ? "equal" : "DIFFERENT");
      if (undo) {
        Runner(db, registry, runner_options(batch)).down({.all = true});
        EXPECT_EQ(collection_hash(db), before) << "undo after a run killed at " << at << " (seed " << seed << ")";
        EXPECT_EQ(db.collection("people").count_documents({}), count);
      }
    }
    EXPECT_EQ(killed, trials()) << "runs killed part way";
  }
};

TEST_F(CrashTest, SplitOf100kDocumentsKilledAndResumedEndsAsAnUninterruptedRun) {
  killed_and_resumed(split_names(), 100'000, 2000);
}

// 600 archived documents copied over 600 people, half of them sharing an _id: the resumed run
// must back up each original once and never its own copy, so that undo gives the people back.
// (Small: FerretDB scans the table for each replacement by an integer _id.)
TEST_F(CrashTest, CopyOverwritingCollisionsKilledAndResumedIsUndoneExactly) {
  killed_and_resumed(copy_overwriting(), 600, 50, [&] {
    load(db, 600, "archive", 0);
    load(db, 600, "people", 300);
  }, true);
  EXPECT_EQ(db.collection("people").count_documents(bson::from_json(R"({"from": "people"})")), 600);
}

// Every collection of the database but the changelog and the lock: what a migration left.
std::vector<std::string> data_collections(const Database& database) {
  std::vector<std::string> names;
  for (const std::string& name : database.list_collection_names()) {
    if (name != Changelog::default_collection && name != "_mongo_orm_locks") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Emails that normalizing changes, each backed up: the undo restores them from that backup.
// (Small: FerretDB scans the table for each update by an integer _id.)
Registry normalize_emails() {
  Registry registry;
  registry.add({.version = version, .description = "normalize emails",
                .steps = {ops::normalize_string("people", "email", {.keep_backup = true})}});
  return registry;
}

void load_emails(const Database& database, int64_t count) {
  std::vector<bson::Document> batch;
  for (int64_t i = 0; i < count; ++i) {
    batch.push_back(bson::Builder{}.append("_id", i).append("email", "  User" + std::to_string(i) + "@Example.COM ").extract());
  }
  database.collection("people").insert_many(batch);
}

// A `down --all` killed inside the undo (restoring emails from the backup), then `up`: the up
// finishes the interrupted down, then applies the migration again, so status and data agree
// (applied, every email normalized). A down after it gives back every original.
TEST_F(CrashTest, DownKilledInsideItsUndoThenUpEndsAppliedAsAnUninterruptedRun) {
  constexpr int64_t documents = 600;
  constexpr int32_t batch = 50;
  Registry registry = normalize_emails();
  load_emails(db, documents);
  uint64_t before = collection_hash(db);
  Runner(db, registry, runner_options(batch)).up();
  uint64_t applied = collection_hash(db);
  std::mt19937 random(std::random_device{}());
  int killed = 0;
  for (int attempt = 0; killed < trials() && attempt < trials() * 3; ++attempt) {
    db.drop();
    load_emails(db, documents);
    Runner(db, registry, runner_options(batch)).up();
    int64_t processed = std::uniform_int_distribution<int64_t>(0, documents - 2 * batch)(random);
    std::chrono::milliseconds delay(std::uniform_int_distribution<int>(0, 300)(random));
    std::string at = "down killed at " + std::to_string(processed) + " documents + " + std::to_string(delay.count()) + " ms";
    if (!up_killed_at(registry, batch, processed, delay, true)) continue;
    ++killed;
    ASSERT_NE(collection_hash(db), applied) << at << ": the killed undo restored some emails";
    Runner runner(db, registry, runner_options(batch));
    EXPECT_EQ(runner.status()[0].status, MigrationStatus::interrupted) << at;
    RunReport report = runner.up();
    ASSERT_EQ(report.runs.size(), 2u) << at << ": the interrupted down is finished, then the up runs";
    EXPECT_EQ(report.runs[0].direction, Direction::down);
    EXPECT_EQ(report.runs[0].status, RunStatus::rolled_back);
    EXPECT_EQ(report.runs[1].status, RunStatus::applied);
    EXPECT_EQ(collection_hash(db), applied) << at;
    EXPECT_EQ(runner.status()[0].status, MigrationStatus::applied) << at;
    EXPECT_EQ(db.collection("people").count_documents(bson::from_json(R"({"email": {"$regex": "[A-Z ]"}})")), 0) << at;
    runner.down({.all = true});
    EXPECT_EQ(collection_hash(db), before) << at << ": the down after it";
    EXPECT_EQ(data_collections(db), std::vector<std::string>{"people"}) << at << ": the backup is dropped";
  }
  EXPECT_EQ(killed, trials()) << "downs killed part way";
}

// The same, then `down --all` instead of `up`: it finishes the interrupted down.
TEST_F(CrashTest, DownKilledInsideItsUndoThenDownAgainFinishesIt) {
  constexpr int64_t documents = 600;
  constexpr int32_t batch = 50;
  Registry registry = normalize_emails();
  load_emails(db, documents);
  uint64_t before = collection_hash(db);
  Runner(db, registry, runner_options(batch)).up();
  ASSERT_TRUE(up_killed_at(registry, batch, documents / 2, 0ms, true)) << "the down ended before it was killed";
  Runner runner(db, registry, runner_options(batch));
  RunReport report = runner.down({.all = true});
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(collection_hash(db), before);
  EXPECT_EQ(runner.status()[0].status, MigrationStatus::pending);
  EXPECT_EQ(data_collections(db), std::vector<std::string>{"people"});
}

// An up killed inside seed 000's split_field, then `down --all`: the down undoes what the
// killed run split (from its journal and backup), leaving the data as loaded, no backup behind,
// and the migration pending. An up after it applies it in full.
TEST_F(CrashTest, UpKilledInsideASplitThenDownAllGivesTheDataBack) {
  constexpr int64_t documents = 600;
  constexpr int32_t batch = 50;
  Registry registry;
  registry.add({.version = version, .description = "split name",
                .steps = {ops::split_field("people", "name", "first_name", "last_name")}});
  load(db, documents);
  Snapshot before = snapshot(db);  // merging back puts name last: field order does not count here
  Runner(db, registry, runner_options(batch)).up();
  uint64_t applied = collection_hash(db);
  std::mt19937 random(std::random_device{}());
  int killed = 0;
  for (int attempt = 0; killed < trials() && attempt < trials() * 3; ++attempt) {
    db.drop();
    load(db, documents);
    int64_t processed = std::uniform_int_distribution<int64_t>(0, documents - 2 * batch)(random);
    std::chrono::milliseconds delay(std::uniform_int_distribution<int>(0, 300)(random));
    std::string at = "up killed at " + std::to_string(processed) + " documents + " + std::to_string(delay.count()) + " ms";
    if (!up_killed_at(registry, batch, processed, delay)) continue;
    ++killed;
    Runner runner(db, registry, runner_options(batch));
    RunReport report = runner.down({.all = true});
    ASSERT_EQ(report.runs.size(), 1u) << at << ": the killed run's work is undone";
    EXPECT_EQ(report.runs[0].status, RunStatus::rolled_back);
    EXPECT_EQ(difference(before, snapshot(db)), "") << at;
    EXPECT_EQ(runner.status()[0].status, MigrationStatus::pending) << at;
    EXPECT_EQ(data_collections(db), std::vector<std::string>{"people"}) << at << ": nothing left behind";
    runner.up();
    EXPECT_EQ(collection_hash(db), applied) << at << ": an up after it";
  }
  EXPECT_EQ(killed, trials()) << "ups killed part way";
}

// An operation whose undo, once done, ends its process before the run can record it: the
// narrowest kill there is, between a step's last write and its checkpoint.
class DiesAfterItsUndo : public Operation {
 public:
  static constexpr int exit_code = 37;
  DiesAfterItsUndo(Step inner, bool dies) : inner_(std::move(inner)), dies_(dies) {}
  std::string name() const override { return inner_->name(); }
  Estimate estimate(const StepContext& context) const override { return inner_->estimate(context); }
  OperationStats apply(const StepContext& context) const override { return inner_->apply(context); }
  OperationStats revert(const StepContext& context) const override {
    OperationStats stats = inner_->revert(context);
    if (dies_) _exit(exit_code);
    return stats;
  }
  std::string collection() const override { return inner_->collection(); }
  bool copies_documents() const override { return inner_->copies_documents(); }

 private:
  Step inner_;
  bool dies_;
};

Registry normalize_emails_dying_after_undo(bool dies) {
  Registry registry;
  registry.add({.version = version, .description = "normalize emails",
                .steps = {std::make_shared<DiesAfterItsUndo>(ops::normalize_string("people", "email", {.keep_backup = true}),
                                                              dies)}});
  return registry;
}

// A down whose process dies after a step's undo has restored everything but before the step is
// recorded as done: the backup is still there (it goes only once the step is recorded), so the
// next up or down finishes the undo from it rather than refusing for a missing backup.
TEST_F(CrashTest, ADownKilledBetweenAStepsUndoAndItsRecordIsFinishedByTheNextUpOrDown) {
  constexpr int32_t batch = 50;
  Registry registry = normalize_emails_dying_after_undo(false);
  Registry dying = normalize_emails_dying_after_undo(true);
  for (bool then_up : {false, true}) {
    SCOPED_TRACE(then_up ? "then up" : "then down --all");
    db.drop();
    load_emails(db, 200);
    uint64_t before = collection_hash(db);
    Runner(db, registry, runner_options(batch)).up();
    uint64_t applied = collection_hash(db);
    pid_t child = testing::fork_up(testing::server_uri(), db.name(), dying, runner_options(batch),
                                   std::chrono::seconds(120), true);
    int status = testing::wait_bounded(child, "a down that dies after its undo");
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == DiesAfterItsUndo::exit_code) << "the down ran to its end";
    ASSERT_EQ(collection_hash(db), before) << "the undo restored every email before the process died";
    Runner runner(db, registry, runner_options(batch));
    EXPECT_EQ(runner.status()[0].status, MigrationStatus::interrupted);
    if (then_up) {
      RunReport report = runner.up();
      ASSERT_EQ(report.runs.size(), 2u) << "the interrupted down is finished, then the up runs";
      EXPECT_EQ(report.runs[0].status, RunStatus::rolled_back);
      EXPECT_EQ(collection_hash(db), applied);
      EXPECT_EQ(runner.status()[0].status, MigrationStatus::applied);
    }
    RunReport report = runner.down({.all = true});
    ASSERT_EQ(report.runs.size(), 1u);
    EXPECT_EQ(report.runs[0].status, RunStatus::rolled_back);
    EXPECT_EQ(collection_hash(db), before);
    EXPECT_EQ(runner.status()[0].status, MigrationStatus::pending);
    EXPECT_EQ(data_collections(db), std::vector<std::string>{"people"}) << "the backup is dropped";
  }
}

TEST_F(CrashTest, InPlaceIncrementKilledAndResumedIsAppliedExactlyOnce) {
  killed_and_resumed(count_once(), 1'000, 100);
  EXPECT_EQ(db.collection("people").count_documents(bson::from_json(R"({"applied": 1})")), 1000);
}

}  // namespace
}  // namespace mongo_orm::migrate
