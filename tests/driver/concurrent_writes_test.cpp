// Many clients sending bulk updates at once, on a server of the test's own
// (testing::PrivateServer): every one completes. FerretDB 1.x on SQLite holds a pooled SQLite
// connection (100 per database) for every statement of an update command until the command
// ends, so a few clients sending commands of 50 statements at once stopped it answering for
// good; BulkWrite keeps commands small enough there (Capabilities::update_statements_per_command).
// The claim is that every command is answered, not how soon: eight writers contending for
// SQLite's one write lock make some commands wait seconds (measured up to 10 s for one bulk on
// a loaded machine), so commands get a minute, half the test's own deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "support/private_server.hpp"

namespace mongo_orm {
namespace {

using namespace std::chrono_literals;

TEST(ConcurrentWrites, BulkUpdatesFromManyClientsAtOnceAllComplete) {
  if (!testing::PrivateServer::available()) {
    GTEST_SKIP() << "needs the embedded server program, which this build does not make (MONGO_ORM_BUILD_SERVER=OFF)";
  }
  testing::PrivateServer server(std::chrono::seconds(60));
  auto started = server.start();
  ASSERT_EQ(started.exit_code, 0) << started.both();

  constexpr int clients = 8, rounds = 5, statements = 60;
  {
    Client client(server.uri());
    std::vector<bson::Document> docs;
    for (int i = 0; i < clients * statements; ++i) docs.push_back(bson::Builder{}.append("_id", i).append("v", 0).extract());
    client.database("concurrent").collection("items").insert_many(docs);
  }

  std::mutex mutex;
  std::condition_variable finished;
  int done = 0;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      try {
        Client client(server.uri());
        Collection items = client.database("concurrent").collection("items");
        for (int round = 0; round < rounds; ++round) {
          BulkWrite bulk = items.bulk_write(false);
          for (int i = 0; i < statements; ++i) {
            bulk.update_one(bson::Builder{}.append("_id", c * statements + i).extract(),
                            bson::from_json(R"({"$inc": {"v": 1}})"));
          }
          bulk.execute();
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        failures.push_back("client " + std::to_string(c) + ": " + e.what());
      }
      std::lock_guard lock(mutex);
      ++done;
      finished.notify_all();
    });
  }
  bool all_ended;
  {
    std::unique_lock lock(mutex);
    all_ended = finished.wait_for(lock, 120s, [&] { return done == clients; });
  }
  if (!all_ended) {
    ADD_FAILURE() << "the server stopped answering: " << done << " of " << clients << " clients ended within 120 s";
    server.stop();  // the clients' waits end with an error
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& failure : failures) ADD_FAILURE() << failure;
  if (all_ended && failures.empty()) {
    Client client(server.uri());
    EXPECT_EQ(client.database("concurrent").collection("items").count_documents(
                  bson::Builder{}.append("v", rounds).extract()),
              clients * statements);
  }
}

}  // namespace
}  // namespace mongo_orm
