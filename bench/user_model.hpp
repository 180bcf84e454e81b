// The benchmarks' model: a user with a nested address, arrays and most scalar types, as
// mongo_orm declares it, and what careful hand-written libbson code does with the same struct.
#pragma once

#include <mongoc/mongoc.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"

namespace bench {

using namespace mongo_orm;

struct Address {
  std::string street;
  std::string city;
  std::string zip;
  std::vector<double> geo;
};
inline auto define_schema(model::SchemaTag<Address>) {
  return model::schema<Address>()
      .field(&Address::street, "street")
      .field(&Address::city, "city")
      .field(&Address::zip, "zip")
      .field(&Address::geo, "geo");
}

struct User {
  bson::ObjectId id;
  std::string name;
  std::string email;
  int32_t age = 0;
  bool active = false;
  double balance = 0;
  std::chrono::system_clock::time_point created_at;
  int64_t score = 0;
  Address address;
  std::vector<std::string> tags;
  int32_t login_count = 0;
  std::string plan;
};
inline auto define_schema(model::SchemaTag<User>) {
  return model::schema<User>("users")
      .id(&User::id)
      .field(&User::name, "name")
      .field(&User::email, "email")
      .field(&User::age, "age")
      .field(&User::active, "active")
      .field(&User::balance, "balance")
      .field(&User::created_at, "created_at")
      .field(&User::score, "score")
      .field(&User::address, "address")
      .field(&User::tags, "tags")
      .field(&User::login_count, "login_count")
      .field(&User::plan, "plan");
}

inline User make_user(int64_t i) {
  User u;
  u.name = "John Doe";
  u.email = "john.doe" + std::to_string(i) + "@example.com";
  u.age = static_cast<int32_t>(20 + i % 50);
  u.active = i % 2 == 0;
  u.balance = 1234.56 + static_cast<double>(i);
  u.created_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000000 + i));
  u.score = i;
  u.address = {"1 Infinite Loop", "Cupertino", "95014", {37.33, -122.03}};
  u.tags = {"admin", "beta", "premium"};
  u.login_count = 17;
  u.plan = "pro";
  return u;
}

// What a careful hand-written libbson decoder does: one pass, keys compared, values copied.
inline void decode_raw(const bson_t* doc, User& u) {
  bson_iter_t it, sub, arr;
  bson_iter_init(&it, doc);
  while (bson_iter_next(&it)) {
    const char* key = bson_iter_key(&it);
    uint32_t len = 0;
    if (!strcmp(key, "_id")) {
      u.id = bson::ObjectId(*bson_iter_oid(&it));
    } else if (!strcmp(key, "name")) {
      const char* s = bson_iter_utf8(&it, &len);
      u.name.assign(s, len);
    } else if (!strcmp(key, "email")) {
      const char* s = bson_iter_utf8(&it, &len);
      u.email.assign(s, len);
    } else if (!strcmp(key, "age")) {
      u.age = bson_iter_int32(&it);
    } else if (!strcmp(key, "active")) {
      u.active = bson_iter_bool(&it);
    } else if (!strcmp(key, "balance")) {
      u.balance = bson_iter_double(&it);
    } else if (!strcmp(key, "created_at")) {
      u.created_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(bson_iter_date_time(&it)));
    } else if (!strcmp(key, "score")) {
      u.score = bson_iter_int64(&it);
    } else if (!strcmp(key, "address")) {
      bson_iter_recurse(&it, &sub);
      while (bson_iter_next(&sub)) {
        const char* k = bson_iter_key(&sub);
        if (!strcmp(k, "geo")) {
          u.address.geo.clear();
          bson_iter_recurse(&sub, &arr);
          while (bson_iter_next(&arr)) u.address.geo.push_back(bson_iter_double(&arr));
        } else {
          const char* s = bson_iter_utf8(&sub, &len);
          (!strcmp(k, "street") ? u.address.street : !strcmp(k, "city") ? u.address.city : u.address.zip).assign(s, len);
        }
      }
    } else if (!strcmp(key, "tags")) {
      u.tags.clear();
      bson_iter_recurse(&it, &arr);
      while (bson_iter_next(&arr)) {
        const char* s = bson_iter_utf8(&arr, &len);
        u.tags.emplace_back(s, len);
      }
    } else if (!strcmp(key, "login_count")) {
      u.login_count = bson_iter_int32(&it);
    } else if (!strcmp(key, "plan")) {
      const char* s = bson_iter_utf8(&it, &len);
      u.plan.assign(s, len);
    }
  }
}

// What a careful hand-written libbson encoder does: the same fields, appended in one pass.
inline void encode_raw(const User& u, bson_t* doc) {
  bson_t address, geo, tags;
  bson_append_oid(doc, "_id", 3, &u.id.native());
  bson_append_utf8(doc, "name", 4, u.name.data(), static_cast<int>(u.name.size()));
  bson_append_utf8(doc, "email", 5, u.email.data(), static_cast<int>(u.email.size()));
  bson_append_int32(doc, "age", 3, u.age);
  bson_append_bool(doc, "active", 6, u.active);
  bson_append_double(doc, "balance", 7, u.balance);
  bson_append_date_time(doc, "created_at", 10,
                        std::chrono::duration_cast<std::chrono::milliseconds>(u.created_at.time_since_epoch()).count());
  bson_append_int64(doc, "score", 5, u.score);
  bson_append_document_begin(doc, "address", 7, &address);
  bson_append_utf8(&address, "street", 6, u.address.street.data(), static_cast<int>(u.address.street.size()));
  bson_append_utf8(&address, "city", 4, u.address.city.data(), static_cast<int>(u.address.city.size()));
  bson_append_utf8(&address, "zip", 3, u.address.zip.data(), static_cast<int>(u.address.zip.size()));
  bson_append_array_begin(&address, "geo", 3, &geo);
  char key[16];
  const char* key_text = nullptr;
  for (std::size_t i = 0; i < u.address.geo.size(); ++i) {
    std::size_t key_length = bson_uint32_to_string(static_cast<uint32_t>(i), &key_text, key, sizeof key);
    bson_append_double(&geo, key_text, static_cast<int>(key_length), u.address.geo[i]);
  }
  bson_append_array_end(&address, &geo);
  bson_append_document_end(doc, &address);
  bson_append_array_begin(doc, "tags", 4, &tags);
  for (std::size_t i = 0; i < u.tags.size(); ++i) {
    std::size_t key_length = bson_uint32_to_string(static_cast<uint32_t>(i), &key_text, key, sizeof key);
    bson_append_utf8(&tags, key_text, static_cast<int>(key_length), u.tags[i].data(), static_cast<int>(u.tags[i].size()));
  }
  bson_append_array_end(doc, &tags);
  bson_append_int32(doc, "login_count", 11, u.login_count);
  bson_append_utf8(doc, "plan", 4, u.plan.data(), static_cast<int>(u.plan.size()));
}

}  // namespace bench
