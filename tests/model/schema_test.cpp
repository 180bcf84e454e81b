// Tests for model/schema.hpp, codec.hpp and rules.hpp without a server: encoding, decoding,
// decode errors with paths, widening, unknown fields, defaults, validation, diffs.
#include "mongo_orm/model/schema.hpp"

#include <gtest/gtest.h>

#include "model/models.hpp"
#include "mongo_orm/model/query.hpp"

namespace app {
namespace {

using bson::from_json;
using bson::to_relaxed_json;

struct Partly {
  bson::ObjectId id;
  std::string name;
  int32_t secret = 0;  // not in the schema
};
auto define_schema(model::SchemaTag<Partly>) {
  return model::schema<Partly>("partly").id(&Partly::id).field(&Partly::name, "name");
}

bson::Document encode(const User& u) {
  bson::Builder b;
  model::schema_of<User>().encode(b.native(), u);
  return b.extract();
}

User decode(const bson::Document& doc) {
  User u;
  model::schema_of<User>().decode(doc, u);
  return u;
}

std::string decode_error(const bson::Document& doc) {
  try {
    decode(doc);
  } catch (const DecodeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Schema, EncodesEveryFieldUnderItsStoredName) {
  User u = sample_user();
  u.id = bson::ObjectId::from_hex("5d06b9c3d7c1f18db3e7c874");
  u.device = bson::Uuid::from_string("123e4567-e89b-12d3-a456-426614174000");
  u.credit = bson::Decimal128::from_string("100.25");
  EXPECT_EQ(to_relaxed_json(encode(u)),
            R"({ "_id" : { "$oid" : "5d06b9c3d7c1f18db3e7c874" }, "name" : "Ada Lovelace", )"
            R"("email" : "ada@example.com", "age" : 36, "score" : 1099511627776, "balance" : 12.5, )"
            R"("active" : true, "joined_at" : { "$date" : "2023-11-14T22:13:20.123Z" }, )"
            R"("address" : { "street" : "12 St James's Square", "city" : "London", "zip" : "10115", )"
            R"("geo" : [ 51.5, -0.25 ] }, "tags" : [ "math", "poetry" ], )"
            R"("counters" : { "logins" : 3, "posts" : 7 }, "status" : "active", )"
            R"("credit" : { "$numberDecimal" : "100.25" }, )"
            R"("device" : { "$binary" : { "base64" : "Ej5FZ+ibEtOkVkJmFBdAAA==", "subType" : "04" } }, )"
            R"("previous_addresses" : [  ], "preferences" : { "theme" : "dark", "beta" : true } })");
}

// A member pointer carries no name: the error names the model, the member's type, the
// collection and what the schema does declare.
TEST(Schema, AQueryOnAMemberOutsideTheSchemaNamesTheModelAndWhatIsDeclared) {
  try {
    (void)(model::field(&Partly::secret) == 1);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("field(&app::(anonymous namespace)::Partly::...)"), std::string::npos) << message;
    EXPECT_NE(message.find("a member of type int"), std::string::npos) << message;
    EXPECT_NE(message.find("collection 'partly'"), std::string::npos) << message;
    EXPECT_NE(message.find("declared: _id, name"), std::string::npos) << message;
  }
}

TEST(Schema, RoundTripsThroughBson) {
  User u = sample_user();
  u.nickname = "Ada";
  u.previous_addresses = {{"1 Main St", "Paris", "75001", std::nullopt}};
  User back = decode(encode(u));
  EXPECT_EQ(encode(back), encode(u));
  EXPECT_EQ(back.address.geo, (Point{51.5, -0.25}));
  EXPECT_EQ(back.joined, u.joined);
  EXPECT_EQ(back.counters.at("posts"), 7);
  EXPECT_EQ(back.previous_addresses.at(0).city, "Paris");
}

TEST(Schema, MissingAndNullOptionalsReadAsNullopt) {
  User from_missing = decode(from_json(R"({"name": "x"})"));
  EXPECT_FALSE(from_missing.nickname);
  User from_null = decode(from_json(R"({"name": "x", "nickname": null})"));
  EXPECT_FALSE(from_null.nickname);
  User present = decode(from_json(R"({"nickname": "Adi"})"));
  EXPECT_EQ(present.nickname, "Adi");
}

TEST(Schema, WideningIsAcceptedNarrowingRefused) {
  User u = decode(from_json(R"({"score": {"$numberInt": "5"}, "balance": {"$numberLong": "7"}})"));
  EXPECT_EQ(u.score, 5);
  EXPECT_EQ(u.balance, 7.0);
  EXPECT_EQ(decode_error(from_json(R"({"age": {"$numberLong": "5"}})")), "field 'age': expected int, got long");
  EXPECT_EQ(decode_error(from_json(R"({"score": 1.5})")), "field 'score': expected long, got double");
}

TEST(Schema, DecodeErrorsNameTheFullPath) {
  EXPECT_EQ(decode_error(from_json(R"({"address": {"city": 5}})")),
            "field 'address.city': expected string, got int");
  EXPECT_EQ(decode_error(from_json(R"({"tags": ["a", "b", 3]})")), "field 'tags.2': expected string, got int");
  EXPECT_EQ(decode_error(from_json(R"({"previous_addresses": [{"city": "x"}, {"zip": false}]})")),
            "field 'previous_addresses.1.zip': expected string, got bool");
  EXPECT_EQ(decode_error(from_json(R"({"counters": {"logins": "many"}})")),
            "field 'counters.logins': expected int, got string");
  EXPECT_EQ(decode_error(from_json(R"({"address": {"geo": [1.0]}})")),
            "field 'address.geo': a point needs exactly 2 coordinates, got 1");
}

TEST(Schema, UnknownEnumValueNamesTheKnownOnes) {
  EXPECT_EQ(decode_error(from_json(R"({"status": "deleted"})")),
            "field 'status': unknown enum value 'deleted' (known: active, suspended, banned)");
}

TEST(Schema, InvalidUtf8IsRejected) {
  bson::Builder b;
  b.append("name", std::string_view("\xc3\x28", 2));
  EXPECT_EQ(decode_error(b.extract()), "field 'name': string is not valid UTF-8");
}

TEST(Schema, PreservePolicySkipsUnknownFieldsStrictRefusesThem) {
  User u = decode(from_json(R"({"name": "x", "legacy_flag": true})"));
  EXPECT_EQ(u.name, "x");
  StrictItem item;
  try {
    model::schema_of<StrictItem>().decode(from_json(R"({"_id": 1, "label": "a", "legacy": 1})"), item);
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(), "field 'legacy': unknown field (the model is strict)");
    EXPECT_EQ(e.path(), "legacy");
  }
}

TEST(Schema, DefaultsApplyToMissingFieldsAndToMake) {
  Member loaded;
  model::schema_of<Member>().decode(from_json(R"({"_id": "m1", "name": "John Doe"})"), loaded);
  EXPECT_TRUE(loaded.enabled) << "seed 002 example 1: the default shows on load";
  Member stored_false;
  model::schema_of<Member>().decode(from_json(R"({"_id": "m2", "enabled": false})"), stored_false);
  EXPECT_FALSE(stored_false.enabled);
  EXPECT_TRUE(model::make<Member>().enabled);
}

TEST(Validation, ReportsEveryFailureWithItsPath) {
  User u = sample_user();
  u.name = "";
  u.email = "not-an-email";
  u.age = 200;
  u.nickname = "A";
  u.tags = {"1", "2", "3", "4", "5", "6"};
  u.address.city = "";
  u.address.zip = "ABCDE";
  u.previous_addresses = {{"s", "c", "1234", std::nullopt}};
  auto failures = model::validate(u);
  std::vector<std::string> paths;
  for (const auto& f : failures) paths.push_back(f.path + ": " + f.message);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "name: is required",
                       "email: must match /[^@\\s]+@[^@\\s]+/",
                       "age: must be at most 150",
                       "nickname: must have at least 2 characters or items",
                       "address.city: is required",
                       "address.zip: must match /[0-9]{5}/",
                       "tags: must have at most 5 characters or items",
                       "previous_addresses.0.zip: must match /[0-9]{5}/",
                   }));
  EXPECT_TRUE(model::validate(sample_user()).empty());
}

