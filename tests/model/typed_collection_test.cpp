// Tests for model/typed_collection.hpp against the real server: inserts, loads, dirty saves,
// unknown-field preservation, typed cursors, conflicts, interop with raw driver calls.
#include "mongo_orm/model/typed_collection.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "model/models.hpp"
#include "support/server.hpp"

namespace app {
namespace {

using bson::from_json;
using bson::to_relaxed_json;
using model::field;
using model::Tracked;
using model::TypedCollection;
using mongo_orm::testing::ServerTest;

// Only codecs that keep the encode audit: its inserts skip the checks the encoder made itself.
struct Reading {
  bson::ObjectId id;
  std::string label;
  double value = 0;
  std::vector<std::vector<int32_t>> grid;
};
auto define_schema(model::SchemaTag<Reading>) {
  return model::schema<Reading>("readings")
      .id(&Reading::id)
      .field(&Reading::label, "label")
      .field(&Reading::value, "value")
      .field(&Reading::grid, "grid");
}
Reading reading(std::string label, double value = 0, std::vector<std::vector<int32_t>> grid = {}) {
  Reading r;
  r.label = std::move(label);
  r.value = value;
  r.grid = std::move(grid);
  return r;
}

// A model whose defaults are computed: a creation time and a token; its unique index is created
// on first use (the seed's Meta.auto_create_indexes).
struct Note {
  bson::ObjectId id;
  std::string text;
  std::chrono::system_clock::time_point created_at{};
  std::string token;
};
auto define_schema(model::SchemaTag<Note>) {
  return model::schema<Note>("notes")
      .id(&Note::id)
      .field(&Note::text, "text")
      .field(&Note::created_at, "created_at", model::default_factory([] { return std::chrono::system_clock::now(); }))
      .field(&Note::token, "token", model::default_factory([] { return bson::ObjectId::generate().to_hex(); }))
      .index({.unique = true}, model::asc(&Note::token))
      .auto_create_indexes();
}

// Factory defaults inside nested models: an embedded model, an optional one, a list of them.
struct Stamp {
  std::chrono::system_clock::time_point at{};
  std::string by = "system";
};
auto define_schema(model::SchemaTag<Stamp>) {
  return model::schema<Stamp>("")
      .field(&Stamp::at, "at", model::default_factory([] { return std::chrono::system_clock::now(); }))
      .field(&Stamp::by, "by", model::default_value(std::string("nobody")));
}
struct Ledger {
  bson::ObjectId id;
  Stamp opened;
  std::optional<Stamp> closed;
  std::vector<Stamp> audits;
};
auto define_schema(model::SchemaTag<Ledger>) {
  return model::schema<Ledger>("ledgers")
      .id(&Ledger::id)
      .field(&Ledger::opened, "opened")
      .field(&Ledger::closed, "closed")
      .field(&Ledger::audits, "audits");
}

class TypedCollectionTest : public ServerTest {
 protected:
  TypedCollection<User> users{db};
};

TEST_F(TypedCollectionTest, InsertFillsTheIdAndGetByIdLoadsItBack) {
  Tracked<User> ada = users.insert(sample_user());
  EXPECT_NE(ada->id, bson::ObjectId{});
  EXPECT_TRUE(ada.is_stored());
  auto loaded = users.get_by_id(ada->id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ((*loaded)->name, "Ada Lovelace");
  EXPECT_EQ((*loaded)->address.geo, (Point{51.5, -0.25}));
  EXPECT_EQ((*loaded)->counters, (std::map<std::string, int32_t>{{"logins", 3}, {"posts", 7}}));
  EXPECT_FALSE((*loaded)->credit);
  EXPECT_FALSE(users.get_by_id(bson::ObjectId::generate()));
}

TEST_F(TypedCollectionTest, Decimal128FieldsRoundTrip) {
  MONGO_ORM_REQUIRE_CAPABILITY(decimal128_values);
  User rich = sample_user();
  rich.credit = bson::Decimal128::from_string("100.25");
  Tracked<User> stored = users.insert(rich);
  EXPECT_EQ((*users.get_by_id(stored->id))->credit, bson::Decimal128::from_string("100.25"));
}

TEST_F(TypedCollectionTest, Decimal128OnAServerWithoutItIsRefusedNamingTheField) {
  if (capabilities().decimal128_values) GTEST_SKIP() << "server stores Decimal128";
  User rich = sample_user();
  rich.credit = bson::Decimal128::from_string("100.25");
  try {
    users.insert(rich);
    FAIL() << "expected InvalidRequestError";
  } catch (const InvalidRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("field 'credit'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(users.count(), 0);
}

TEST_F(TypedCollectionTest, InsertManyChecksWhatTheEncoderCouldNotVouchFor) {
  TypedCollection<Reading> readings{db};
  Reading ascii = reading("plain", 1.5);
  Reading accented = reading("Zoë in 東京", 2);
  auto stored = readings.insert_many({ascii, accented});
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ((*readings.get_by_id(stored[1]->id))->label, "Zoë in 東京");

  auto refused = [&](Reading bad, const std::string& expected) {
    int64_t before = readings.count();
    try {
      readings.insert_many({reading("fine"), std::move(bad)});
      ADD_FAILURE() << "expected a refusal naming " << expected;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    EXPECT_EQ(readings.count(), before) << "nothing sent";
  };
  refused(reading(std::string("bad \xff\xfe")), "field 'label' is not valid UTF-8");
  if (!capabilities().nan_values) {
    refused(reading("nan", std::numeric_limits<double>::quiet_NaN()), "field 'value' holds NaN");
  }
  if (!capabilities().nested_arrays) {
    refused(reading("grid", 0, {{1, 2}}), "field 'grid.0' holds an array inside an array");
  } else {
    auto grid = readings.insert_many({reading("grid", 0, {{1, 2}})});
    EXPECT_EQ((*readings.get_by_id(grid[0]->id))->grid, (std::vector<std::vector<int32_t>>{{1, 2}}));
  }
}

TEST_F(TypedCollectionTest, SaveSendsOnlyChangedPathsAndKeepsUnknownFields) {
  Tracked<User> ada = users.insert(sample_user());
  // Another application version adds a field this model does not know, and another writer
  // changes a field this object will not touch.
  users.raw().update_one(bson::Builder{}.append("_id", ada->id).extract(),
                         from_json(R"({"$set": {"legacy_score": 99, "address.floor": 3, "balance": 50.0}})"));
  auto loaded = users.get_by_id(ada->id);
  ASSERT_TRUE(loaded);
  (*loaded)->name = "Ada King";
  (*loaded)->tags.push_back("chess");
  users.save(*loaded);

  auto raw = users.raw().find_one(bson::Builder{}.append("_id", ada->id).extract());
  ASSERT_TRUE(raw);
  EXPECT_EQ((*raw)["name"].as_string(), "Ada King");
  EXPECT_EQ((*raw)["legacy_score"].as_int32(), 99) << "unknown top-level field kept";
  EXPECT_EQ(raw->find_path("address.floor")->as_int32(), 3) << "unknown nested field kept";
  EXPECT_EQ((*raw)["balance"].as_double(), 50.0) << "a field this save did not change is not overwritten";
  EXPECT_EQ((*raw)["tags"].as_array().size(), 3u);

  // The stale object still believes balance is 12.5 but never sends it.
  ada->nickname = "Countess";
  users.save(ada);
  EXPECT_EQ((*users.raw().find_one(bson::Builder{}.append("_id", ada->id).extract()))["balance"].as_double(), 50.0);
}

TEST_F(TypedCollectionTest, SavingAnInvalidModelWritesNothing) {
  User bad = sample_user();
  bad.name = "";
  bad.address.zip = "x";
  try {
    users.insert(bad);
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    ASSERT_EQ(e.failures().size(), 2u);
    EXPECT_EQ(e.failures()[0].path, "name");
    EXPECT_EQ(e.failures()[1].path, "address.zip");
    EXPECT_EQ(std::string(e.what()).find(db.name() + ".users (new object): validation failed: name: "), 0u) << e.what();
  }
  EXPECT_EQ(users.count(), 0);

  Tracked<User> ada = users.insert(sample_user());
  ada->age = -1;
  try {
    users.save(ada);
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.where(), db.name() + ".users _id=ObjectId('" + ada->id.to_hex() + "')") << "named as a DecodeError names it";
    EXPECT_NE(std::string(e.what()).find("age: "), std::string::npos) << e.what();
  }
  EXPECT_EQ((*users.get_by_id(ada->id))->age, 36);
}

TEST_F(TypedCollectionTest, TypedFindCountExistsAndRemove) {
  std::vector<User> people;
  for (int i = 0; i < 10; ++i) {
    User u = sample_user();
    u.name = "user" + std::to_string(i);
    u.age = 20 + i;
    people.push_back(u);
  }
  auto inserted = users.insert_many(people);
  ASSERT_EQ(inserted.size(), 10u);
  EXPECT_TRUE(inserted[3].is_stored());

  std::vector<std::string> names;
  for (auto& u : users.find(field(&User::age) >= 25 && field(&User::age) < 28,
                            {.sort = from_json(R"({"age": -1})")})) {
    names.push_back(u->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"user7", "user6", "user5"}));
  EXPECT_EQ(users.count(field(&User::name).matches("^user[0-4]$")), 5);
  EXPECT_TRUE(users.exists(field(&User::age) == 29));
  EXPECT_FALSE(users.exists(field(&User::age) == 99));

  auto first = users.find_one(field(&User::name) == "user0");
  ASSERT_TRUE(first);
  EXPECT_TRUE(users.remove(*first));
  EXPECT_FALSE(first->is_stored());
  EXPECT_EQ(users.count(), 9);
  EXPECT_EQ(users.delete_many(field(&User::age) > 25).deleted_count, 4);
  EXPECT_EQ(users.count(), 5);
}

TEST_F(TypedCollectionTest, InsertManyValidatesEverythingFirst) {
  std::vector<User> people = {sample_user(), sample_user()};
  people[1].email = "nope";
  try {
    users.insert_many(people);
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    ASSERT_EQ(e.failures().size(), 1u);
    EXPECT_EQ(e.failures()[0].path, "1.email");
    EXPECT_EQ(e.where(), db.name() + ".users (insert_many)");
  }
  EXPECT_EQ(users.count(), 0);
}

TEST_F(TypedCollectionTest, SavingADeletedDocumentIsAConflict) {
  Tracked<User> ada = users.insert(sample_user());
  users.raw().delete_many({});
  ada->name = "Ghost";
  EXPECT_THROW(users.save(ada), ConflictError);
  EXPECT_EQ(users.count(), 0) << "nothing was upserted";
}

TEST_F(TypedCollectionTest, DecodeErrorsNameCollectionIdAndField) {
  users.raw().insert_one(from_json(R"({"_id": {"$oid": "5d06b9c3d7c1f18db3e7c874"}, "name": "x", "address": {"city": 7}})"));
  try {
    for (auto& u : users.find()) (void)u;
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_EQ(std::string(e.what()),
              users.raw().namespace_name() +
                  " _id=ObjectId('5d06b9c3d7c1f18db3e7c874'): field 'address.city': expected string, got int");
    EXPECT_EQ(e.path(), "address.city");
  }
}

// Seed 000 "Migrating from PyMongo": documents written with raw driver calls load as models,
// and what models save reads back through raw calls.
TEST_F(TypedCollectionTest, InteroperatesWithRawDriverCalls) {
  users.raw().insert_one(from_json(R"({"name": "John Doe", "email": "john@example.com",
                                       "address": {"city": "Boston", "zip": "02108"}})"));
  auto john = users.find_one(field(&User::email) == "john@example.com");
  ASSERT_TRUE(john);
  EXPECT_EQ((*john)->address.city, "Boston");
  EXPECT_EQ((*john)->age, 0) << "missing fields keep the struct's own initial value";
  (*john)->name = "Jane Doe";
  users.save(*john);
  auto raw = users.raw().find_one(from_json(R"({"email": "john@example.com"})"));
  EXPECT_EQ((*raw)["name"].as_string(), "Jane Doe");
  EXPECT_EQ(users.raw().count_documents(), users.count());
}

TEST_F(TypedCollectionTest, StringIdsAreGeneratedWhenEmpty) {
  TypedCollection<Member> members{db};
  Tracked<Member> m = members.insert(Member{"", "John", true});
  EXPECT_EQ(m->id.size(), 24u);
  EXPECT_TRUE(members.get_by_id(m->id));
}

// Seed 002 example 1: a field added with a default shows on load, but queries on it miss the
// documents stored before it existed, until they are migrated.
TEST_F(TypedCollectionTest, DefaultsShowOnLoadButQueriesMissOldDocuments) {
  TypedCollection<Member> members{db};
  members.raw().insert_one(from_json(R"({"_id": "john", "name": "John Doe"})"));
  auto john = members.get_by_id(std::string("john"));
  ASSERT_TRUE(john);
  EXPECT_TRUE((*john)->enabled);
  EXPECT_EQ(members.count(field(&Member::enabled) == true), 0);
  EXPECT_EQ(members.count(field(&Member::enabled) == false), 0);
  EXPECT_EQ(members.count(field(&Member::enabled).exists(false)), 1);
  members.save(*john);  // writes the default it loaded with
  EXPECT_EQ(members.count(field(&Member::enabled) == true), 1);
}

TEST_F(TypedCollectionTest, StrictModelsRefuseUnknownStoredFields) {
  TypedCollection<StrictItem> items{db};
  items.insert(StrictItem{1, "ok"});
  items.raw().insert_one(from_json(R"({"_id": 2, "label": "x", "extra": true})"));
  EXPECT_TRUE(items.get_by_id(1));
  EXPECT_THROW(items.get_by_id(2), DecodeError);
}

}  // namespace
}  // namespace app

namespace app {
namespace {

struct UserCard {
  std::string name;
  std::string email;
};
inline auto define_schema(model::SchemaTag<UserCard>) {
  return model::schema<UserCard>().field(&UserCard::name, "name").field(&UserCard::email, "email");
}

template <class C, class P>
concept can_save = requires(C c, P& p) { c.save(p); };
static_assert(!can_save<TypedCollection<User>, UserCard>, "a partial result cannot be saved back");
static_assert(can_save<TypedCollection<User>, Tracked<User>>);

TEST_F(TypedCollectionTest, ProjectionIntoAPartialModel) {
  users.insert(sample_user());
  std::vector<UserCard> cards;
  for (auto& card : users.find_as<UserCard>(field(&User::age) > 30)) cards.push_back(card);
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_EQ(cards[0].name, "Ada Lovelace");
  EXPECT_EQ(cards[0].email, "ada@example.com");
}

TEST_F(TypedCollectionTest, IntegerIdsComeFromASequence) {
  TypedCollection<StrictItem> items{db};
  auto a = items.insert(StrictItem{0, "a"});
  auto b = items.insert(StrictItem{0, "b"});
  auto c = items.insert(StrictItem{42, "c"});
  EXPECT_EQ(a->id, 1);
  EXPECT_EQ(b->id, 2);
  EXPECT_EQ(c->id, 42) << "a given id is kept";
  EXPECT_EQ((*items.get_by_id(2))->label, "b");
}

// The trap of defaults applied only by make<T>(): a struct built directly stored created_at as
// 1970-01-01 and an empty token. Insert fills a factory default that was never set; one set on
// purpose is kept.
TEST_F(TypedCollectionTest, AStructBuiltDirectlyGetsItsFactoryDefaultsNotNineteenSeventy) {
  auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  TypedCollection<Note> notes{db};
  EXPECT_TRUE(notes.index_diff().missing.empty()) << "the first use created the declared unique index";
  Note plain;
  plain.text = "built directly";
  Tracked<Note> saved = notes.insert(plain);
  EXPECT_GE(saved->created_at, before);
  EXPECT_EQ(saved->token.size(), 24u);
  auto stored = *notes.raw().find_one(bson::Builder{}.append("_id", saved->id).extract());
  EXPECT_GE(stored["created_at"].as_date_time().to_time_point(), before) << to_relaxed_json(stored);

  Note chosen;
  chosen.created_at = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 31));
  chosen.token = "mine";
  EXPECT_EQ(notes.insert(chosen)->created_at, chosen.created_at) << "a value set on purpose is kept";
  auto many = notes.insert_many({Note{}, Note{}});
  EXPECT_NE(many[0]->token, many[1]->token) << "each gets its own: the unique index takes both";
  EXPECT_EQ(notes.count(), 4);
  TypedCollection<Note> again{db};  // the index is not asked for twice in this process
  EXPECT_EQ(again.count(), 4);
}

// The same trap one level down: a nested model's factory default is filled on insert wherever
// the nested model is (a member, an optional that holds one, each element of a list); a value
// set on purpose, and an absent optional, are kept. make<T>() applies nested models' defaults.
TEST_F(TypedCollectionTest, NestedModelsGetTheirFactoryDefaultsToo) {
  auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  const auto chosen = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 40));
  TypedCollection<Ledger> ledgers{db};
  Ledger plain;
  plain.audits.resize(2);
  plain.audits[1].at = chosen;
  Tracked<Ledger> saved = ledgers.insert(plain);
  auto stored = *ledgers.raw().find_one(bson::Builder{}.append("_id", saved->id).extract());
  EXPECT_GE(stored["opened"].as_document()["at"].as_date_time().to_time_point(), before) << to_relaxed_json(stored);
  EXPECT_GE(stored["audits"].as_array()[0].as_document()["at"].as_date_time().to_time_point(), before);
  EXPECT_EQ(stored["audits"].as_array()[1].as_document()["at"].as_date_time().to_time_point(), chosen) << "set on purpose";
  EXPECT_FALSE(stored.contains("closed") && stored["closed"].type() == bson::Type::document) << "an absent optional stays absent";

