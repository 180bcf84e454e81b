// Tests for autogen/generate.hpp against the real server: migrations written from the model
// changes and the data, read back as the files they are, then planned, applied and undone by
// the runner (seed 002 examples 1 and 2, seed 000's renames, type conflicts and index
// conflicts), and the evidence they carry refusing an up after the data moved.
#include "mongo_orm/autogen/generate.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/jedi_models.hpp"
#include "mongo_orm/mongo_orm.hpp"
#include "support/server.hpp"

namespace g1 {
using namespace mongo_orm;
struct Member {
  std::string id;
  std::string name;
};
inline auto define_schema(model::SchemaTag<Member>) {
  return model::schema<Member>("members").id(&Member::id).field(&Member::name, "name");
}
struct Person {
  std::string id;
  std::string email_address;
  std::string age;
};
inline auto define_schema(model::SchemaTag<Person>) {
  return model::schema<Person>("people").id(&Person::id).field(&Person::email_address, "email_address").field(&Person::age, "age");
}
}  // namespace g1

namespace g2 {
using namespace mongo_orm;
// Seed 002 example 1: a field added later, with a default.
struct Member {
  std::string id;
  std::string name;
  bool enabled = true;
};
inline auto define_schema(model::SchemaTag<Member>) {
  return model::schema<Member>("members").id(&Member::id).field(&Member::name, "name").field(&Member::enabled, "enabled",
                                                                                             model::default_value(true));
}
// Seed 000: email_address renamed (declared), age from strings to integers, emails unique.
struct Person {
  std::string id;
  std::string email;
  int32_t age = 0;
};
inline auto define_schema(model::SchemaTag<Person>) {
  return model::schema<Person>("people")
      .id(&Person::id)
      .field(&Person::email, "email", model::renamed_from("email_address"))
      .field(&Person::age, "age")
      .index({.unique = true}, model::asc(&Person::email));
}
}  // namespace g2

namespace g3 {
using namespace mongo_orm;
// The same rename, not declared.
struct Person {
  std::string id;
  std::string email;
  std::string age;
};
inline auto define_schema(model::SchemaTag<Person>) {
  return model::schema<Person>("people").id(&Person::id).field(&Person::email, "email").field(&Person::age, "age");
}
}  // namespace g3

// Seed 000's "Migration Script for Version Upgrade": created_date -> created_at, modified_date
// -> updated_at, and is_active, a new field with a default; plus a nested field with a default
// and one inside an array, which no built-in operation reaches.
namespace users_v1 {
using namespace mongo_orm;
struct Address {
  std::string city;
};
inline auto define_schema(model::SchemaTag<Address>) { return model::schema<Address>().field(&Address::city, "city"); }
struct User {
  std::string id;
  bson::DateTime created_date;
  bson::DateTime modified_date;
  Address address;
  std::vector<Address> previous;
};
inline auto define_schema(model::SchemaTag<User>) {
  return model::schema<User>("users")
      .id(&User::id)
      .field(&User::created_date, "created_date")
      .field(&User::modified_date, "modified_date")
      .field(&User::address, "address")
      .field(&User::previous, "previous");
}
}  // namespace users_v1

namespace users_v2 {
using namespace mongo_orm;
struct Address {
  std::string city;
  std::string country;
};
inline auto define_schema(model::SchemaTag<Address>) {
  return model::schema<Address>().field(&Address::city, "city").field(&Address::country, "country",
                                                                      model::default_value(std::string("unknown")));
}
struct User {
  std::string id;
  bson::DateTime created_at;
  bson::DateTime updated_at;
  bool is_active = true;
  Address address;
  std::vector<Address> previous;
};
inline auto define_schema(model::SchemaTag<User>) {
  return model::schema<User>("users")
      .id(&User::id)
      .field(&User::created_at, "created_at", model::renamed_from("created_date"))
      .field(&User::updated_at, "updated_at", model::renamed_from("modified_date"))
      .field(&User::is_active, "is_active", model::default_value(true))
      .field(&User::address, "address")
      .field(&User::previous, "previous");
}
}  // namespace users_v2

