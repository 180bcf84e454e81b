// Raw baselines that later layers are measured against: libbson encode and decode of a
// representative user document, raw insert_many and find + iterate of 100k documents through
// libmongoc, each beside the same work done through mongo_orm's BSON and driver layers.
// Server benchmarks use $MONGODB_URI (scripts/bench.sh starts a local server).
#include <benchmark/benchmark.h>
#include <mongoc/mongoc.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "server.hpp"

namespace {

using namespace mongo_orm;
using bench::server_uri;
using bench::skip_without_server;

constexpr int64_t collection_size = 100'000;
const bson_oid_t fixed_oid = [] {
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "5d06b9c3d7c1f18db3e7c874");
  return oid;
}();

// The representative user document: 12 fields, a nested address, a tags array.
void encode_raw(bson_t* doc, int64_t i) {
  bson_t address, geo, tags;
  BSON_APPEND_OID(doc, "_id", &fixed_oid);
  BSON_APPEND_UTF8(doc, "name", "John Doe");
  BSON_APPEND_UTF8(doc, "email", "john.doe@example.com");
  BSON_APPEND_INT32(doc, "age", 42);
  BSON_APPEND_BOOL(doc, "active", true);
  BSON_APPEND_DOUBLE(doc, "balance", 1234.56);
  BSON_APPEND_DATE_TIME(doc, "created_at", 1700000000000);
  BSON_APPEND_INT64(doc, "score", i);
  BSON_APPEND_DOCUMENT_BEGIN(doc, "address", &address);
  BSON_APPEND_UTF8(&address, "street", "1 Infinite Loop");
  BSON_APPEND_UTF8(&address, "city", "Cupertino");
  BSON_APPEND_UTF8(&address, "zip", "95014");
  BSON_APPEND_ARRAY_BEGIN(&address, "geo", &geo);
  BSON_APPEND_DOUBLE(&geo, "0", 37.33);
  BSON_APPEND_DOUBLE(&geo, "1", -122.03);
  bson_append_array_end(&address, &geo);
  bson_append_document_end(doc, &address);
  BSON_APPEND_ARRAY_BEGIN(doc, "tags", &tags);
  BSON_APPEND_UTF8(&tags, "0", "admin");
  BSON_APPEND_UTF8(&tags, "1", "beta");
  BSON_APPEND_UTF8(&tags, "2", "premium");
  bson_append_array_end(doc, &tags);
  BSON_APPEND_INT32(doc, "login_count", 17);
  BSON_APPEND_UTF8(doc, "plan", "pro");
}

bson::Document encode_mongo_orm(int64_t i, bool with_id = true) {
  bson::Builder b;
  if (with_id) b.append("_id", bson::ObjectId(fixed_oid));
  b.append("name", "John Doe")
      .append("email", "john.doe@example.com")
      .append("age", 42)
      .append("active", true)
      .append("balance", 1234.56)
      .append("created_at", bson::DateTime(1700000000000))
      .append("score", i)
      .append("address",
              [](bson::Builder& a) {
                a.append("street", "1 Infinite Loop")
                    .append("city", "Cupertino")
                    .append("zip", "95014")
                    .append("geo", [](bson::ArrayBuilder& g) { g.append(37.33).append(-122.03); });
              })
      .append("tags", [](bson::ArrayBuilder& t) { t.append("admin").append("beta").append("premium"); })
      .append("login_count", 17)
      .append("plan", "pro");
  return b.extract();
}

