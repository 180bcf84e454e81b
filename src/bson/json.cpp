// Extended JSON through libbson.
#include "mongo_orm/bson/json.hpp"

#include <set>

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

namespace {

// Refuses an object holding a key twice, anywhere in `doc`; `path` names where `doc` sits.
void refuse_repeated_keys(DocumentView doc, const std::string& path, bool is_array) {
  std::set<std::string_view> seen;
  for (Element e : doc) {
    std::string here = path.empty() ? std::string(e.key()) : path + "." + std::string(e.key());
    if (!is_array && !seen.insert(e.key()).second) {
      throw DecodeError((path.empty() ? std::string("the top-level object") : "the object at " + path) + ": the key \"" +
                        std::string(e.key()) + "\" appears twice");
    }
    if (e.type() == Type::document) refuse_repeated_keys(e.as_document(), here, false);
    if (e.type() == Type::array) refuse_repeated_keys(e.as_array(), here, true);
  }
}

}  // namespace

Document from_json_strict(std::string_view json) {
  bson_json_reader_t* reader = bson_json_data_reader_new(true, 0);
  bson_json_data_reader_ingest(reader, reinterpret_cast<const uint8_t*>(json.data()), json.size());
  bson_error_t error;
  bson_t* first = bson_new();
  bson_t second = BSON_INITIALIZER;
  int read = bson_json_reader_read(reader, first, &error);
  int more = read == 1 ? bson_json_reader_read(reader, &second, &error) : 0;
  bson_json_reader_destroy(reader);
  bson_destroy(&second);
  Document document = Document::adopt(first);
  if (read < 0) throw DecodeError(std::string("invalid Extended JSON: ") + error.message);
  if (read == 0) throw DecodeError("no JSON object in the text");
  if (more == 1) throw DecodeError("more than one JSON document: another begins after the first one ends");
  if (more < 0) throw DecodeError(std::string("after the first JSON document: ") + error.message);
  refuse_repeated_keys(document.view(), "", false);
  return document;
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

std::string to_json_string(std::string_view text) {
  bson_t wrapper = BSON_INITIALIZER;
  bson_append_utf8(&wrapper, "s", 1, text.data(), static_cast<int>(text.size()));
  std::string json = take(bson_as_relaxed_extended_json(&wrapper, nullptr));
  bson_destroy(&wrapper);
  constexpr std::string_view prefix = "{ \"s\" : ";
  constexpr std::string_view suffix = " }";
  return json.substr(prefix.size(), json.size() - prefix.size() - suffix.size());
}

}  // namespace mongo_orm::bson
