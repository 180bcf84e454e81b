// Serialize tests for bson/builder.hpp: built documents compared with canonical Extended JSON.
#include "mongo_orm/bson/builder.hpp"

#include <gtest/gtest.h>

#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::bson {
namespace {

TEST(Builder, NestsDocumentsAndArraysWithLambdas) {
  Document doc = Builder{}
                     .append("name", "Ada")
                     .append("address", [](Builder& a) { a.append("zip", "10115").append("no", 7); })
                     .append("tags", [](ArrayBuilder& t) {
                       t.append("x").append([](Builder& d) { d.append("deep", true); });
                     })
                     .extract();
  EXPECT_EQ(to_canonical_json(doc),
            R"({ "name" : "Ada", "address" : { "zip" : "10115", "no" : { "$numberInt" : "7" } }, )"
            R"("tags" : [ "x", { "deep" : true } ] })");
}

TEST(Builder, PicksIntegerWidthFromTheCppType) {
  Document doc = Builder{}
                     .append("i32", 5)
                     .append("i64", int64_t{5})
                     .append("ll", 5LL)
                     .append("u16", uint16_t{7})
                     .append("u32", uint32_t{4000000000u})
                     .append("dbl", 1.5)
                     .append("flag", false)
                     .extract();
  EXPECT_EQ(doc["i32"].type(), Type::int32);
  EXPECT_EQ(doc["i64"].type(), Type::int64);
  EXPECT_EQ(doc["ll"].type(), Type::int64);
  EXPECT_EQ(doc["u16"].type(), Type::int32);
  EXPECT_EQ(doc["u32"].as_int64(), 4000000000LL);
  EXPECT_EQ(doc["dbl"].as_double(), 1.5);
  EXPECT_FALSE(doc["flag"].as_bool());
}

TEST(Builder, RefusesUnsignedValuesBeyondInt64) {
  Builder b;
  EXPECT_THROW(b.append("big", uint64_t{18446744073709551615u}), Error);
}

TEST(Builder, AppendsEveryValueType) {
  ObjectId id = ObjectId::from_hex("5d06b9c3d7c1f18db3e7c874");
  Document doc = Builder{}
                     .append("_id", id)
                     .append("when", DateTime(1700000000123))
                     .append("price", Decimal128::from_string("19.99"))
                     .append("blob", Binary(BinarySubtype::generic, {1, 2, 3}))
                     .append("uuid", Uuid::from_string("123e4567-e89b-12d3-a456-426614174000"))
                     .append("re", Regex{"^jo", "i"})
                     .append("ts", Timestamp{10, 2})
                     .append("nothing", Null{})
                     .append("lo", MinKey{})
                     .append("hi", MaxKey{})
                     .extract();
  EXPECT_EQ(
      to_canonical_json(doc),
      R"({ "_id" : { "$oid" : "5d06b9c3d7c1f18db3e7c874" }, )"
      R"("when" : { "$date" : { "$numberLong" : "1700000000123" } }, )"
      R"("price" : { "$numberDecimal" : "19.99" }, )"
      R"("blob" : { "$binary" : { "base64" : "AQID", "subType" : "00" } }, )"
      R"("uuid" : { "$binary" : { "base64" : "Ej5FZ+ibEtOkVkJmFBdAAA==", "subType" : "04" } }, )"
      R"("re" : { "$regularExpression" : { "pattern" : "^jo", "options" : "i" } }, )"
      R"("ts" : { "$timestamp" : { "t" : 10, "i" : 2 } }, "nothing" : null, )"
      R"("lo" : { "$minKey" : 1 }, "hi" : { "$maxKey" : 1 } })");
}

TEST(Builder, StringsStayValuesEvenWhenTheyLookLikeOperators) {
  std::string from_user = R"({"$ne": ""})";
  Document doc = Builder{}.append("name", from_user).extract();
  EXPECT_EQ(doc["name"].type(), Type::string);
  EXPECT_EQ(to_canonical_json(doc), R"({ "name" : "{\"$ne\": \"\"}" })");
}

TEST(Builder, CopiesDocumentsElementsAndValues) {
  Document inner = from_json(R"({"a": 1, "b": [1, 2]})");
  Document doc = Builder{}
                     .append("sub", inner)
                     .append("arr", inner["b"].as_array())
                     .append("elem", inner["a"])
                     .append("val", inner["a"].to_value())
                     .concat(from_json(R"({"tail": "x"})"))
                     .extract();
  EXPECT_EQ(to_relaxed_json(doc),
            R"({ "sub" : { "a" : 1, "b" : [ 1, 2 ] }, "arr" : [ 1, 2 ], "elem" : 1, "val" : 1, "tail" : "x" })");
}

TEST(Builder, MakeArrayBuildsArrayDocuments) {
  Document array = make_array(1, "two", 3.5);
  EXPECT_EQ(to_relaxed_json(ArrayView(array.view())), R"([ 1, "two", 3.5 ])");
}

TEST(Builder, ExtractLeavesAnEmptyBuilder) {
  Builder b;
  b.append("a", 1);
  Document first = b.extract();
  EXPECT_TRUE(b.view().empty());
  b.append("b", 2);
  EXPECT_EQ(to_relaxed_json(b.extract()), R"({ "b" : 2 })");
  EXPECT_EQ(to_relaxed_json(first), R"({ "a" : 1 })");
}

TEST(Builder, RejectsKeysWithNulBytes) {
  Builder b;
  EXPECT_THROW(b.append(std::string_view("a\0b", 3), 1), Error);
}

}  // namespace
}  // namespace mongo_orm::bson
