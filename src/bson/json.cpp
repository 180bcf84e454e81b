// Extended JSON through libbson.
#include "mongo_orm/bson/json.hpp"

#include "mongo_orm/error.hpp"

namespace mongo_orm::bson {

namespace {
std::string take(char* text) {
  if (!text) throw Error("libbson could not render the document as JSON");
  std::string out(text);
  bson_free(text);
  return out;
}
}  // namespace

Document from_json(std::string_view json) {
  bson_error_t error;
  bson_t* doc = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()),
                                   static_cast<ssize_t>(json.size()), &error);
  if (!doc) throw DecodeError(std::string("invalid Extended JSON: ") + error.message);
  return Document::adopt(doc);
}

std::string to_canonical_json(DocumentView doc) {
  bson_t b = doc.as_bson();
  return take(bson_as_canonical_extended_json(&b, nullptr));
}

std::string to_relaxed_json(DocumentView doc) {
  bson_t b = doc.as_bson();
  return take(bson_as_relaxed_extended_json(&b, nullptr));
}

std::string to_relaxed_json(ArrayView array) {
  // libbson 1.23 renders arrays only in legacy JSON, so wrap the array in {"a": ...} and
  // cut the wrapper off the relaxed rendering.
  bson_t wrapper = BSON_INITIALIZER;
  bson_t sub = array.as_bson();
  bson_append_array(&wrapper, "a", 1, &sub);
  std::string text = take(bson_as_relaxed_extended_json(&wrapper, nullptr));
  bson_destroy(&wrapper);
  constexpr std::string_view prefix = "{ \"a\" : ";
  constexpr std::string_view suffix = " }";
  return text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
}

}  // namespace mongo_orm::bson
