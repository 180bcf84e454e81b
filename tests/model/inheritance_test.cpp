// Inheritance stored as MongoEngine stores it (`_cls`), against the real server: seed 002
// example 2, the Jedi refactor, played with two versions of an application.
#include <gtest/gtest.h>

#include "mongo_orm/mongo_orm.hpp"
#include "model/jedi_models.hpp"
#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;
using bson::to_relaxed_json;
using model::field;
using model::PolymorphicCollection;
using model::TypedCollection;
using testing::ServerTest;

class InheritanceTest : public ServerTest {
 protected:
  void SetUp() override {
    TypedCollection<v1::Jedi> jedi{db};
    v1::Jedi vader;
    vader.name = "Darth Vader";
    vader.dark_side = true;
    vader.light_saber_color = "red";
    v1::Jedi obi_wan;
    obi_wan.name = "Obi Wan Kenobi";
    obi_wan.light_saber_color = "blue";
    jedi.insert(vader);
    jedi.insert(obi_wan);
  }
  Collection humans_raw() { return db.collection("humans"); }
};

TEST_F(InheritanceTest, StoresTheClassChainLikeMongoEngine) {
  auto vader = humans_raw().find_one(from_json(R"({"name": "Darth Vader"})"));
  ASSERT_TRUE(vader);
  EXPECT_EQ((*vader)["_cls"].as_string(), "Human.Jedi");
  EXPECT_TRUE((*vader)["dark_side"].as_bool());
  EXPECT_EQ(TypedCollection<v1::Human>{db}.count(), 2);
  EXPECT_EQ(TypedCollection<v1::Jedi>{db}.count(), 2);
  EXPECT_EQ(TypedCollection<v1::Jedi>{db}.count(field(&v1::Jedi::dark_side) == true), 1);
}

TEST_F(InheritanceTest, BaseClassQueriesUseInLeafQueriesUseEquality) {
  EXPECT_EQ(to_relaxed_json(model::detail::class_filter(model::schema_of<v1::Human>().matching_chains()).document()),
            R"({ "_cls" : { "$in" : [ "Human", "Human.Jedi" ] } })");
  EXPECT_EQ(to_relaxed_json(model::detail::class_filter(model::schema_of<v1::Jedi>().matching_chains()).document()),
            R"({ "_cls" : "Human.Jedi" })");
  // A plain Human (the root) is stored as "Human" and found by the base query only.
  TypedCollection<v1::Human>{db}.insert(v1::Human{{}, "Luke"});
  EXPECT_EQ(TypedCollection<v1::Human>{db}.count(), 3);
  EXPECT_EQ(TypedCollection<v1::Jedi>{db}.count(), 2);
}

TEST_F(InheritanceTest, LoadingThroughTheBaseGivesTheConcreteClass) {
  TypedCollection<v1::Human>{db}.insert(v1::Human{{}, "Luke"});
  PolymorphicCollection<v1::Humans> humans{db};
  int jedi = 0, plain = 0;
  for (auto& object : humans.find({}, {.sort = from_json(R"({"name": 1})")})) {
    if (auto* j = std::get_if<model::Tracked<v1::Jedi>>(&object)) {
      ++jedi;
      EXPECT_FALSE((*j)->light_saber_color.empty());
    } else {
      ++plain;
      EXPECT_EQ(std::get<model::Tracked<v1::Human>>(object)->name, "Luke");
    }
  }
  EXPECT_EQ(jedi, 2);
  EXPECT_EQ(plain, 1);

  auto vader = humans.find_one(from_json(R"({"name": "Darth Vader"})"));
  ASSERT_TRUE(vader);
  std::get<model::Tracked<v1::Jedi>>(*vader)->light_saber_color = "crimson";
  humans.save(*vader);
  EXPECT_EQ((*humans_raw().find_one(from_json(R"({"name": "Darth Vader"})")))["light_saber_color"].as_string(), "crimson");
}

// Seed 002 example 2: the new application version sees the old classes. MongoEngine returns
// nothing there; mongo_orm reports the stored class and the known ones.
TEST_F(InheritanceTest, UnknownStoredClassIsReportedNotSkipped) {
  EXPECT_EQ(TypedCollection<v2::GoodJedi>{db}.count(), 0) << "as in the seed: no GoodJedi yet";
  PolymorphicCollection<v2::Humans> humans{db};
  try {
    for (auto& object : humans.find()) (void)object;
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("'Human.Jedi' is not a registered class"), std::string::npos) << message;
    EXPECT_NE(message.find("known: Human, Human.GoodJedi, Human.BadSith"), std::string::npos) << message;
    EXPECT_NE(message.find("humans _id=ObjectId("), std::string::npos) << message;
  }
  auto vader = humans_raw().find_one(from_json(R"({"name": "Darth Vader"})"));
  EXPECT_THROW(TypedCollection<v2::Human>{db}.get_by_id((*vader)["_id"].as_object_id()), DecodeError);
}

TEST_F(InheritanceTest, TheSeedsRefactorThenLoadsCorrectly) {
  Collection humans = humans_raw();
  // The seed's first step: remap _cls only.
  humans.update_many(from_json(R"({"_cls": "Human.Jedi", "dark_side": false})"),
                     from_json(R"({"$set": {"_cls": "Human.GoodJedi"}})"));
  humans.update_many(from_json(R"({"_cls": "Human.Jedi", "dark_side": true})"),
                     from_json(R"({"$set": {"_cls": "Human.BadSith"}})"));
  EXPECT_EQ(TypedCollection<v2::GoodJedi>{db}.count(), 1);
  EXPECT_EQ(TypedCollection<v2::BadSith>{db}.count(), 1);
  EXPECT_EQ(TypedCollection<v2::Human>{db}.count(), 2);
  // The leftover field makes the strict new models refuse to load, naming it (the seed's
  // FieldDoesNotExist).
  try {
    TypedCollection<v2::GoodJedi>{db}.find_one();
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.path(), "dark_side");
  }
  humans.update_many({}, from_json(R"({"$unset": {"dark_side": 1}})"));

  auto jedi = TypedCollection<v2::GoodJedi>{db}.find_one();
  ASSERT_TRUE(jedi);
  EXPECT_EQ((*jedi)->name, "Obi Wan Kenobi");
  auto sith = TypedCollection<v2::BadSith>{db}.find_one();
  ASSERT_TRUE(sith);
  EXPECT_EQ((*sith)->name, "Darth Vader");
  int loaded = 0;
  for (auto& object : PolymorphicCollection<v2::Humans>{db}.find()) {
    (void)object;
    ++loaded;
  }
  EXPECT_EQ(loaded, 2);
}

TEST_F(InheritanceTest, MissingClassMarkerIsReported) {
  humans_raw().insert_one(from_json(R"({"name": "Nobody"})"));
  PolymorphicCollection<v1::Humans> humans{db};
  EXPECT_THROW(humans.find_one(from_json(R"({"name": "Nobody"})")), DecodeError);
}

}  // namespace
}  // namespace mongo_orm
