// Owning BSON documents and non-owning views of the same bytes. Iterating a view allocates
// nothing; accessors throw DecodeError when a value is not of the type asked for.
#pragma once

#include <bson/bson.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "mongo_orm/bson/types.hpp"

namespace mongo_orm::bson {

class DocumentView;
class ArrayView;
class Value;

namespace detail {
[[noreturn]] void throw_type_mismatch(std::string_view key, Type expected, Type actual);
[[noreturn]] void throw_missing_field(std::string_view key);
[[noreturn]] void throw_corrupt(std::size_t offset);
}  // namespace detail

// One element of a document or array: a key, a type and a value that still lives in the
// bytes of the document it came from.
class Element {
 public:
  explicit Element(const bson_iter_t& iter) noexcept : iter_(iter) {}

  // Accessors check the type once and then read through libbson's inline readers.
  std::string_view key() const noexcept { return bson_iter_key_unsafe(&iter_); }
  Type type() const noexcept { return static_cast<Type>(bson_iter_type_unsafe(&iter_)); }
  bool is_null() const noexcept { return type() == Type::null; }

  double as_double() const {
    expect(Type::double_);
    return bson_iter_double_unsafe(&iter_);
  }
  int32_t as_int32() const {
    expect(Type::int32);
    return bson_iter_int32_unsafe(&iter_);
  }
  int64_t as_int64() const {
    expect(Type::int64);
    return bson_iter_int64_unsafe(&iter_);
  }
  // An int32, int64 or double as a double; nothing for any other type.
  std::optional<double> number() const noexcept {
    switch (type()) {
      case Type::int32: return bson_iter_int32_unsafe(&iter_);
      case Type::int64: return static_cast<double>(bson_iter_int64_unsafe(&iter_));
      case Type::double_: return bson_iter_double_unsafe(&iter_);
      default: return std::nullopt;
    }
  }
  bool as_bool() const {
    expect(Type::boolean);
    return bson_iter_bool_unsafe(&iter_);
  }
  std::string_view as_string() const {
    expect(Type::string);
    std::size_t length = 0;
    const char* text = bson_iter_utf8_unsafe(&iter_, &length);
    return {text, length};
  }
  DocumentView as_document() const;
  ArrayView as_array() const;
  ObjectId as_object_id() const {
    expect(Type::object_id);
    return ObjectId(*bson_iter_oid_unsafe(&iter_));
  }
  DateTime as_date_time() const {
    expect(Type::date_time);
    return DateTime(bson_iter_date_time(&iter_));
  }
  Decimal128 as_decimal128() const;
  BinaryView as_binary() const;
  Regex as_regex() const;
  Timestamp as_timestamp() const;

  // An owning copy of this value.
  Value to_value() const;
  // The encoded bytes of the value alone (no type byte, no key): equal bytes and equal type
  // mean equal values.
  std::span<const uint8_t> value_bytes() const noexcept {
    return {iter_.raw + iter_.d1, static_cast<std::size_t>(iter_.next_off - iter_.d1)};
  }
  // The libbson iterator positioned on this element, for interop with C code.
  const bson_iter_t& native() const noexcept { return iter_; }

 private:
  void expect(Type expected) const {
    if (type() != expected) detail::throw_type_mismatch(key(), expected, type());
  }
  bson_iter_t iter_;
};

// A forward iterator over the elements of a document or array.
class ElementIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Element;
  using difference_type = std::ptrdiff_t;
  using reference = Element;
  using pointer = void;

  ElementIterator() noexcept = default;  // the end
  // Throws DecodeError when the first element is corrupt.
  ElementIterator(const uint8_t* data, std::size_t length);

  Element operator*() const noexcept { return Element(iter_); }
  ElementIterator& operator++() {
    advance();
    return *this;
  }
  ElementIterator operator++(int) {
    ElementIterator copy = *this;
    advance();
    return copy;
  }
  friend bool operator==(const ElementIterator& a, const ElementIterator& b) noexcept {
    return a.done_ == b.done_;  // only comparison with the end is meaningful
  }

 private:
  void advance();
  bson_iter_t iter_{};
  bool done_ = true;
};

// A non-owning view of BSON document bytes. Cheap to copy; valid while the bytes live.
class DocumentView {
 public:
  DocumentView() noexcept;  // the empty document
  DocumentView(const uint8_t* data, std::size_t length) noexcept : data_(data), length_(length) {}
  DocumentView(const bson_t* doc) noexcept  // NOLINT: implicit view of a libbson document
      : data_(bson_get_data(doc)), length_(doc->len) {}

