// ObjectId, DateTime, Decimal128 and Uuid conversions.
#include "mongo_orm/bson/types.hpp"

#include <cstring>
#include <ctime>
#include <random>

#include "mongo_orm/error.hpp"

namespace mongo_orm::bson {

std::string_view type_name(Type type) noexcept {
  switch (type) {
    case Type::double_: return "double";
    case Type::string: return "string";
    case Type::document: return "object";
    case Type::array: return "array";
    case Type::binary: return "binData";
    case Type::undefined: return "undefined";
    case Type::object_id: return "objectId";
    case Type::boolean: return "bool";
    case Type::date_time: return "date";
    case Type::null: return "null";
    case Type::regex: return "regex";
    case Type::db_pointer: return "dbPointer";
    case Type::code: return "javascript";
    case Type::symbol: return "symbol";
    case Type::code_with_scope: return "javascriptWithScope";
    case Type::int32: return "int";
    case Type::timestamp: return "timestamp";
    case Type::int64: return "long";
    case Type::decimal128: return "decimal";
    case Type::max_key: return "maxKey";
    case Type::min_key: return "minKey";
  }
  return "unknown";
}

ObjectId::ObjectId(std::span<const uint8_t, 12> bytes) noexcept {
  std::memcpy(oid_.bytes, bytes.data(), 12);
}

ObjectId ObjectId::generate() noexcept {
  ObjectId id;
  bson_oid_init(&id.oid_, nullptr);
  return id;
}

ObjectId ObjectId::from_hex(std::string_view hex) {
  std::string text(hex);
  if (!bson_oid_is_valid(text.data(), text.size()) || text.size() != 24) {
    throw DecodeError("invalid ObjectId '" + text + "': expected 24 hexadecimal digits");
  }
  ObjectId id;
  bson_oid_init_from_string(&id.oid_, text.c_str());
  return id;
}

std::string ObjectId::to_hex() const {
  char buffer[25];
  bson_oid_to_string(&oid_, buffer);
  return {buffer, 24};
}

std::chrono::system_clock::time_point ObjectId::timestamp() const noexcept {
  return std::chrono::system_clock::time_point(std::chrono::seconds(bson_oid_get_time_t(&oid_)));
}

bool operator==(const ObjectId& a, const ObjectId& b) noexcept {
  return std::memcmp(a.oid_.bytes, b.oid_.bytes, 12) == 0;
}

std::strong_ordering operator<=>(const ObjectId& a, const ObjectId& b) noexcept {
  return std::memcmp(a.oid_.bytes, b.oid_.bytes, 12) <=> 0;
}

DateTime DateTime::from_time_point(std::chrono::system_clock::time_point tp) noexcept {
  return DateTime(
      std::chrono::floor<std::chrono::milliseconds>(tp.time_since_epoch()).count());
}

std::chrono::system_clock::time_point DateTime::to_time_point() const {
  using std::chrono::milliseconds;
  using std::chrono::system_clock;
  constexpr int64_t limit =
      std::chrono::duration_cast<milliseconds>(system_clock::duration::max()).count();
  if (millis_ > limit || millis_ < -limit) {
    throw DecodeError("datetime " + std::to_string(millis_) +
                      " ms since 1970 is outside what std::chrono::system_clock can hold "
                      "(about 292 years either side of 1970)");
  }
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(milliseconds(millis_)));
}

std::string DateTime::to_iso8601() const {
  std::time_t seconds = static_cast<std::time_t>(millis_ / 1000 - (millis_ % 1000 < 0 ? 1 : 0));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

Decimal128::Decimal128() noexcept { bson_decimal128_from_string("0", &value_); }

Decimal128 Decimal128::from_string(std::string_view text) {
  Decimal128 result;
  if (!bson_decimal128_from_string_w_len(text.data(), static_cast<int>(text.size()),
                                         &result.value_)) {
    throw DecodeError("invalid Decimal128 '" + std::string(text) + "'");
  }
  return result;
}

std::string Decimal128::to_string() const {
  char buffer[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&value_, buffer);
  return buffer;
}

Uuid Uuid::generate() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::array<uint8_t, 16> bytes;
  for (std::size_t i = 0; i < 16; i += 8) {
    uint64_t r = engine();
    std::memcpy(bytes.data() + i, &r, 8);
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return Uuid(bytes);
}

Uuid Uuid::from_string(std::string_view text) {
  auto fail = [&]() -> Uuid {
    throw DecodeError("invalid UUID '" + std::string(text) +
                      "': expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
  };
  if (text.size() != 36) return fail();
  std::array<uint8_t, 16> bytes{};
  std::size_t out = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return fail();
      ++i;
      continue;
    }
    auto nibble = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(text[i]);
    int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return fail();
    bytes[out++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return Uuid(bytes);
}

Uuid Uuid::from_binary(BinaryView binary) {
  if (binary.subtype != BinarySubtype::uuid || binary.bytes.size() != 16) {
    throw DecodeError("binary value is not a UUID: expected subtype 4 with 16 bytes, got subtype " +
                      std::to_string(static_cast<int>(binary.subtype)) + " with " +
                      std::to_string(binary.bytes.size()) + " bytes");
  }
  std::array<uint8_t, 16> bytes;
  std::memcpy(bytes.data(), binary.bytes.data(), 16);
  return Uuid(bytes);
}

std::string Uuid::to_string() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(digits[bytes_[i] >> 4]);
    out.push_back(digits[bytes_[i] & 0x0F]);
  }
  return out;
}

}  // namespace mongo_orm::bson
