// Tests for model/indexes.hpp against the real server: declared indexes created, idempotence,
// diffs, and options the server cannot honour.
#include "mongo_orm/model/indexes.hpp"

#include <gtest/gtest.h>

#include "mongo_orm/mongo_orm.hpp"
#include "support/server.hpp"

namespace shop {
using namespace mongo_orm;

struct Customer {
  bson::ObjectId id;
  std::string email;
  std::string name;
  int32_t age = 0;
  std::string zip;
};
inline auto define_schema(model::SchemaTag<Customer>) {
  using namespace model;
  return schema<Customer>("customers")
      .id(&Customer::id)
      .field(&Customer::email, "email")
      .field(&Customer::name, "name")
      .field(&Customer::age, "age")
      .field(&Customer::zip, "address_zip")
      .index({.unique = true}, asc(&Customer::email))
      .index({.name = "by_age_name"}, desc(&Customer::age), asc(&Customer::name))
      .index(IndexSpec{bson::from_json(R"({"address_zip": 1})"), {}});
}

struct Session {
  bson::ObjectId id;
  std::chrono::system_clock::time_point seen{};
};
inline auto define_schema(model::SchemaTag<Session>) {
  using namespace model;
  return schema<Session>("sessions").id(&Session::id).field(&Session::seen, "seen").index({.expire_after_seconds = 3600}, asc(&Session::seen));
}

// A case-insensitive unique email: the seed's "Index conflicts" with a collation.
struct Account {
  bson::ObjectId id;
  std::string email;
};
inline auto define_schema(model::SchemaTag<Account>) {
  using namespace model;
  return schema<Account>("accounts")
      .id(&Account::id)
      .field(&Account::email, "email")
      .index({.unique = true, .collation = bson::from_json(R"({"locale": "en", "strength": 2})")}, asc(&Account::email));
}
}  // namespace shop

namespace mongo_orm {
namespace {

using bson::from_json;
using model::TypedCollection;
using testing::ServerTest;

class IndexesTest : public ServerTest {
 protected:
  TypedCollection<shop::Customer> customers{db};
};

TEST_F(IndexesTest, DeclarationsUseStoredNames) {
  const auto& indexes = model::schema_of<shop::Customer>().indexes();
  ASSERT_EQ(indexes.size(), 3u);
  EXPECT_EQ(bson::to_relaxed_json(indexes[1].keys), R"({ "age" : -1, "name" : 1 })");
  EXPECT_EQ(model::index_name(indexes[0]), "email_1");
  EXPECT_EQ(model::index_name(indexes[1]), "by_age_name");
  EXPECT_EQ(model::index_name(indexes[2]), "address_zip_1");
}

TEST_F(IndexesTest, EnsureCreatesWhatIsMissingAndIsIdempotent) {
  EXPECT_EQ(customers.index_diff().missing.size(), 3u);
  auto created = customers.ensure_indexes();
  EXPECT_EQ(created, (std::vector<std::string>{"email_1", "by_age_name", "address_zip_1"}));
  EXPECT_TRUE(customers.index_diff().empty());
  EXPECT_TRUE(customers.ensure_indexes().empty());

  customers.insert(shop::Customer{{}, "a@example.com", "A", 1, "10115"});
  EXPECT_THROW(customers.insert(shop::Customer{{}, "a@example.com", "B", 2, "10115"}), DuplicateKeyError)
      << "the unique index is enforced";
}

TEST_F(IndexesTest, DiffReportsExtraAndChangedIndexes) {
  customers.ensure_indexes();
  customers.raw().create_index({from_json(R"({"name": 1})"), {}});
  auto diff = customers.index_diff();
  ASSERT_EQ(diff.extra.size(), 1u);
  EXPECT_EQ(diff.extra[0]["name"].as_string(), "name_1");

  customers.raw().drop_index("by_age_name");
  customers.raw().create_index({from_json(R"({"age": 1})"), from_json(R"({"name": "by_age_name"})")});
  diff = customers.index_diff();
  ASSERT_EQ(diff.changed.size(), 1u);
  EXPECT_NE(diff.changed[0].difference.find("keys"), std::string::npos) << diff.changed[0].difference;
  try {
    customers.ensure_indexes();
    FAIL() << "expected InvalidRequestError";
  } catch (const InvalidRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("'by_age_name'"), std::string::npos) << e.what();
  }
}

TEST_F(IndexesTest, OptionsTheServerCannotHonourAreRefusedNotChanged) {
  TypedCollection<shop::Session> sessions{db};
  if (capabilities().ttl_indexes) {
    EXPECT_EQ(sessions.ensure_indexes(), (std::vector<std::string>{"seen_1"}));
    EXPECT_TRUE(sessions.index_diff().empty());
    return;
  }
  try {
    sessions.ensure_indexes();
    FAIL() << "expected InvalidRequestError";
  } catch (const InvalidRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("ttl_indexes"), std::string::npos) << e.what();
  }
  EXPECT_EQ(sessions.index_diff().missing.size(), 1u) << "nothing was created";
}

// A declared collation is built as declared and then reads as unchanged, against the full
// collation the server reports; a server without collations gets nothing rather than another index.
TEST_F(IndexesTest, ADeclaredCollationIsBuiltAndThenReadsAsUnchanged) {
  TypedCollection<shop::Account> accounts{db};
  if (!capabilities().collations) {
    try {
      accounts.ensure_indexes();
      FAIL() << "an index with a collation was built on a server without collations";
    } catch (const InvalidRequestError& e) {
      EXPECT_NE(std::string(e.what()).find("index 'email_1' is declared with a collation, but the server lacks capability collations"),
                std::string::npos)
          << e.what();
    }
    EXPECT_EQ(accounts.index_diff().missing.size(), 1u) << "nothing was created";
    GTEST_SKIP() << "server lacks capability: collations (FerretDB 1.x); refused before creating, as checked";
  }
  EXPECT_EQ(accounts.ensure_indexes(), (std::vector<std::string>{"email_1"}));
  EXPECT_TRUE(accounts.index_diff().empty()) << "the server's full collation is the declared one";
  EXPECT_TRUE(accounts.ensure_indexes().empty());
  accounts.insert(shop::Account{{}, "Ada@Example.com"});
  EXPECT_THROW(accounts.insert(shop::Account{{}, "ada@example.com"}), DuplicateKeyError) << "strength 2 ignores case";
}

}  // namespace
}  // namespace mongo_orm
