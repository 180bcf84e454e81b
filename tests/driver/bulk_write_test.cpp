// Tests for driver/bulk_write.hpp: counts, upserts, ordered and unordered failures.
#include "mongo_orm/driver/bulk_write.hpp"

#include <gtest/gtest.h>

#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;
using testing::ServerTest;

class BulkWriteTest : public ServerTest {
 protected:
  Collection items = db.collection("items");
};

TEST_F(BulkWriteTest, MixedStatementsReportEveryCount) {
  items.insert_many(std::vector{from_json(R"({"_id": 1, "v": 1})"), from_json(R"({"_id": 2, "v": 2})"),
                                from_json(R"({"_id": 3, "v": 3})")});
  BulkWrite bulk = items.bulk_write();
  bulk.insert_one(from_json(R"({"_id": 4, "v": 4})"))
      .update_one(from_json(R"({"_id": 1})"), from_json(R"({"$set": {"v": 10}})"))
      .update_many(from_json(R"({"v": {"$gte": 2}})"), from_json(R"({"$inc": {"v": 100}})"))
      .replace_one(from_json(R"({"_id": 2})"), from_json(R"({"v": 0})"))
      .update_one(from_json(R"({"_id": 9})"), from_json(R"({"$set": {"v": 9}})"), true)
      .delete_one(from_json(R"({"_id": 3})"));
  EXPECT_EQ(bulk.size(), 6u);
  BulkWriteResult r = bulk.execute();
  EXPECT_EQ(r.inserted_count, 1);
  EXPECT_EQ(r.matched_count, 1 + 4 + 1);
  EXPECT_EQ(r.modified_count, 1 + 4 + 1);
  EXPECT_EQ(r.upserted_count, 1);
  ASSERT_EQ(r.upserted_ids.size(), 1u);
  if (capabilities().upsert_indexes_per_batch) {
    EXPECT_EQ(r.upserted_ids[0].first, 4u);
  }
  EXPECT_EQ(r.upserted_ids[0].second->as_int32(), 9);
  EXPECT_EQ(r.deleted_count, 1);
  EXPECT_EQ(items.count_documents(), 4);
  EXPECT_THROW(bulk.execute(), InvalidRequestError) << "a bulk write runs once";
}

TEST_F(BulkWriteTest, OrderedStopsAtTheFirstErrorAndReportsWhatSucceeded) {
  items.insert_one(from_json(R"({"_id": 2})"));
  BulkWrite bulk = items.bulk_write(true);
  bulk.insert_one(from_json(R"({"_id": 1})"))
      .insert_one(from_json(R"({"_id": 2})"))
      .insert_one(from_json(R"({"_id": 3})"));
  try {
    bulk.execute();
    FAIL() << "expected BulkWriteError";
  } catch (const BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.write_errors()[0].index, 1u);
    EXPECT_TRUE(e.write_errors()[0].is_duplicate_key());
    EXPECT_EQ(e.partial_result().inserted_count, 1);
    ASSERT_EQ(e.partial_result().inserted_ids.size(), 1u);
    EXPECT_EQ(e.partial_result().inserted_ids[0].second->as_int32(), 1);
    EXPECT_EQ(e.collection(), items.namespace_name());
  }
  EXPECT_EQ(items.count_documents(), 2);
}

TEST_F(BulkWriteTest, HundredsOfUpdatesAndDeletesGoThroughAndErrorsKeepTheirIndex) {
  // FerretDB on SQLite stops answering an update command of 100 statements or more; the bulk
  // write splits there (Capabilities::update_statements_per_command) and numbers errors across
  // the whole bulk.
  std::vector<bson::Document> docs;
  for (int i = 0; i < 300; ++i) docs.push_back(bson::Builder{}.append("_id", i).append("v", i).extract());
  items.insert_many(docs);
  BulkWrite updates = items.bulk_write(false);
  for (int i = 0; i < 300; ++i) {
    updates.update_one(bson::Builder{}.append("_id", i).extract(), from_json(R"({"$inc": {"v": 1000}})"));
  }
  BulkWriteResult r = updates.execute();
  EXPECT_EQ(r.matched_count, 300);
  EXPECT_EQ(r.modified_count, 300);
  EXPECT_EQ(items.count_documents(from_json(R"({"v": {"$gte": 1000}})")), 300);

  BulkWrite ordered = items.bulk_write(true);
  for (int i = 0; i < 130; ++i) ordered.delete_one(bson::Builder{}.append("_id", i).extract());
  ordered.insert_one(from_json(R"({"_id": 200})")).delete_one(from_json(R"({"_id": 299})"));
  try {
    ordered.execute();
    FAIL() << "expected BulkWriteError";
  } catch (const BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.write_errors()[0].index, 130u);
    EXPECT_EQ(e.partial_result().deleted_count, 130);
  }
  EXPECT_EQ(items.count_documents(from_json(R"({"_id": 299})")), 1) << "nothing runs after the failure";
}

TEST_F(BulkWriteTest, UnorderedContinuesPastErrorsAndReportsEachOne) {
  items.insert_one(from_json(R"({"_id": 2})"));
  items.insert_one(from_json(R"({"_id": 4})"));
  std::vector docs = {from_json(R"({"_id": 1})"), from_json(R"({"_id": 2})"), from_json(R"({"_id": 3})"),
                      from_json(R"({"_id": 4})"), from_json(R"({"_id": 5})")};
  try {
    items.insert_many(docs, {.ordered = false});
    FAIL() << "expected BulkWriteError";
  } catch (const BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 2u);
    EXPECT_EQ(e.write_errors()[0].index, 1u);
    EXPECT_EQ(e.write_errors()[1].index, 3u);
    EXPECT_EQ(e.partial_result().inserted_count, 3);
    std::vector<int32_t> inserted;
    for (const auto& [index, id] : e.partial_result().inserted_ids) inserted.push_back(id->as_int32());
    EXPECT_EQ(inserted, (std::vector<int32_t>{1, 3, 5}));
  }
  EXPECT_EQ(items.count_documents(), 5);
}

TEST_F(BulkWriteTest, EmptyBulkReturnsZeros) {
  BulkWrite bulk = items.bulk_write();
  EXPECT_TRUE(bulk.empty());
  BulkWriteResult r = bulk.execute();
  EXPECT_EQ(r.inserted_count + r.matched_count + r.deleted_count, 0);
}

TEST_F(BulkWriteTest, InvalidStatementIsRefusedWhenAdded) {
  BulkWrite bulk = items.bulk_write();
  bulk.insert_one(from_json(R"({"_id": 1})"));
  try {
    bulk.update_one(from_json(R"({"_id": 1})"), from_json(R"({"plain": "replacement"})"));
    FAIL() << "expected InvalidRequestError";
  } catch (const InvalidRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("statement 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mongo_orm
