// Tests for model/description.hpp: a schema described as data, every stored path with its type,
// rules and default.
#include "mongo_orm/model/description.hpp"

#include <gtest/gtest.h>

#include <map>

#include "mongo_orm/bson/json.hpp"
#include "model/models.hpp"

namespace mongo_orm::model {
namespace {

std::map<std::string, FieldDescription> by_path(const ModelDescription& d) {
  std::map<std::string, FieldDescription> out;
  for (const auto& f : d.fields) out[f.path] = f;
  return out;
}

std::string rules_of(const FieldDescription& f) {
  std::string text;
  for (const auto& rule : f.rules) text += bson::to_relaxed_json(rule.view());
  return text;
}

TEST(Describe, EveryStoredPathWithItsType) {
  ModelDescription d = describe<app::User>();
  EXPECT_EQ(d.collection, "users");
  EXPECT_EQ(d.unknown_fields, UnknownFields::preserve);
  EXPECT_EQ(d.schema_version, 0);
  std::vector<std::string> paths;
  for (const auto& f : d.fields) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "_id", "name", "email", "age", "score", "balance", "active", "joined_at", "nickname", "address",
                       "address.street", "address.city", "address.zip", "address.geo", "tags", "counters", "status",
                       "credit", "device", "previous_addresses", "previous_addresses[].street", "previous_addresses[].city",
                       "previous_addresses[].zip", "previous_addresses[].geo", "preferences"}));
  auto fields = by_path(d);
  std::map<std::string, std::string> types;
  for (const auto& [path, f] : fields) types[path] = f.type;
  std::map<std::string, std::string> expected{
      {"_id", "objectId"}, {"age", "int"}, {"score", "long"}, {"balance", "double"}, {"active", "bool"},
      {"joined_at", "date"}, {"nickname", "string"}, {"address", "object"}, {"tags", "array<string>"},
      {"counters", "map<int>"}, {"status", "string"}, {"credit", "decimal"}, {"device", "binData"},
      {"previous_addresses", "array<object>"}, {"preferences", "object"},
      {"address.geo", "custom"}};  // a codec of one's own that does not say what it stores
  for (const auto& [path, type] : expected) EXPECT_EQ(types[path], type) << path;
  EXPECT_TRUE(fields["nickname"].optional);
  EXPECT_TRUE(fields["address.geo"].optional);
  EXPECT_FALSE(fields["name"].optional);
  EXPECT_EQ(fields["status"].choices, (std::vector<std::string>{"active", "suspended", "banned"}));
  // Arrays and maps name their items apart, for whoever walks their paths.
  EXPECT_EQ(fields["tags"].item_type, "string");
  EXPECT_FALSE(fields["tags"].map);
  EXPECT_EQ(fields["counters"].item_type, "int");
  EXPECT_TRUE(fields["counters"].map);
  EXPECT_EQ(fields["previous_addresses"].item_type, "object");
  EXPECT_EQ(fields["address"].item_type, "");
}

struct Renamed {
  std::string id;
  std::string email;
  std::vector<app::Address> places;
};
auto define_schema(SchemaTag<Renamed>) {
  return schema<Renamed>("renamed")
      .id(&Renamed::id)
      .field(&Renamed::email, "email", renamed_from("email_address"), renamed_from("mail"))
      .field(&Renamed::places, "places", renamed_from("addresses"));
}

TEST(Describe, RenamedFromHintsAsFullPaths) {
  auto fields = by_path(describe<Renamed>());
  EXPECT_EQ(fields["email"].renamed_from, (std::vector<std::string>{"email_address", "mail"}));
  EXPECT_EQ(fields["places"].renamed_from, (std::vector<std::string>{"addresses"}));
  EXPECT_TRUE(fields["places[].zip"].renamed_from.empty());
}

TEST(Describe, RulesAndDefaultsAsData) {
  auto fields = by_path(describe<app::User>());
  EXPECT_EQ(rules_of(fields["name"]), R"({ "required" : true }{ "max_length" : 40 })");
  EXPECT_EQ(rules_of(fields["age"]), R"({ "min" : 0 }{ "max" : 150 })");
  EXPECT_EQ(rules_of(fields["previous_addresses[].zip"]), R"({ "matches" : "[0-9]{5}" })");
  EXPECT_EQ(rules_of(fields["score"]), "");
  auto member = by_path(describe<app::Member>());
  ASSERT_TRUE(member["enabled"].default_value.has_value());
  EXPECT_EQ(bson::to_relaxed_json(member["enabled"].default_value->view()), R"({ "value" : true })");
  EXPECT_FALSE(member["name"].default_value.has_value());
}

struct Stamped {
  bson::ObjectId id;
  std::chrono::system_clock::time_point created_at{};
  int32_t level = 0;
};
auto define_schema(SchemaTag<Stamped>) {
  return schema<Stamped>("stamped")
      .id(&Stamped::id)
      .field(&Stamped::created_at, "created_at", default_factory([] { return std::chrono::system_clock::now(); }))
      .field(&Stamped::level, "level", one_of({1, 2, 3}), check([](int32_t v) { return v != 2; }, "two is reserved"))
      .index({.name = "by_level", .unique = true}, asc(&Stamped::level))
      .schema_version(3);
}

TEST(Describe, FactoriesChoicesChecksIndexesAndVersions) {
  ModelDescription d = describe<Stamped>();
  auto fields = by_path(d);
  EXPECT_EQ(bson::to_relaxed_json(fields["created_at"].default_value->view()), R"({ "factory" : true })")
      << "a factory's value changes every call: only that there is one is described";
  EXPECT_EQ(rules_of(fields["level"]), R"({ "one_of" : [ 1, 2, 3 ] }{ "check" : "two is reserved" })");
  ASSERT_EQ(d.indexes.size(), 1u);
  EXPECT_EQ(d.indexes[0].options.name, "by_level");
  EXPECT_EQ(d.schema_version, 3);
  EXPECT_EQ(d.version_field, "_schema_version");
}

}  // namespace
}  // namespace mongo_orm::model
