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

}  // namespace
}  // namespace mongo_orm
