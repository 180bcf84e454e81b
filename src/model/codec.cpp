// Non-template parts of field codecs, schemas and rules.
#include "mongo_orm/model/codec.hpp"

#include <cxxabi.h>

#include <cstdlib>

#include "mongo_orm/model/rules.hpp"
#include "mongo_orm/model/schema.hpp"

namespace mongo_orm::model {

void UpdateDiff::set_element(const std::string& path, const bson::Element& element) {
  set_.append(path, element);
  ++sets_;
}

void UpdateDiff::unset(const std::string& path) {
  unset_.append(path, "");
  ++unsets_;
}

std::vector<std::string> UpdateDiff::paths() const {
  std::vector<std::string> out;
  out.reserve(sets_ + unsets_);
  for (const bson::Builder* part : {&set_, &unset_}) {
    for (bson::Element e : part->view()) out.emplace_back(e.key());
  }
  return out;
}

bson::Document UpdateDiff::to_update() const {
  bson::Builder update;
  if (sets_) update.append("$set", set_.view());
  if (unsets_) update.append("$unset", unset_.view());
  return update.extract();
}

namespace detail {

void throw_wrong_type(const bson::Element& element, std::string_view expected) {
  throw DecodeError::at({}, "expected " + std::string(expected) + ", got " +
                                std::string(bson::type_name(element.type())));
}

void check_utf8_slow(std::string_view text) {
  if (!bson_utf8_validate(text.data(), text.size(), true)) {
    throw DecodeError::at({}, "string is not valid UTF-8");
  }
}

std::string ValidationPath::text() const {
  std::string head = parent ? parent->text() : std::string();
  std::string segment = key.empty() && parent ? std::to_string(index) : std::string(key);
  return segment.empty() ? head : join_path(head, segment);
}

std::string join_path(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string joined;
  joined.reserve(path.size() + 1 + key.size());
  joined.append(path).append(1, '.').append(key);
  return joined;
}

void diff_encoded(const std::optional<bson::Element>& stored, const bson::Element& fresh,
                  const std::string& path, UpdateDiff& out) {
  if (stored && stored->type() == fresh.type()) {
    auto a = stored->value_bytes();
    auto b = fresh.value_bytes();
    if (a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin())) return;
  }
  out.set_element(path, fresh);
}

void throw_not_utf8(std::string_view key) {
  throw InvalidRequestError("the string for field '" + std::string(key) +
                            "' is not valid UTF-8; nothing was written");
}

bool is_utf8_slow(std::string_view text) noexcept {
  return bson_utf8_validate(text.data(), text.size(), true);
}

bool plain_field_name(std::string_view key) noexcept {
  return !key.empty() && !key.starts_with('$') && key.find('.') == std::string_view::npos &&
         key.find('\0') == std::string_view::npos && (is_ascii(key) || is_utf8_slow(key));
}

void check_field_name(std::string_view key) {
  if (key.empty() || key.starts_with('$') || key.find('.') != std::string_view::npos ||
      key.find('\0') != std::string_view::npos) {
    throw Error("map key '" + std::string(key) +
                "' cannot be stored as a field name (empty, starts with '$', or contains '.' or NUL)");
  }
}

void throw_unknown_enum(std::string_view stored, const std::vector<std::string_view>& known) {
  std::string list;
  for (auto name : known) list += (list.empty() ? "" : ", ") + std::string(name);
  throw DecodeError::at({}, "unknown enum value '" + std::string(stored) + "' (known: " + list + ")");
}

void throw_unmapped_enum(long long value) {
  throw Error("enum value " + std::to_string(value) + " has no stored name in its enum_values mapping");
}

void throw_unknown_member(const char* model, const char* member_type, std::string_view collection, const std::vector<std::string_view>& declared) {
  auto readable = [](const char* mangled) {
    int status = 0;
    char* name = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string text = status == 0 && name ? name : mangled;
    std::free(name);
    return text;
  };
  std::string list;
  for (std::string_view name : declared) list += (list.empty() ? "" : ", ") + std::string(name);
  throw Error("field(&" + readable(model) + "::...): a member of type " + readable(member_type) +
              " that is not declared in the schema of " + readable(model) +
              (collection.empty() ? std::string() : " (collection '" + std::string(collection) + "')") +
              "; declared: " + (list.empty() ? std::string("none") : list));
}

void throw_strict_unknown(std::string_view key) {
  throw DecodeError::at(std::string(key), "unknown field (the model is strict)");
}

void throw_newer_version(int32_t stored, int32_t current) {
  throw DecodeError::at({}, "stored with schema version " + std::to_string(stored) +
                                ", newer than this model's version " + std::to_string(current) +
                                " (written by a newer application?)");
}

void throw_missing_upgrade(int32_t from) {
  throw DecodeError::at({}, "no upgrade step from schema version " + std::to_string(from) + " to " +
                                std::to_string(from + 1));
}

int32_t stored_version(bson::DocumentView document, const std::string& field) {
  auto e = document.find(field);
  if (!e) return 1;
  if (e->type() == bson::Type::int32) return e->as_int32();
  if (e->type() == bson::Type::int64) return static_cast<int32_t>(e->as_int64());
  throw DecodeError::at(field, "expected int, got " + std::string(bson::type_name(e->type())));
}

std::size_t utf8_length(const std::string& text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

}  // namespace detail
}  // namespace mongo_orm::model
