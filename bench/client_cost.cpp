// The client's own cost, which no server can hide: one scenario per run, raw C driver against
// mongo_orm on the same documents. The measured part of each scenario is a function named
// measured_<scenario>; scripts/bench-client-cost.sh runs this program under valgrind's callgrind
// with --toggle-collect on those functions, so that only the instructions this process executes
// inside them are counted: neither the set-up nor the server (another process) is.
//
// The raw side takes its client from a mongoc_client_pool, as mongo_orm does (its handles are
// shared across threads). A pooled client reads every reply through a buffered stream, one
// more copy of each reply than a single-threaded mongoc_client_t makes; find_hydrate_raw_single
// measures that client too.
//
// usage: client_cost SCENARIO [DOCUMENTS]      (MONGODB_URI names the server)
#include <mongoc/mongoc.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "server.hpp"
#include "user_model.hpp"

namespace bench {

constexpr const char* cost_db = "mongo_orm_bench_client_cost";

// Keeps the compiler from dropping work whose result is otherwise unused.
volatile int64_t sink = 0;

std::vector<User> users(int64_t n) {
  std::vector<User> all;
  all.reserve(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    User u = make_user(i);
    u.id = bson::ObjectId::generate();
    all.push_back(std::move(u));
  }
  return all;
}

// Encode + insert: the models built by hand into bson_t with libbson, then insert_many.
__attribute__((noinline)) void measured_encode_insert_raw(mongoc_collection_t* collection, const std::vector<User>& models) {
  auto** documents = static_cast<bson_t**>(bson_malloc(sizeof(bson_t*) * models.size()));
  for (std::size_t i = 0; i < models.size(); ++i) {
    documents[i] = bson_new();
    encode_raw(models[i], documents[i]);
  }
  bson_error_t error;
  if (!mongoc_collection_insert_many(collection, const_cast<const bson_t**>(documents), models.size(), nullptr, nullptr,
                                     &error)) {
    std::fprintf(stderr, "insert_many: %s\n", error.message);
    std::exit(1);
  }
  for (std::size_t i = 0; i < models.size(); ++i) bson_destroy(documents[i]);
  bson_free(static_cast<void*>(documents));
}

// Encode + insert through the model layer: validation, encoding, the insert, the snapshots kept.
__attribute__((noinline)) void measured_encode_insert_models(const model::TypedCollection<User>& collection,
                                                             std::vector<User> models) {
  sink = static_cast<int64_t>(collection.insert_many(std::move(models)).size());
}

// Insert of documents already built: mongoc_collection_insert_many against Collection::insert_many.
__attribute__((noinline)) void measured_insert_documents_raw(mongoc_collection_t* collection, const bson_t** documents,
                                                             std::size_t count) {
  bson_error_t error;
  if (!mongoc_collection_insert_many(collection, documents, count, nullptr, nullptr, &error)) {
    std::fprintf(stderr, "insert_many: %s\n", error.message);
    std::exit(1);
  }
}
__attribute__((noinline)) void measured_insert_documents(const Collection& collection,
                                                         const std::vector<bson::Document>& documents) {
  sink = collection.insert_many(documents).inserted_count;
}

// Find + hydrate: a cursor over every document, each decoded into a User.
__attribute__((noinline)) void measured_find_hydrate_raw(mongoc_collection_t* collection) {
  bson_t filter = BSON_INITIALIZER;
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(collection, &filter, nullptr, nullptr);
  const bson_t* doc = nullptr;
  int64_t total = 0;
  while (mongoc_cursor_next(cursor, &doc)) {
    User u;
    decode_raw(doc, u);
    total += u.score;
  }
  bson_error_t error;
  if (mongoc_cursor_error(cursor, &error)) {
    std::fprintf(stderr, "find: %s\n", error.message);
    std::exit(1);
  }
  mongoc_cursor_destroy(cursor);
  sink = total;
}
// The same on a single-threaded client (mongoc_client_new), which reads replies without the
// pool's buffered stream.
__attribute__((noinline)) void measured_find_hydrate_raw_single(mongoc_collection_t* collection) {
  measured_find_hydrate_raw(collection);
}
// Tracked objects, as find() gives them: decoded, with the stored document kept for dirty saves.
__attribute__((noinline)) void measured_find_hydrate_models(const model::TypedCollection<User>& collection) {
  int64_t total = 0;
  for (auto& user : collection.find()) total += user->score;
  sink = total;
}

bson::Document encoded(const User& u) {
  bson_t* doc = bson_new();
  model::schema_of<User>().encode(doc, u);
  return bson::Document::adopt(doc);
}

int run(const std::string& scenario, int64_t n) {
  if (!server_uri()) {
    std::fprintf(stderr, "client_cost: MONGODB_URI is not set (scripts/bench-client-cost.sh starts a local server)\n");
    return 2;
  }
  Client client(server_uri());
  Database database = client.database(cost_db);
  model::TypedCollection<User> typed(database);
  Collection plain = database.collection("users");
  mongoc_uri_t* uri = mongoc_uri_new(server_uri());
  mongoc_client_pool_t* raw_pool = mongoc_client_pool_new(uri);
  mongoc_client_t* raw_client = mongoc_client_pool_pop(raw_pool);
  mongoc_collection_t* raw = mongoc_client_get_collection(raw_client, cost_db, "users");
  mongoc_client_t* single_client = mongoc_client_new_from_uri(uri);
  mongoc_collection_t* single = mongoc_client_get_collection(single_client, cost_db, "users");
  plain.drop();
  std::vector<User> models = users(n);

  std::map<std::string, std::function<void()>> scenarios{
      {"encode_insert_raw", [&] { measured_encode_insert_raw(raw, models); }},
      {"encode_insert_models", [&] { measured_encode_insert_models(typed, models); }},
      {"insert_documents_raw",
       [&] {
         std::vector<bson::Document> built;
         for (const User& u : models) built.push_back(encoded(u));
         auto** pointers = static_cast<const bson_t**>(bson_malloc(sizeof(bson_t*) * built.size()));
         for (std::size_t i = 0; i < built.size(); ++i) pointers[i] = built[i].bson();
         measured_insert_documents_raw(raw, pointers, built.size());
         bson_free(static_cast<void*>(pointers));
       }},
      {"insert_documents",
       [&] {
         std::vector<bson::Document> built;
         for (const User& u : models) built.push_back(encoded(u));
         measured_insert_documents(plain, built);
       }},
      {"find_hydrate_raw",
       [&] {
         typed.insert_many(models);
         measured_find_hydrate_raw(raw);
       }},
      {"find_hydrate_raw_single",
       [&] {
         typed.insert_many(models);
         measured_find_hydrate_raw_single(single);
       }},
      {"find_hydrate_models",
       [&] {
         typed.insert_many(models);
         measured_find_hydrate_models(typed);
       }},
  };
  auto it = scenarios.find(scenario);
  int code = 0;
  if (it == scenarios.end()) {
    std::fprintf(stderr, "client_cost: unknown scenario '%s'; one of:", scenario.c_str());
    for (const auto& [name, _] : scenarios) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    code = 2;
  } else {
    it->second();
    if (plain.count_documents({}) != n) {
      std::fprintf(stderr, "client_cost: %s: the collection does not hold %lld documents\n", scenario.c_str(),
                   static_cast<long long>(n));
      code = 1;
    }
  }
  plain.drop();
  mongoc_collection_destroy(single);
  mongoc_client_destroy(single_client);
  mongoc_collection_destroy(raw);
  mongoc_client_pool_push(raw_pool, raw_client);
  mongoc_client_pool_destroy(raw_pool);
  mongoc_uri_destroy(uri);
  return code;
}

}  // namespace bench

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: client_cost SCENARIO [DOCUMENTS]\n");
    return 2;
  }
  int64_t n = argc > 2 ? std::atoll(argv[2]) : 20000;
  if (n < 1) {
    std::fprintf(stderr, "client_cost: DOCUMENTS must be at least 1\n");
    return 2;
  }
  return bench::run(argv[1], n);
}
