// Builders that write BSON in place. Sub-documents and arrays nest with lambdas so the code
// reads like the document it builds:
//
//   auto doc = Builder{}
//       .append("name", "Ada")
//       .append("address", [](Builder& a) { a.append("zip", "10115"); })
//       .append("tags", [](ArrayBuilder& t) { t.append("x").append("y"); })
//       .extract();
#pragma once

#include <bson/bson.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/bson/types.hpp"

namespace mongo_orm::bson {

class Builder;
class ArrayBuilder;

namespace detail {
// Appends one value under a key to a libbson document; throws Error naming the key when
// libbson refuses (document over its maximum size, key with a NUL byte).
void append(bson_t* doc, std::string_view key, bool value);
void append(bson_t* doc, std::string_view key, int32_t value);
void append(bson_t* doc, std::string_view key, int64_t value);
void append(bson_t* doc, std::string_view key, double value);
void append(bson_t* doc, std::string_view key, std::string_view value);
void append(bson_t* doc, std::string_view key, const ObjectId& value);
void append(bson_t* doc, std::string_view key, DateTime value);
void append(bson_t* doc, std::string_view key, const Decimal128& value);
void append(bson_t* doc, std::string_view key, BinaryView value);
void append(bson_t* doc, std::string_view key, const Uuid& value);
void append(bson_t* doc, std::string_view key, const Regex& value);
void append(bson_t* doc, std::string_view key, Timestamp value);
void append(bson_t* doc, std::string_view key, Null);
void append(bson_t* doc, std::string_view key, MinKey);
void append(bson_t* doc, std::string_view key, MaxKey);
void append(bson_t* doc, std::string_view key, DocumentView value);
void append(bson_t* doc, std::string_view key, ArrayView value);
void append(bson_t* doc, std::string_view key, const Element& value);
void append(bson_t* doc, std::string_view key, const Value& value);
[[noreturn]] void throw_append_failed(std::string_view key);
int64_t checked_int64(unsigned long long value, std::string_view key);

// Appends any supported C++ value: picks int32 for integers up to 32 bits and int64 above.
template <class T>
void append_value(bson_t* doc, std::string_view key, const T& value) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::same_as<U, bool>) {
    append(doc, key, value);
  } else if constexpr (std::integral<U> && std::is_signed_v<U>) {
    if constexpr (sizeof(U) <= 4) {
      append(doc, key, static_cast<int32_t>(value));
    } else {
      append(doc, key, static_cast<int64_t>(value));
    }
  } else if constexpr (std::integral<U>) {  // unsigned
    if constexpr (sizeof(U) < 4) {
      append(doc, key, static_cast<int32_t>(value));
    } else {
      append(doc, key, checked_int64(value, key));
    }
  } else if constexpr (std::floating_point<U>) {
    append(doc, key, static_cast<double>(value));
  } else if constexpr (std::convertible_to<const U&, std::string_view> &&
                       !std::same_as<U, Document>) {
    append(doc, key, std::string_view(value));
  } else if constexpr (std::same_as<U, std::chrono::system_clock::time_point>) {
    append(doc, key, DateTime::from_time_point(value));
  } else if constexpr (std::same_as<U, Binary>) {
    append(doc, key, value.view());
  } else if constexpr (std::same_as<U, Document>) {
    append(doc, key, value.view());
  } else {
    append(doc, key, value);
  }
}
}  // namespace detail

// Builds a document. Owns its bytes until extract(); a nested builder writes into its parent.
class Builder {
 public:
  Builder();
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;
  Builder(Builder&& other) noexcept;
  Builder& operator=(Builder&&) = delete;
  ~Builder();

  template <class T>
  Builder& append(std::string_view key, const T& value) {
    if constexpr (std::is_invocable_v<const T&, Builder&>) {
      bson_t child;
      if (!bson_append_document_begin(doc_, key.data(), static_cast<int>(key.size()), &child)) {
        detail::throw_append_failed(key);
      }
      Builder nested(&child);
      value(nested);
      bson_append_document_end(doc_, &child);
    } else if constexpr (std::is_invocable_v<const T&, ArrayBuilder&>) {
      append_array_with(key, value);
    } else {
      detail::append_value(doc_, key, value);
    }
    return *this;
  }
  // String literals go in as strings, not as arrays of char.
  Builder& append(std::string_view key, const char* value) {
    detail::append(doc_, key, std::string_view(value));
    return *this;
  }

  // Copies every element of another document into this one.
  Builder& concat(DocumentView other);

  DocumentView view() const noexcept { return DocumentView(doc_); }
  // Hands over the finished document; the builder is empty afterwards.
  Document extract();
  bson_t* native() noexcept { return doc_; }

 private:
  friend class ArrayBuilder;
  explicit Builder(bson_t* child) noexcept : doc_(child), owned_(false) {}
  template <class F>
  void append_array_with(std::string_view key, const F& fill);

  bson_t* doc_;
  bool owned_;
};

// Builds an array in place; keys "0", "1", ... are written for you.
class ArrayBuilder {
 public:
  // Writes into a libbson array the caller owns.
  explicit ArrayBuilder(bson_t* array) noexcept : array_(array) {}

  template <class T>
  ArrayBuilder& append(const T& value) {
    char buffer[16];
    const char* key = nullptr;
    std::size_t len = bson_uint32_to_string(next_index_++, &key, buffer, sizeof buffer);
    Builder element_parent(array_);
    element_parent.append(std::string_view(key, len), value);
    return *this;
  }
  ArrayBuilder& append(const char* value) { return append(std::string_view(value)); }

  uint32_t size() const noexcept { return next_index_; }

 private:
  bson_t* array_;
  uint32_t next_index_ = 0;
};

template <class F>
void Builder::append_array_with(std::string_view key, const F& fill) {
  bson_t child;
  if (!bson_append_array_begin(doc_, key.data(), static_cast<int>(key.size()), &child)) {
    detail::throw_append_failed(key);
  }
  ArrayBuilder nested(&child);
  fill(nested);
  bson_append_array_end(doc_, &child);
}

// An array document from values: make_array(1, "two", 3.0).
template <class... T>
Document make_array(const T&... values) {
  Document array = Document::adopt(bson_new());
  ArrayBuilder builder(const_cast<bson_t*>(array.bson()));
  (builder.append(values), ...);
  return array;
}

// One value of any supported C++ type, as a BSON value: make_value("active"), make_value(0).
template <class T>
Value make_value(const T& value) {
  Builder holder;
  holder.append("v", value);
  Document document = holder.extract();
  return Value(document["v"]);
}

}  // namespace mongo_orm::bson
