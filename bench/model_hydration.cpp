// Hydration: 100k stored documents decoded into models, against hand-written libbson code
// reading the same fields into the same struct; and insert_many of models against raw
// insert_many. The documents are read from the server once, then decoded from memory, so the
// figures compare decoding alone.
#include <benchmark/benchmark.h>
#include <mongoc/mongoc.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "server.hpp"

namespace bench {

using namespace mongo_orm;

struct Address {
  std::string street;
  std::string city;
  std::string zip;
  std::vector<double> geo;
};
auto define_schema(model::SchemaTag<Address>) {
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
auto define_schema(model::SchemaTag<User>) {
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

constexpr int64_t collection_size = 100'000;

User make_user(int64_t i) {
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
void decode_raw(const bson_t* doc, User& u) {
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

constexpr const char* bench_db = "mongo_orm_bench_models";

// The stored documents, read back from the server once.
const std::vector<bson::Document>& stored_documents() {
  static const std::vector<bson::Document> documents = [] {
    Client client(server_uri());
    model::TypedCollection<User> users(client.database(bench_db));
    users.raw().drop();
    std::vector<User> batch;
    for (int64_t i = 0; i < collection_size; ++i) batch.push_back(make_user(i));
    users.insert_many(std::move(batch));
    std::vector<bson::Document> all;
    for (bson::DocumentView doc : users.raw().find()) all.emplace_back(doc);
    return all;
  }();
  return documents;
}

void BM_Hydrate100k_RawLibbson(benchmark::State& state) {
  if (skip_without_server(state)) return;
  const auto& docs = stored_documents();
  for (auto _ : state) {
    for (const auto& doc : docs) {
      User u;
      decode_raw(doc.bson(), u);
      benchmark::DoNotOptimize(u.score);
    }
  }
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_Hydrate100k_RawLibbson)->Unit(benchmark::kMillisecond);

void BM_Hydrate100k_MongoOrmDecode(benchmark::State& state) {
  if (skip_without_server(state)) return;
  const auto& docs = stored_documents();
  const auto& schema = model::schema_of<User>();
  for (auto _ : state) {
    for (const auto& doc : docs) {
      User u;
      schema.decode(doc, u);
      benchmark::DoNotOptimize(u.score);
    }
  }
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_Hydrate100k_MongoOrmDecode)->Unit(benchmark::kMillisecond);

// What a typed cursor does per document: decode plus the snapshot kept for dirty saves.
void BM_Hydrate100k_MongoOrmTracked(benchmark::State& state) {
  if (skip_without_server(state)) return;
  const auto& docs = stored_documents();
  for (auto _ : state) {
    for (const auto& doc : docs) {
      auto tracked = model::TypedCollection<User>::hydrate(doc, "bench.users");
      benchmark::DoNotOptimize(tracked->score);
    }
  }
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_Hydrate100k_MongoOrmTracked)->Unit(benchmark::kMillisecond);

// End to end, as the peers are measured: query, transfer and hydrate through a typed cursor.
void BM_FindHydrate100k_MongoOrm(benchmark::State& state) {
  if (skip_without_server(state)) return;
  stored_documents();
  Client client(server_uri());
  model::TypedCollection<User> users(client.database(bench_db));
  for (auto _ : state) {
    int64_t n = 0;
    for (auto& user : users.find()) {
      benchmark::DoNotOptimize(user->score);
      ++n;
    }
    if (n != collection_size) state.SkipWithError("unexpected document count");
  }
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_FindHydrate100k_MongoOrm)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_InsertMany100k_RawLibmongoc(benchmark::State& state) {
  if (skip_without_server(state)) return;
  const auto& docs = stored_documents();
  mongoc_client_t* client = mongoc_client_new(server_uri());
  mongoc_collection_t* coll = mongoc_client_get_collection(client, bench_db, "insert_raw");
  auto** pointers = static_cast<const bson_t**>(bson_malloc(sizeof(bson_t*) * docs.size()));
  for (std::size_t i = 0; i < docs.size(); ++i) pointers[i] = docs[i].bson();
  for (auto _ : state) {
    state.PauseTiming();
    mongoc_collection_drop_with_opts(coll, nullptr, nullptr);
    state.ResumeTiming();
    bson_error_t error;
    if (!mongoc_collection_insert_many(coll, pointers, docs.size(), nullptr, nullptr, &error)) {
      state.SkipWithError(error.message);
      break;
    }
  }
  bson_free(pointers);
  mongoc_collection_drop_with_opts(coll, nullptr, nullptr);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_InsertMany100k_RawLibmongoc)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_InsertMany100k_MongoOrmModels(benchmark::State& state) {
  if (skip_without_server(state)) return;
  const auto& docs = stored_documents();
  Client client(server_uri());
  model::TypedCollection<User> users(client.database(bench_db), "insert_models");
  std::vector<User> models;
  for (const auto& doc : docs) {
    User u;
    model::schema_of<User>().decode(doc, u);
    models.push_back(std::move(u));
  }
  for (auto _ : state) {
    state.PauseTiming();
    users.raw().drop();
    std::vector<User> batch = models;
    state.ResumeTiming();
    benchmark::DoNotOptimize(users.insert_many(std::move(batch)).size());
  }
  users.raw().drop();
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_InsertMany100k_MongoOrmModels)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace bench

int main(int argc, char** argv) { return bench::run_benchmarks(argc, argv, bench::bench_db); }
