// Tests for driver/database.hpp and collection administration: indexes, drop, rename.
#include "mongo_orm/driver/database.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;
using testing::ServerTest;

class DatabaseTest : public ServerTest {};

std::vector<std::string> index_names(const Collection& c) {
  std::vector<std::string> names;
  for (const auto& index : c.list_indexes()) names.emplace_back(index["name"].as_string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(DatabaseTest, ListsCreatesAndDropsCollections) {
  EXPECT_TRUE(db.list_collection_names().empty());
  db.collection("a").insert_one(from_json(R"({"x": 1})"));
  db.create_collection("b");
  auto names = db.list_collection_names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(db.has_collection("a"));
  EXPECT_FALSE(db.has_collection("c"));
  db.collection("a").drop();
  db.collection("a").drop();  // dropping what is gone is not an error
  EXPECT_EQ(db.list_collection_names(), (std::vector<std::string>{"b"}));
  // Creating it again: MongoDB before 7.0 answers NamespaceExists (48); 7.0 and later, and
  // mongos, answer ok when the options are the same. Either way there is one collection "b".
  try {
    db.create_collection("b");
  } catch (const CommandError& e) {
    EXPECT_EQ(e.code(), 48) << e.what();
  }
  EXPECT_EQ(db.list_collection_names(), (std::vector<std::string>{"b"}));
}

TEST_F(DatabaseTest, CreatesListsAndDropsIndexes) {
  Collection users = db.collection("users");
  users.insert_one(from_json(R"({"email": "a@example.com", "a": 1, "b": 2})"));
  EXPECT_EQ(users.create_index({from_json(R"({"email": 1})"), from_json(R"({"unique": true})")}),
            "email_1");
  auto names = users.create_indexes({{from_json(R"({"a": 1, "b": -1})"), {}},
                                     {from_json(R"({"b": 1})"), from_json(R"({"name": "by_b"})")}});
  EXPECT_EQ(names, (std::vector<std::string>{"a_1_b_-1", "by_b"}));
  EXPECT_EQ(index_names(users), (std::vector<std::string>{"_id_", "a_1_b_-1", "by_b", "email_1"}));

  for (const auto& index : users.list_indexes()) {
    if (index["name"].as_string() == "email_1") {
      EXPECT_TRUE(index["unique"].as_bool());
      EXPECT_EQ(bson::to_relaxed_json(index["key"].as_document()), R"({ "email" : 1 })");
    }
  }
  users.drop_index("by_b");
  EXPECT_EQ(index_names(users), (std::vector<std::string>{"_id_", "a_1_b_-1", "email_1"}));
  EXPECT_THROW(users.drop_index("no_such_index"), CommandError);
  // Creating the same index again is idempotent.
  EXPECT_NO_THROW(users.create_index({from_json(R"({"email": 1})"), from_json(R"({"unique": true})")}));
}

TEST_F(DatabaseTest, RenamesACollection) {
  Collection old_users = db.collection("old_users");
  old_users.insert_one(from_json(R"({"_id": 1})"));
  Collection renamed = old_users.rename("users");
  EXPECT_EQ(renamed.name(), "users");
  EXPECT_EQ(renamed.count_documents(), 1);
  EXPECT_FALSE(db.has_collection("old_users"));
  db.collection("other").insert_one(from_json(R"({"_id": 2})"));
  EXPECT_THROW(db.collection("other").rename("users"), CommandError);
}

TEST_F(DatabaseTest, DropRemovesTheDatabase) {
  db.collection("x").insert_one(from_json(R"({"_id": 1})"));
  db.drop();
  auto names = client().list_database_names();
  EXPECT_EQ(std::find(names.begin(), names.end(), db.name()), names.end());
}

TEST(DatabaseNames, EmptyNamesAreRefused) {
  EXPECT_THROW(testing::shared_client().database(""), ConfigurationError);
  EXPECT_THROW(testing::shared_client().database("x").collection(""), ConfigurationError);
}

}  // namespace
}  // namespace mongo_orm