namespace mongo_orm::autogen {
namespace {

using bson::from_json;

class GenerateTest : public testing::ServerTest {
 protected:
  void TearDown() override {
    std::filesystem::remove_all(dir);
    ServerTest::TearDown();
  }
  void load(const char* collection, std::initializer_list<const char*> documents) {
    std::vector<bson::Document> docs;
    for (const char* d : documents) docs.push_back(from_json(d));
    db.collection(collection).insert_many(docs);
  }
  // What generate writes for the change from `before` (as its snapshot) to `after`.
  GeneratedMigration generated(const migrate::ModelSet& before, const migrate::ModelSet& after, DiffOptions options = {}) {
    std::vector<DescribedModel> now = describe_models(after);
    return generate(db, diff(read_snapshot(snapshot_text(before)), now, options), now);
  }
  // The migration as its file, read back and registered.
  migrate::Registry& as_file(const GeneratedMigration& m, const std::string& version = "001") {
    std::filesystem::create_directories(dir);
    std::filesystem::path file = dir / (version + "_generated.json");
    std::ofstream(file) << migration_file_text(m, version, "generated");
    registry.add(migrate::read_migration_file(file));
    return registry;
  }
  std::vector<std::string> ops_of(const GeneratedMigration& m) {
    std::vector<std::string> out;
    for (const auto& s : m.steps) out.emplace_back(std::string(s.operation["op"].as_string()) + " " + std::string(to_string(s.safety)));
    return out;
  }
  int64_t count(const char* collection, const char* filter) { return db.collection(collection).count_documents(from_json(filter)); }

  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("mongo_orm_generate_" + db.name());
  migrate::Registry registry;
};

// Seed 002 example 1: documents saved before `enabled` existed lack it, so a query on it misses
// them. The generated add_field gives them the default; the query then matches them.
TEST_F(GenerateTest, ANewDefaultedFieldIsAddedToTheDocumentsThatLackIt) {
  load("members", {R"({"_id": "a", "name": "Ann"})", R"({"_id": "b", "name": "Bob"})", R"({"_id": "c", "name": "Cy", "enabled": false})"});
  migrate::ModelSet before, after;
  before.add<g1::Member>();
  after.add<g2::Member>();
  ASSERT_EQ(count("members", R"({"enabled": true})"), 0) << "the seed's surprise: the old documents do not match";
  GeneratedMigration m = generated(before, after);
  EXPECT_EQ(ops_of(m), std::vector<std::string>{"add_field safe"});
  EXPECT_NE(std::string(m.steps[0].operation["why"].as_string()).find("2 documents lack it"), std::string::npos);
  EXPECT_FALSE(m.destructive());
  migrate::Runner runner(db, as_file(m));
  migrate::Plan plan = runner.plan();
  EXPECT_EQ(plan.exit_code(), 1) << ::testing::PrintToString(plan.problems);
  runner.up();
  EXPECT_EQ(count("members", R"({"enabled": true})"), 2);
  EXPECT_EQ(count("members", R"({"enabled": false})"), 1) << "a stored value is left alone";
  EXPECT_TRUE(migrate::verify(db, after).ok());
  runner.down({.all = true});
  EXPECT_EQ(count("members", R"({"enabled": {"$exists": true}})"), 1);
}

// Seed 000's v1 -> v2: a declared rename keeps the data, ages that are strings become integers
// with the exact count of those that do not convert, and duplicate emails are set aside before
// the unique index, whose keys are counted under the name the data holds before the rename.
TEST_F(GenerateTest, RenameConversionAndUniqueIndexFromTheData) {
  load("people", {R"({"_id": "1", "email_address": "a@x", "age": "42"})", R"({"_id": "2", "email_address": "a@x", "age": 7})",
                  R"({"_id": "3", "email_address": "b@x", "age": "abc"})", R"({"_id": "4", "email_address": "c@x", "age": "30"})"});
  migrate::ModelSet before, after;
  before.add<g1::Person>();
  after.add<g2::Person>();
  GeneratedMigration m = generated(before, after);
  EXPECT_EQ(ops_of(m), (std::vector<std::string>{"rename_field needs data migration", "convert_type needs review",
                                                 "dedupe_for_unique destructive"}));
  std::string convert_why(m.steps[1].operation["why"].as_string());
  EXPECT_NE(convert_why.find("3 documents hold another type; of these, 1 value does not convert"), std::string::npos) << convert_why;
  std::string dedupe_why(m.steps[2].operation["why"].as_string());
  EXPECT_NE(dedupe_why.find("1 document duplicate"), std::string::npos) << dedupe_why;
  EXPECT_TRUE(m.destructive());

  migrate::Runner runner(db, as_file(m));
  runner.up();
  EXPECT_EQ(count("people", R"({"email_address": {"$exists": true}})"), 0);
  EXPECT_EQ(count("people", R"({"email": {"$exists": true}})"), 3) << "one duplicate set aside, none lost";
  EXPECT_EQ(count("people", R"({"age": 42})"), 1);
  EXPECT_EQ(count("people", R"({"age": "abc"})"), 1) << "left as it is, as the file says";
  runner.down({.all = true});
  EXPECT_EQ(count("people", R"({"email_address": "a@x"})"), 2);
  EXPECT_EQ(count("people", R"({"age": "42"})"), 1);
}

// The same rename, undeclared: never a silent drop and add. It is a suggestion beside an added
// and a removed field, and the removal of a field that holds data is destructive; confirmed,
// it is a rename.
TEST_F(GenerateTest, AnUndeclaredRenameIsSuggestedNeverGuessed) {
  load("people", {R"({"_id": "1", "email_address": "a@x", "age": "1"})"});
  migrate::ModelSet before, after;
  before.add<g1::Person>();
  after.add<g3::Person>();
  GeneratedMigration m = generated(before, after);
  EXPECT_EQ(ops_of(m), std::vector<std::string>{"remove_field destructive"});
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_NE(m.warnings[0].find("rename suggested: email_address -> email"), std::string::npos) << m.warnings[0];
  EXPECT_TRUE(m.destructive());

  GeneratedMigration confirmed = generated(before, after, {.renames = {{"people", "email_address", "email"}}});
  EXPECT_EQ(ops_of(confirmed), std::vector<std::string>{"rename_field needs data migration"});
  EXPECT_TRUE(confirmed.warnings.empty());
}

TEST_F(GenerateTest, SeedZeroVersionUpgradeRenamesBackfillsAndReachesNestedPaths) {
  load("users", {R"({"_id": "1", "created_date": {"$date": "2023-01-01T00:00:00Z"}, "modified_date": {"$date": "2023-02-01T00:00:00Z"},
                     "address": {"city": "Oslo"}, "previous": [{"city": "Rome"}]})",
                 R"({"_id": "2", "created_date": {"$date": "2023-03-01T00:00:00Z"}, "modified_date": {"$date": "2023-03-02T00:00:00Z"},
                     "is_active": false, "address": {"city": "Lima", "country": "PE"}, "previous": []})"});
  migrate::ModelSet before, after;
  before.add<users_v1::User>();
  after.add<users_v2::User>();
  GeneratedMigration m = generated(before, after);
  EXPECT_EQ(ops_of(m), (std::vector<std::string>{"rename_field needs data migration", "rename_field needs data migration",
                                                 "add_field safe", "add_field safe"}));
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_NE(m.warnings[0].find("previous[].country lies inside an array or a map"), std::string::npos) << m.warnings[0];
  migrate::Runner runner(db, as_file(m));
  runner.up();
  EXPECT_EQ(count("users", R"({"created_at": {"$date": "2023-01-01T00:00:00Z"}, "updated_at": {"$exists": true}})"), 1);
  EXPECT_EQ(count("users", R"({"created_date": {"$exists": true}})"), 0);
  EXPECT_EQ(count("users", R"({"is_active": true})"), 1);
  EXPECT_EQ(count("users", R"({"is_active": false})"), 1) << "a stored value is left alone";
  EXPECT_EQ(count("users", R"({"address.country": "unknown"})"), 1);
  EXPECT_EQ(count("users", R"({"address.country": "PE"})"), 1);
  EXPECT_TRUE(migrate::verify(db, after).ok());
  runner.down({.all = true});
  EXPECT_EQ(count("users", R"({"created_date": {"$exists": true}, "is_active": {"$exists": false}})"), 1);
}

