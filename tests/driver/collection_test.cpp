// Tests for driver/collection.hpp against the real server.
#include "mongo_orm/driver/collection.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::Builder;
using bson::Document;
using bson::from_json;
using bson::to_relaxed_json;
using testing::ServerTest;

class CollectionTest : public ServerTest {
 protected:
  Collection users = db.collection("users");

  void insert_people() {
    std::vector<Document> people = {
        from_json(R"({"_id": 1, "name": "Ada", "age": 36, "city": "London"})"),
        from_json(R"({"_id": 2, "name": "Grace", "age": 45, "city": "New York"})"),
        from_json(R"({"_id": 3, "name": "Linus", "age": 28, "city": "Helsinki"})"),
        from_json(R"({"_id": 4, "name": "Barbara", "age": 45, "city": "New York"})"),
    };
    users.insert_many(people);
  }

  std::vector<int32_t> ids(Cursor cursor) {
    std::vector<int32_t> out;
    for (bson::DocumentView doc : cursor) out.push_back(doc["_id"].as_int32());
    return out;
  }
};

TEST_F(CollectionTest, InsertOneGeneratesAnObjectIdWhenMissing) {
  InsertOneResult result = users.insert_one(from_json(R"({"name": "John Doe"})"));
  ASSERT_EQ(result.inserted_id.type(), bson::Type::object_id);
  auto found = users.find_one(Builder{}.append("_id", result.inserted_id).extract());
  ASSERT_TRUE(found);
  EXPECT_EQ((*found)["name"].as_string(), "John Doe");
}

TEST_F(CollectionTest, InsertOneKeepsAGivenId) {
  InsertOneResult result = users.insert_one(from_json(R"({"_id": "ada", "name": "Ada"})"));
  EXPECT_EQ(result.inserted_id->as_string(), "ada");
  EXPECT_EQ(users.count_documents(from_json(R"({"_id": "ada"})")), 1);
}

TEST_F(CollectionTest, InsertManyReturnsIdsInInputOrder) {
  std::vector<Document> docs = {from_json(R"({"n": 1})"), from_json(R"({"_id": 7, "n": 2})"),
                                from_json(R"({"n": 3})")};
  InsertManyResult result = users.insert_many(docs);
  EXPECT_EQ(result.inserted_count, 3);
  ASSERT_EQ(result.inserted_ids.size(), 3u);
  EXPECT_EQ(result.inserted_ids[1]->as_int32(), 7);
  auto third = users.find_one(Builder{}.append("_id", result.inserted_ids[2]).extract());
  ASSERT_TRUE(third);
  EXPECT_EQ((*third)["n"].as_int32(), 3);
}

TEST_F(CollectionTest, FindWithFilterSortProjectionSkipLimit) {
  insert_people();
  EXPECT_EQ(ids(users.find(from_json(R"({"age": {"$gte": 36}})"),
                           {.sort = from_json(R"({"age": -1, "_id": 1})")})),
            (std::vector<int32_t>{2, 4, 1}));
  EXPECT_EQ(ids(users.find({}, {.sort = from_json(R"({"_id": 1})"), .skip = 1, .limit = 2})),
            (std::vector<int32_t>{2, 3}));

  Cursor projected = users.find(from_json(R"({"_id": 3})"),
                                {.projection = from_json(R"({"name": 1, "_id": 0})")});
  std::vector<std::string> shapes;
  for (auto doc : projected) shapes.push_back(to_relaxed_json(doc));
  EXPECT_EQ(shapes, (std::vector<std::string>{R"({ "name" : "Linus" })"}));
}

TEST_F(CollectionTest, FindStreamsAcrossManyBatches) {
  std::vector<Document> docs;
  for (int i = 0; i < 1000; ++i) docs.push_back(Builder{}.append("_id", i).extract());
  users.insert_many(docs);
  int64_t sum = 0, n = 0;
  for (auto doc : users.find({}, {.batch_size = 7})) {
    sum += doc["_id"].as_int32();
    ++n;
  }
  EXPECT_EQ(n, 1000);
  EXPECT_EQ(sum, 999 * 1000 / 2);
}

