// Tests for driver/session.hpp: transactions where the server has them, a clear refusal where
// it does not.
#include "mongo_orm/driver/session.hpp"

#include <gtest/gtest.h>

#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;
using testing::ServerTest;

class SessionTest : public ServerTest {};

TEST_F(SessionTest, ServersWithoutTransactionsRefuseNamingTheCapability) {
  if (capabilities().transactions) GTEST_SKIP() << "server supports transactions";
  bool ran = false;
  try {
    client().with_transaction([&](const Session&) { ran = true; });
    FAIL() << "expected CapabilityError";
  } catch (const CapabilityError& e) {
    EXPECT_EQ(e.capability(), "transactions");
    EXPECT_NE(std::string(e.what()).find("transactions"), std::string::npos);
  }
  EXPECT_FALSE(ran) << "nothing runs outside the transaction it asked for";
}

TEST_F(SessionTest, CommitsWhatTheBodyWrote) {
  MONGO_ORM_REQUIRE_CAPABILITY(transactions);
  db.create_collection("accounts");
  client().with_transaction([&](const Session& session) {
    Collection accounts = session.database(db.name()).collection("accounts");
    accounts.insert_one(from_json(R"({"_id": 1, "balance": 100})"));
    accounts.insert_one(from_json(R"({"_id": 2, "balance": 0})"));
  });
  EXPECT_EQ(db.collection("accounts").count_documents(), 2);
}

TEST_F(SessionTest, AnExceptionAbortsEverything) {
  MONGO_ORM_REQUIRE_CAPABILITY(transactions);
  db.create_collection("accounts");
  EXPECT_THROW(client().with_transaction([&](const Session& session) {
                 session.database(db.name()).collection("accounts").insert_one(from_json(R"({"_id": 1})"));
                 throw std::runtime_error("changed my mind");
               }),
               std::runtime_error);
  EXPECT_EQ(db.collection("accounts").count_documents(), 0);
}

// The session discipline, checked on every server: in a transaction (or its rehearsal, where the
// server has none), the handles of its session read and write documents, and everything else is
// refused before it is sent, naming the call and the namespace.
void expect_discipline(const Client& client, const std::string& database,
                       void (Client::*run)(const std::function<void(const Session&)>&) const) {
  auto refused = [](const std::function<void()>& call, std::string_view expected) {
    try {
      call();
      ADD_FAILURE() << "expected TransactionDisciplineError mentioning " << expected;
    } catch (const TransactionDisciplineError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  Database outside = client.database(database);
  (client.*run)([&](const Session& session) {
    Collection accounts = session.database(database).collection("accounts");
    accounts.insert_one(from_json(R"({"_id": 3, "balance": 7})"));
    EXPECT_EQ(accounts.count_documents(), 3) << "reads through the session see its writes";
    refused([&] { outside.collection("accounts").find_one(); }, "find on " + database + ".accounts inside a transaction would leave");
    refused([&] { outside.collection("accounts").insert_one(from_json(R"({"_id": 4})")); }, "insert_one on " + database + ".accounts");
    refused([&] { accounts.drop(); }, "drop on " + database + ".accounts inside a transaction: index and collection changes");
    refused([&] { accounts.create_index({from_json(R"({"balance": 1})")}); }, "create_indexes");
    refused([&] { accounts.rename("elsewhere"); }, "rename");
    refused([&] { accounts.list_indexes(); }, "catalog reads");
    refused([&] { accounts.estimated_document_count(); }, "count with count_documents");
    refused([&] { session.database(database).has_collection("accounts"); }, "list_collection_names");
    refused([&] { client.run_command("admin", from_json(R"({"ping": 1})")); }, "command ping on admin");
    refused([&] { (void)client.acquire(); }, "Client::acquire");
  });
  EXPECT_EQ(outside.collection("accounts").count_documents(), 3) << "only the session's write happened";
  EXPECT_NO_THROW(outside.collection("accounts").drop()) << "after the body, the discipline is over";
}

TEST_F(SessionTest, AnythingThatWouldLeaveTheTransactionsSessionIsRefused) {
  MONGO_ORM_REQUIRE_CAPABILITY(transactions);
  db.collection("accounts").insert_many(std::vector{from_json(R"({"_id": 1})"), from_json(R"({"_id": 2})")});
  expect_discipline(client(), db.name(), &Client::with_transaction);
}

TEST_F(SessionTest, ARehearsalKeepsTheSameDisciplineOnAnyServer) {
  db.collection("accounts").insert_many(std::vector{from_json(R"({"_id": 1})"), from_json(R"({"_id": 2})")});
  expect_discipline(client(), db.name(), &Client::rehearse_transaction);
}

}  // namespace
}  // namespace mongo_orm
