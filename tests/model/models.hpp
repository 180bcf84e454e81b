// Models shared by the model-layer tests.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"

namespace app {

using namespace mongo_orm;

enum class Status { active, suspended, banned };
constexpr auto enum_values(model::EnumTag<Status>) {
  return std::array{std::pair{Status::active, "active"}, std::pair{Status::suspended, "suspended"},
                    std::pair{Status::banned, "banned"}};
}

// A user type with its own codec: stored as a two-element array [x, y].
struct Point {
  double x = 0;
  double y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};

}  // namespace app

template <>
struct mongo_orm::model::Codec<app::Point> {
  static void encode(bson_t* doc, std::string_view key, const app::Point& p) {
    Codec<std::vector<double>>::encode(doc, key, std::vector<double>{p.x, p.y});
  }
  static void decode(const bson::Element& e, app::Point& out) {
    std::vector<double> xy;
    Codec<std::vector<double>>::decode(e, xy);
    if (xy.size() != 2) throw DecodeError::at({}, "a point needs exactly 2 coordinates, got " + std::to_string(xy.size()));
    out = {xy[0], xy[1]};
  }
};

namespace app {

struct Address {
  std::string street;
  std::string city;
  std::string zip;
  std::optional<Point> geo;
};

inline auto define_schema(model::SchemaTag<Address>) {
  using namespace model;
  return schema<Address>()
      .field(&Address::street, "street")
      .field(&Address::city, "city", required())
      .field(&Address::zip, "zip", matches("[0-9]{5}"))
      .field(&Address::geo, "geo");
}

struct User {
  bson::ObjectId id;
  std::string name;
  std::string email;
  int32_t age = 0;
  int64_t score = 0;
  double balance = 0;
  bool active = true;
  std::chrono::system_clock::time_point joined{};
  std::optional<std::string> nickname;
  Address address;
  std::vector<std::string> tags;
  std::map<std::string, int32_t> counters;
  Status status = Status::active;
  std::optional<bson::Decimal128> credit;
  std::optional<bson::Uuid> device;
  std::vector<Address> previous_addresses;
  bson::Document preferences;
};

inline auto define_schema(model::SchemaTag<User>) {
  using namespace model;
  return schema<User>("users")
      .id(&User::id)
      .field(&User::name, "name", required(), max_length(40))
      .field(&User::email, "email", matches(R"([^@\s]+@[^@\s]+)"))
      .field(&User::age, "age", min(0), max(150))
      .field(&User::score, "score")
      .field(&User::balance, "balance")
      .field(&User::active, "active")
      .field(&User::joined, "joined_at")
      .field(&User::nickname, "nickname", min_length(2))
      .field(&User::address, "address")
      .field(&User::tags, "tags", max_length(5))
      .field(&User::counters, "counters")
      .field(&User::status, "status")
      .field(&User::credit, "credit")
      .field(&User::device, "device")
      .field(&User::previous_addresses, "previous_addresses")
      .field(&User::preferences, "preferences");
}

// Seed 002 example 1: a field added later with a default.
struct Member {
  std::string id;
  std::string name;
  bool enabled = false;
};

inline auto define_schema(model::SchemaTag<Member>) {
  using namespace model;
  return schema<Member>("members").id(&Member::id).field(&Member::name, "name").field(&Member::enabled, "enabled", default_value(true));
}

// A strict model: unknown stored fields are an error.
struct StrictItem {
  int32_t id = 0;
  std::string label;
};

inline auto define_schema(model::SchemaTag<StrictItem>) {
  using namespace model;
  return schema<StrictItem>("strict_items").id(&StrictItem::id).field(&StrictItem::label, "label").strict();
}

inline User sample_user() {
  User u;
  u.name = "Ada Lovelace";
  u.email = "ada@example.com";
  u.age = 36;
  u.score = 1LL << 40;
  u.balance = 12.5;
  u.joined = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  u.address = {"12 St James's Square", "London", "10115", Point{51.5, -0.25}};
  u.tags = {"math", "poetry"};
  u.counters = {{"logins", 3}, {"posts", 7}};
  u.status = Status::active;
  u.preferences = bson::from_json(R"({"theme": "dark", "beta": true})");
  return u;
}

}  // namespace app