// Indexes against the server, normalised (key order kept, directions as numbers, options with
// their defaults): a declared index the server lacks is created; once it is there, an
// unchanged model plans nothing, however often generate runs.
TEST_F(GenerateTest, AnUnchangedModelPlansNothingIndexesIncluded) {
  load("people", {R"({"_id": "1", "email": "a@x", "age": 1})"});
  migrate::ModelSet models;
  models.add<g2::Person>().add_hierarchy<v2::Humans>();
  GeneratedMigration missing = generated(models, models);
  EXPECT_EQ(ops_of(missing), std::vector<std::string>{"create_index safe"});
  EXPECT_NE(std::string(missing.steps[0].operation["why"].as_string()).find("which the server does not have"), std::string::npos);
  migrate::Runner(db, as_file(missing)).up();
  for (int run = 0; run < 2; ++run) {
    GeneratedMigration m = generated(models, models);
    EXPECT_TRUE(m.steps.empty()) << "run " << run << ": " << ::testing::PrintToString(ops_of(m));
    EXPECT_TRUE(m.warnings.empty()) << ::testing::PrintToString(m.warnings);
  }
  // An index of the same name built otherwise by hand is reported, never dropped by a plan.
  db.collection("people").drop_index("email_1");
  db.collection("people").create_index({from_json(R"({"email": 1})"), from_json(R"({"name": "email_1"})")});
  GeneratedMigration differs = generated(models, models);
  EXPECT_TRUE(differs.steps.empty());
  ASSERT_EQ(differs.warnings.size(), 1u);
  EXPECT_NE(differs.warnings[0].find("people: index email_1 on the server differs from its declaration (unique is declared)"),
            std::string::npos) << differs.warnings[0];
}

