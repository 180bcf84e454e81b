// Tests for bson/document.hpp: views, iteration, lookups, type errors, values.
#include "mongo_orm/bson/document.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::bson {
namespace {

Document sample() {
  return from_json(R"({"name": "Ada", "age": 36, "address": {"zip": "10115", "geo": [52.5, 13.4]},
                       "tags": ["a", "b", "c"]})");
}

TEST(DocumentView, IteratesKeysInOrder) {
  Document doc = sample();
  std::vector<std::string> keys;
  for (Element e : doc) keys.emplace_back(e.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"name", "age", "address", "tags"}));
}

TEST(DocumentView, EmptyDocumentHasNoElements) {
  DocumentView empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_FALSE(empty.find("x"));
}

TEST(DocumentView, FindsTopLevelAndDottedPaths) {
  Document doc = sample();
  EXPECT_EQ(doc["name"].as_string(), "Ada");
  EXPECT_EQ(doc.find_path("address.zip")->as_string(), "10115");
  EXPECT_EQ(doc.find_path("address.geo.1")->as_double(), 13.4);
  EXPECT_EQ(doc.find_path("tags.2")->as_string(), "c");
  EXPECT_FALSE(doc.find_path("address.street"));
  EXPECT_FALSE(doc.find_path("name.first"));
  EXPECT_FALSE(doc.find("missing"));
}

TEST(DocumentView, MissingKeyNamesTheKey) {
  Document doc = sample();
  try {
    (void)doc["email"];
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.path(), "email");
    EXPECT_STREQ(e.what(), "field 'email': is missing");
  }
}

TEST(Element, WrongTypeNamesFieldExpectedAndActual) {
  Document doc = sample();
  try {
    (void)doc["age"].as_string();
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_STREQ(e.what(), "field 'age': expected string, got int");
    EXPECT_EQ(e.path(), "age");
  }
}

TEST(ArrayView, SizeAndIndex) {
  Document doc = sample();
  ArrayView tags = doc["tags"].as_array();
  EXPECT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[1].as_string(), "b");
  EXPECT_THROW((void)tags[3], DecodeError);
}

TEST(DocumentView, ValidateRejectsCorruptBytes) {
  Document doc = sample();
  std::vector<uint8_t> bytes(doc.data(), doc.data() + doc.length());
  bytes[4] = 0x42;  // an element type that does not exist
  DocumentView corrupt(bytes.data(), bytes.size());
  EXPECT_THROW(corrupt.validate(), DecodeError);
  EXPECT_THROW(
      {
        for (Element e : corrupt) (void)e;
      },
      DecodeError);
  EXPECT_THROW(Document::from_bytes(bytes.data(), bytes.size()), DecodeError);
}

TEST(DocumentView, ValidateRejectsInvalidUtf8) {
  Builder b;
  b.append("s", std::string_view("\xff\xfe", 2));
  Document doc = b.extract();
  EXPECT_THROW(doc.view().validate(), DecodeError);
}

TEST(DocumentView, ValidateRejectsTruncatedLength) {
  Document doc = sample();
  DocumentView truncated(doc.data(), doc.length() - 3);
  EXPECT_THROW(truncated.validate(), DecodeError);
}

TEST(Document, CopyIsDeepMoveLeavesEmpty) {
  Document a = sample();
  Document b = a;
  EXPECT_EQ(a, b);
  EXPECT_NE(a.data(), b.data());
  Document c = std::move(a);
  EXPECT_EQ(c, b);
  EXPECT_TRUE(a.is_moved_from());  // NOLINT(bugprone-use-after-move): moved-from stays usable
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(to_relaxed_json(a), "{ }");
}

TEST(Value, OwnsACopyOfAnyValue) {
  Value v;
  {
    Document doc = sample();
    v = doc["address"].to_value();
  }
  EXPECT_EQ(v.type(), Type::document);
  EXPECT_EQ(v->as_document()["zip"].as_string(), "10115");
  Value copy = v;
  Value moved = std::move(v);
  EXPECT_EQ(copy, moved);
  EXPECT_EQ(v.type(), Type::null);  // NOLINT(bugprone-use-after-move): moved-from reads as null
  EXPECT_TRUE(Value().get().is_null());
}

}  // namespace
}  // namespace mongo_orm::bson
