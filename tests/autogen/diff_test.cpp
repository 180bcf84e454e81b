// Tests for autogen/diff.hpp: what changed in the models since their snapshot, read back from the
// snapshot's text as a committed file would be.
#include "mongo_orm/autogen/diff.hpp"

#include <gtest/gtest.h>

#include "model/jedi_models.hpp"
#include "model/models.hpp"
#include "mongo_orm/mongo_orm.hpp"

namespace before {
using namespace mongo_orm;
struct Address {
  std::string zip;
};
inline auto define_schema(model::SchemaTag<Address>) { return model::schema<Address>().field(&Address::zip, "zip"); }
struct Person {
  bson::ObjectId id;
  std::string email_address;
  std::string name;
  std::string age;
  Address address;
  int32_t legacy = 0;
};
inline auto define_schema(model::SchemaTag<Person>) {
  using namespace model;
  return schema<Person>("people")
      .id(&Person::id)
      .field(&Person::email_address, "email_address")
      .field(&Person::name, "name")
      .field(&Person::age, "age")
      .field(&Person::address, "address")
      .field(&Person::legacy, "legacy")
      .index({.unique = true}, asc(&Person::email_address));
}

struct Animal {
  std::string id;
};
struct Dog : Animal {
  bool barks = true;
};
using Animals = mongo_orm::model::Hierarchy<Animal, Dog>;
inline auto define_schema(model::SchemaTag<Animal>) {
  return model::schema<Animal>("animals").id(&Animal::id).inheritable<Animals>("Animal");
}
inline auto define_schema(model::SchemaTag<Dog>) { return model::schema_of<Animal>().derive<Dog>("Dog").field(&Dog::barks, "barks"); }
}  // namespace before

namespace after {
using namespace mongo_orm;
using before::Address;
struct Person {
  bson::ObjectId id;
  std::string email;
  std::string full_name;
  int32_t age = 0;
  Address addr;
  std::string status;
};
inline auto define_schema(model::SchemaTag<Person>) {
  using namespace model;
  return schema<Person>("people")
      .id(&Person::id)
      .field(&Person::email, "email", renamed_from("email_address"))
      .field(&Person::full_name, "full_name")
      .field(&Person::age, "age", min(0))
      .field(&Person::addr, "addr", renamed_from("address"))
      .field(&Person::status, "status", default_value(std::string("active")))
      .index({.unique = true}, asc(&Person::email));
}

struct Animal {
  std::string id;
};
struct Pet : Animal {
  std::string owner;
};
struct Dog : Pet {
  bool barks = true;
};
using Animals = mongo_orm::model::Hierarchy<Animal, Pet, Dog>;
inline auto define_schema(model::SchemaTag<Animal>) {
  return model::schema<Animal>("animals").id(&Animal::id).inheritable<Animals>("Animal");
}
inline auto define_schema(model::SchemaTag<Pet>) { return model::schema_of<Animal>().derive<Pet>("Pet").field(&Pet::owner, "owner"); }
inline auto define_schema(model::SchemaTag<Dog>) { return model::schema_of<Pet>().derive<Dog>("Dog").field(&Dog::barks, "barks"); }
}  // namespace after