  Ledger closing;
  closing.closed.emplace();
  EXPECT_GE(ledgers.insert(closing)->closed->at, before) << "an optional holding a nested model";

  Ledger made = model::make<Ledger>();
  EXPECT_GE(made.opened.at, before) << "make<T>() applies the nested model's factory";
  EXPECT_EQ(made.opened.by, "nobody") << "and its value defaults";
}

// The seed's update_user: setattr(user, key, value) for keys the model does not declare. A
// dynamic field is saved as a dirty path: a change another writer made meanwhile survives.
TEST_F(TypedCollectionTest, DynamicFieldsAreSetReadRemovedAndSavedAsDirtyPaths) {
  Tracked<User> ada = users.insert(sample_user());
  auto by_id = bson::Builder{}.append("_id", ada->id).extract();
  Tracked<User> loaded = *users.get_by_id(ada->id);
  loaded.set_dynamic("referrer", "newsletter");
  loaded.set_dynamic("visits", int32_t{3});
  EXPECT_EQ(loaded.dynamic("referrer")->get().as_string(), "newsletter");
  users.save(loaded);
  auto stored = *users.raw().find_one(by_id);
  EXPECT_EQ(stored["referrer"].as_string(), "newsletter");
  EXPECT_EQ(stored["visits"].as_int32(), 3);
  EXPECT_TRUE(loaded.dynamic_changes().empty());

  Tracked<User> again = *users.get_by_id(ada->id);
  EXPECT_EQ(again.dynamic("visits")->get().as_int32(), 3);
  users.raw().update_one(by_id, from_json(R"({"$set": {"name": "Changed elsewhere"}})"));
  again.remove_dynamic("referrer");
  EXPECT_FALSE(again.dynamic("referrer").has_value());
  users.save(again);
  stored = *users.raw().find_one(by_id);
  EXPECT_FALSE(stored.contains("referrer"));
  EXPECT_EQ(stored["visits"].as_int32(), 3);
  EXPECT_EQ(stored["name"].as_string(), "Changed elsewhere") << "only the dynamic path was sent";
  again->age = 37;
  users.save(again);
  EXPECT_FALSE(users.raw().find_one(by_id)->contains("referrer")) << "a later save does not bring it back";

  Tracked<User> fresh(sample_user());
  fresh->email = "fresh@example.com";
  fresh.set_dynamic("source", "import");
  users.insert(fresh);
  EXPECT_EQ((*users.raw().find_one(bson::Builder{}.append("_id", fresh->id).extract()))["source"].as_string(), "import");

  try {
    again.set_dynamic("$where", "1");
    FAIL() << "an operator name";
  } catch (const InvalidRequestError& e) {
    EXPECT_EQ(std::string(e.what()).find(db.name() + ".users _id=ObjectId('" + again->id.to_hex() +
                                         "'): dynamic field '$where' starts with '$'"),
              0u)
        << e.what() << " (named as every typed collection error names it)";
  }
  try {
    fresh.set_dynamic("$set", "1");
    FAIL() << "an operator name";
  } catch (const InvalidRequestError& e) {
    EXPECT_EQ(std::string(e.what()).find(db.name() + ".users _id=ObjectId('" + fresh->id.to_hex() + "')"), 0u)
        << e.what() << " (an inserted object knows where it is stored)";
  }
  try {
    Tracked<User>(sample_user()).set_dynamic("a.b", "x");
    FAIL() << "a dotted name";
  } catch (const InvalidRequestError& e) {
    EXPECT_EQ(std::string(e.what()).find("users (new object): dynamic field 'a.b' holds a '.'"), 0u)
        << e.what() << " (a new object is in no database yet: its model's collection)";
  }
  EXPECT_THROW(again.set_dynamic("a.b", "x"), InvalidRequestError);
  EXPECT_THROW(again.set_dynamic("", "x"), InvalidRequestError);
  EXPECT_THROW(again.set_dynamic("name", "x"), InvalidRequestError) << "declared: set the member";
  EXPECT_THROW(again.set_dynamic("_id", "x"), InvalidRequestError);
  EXPECT_THROW(again.remove_dynamic(std::string("a\0b", 3)), InvalidRequestError);
  Tracked<StrictItem> item(StrictItem{1, "strict"});
  EXPECT_THROW(item.set_dynamic("extra", 1), InvalidRequestError);
}

}  // namespace
}  // namespace app
