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
#include "user_model.hpp"

namespace bench {

using namespace mongo_orm;

constexpr int64_t collection_size = 100'000;

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