// The evidence: counted at generation, counted again by up, which refuses, naming the count,
// once the data moved past the tolerance; within it, up runs.
TEST_F(GenerateTest, UpRefusesWhenTheDataMovedSinceTheReview) {
  load("members", {R"({"_id": "a", "name": "Ann"})", R"({"_id": "b", "name": "Bob"})"});
  migrate::ModelSet before, after;
  before.add<g1::Member>();
  after.add<g2::Member>();
  GeneratedMigration m = generated(before, after);
  ASSERT_EQ(m.evidence.checks.size(), 1u);
  EXPECT_EQ(m.evidence.checks[0].count, 2);
  migrate::Runner runner(db, as_file(m));
  load("members", {R"({"_id": "c", "name": "Cy"})"});
  try {
    runner.up();
    FAIL() << "up ran on data that moved since the review";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("members: documents missing enabled: 2 at review, 3 now (tolerance 1%)"),
              std::string::npos) << e.what();
  }
  EXPECT_EQ(count("members", R"({"enabled": {"$exists": true}})"), 0) << "the refused up wrote nothing";
  db.collection("members").delete_one(from_json(R"({"_id": "c"})"));
  runner.up();
  EXPECT_EQ(count("members", R"({"enabled": true})"), 2);
}

// Seed 002 example 2 in the models: Jedi is gone (GoodJedi and BadSith came), so its documents
// would read as no class: generate says how many, and writes no step that guesses where they go.
TEST_F(GenerateTest, AClassNoModelReadsIsReportedWithItsDocuments) {
  load("humans", {R"({"_cls": "Human.Jedi", "name": "Luke", "dark_side": false})",
                  R"({"_cls": "Human.Jedi", "name": "Vader", "dark_side": true})", R"({"_cls": "Human", "name": "Han"})"});
  migrate::ModelSet before, after;
  before.add_hierarchy<v1::Humans>();
  after.add_hierarchy<v2::Humans>();
  GeneratedMigration m = generated(before, after);
  EXPECT_TRUE(m.steps.empty()) << ops_of(m).front();
  bool reported = false;
  for (const auto& w : m.warnings) reported = reported || w.find("Human.Jedi: no model reads this class now, and 2 documents") == 0;
  EXPECT_TRUE(reported) << ::testing::PrintToString(m.warnings);
}