// to_vector's documents own their bytes: they stay valid after the cursor moved on and is gone.
TEST_F(CollectionTest, ToVectorKeepsOwningCopiesAcrossBatches) {
  std::vector<Document> docs;
  for (int i = 0; i < 25; ++i) docs.push_back(Builder{}.append("_id", i).append("name", "user " + std::to_string(i)).extract());
  users.insert_many(docs);
  std::vector<Document> all = users.find({}, {.sort = bson::from_json(R"({"_id": 1})"), .batch_size = 4}).to_vector();
  ASSERT_EQ(all.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(all[i]["name"].as_string(), "user " + std::to_string(i));
  Cursor rest = users.find({}, {.sort = bson::from_json(R"({"_id": 1})")});
  rest.next();
  EXPECT_EQ(rest.to_vector().size(), 24u) << "the remaining ones";
}

TEST_F(CollectionTest, FindWithHintUsesAnIndex) {
  insert_people();
  users.create_index({from_json(R"({"city": 1})"), {}});
  EXPECT_EQ(ids(users.find(from_json(R"({"city": "New York"})"),
                           {.sort = from_json(R"({"_id": 1})"), .hint = std::string("city_1")})),
            (std::vector<int32_t>{2, 4}));
}

TEST_F(CollectionTest, FindOneReturnsNulloptWhenNothingMatches) {
  insert_people();
  EXPECT_FALSE(users.find_one(from_json(R"({"name": "Nobody"})")).has_value());
  auto grace = users.find_one(from_json(R"({"name": "Grace"})"));
  ASSERT_TRUE(grace);
  EXPECT_EQ((*grace)["age"].as_int32(), 45);
}

TEST_F(CollectionTest, CountsExactlyAndEstimated) {
  insert_people();
  EXPECT_EQ(users.count_documents(), 4);
  EXPECT_EQ(users.count_documents(from_json(R"({"age": 45})")), 2);
  EXPECT_EQ(users.count_documents({}, {.skip = 1, .limit = 2}), 2);
  EXPECT_EQ(users.estimated_document_count(), 4);
  EXPECT_EQ(db.collection("empty").count_documents(), 0);
}

TEST_F(CollectionTest, DistinctValues) {
  insert_people();
  std::vector<std::string> cities;
  for (const auto& v : users.distinct("city")) cities.emplace_back(v->as_string());
  std::sort(cities.begin(), cities.end());
  EXPECT_EQ(cities, (std::vector<std::string>{"Helsinki", "London", "New York"}));
  EXPECT_EQ(users.distinct("city", from_json(R"({"age": 45})")).size(), 1u);
}

TEST_F(CollectionTest, AggregateGroupsAndSorts) {
  insert_people();
  Cursor cursor = users.aggregate({from_json(R"({"$match": {"age": {"$gt": 30}}})"),
                                   from_json(R"({"$group": {"_id": "$city", "n": {"$sum": 1}}})"),
                                   from_json(R"({"$sort": {"_id": 1}})")});
  std::vector<std::string> rows;
  for (auto doc : cursor) rows.push_back(to_relaxed_json(doc));
  EXPECT_EQ(rows, (std::vector<std::string>{R"({ "_id" : "London", "n" : 1 })",
                                            R"({ "_id" : "New York", "n" : 2 })"}));
}

TEST_F(CollectionTest, UpdateOneManyAndReplace) {
  insert_people();
  UpdateResult one = users.update_one(from_json(R"({"age": 45})"), from_json(R"({"$inc": {"age": 1}})"));
  EXPECT_EQ(one.matched_count, 1);
  EXPECT_EQ(one.modified_count, 1);
  EXPECT_FALSE(one.upserted_id);

  UpdateResult many =
      users.update_many({}, from_json(R"({"$set": {"status": "active"}})"));
  EXPECT_EQ(many.matched_count, 4);
  EXPECT_EQ(many.modified_count, 4);
  EXPECT_EQ(users.count_documents(from_json(R"({"status": "active"})")), 4);

  UpdateResult replaced = users.replace_one(from_json(R"({"_id": 3})"), from_json(R"({"name": "L"})"));
  EXPECT_EQ(replaced.modified_count, 1);
  EXPECT_EQ(to_relaxed_json(*users.find_one(from_json(R"({"_id": 3})"))), R"({ "_id" : 3, "name" : "L" })");
}

TEST_F(CollectionTest, UpsertsReportTheNewId) {
  UpdateResult up = users.update_one(from_json(R"({"_id": 99})"), from_json(R"({"$set": {"x": 1}})"),
                                     {.upsert = true});
  EXPECT_EQ(up.matched_count, 0);
  ASSERT_TRUE(up.upserted_id);
  EXPECT_EQ((*up.upserted_id)->as_int32(), 99);
  UpdateResult replaced = users.replace_one(from_json(R"({"_id": 100})"), from_json(R"({"y": 2})"),
                                            {.upsert = true});
  ASSERT_TRUE(replaced.upserted_id);
  EXPECT_EQ(users.count_documents(), 2);
}

TEST_F(CollectionTest, UpdateWithoutOperatorsIsRefusedBeforeSending) {
  insert_people();
  EXPECT_THROW(users.update_one(from_json(R"({"_id": 1})"), from_json(R"({"name": "x"})")),
               InvalidRequestError);
  EXPECT_THROW(users.replace_one(from_json(R"({"_id": 1})"), from_json(R"({"$set": {"a": 1}})")),
               InvalidRequestError);
  EXPECT_EQ((*users.find_one(from_json(R"({"_id": 1})")))["name"].as_string(), "Ada");
}

TEST_F(CollectionTest, DeleteOneAndMany) {
  insert_people();
  EXPECT_EQ(users.delete_one(from_json(R"({"age": 45})")).deleted_count, 1);
  EXPECT_EQ(users.delete_many(from_json(R"({"age": {"$lt": 40}})")).deleted_count, 2);
  EXPECT_EQ(users.count_documents(), 1);
  EXPECT_EQ(users.delete_many(from_json(R"({"age": 1000})")).deleted_count, 0);
}

TEST_F(CollectionTest, FindOneAndUpdateReturnsBeforeOrAfter) {
  insert_people();
  auto before = users.find_one_and_update(from_json(R"({"_id": 1})"), from_json(R"({"$inc": {"age": 1}})"));
  ASSERT_TRUE(before);
  EXPECT_EQ((*before)["age"].as_int32(), 36);
  auto after = users.find_one_and_update(from_json(R"({"_id": 1})"), from_json(R"({"$inc": {"age": 1}})"),
                                         {.return_document = ReturnDocument::after});
  EXPECT_EQ((*after)["age"].as_int32(), 38);
  auto none = users.find_one_and_update(from_json(R"({"_id": 42})"), from_json(R"({"$set": {"a": 1}})"));
  EXPECT_FALSE(none);
  auto upserted = users.find_one_and_update(from_json(R"({"_id": 42})"), from_json(R"({"$set": {"a": 1}})"),
                                            {.upsert = true, .return_document = ReturnDocument::after});
  ASSERT_TRUE(upserted);
  EXPECT_EQ((*upserted)["a"].as_int32(), 1);
  auto sorted = users.find_one_and_update(from_json(R"({"age": 45})"), from_json(R"({"$set": {"first": true}})"),
                                          {.sort = from_json(R"({"_id": -1})"),
                                           .projection = from_json(R"({"_id": 1})")});
  EXPECT_EQ(to_relaxed_json(*sorted), R"({ "_id" : 4 })");
  EXPECT_THROW(users.find_one_and_update(from_json(R"({"_id": 1})"), from_json(R"({"age": 1})")),
               InvalidRequestError);
}

TEST_F(CollectionTest, FindOneAndReplaceAndDelete) {
  insert_people();
  auto old = users.find_one_and_replace(from_json(R"({"_id": 2})"), from_json(R"({"name": "G"})"));
  EXPECT_EQ((*old)["name"].as_string(), "Grace");
  EXPECT_EQ(to_relaxed_json(*users.find_one(from_json(R"({"_id": 2})"))), R"({ "_id" : 2, "name" : "G" })");
  auto deleted = users.find_one_and_delete(from_json(R"({"_id": 3})"));
  EXPECT_EQ((*deleted)["name"].as_string(), "Linus");
  EXPECT_EQ(users.count_documents(), 3);
  EXPECT_FALSE(users.find_one_and_delete(from_json(R"({"_id": 3})")));
  EXPECT_THROW(users.find_one_and_replace(from_json(R"({"_id": 1})"), from_json(R"({"$set": {"a": 1}})")),
               InvalidRequestError);
}

TEST_F(CollectionTest, MalformedFilterRaisesCommandError) {
  insert_people();
  EXPECT_THROW(users.count_documents(from_json(R"({"age": {"$noSuchOperator": 1}})")), CommandError);
  Cursor cursor = users.find(from_json(R"({"$bogus": 1})"));
  EXPECT_THROW(cursor.next(), CommandError);
}

TEST_F(CollectionTest, DocumentOverSixteenMegabytesIsRefused) {
  std::string big(17 * 1024 * 1024, 'x');
  Document doc = Builder{}.append("blob", big).extract();
  EXPECT_THROW(users.insert_one(doc), Error);
  EXPECT_EQ(users.count_documents(), 0);
}

TEST_F(CollectionTest, UnicodeRoundTrips) {
  Document doc = Builder{}
                     .append("_id", 1)
                     .append("名前", "José Müller — Ελληνικά — 日本語 — 😀🚀")
                     .append("emoji 🔑", "value")
                     .extract();
  users.insert_one(doc);
  auto back = users.find_one(from_json(R"({"_id": 1})"));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, doc);
  EXPECT_EQ(users.count_documents(Builder{}.append("名前", "José Müller — Ελληνικά — 日本語 — 😀🚀").extract()), 1);
}

