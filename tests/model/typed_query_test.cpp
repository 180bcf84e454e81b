// Tests for model/typed_query.hpp and the literal text filters against the real server: chained
// queries read as MongoEngine's QuerySet and the seed's User.filter / User.get do, and user text
// full of regex metacharacters matches only itself.
#include "mongo_orm/model/typed_query.hpp"

#include <gtest/gtest.h>

#include "model/models.hpp"
#include "support/server.hpp"

namespace app {
namespace {

using bson::from_json;
using model::asc;
using model::desc;
using model::field;
using model::Tracked;
using model::TypedCollection;

struct Person {
  bson::ObjectId id;
  std::string name;
  std::string company;
  int32_t age = 0;
  Address address;
};
auto define_schema(model::SchemaTag<Person>) {
  return model::schema<Person>("people")
      .id(&Person::id)
      .field(&Person::name, "name")
      .field(&Person::company, "company")
      .field(&Person::age, "age")
      .field(&Person::address, "address");
}
// A smaller view of the same documents.
struct PersonName {
  std::string name;
};
auto define_schema(model::SchemaTag<PersonName>) { return model::schema<PersonName>("people").field(&PersonName::name, "name"); }

class TypedQueryTest : public mongo_orm::testing::ServerTest {
 protected:
  void SetUp() override {
    auto person = [](std::string name, std::string company, int32_t age, std::string city) {
      Person p;
      p.name = std::move(name);
      p.company = std::move(company);
      p.age = age;
      p.address.city = std::move(city);
      p.address.zip = "10115";
      return p;
    };
    people.insert_many({person("Ann", "a+b company", 31, "Berlin"), person("Bob", "aab company", 45, "Paris"),
                        person("Cy", "A+B Company", 45, "Athens"), person("Di", "x.y (z)", 22, "Berlin"),
                        person("Ed", "xzy [z]", 60, "Cairo"), person("Flo", "ends with abc\n", 38, "Berlin")});
  }
  std::vector<std::string> names(std::vector<Tracked<Person>> found) {
    std::vector<std::string> out;
    for (auto& p : found) out.push_back(p->name);
    return out;
  }
  std::vector<std::string> names_of(const model::Filter& filter) { return names(people.query(filter).sort(asc(&Person::name)).to_vector()); }

  TypedCollection<Person> people{db};
};

TEST_F(TypedQueryTest, SortsBySeveralKeysSkipsLimitsAndReadsTheFirst) {
  auto by_age = people.query(field(&Person::age) > 30).sort(desc(&Person::age), asc(&Person::name));
  EXPECT_EQ(names(by_age.to_vector()), (std::vector<std::string>{"Ed", "Bob", "Cy", "Flo", "Ann"}));
  EXPECT_EQ(names(by_age.skip(1).limit(2).to_vector()), (std::vector<std::string>{"Bob", "Cy"}));
  EXPECT_EQ((*by_age.first())->name, "Ed");
  EXPECT_EQ((*by_age.skip(4).first())->name, "Ann");
  EXPECT_FALSE(by_age.skip(5).first().has_value());
  // Nested paths and raw BSON sort documents.
  auto by_city = people.query().sort(desc(field(&Person::address, &Address::city)), asc(&Person::name));
  EXPECT_EQ((*by_city.first())->name, "Bob");
  EXPECT_EQ((*people.query().sort(from_json(R"({"address.city": 1})")).first())->name, "Cy");
  EXPECT_THROW(people.query().sort(from_json(R"({"age": "up"})")), InvalidRequestError);
  // Filters chain with $and; the query is a value, so the first one is unchanged.
  auto in_berlin = people.query(field(&Person::address, &Address::city) == "Berlin");
  auto older = in_berlin.filter(field(&Person::age) > 30);
  EXPECT_EQ(in_berlin.count(), 3);
  EXPECT_EQ(older.count(), 2);
  EXPECT_EQ(older.limit(1).count(), 1) << "count reads as the query does: at most its limit";
  EXPECT_EQ(in_berlin.skip(2).count(), 1);
  EXPECT_TRUE(older.exists());
  EXPECT_FALSE(older.skip(2).exists()) << "nothing is read past the two matches";
  EXPECT_FALSE(older.filter(field(&Person::age) > 100).exists());
}

TEST_F(TypedQueryTest, OneIsExactlyOneOrAnErrorNamingTheCollectionAndTheFields) {
  EXPECT_EQ(people.query(field(&Person::name) == "Di").one()->age, 22);
  try {
    people.query(field(&Person::name) == "Zed" && field(&Person::age) > 1).one();
    FAIL() << "no document matches";
  } catch (const NotFoundError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(db.name() + ".people: no document matches the query on age, name"), std::string::npos) << what;
    EXPECT_EQ(what.find("Zed"), std::string::npos) << "values are never shown: " << what;
  }
  try {
    people.query(field(&Person::age) == 45).one();
    FAIL() << "two documents match";
  } catch (const MultipleFoundError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("more than one document matches the query on age (_id ObjectId('"), std::string::npos) << what;
  }
  EXPECT_EQ(people.query(field(&Person::age) == 45).sort(asc(&Person::name)).limit(1).one()->name, "Bob");
}

