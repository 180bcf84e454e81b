// Populate: 10,000 posts, each referring to one of 10,000 authors, read with their authors.
// The raw side is the C driver doing the same by hand: find the posts, collect the author ids,
// one {_id: {$in: ids}} find, link each post to its author's document. The mongo_orm side is
// posts.query().populate(&Post::author).to_vector(): typed posts with typed authors attached.
// Round trips (commands sent, getMore included) are counted through libmongoc's command
// monitoring and reported per iteration.
#include <benchmark/benchmark.h>
#include <mongoc/mongoc.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "server.hpp"
#include "support/command_counter.hpp"

namespace bench {

using namespace mongo_orm;

constexpr int64_t post_count = 10'000;
constexpr const char* bench_db = "mongo_orm_bench_populate";

struct Author {
  bson::ObjectId id;
  std::string name;
  std::string email;
};
inline auto define_schema(model::SchemaTag<Author>) {
  return model::schema<Author>("authors").id(&Author::id).field(&Author::name, "name").field(&Author::email, "email");
}
struct Post {
  bson::ObjectId id;
  std::string title;
  int32_t likes = 0;
  model::Ref<Author> author;
};
inline auto define_schema(model::SchemaTag<Post>) {
  return model::schema<Post>("posts")
      .id(&Post::id)
      .field(&Post::title, "title")
      .field(&Post::likes, "likes")
      .field(&Post::author, "author");
}

// A document copied out of a cursor (a bare bson_t* as a template argument loses its alignment attribute).
struct Owned {
  bson_t* bson;
};

// Every command sent through the counted pool (getMore included).
testing::CommandCounter& counted() {
  static testing::CommandCounter instance(server_uri());
  return instance;
}
// Round trips per iteration: all of them, and those fetching the authors.
void report_round_trips(benchmark::State& state, int64_t all_before, int64_t authors_before) {
  double n = static_cast<double>(state.iterations());
  state.counters["round_trips"] = static_cast<double>(counted().total() - all_before) / n;
  state.counters["author_round_trips"] = static_cast<double>(counted().on("authors") - authors_before) / n;
}

void seed_once() {
  static const bool seeded = [] {
    Database db = Client(server_uri()).database(bench_db);
    model::TypedCollection<Author> authors(db);
    model::TypedCollection<Post> posts(db);
    authors.raw().drop();
    posts.raw().drop();
    std::vector<Author> a(post_count);
    for (int64_t i = 0; i < post_count; ++i) {
      a[i].name = "Author " + std::to_string(i);
      a[i].email = "author" + std::to_string(i) + "@example.com";
    }
    auto stored = authors.insert_many(std::move(a));
    std::vector<Post> p(post_count);
    for (int64_t i = 0; i < post_count; ++i) {
      p[i].title = "Post " + std::to_string(i);
      p[i].likes = static_cast<int32_t>(i % 100);
      p[i].author = stored[static_cast<std::size_t>((i * 7919) % post_count)]->id;
    }
    posts.insert_many(std::move(p));
    return true;
  }();
  (void)seeded;
}

void BM_Populate10k_RawDriverIn(benchmark::State& state) {
  if (skip_without_server(state)) return;
  seed_once();
  mongoc_client_t* client = mongoc_client_pool_pop(counted().pool());
  mongoc_collection_t* posts = mongoc_client_get_collection(client, bench_db, "posts");
  mongoc_collection_t* authors = mongoc_client_get_collection(client, bench_db, "authors");
  int64_t before = counted().total(), authors_before = counted().on("authors");
  for (auto _ : state) {
    std::vector<Owned> post_docs;
    post_docs.reserve(post_count);
    bson_t empty = BSON_INITIALIZER;
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(posts, &empty, nullptr, nullptr);
    const bson_t* doc;
    bson_t filter = BSON_INITIALIZER, by_id, in;
    bson_append_document_begin(&filter, "_id", 3, &by_id);
    bson_append_array_begin(&by_id, "$in", 3, &in);
    std::unordered_map<std::string, std::size_t> wanted;
    char key_buffer[16];
    while (mongoc_cursor_next(cursor, &doc)) {
      post_docs.push_back({bson_copy(doc)});
      bson_iter_t it;
      if (bson_iter_init_find(&it, doc, "author") && BSON_ITER_HOLDS_OID(&it)) {
        std::string key(reinterpret_cast<const char*>(bson_iter_oid(&it)->bytes), 12);
        if (wanted.emplace(key, wanted.size()).second) {
          const char* index;
          std::size_t len = bson_uint32_to_string(static_cast<uint32_t>(wanted.size() - 1), &index, key_buffer, sizeof key_buffer);
          bson_append_oid(&in, index, static_cast<int>(len), bson_iter_oid(&it));
        }
      }
    }
    mongoc_cursor_destroy(cursor);
    bson_append_array_end(&by_id, &in);
    bson_append_document_end(&filter, &by_id);
    bson_t opts = BSON_INITIALIZER;
    // Every match in the first reply, the cursor closed with it (no empty getMore).
    BSON_APPEND_INT64(&opts, "limit", static_cast<int64_t>(wanted.size()));
    BSON_APPEND_INT32(&opts, "batchSize", static_cast<int32_t>(wanted.size() + 1));
    cursor = mongoc_collection_find_with_opts(authors, &filter, &opts, nullptr);
    std::unordered_map<std::string, Owned> by_key;
    while (mongoc_cursor_next(cursor, &doc)) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, doc, "_id")) by_key.emplace(std::string(reinterpret_cast<const char*>(bson_iter_oid(&it)->bytes), 12), Owned{bson_copy(doc)});
    }
    mongoc_cursor_destroy(cursor);
    std::size_t linked = 0;
    for (const Owned& post : post_docs) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, post.bson, "author") && by_key.contains(std::string(reinterpret_cast<const char*>(bson_iter_oid(&it)->bytes), 12))) ++linked;
    }
    benchmark::DoNotOptimize(linked);
    for (const Owned& post : post_docs) bson_destroy(post.bson);
    for (auto& [key, author] : by_key) bson_destroy(author.bson);
    bson_destroy(&filter);
    bson_destroy(&opts);
  }
  report_round_trips(state, before, authors_before);
  state.SetItemsProcessed(state.iterations() * post_count);
  mongoc_collection_destroy(posts);
  mongoc_collection_destroy(authors);
  mongoc_client_pool_push(counted().pool(), client);
}
BENCHMARK(BM_Populate10k_RawDriverIn)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Populate10k_MongoOrm(benchmark::State& state) {
  if (skip_without_server(state)) return;
  seed_once();
  const Client& client = counted().client();
  model::TypedCollection<Post> posts(client.database(bench_db));
  (void)client.capabilities();  // asked once per client (buildInfo, hello), not per populate
  int64_t before = counted().total(), authors_before = counted().on("authors");
  for (auto _ : state) {
    auto found = posts.query().populate(&Post::author).to_vector();
    benchmark::DoNotOptimize(found.back()->author->name.size());
  }
  report_round_trips(state, before, authors_before);
  state.SetItemsProcessed(state.iterations() * post_count);
}
BENCHMARK(BM_Populate10k_MongoOrm)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace bench

int main(int argc, char** argv) { return bench::run_benchmarks(argc, argv, bench::bench_db); }
