// Tests for bson/json.hpp: Extended JSON in both forms, and bad input.
#include "mongo_orm/bson/json.hpp"

#include <gtest/gtest.h>

#include "mongo_orm/error.hpp"

namespace mongo_orm::bson {
namespace {

TEST(Json, CanonicalKeepsNumericTypes) {
  Document doc = from_json(R"({"a": 1, "b": 2147483648, "c": 1.5})");
  EXPECT_EQ(doc["a"].type(), Type::int32);
  EXPECT_EQ(doc["b"].type(), Type::int64);
  EXPECT_EQ(to_canonical_json(doc),
            R"({ "a" : { "$numberInt" : "1" }, "b" : { "$numberLong" : "2147483648" }, )"
            R"("c" : { "$numberDouble" : "1.5" } })");
  EXPECT_EQ(to_relaxed_json(doc), R"({ "a" : 1, "b" : 2147483648, "c" : 1.5 })");
}

TEST(Json, ReadsCanonicalTypeWrappers) {
  Document doc = from_json(R"({"id": {"$oid": "5d06b9c3d7c1f18db3e7c874"},
                               "when": {"$date": {"$numberLong": "1700000000000"}},
                               "d": {"$numberDecimal": "1.10"}})");
  EXPECT_EQ(doc["id"].as_object_id().to_hex(), "5d06b9c3d7c1f18db3e7c874");
  EXPECT_EQ(doc["when"].as_date_time().millis(), 1700000000000);
  EXPECT_EQ(doc["d"].as_decimal128().to_string(), "1.10");
}

TEST(Json, RoundTripsThroughCanonicalForm) {
  Document doc = from_json(R"({"s": "héllo wörld ✓ 名前 😀", "n": null, "arr": [1, {"x": true}]})");
  EXPECT_EQ(from_json(to_canonical_json(doc)), doc);
}

TEST(Json, InvalidTextRaisesDecodeError) {
  EXPECT_THROW(from_json(R"({"a": )"), DecodeError);
  EXPECT_THROW(from_json("not json"), DecodeError);
  try {
    from_json(R"({"id": {"$oid": "xyz"}})");
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid Extended JSON"), std::string::npos);
  }
}

}  // namespace
}  // namespace mongo_orm::bson
