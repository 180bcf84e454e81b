// Documents, views, elements and values over libbson.
#include "mongo_orm/bson/document.hpp"

#include <cstring>

#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::bson {

namespace {
// The smallest valid document: int32 length 5, then the terminating NUL.
constexpr uint8_t empty_document_bytes[5] = {5, 0, 0, 0, 0};
// {"v": null}: where a moved-from Value points.
constexpr uint8_t null_value_bytes[8] = {8, 0, 0, 0, 0x0A, 'v', 0, 0};

bson_iter_t first_element_of(const uint8_t* data, std::size_t length) noexcept {
  bson_iter_t iter;
  bson_iter_init_from_data(&iter, data, length);
  bson_iter_next(&iter);
  return iter;
}
}  // namespace

namespace detail {
void throw_type_mismatch(std::string_view key, Type expected, Type actual) {
  throw DecodeError::at(std::string(key), "expected " + std::string(type_name(expected)) +
                                              ", got " + std::string(type_name(actual)));
}

void throw_missing_field(std::string_view key) {
  throw DecodeError::at(std::string(key), "is missing");
}

void throw_corrupt(std::size_t offset) {
  throw DecodeError("corrupt BSON at byte offset " + std::to_string(offset));
}
}  // namespace detail

DocumentView Element::as_document() const {
  expect(Type::document);
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&iter_, &len, &data);
  return {data, len};
}

ArrayView Element::as_array() const {
  expect(Type::array);
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_array(&iter_, &len, &data);
  return ArrayView(data, len);
}

Decimal128 Element::as_decimal128() const {
  expect(Type::decimal128);
  bson_decimal128_t value;
  bson_iter_decimal128(&iter_, &value);
  return Decimal128(value);
}

BinaryView Element::as_binary() const {
  expect(Type::binary);
  bson_subtype_t subtype;
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_binary(&iter_, &subtype, &len, &data);
  return {static_cast<BinarySubtype>(subtype), {data, len}};
}

Regex Element::as_regex() const {
  expect(Type::regex);
  const char* options = nullptr;
  const char* pattern = bson_iter_regex(&iter_, &options);
  return {pattern, options ? options : ""};
}

Timestamp Element::as_timestamp() const {
  expect(Type::timestamp);
  Timestamp ts;
  bson_iter_timestamp(&iter_, &ts.seconds, &ts.increment);
  return ts;
}

Value Element::to_value() const { return Value(*this); }

ElementIterator::ElementIterator(const uint8_t* data, std::size_t length) {
  done_ = !bson_iter_init_from_data(&iter_, data, length);
  if (!done_) advance();
}

void ElementIterator::advance() {
  done_ = !bson_iter_next(&iter_);
  if (done_ && iter_.err_off != 0) detail::throw_corrupt(iter_.err_off);
}

DocumentView::DocumentView() noexcept
    : data_(empty_document_bytes), length_(sizeof empty_document_bytes) {}

std::optional<Element> DocumentView::find(std::string_view key) const noexcept {
  bson_iter_t iter;
  if (!bson_iter_init_from_data(&iter, data_, length_)) return std::nullopt;
  if (!bson_iter_find_w_len(&iter, key.data(), static_cast<int>(key.size()))) return std::nullopt;
  return Element(iter);
}

Element DocumentView::operator[](std::string_view key) const {
  auto found = find(key);
  if (!found) detail::throw_missing_field(key);
  return *found;
}

std::optional<Element> DocumentView::find_path(std::string_view dotted_path) const noexcept {
  DocumentView current = *this;
  while (true) {
    std::size_t dot = dotted_path.find('.');
    auto found = current.find(dotted_path.substr(0, dot));
    if (!found || dot == std::string_view::npos) return found;
    Type type = found->type();
    if (type != Type::document && type != Type::array) return std::nullopt;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    if (type == Type::document) {
      bson_iter_document(&found->native(), &len, &data);
    } else {
      bson_iter_array(&found->native(), &len, &data);
    }
    current = DocumentView(data, len);
    dotted_path.remove_prefix(dot + 1);
  }
}

bson_t DocumentView::as_bson() const noexcept {
  bson_t doc;
  if (!bson_init_static(&doc, data_, length_)) bson_init(&doc);
  return doc;
}