TEST_F(CollectionTest, HundredThousandDocumentsInsertedAndReadBack) {
  constexpr int total = 100'000;
  std::vector<Document> docs;
  docs.reserve(total);
  for (int i = 0; i < total; ++i) {
    docs.push_back(Builder{}.append("_id", i).append("name", "user" + std::to_string(i)).append("n", i % 7).extract());
  }
  InsertManyResult result = users.insert_many(docs, {.ordered = false});
  EXPECT_EQ(result.inserted_count, total);
  int64_t count = 0, checksum = 0;
  for (auto doc : users.find()) {
    ++count;
    checksum += doc["n"].as_int32();
  }
  EXPECT_EQ(count, total);
  int64_t expected = 0;
  for (int i = 0; i < total; ++i) expected += i % 7;
  EXPECT_EQ(checksum, expected);
}

}  // namespace
}  // namespace mongo_orm

namespace mongo_orm {
namespace {

TEST_F(CollectionTest, FindOneAndModifyProjectionWorksWithOrWithoutServerSupport) {
  insert_people();
  auto only_name = users.find_one_and_update(from_json(R"({"_id": 1})"),
                                             from_json(R"({"$set": {"seen": true}})"),
                                             {.projection = from_json(R"({"name": 1, "_id": 0})")});
  EXPECT_EQ(to_relaxed_json(*only_name), R"({ "name" : "Ada" })");
  auto without_city = users.find_one_and_delete(from_json(R"({"_id": 3})"),
                                                {.projection = from_json(R"({"city": 0, "age": 0})")});
  EXPECT_EQ(to_relaxed_json(*without_city), R"({ "_id" : 3, "name" : "Linus" })");
}

TEST_F(CollectionTest, ProjectionBeyondTopLevelNeedsTheServerCapability) {
  if (capabilities().find_and_modify_projection) {
    GTEST_SKIP() << "server projects findAndModify results itself";
  }
  insert_people();
  EXPECT_THROW(users.find_one_and_update(from_json(R"({"_id": 1})"), from_json(R"({"$set": {"a": 1}})"),
                                         {.projection = from_json(R"({"address.zip": 1})")}),
               InvalidRequestError);
}

}  // namespace
}  // namespace mongo_orm