namespace mongo_orm::autogen {
namespace {

// The changes from `old_models`, as their committed snapshot, to `new_models`, as lines.
std::vector<std::string> changes(const migrate::ModelSet& old_models, const migrate::ModelSet& new_models,
                                 const DiffOptions& options = {}) {
  std::vector<std::string> lines;
  for (const Change& c : diff(read_snapshot(snapshot_text(old_models)), describe_models(new_models), options)) {
    lines.push_back(to_text(c));
  }
  return lines;
}

TEST(Diff, ModelsReadBackFromTheirSnapshotDifferInNothing) {
  migrate::ModelSet models;
  models.add<app::User>().add<app::Member>().add_hierarchy<v2::Humans>().add<before::Person>();
  EXPECT_EQ(changes(models, models), std::vector<std::string>{}) << snapshot_text(models);
}

TEST(Diff, NamesEachKindOfFieldAndIndexChange) {
  migrate::ModelSet old_models, new_models;
  old_models.add<before::Person>();
  new_models.add<after::Person>();
  std::vector<std::string> expected{
      "people: field renamed: address -> addr; declared by renamed_from",
      "people: field renamed: email_address -> email; declared by renamed_from",
      "people: rename suggested: name -> full_name; one of 2 candidates for name; both string in the document; confirm "
      "it (--rename people:name=full_name, or renamed_from(\"name\") on the field), or it is planned as full_name added "
      "and name removed, dropping the data stored at name",
      "people: rename suggested: name -> status; one of 2 candidates for name; both string in the document; confirm it "
      "(--rename people:name=status, or renamed_from(\"name\") on the field), or it is planned as status added and "
      "name removed, dropping the data stored at name",
      "people: field added: full_name (string); or a rename: see the suggestion",
      "people: field added: status (string, default { \"value\" : \"active\" }); or a rename: see the suggestion",
      "people: field removed: legacy (int); removing it drops its data",
      "people: field removed: name (string); or a rename: see the suggestion; removing it drops its data",
      "people: field retyped: age: string -> int",
      "people: rules changed: age: [] -> [{ \"min\" : 0 }]",
      "people: index added: email_1 ({ \"email\" : 1 } unique)",
      "people: index removed: email_address_1 ({ \"email_address\" : 1 } unique)",
  };
  EXPECT_EQ(changes(old_models, new_models), expected);
}

TEST(Diff, AConfirmedRenameIsARenameAndNoLongerASuggestion) {
  migrate::ModelSet old_models, new_models;
  old_models.add<before::Person>();
  new_models.add<after::Person>();
  std::vector<std::string> lines = changes(old_models, new_models, {.renames = {{"people", "name", "full_name"}}});
  EXPECT_NE(std::find(lines.begin(), lines.end(), "people: field renamed: name -> full_name; confirmed"), lines.end());
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("full_name ("), std::string::npos) << line;
    EXPECT_EQ(line.find("suggested"), std::string::npos) << line;
  }
  try {
    changes(old_models, new_models, {.renames = {{"people", "nickname", "full_name"}}});
    FAIL() << "a rename of a field the snapshot does not have was accepted";
  } catch (const InvalidRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("people:nickname=full_name"), std::string::npos) << e.what();
  }
}

TEST(Diff, ClassesAddedRemovedAndMovedInAHierarchy) {
  migrate::ModelSet jedi_before, jedi_after;
  jedi_before.add_hierarchy<v1::Humans>();
  jedi_after.add_hierarchy<v2::Humans>();
  std::vector<std::string> lines = changes(jedi_before, jedi_after);
  std::vector<std::string> expected{
      "Human: unknown fields changed: preserve -> strict; documents holding fields the model does not declare will be refused",
      "Human.BadSith: model added (in humans)",
      "Human.GoodJedi: model added (in humans)",
      "Human.Jedi: model removed (was in humans); documents stored with _cls Human.Jedi read as no class of the hierarchy",
  };
  EXPECT_EQ(lines, expected);

  migrate::ModelSet animals_before, animals_after;
  animals_before.add_hierarchy<before::Animals>();
  animals_after.add_hierarchy<after::Animals>();
  expected = {
      "Animal.Pet: model added (in animals)",
      "Animal.Pet.Dog: class moved: Animal.Dog -> Animal.Pet.Dog; documents stored with _cls Animal.Dog read as no "
      "class until remapped",
      "Animal.Pet.Dog: field added: owner (string)",
  };
  EXPECT_EQ(changes(animals_before, animals_after), expected);
}

TEST(Diff, ASnapshotThatIsNotOneIsRefusedNamingWhatIsWrong) {
  migrate::ModelSet models;
  models.add<before::Person>();
  std::string text = snapshot_text(models);
  auto refused = [](const std::string& bad) {
    try {
      read_snapshot(bad);
    } catch (const ConfigurationError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  std::string conflicted = text;
  conflicted.insert(conflicted.find("   \"fields\""), "<<<<<<< HEAD\n=======\n>>>>>>> branch\n");
  EXPECT_NE(refused(conflicted).find("merge conflict"), std::string::npos) << refused(conflicted);
  std::string no_path = text;
  std::string age = R"("path" : "age")";
  no_path.replace(no_path.find(age), age.size(), R"("pat" : "age")");
  EXPECT_EQ(refused(no_path), "the snapshot's model people: \"path\" must be a string");
  EXPECT_NE(refused("{}").find("mongo_orm_model_snapshot"), std::string::npos);
  EXPECT_NE(refused("not json").find("not valid JSON"), std::string::npos);
}

TEST(Diff, JsonNamesEveryChange) {
  migrate::ModelSet old_models, new_models;
  old_models.add<before::Person>();
  new_models.add<after::Person>();
  bson::Document json = to_document(diff(read_snapshot(snapshot_text(old_models)), describe_models(new_models)));
  auto list = json["changes"].as_array();
  ASSERT_EQ(list.size(), 12u);
  bson::DocumentView first = list[0].as_document();
  EXPECT_EQ(first["kind"].as_string(), "field renamed");
  EXPECT_EQ(first["collection"].as_string(), "people");
  EXPECT_EQ(first["from"].as_string(), "address");
  EXPECT_EQ(first["to"].as_string(), "addr");
}

}  // namespace
}  // namespace mongo_orm::autogen
