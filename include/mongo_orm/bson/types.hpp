// BSON value types that have no natural C++ counterpart: ObjectId, DateTime, Decimal128,
// Binary/UUID, Regex, Timestamp and the marker types.
#pragma once

#include <bson/bson.h>

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mongo_orm::bson {

// The BSON element types, with the numbers of the BSON specification.
enum class Type : uint8_t {
  double_ = 0x01,
  string = 0x02,
  document = 0x03,
  array = 0x04,
  binary = 0x05,
  undefined = 0x06,
  object_id = 0x07,
  boolean = 0x08,
  date_time = 0x09,
  null = 0x0A,
  regex = 0x0B,
  db_pointer = 0x0C,
  code = 0x0D,
  symbol = 0x0E,
  code_with_scope = 0x0F,
  int32 = 0x10,
  timestamp = 0x11,
  int64 = 0x12,
  decimal128 = 0x13,
  max_key = 0x7F,
  min_key = 0xFF,
};

// The name MongoDB's $type operator uses ("double", "string", "objectId", ...).
std::string_view type_name(Type type) noexcept;

class ObjectId {
 public:
  ObjectId() noexcept = default;  // all zero bytes
  explicit ObjectId(const bson_oid_t& oid) noexcept : oid_(oid) {}
  explicit ObjectId(std::span<const uint8_t, 12> bytes) noexcept;

  // A new, process-unique id (thread-safe).
  static ObjectId generate() noexcept;
  // Parses 24 hexadecimal digits; throws DecodeError otherwise.
  static ObjectId from_hex(std::string_view hex);

  std::string to_hex() const;
  std::span<const uint8_t, 12> bytes() const noexcept {
    return std::span<const uint8_t, 12>(oid_.bytes, 12);
  }
  std::chrono::system_clock::time_point timestamp() const noexcept;
  const bson_oid_t& native() const noexcept { return oid_; }

  friend bool operator==(const ObjectId& a, const ObjectId& b) noexcept;
  friend std::strong_ordering operator<=>(const ObjectId& a, const ObjectId& b) noexcept;

 private:
  bson_oid_t oid_{};
};

// A UTC instant with millisecond precision, as BSON stores it.
class DateTime {
 public:
  constexpr DateTime() noexcept = default;
  constexpr explicit DateTime(int64_t millis_since_epoch) noexcept : millis_(millis_since_epoch) {}
  // Sub-millisecond precision is dropped, rounding toward the past.
  static DateTime from_time_point(std::chrono::system_clock::time_point tp) noexcept;
  static DateTime now() noexcept { return from_time_point(std::chrono::system_clock::now()); }

  constexpr int64_t millis() const noexcept { return millis_; }
  // UTC, to the second: "2026-11-24T08:11:37Z".
  std::string to_iso8601() const;
  // DecodeError when the instant is outside system_clock's range (about ±292 years).
  std::chrono::system_clock::time_point to_time_point() const;

  friend constexpr auto operator<=>(const DateTime&, const DateTime&) noexcept = default;

 private:
  int64_t millis_ = 0;
};

class Decimal128 {
 public:
  Decimal128() noexcept;  // zero
  explicit Decimal128(const bson_decimal128_t& value) noexcept : value_(value) {}
  // Parses a decimal string ("1.50", "-1E+3", "NaN", "Infinity"); throws DecodeError otherwise.
  static Decimal128 from_string(std::string_view text);

  std::string to_string() const;
  const bson_decimal128_t& native() const noexcept { return value_; }

  // Compares the stored representation: 1.0 and 1.00 are different values here.
  friend bool operator==(const Decimal128& a, const Decimal128& b) noexcept {
    return a.value_.high == b.value_.high && a.value_.low == b.value_.low;
  }

 private:
  bson_decimal128_t value_;
};

enum class BinarySubtype : uint8_t {
  generic = 0x00,
  function = 0x01,
  binary_deprecated = 0x02,
  uuid_deprecated = 0x03,
  uuid = 0x04,
  md5 = 0x05,
  encrypted = 0x06,
  column = 0x07,
  user = 0x80,
};

// Non-owning binary data, as read from a document.
struct BinaryView {
  BinarySubtype subtype = BinarySubtype::generic;
  std::span<const uint8_t> bytes;
};

class Uuid;

struct Binary {
  BinarySubtype subtype = BinarySubtype::generic;
  std::vector<uint8_t> bytes;

  Binary() = default;
  Binary(BinarySubtype sub, std::vector<uint8_t> data) : subtype(sub), bytes(std::move(data)) {}
  explicit Binary(BinaryView view)
      : subtype(view.subtype), bytes(view.bytes.begin(), view.bytes.end()) {}
  BinaryView view() const noexcept { return {subtype, bytes}; }

  friend bool operator==(const Binary&, const Binary&) = default;
};

// An RFC 4122 UUID, stored as binary subtype 4.
class Uuid {
 public:
  Uuid() noexcept = default;  // the nil UUID
  explicit Uuid(std::array<uint8_t, 16> bytes) noexcept : bytes_(bytes) {}
  // A random (version 4) UUID.
  static Uuid generate();
  // Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; throws DecodeError otherwise.
  static Uuid from_string(std::string_view text);
  // Reads binary subtype 4 of 16 bytes; throws DecodeError otherwise.
  static Uuid from_binary(BinaryView binary);

  std::string to_string() const;
  const std::array<uint8_t, 16>& bytes() const noexcept { return bytes_; }
  BinaryView binary() const noexcept { return {BinarySubtype::uuid, bytes_}; }

  friend auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

struct Regex {
  std::string pattern;
  std::string options;  // sorted flags such as "i", "ms"

  friend bool operator==(const Regex&, const Regex&) = default;
};

// The internal replication timestamp type (seconds, ordinal), not a date.
struct Timestamp {
  uint32_t seconds = 0;
  uint32_t increment = 0;

  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

struct Null {
  friend bool operator==(Null, Null) noexcept { return true; }
};
struct MinKey {
  friend bool operator==(MinKey, MinKey) noexcept { return true; }
};
struct MaxKey {
  friend bool operator==(MaxKey, MaxKey) noexcept { return true; }
};

}  // namespace mongo_orm::bson
