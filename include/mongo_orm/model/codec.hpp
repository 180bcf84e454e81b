// Field codecs: how a C++ type is stored in BSON and read back. Codec<T> is the
// customization point: specialize it for your own types (see docs/models.md).
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/bson/types.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::model {

namespace detail {
template <class T>
struct is_vector : std::false_type {};
template <class U>
struct is_vector<std::vector<U>> : std::true_type {};
template <class U>
struct is_vector<std::optional<U>> : is_vector<U> {};
// Whether a value of T is stored as an array (a vector, or an optional one).
template <class T>
inline constexpr bool encodes_array = is_vector<T>::value;
}  // namespace detail

// Every codec provides:
//   static void encode(bson_t* parent, std::string_view key, const T& value);
//   static void decode(const bson::Element& element, T& out);  // throws DecodeError
// and may provide, to take part in dirty-field saves below its own level:
//   static void diff(const std::optional<bson::Element>& stored, const T& value,
//                    const std::string& path, UpdateDiff& out);
// Decode errors carry a path relative to the value being decoded (empty for the value itself);
// enclosing codecs prefix their own segment.
template <class T, class Enable = void>
struct Codec;

template <class T>
concept Encodable = requires(bson_t* doc, const T& value, const bson::Element& e, T& out) {
  Codec<T>::encode(doc, std::string_view{}, value);
  Codec<T>::decode(e, out);
};

// The $set and $unset of a dirty-field save, by dotted path.
class UpdateDiff {
 public:
  template <Encodable T>
  void set(const std::string& path, const T& value) {
    Codec<T>::encode(set_.native(), path, value);
    ++sets_;
  }
  void set_element(const std::string& path, const bson::Element& element);
  void unset(const std::string& path);

  bool empty() const noexcept { return sets_ == 0 && unsets_ == 0; }
  // The stored paths set, then those unset, as recorded.
  std::vector<std::string> paths() const;
  // {"$set": {...}, "$unset": {...}} with the parts that have entries.
  bson::Document to_update() const;
  // Lets a caller add its own $set entries (timestamps, version counters).
  bson::Builder& set_builder() noexcept {
    ++sets_;
    return set_;
  }

 private:
  bson::Builder set_;
  bson::Builder unset_;
  std::size_t sets_ = 0;
  std::size_t unsets_ = 0;
};

namespace detail {
[[noreturn]] void throw_wrong_type(const bson::Element& element, std::string_view expected);
inline void expect_type(const bson::Element& element, bson::Type type) {
  if (element.type() != type) throw_wrong_type(element, bson::type_name(type));
}
void check_utf8_slow(std::string_view text);
// Most stored strings are ASCII: those are checked eight bytes at a time, inline; the full
// UTF-8 check runs only when a byte has its high bit set.
inline bool is_ascii(std::string_view text) noexcept {
  const char* p = text.data();
  std::size_t n = text.size();
  uint64_t high_bits = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    high_bits |= word;
  }
  for (; n > 0; ++p, --n) high_bits |= static_cast<unsigned char>(*p);
  return (high_bits & 0x8080808080808080ULL) == 0;
}
inline void check_utf8(std::string_view text) {
  if (!is_ascii(text)) check_utf8_slow(text);
}
bool is_utf8_slow(std::string_view text) noexcept;

// What encoding could vouch for in the documents it wrote, so that a typed insert need not
// have them checked again (driver/bulk_write.hpp, detail::Vouched). The built-in codecs record
// here what they could not check; a model's encoder treats a codec of its own kind as
// unchecked. Per thread: a typed insert clears it, encodes, and reads it.
struct EncodeAudit {
  bool unchecked = false;  // a key or value not checked as libmongoc's insert validation would
  bool unusual = false;    // a value some servers cannot store: NaN, Decimal128, an array in an array
};
inline EncodeAudit& encode_audit() noexcept {
  thread_local EncodeAudit audit;
  return audit;
}
[[noreturn]] void throw_not_utf8(std::string_view key);
// Text about to be written under `key`: invalid UTF-8 is refused (InvalidRequestError naming
// the key) before anything is sent, as decoding would refuse it later.
inline void check_text(std::string_view text, std::string_view key) {
  if (!is_ascii(text) && !is_utf8_slow(text)) throw_not_utf8(key);
}
// A key libmongoc's insert validation accepts: not empty, no leading '$', no '.', no NUL,
// valid UTF-8.
bool plain_field_name(std::string_view key) noexcept;
std::string join_path(const std::string& path, std::string_view key);
// Compares a freshly encoded value with the stored one and records a $set when they differ.
void diff_encoded(const std::optional<bson::Element>& stored, const bson::Element& fresh,
                  const std::string& path, UpdateDiff& out);
// Checks a map key can be stored as a field name.
void check_field_name(std::string_view key);
}  // namespace detail

