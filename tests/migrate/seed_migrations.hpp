// Seed 000's schema migrations, written against the raw collection: shared by the runner
// tests and the example migrate program.
#pragma once

#include <cctype>
#include <string>

#include "mongo_orm/mongo_orm.hpp"

namespace seed {

using namespace mongo_orm;
using namespace mongo_orm::migrate;
using bson::from_json;

// Seed 000: AddUserStatusMigration.
inline Migration add_user_status() {
  Migration m;
  m.version = "2023.01.001";
  m.description = "Add status field to users with default value";
  m.up = [](MigrationContext& ctx) {
    Collection users = ctx.database.collection("users");
    users.update_many(from_json(R"({"status": {"$exists": false}})"), from_json(R"({"$set": {"status": "active"}})"));
    users.create_index({from_json(R"({"status": 1})"), {}});
  };
  m.down = [](MigrationContext& ctx) {
    Collection users = ctx.database.collection("users");
    users.update_many({}, from_json(R"({"$unset": {"status": ""}})"));
    users.drop_index("status_1");
  };
  return m;
}

// Seed 000: NormalizeEmailsMigration, which cannot be rolled back.
inline Migration normalize_emails() {
  Migration m;
  m.version = "2023.01.002";
  m.description = "Normalize email addresses to lowercase";
  m.depends_on = {"2023.01.001"};
  m.up = [](MigrationContext& ctx) {
    Collection users = ctx.database.collection("users");
    for (auto doc : users.find(from_json(R"({"email": {"$regex": "[A-Z]"}})"))) {
      std::string email(doc["email"].as_string());
      for (char& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      users.update_one(bson::Builder{}.append("_id", doc["_id"]).extract(),
                       bson::Builder{}.append("$set", [&](bson::Builder& s) { s.append("email", email); }).extract());
    }
  };
  m.irreversible = true;
  return m;
}

}  // namespace seed
