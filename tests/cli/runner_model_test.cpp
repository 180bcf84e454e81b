// Model-based test of the migration runner as users drive it: seeded random sequences of
// `mongo-orm migrate` commands, each in its own process (two at once, or one killed with
// SIGKILL part way), checked after every step against a reference model of what must be true:
// the exit codes, `status`, `history` and the data all agree with it and with each other.
//
// MONGO_ORM_MODEL_SEED replays a seed (every failure prints it); MONGO_ORM_MODEL_STEPS sets the
// number of steps (the `long` variant runs thousands).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mongo_orm/bson/json.hpp"
#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;
using testing::ProcessRun;

constexpr int migrations = 4;  // 001..004, each visible in the data when applied
constexpr int documents = 20;

std::string version(int i) { return "00" + std::to_string(i); }

int64_t environment_number(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::stoll(text) : fallback;
}

class RunnerModel : public testing::ServerTest {
 protected:
  void SetUp() override {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    write(1, R"({"op": "add_field", "collection": "items", "field": "f1", "value": 1})");
    write(2, R"({"op": "add_field", "collection": "items", "field": "f2", "value": 2})");
    write(3, R"({"op": "rename_field", "collection": "items", "from": "name", "to": "label"})");
    write(4, R"({"op": "set_fields", "collection": "items", "values": {"f4": 4}})");
    std::vector<bson::Document> items;
    for (int i = 0; i < documents; ++i) {
      items.push_back(from_json(R"({"_id": )" + std::to_string(i) + R"(, "name": "n)" + std::to_string(i) + R"("})"));
    }
    db.collection("items").insert_many(items);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  void write(int i, const std::string& op) {
    std::ofstream(dir / (version(i) + ".json"))
        << R"({"version": ")" << version(i) << R"(", "description": "step )" << i << R"(", "up": [)" << op << "]}";
  }
  std::string command(const std::string& arguments) const {
    return std::string(MONGO_ORM_CLI_PATH) + " migrate --uri '" + testing::server_uri() + "' --database " + db.name() +
           " --dir " + dir.string() + " --lock-wait-ms 30000 " + arguments;
  }
  ProcessRun migrate(const std::string& arguments) { return testing::run_process(command(arguments)); }
  // Standard output only (progress goes to standard error), parsed.
  bson::Document json_of(const std::string& arguments) {
    ProcessRun run = testing::run_process(command(arguments + " --json") + " 2>/dev/null");
    EXPECT_EQ(run.exit_code, 0) << arguments << ": " << run.both();
    return from_json(run.output);
  }

  // Which migrations the data says are applied: 1 all documents show it, 0 none, -1 some.
  std::vector<int> data_state() {
    Collection items = db.collection("items");
    auto state_of = [&](const std::string& applied_filter) {
      int64_t n = items.count_documents(from_json(applied_filter));
      return n == documents ? 1 : n == 0 ? 0 : -1;
    };
    return {state_of(R"({"f1": 1})"), state_of(R"({"f2": 2})"),
            state_of(R"({"label": {"$exists": true}, "name": {"$exists": false}})"), state_of(R"({"f4": 4})")};
  }
  // How many migrations, from the first, the data holds; -1 when it is no such prefix.
  int data_prefix() {
    std::vector<int> state = data_state();
    int k = 0;
    while (k < migrations && state[k] == 1) ++k;
    for (int i = k; i < migrations; ++i) {
      if (state[i] != 0) return -1;
    }
    return k;
  }

  // status, history and data agree; returns the applied prefix they show. `settled`: no run is
  // left interrupted, so every version is applied or pending.
  int check_agreement(bool settled, const std::string& where) {
    SCOPED_TRACE(where);
    bson::Document status = json_of("status");
    std::vector<std::string> states;
    for (bson::Element row : status["migrations"].as_array()) {
      states.emplace_back(row.as_document()["status"].as_string());
    }
    EXPECT_EQ(states.size(), static_cast<std::size_t>(migrations));
    std::vector<int> data = data_state();
    int applied_prefix = 0;
    while (applied_prefix < static_cast<int>(states.size()) && states[applied_prefix] == "applied") ++applied_prefix;
    for (std::size_t i = 0; i < states.size(); ++i) {
      if (states[i] == "applied") {
        EXPECT_EQ(data[i], 1) << version(i + 1) << " says applied; the data does not show it";
        EXPECT_LT(static_cast<int>(i), applied_prefix) << "applied after a version that is not";
      } else if (settled || states[i] == "pending") {
        EXPECT_EQ(states[i], "pending") << version(i + 1);
        EXPECT_EQ(data[i], 0) << version(i + 1) << " says " << states[i] << "; the data shows it";
      }
    }
    // History, oldest first: strictly rising sequences, and the last finished run of each version
    // says what status says.
    bson::Document history = json_of("history");
    int64_t previous = 0;
    std::map<std::string, std::string> last;
    for (bson::Element run : history["runs"].as_array()) {
      bson::DocumentView r = run.as_document();
      int64_t sequence = r["sequence"].type() == bson::Type::int32 ? r["sequence"].as_int32() : r["sequence"].as_int64();
      EXPECT_GT(sequence, previous) << "history is not oldest first";
      previous = sequence;
      std::string run_status(r["status"].as_string());
      if (run_status == "applied" || run_status == "rolled back") last[std::string(r["version"].as_string())] = run_status;
    }
    for (int i = 0; i < migrations; ++i) {
      bool applied = states[i] == "applied";
      EXPECT_EQ(last[version(i + 1)] == "applied", applied) << version(i + 1) << ": history and status disagree";
    }
    return applied_prefix;
  }

  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("mongo_orm_model_" + db.name());
};

TEST_F(RunnerModel, RandomCommandSequencesAgreeWithTheModel) {
  uint32_t seed = static_cast<uint32_t>(environment_number("MONGO_ORM_MODEL_SEED", std::random_device{}()));
  int64_t steps = environment_number("MONGO_ORM_MODEL_STEPS", 120);
  std::cout << "runner model: seed " << seed << ", " << steps << " steps (replay: MONGO_ORM_MODEL_SEED=" << seed << ")\n";
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with MONGO_ORM_MODEL_SEED=" + std::to_string(seed) + ")");
  std::mt19937 random(seed);
  auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };

  int model = 0;  // how many migrations, from the first, are applied
  bool settle_next = false;  // after a kill the next step is an up, which must finish the work
  for (int64_t step = 0; step < steps && !HasFailure(); ++step) {
    auto started = std::chrono::steady_clock::now();
    int what = settle_next ? 0 : pick(0, 7);
    settle_next = false;
    std::string label = "step " + std::to_string(step) + " (model " + std::to_string(model) + "): ";
    bool settled = true;
    if (what == 0) {
      ProcessRun run = migrate("up");
      ASSERT_EQ(run.exit_code, 0) << label << "up: " << run.both();
      model = migrations;
      label += "up";
    } else if (what == 1) {
      int to = pick(1, migrations);
      ProcessRun run = migrate("up --to " + version(to));
      ASSERT_EQ(run.exit_code, 0) << label << "up --to: " << run.both();
      model = std::max(model, to);
      label += "up --to " + version(to);
    } else if (what == 2) {
      int n = pick(1, 3);
      ProcessRun run = migrate("down --steps " + std::to_string(n));
      ASSERT_EQ(run.exit_code, 0) << label << "down --steps: " << run.both();
      model = std::max(0, model - n);
      label += "down --steps " + std::to_string(n);
    } else if (what == 3) {
      ProcessRun run = migrate("down --all");
      ASSERT_EQ(run.exit_code, 0) << label << "down --all: " << run.both();
      model = 0;
      label += "down --all";
    } else if (what == 4) {
      int to = pick(1, migrations);
      ProcessRun run = migrate("down --to " + version(to));
      ASSERT_EQ(run.exit_code, 0) << label << "down --to: " << run.both();
      model = std::min(model, to);
      label += "down --to " + version(to);
    } else if (what == 5) {
      std::vector<int> before = data_state();
      ProcessRun run = migrate("plan");
      ASSERT_EQ(run.exit_code, model < migrations ? 1 : 0) << label << "plan: " << run.both();
      ASSERT_EQ(data_state(), before) << label << "plan wrote";
      label += "plan";
    } else if (what == 6) {
      // An up and a down --all from two processes at once: either order, never a mix.
      ProcessRun run = testing::run_process("(" + command("up") + " >/dev/null 2>&1 || echo up failed) & (" +
                                            command("down --all") + " >/dev/null 2>&1 || echo down failed) & wait");
      ASSERT_EQ(run.output, "") << label << "concurrent up and down --all";
      int prefix = data_prefix();
      ASSERT_TRUE(prefix == 0 || prefix == migrations) << label << "concurrent up and down left " << prefix;
      model = prefix;
      label += "up | down --all";
    } else {
      // An up killed with SIGKILL part way: the next up must finish it.
      int delay = pick(0, 250);
      testing::run_process("(" + command("up") + " >/dev/null 2>&1 & pid=$!; sleep " + std::to_string(delay / 1000.0) +
                           "; kill -9 $pid; wait $pid; rm -f /dev/shm/mongoc-$pid) 2>/dev/null");
      settled = false;
      settle_next = true;
      label += "up killed after " + std::to_string(delay) + " ms";
    }
    if (auto took = std::chrono::steady_clock::now() - started; took > std::chrono::seconds(3)) {
      std::cout << label << " took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
    }
    int shown = check_agreement(settled, label);
    if (settled) {
      ASSERT_EQ(shown, model) << label << ": status says " << shown << " applied, the model " << model;
      ASSERT_EQ(data_prefix(), model) << label << ": the data holds another state than the model";
    }
  }
}

}  // namespace
}  // namespace mongo_orm