// Whether Codec<T> records in the encode audit everything it did not check (every built-in
// codec but those of raw documents, values and regexes); a codec of a user's own is not.
template <class T>
constexpr bool audited_codec() {
  if constexpr (requires { Codec<T>::audited; }) {
    return Codec<T>::audited;
  } else {
    return false;
  }
}

// Records a $set or $unset for `value` at `path` when it differs from the stored element; a
// codec with a diff of its own goes deeper (nested documents, arrays of the same length).
template <Encodable T>
void diff_value(const std::optional<bson::Element>& stored, const T& value,
                const std::string& path, UpdateDiff& out) {
  if constexpr (requires { Codec<T>::diff(stored, value, path, out); }) {
    Codec<T>::diff(stored, value, path, out);
  } else {
    bson::Builder scratch;
    Codec<T>::encode(scratch.native(), "v", value);
    bson::Document fresh = scratch.extract();
    detail::diff_encoded(stored, fresh["v"], path, out);
  }
}

// Decodes one element, prefixing any error's path with `segment`.
template <Encodable T>
void decode_nested(const bson::Element& element, T& out, std::string_view segment) {
  try {
    Codec<T>::decode(element, out);
  } catch (const DecodeError& e) {
    throw e.nested_in(segment);
  }
}

template <>
struct Codec<bool> {
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, bool v) { bson::detail::append(doc, key, v); }
  static void decode(const bson::Element& e, bool& out) {
    detail::expect_type(e, bson::Type::boolean);
    out = e.as_bool();
  }
};

template <>
struct Codec<int32_t> {
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, int32_t v) { bson::detail::append(doc, key, v); }
  static void decode(const bson::Element& e, int32_t& out) {
    detail::expect_type(e, bson::Type::int32);
    out = e.as_int32();
  }
};

// Accepts int32 (widening); refuses double.
template <>
struct Codec<int64_t> {
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, int64_t v) { bson::detail::append(doc, key, v); }
  static void decode(const bson::Element& e, int64_t& out) {
    if (e.type() == bson::Type::int64) {
      out = e.as_int64();
    } else if (e.type() == bson::Type::int32) {
      out = e.as_int32();
    } else {
      detail::throw_wrong_type(e, "long");
    }
  }
};

// Accepts int32 and int64 (widening).
template <>
struct Codec<double> {
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, double v) {
    if (v != v) detail::encode_audit().unusual = true;  // NaN
    bson::detail::append(doc, key, v);
  }
  static void decode(const bson::Element& e, double& out) {
    switch (e.type()) {
      case bson::Type::double_: out = e.as_double(); break;
      case bson::Type::int32: out = e.as_int32(); break;
      case bson::Type::int64: out = static_cast<double>(e.as_int64()); break;
      default: detail::throw_wrong_type(e, "double");
    }
  }
};

// Invalid UTF-8 is refused both ways.
template <>
struct Codec<std::string> {
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, const std::string& v) {
    detail::check_text(v, key);
    bson::detail::append(doc, key, std::string_view(v));
  }
  static void decode(const bson::Element& e, std::string& out) {
    detail::expect_type(e, bson::Type::string);
    std::string_view text = e.as_string();
    detail::check_utf8(text);
    out.assign(text);
  }
};

// A codec for a type the BSON layer reads and writes directly.
template <class T, bson::Type stored, auto read>
struct DirectCodec {
  // A regex's pattern and options are not checked.
  static constexpr bool audited = !std::is_same_v<T, bson::Regex>;
  static void encode(bson_t* doc, std::string_view key, const T& v) {
    if constexpr (std::is_same_v<T, bson::Decimal128>) detail::encode_audit().unusual = true;
    bson::detail::append(doc, key, v);
  }
  static void decode(const bson::Element& e, T& out) {
    detail::expect_type(e, stored);
    out = (e.*read)();
  }
};

