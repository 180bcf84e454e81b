// Tests for error.hpp mapping of server failures: duplicate keys on insert and on update,
// credentials never in messages.
#include "mongo_orm/error.hpp"

#include <gtest/gtest.h>

#include <cctype>

#include "../../src/driver/internal.hpp"
#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;
using testing::ServerTest;

class ErrorTest : public ServerTest {
 protected:
  void SetUp() override {
    users.create_index({from_json(R"({"email": 1})"), from_json(R"({"unique": true})")});
    users.insert_one(from_json(R"({"_id": 1, "email": "a@example.com"})"));
    users.insert_one(from_json(R"({"_id": 2, "email": "b@example.com"})"));
  }
  Collection users = db.collection("users");
};

TEST_F(ErrorTest, DuplicateKeyOnInsert) {
  try {
    users.insert_one(from_json(R"({"_id": 3, "email": "a@example.com"})"));
    FAIL() << "expected DuplicateKeyError";
  } catch (const DuplicateKeyError& e) {
    EXPECT_EQ(e.collection(), "users") << "the collection, not the namespace";
    EXPECT_NE(std::string(e.what()).find(users.namespace_name()), std::string::npos);
    EXPECT_EQ(e.code(), 11000);
    EXPECT_EQ(e.index(), "email_1") << e.what();
    ASSERT_TRUE(e.key()) << e.what();
    EXPECT_EQ((*e.key())["email"].as_string(), "a@example.com");
  }
  try {
    users.insert_one(from_json(R"({"_id": 1})"));
    FAIL() << "expected DuplicateKeyError";
  } catch (const DuplicateKeyError& e) {
    EXPECT_EQ(e.index(), "_id_") << e.what();
    ASSERT_TRUE(e.key()) << e.what();
    EXPECT_EQ((*e.key())["_id"].as_int32(), 1);
  }
  EXPECT_EQ(users.count_documents(), 2);
}

TEST_F(ErrorTest, DuplicateKeyOnUpdate) {
  try {
    users.update_one(from_json(R"({"_id": 2})"), from_json(R"({"$set": {"email": "a@example.com"}})"));
    FAIL() << "expected DuplicateKeyError";
  } catch (const DuplicateKeyError& e) {
    EXPECT_EQ(e.collection(), "users");
  }
  EXPECT_EQ((*users.find_one(from_json(R"({"_id": 2})")))["email"].as_string(), "b@example.com");
  EXPECT_THROW(users.find_one_and_update(from_json(R"({"_id": 2})"),
                                         from_json(R"({"$set": {"email": "a@example.com"}})")),
               DuplicateKeyError);
  EXPECT_THROW(users.replace_one(from_json(R"({"_id": 2})"), from_json(R"({"email": "a@example.com"})")),
               DuplicateKeyError);
}

TEST_F(ErrorTest, UniqueIndexOverDuplicatesIsRefused) {
  Collection dups = db.collection("dups");
  dups.insert_many(std::vector{from_json(R"({"k": 1})"), from_json(R"({"k": 1})")});
  EXPECT_THROW(dups.create_index({from_json(R"({"k": 1})"), from_json(R"({"unique": true})")}),
               CommandError);
}

TEST(Redaction, MasksPasswordsInAnyText) {
  EXPECT_EQ(detail::redact_credentials("failed: mongodb://bob:pa55@db:27017/x?a=b"),
            "failed: mongodb://bob:****@db:27017/x?a=b");
  EXPECT_EQ(detail::redact_credentials("mongodb+srv://u:p%40ss@cluster.example.com"),
            "mongodb+srv://u:****@cluster.example.com");
  EXPECT_EQ(detail::redact_credentials("mongodb://onlyuser@h/"), "mongodb://onlyuser@h/");
  EXPECT_EQ(detail::redact_credentials("no uri here"), "no uri here");
  // An unescaped '@' in the password: masked up to the last '@' of the authority.
  EXPECT_EQ(detail::redact_credentials("mongodb://admin:p@ssw0rdSecret@host/db"), "mongodb://admin:****@host/db");
  // Options that hold secrets, whatever their case, wherever they stand in the query.
  EXPECT_EQ(detail::redact_credentials("x mongodb://h/db?appName=a&tlsCertificateKeyFilePassword=hunter2&tls=true y"),
            "x mongodb://h/db?appName=a&tlsCertificateKeyFilePassword=****&tls=true y");
  EXPECT_EQ(detail::redact_credentials("mongodb://u:pw@h/?authMechanismProperties=AWS_SESSION_TOKEN:tok3n;sslPEMKeyPassword=k3y"),
            "mongodb://u:****@h/?authMechanismProperties=****;sslPEMKeyPassword=****");
}

// A URI libmongoc cannot use, or a server it cannot reach: no part of the password reaches the
// message, in any case (libmongoc lowercases what it takes for a host).
TEST(Redaction, NoPartOfAMalformedAuthorityReachesAnError) {
  for (const std::string uri : {"mongodb://admin:p@ssw0rdSecret@127.0.0.1:1/db?serverSelectionTimeoutMS=200",
                                "mongodb://admin:p@ssw0rdSecret@/db", "mongodb://admin:pa:ss@w0rdSecret@h:x/db",
                                "mongodb://127.0.0.1:1/db?tlsCertificateKeyFilePassword=hunter2&serverSelectionTimeoutMS=200"}) {
    std::string message;
    try {
      Client client(uri);
      client.run_command("admin", from_json(R"({"ping": 1})"));
    } catch (const Error& e) {
      message = e.what();
    }
    ASSERT_FALSE(message.empty()) << uri;
    std::string lower = message;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(lower.find("ssw0rd"), std::string::npos) << uri << ": " << message;
    EXPECT_EQ(lower.find("w0rdsecret"), std::string::npos) << uri << ": " << message;
    EXPECT_EQ(lower.find("hunter2"), std::string::npos) << uri << ": " << message;
  }
}

}  // namespace
}  // namespace mongo_orm