TEST_F(TypedQueryTest, IteratesDistinctsProjectsAndWritesOnTheSameFilter) {
  std::vector<std::string> seen;
  for (auto& person : people.query(field(&Person::age) < 40).sort(asc(&Person::age))) seen.push_back(person->name);
  EXPECT_EQ(seen, (std::vector<std::string>{"Di", "Ann", "Flo"}));
  auto ages = people.query(field(&Person::age) >= 45).distinct(&Person::age);
  std::sort(ages.begin(), ages.end());
  EXPECT_EQ(ages, (std::vector<int32_t>{45, 60}));
  EXPECT_EQ(people.query().distinct(field(&Person::address, &Address::zip)), std::vector<std::string>{"10115"});
  std::vector<std::string> partial;
  for (PersonName& p : people.query(field(&Person::age) > 44).sort(asc(&Person::name)).only<PersonName>()) partial.push_back(p.name);
  EXPECT_EQ(partial, (std::vector<std::string>{"Bob", "Cy", "Ed"}));

  auto berliners = people.query(field(&Person::address, &Address::city) == "Berlin");
  EXPECT_EQ(berliners.update_many(model::Update().inc(field(&Person::age), 1)).modified_count, 3);
  EXPECT_EQ(people.query(field(&Person::age) == 32).count(), 1);
  EXPECT_THROW(berliners.limit(1).update_many(model::Update().inc(field(&Person::age), 1)), InvalidRequestError)
      << "the server would write to every match whatever the limit says";
  EXPECT_THROW(berliners.sort(asc(&Person::age)).delete_many(), InvalidRequestError);
  EXPECT_THROW(berliners.skip(1).distinct(&Person::age), InvalidRequestError);
  EXPECT_EQ(berliners.delete_many().deleted_count, 3);
  EXPECT_EQ(people.query().count(), 3);
}

// Text from a user is matched as written: "a+b" as a regex finds "aab" and not the "+".
TEST_F(TypedQueryTest, UserTextWithRegexMetacharactersMatchesOnlyItself) {
  auto company = field(&Person::company);
  EXPECT_EQ(names_of(company.matches("a+b")), (std::vector<std::string>{"Bob", "Flo"})) << "a pattern: aab, abc; not a+b";
  EXPECT_EQ(names_of(company.contains("a+b")), std::vector<std::string>{"Ann"});
  EXPECT_EQ(names_of(company.icontains("a+b")), (std::vector<std::string>{"Ann", "Cy"}));
  EXPECT_EQ(names_of(company.starts_with("x.y")), std::vector<std::string>{"Di"});
  EXPECT_EQ(names_of(company.istarts_with("A+B c")), (std::vector<std::string>{"Ann", "Cy"}));
  EXPECT_EQ(names_of(company.ends_with("(z)")), std::vector<std::string>{"Di"});
  EXPECT_EQ(names_of(company.iends_with("[Z]")), std::vector<std::string>{"Ed"});
  EXPECT_EQ(names_of(company.iexact("A+B COMPANY")), (std::vector<std::string>{"Ann", "Cy"}));
  EXPECT_EQ(names_of(company.iexact("a+b")), std::vector<std::string>{}) << "the whole value, not a part";
  EXPECT_EQ(names_of(company.ends_with("abc")), std::vector<std::string>{}) << "a final newline is part of the value";
  EXPECT_EQ(names_of(company.ends_with("abc\n")), std::vector<std::string>{"Flo"});
  EXPECT_EQ(names_of(company.contains(".*")), std::vector<std::string>{});
  EXPECT_EQ(names_of(company.contains(std::string("a\0b", 3))), std::vector<std::string>{}) << "a NUL is text too";
  EXPECT_EQ(names_of(company.contains("\\")), std::vector<std::string>{});
}

}  // namespace
}  // namespace app
