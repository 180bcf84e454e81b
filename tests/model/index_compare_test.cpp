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

// A declared collation: every option it sets must be the server's; what the server adds (the
// locale's defaults for the options left out, its ICU version) is no difference, so an unchanged
// declaration never reads as changed.
TEST(IndexDifferences, ADeclaredCollationComparesTheOptionsItSets) {
  IndexOptions ci{.collation = from_json(R"({"locale": "en", "strength": 2})")};
  auto server = [](const char* collation) {
    return from_json((std::string(R"({"v": 2, "key": {"email": 1}, "name": "email_1", "collation": )") + collation + "}").c_str());
  };
  const char* as_reported = R"({"locale": "en", "caseLevel": false, "caseFirst": "off", "strength": 2, "numericOrdering": false,
      "alternate": "non-ignorable", "maxVariable": "punct", "normalization": false, "backwards": false, "version": "57.1"})";
  EXPECT_EQ(index_differences(declared(R"({"email": 1})", ci), server(as_reported)), "");
  EXPECT_EQ(index_differences(declared(R"({"email": 1})", ci), server(R"({"locale": "en", "strength": {"$numberLong": "2"}})")), "");
  std::string strength = index_differences(declared(R"({"email": 1})", ci), server(R"({"locale": "en", "strength": 3})"));
  EXPECT_NE(strength.find("(strength differs)"), std::string::npos) << strength;
  std::string both = index_differences(declared(R"({"email": 1})", ci), server(R"({"locale": "fr", "strength": 1})"));
  EXPECT_NE(both.find("(locale, strength differ)"), std::string::npos) << both;
  std::string missing = index_differences(declared(R"({"email": 1})", ci), from_json(R"({"key": {"email": 1}, "name": "email_1"})"));
  EXPECT_NE(missing.find("collation simple on the server, { \"locale\" : \"en\", \"strength\" : 2 } declared"), std::string::npos)
      << missing;
  IndexOptions simple{.collation = from_json(R"({"locale": "simple"})")};
  EXPECT_EQ(index_differences(declared(R"({"email": 1})", simple), from_json(R"({"key": {"email": 1}, "name": "email_1"})")), "")
      << "the simple locale is no collation";
}

// The createIndexes fields of a declaration, and what a server without collations cannot build.
TEST(IndexOptionsOf, ADeclarationGivesItsCreateIndexesFields) {
  IndexSpec spec = declared(R"({"email": 1})", {.unique = true, .collation = from_json(R"({"locale": "en", "strength": 2})")});
  EXPECT_EQ(bson::to_relaxed_json(index_options(spec)),
            R"({ "name" : "email_1", "unique" : true, "collation" : { "locale" : "en", "strength" : 2 } })");
  Capabilities without;  // every flag false, as on FerretDB
  auto lacking = unsupported_option(spec, without);
  ASSERT_TRUE(lacking.has_value());
  EXPECT_EQ(lacking->capability, "collations");
  Capabilities with;
  with.collations = true;
  EXPECT_FALSE(unsupported_option(spec, with).has_value());
  EXPECT_FALSE(unsupported_option(declared(R"({"a": 1})", {.collation = from_json(R"({"locale": "simple"})")}), without).has_value());
}

}  // namespace
}  // namespace mongo_orm::model