TEST(Validation, LengthCountsCharactersNotBytes) {
  User u = sample_user();
  u.name = std::string(40, 'x');
  EXPECT_TRUE(model::validate(u).empty());
  u.name.clear();
  for (int i = 0; i < 40; ++i) u.name += "é";
  EXPECT_TRUE(model::validate(u).empty()) << "40 characters in 80 bytes";
  u.name += "é";
  EXPECT_FALSE(model::validate(u).empty());
}

TEST(Diff, SendsOnlyChangedPathsIncludingNestedAndArrayElements) {
  User u = sample_user();
  u.credit = bson::Decimal128::from_string("100.25");
  bson::Document stored = encode(u);
  auto diff_of = [&](const User& changed) {
    model::UpdateDiff diff;
    model::schema_of<User>().diff(stored, changed, "", diff);
    return to_relaxed_json(diff.to_update());
  };
  EXPECT_EQ(diff_of(u), "{ }");

  User changed = u;
  changed.name = "Ada King";
  changed.address.zip = "10117";
  changed.tags[1] = "music";
  changed.counters["logins"] = 4;
  changed.counters.erase("posts");
  changed.credit.reset();
  EXPECT_EQ(diff_of(changed),
            R"({ "$set" : { "name" : "Ada King", "address.zip" : "10117", "tags.1" : "music", )"
            R"("counters.logins" : 4 }, "$unset" : { "counters.posts" : "", "credit" : "" } })");

  User grown = u;
  grown.tags.push_back("chess");
  EXPECT_EQ(diff_of(grown), R"({ "$set" : { "tags" : [ "math", "poetry", "chess" ] } })");
}