// Reads every field the way an application would; returns a checksum so nothing is elided.
int64_t decode_raw(const bson_t* doc) {
  int64_t sum = 0;
  bson_iter_t it, sub, geo;
  if (!bson_iter_init(&it, doc)) return -1;
  while (bson_iter_next(&it)) {
    switch (bson_iter_type(&it)) {
      case BSON_TYPE_UTF8: {
        uint32_t len;
        bson_iter_utf8(&it, &len);
        sum += len;
        break;
      }
      case BSON_TYPE_INT32: sum += bson_iter_int32(&it); break;
      case BSON_TYPE_INT64: sum += bson_iter_int64(&it); break;
      case BSON_TYPE_DOUBLE: sum += static_cast<int64_t>(bson_iter_double(&it)); break;
      case BSON_TYPE_BOOL: sum += bson_iter_bool(&it); break;
      case BSON_TYPE_DATE_TIME: sum += bson_iter_date_time(&it) & 0xFF; break;
      case BSON_TYPE_OID: sum += bson_iter_oid(&it)->bytes[11]; break;
      case BSON_TYPE_DOCUMENT:
        bson_iter_recurse(&it, &sub);
        while (bson_iter_next(&sub)) {
          if (BSON_ITER_HOLDS_UTF8(&sub)) {
            uint32_t len;
            bson_iter_utf8(&sub, &len);
            sum += len;
          } else if (BSON_ITER_HOLDS_ARRAY(&sub)) {
            bson_iter_recurse(&sub, &geo);
            while (bson_iter_next(&geo)) sum += static_cast<int64_t>(bson_iter_double(&geo));
          }
        }
        break;
      case BSON_TYPE_ARRAY:
        bson_iter_recurse(&it, &sub);
        while (bson_iter_next(&sub)) {
          uint32_t len;
          bson_iter_utf8(&sub, &len);
          sum += len;
        }
        break;
      default: break;
    }
  }
  return sum;
}

int64_t decode_mongo_orm(bson::DocumentView doc) {
  int64_t sum = 0;
  for (bson::Element e : doc) {
    switch (e.type()) {
      case bson::Type::string: sum += static_cast<int64_t>(e.as_string().size()); break;
      case bson::Type::int32: sum += e.as_int32(); break;
      case bson::Type::int64: sum += e.as_int64(); break;
      case bson::Type::double_: sum += static_cast<int64_t>(e.as_double()); break;
      case bson::Type::boolean: sum += e.as_bool(); break;
      case bson::Type::date_time: sum += e.as_date_time().millis() & 0xFF; break;
      case bson::Type::object_id: sum += e.as_object_id().bytes()[11]; break;
      case bson::Type::document:
        for (bson::Element a : e.as_document()) {
          if (a.type() == bson::Type::string) {
            sum += static_cast<int64_t>(a.as_string().size());
          } else if (a.type() == bson::Type::array) {
            for (bson::Element g : a.as_array()) sum += static_cast<int64_t>(g.as_double());
          }
        }
        break;
      case bson::Type::array:
        for (bson::Element t : e.as_array()) sum += static_cast<int64_t>(t.as_string().size());
        break;
      default: break;
    }
  }
  return sum;
}

void BM_Encode_RawLibbson(benchmark::State& state) {
  bson_t doc = BSON_INITIALIZER;
  int64_t i = 0;
  for (auto _ : state) {
    bson_reinit(&doc);
    encode_raw(&doc, i++);
    benchmark::DoNotOptimize(doc.len);
  }
  bson_destroy(&doc);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Encode_RawLibbson);

