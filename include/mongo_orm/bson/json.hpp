// MongoDB Extended JSON in and out, in libbson's canonical and relaxed forms.
#pragma once

#include <string>
#include <string_view>

#include "mongo_orm/bson/document.hpp"

namespace mongo_orm::bson {

// Parses Extended JSON (canonical or relaxed, or plain JSON); throws DecodeError with
// libbson's message (which names the position) when the text is not valid.
Document from_json(std::string_view json);
// The same, for text a person wrote as one object (a migration file): refuses, with DecodeError
// naming what and where, text holding more than one JSON document, and an object holding a key
// twice (the path of the object and the key: "up.0.values: the key \"x\" appears twice"),
// both of which from_json would read without a word (the first document, the first key).
Document from_json_strict(std::string_view json);

// Canonical Extended JSON: every number keeps its BSON type ({"$numberInt": "1"}).
std::string to_canonical_json(DocumentView doc);
// Relaxed Extended JSON: numbers and dates read like plain JSON where that is lossless.
std::string to_relaxed_json(DocumentView doc);
// Relaxed Extended JSON of an array, as a JSON array ("[1, 2]").
std::string to_relaxed_json(ArrayView array);
// A JSON string: `text` quoted, with what JSON escapes escaped ("\"a\\\"b\"").
std::string to_json_string(std::string_view text);

}  // namespace mongo_orm::bson