template <>
struct Codec<bson::ObjectId> : DirectCodec<bson::ObjectId, bson::Type::object_id, &bson::Element::as_object_id> {};
template <>
struct Codec<bson::DateTime> : DirectCodec<bson::DateTime, bson::Type::date_time, &bson::Element::as_date_time> {};
template <>
struct Codec<bson::Decimal128> : DirectCodec<bson::Decimal128, bson::Type::decimal128, &bson::Element::as_decimal128> {};
template <>
struct Codec<bson::Regex> : DirectCodec<bson::Regex, bson::Type::regex, &bson::Element::as_regex> {};
template <>
struct Codec<bson::Timestamp> : DirectCodec<bson::Timestamp, bson::Type::timestamp, &bson::Element::as_timestamp> {};

// Stored as a BSON datetime: millisecond precision, sub-millisecond parts are dropped.
template <>
struct Codec<std::chrono::system_clock::time_point> {
  using time_point = std::chrono::system_clock::time_point;
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, time_point v) {
    bson::detail::append(doc, key, bson::DateTime::from_time_point(v));
  }
  static void decode(const bson::Element& e, time_point& out) {
    detail::expect_type(e, bson::Type::date_time);
    try {
      out = e.as_date_time().to_time_point();
    } catch (const DecodeError& error) {
      throw DecodeError::at({}, error.reason());
    }
  }
};

template <>
struct Codec<bson::Binary> {
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, const bson::Binary& v) {
    bson::detail::append(doc, key, v.view());
  }
  static void decode(const bson::Element& e, bson::Binary& out) {
    detail::expect_type(e, bson::Type::binary);
    out = bson::Binary(e.as_binary());
  }
};

template <>
struct Codec<bson::Uuid> {
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, const bson::Uuid& v) { bson::detail::append(doc, key, v); }
  static void decode(const bson::Element& e, bson::Uuid& out) {
    detail::expect_type(e, bson::Type::binary);
    out = bson::Uuid::from_binary(e.as_binary());
  }
};

// A raw sub-document: the dynamic part of a model, kept as it is stored.
template <>
struct Codec<bson::Document> {
  static void encode(bson_t* doc, std::string_view key, const bson::Document& v) {
    bson::detail::append(doc, key, v.view());
  }
  static void decode(const bson::Element& e, bson::Document& out) {
    detail::expect_type(e, bson::Type::document);
    out = bson::Document(e.as_document());
  }
};

// Any single value, of any type.
template <>
struct Codec<bson::Value> {
  static void encode(bson_t* doc, std::string_view key, const bson::Value& v) { bson::detail::append(doc, key, v); }
  static void decode(const bson::Element& e, bson::Value& out) { out = e.to_value(); }
};

// Missing and null both read as nullopt; nullopt is stored as a missing field (a save that
// empties an optional sends $unset).
template <Encodable T>
struct Codec<std::optional<T>> {
  static constexpr bool audited = audited_codec<T>();
  static void encode(bson_t* doc, std::string_view key, const std::optional<T>& v) {
    if (v) Codec<T>::encode(doc, key, *v);
  }
  static void decode(const bson::Element& e, std::optional<T>& out) {
    if (e.is_null()) {
      out.reset();
      return;
    }
    T value{};
    Codec<T>::decode(e, value);
    out = std::move(value);
  }
  static void diff(const std::optional<bson::Element>& stored, const std::optional<T>& value,
                   const std::string& path, UpdateDiff& out) {
    if (!value) {
      if (stored) out.unset(path);
      return;
    }
    diff_value(stored, *value, path, out);
  }
};

