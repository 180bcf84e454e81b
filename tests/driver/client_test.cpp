// Tests for driver/client.hpp against the real server: connecting, failing to connect,
// credentials in messages, sharing an application's pool, many threads.
#include "mongo_orm/driver/client.hpp"

#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::Builder;
using testing::ServerTest;

class ClientTest : public ServerTest {};

TEST_F(ClientTest, PingsTheServer) { EXPECT_NO_THROW(client().ping()); }

TEST(ClientFailure, UnreachableServerRaisesConnectionErrorWithinTheTimeout) {
  Client client("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=800");
  auto start = std::chrono::steady_clock::now();
  try {
    client.ping();
    FAIL() << "expected ConnectionError";
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ClientFailure, PasswordsNeverReachErrorMessages) {
  Client client("mongodb://alice:s3cr3t-pw@127.0.0.1:1/?serverSelectionTimeoutMS=300");
  try {
    client.database("x").collection("y").insert_one(Builder{}.append("a", 1).extract());
    FAIL() << "expected ConnectionError";
  } catch (const ConnectionError& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cr3t-pw"), std::string::npos) << e.what();
  }
  try {
    Client bad("mongodb://alice:s3cr3t-pw@127.0.0.1:notaport/");
    FAIL() << "expected ConfigurationError";
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cr3t-pw"), std::string::npos) << e.what();
  }
}

TEST(ClientFailure, InvalidUriRaisesConfigurationError) {
  EXPECT_THROW(Client("not a uri"), ConfigurationError);
  EXPECT_THROW(Client("http://127.0.0.1/"), ConfigurationError);
  EXPECT_THROW(Client("mongodb://127.0.0.1/?serverSelectionTimeoutMS=abc&replicaSet="),
               ConfigurationError);
}

TEST(ClientOptionsTest, DefaultDatabaseComesFromTheUriPath) {
  Client with_db("mongodb://127.0.0.1:1/inventory");
  EXPECT_EQ(with_db.default_database().name(), "inventory");
  Client without_db("mongodb://127.0.0.1:1/");
  EXPECT_THROW(without_db.default_database(), ConfigurationError);
  EXPECT_EQ(with_db.hosts(), "127.0.0.1:1");
}

TEST_F(ClientTest, ListsDatabases) {
  db.collection("c").insert_one(Builder{}.append("a", 1).extract());
  auto names = client().list_database_names();
  EXPECT_NE(std::find(names.begin(), names.end(), db.name()), names.end());
}

TEST_F(ClientTest, UnknownCommandRaisesCommandError) {
  try {
    db.run_command(Builder{}.append("noSuchCommand", 1).extract());
    FAIL() << "expected CommandError";
  } catch (const CommandError& e) {
    EXPECT_EQ(e.code(), 59);
    EXPECT_EQ(e.code_name(), "CommandNotFound");
    EXPECT_NE(std::string(e.what()).find(db.name()), std::string::npos);
  }
}

// Seed 000, "Migrating from Motor": the application's own driver code and mongo_orm share
// one pool of connections.
TEST_F(ClientTest, SharesAPoolTheApplicationOwns) {
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(testing::server_uri().c_str(), &error);
  ASSERT_NE(uri, nullptr) << error.message;
  mongoc_client_pool_t* pool = mongoc_client_pool_new(uri);
  {
    Client shared = Client::wrap(pool);
    Collection users = shared.database(db.name()).collection("users");
    users.insert_one(Builder{}.append("name", "ORM User").extract());

    // The application inserts with plain libmongoc on a connection of the same pool.
    mongoc_client_t* raw = mongoc_client_pool_pop(pool);
    mongoc_collection_t* coll = mongoc_client_get_collection(raw, db.name().c_str(), "users");
    bson_t* doc = BCON_NEW("name", BCON_UTF8("Motor User"));
    ASSERT_TRUE(mongoc_collection_insert_one(coll, doc, nullptr, nullptr, &error)) << error.message;
    bson_destroy(doc);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(pool, raw);

    EXPECT_EQ(users.count_documents(), 2);
    EXPECT_TRUE(users.find_one(Builder{}.append("name", "Motor User").extract()).has_value());
  }
  // The wrapped client did not take the pool with it.
  mongoc_client_t* again = mongoc_client_pool_pop(pool);
  EXPECT_NE(again, nullptr);
  mongoc_client_pool_push(pool, again);
  mongoc_client_pool_destroy(pool);
  mongoc_uri_destroy(uri);
  EXPECT_THROW(Client::wrap(nullptr), ConfigurationError);
}

TEST_F(ClientTest, ManyThreadsShareOneClient) {
  Collection counters = db.collection("counters");
  constexpr int threads = 8;
  constexpr int per_thread = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (int i = 0; i < per_thread; ++i) {
          counters.insert_one(Builder{}.append("thread", t).append("i", i).extract());
          if (i % 10 == 0) (void)counters.count_documents(Builder{}.append("thread", t).extract());
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counters.count_documents(), threads * per_thread);
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(counters.count_documents(Builder{}.append("thread", t).extract()), per_thread);
  }
}