namespace {
// MongoDB refuses documents nested deeper than this; so do we, before the stack suffers.
constexpr int max_nesting = 100;

std::string join(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

// libbson 1.23's BSON_VALIDATE_UTF8 checks keys only, so string values are checked here.
void check_utf8(DocumentView doc, const std::string& prefix, int depth) {
  if (depth > max_nesting) {
    throw DecodeError("invalid BSON: nested deeper than " + std::to_string(max_nesting) +
                          " levels at '" + prefix + "'",
                      prefix);
  }
  for (Element e : doc) {
    std::string_view key = e.key();
    if (!bson_utf8_validate(key.data(), key.size(), false)) {
      throw DecodeError("invalid BSON: key is not valid UTF-8 under '" + prefix + "'", prefix);
    }
    switch (e.type()) {
      case Type::string: {
        std::string_view text = e.as_string();
        if (!bson_utf8_validate(text.data(), text.size(), true)) {
          std::string path = join(prefix, key);
          throw DecodeError("invalid BSON: string at '" + path + "' is not valid UTF-8", path);
        }
        break;
      }
      case Type::document:
        check_utf8(e.as_document(), join(prefix, key), depth + 1);
        break;
      case Type::array:
        check_utf8(e.as_array(), join(prefix, key), depth + 1);
        break;
      default:
        break;
    }
  }
}
}  // namespace

void DocumentView::validate() const {
  bson_t doc;
  if (!bson_init_static(&doc, data_, length_)) {
    throw DecodeError("invalid BSON: length header does not match " + std::to_string(length_) +
                      " bytes");
  }
  bson_error_t error;
  if (!bson_validate_with_error(&doc, BSON_VALIDATE_UTF8, &error)) {
    throw DecodeError(std::string("invalid BSON: ") + error.message);
  }
  check_utf8(*this, "", 0);
}

bool operator==(const DocumentView& a, const DocumentView& b) noexcept {
  return a.length_ == b.length_ && std::memcmp(a.data_, b.data_, a.length_) == 0;
}

std::size_t ArrayView::size() const noexcept {
  std::size_t count = 0;
  bson_iter_t iter;
  if (!bson_iter_init_from_data(&iter, data(), length())) return 0;
  while (bson_iter_next(&iter)) ++count;
  return count;
}

Element ArrayView::operator[](std::size_t index) const {
  std::size_t i = 0;
  for (Element element : *this) {
    if (i++ == index) return element;
  }
  throw DecodeError("array index " + std::to_string(index) + " is out of range (size " +
                    std::to_string(i) + ")");
}

Document::Document() : doc_(bson_new()) {}

Document::Document(const Document& other) : doc_(bson_copy(other.bson_or_empty())) {}

Document& Document::operator=(const Document& other) {
  if (this != &other) {
    bson_t* copy = bson_copy(other.bson_or_empty());
    if (doc_) bson_destroy(doc_);
    doc_ = copy;
  }
  return *this;
}

Document& Document::operator=(Document&& other) noexcept {
  if (this != &other) {
    if (doc_) bson_destroy(doc_);
    doc_ = std::exchange(other.doc_, nullptr);
  }
  return *this;
}

Document::~Document() {
  if (doc_) bson_destroy(doc_);
}

Document::Document(DocumentView view) : doc_(bson_new_from_data(view.data(), view.length())) {
  if (!doc_) doc_ = bson_new();
}

Document Document::adopt(bson_t* doc) noexcept { return Document(doc); }

Document Document::from_bytes(const uint8_t* data, std::size_t length) {
  DocumentView view(data, length);
  view.validate();
  return Document(view);
}

const bson_t* Document::bson_or_empty() const noexcept {
  static const bson_t empty = BSON_INITIALIZER;
  return doc_ ? doc_ : &empty;
}

Value::Value() : holder_(Document::adopt(bson_new())), element_(bson_iter_t{}) {
  bson_append_null(const_cast<bson_t*>(holder_.bson()), "v", 1);
  point_at_holder();
}

Value::Value(const Element& element) : holder_(Document::adopt(bson_new())), element_(bson_iter_t{}) {
  if (!bson_append_iter(const_cast<bson_t*>(holder_.bson()), "v", 1, &element.native())) {
    throw Error("cannot copy BSON value of field '" + std::string(element.key()) + "'");
  }
  point_at_holder();
}

// A moved Document keeps its bson_t where it was (only the pointer moves), so the element that
// points into it stays valid: a move copies it instead of finding it again.
Value::Value(Value&& other) noexcept : holder_(std::move(other.holder_)), element_(other.element_) {
  other.point_at_holder();
}

Value& Value::operator=(const Value& other) {
  if (this != &other) {
    holder_ = other.holder_;
    point_at_holder();
  }
  return *this;
}

Value& Value::operator=(Value&& other) noexcept {
  if (this != &other) {
    holder_ = std::move(other.holder_);
    element_ = other.element_;
    other.point_at_holder();
  }
  return *this;
}

void Value::point_at_holder() noexcept {
  if (holder_.is_moved_from()) {
    static const Element null_element(first_element_of(null_value_bytes, sizeof null_value_bytes));
    element_ = null_element;
  } else {
    element_ = Element(first_element_of(holder_.data(), holder_.length()));
  }
}

}  // namespace mongo_orm::bson