// Seed 002 example 2 with the mapping declared: the Jedi with dark_side false become GoodJedi,
// those with true BadSith, and dark_side, which neither declares, is removed from both. Before,
// GoodJedi finds nothing (the seed's surprise); after, each finds its one, the strict models
// load every document, and the undo gives the Jedi back. A Jedi no mapping takes is reported.
TEST_F(GenerateTest, SeedTwoJediBecomeGoodJediOrBadSithByADeclaredMapping) {
  load("humans", {R"({"_cls": "Human.Jedi", "name": "Darth Vader", "dark_side": true, "light_saber_color": "red"})",
                  R"({"_cls": "Human.Jedi", "name": "Obi Wan Kenobi", "dark_side": false, "light_saber_color": "blue"})",
                  R"({"_cls": "Human", "name": "Han"})"});
  migrate::ModelSet before, after;
  before.add_hierarchy<v1::Humans>();
  after.add_hierarchy<v2::Humans>();
  DiffOptions mapping{.classes = {{"Human.Jedi", "Human.GoodJedi", from_json(R"({"dark_side": false})")},
                                  {"Human.Jedi", "Human.BadSith", from_json(R"({"dark_side": true})")}}};
  GeneratedMigration m = generated(before, after, mapping);
  EXPECT_EQ(ops_of(m), (std::vector<std::string>{"remap_class needs data migration", "remap_class needs data migration",
                                                 "remove_field destructive", "remove_field destructive"}));
  for (const auto& w : m.warnings) EXPECT_EQ(w.find("Human.Jedi"), std::string::npos) << "every Jedi is taken: " << w;
  for (std::size_t i : {0u, 1u}) {
    std::string why(m.steps[i].operation["why"].as_string());
    EXPECT_NE(why.find("1 document stored as Human.Jedi"), std::string::npos) << why;
  }
  std::string removal(m.steps[2].operation["why"].as_string());
  EXPECT_NE(removal.find("1 document hold"), std::string::npos) << "counted as the documents will be once remapped: " << removal;
  EXPECT_THROW(model::TypedCollection<v2::GoodJedi>{db}.count(), DecodeError) << "the seed's GoodJedi count of 0, refused";

  migrate::Runner runner(db, as_file(m));
  EXPECT_EQ(runner.plan().exit_code(), 1);
  runner.up();
  EXPECT_EQ(model::TypedCollection<v2::GoodJedi>{db}.count(), 1);
  EXPECT_EQ(model::TypedCollection<v2::BadSith>{db}.count(), 1);
  auto sith = model::TypedCollection<v2::BadSith>{db}.find_one(model::field(&v2::BadSith::name) == std::string("Darth Vader"));
  ASSERT_TRUE(sith.has_value());
  EXPECT_EQ((*sith)->light_saber_color, "red");
  EXPECT_EQ(count("humans", R"({"dark_side": {"$exists": true}})"), 0);
  EXPECT_TRUE(migrate::verify(db, after).ok()) << "the strict models load every document";
  runner.down({.all = true});
  EXPECT_EQ(count("humans", R"({"_cls": "Human.Jedi", "dark_side": true, "name": "Darth Vader"})"), 1);
  EXPECT_EQ(count("humans", R"({"_cls": "Human.Jedi", "dark_side": false})"), 1);

  load("humans", {R"({"_cls": "Human.Jedi", "name": "Grogu"})"});
  GeneratedMigration partial = generated(before, after, mapping);
  EXPECT_NE(::testing::PrintToString(partial.warnings)
                .find("Human.Jedi: no model reads this class now, and 1 document in humans match none of its mappings"),
            std::string::npos)
      << ::testing::PrintToString(partial.warnings);
  EXPECT_THROW(generated(before, after, {.classes = {{"Human.Sith", "Human.BadSith", {}}}}), InvalidRequestError);
}

}  // namespace
}  // namespace mongo_orm::autogen