TEST_F(ClientTest, LeaseGivesARawConnectionForInterop) {
  auto lease = client().acquire();
  bson_t* cmd = BCON_NEW("ping", BCON_INT32(1));
  bson_error_t error;
  EXPECT_TRUE(mongoc_client_command_simple(lease.get(), "admin", cmd, nullptr, nullptr, &error))
      << error.message;
  bson_destroy(cmd);
}

// What a dry run hands to code it cannot see into: reads work, every write is refused before
// it is sent, naming the call, the namespace and the reason.
TEST_F(ClientTest, AReadOnlyHandleRefusesEveryWriteAndSendsNothing) {
  Collection writable = db.collection("items");
  writable.insert_one(Builder{}.append("_id", 1).append("n", 1).extract());
  Client guarded = client().read_only("a dry run writes nothing");
  EXPECT_TRUE(guarded.refuses_writes());
  EXPECT_FALSE(client().refuses_writes());
  Database database = guarded.database(db.name());
  Collection items = database.collection("items");
  bson::Document one = Builder{}.append("_id", 1).extract();
  bson::Document inc = bson::from_json(R"({"$inc": {"n": 1}})");

  EXPECT_EQ(items.count_documents({}), 1);
  EXPECT_TRUE(items.find_one(one));
  EXPECT_EQ(items.distinct("n").size(), 1u);
  EXPECT_EQ(database.run_command(Builder{}.append("count", "items").extract())["n"].as_int32(), 1);
  EXPECT_FALSE(database.list_collection_names().empty());

  auto refused = [&](const std::function<void()>& write, const std::string& call) {
    try {
      write();
      ADD_FAILURE() << call << " was not refused";
    } catch (const ReadOnlyError& e) {
      std::string message = e.what();
      EXPECT_NE(message.find(call), std::string::npos) << message;
      EXPECT_NE(message.find(db.name()), std::string::npos) << message;
      EXPECT_NE(message.find("a dry run writes nothing"), std::string::npos) << message;
    }
  };
  refused([&] { items.insert_one(Builder{}.append("_id", 2).extract()); }, "insert_one on " + db.name() + ".items");
  refused([&] { items.insert_many(std::vector{Builder{}.append("_id", 3).extract()}); }, "bulk_write");
  refused([&] { items.update_one(one, inc); }, "update_one");
  refused([&] { items.update_many({}, inc); }, "update_many");
  refused([&] { items.replace_one(one, Builder{}.append("n", 9).extract()); }, "replace_one");
  refused([&] { items.delete_one(one); }, "delete_one");
  refused([&] { items.delete_many({}); }, "delete_many");
  refused([&] { items.find_one_and_update(one, inc); }, "find_one_and_update");
  refused([&] { items.find_one_and_replace(one, Builder{}.append("n", 9).extract()); }, "find_one_and_replace");
  refused([&] { items.find_one_and_delete(one); }, "find_one_and_delete");
  refused([&] { items.bulk_write(); }, "bulk_write");
  refused([&] { items.create_index({Builder{}.append("n", 1).extract()}); }, "create_indexes");
  refused([&] { items.drop_index("n_1"); }, "drop_index");
  refused([&] { items.rename("renamed"); }, "rename");
  refused([&] { items.drop(); }, "drop");
  refused([&] { items.aggregate({bson::from_json(R"({"$out": "copy"})")}); }, "$out");
  refused([&] { database.create_collection("made"); }, "create_collection");
  refused([&] { database.drop(); }, "drop on " + db.name());
  refused([&] { database.run_command(bson::from_json(R"({"insert": "items", "documents": [{"_id": 4}]})")); },
          "command insert");
  refused([&] { database.run_command(bson::from_json(R"({"aggregate": "items", "pipeline": [{"$out": "c"}], "cursor": {}})")); },
          "command aggregate");
  try {
    guarded.database("other").collection("x").insert_one(one);
    ADD_FAILURE() << "a database taken from the read-only client again wrote";
  } catch (const ReadOnlyError& e) {
    EXPECT_NE(std::string(e.what()).find("insert_one on other.x"), std::string::npos) << e.what();
  }

  EXPECT_EQ(writable.count_documents({}), 1);
  EXPECT_EQ((*writable.find_one(one))["n"].as_int32(), 1) << "nothing was written";
  EXPECT_FALSE(db.has_collection("made"));
  EXPECT_FALSE(db.has_collection("copy"));
}

}  // namespace
}  // namespace mongo_orm
