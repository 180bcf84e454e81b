// Tests for driver/cursor.hpp: range-for, next(), single pass, moving.
#include "mongo_orm/driver/cursor.hpp"

#include <gtest/gtest.h>

#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::Builder;
using testing::ServerTest;

class CursorTest : public ServerTest {
 protected:
  void SetUp() override {
    std::vector<bson::Document> docs;
    for (int i = 0; i < 25; ++i) docs.push_back(Builder{}.append("_id", i).extract());
    numbers.insert_many(docs);
  }
  Collection numbers = db.collection("numbers");
};

TEST_F(CursorTest, NextWalksToTheEnd) {
  Cursor cursor = numbers.find({}, {.sort = bson::from_json(R"({"_id": 1})"), .batch_size = 4});
  for (int i = 0; i < 25; ++i) {
    auto doc = cursor.next();
    ASSERT_TRUE(doc);
    EXPECT_EQ((*doc)["_id"].as_int32(), i);
  }
  EXPECT_FALSE(cursor.next());
  EXPECT_FALSE(cursor.next());
}

TEST_F(CursorTest, IsSinglePass) {
  Cursor cursor = numbers.find();
  int first = 0;
  for (auto doc : cursor) {
    (void)doc;
    ++first;
  }
  EXPECT_EQ(first, 25);
  int second = 0;
  for (auto doc : cursor) {
    (void)doc;
    ++second;
  }
  EXPECT_EQ(second, 0);
}

TEST_F(CursorTest, SurvivesBeingMoved) {
  Cursor cursor = numbers.find({}, {.batch_size = 3});
  ASSERT_TRUE(cursor.next());
  Cursor moved = std::move(cursor);
  int rest = 0;
  while (moved.next()) ++rest;
  EXPECT_EQ(rest, 24);
}

TEST_F(CursorTest, EmptyResultEndsImmediately) {
  Cursor cursor = numbers.find(bson::from_json(R"({"_id": -1})"));
  EXPECT_EQ(cursor.begin(), cursor.end());
}

TEST_F(CursorTest, ManyOpenCursorsAtOnce) {
  std::vector<Cursor> cursors;
  for (int i = 0; i < 20; ++i) cursors.push_back(numbers.find({}, {.batch_size = 2}));
  for (auto& c : cursors) EXPECT_TRUE(c.next());
}

}  // namespace
}  // namespace mongo_orm