void BM_Encode_MongoOrmBuilder(benchmark::State& state) {
  int64_t i = 0;
  for (auto _ : state) {
    bson::Document doc = encode_mongo_orm(i++);
    benchmark::DoNotOptimize(doc.length());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Encode_MongoOrmBuilder);

void BM_Decode_RawLibbson(benchmark::State& state) {
  bson_t doc = BSON_INITIALIZER;
  encode_raw(&doc, 7);
  for (auto _ : state) benchmark::DoNotOptimize(decode_raw(&doc));
  bson_destroy(&doc);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode_RawLibbson);

void BM_Decode_MongoOrmView(benchmark::State& state) {
  bson::Document doc = encode_mongo_orm(7);
  for (auto _ : state) benchmark::DoNotOptimize(decode_mongo_orm(doc));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode_MongoOrmView);

// --- Server benchmarks -------------------------------------------------------------------

constexpr const char* bench_db = "mongo_orm_bench";

struct RawConnection {
  mongoc_client_t* client;
  mongoc_collection_t* collection;
  explicit RawConnection(const char* name) {
    client = mongoc_client_new(server_uri());
    collection = mongoc_client_get_collection(client, bench_db, name);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() {
    mongoc_collection_destroy(collection);
    mongoc_client_destroy(client);
  }
  void drop() { mongoc_collection_drop_with_opts(collection, nullptr, nullptr); }
};

void BM_InsertMany100k_RawLibmongoc(benchmark::State& state) {
  if (skip_without_server(state)) return;
  RawConnection raw("insert_raw");
  // A plain C array: bson_t's alignment attribute does not survive as a template argument.
  auto** docs = static_cast<bson_t**>(bson_malloc(sizeof(bson_t*) * collection_size));
  for (int64_t i = 0; i < collection_size; ++i) {
    bson_t* doc = bson_new();
    bson_oid_t oid;
    bson_oid_init(&oid, nullptr);
    BSON_APPEND_OID(doc, "_id", &oid);
    bson_t body = BSON_INITIALIZER;
    encode_raw(&body, i);
    bson_iter_t it;
    bson_iter_init(&it, &body);
    bson_iter_next(&it);  // skip the fixed _id
    while (bson_iter_next(&it)) bson_append_iter(doc, bson_iter_key(&it), -1, &it);
    bson_destroy(&body);
    docs[i] = doc;
  }
  for (auto _ : state) {
    state.PauseTiming();
    raw.drop();
    state.ResumeTiming();
    bson_error_t error;
    if (!mongoc_collection_insert_many(raw.collection, const_cast<const bson_t**>(docs),
                                       collection_size, nullptr, nullptr, &error)) {
      state.SkipWithError(error.message);
      break;
    }
  }
  raw.drop();
  for (int64_t i = 0; i < collection_size; ++i) bson_destroy(docs[i]);
  bson_free(docs);
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_InsertMany100k_RawLibmongoc)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_InsertMany100k_MongoOrm(benchmark::State& state) {
  if (skip_without_server(state)) return;
  Client client(server_uri());
  Collection users = client.database(bench_db).collection("insert_orm");
  std::vector<bson::Document> docs;
  docs.reserve(collection_size);
  for (int64_t i = 0; i < collection_size; ++i) {
    bson::Builder b;
    b.append("_id", bson::ObjectId::generate()).concat(encode_mongo_orm(i, false));
    docs.push_back(b.extract());
  }
  for (auto _ : state) {
    state.PauseTiming();
    users.drop();
    state.ResumeTiming();
    benchmark::DoNotOptimize(users.insert_many(docs).inserted_count);
  }
  users.drop();
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_InsertMany100k_MongoOrm)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// Both find benchmarks read the same collection, filled once.
void ensure_find_collection() {
  static bool filled = false;
  if (filled) return;
  Client client(server_uri());
  Collection coll = client.database(bench_db).collection("find");
  coll.drop();
  std::vector<bson::Document> docs;
  for (int64_t i = 0; i < collection_size; ++i) {
    bson::Builder b;
    b.append("_id", bson::ObjectId::generate()).concat(encode_mongo_orm(i, false));
    docs.push_back(b.extract());
  }
  coll.insert_many(docs);
  filled = true;
}

void BM_FindIterate100k_RawLibmongoc(benchmark::State& state) {
  if (skip_without_server(state)) return;
  ensure_find_collection();
  RawConnection raw("find");
  int64_t checksum = 0;
  for (auto _ : state) {
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(raw.collection, &filter, nullptr, nullptr);
    const bson_t* doc;
    int64_t n = 0;
    while (mongoc_cursor_next(cursor, &doc)) {
      checksum += decode_raw(doc);
      ++n;
    }
    mongoc_cursor_destroy(cursor);
    if (n != collection_size) state.SkipWithError("unexpected document count");
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_FindIterate100k_RawLibmongoc)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_FindIterate100k_MongoOrm(benchmark::State& state) {
  if (skip_without_server(state)) return;
  ensure_find_collection();
  Client client(server_uri());
  Collection coll = client.database(bench_db).collection("find");
  int64_t checksum = 0;
  for (auto _ : state) {
    int64_t n = 0;
    for (bson::DocumentView doc : coll.find()) {
      checksum += decode_mongo_orm(doc);
      ++n;
    }
    if (n != collection_size) state.SkipWithError("unexpected document count");
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * collection_size);
}
BENCHMARK(BM_FindIterate100k_MongoOrm)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return bench::run_benchmarks(argc, argv, bench_db); }