template <Encodable T>
struct Codec<std::vector<T>> {
  static constexpr bool audited = audited_codec<T>();
  static void encode(bson_t* doc, std::string_view key, const std::vector<T>& v) {
    if constexpr (detail::encodes_array<T>) {
      if (!v.empty()) detail::encode_audit().unusual = true;  // arrays in an array
    }
    bson_t child;
    if (!bson_append_array_begin(doc, key.data(), static_cast<int>(key.size()), &child)) {
      bson::detail::throw_append_failed(key);
    }
    char buffer[16];
    for (std::size_t i = 0; i < v.size(); ++i) {
      const char* index_key = nullptr;
      std::size_t len = bson_uint32_to_string(static_cast<uint32_t>(i), &index_key, buffer, sizeof buffer);
      Codec<T>::encode(&child, std::string_view(index_key, len), v[i]);
    }
    bson_append_array_end(doc, &child);
  }
  static void decode(const bson::Element& e, std::vector<T>& out) {
    detail::expect_type(e, bson::Type::array);
    out.clear();
    for (bson::Element item : e.as_array()) {
      decode_nested(item, out.emplace_back(), item.key());
    }
  }
  // Same length: element by element ("tags.2"); otherwise the whole array.
  static void diff(const std::optional<bson::Element>& stored, const std::vector<T>& value,
                   const std::string& path, UpdateDiff& out) {
    if (stored && stored->type() == bson::Type::array) {
      bson::ArrayView old = stored->as_array();
      if (old.size() == value.size()) {
        std::size_t i = 0;
        for (bson::Element item : old) {
          diff_value(std::optional<bson::Element>(item), value[i], detail::join_path(path, item.key()), out);
          ++i;
        }
        return;
      }
    }
    out.set(path, value);
  }
};

// String-keyed maps are stored as sub-documents; keys must be valid field names.
template <Encodable T>
struct Codec<std::map<std::string, T>> {
  static constexpr bool audited = audited_codec<T>();  // keys: check_field_name, check_text
  static void encode(bson_t* doc, std::string_view key, const std::map<std::string, T>& v) {
    bson_t child;
    if (!bson_append_document_begin(doc, key.data(), static_cast<int>(key.size()), &child)) {
      bson::detail::throw_append_failed(key);
    }
    for (const auto& [k, item] : v) {
      detail::check_field_name(k);
      detail::check_text(k, k);
      Codec<T>::encode(&child, k, item);
    }
    bson_append_document_end(doc, &child);
  }
  static void decode(const bson::Element& e, std::map<std::string, T>& out) {
    detail::expect_type(e, bson::Type::document);
    out.clear();
    for (bson::Element item : e.as_document()) {
      std::string key(item.key());
      detail::check_utf8(key);
      decode_nested(item, out[key], item.key());
    }
  }
  static void diff(const std::optional<bson::Element>& stored, const std::map<std::string, T>& value,
                   const std::string& path, UpdateDiff& out) {
    if (!stored || stored->type() != bson::Type::document) {
      out.set(path, value);
      return;
    }
    bson::DocumentView old = stored->as_document();
    for (const auto& [k, item] : value) {
      detail::check_field_name(k);
      diff_value(old.find(k), item, detail::join_path(path, k), out);
    }
    for (bson::Element item : old) {
      if (!value.contains(std::string(item.key()))) out.unset(detail::join_path(path, item.key()));
    }
  }
};

// Enums are stored as strings through a mapping declared next to the enum:
//   constexpr auto enum_values(mongo_orm::model::EnumTag<Status>) {
//     return std::array{std::pair{Status::active, "active"}, std::pair{Status::banned, "banned"}};
//   }
template <class E>
struct EnumTag {};

template <class E>
concept MappedEnum = std::is_enum_v<E> && requires { enum_values(EnumTag<E>{}); };

namespace detail {
[[noreturn]] void throw_unknown_enum(std::string_view stored, const std::vector<std::string_view>& known);
[[noreturn]] void throw_unmapped_enum(long long value);
}  // namespace detail

template <MappedEnum E>
struct Codec<E> {
  static constexpr bool audited = true;
  static void encode(bson_t* doc, std::string_view key, E v) {
    for (const auto& [value, name] : enum_values(EnumTag<E>{})) {
      if (value == v) {
        detail::check_text(name, key);
        bson::detail::append(doc, key, std::string_view(name));
        return;
      }
    }
    detail::throw_unmapped_enum(static_cast<long long>(v));
  }
  static void decode(const bson::Element& e, E& out) {
    detail::expect_type(e, bson::Type::string);
    std::string_view stored = e.as_string();
    std::vector<std::string_view> known;
    for (const auto& [value, name] : enum_values(EnumTag<E>{})) {
      if (stored == name) {
        out = value;
        return;
      }
      known.emplace_back(name);
    }
    detail::throw_unknown_enum(stored, known);
  }
};

}  // namespace mongo_orm::model
