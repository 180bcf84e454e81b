// Appending values to libbson documents, with every refusal turned into an Error.
#include "mongo_orm/bson/builder.hpp"

#include "mongo_orm/error.hpp"

namespace mongo_orm::bson {

namespace detail {
namespace {
int key_length(std::string_view key) { return static_cast<int>(key.size()); }

void check(bool appended, std::string_view key) {
  if (!appended) throw_append_failed(key);
}
}  // namespace

void throw_append_failed(std::string_view key) {
  throw Error("cannot append field '" + std::string(key) +
              "': the document would exceed the maximum BSON size or the key contains a NUL byte");
}

int64_t checked_int64(unsigned long long value, std::string_view key) {
  if (value > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
    throw Error("field '" + std::string(key) + "': unsigned value " + std::to_string(value) +
                " does not fit in a BSON int64");
  }
  return static_cast<int64_t>(value);
}

void append(bson_t* doc, std::string_view key, bool value) {
  check(bson_append_bool(doc, key.data(), key_length(key), value), key);
}
void append(bson_t* doc, std::string_view key, int32_t value) {
  check(bson_append_int32(doc, key.data(), key_length(key), value), key);
}
void append(bson_t* doc, std::string_view key, int64_t value) {
  check(bson_append_int64(doc, key.data(), key_length(key), value), key);
}
void append(bson_t* doc, std::string_view key, double value) {
  check(bson_append_double(doc, key.data(), key_length(key), value), key);
}
void append(bson_t* doc, std::string_view key, std::string_view value) {
  check(bson_append_utf8(doc, key.data(), key_length(key), value.data(),
                         static_cast<int>(value.size())),
        key);
}
void append(bson_t* doc, std::string_view key, const ObjectId& value) {
  check(bson_append_oid(doc, key.data(), key_length(key), &value.native()), key);
}
void append(bson_t* doc, std::string_view key, DateTime value) {
  check(bson_append_date_time(doc, key.data(), key_length(key), value.millis()), key);
}
void append(bson_t* doc, std::string_view key, const Decimal128& value) {
  check(bson_append_decimal128(doc, key.data(), key_length(key), &value.native()), key);
}
void append(bson_t* doc, std::string_view key, BinaryView value) {
  check(bson_append_binary(doc, key.data(), key_length(key),
                           static_cast<bson_subtype_t>(value.subtype), value.bytes.data(),
                           static_cast<uint32_t>(value.bytes.size())),
        key);
}
void append(bson_t* doc, std::string_view key, const Uuid& value) {
  append(doc, key, value.binary());
}
void append(bson_t* doc, std::string_view key, const Regex& value) {
  check(bson_append_regex_w_len(doc, key.data(), key_length(key), value.pattern.data(),
                                static_cast<int>(value.pattern.size()), value.options.c_str()),
        key);
}
void append(bson_t* doc, std::string_view key, Timestamp value) {
  check(bson_append_timestamp(doc, key.data(), key_length(key), value.seconds, value.increment),
        key);
}
void append(bson_t* doc, std::string_view key, Null) {
  check(bson_append_null(doc, key.data(), key_length(key)), key);
}
void append(bson_t* doc, std::string_view key, MinKey) {
  check(bson_append_minkey(doc, key.data(), key_length(key)), key);
}
void append(bson_t* doc, std::string_view key, MaxKey) {
  check(bson_append_maxkey(doc, key.data(), key_length(key)), key);
}
void append(bson_t* doc, std::string_view key, DocumentView value) {
  bson_t sub = value.as_bson();
  check(bson_append_document(doc, key.data(), key_length(key), &sub), key);
}
void append(bson_t* doc, std::string_view key, ArrayView value) {
  bson_t sub = value.as_bson();
  check(bson_append_array(doc, key.data(), key_length(key), &sub), key);
}
void append(bson_t* doc, std::string_view key, const Element& value) {
  check(bson_append_iter(doc, key.data(), key_length(key), &value.native()), key);
}
void append(bson_t* doc, std::string_view key, const Value& value) {
  append(doc, key, value.get());
}
}  // namespace detail

// Most documents an application builds fit in 512 bytes; starting there saves the
// reallocations of growing from libbson's 120-byte inline buffer.
constexpr std::size_t initial_capacity = 512;

Builder::Builder() : doc_(bson_sized_new(initial_capacity)), owned_(true) {}

Builder::Builder(Builder&& other) noexcept : doc_(other.doc_), owned_(other.owned_) {
  other.doc_ = nullptr;
  other.owned_ = false;
}

Builder::~Builder() {
  if (owned_ && doc_) bson_destroy(doc_);
}

Builder& Builder::concat(DocumentView other) {
  bson_t src = other.as_bson();
  if (!bson_concat(doc_, &src)) {
    throw Error("cannot concatenate documents: the result would exceed the maximum BSON size");
  }
  return *this;
}

Document Builder::extract() {
  if (!owned_) throw Error("a nested builder cannot be extracted; extract its root builder");
  Document result = Document::adopt(doc_);
  doc_ = bson_sized_new(initial_capacity);
  return result;
}

}  // namespace mongo_orm::bson
