// Interop with MongoEngine (Python, Debian's python3-mongoengine) against the same server:
// what MongoEngine writes, inheritance included, loads through mongo_orm, and what mongo_orm
// saves loads in MongoEngine.
#include <gtest/gtest.h>


#include "mongo_orm/mongo_orm.hpp"
#include "support/server.hpp"

namespace legacy {
using namespace mongo_orm;

struct Address {
  std::string city;
  std::string zip;
};
inline auto define_schema(model::SchemaTag<Address>) {
  return model::schema<Address>().field(&Address::city, "city").field(&Address::zip, "zip");
}

// The MongoEngine Person document, field for field; strict, so any field MongoEngine adds
// that this mapping does not know would fail the test.
struct Person {
  bson::ObjectId id;
  std::string name;
  std::string email;
  int32_t age = 0;
  bool active = true;
  std::chrono::system_clock::time_point joined{};
  Address address;
  std::vector<std::string> tags;
};
inline auto define_schema(model::SchemaTag<Person>) {
  return model::schema<Person>("people")
      .id(&Person::id)
      .field(&Person::name, "name")
      .field(&Person::email, "email")
      .field(&Person::age, "age")
      .field(&Person::active, "active")
      .field(&Person::joined, "joined")
      .field(&Person::address, "address")
      .field(&Person::tags, "tags")
      .strict();
}

struct Human {
  bson::ObjectId id;
  std::string name;
};
struct Jedi : Human {
  bool dark_side = false;
  std::string light_saber_color;
};
using Humans = model::Hierarchy<Human, Jedi>;
inline auto define_schema(model::SchemaTag<Human>) {
  return model::schema<Human>("human").id(&Human::id).field(&Human::name, "name").inheritable<Humans>("Human").strict();
}
inline auto define_schema(model::SchemaTag<Jedi>) {
  return model::schema_of<Human>()
      .derive<Jedi>("Jedi")
      .field(&Jedi::dark_side, "dark_side")
      .field(&Jedi::light_saber_color, "light_saber_color");
}
}  // namespace legacy

namespace mongo_orm {
namespace {

using model::field;
using model::PolymorphicCollection;
using model::TypedCollection;

testing::ProcessRun run_script(const std::string& command, const std::string& database) {
  return testing::run_process("/usr/bin/python3 '" MONGO_ORM_SOURCE_DIR "/tests/interop/mongoengine_roundtrip.py' " +
                              command + " '" + testing::server_uri() + "' '" + database + "'");
}

bool mongoengine_available() { return std::system("/usr/bin/python3 -c 'import mongoengine' 2>/dev/null") == 0; }

class MongoEngineInterop : public testing::ServerTest {};

TEST_F(MongoEngineInterop, DocumentsRoundTripBothWays) {
  if (!mongoengine_available()) GTEST_SKIP() << "python3-mongoengine is not installed (scripts/bootstrap.sh installs it)";
  testing::ProcessRun written = run_script("write", db.name());
  ASSERT_EQ(written.exit_code, 0) << written.both();

  // MongoEngine -> mongo_orm.
  TypedCollection<legacy::Person> people{db};
  auto john = people.find_one(field(&legacy::Person::email) == "john@example.com");
  ASSERT_TRUE(john);
  EXPECT_EQ((*john)->name, "John Doe");
  EXPECT_EQ((*john)->age, 42);
  EXPECT_FALSE((*john)->active);
  EXPECT_EQ((*john)->address.city, "Boston");
  EXPECT_EQ((*john)->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(bson::DateTime::from_time_point((*john)->joined).millis(), 1672628645678);

  EXPECT_EQ(TypedCollection<legacy::Human>{db}.count(), 3);
  EXPECT_EQ(TypedCollection<legacy::Jedi>{db}.count(), 2);
  int jedi = 0;
  for (auto& someone : PolymorphicCollection<legacy::Humans>{db}.find()) {
    if (auto* j = std::get_if<model::Tracked<legacy::Jedi>>(&someone)) {
      ++jedi;
      EXPECT_EQ((*j)->dark_side, (*j)->name == "Darth Vader");
    }
  }
  EXPECT_EQ(jedi, 2);

  // mongo_orm -> MongoEngine: a new document, a dirty save of MongoEngine's, a subclass.
  legacy::Person ada;
  ada.name = "Ada Lovelace";
  ada.email = "ada@example.com";
  ada.age = 36;
  ada.joined = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714979289123));
  ada.address = {"London", "10115"};
  ada.tags = {"math", "poetry"};
  people.insert(ada);
  (*john)->age = 43;
  (*john)->tags.push_back("c");
  people.save(*john);
  legacy::Jedi yoda;
  yoda.name = "Yoda";
  yoda.light_saber_color = "green";
  TypedCollection<legacy::Jedi>{db}.insert(yoda);

  testing::ProcessRun checked = run_script("check", db.name());
  EXPECT_EQ(checked.exit_code, 0) << checked.both();
}

}  // namespace
}  // namespace mongo_orm