namespace mongo_orm {
namespace {

TEST_F(CollectionTest, ValuesTheServerCannotStoreAreRefusedBeforeSending) {
  struct Case {
    Document doc;
    bool supported;
    std::string path;
    std::string capability;
  };
  const Capabilities& caps = capabilities();
  std::vector<Case> cases;
  cases.push_back({Builder{}.append("_id", 1).append("price", bson::Decimal128::from_string("9.99")).extract(),
                   caps.decimal128_values, "price", "decimal128_values"});
  cases.push_back({Builder{}.append("_id", 2).append("m", [](Builder& m) { m.append("x", std::nan("")); }).extract(),
                   caps.nan_values, "m.x", "nan_values"});
  cases.push_back({from_json(R"({"_id": 3, "grid": [[1, 2], [3, 4]]})"), caps.nested_arrays, "grid.0",
                   "nested_arrays"});
  cases.push_back({from_json(R"({"_id": 4, "author": {"$ref": "users", "$id": 7}})"), caps.dbref_values, "author",
                   "dbref_values"});
  for (const Case& c : cases) {
    if (c.supported) {
      users.insert_one(c.doc);
      EXPECT_EQ(*users.find_one(Builder{}.append("_id", c.doc["_id"]).extract()), c.doc);
      continue;
    }
    try {
      users.insert_one(c.doc);
      FAIL() << "expected InvalidRequestError for " << c.capability;
    } catch (const InvalidRequestError& e) {
      EXPECT_NE(std::string(e.what()).find("field '" + c.path + "'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.capability), std::string::npos) << e.what();
    }
    EXPECT_THROW(users.count_documents(Builder{}.append("v", c.doc).extract()), InvalidRequestError);
    EXPECT_THROW(users.update_many({}, Builder{}.append("$set", c.doc).extract()), InvalidRequestError);
  }
  // The connection is still usable afterwards.
  EXPECT_NO_THROW(users.count_documents());
}

}  // namespace
}  // namespace mongo_orm
