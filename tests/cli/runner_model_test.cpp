// Model-based test of the migration runner as users drive it: seeded random sequences of
// `mongo-orm migrate` commands, each in its own process: up, up --to, down --steps/--to/--all,
// plan, baseline of changes made by hand, an edited migration file, an up killed with SIGKILL
// part way, an up and a down from two processes at once, and (on a server of the test's own)
// server restarts, with an up running or between commands. After every step, the exit codes,
// `status`, `history` and the data (every document of every collection, compared with what the
// model says it must hold) agree with a small reference model and with each other.
//
// MONGO_ORM_MODEL_SEED replays a seed (every failure prints it); MONGO_ORM_MODEL_STEPS sets the
// number of steps (the `long` variant runs thousands).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/migrate/testing.hpp"
#include "support/child_process.hpp"
#include "support/private_server.hpp"
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

// Migration i's operation; `edited` changes what it does (an applied file edited is drift).
std::string operation(int i, bool edited = false) {
  switch (i) {
    case 1: return R"({"op": "add_field", "collection": "items", "field": "f1", "value": )" + std::string(edited ? "10" : "1") + "}";
    case 2: return R"({"op": "add_field", "collection": "items", "field": "f2", "value": )" + std::string(edited ? "20" : "2") + "}";
    case 3: return R"({"op": "rename_field", "collection": "items", "from": "name", "to": ")" + std::string(edited ? "title" : "label") + "\"}";
    default: return R"({"op": "set_fields", "collection": "items", "values": {"f4": )" + std::string(edited ? "40" : "4") + "}}";
  }
}
// The same change made by hand, as before the tool was adopted (then recorded by baseline).
std::string by_hand(int i) {
  switch (i) {
    case 1: return R"({"$set": {"f1": 1}})";
    case 2: return R"({"$set": {"f2": 2}})";
    case 3: return R"({"$rename": {"name": "label"}})";
    default: return R"({"$set": {"f4": 4}})";
  }
}
// Whether undoing migration i needs the backups of a run (baseline makes none): all but the rename.
bool undo_needs_backup(int i) { return i != 3; }

class RunnerModel : public ::testing::Test {
 protected:
  // On the suite's server (MONGODB_URI), or on a server of the test's own that it may restart.
  void prepare(bool own_server) {
    if (own_server) {
      server = std::make_unique<testing::PrivateServer>();
      ProcessRun started = server->start();
      ASSERT_EQ(started.exit_code, 0) << started.both();
      uri = server->uri();
    } else {
      uri = testing::server_uri();
    }
    database = testing::unique_database_name();
    dir = std::filesystem::temp_directory_path() / ("mongo_orm_model_" + database);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (int i = 1; i <= migrations; ++i) write(i);
    reset_database();
  }
  void TearDown() override {
    try {
      if (client) db().drop();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not drop " << database << ": " << e.what();
    }
    std::filesystem::remove_all(dir);
  }

  Database db() {
    if (!client) client.emplace(uri, ClientOptions{.server_selection_timeout_ms = 10000});
    return client->database(database);
  }
  // The database as it was before any migration: the documents, no changelog.
  void reset_database() {
    db().drop();
    std::vector<bson::Document> items;
    for (int i = 0; i < documents; ++i) {
      items.push_back(from_json(R"({"_id": )" + std::to_string(i) + R"(, "name": "n)" + std::to_string(i) + R"("})"));
    }
    db().collection("items").insert_many(items);
  }
  void restart_server() {
    client.reset();
    ProcessRun stopped = server->stop();
    ASSERT_EQ(stopped.exit_code, 0) << stopped.both();
    ProcessRun started = server->start();
    ASSERT_EQ(started.exit_code, 0) << started.both();
  }

  // Writes migration i's file with its current description.
  void write(int i, bool edited = false) {
    std::string& description = descriptions[i];
    if (description.empty()) description = "step " + std::to_string(i);
    std::ofstream(dir / (version(i) + ".json"))
        << R"({"version": ")" << version(i) << R"(", "description": ")" << description << R"(", "up": [)"
        << operation(i, edited) << "]}";
  }
  std::string command(const std::string& arguments) const {
    return std::string(MONGO_ORM_CLI_PATH) + " migrate --uri '" + uri + "' --database " + database + " --dir " +
           dir.string() + " --lock-wait-ms 30000 " + arguments;
  }
  ProcessRun migrate(const std::string& arguments) { return testing::run_process(command(arguments)); }
  // Standard output only (progress and the driver's words go to standard error), parsed.
  bson::Document json_of(const std::string& arguments) {
    ProcessRun run = migrate(arguments + " --json");
    EXPECT_EQ(run.exit_code, 0) << arguments << ": " << run.both();
    return from_json(run.output);
  }

