// Serialize tests for model/query.hpp: built filters compared with their Extended JSON, no
// server needed; and the type checks that make wrong comparisons fail to compile.
#include "mongo_orm/model/query.hpp"

#include <gtest/gtest.h>

#include "model/models.hpp"

namespace app {
namespace {

using model::field;
using model::Filter;

std::string json(const Filter& f) { return bson::to_canonical_json(f.document()); }

TEST(Query, ComparisonsUseStoredNamesAndTypedValues) {
  EXPECT_EQ(json(field(&User::age) > 30), R"({ "age" : { "$gt" : { "$numberInt" : "30" } } })");
  EXPECT_EQ(json(field(&User::score) <= 5), R"({ "score" : { "$lte" : { "$numberLong" : "5" } } })");
  EXPECT_EQ(json(field(&User::joined) >= std::chrono::system_clock::time_point(std::chrono::milliseconds(5))),
            R"({ "joined_at" : { "$gte" : { "$date" : { "$numberLong" : "5" } } } })");
  EXPECT_EQ(json(field(&User::status) == Status::banned), R"({ "status" : { "$eq" : "banned" } })");
  EXPECT_EQ(json(field(&User::nickname) != "x"), R"({ "nickname" : { "$ne" : "x" } })");
}

TEST(Query, RegexEscapeLeavesOnlyLettersDigitsAndNonAsciiBare) {
  EXPECT_EQ(model::regex_escape("a+b (c)"), R"(a\+b\ \(c\))");
  EXPECT_EQ(model::regex_escape(R"(^$.|?*[]{}\/)"), R"(\^\$\.\|\?\*\[\]\{\}\\\/)");
  EXPECT_EQ(model::regex_escape("snake_case 42"), R"(snake_case\ 42)");
  EXPECT_EQ(model::regex_escape(std::string("a\0b", 3)), R"(a\x00b)");
  EXPECT_EQ(model::regex_escape("Grüße"), "Grüße");
  EXPECT_EQ(json(field(&User::name).iexact("a.b")),
            R"({ "name" : { "$regex" : "^a\\.b\\z", "$options" : "i" } })");
}

TEST(Query, SortKeysFromNestedPaths) {
  model::SortKey key = model::desc(field(&User::address, &Address::zip));
  EXPECT_EQ(key.path, "address.zip");
  EXPECT_EQ(key.direction, -1);
}

TEST(Query, CombinesWithAndOrNotAndFlattens) {
  Filter f = field(&User::age) > 30 && field(&User::name).matches("^jo", "i") && field(&User::active) == true;
  EXPECT_EQ(bson::to_relaxed_json(f.document()),
            R"({ "$and" : [ { "age" : { "$gt" : 30 } }, { "name" : { "$regex" : "^jo", "$options" : "i" } }, )"
            R"({ "active" : { "$eq" : true } } ] })");
  Filter g = field(&User::age) < 18 || !(field(&User::tags).size(0));
  EXPECT_EQ(bson::to_relaxed_json(g.document()),
            R"({ "$or" : [ { "age" : { "$lt" : 18 } }, { "$nor" : [ { "tags" : { "$size" : 0 } } ] } ] })");
}

TEST(Query, ListsExistenceTypesAndArrays) {
  EXPECT_EQ(bson::to_relaxed_json(field(&User::name).in({"a", "b"}).document()),
            R"({ "name" : { "$in" : [ "a", "b" ] } })");
  EXPECT_EQ(bson::to_relaxed_json(field(&User::age).not_in({1, 2}).document()),
            R"({ "age" : { "$nin" : [ 1, 2 ] } })");
  EXPECT_EQ(bson::to_relaxed_json(field(&User::nickname).exists(false).document()),
            R"({ "nickname" : { "$exists" : false } })");
  EXPECT_EQ(bson::to_relaxed_json(field(&User::balance).has_type(bson::Type::double_).document()),
            R"({ "balance" : { "$type" : "double" } })");
  EXPECT_EQ(bson::to_relaxed_json((field(&User::tags) == "math").document()),
            R"({ "tags" : { "$eq" : "math" } })");
  EXPECT_EQ(bson::to_relaxed_json(field(&User::tags).contains_all({"a", "b"}).document()),
            R"({ "tags" : { "$all" : [ "a", "b" ] } })");
  EXPECT_EQ(bson::to_relaxed_json(
                field(&User::previous_addresses).elem_match(field(&Address::city) == "Paris").document()),
            R"({ "previous_addresses" : { "$elemMatch" : { "city" : { "$eq" : "Paris" } } } })");
}

TEST(Query, DottedPathsIntoNestedModels) {
  EXPECT_EQ(bson::to_relaxed_json((field(&User::address, &Address::zip) == "10115").document()),
            R"({ "address.zip" : { "$eq" : "10115" } })");
  EXPECT_EQ(bson::to_relaxed_json((field(&User::previous_addresses, &Address::city) == "Paris").document()),
            R"({ "previous_addresses.city" : { "$eq" : "Paris" } })");
}

TEST(Query, ComposesWithRawFilters) {
  Filter f = field(&User::age) > 1 && Filter(bson::from_json(R"({"legacy": {"$exists": true}})"));
  EXPECT_EQ(bson::to_relaxed_json(f.document()),
            R"({ "$and" : [ { "age" : { "$gt" : 1 } }, { "legacy" : { "$exists" : true } } ] })");
}

TEST(Query, AUserStringIsAlwaysAValue) {
  std::string from_user = R"({"$ne": ""})";
  EXPECT_EQ(bson::to_relaxed_json((field(&User::name) == from_user).document()),
            R"({ "name" : { "$eq" : "{\"$ne\": \"\"}" } })");
  std::string operator_like = "$ne";
  EXPECT_EQ(bson::to_relaxed_json((field(&User::email) == operator_like).document()),
            R"({ "email" : { "$eq" : "$ne" } })");
}

// Wrong comparisons do not compile.
template <class F, class V>
concept comparable = requires(F f, V v) { f == v; };
static_assert(comparable<model::FieldPath<int32_t>, int>);
static_assert(!comparable<model::FieldPath<int32_t>, const char*>, "string compared with an int field");
static_assert(!comparable<model::FieldPath<int32_t>, double>, "narrowing double to int32");
static_assert(!comparable<model::FieldPath<int32_t>, int64_t>, "narrowing int64 to int32");
static_assert(!comparable<model::FieldPath<std::string>, int>, "int compared with a string field");
static_assert(comparable<model::FieldPath<std::string>, const char*>);
static_assert(comparable<model::FieldPath<std::vector<std::string>>, std::string>);
static_assert(!comparable<model::FieldPath<Status>, std::string>, "enum fields compare with the enum");
template <class F>
concept has_matches = requires(F f) { f.matches("x"); };
static_assert(has_matches<model::FieldPath<std::string>>);
static_assert(!has_matches<model::FieldPath<int32_t>>, "regex only on strings");

struct Partial {
  int32_t declared = 0;
  int32_t undeclared = 0;
};
auto define_schema(model::SchemaTag<Partial>) {
  return model::schema<Partial>("partial").field(&Partial::declared, "d");
}

TEST(Query, IdIsStoredAsUnderscoreIdAndUndeclaredMembersAreAnError) {
  EXPECT_EQ(field(&User::id).path(), "_id");
  EXPECT_EQ(field(&Partial::declared).path(), "d");
  EXPECT_THROW(field(&Partial::undeclared), Error);
}

}  // namespace
}  // namespace app
