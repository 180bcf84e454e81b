// A fixture for migration tests: a fresh database, documents loaded from Extended JSON, counts.
#pragma once

#include <initializer_list>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "support/server.hpp"

namespace mongo_orm::testing {

class MigrationTest : public ServerTest {
 protected:
  void load(const char* collection, std::initializer_list<const char*> documents) {
    std::vector<bson::Document> docs;
    for (const char* d : documents) docs.push_back(bson::from_json(d));
    db.collection(collection).insert_many(docs);
  }
  int64_t count(const char* collection, const char* filter) {
    return db.collection(collection).count_documents(bson::from_json(filter));
  }
};

}  // namespace mongo_orm::testing