  // Which migrations the data says are applied: 1 all documents show it, 0 none, -1 some.
  std::vector<int> data_state() {
    Collection items = db().collection("items");
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
  // Every document the database must hold when the first `applied` migrations are applied.
  migrate::Snapshot expected_data(int applied) {
    migrate::Snapshot expected;
    std::vector<bson::Document>& items = expected.collections["items"];
    for (int i = 0; i < documents; ++i) {
      bson::Builder doc;
      doc.append("_id", i).append(applied >= 3 ? "label" : "name", "n" + std::to_string(i));
      if (applied >= 1) doc.append("f1", 1);
      if (applied >= 2) doc.append("f2", 2);
      if (applied >= 4) doc.append("f4", 4);
      items.push_back(doc.extract());
    }
    return expected;
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
      // A run left failed or interrupted (an up or a down) shows as such; the others follow
      // their last finished run.
      if (states[i] != "applied" && states[i] != "pending") continue;
      bool applied = states[i] == "applied";
      EXPECT_EQ(last[version(i + 1)] == "applied", applied) << version(i + 1) << ": history and status disagree";
    }
    return applied_prefix;
  }

  void run_model(int64_t default_steps);

  std::unique_ptr<testing::PrivateServer> server;  // set when the test runs its own
  std::string uri, database;
  std::optional<Client> client;
  std::filesystem::path dir;
  std::map<int, std::string> descriptions;
};

