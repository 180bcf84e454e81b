// Schema evolution on read against the real server: older documents are upgraded in memory
// on load and stored upgraded on their next save; missing_count finds what defaults hide.
#include <gtest/gtest.h>

#include "model/models.hpp"
#include "support/server.hpp"

namespace people {
using namespace mongo_orm;

// Version 1 stored {name, mail}; version 2 renamed mail to email; version 3 split the name.
struct Person {
  std::string id;
  std::string first_name;
  std::string last_name;
  std::string email;
};

inline bson::Document rename_mail(bson::DocumentView v1) {
  bson::Builder out;
  for (bson::Element e : v1) out.append(e.key() == "mail" ? std::string_view("email") : e.key(), e);
  return out.extract();
}

inline bson::Document split_name(bson::DocumentView v2) {
  bson::Builder out;
  for (bson::Element e : v2) {
    if (e.key() != "name") {
      out.append(e.key(), e);
      continue;
    }
    std::string_view name = e.as_string();
    std::size_t space = name.find(' ');
    out.append("first_name", name.substr(0, space));
    out.append("last_name", space == std::string_view::npos ? std::string_view() : name.substr(space + 1));
  }
  return out.extract();
}

inline auto define_schema(model::SchemaTag<Person>) {
  using namespace model;
  return schema<Person>("people")
      .id(&Person::id)
      .field(&Person::first_name, "first_name")
      .field(&Person::last_name, "last_name")
      .field(&Person::email, "email")
      .schema_version(3)
      .upgrade(1, rename_mail)
      .upgrade(2, split_name);
}
}  // namespace people

namespace mongo_orm {
namespace {

using bson::from_json;
using model::field;
using model::TypedCollection;
using testing::ServerTest;

class EvolutionTest : public ServerTest {
 protected:
  TypedCollection<people::Person> people{db};
};

TEST_F(EvolutionTest, OlderDocumentsAreUpgradedOnLoadAndStoredUpgradedOnSave) {
  people.raw().insert_one(from_json(R"({"_id": "p1", "name": "John Doe", "mail": "john@example.com", "note": "kept"})"));
  people.raw().insert_one(from_json(R"({"_id": "p2", "_schema_version": 2, "name": "Grace Hopper", "email": "g@example.com"})"));

  auto john = people.get_by_id(std::string("p1"));
  ASSERT_TRUE(john);
  EXPECT_TRUE(john->needs_upgrade());
  EXPECT_EQ((*john)->first_name, "John");
  EXPECT_EQ((*john)->last_name, "Doe");
  EXPECT_EQ((*john)->email, "john@example.com");
  people.save(*john);
  auto stored = *people.raw().find_one(from_json(R"({"_id": "p1"})"));
  EXPECT_EQ(stored["first_name"].as_string(), "John");
  EXPECT_EQ(stored["last_name"].as_string(), "Doe");
  EXPECT_EQ(stored["email"].as_string(), "john@example.com");
  EXPECT_EQ(stored["_schema_version"].as_int32(), 3);
  EXPECT_EQ(stored["note"].as_string(), "kept") << "fields the model does not know are kept";
  EXPECT_FALSE(stored.contains("name")) << "removed by the upgrade";
  EXPECT_FALSE(stored.contains("mail")) << "renamed by the upgrade";

  auto grace = people.get_by_id(std::string("p2"));
  EXPECT_EQ((*grace)->last_name, "Hopper");

  auto fresh = people.insert(people::Person{"p3", "Ada", "Lovelace", "ada@example.com"});
  EXPECT_FALSE(fresh.needs_upgrade());
  EXPECT_EQ((*people.raw().find_one(from_json(R"({"_id": "p3"})")))["_schema_version"].as_int32(), 3);
}

TEST_F(EvolutionTest, NewerDocumentsAreRefused) {
  people.raw().insert_one(from_json(R"({"_id": "p9", "_schema_version": 4, "first_name": "Future"})"));
  try {
    people.get_by_id(std::string("p9"));
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 4, newer than this model's version 3"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("_id='p9'"), std::string::npos) << e.what();
  }
}

TEST_F(EvolutionTest, MissingCountFindsWhatDefaultsHide) {
  TypedCollection<app::Member> members{db};
  members.raw().insert_one(from_json(R"({"_id": "a", "name": "Old"})"));
  members.raw().insert_one(from_json(R"({"_id": "b", "name": "Older"})"));
  members.insert(app::Member{"c", "New", true});
  EXPECT_EQ(members.missing_count(field(&app::Member::enabled)), 2);
  EXPECT_EQ(members.missing_defaults(), (std::vector<std::pair<std::string, int64_t>>{{"enabled", 2}}));
}

}  // namespace
}  // namespace mongo_orm