  const uint8_t* data() const noexcept { return data_; }
  std::size_t length() const noexcept { return length_; }
  bool empty() const noexcept { return length_ <= 5; }

  ElementIterator begin() const { return {data_, length_}; }
  ElementIterator end() const noexcept { return {}; }

  // The element with this top-level key, if present.
  std::optional<Element> find(std::string_view key) const noexcept;
  bool contains(std::string_view key) const noexcept { return find(key).has_value(); }
  // The element with this top-level key; throws DecodeError naming the key when missing.
  Element operator[](std::string_view key) const;
  // Follows a dotted path ("address.zip", "tags.0") through documents and arrays.
  std::optional<Element> find_path(std::string_view dotted_path) const noexcept;

  // Checks the bytes are well-formed BSON with valid UTF-8; throws DecodeError otherwise.
  void validate() const;
  // A read-only bson_t over these bytes, for C APIs that take one.
  bson_t as_bson() const noexcept;

  // Byte-wise equality: same keys, order, types and values.
  friend bool operator==(const DocumentView& a, const DocumentView& b) noexcept;

 private:
  const uint8_t* data_;
  std::size_t length_;
};

// A view of a BSON array (a document whose keys are "0", "1", ...).
class ArrayView : public DocumentView {
 public:
  using DocumentView::DocumentView;
  explicit ArrayView(DocumentView doc) noexcept : DocumentView(doc) {}

  std::size_t size() const noexcept;
  // Element at a position; throws DecodeError when out of range.
  Element operator[](std::size_t index) const;
};

// An owning BSON document. Copying copies the bytes; moving does not.
class Document {
 public:
  Document();  // the empty document
  Document(const Document& other);
  Document(Document&& other) noexcept : doc_(std::exchange(other.doc_, nullptr)) {}
  Document& operator=(const Document& other);
  Document& operator=(Document&& other) noexcept;
  ~Document();

  // Copies the bytes of a view.
  explicit Document(DocumentView view);
  // Takes ownership of a heap bson_t (from bson_new, bson_copy, ...).
  static Document adopt(bson_t* doc) noexcept;
  // Copies and validates bytes from elsewhere; throws DecodeError when they are not BSON.
  static Document from_bytes(const uint8_t* data, std::size_t length);

  DocumentView view() const noexcept { return DocumentView(bson_or_empty()); }
  operator DocumentView() const noexcept { return view(); }  // NOLINT: a document is a view
  const bson_t* bson() const noexcept { return bson_or_empty(); }
  // Gives up the bytes to a C API that takes ownership (free with bson_destroy); the
  // document is empty afterwards.
  bson_t* release() noexcept { return std::exchange(doc_, nullptr); }
  // True after the bytes were moved or released away.
  bool is_moved_from() const noexcept { return !doc_; }

  const uint8_t* data() const noexcept { return bson_get_data(bson_or_empty()); }
  std::size_t length() const noexcept { return bson_or_empty()->len; }
  bool empty() const noexcept { return view().empty(); }
  ElementIterator begin() const { return view().begin(); }
  ElementIterator end() const noexcept { return {}; }
  std::optional<Element> find(std::string_view key) const noexcept { return view().find(key); }
  bool contains(std::string_view key) const noexcept { return view().contains(key); }
  Element operator[](std::string_view key) const { return view()[key]; }
  std::optional<Element> find_path(std::string_view path) const noexcept {
    return view().find_path(path);
  }

  friend bool operator==(const Document& a, const Document& b) noexcept {
    return a.view() == b.view();
  }

 private:
  explicit Document(bson_t* doc) noexcept : doc_(doc) {}
  const bson_t* bson_or_empty() const noexcept;
  bson_t* doc_;  // owned; null once moved from
};

// An owning single BSON value of any type, for results such as inserted ids and distinct
// values. Read it through the element it holds: `value->as_int32()`.
class Value {
 public:
  Value();  // null
  explicit Value(const Element& element);
  Value(const Value& other) : Value(other.get()) {}
  Value(Value&& other) noexcept;
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept;
  ~Value() = default;

  Element get() const noexcept { return element_; }
  const Element* operator->() const noexcept { return &element_; }
  Type type() const noexcept { return element_.type(); }

  // Equal when type and bytes are equal.
  friend bool operator==(const Value& a, const Value& b) noexcept { return a.holder_ == b.holder_; }

 private:
  void point_at_holder() noexcept;
  Document holder_;  // {"v": value}
  Element element_;
};

}  // namespace mongo_orm::bson