void RunnerModel::run_model(int64_t default_steps) {
  uint32_t seed = static_cast<uint32_t>(environment_number("MONGO_ORM_MODEL_SEED", std::random_device{}()));
  int64_t steps = environment_number("MONGO_ORM_MODEL_STEPS", default_steps);
  std::cout << "runner model: seed " << seed << ", " << steps << " steps (replay: MONGO_ORM_MODEL_SEED=" << seed << ")\n";
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with MONGO_ORM_MODEL_SEED=" + std::to_string(seed) + ")");
  std::mt19937 random(seed);
  auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  enum Action { up, up_to, down_steps, down_all, down_to, plan, up_and_down, kill, kill_down, baseline, edit, reset, restart };
  // How often each is drawn; restarts only on a server of the test's own.
  std::discrete_distribution<int> draw({4, 3, 3, 2, 3, 2, 2, 2, 2, 1, 2, 1, server ? 2.0 : 0.0});

  int model = 0;             // how many migrations, from the first, are applied
  std::set<int> baselined;   // applied by baseline, with an undo that needs a run's backups
  int edits = 0;
  // After a kill or an outage the next step settles: an up finishes the work (an interrupted
  // down first, then every migration), a down --all undoes it (an interrupted up's partial work
  // included) unless a baselined version refuses it, when the up comes after.
  bool settle_next = false;
  // A down that would revert the versions after `keep`: refused, touching nothing, when one was
  // baselined and needs a backup; else the model keeps the first `keep`.
  auto expect_down = [&](int keep, const std::string& arguments, std::string& label) {
    label += arguments;
    bool refused = false;
    for (int i = keep + 1; i <= model; ++i) refused = refused || baselined.contains(i);
    ProcessRun run = migrate(arguments);
    if (refused) {
      ASSERT_EQ(run.exit_code, 1) << label << ": " << run.both();
      ASSERT_NE(run.errors.find("recorded as applied by baseline"), std::string::npos) << label << ": " << run.both();
      label += " (refused: baselined)";
    } else {
      ASSERT_EQ(run.exit_code, 0) << label << ": " << run.both();
      model = std::min(model, keep);
    }
  };

  for (int64_t step = 0; step < steps && !HasFailure(); ++step) {
    auto started = std::chrono::steady_clock::now();
    int what = settle_next ? (baselined.empty() && pick(0, 1) == 1 ? down_all : up) : draw(random);
    bool settling = settle_next;
    settle_next = false;
    std::string label = "step " + std::to_string(step) + " (model " + std::to_string(model) + "): ";
    bool settled = true;
    if (what == up) {
      ProcessRun run = migrate("up");
      ASSERT_EQ(run.exit_code, 0) << label << "up: " << run.both();
      model = migrations;
      label += "up";
    } else if (what == up_to) {
      int to = pick(1, migrations);
      ProcessRun run = migrate("up --to " + version(to));
      ASSERT_EQ(run.exit_code, 0) << label << "up --to: " << run.both();
      model = std::max(model, to);
      label += "up --to " + version(to);
    } else if (what == down_steps) {
      int n = pick(1, 3);
      expect_down(std::max(0, model - n), "down --steps " + std::to_string(n), label);
    } else if (what == down_all) {
      expect_down(0, "down --all", label);
      if (settling) label += " (settles)";
    } else if (what == down_to) {
      int to = pick(1, migrations);
      expect_down(to, "down --to " + version(to), label);
    } else if (what == plan) {
      std::vector<int> before = data_state();
      ProcessRun run = migrate("plan");
      ASSERT_EQ(run.exit_code, model < migrations ? 1 : 0) << label << "plan: " << run.both();
      ASSERT_EQ(data_state(), before) << label << "plan wrote";
      label += "plan";
    } else if (what == up_and_down) {
      // An up and a down --all from two processes at once: either order, never a mix. With a
      // baselined version the down is refused, whichever ran first.
      ProcessRun run = testing::run_process("(" + command("up") + " >/dev/null || echo up failed) & (" +
                                            command("down --all") + " >/dev/null || echo down failed) & wait");
      ASSERT_EQ(run.output, baselined.empty() ? "" : "down failed\n")
          << label << "concurrent up and down --all; what they said:\n" << run.errors;
      int prefix = data_prefix();
      ASSERT_TRUE(prefix == 0 || prefix == migrations) << label << "concurrent up and down left " << prefix;
      ASSERT_TRUE(baselined.empty() || prefix == migrations) << label << "a refused down reverted";
      model = prefix;
      label += "up | down --all";
    } else if (what == kill) {
      // An up killed with SIGKILL part way: the next up must finish it. The driver's shared
      // memory file of the killed process is removed, as its exit would have.
      int delay = pick(0, 250);
      testing::run_process("(" + command("up") + " >/dev/null 2>&1 & pid=$!; sleep " + std::to_string(delay / 1000.0) +
                           "; kill -9 $pid; wait $pid; rm -f /dev/shm/mongoc-$pid) 2>/dev/null");
      settled = false;
      settle_next = true;
      label += "up killed after " + std::to_string(delay) + " ms";
    } else if (what == kill_down) {
      // A down --all killed with SIGKILL part way (refused at once when a baselined version needs
      // a backup): the next up or down must finish it first.
      int delay = pick(0, 250);
      testing::run_process("(" + command("down --all") + " >/dev/null 2>&1 & pid=$!; sleep " + std::to_string(delay / 1000.0) +
                           "; kill -9 $pid; wait $pid; rm -f /dev/shm/mongoc-$pid) 2>/dev/null");
      settled = false;
      settle_next = true;
      label += "down --all killed after " + std::to_string(delay) + " ms";
    } else if (what == baseline) {
      // The changes up to `to` made by hand, then recorded without running.
      int to = pick(1, migrations);
      for (int i = model + 1; i <= to; ++i) db().collection("items").update_many({}, from_json(by_hand(i)));
      ProcessRun run = migrate("baseline " + version(to));
      ASSERT_EQ(run.exit_code, 0) << label << "baseline: " << run.both();
      for (int i = model + 1; i <= to; ++i) {
        if (undo_needs_backup(i)) baselined.insert(i);
      }
      model = std::max(model, to);
      label += "baseline " + version(to);
    } else if (what == edit) {
      int i = pick(1, migrations);
      if (i <= model) {
        // An applied migration's file changed: drift. up refuses (1) and plan says problem (2),
        // touching nothing; the file put back, all goes on.
        write(i, true);
        std::vector<int> before = data_state();
        ProcessRun refused = migrate("up");
        ASSERT_EQ(refused.exit_code, 1) << label << "up after editing applied " << version(i) << ": " << refused.both();
        ASSERT_NE(refused.errors.find(version(i) + " changed"), std::string::npos) << label << refused.both();
        ProcessRun plan_run = migrate("plan");
        ASSERT_EQ(plan_run.exit_code, 2) << label << "plan after editing applied " << version(i) << ": " << plan_run.both();
        ASSERT_EQ(data_state(), before) << label << "a refused up wrote";
        write(i);
        label += "edit applied " + version(i) + " (refused), put back";
      } else {
        // A pending migration's file may change: it runs as it is when it runs.
        descriptions[i] = "step " + std::to_string(i) + ", edited " + std::to_string(++edits);
        write(i);
        label += "edit pending " + version(i);
      }
    } else if (what == reset) {
      // The database restored from before any migration.
      reset_database();
      model = 0;
      baselined.clear();
      label += "database reset";
    } else if (pick(0, 1) == 0) {
      restart_server();
      label += "server restart";
    } else {
      // The server restarts under a running up: it rides the outage out or fails; the next up
      // finishes the work either way.
      int delay = pick(0, 250);
      std::string up_command = command("up") + " >/dev/null 2>&1";
      pid_t runner = testing::fork_bounded([&] { return std::system(up_command.c_str()) == 0 ? 0 : 1; });
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      restart_server();
      testing::wait_bounded(runner, label + "an up under a server restart");
      settled = false;
      settle_next = true;
      label += "server restart under an up, after " + std::to_string(delay) + " ms";
    }
    if (auto took = std::chrono::steady_clock::now() - started; took > std::chrono::seconds(3)) {
      std::cout << label << " took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
    }
    int shown = check_agreement(settled, label);
    if (settled) {
      ASSERT_EQ(shown, model) << label << ": status says " << shown << " applied, the model " << model;
      std::string difference = migrate::difference(expected_data(model), migrate::snapshot(db()));
      ASSERT_EQ(difference, "") << label << ": the data is not what " << model << " applied migrations make";
    }
  }
}

TEST_F(RunnerModel, RandomCommandSequencesAgreeWithTheModel) {
  prepare(false);
  run_model(200);
}

// The same on a server of the test's own, which it also restarts between commands and under a
// running up.
TEST_F(RunnerModel, RandomCommandSequencesWithServerRestartsAgreeWithTheModel) {
  if (!testing::PrivateServer::available()) {
    GTEST_SKIP() << "needs the embedded server program, which this build does not make (MONGO_ORM_BUILD_SERVER=OFF)";
  }
  prepare(true);
  run_model(60);
}

}  // namespace
}  // namespace mongo_orm