TEST(Diff, NestedUnknownFieldsAreNotTouched) {
  User u = sample_user();
  bson::Document stored = from_json(R"({"name": "Ada Lovelace", "address": {"city": "London", "zip": "10115",
                                        "street": "12 St James's Square", "geo": [51.5, -0.25], "floor": 3}})");
  model::UpdateDiff diff;
  u.address.city = "Bath";
  User only_address = u;
  model::schema_of<Address>().diff(stored["address"].as_document(), only_address.address, "address", diff);
  EXPECT_EQ(to_relaxed_json(diff.to_update()), R"({ "$set" : { "address.city" : "Bath" } })");
}

TEST(Codec, MapKeysThatCannotBeFieldNamesAreRefused) {
  User u = sample_user();
  u.counters["a.b"] = 1;
  EXPECT_THROW(encode(u), Error);
  u.counters.erase("a.b");
  u.counters["$where"] = 1;
  EXPECT_THROW(encode(u), Error);
}

}  // namespace
}  // namespace app

namespace app {
namespace {

struct Ticket {
  std::string id;
  std::string priority;
  int32_t points = 0;
  std::string reference;
};
inline auto define_schema(model::SchemaTag<Ticket>) {
  using namespace model;
  return schema<Ticket>("tickets")
      .id(&Ticket::id)
      .field(&Ticket::priority, "priority", one_of({"low", "high"}), default_value(std::string("low")))
      .field(&Ticket::points, "points", check([](int32_t p) { return p % 2 == 0; }, "must be even"))
      .field(&Ticket::reference, "reference", default_factory([] { return std::string("T-") + "42"; }));
}

TEST(Rules, ChoicesCustomChecksAndFactories) {
  Ticket t = model::make<Ticket>();
  EXPECT_EQ(t.priority, "low");
  EXPECT_EQ(t.reference, "T-42");
  EXPECT_TRUE(model::validate(t).empty());
  t.priority = "urgent";
  t.points = 3;
  auto failures = model::validate(t);
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].path + ": " + failures[0].message, "priority: is not one of the allowed choices");
  EXPECT_EQ(failures[1].path + ": " + failures[1].message, "points: must be even");

  Ticket loaded;
  model::schema_of<Ticket>().decode(bson::from_json(R"({"_id": "x"})"), loaded);
  EXPECT_EQ(loaded.reference, "T-42") << "factories fill missing fields on load too";
}

}  // namespace
}  // namespace app
