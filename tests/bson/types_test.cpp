// Tests for bson/types.hpp.
#include "mongo_orm/bson/types.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "mongo_orm/error.hpp"

namespace mongo_orm::bson {
namespace {

TEST(ObjectId, HexRoundTripAndOrdering) {
  ObjectId a = ObjectId::from_hex("5d06b9c3d7c1f18db3e7c874");
  EXPECT_EQ(a.to_hex(), "5d06b9c3d7c1f18db3e7c874");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(a.timestamp()), 0x5d06b9c3);
  ObjectId b = ObjectId::from_hex("5d06b9c3d7c1f18db3e7c875");
  EXPECT_LT(a, b);
  EXPECT_NE(a, b);
}

TEST(ObjectId, GeneratedIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(ObjectId::generate().to_hex());
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(ObjectId, RejectsInvalidHex) {
  EXPECT_THROW(ObjectId::from_hex("5d06"), DecodeError);
  EXPECT_THROW(ObjectId::from_hex("zz06b9c3d7c1f18db3e7c874"), DecodeError);
  EXPECT_THROW(ObjectId::from_hex("5d06b9c3d7c1f18db3e7c8745"), DecodeError);
}

TEST(DateTime, KeepsMillisecondsAndRoundsTowardThePast) {
  using namespace std::chrono;
  system_clock::time_point tp{microseconds(1'700'000'000'123'999)};
  EXPECT_EQ(DateTime::from_time_point(tp).millis(), 1'700'000'000'123);
  system_clock::time_point before_epoch{microseconds(-1'500)};
  EXPECT_EQ(DateTime::from_time_point(before_epoch).millis(), -2);
  EXPECT_EQ(DateTime(42).to_time_point().time_since_epoch(), milliseconds(42));
}

TEST(DateTime, FormatsAsIso8601InUtc) {
  EXPECT_EQ(DateTime(1700000000123).to_iso8601(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(DateTime(0).to_iso8601(), "1970-01-01T00:00:00Z");
  EXPECT_EQ(DateTime(-1).to_iso8601(), "1969-12-31T23:59:59Z");
}

TEST(DateTime, InstantsOutsideTheClockRangeAreRefused) {
  EXPECT_THROW(DateTime(std::numeric_limits<int64_t>::max()).to_time_point(), DecodeError);
  EXPECT_THROW(DateTime(-576462452303423611).to_time_point(), DecodeError);
  EXPECT_NO_THROW(DateTime(7258118400000).to_time_point()) << "year 2200";
}

TEST(Decimal128, ParsesAndPrints) {
  EXPECT_EQ(Decimal128::from_string("19.990").to_string(), "19.990");
  EXPECT_EQ(Decimal128::from_string("-1E+3").to_string(), "-1E+3");
  EXPECT_EQ(Decimal128().to_string(), "0");
  EXPECT_THROW(Decimal128::from_string("twelve"), DecodeError);
}

TEST(Uuid, StringAndBinaryRoundTrip) {
  Uuid u = Uuid::from_string("123E4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(u.to_string(), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(Uuid::from_binary(u.binary()), u);
  Uuid r = Uuid::generate();
  EXPECT_EQ(r.bytes()[6] >> 4, 4);
  EXPECT_EQ(r.bytes()[8] & 0xC0, 0x80);
  EXPECT_NE(Uuid::generate(), r);
}

TEST(Uuid, RejectsMalformedInput) {
  EXPECT_THROW(Uuid::from_string("123e4567e89b12d3a456426614174000"), DecodeError);
  EXPECT_THROW(Uuid::from_string("123e4567-e89b-12d3-a456-42661417400g"), DecodeError);
  std::vector<uint8_t> eight(8, 0);
  EXPECT_THROW(Uuid::from_binary({BinarySubtype::uuid, eight}), DecodeError);
  std::vector<uint8_t> sixteen(16, 0);
  EXPECT_THROW(Uuid::from_binary({BinarySubtype::generic, sixteen}), DecodeError);
}

TEST(TypeName, MatchesTheTypeOperatorNames) {
  EXPECT_EQ(type_name(Type::int32), "int");
  EXPECT_EQ(type_name(Type::int64), "long");
  EXPECT_EQ(type_name(Type::document), "object");
  EXPECT_EQ(type_name(Type::object_id), "objectId");
}

}  // namespace
}  // namespace mongo_orm::bson
