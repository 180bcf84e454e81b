// Tests for model/update.hpp (serialize tests) and for typed updates, timestamps and
// optimistic concurrency against the real server.
#include "mongo_orm/model/update.hpp"

#include <gtest/gtest.h>

#include "model/models.hpp"
#include "support/server.hpp"

namespace app {

struct Account {
  bson::ObjectId id;
  std::string owner;
  int64_t balance = 0;
  std::vector<std::string> flags;
  int64_t version = 0;
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point updated_at{};
};

inline auto define_schema(model::SchemaTag<Account>) {
  using namespace model;
  return schema<Account>("accounts")
      .id(&Account::id)
      .field(&Account::owner, "owner", required())
      .field(&Account::balance, "balance", min(int64_t{0}))
      .field(&Account::flags, "flags")
      .version_field(&Account::version)
      .timestamps(&Account::created_at, &Account::updated_at);
}

namespace {

using bson::from_json;
using bson::to_relaxed_json;
using model::field;
using model::Tracked;
using model::TypedCollection;
using model::Update;
using mongo_orm::testing::ServerTest;

TEST(UpdateBuilder, SerializesEveryOperator) {
  Update u;
  u.set(field(&User::name), "Ada")
      .set(field(&User::address, &Address::zip), "10115")
      .set(field(&User::nickname), "Countess")
      .unset(field(&User::credit))
      .inc(field(&User::score), 5)
      .push(field(&User::tags), "chess")
      .pull(field(&User::tags), "math")
      .rename(field(&User::email), "email_address")
      .current_date(field(&User::joined));
  EXPECT_EQ(to_relaxed_json(u.document()),
            R"({ "$set" : { "name" : "Ada", "address.zip" : "10115", "nickname" : "Countess" }, )"
            R"("$unset" : { "credit" : "" }, "$inc" : { "score" : 5 }, "$push" : { "tags" : "chess" }, )"
            R"("$pull" : { "tags" : "math" }, "$rename" : { "email" : "email_address" }, )"
            R"("$currentDate" : { "joined_at" : true } })");
  Update copy = u;
  EXPECT_EQ(copy.document(), u.document());
}

template <class U, class P, class V>
concept settable = requires(U u, P p, V v) { u.set(p, v); };
static_assert(!settable<Update, model::FieldPath<int32_t>, const char*>, "string into an int field");
static_assert(!settable<Update, model::FieldPath<std::string>, int>, "int into a string field");
template <class U, class P, class V>
concept incrementable = requires(U u, P p, V v) { u.inc(p, v); };
static_assert(!incrementable<Update, model::FieldPath<std::string>, int>, "$inc on a string");

class TypedUpdateTest : public ServerTest {
 protected:
  TypedCollection<User> users{db};
  TypedCollection<Account> accounts{db};
};

TEST_F(TypedUpdateTest, UpdateOneManyAndUpsert) {
  users.insert(sample_user());
  User grace = sample_user();
  grace.name = "Grace";
  users.insert(grace);
  auto one = users.update_one(field(&User::name) == "Grace", Update().inc(field(&User::age), 1));
  EXPECT_EQ(one.modified_count, 1);
  EXPECT_EQ((*users.find_one(field(&User::name) == "Grace"))->age, 37);
  auto many = users.update_many({}, Update().push(field(&User::tags), "pioneer"));
  EXPECT_EQ(many.modified_count, 2);
  EXPECT_EQ(users.count(field(&User::tags) == "pioneer"), 2);

  auto upserted = users.update_one(field(&User::name) == "Linus", Update().set(field(&User::age), 28), {.upsert = true});
  ASSERT_TRUE(upserted.upserted_id);
  auto linus = users.find_one(field(&User::name) == "Linus");
  ASSERT_TRUE(linus);
  EXPECT_EQ((*linus)->age, 28);
}

TEST_F(TypedUpdateTest, FindOneAndUpdateReturnsTheModel) {
  users.insert(sample_user());
  auto after = users.find_one_and_update(field(&User::name) == "Ada Lovelace", Update().set(field(&User::age), 40),
                                         {.return_document = ReturnDocument::after});
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)->age, 40);
  EXPECT_TRUE(after->is_stored());
  (*after)->nickname = "Ada";
  users.save(*after);
  EXPECT_EQ((*users.find_one())->nickname, "Ada");
}

TEST_F(TypedUpdateTest, DistinctDecodesAsTheFieldType) {
  User a = sample_user(), b = sample_user(), c = sample_user();
  b.status = Status::banned;
  c.status = Status::banned;
  users.insert(a);
  users.insert(b);
  users.insert(c);
  auto statuses = users.distinct(field(&User::status));
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<Status>{Status::active, Status::banned}));
  auto tags = users.distinct(field(&User::tags));
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (std::vector<std::string>{"math", "poetry"}));
}

TEST_F(TypedUpdateTest, TimestampsAndVersionAreMaintained) {
  auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  Tracked<Account> account = accounts.insert(Account{{}, "ada", 100, {}, 0, {}, {}});
  EXPECT_EQ(account->version, 1);
  EXPECT_GT(account->created_at, before);
  EXPECT_EQ(account->updated_at, account->created_at);

  account->balance = 150;
  accounts.save(account);
  EXPECT_EQ(account->version, 2);
  EXPECT_GE(account->updated_at, account->created_at);
  auto stored = accounts.get_by_id(account->id);
  EXPECT_EQ((*stored)->version, 2);
  EXPECT_EQ((*stored)->balance, 150);
  EXPECT_EQ((*stored)->created_at, account->created_at) << "stored at millisecond precision";

  accounts.save(account);  // nothing changed: nothing written, version unchanged
  EXPECT_EQ((*accounts.get_by_id(account->id))->version, 2);
  accounts.update_one(field(&Account::owner) == "ada", Update().push(field(&Account::flags), "vip"));
  EXPECT_EQ((*accounts.get_by_id(account->id))->version, 3) << "typed updates raise the version too";
}

TEST_F(TypedUpdateTest, StaleObjectsRaiseConflictOnEveryWritePath) {
  Tracked<Account> first = accounts.insert(Account{{}, "ada", 100, {}, 0, {}, {}});
  auto second = accounts.get_by_id(first->id);
  ASSERT_TRUE(second);

  (*second)->balance = 50;
  accounts.save(*second);

  first->balance = 500;
  try {
    accounts.save(first);
    FAIL() << "expected ConflictError";
  } catch (const ConflictError& e) {
    EXPECT_NE(std::string(e.what()).find("changed since it was loaded"), std::string::npos) << e.what();
  }
  EXPECT_EQ((*accounts.get_by_id(first->id))->balance, 50) << "the stale save wrote nothing";
  EXPECT_THROW(accounts.remove(first), ConflictError);
  EXPECT_EQ(accounts.count(), 1);

  accounts.update_one(field(&Account::owner) == "ada", Update().inc(field(&Account::balance), 1));
  (*second)->balance = 0;
  EXPECT_THROW(accounts.save(*second), ConflictError) << "a typed update also makes loaded objects stale";
  auto fresh = accounts.get_by_id(first->id);
  EXPECT_TRUE(accounts.remove(*fresh));
}

}  // namespace
}  // namespace app
