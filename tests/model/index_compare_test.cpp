// Tests for model::index_differences: a declared index against what listIndexes returns,
// normalised so that an unchanged declaration never reads as changed, and every real difference
// is named. No server needed: the server's side is written as listIndexes returns it.
#include <gtest/gtest.h>

#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/model/indexes.hpp"

namespace mongo_orm::model {
namespace {

using bson::from_json;

IndexSpec declared(const char* keys, IndexOptions options = {}) { return IndexSpec{from_json(keys), std::move(options)}; }

TEST(IndexDifferences, NumbersOfAnyWidthAndDefaultOptionsAreTheSameIndex) {
  EXPECT_EQ(index_differences(declared(R"({"email": 1, "age": -1})"),
                              from_json(R"({"v": 2, "key": {"email": 1.0, "age": {"$numberLong": "-1"}}, "name": "email_1_age_-1"})")),
            "");
  EXPECT_EQ(index_differences(declared(R"({"email": 1})", {.unique = true}),
                              from_json(R"({"v": 2, "key": {"email": 1}, "name": "email_1", "unique": true, "sparse": false})")),
            "");
  IndexOptions partial{.partial_filter = from_json(R"({"age": {"$gt": 18}})")};
  EXPECT_EQ(index_differences(declared(R"({"email": 1})", partial),
                              from_json(R"({"key": {"email": 1}, "name": "email_1", "partialFilterExpression": {"age": {"$gt": 18.0}}})")),
            "")
      << "a filter's operand read back as a double is the same filter";
  EXPECT_EQ(index_differences(declared(R"({"email": 1})"),
                              from_json(R"({"key": {"email": 1}, "name": "email_1", "collation": {"locale": "simple"}})")),
            "");
}

TEST(IndexDifferences, KeyOrderOptionsFiltersAndCollationsDiffer) {
  EXPECT_NE(index_differences(declared(R"({"a": 1, "b": 1})"), from_json(R"({"key": {"b": 1, "a": 1}, "name": "a_1_b_1"})"))
                .find("keys { \"b\" : 1, \"a\" : 1 } on the server"),
            std::string::npos)
      << "key order is significant";
  EXPECT_EQ(index_differences(declared(R"({"a": 1})", {.unique = true}), from_json(R"({"key": {"a": 1}, "name": "a_1"})")),
            "unique is declared");
  IndexOptions partial{.partial_filter = from_json(R"({"age": {"$gt": 18}})")};
  EXPECT_EQ(index_differences(declared(R"({"a": 1})", partial),
                              from_json(R"({"key": {"a": 1}, "name": "a_1", "partialFilterExpression": {"age": {"$gt": 21}}})")),
            "partialFilterExpression differs");
  std::string collation = index_differences(
      declared(R"({"a": 1})"),
      from_json(R"({"key": {"a": 1}, "name": "a_1", "collation": {"locale": "en", "strength": 2, "caseLevel": false}})"));
  EXPECT_NE(collation.find("collation { \"locale\" : \"en\", \"strength\" : 2"), std::string::npos) << collation;
  EXPECT_NE(collation.find("none declared"), std::string::npos) << collation;
}

}  // namespace
}  // namespace mongo_orm::model
