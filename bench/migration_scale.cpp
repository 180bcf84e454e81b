// Migrations at scale, one case per invocation (scripts/bench-migrations.sh runs them all on the
// same server and prints the table):
//
//   load N        a fresh `users` collection of N documents {_id: ObjectId, name: "First Last", ...}
//   per_document  (a) seed 000's SplitNameField loop: a cursor over {name: {$exists: true}} and one
//                 update_one per document, with the raw C driver
//   skip_limit    (b) seed 000's batch loop: find({}).skip(processed).limit(5000), one update_one
//                 per document, 0.1 s sleep per batch; the same split
//   transform     (c) mongo_orm: a migration of one ops::transform doing the split, run by Runner
//   update_many   (d) the raw driver's update_many({}, {$set: {migrated: true}})
//   add_field     (e) mongo_orm: a migration of one ops::add_field("users", "migrated", true)
//   dedupe        mongo_orm: ops::dedupe_for_unique on email, after `load --duplicates D` gave D
//                 documents the email of another; prints the peak memory of the process too
//   full_pass     one read of every document with the raw C driver: what dedupe and analyze are
//                 measured against
//   analyze       mongo_orm: autogen::analyze of the collection (every path by type, exact counts);
//                 prints the peak memory of the process too
//   drop          drops the database the cases work in
//   check_split   --done N: exactly N documents were split and the rest were not (after a peer's run)
//
// The per-document loops stop after --cap-seconds: on FerretDB every update by _id scans the
// table, so their cost per document is the same all the way through and a full run would take
// hours. Each case prints one JSON line: documents done, seconds, and whether it was complete.
// Every case checks its result and exits 1 when the collection is not as it should be.
#include <mongoc/mongoc.h>
#include <sys/resource.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "mongo_orm/mongo_orm.hpp"
#include "support/split_name.hpp"

namespace {

using namespace mongo_orm;
using Clock = std::chrono::steady_clock;

constexpr const char* collection_name = "users";
constexpr const char* version = "2023.01.003";

struct Args {
  std::string command, uri, database = "mongo_orm_bench_migrations";
  int64_t documents = 200'000;
  double cap_seconds = 120;
  int64_t done = -1;
  int64_t duplicates = 0;
  int32_t batch = 1000;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "migration_scale: %s\nusage: migration_scale CASE --uri URI [--db NAME] [--documents N] "
               "[--cap-seconds S] [--batch-size B] [--done N] [--duplicates D]\n  CASE: load, per_document, skip_limit, transform, update_many, add_field, dedupe, full_pass, analyze, check_split, drop\n",
               why);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  if (argc < 2) usage("no case given");
  Args args;
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
    std::string value = argv[++i];
    auto number = [&](auto convert) {
      std::size_t used = 0;
      try {
        auto n = convert(value, &used);
        if (used == value.size() && n >= 0) return n;
      } catch (const std::exception&) {
      }
      usage((flag + " takes a number that is not negative, not '" + value + "'").c_str());
    };
    auto whole = [](const std::string& v, std::size_t* used) { return std::stoll(v, used); };
    auto decimal = [](const std::string& v, std::size_t* used) { return std::stod(v, used); };
    if (flag == "--uri") args.uri = value;
    else if (flag == "--db") args.database = value;
    else if (flag == "--documents") args.documents = number(whole);
    else if (flag == "--cap-seconds") args.cap_seconds = number(decimal);
    else if (flag == "--batch-size") {
      long long size = number(whole);
      if (size < 1 || size > INT32_MAX) usage(("--batch-size takes 1 to 2147483647, not '" + value + "'").c_str());
      args.batch = static_cast<int32_t>(size);
    }
    else if (flag == "--done") args.done = number(whole);
    else if (flag == "--duplicates") args.duplicates = number(whole);
    else usage(("unknown option " + flag).c_str());
  }
  if (args.uri.empty()) usage("--uri is required");
  return args;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void report(const Args& args, int64_t done, double seconds, bool complete) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"case\": \"%s\", \"documents\": %lld, \"done\": %lld, \"seconds\": %.3f, \"complete\": %s, "
              "\"peak_rss_mb\": %.1f}\n",
              args.command.c_str(), static_cast<long long>(args.documents), static_cast<long long>(done), seconds,
              complete ? "true" : "false", static_cast<double>(usage.ru_maxrss) / 1024.0);
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

using testing::split_name;

// ---- the raw driver's side: (a), (b), (d) ------------------------------------------------------

struct RawCollection {
  explicit RawCollection(const Args& args) : client(mongoc_client_new(args.uri.c_str())) {
    check(client != nullptr, "the URI does not parse");
    collection = mongoc_client_get_collection(client, args.database.c_str(), collection_name);
  }
  ~RawCollection() {
    mongoc_collection_destroy(collection);
    mongoc_client_destroy(client);
  }
  RawCollection(const RawCollection&) = delete;
  RawCollection& operator=(const RawCollection&) = delete;

  // update_one({_id}, {$set: {first_name, last_name}, $unset: {name: ""}}), as seed 000 writes it.
  void split_one(const bson_t* doc) {
    bson_iter_t id, name;
    check(bson_iter_init_find(&id, doc, "_id") && bson_iter_init_find(&name, doc, "name") && BSON_ITER_HOLDS_UTF8(&name),
          "a document without a string name");
    auto [first, last] = split_name(bson_iter_utf8(&name, nullptr));
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, unset;
    bson_append_iter(&filter, "_id", 3, &id);
    bson_append_document_begin(&update, "$set", 4, &set);
    BSON_APPEND_UTF8(&set, "first_name", first.c_str());
    BSON_APPEND_UTF8(&set, "last_name", last.c_str());
    bson_append_document_end(&update, &set);
    bson_append_document_begin(&update, "$unset", 6, &unset);
    BSON_APPEND_UTF8(&unset, "name", "");
    bson_append_document_end(&update, &unset);
    bson_error_t error;
    bool ok = mongoc_collection_update_one(collection, &filter, &update, nullptr, nullptr, &error);
    bson_destroy(&filter);
    bson_destroy(&update);
    check(ok, std::string("update_one: ") + error.message);
  }

  mongoc_client_t* client;
  mongoc_collection_t* collection;
};

int64_t per_document(const Args& args, RawCollection& raw, Clock::time_point start) {
  bson_t* filter = BCON_NEW("name", "{", "$exists", BCON_BOOL(true), "}");
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(raw.collection, filter, nullptr, nullptr);
  const bson_t* doc = nullptr;
  int64_t done = 0;
  while (seconds_since(start) < args.cap_seconds && mongoc_cursor_next(cursor, &doc)) {
    raw.split_one(doc);
    ++done;
  }
  bson_error_t error;
  bool failed = mongoc_cursor_error(cursor, &error);
  mongoc_cursor_destroy(cursor);
  bson_destroy(filter);
  check(!failed, std::string("cursor: ") + error.message);
  return done;
}

int64_t skip_limit(const Args& args, RawCollection& raw, Clock::time_point start) {
  constexpr int64_t batch_size = 5000;
  bson_t empty = BSON_INITIALIZER;
  bson_error_t error;
  int64_t total = mongoc_collection_count_documents(raw.collection, &empty, nullptr, nullptr, nullptr, &error);
  check(total >= 0, std::string("count: ") + error.message);
  int64_t processed = 0;
  while (processed < total && seconds_since(start) < args.cap_seconds) {
    bson_t* opts = BCON_NEW("skip", BCON_INT64(processed), "limit", BCON_INT64(batch_size));
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(raw.collection, &empty, opts, nullptr);
    std::vector<bson::Document> batch;  // cursor.to_list(length=batch_size)
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor, &doc)) batch.emplace_back(bson::DocumentView(bson_get_data(doc), doc->len));
    bool failed = mongoc_cursor_error(cursor, &error);
    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);
    check(!failed, std::string("cursor: ") + error.message);
    if (batch.empty()) break;
    int64_t written = 0;
    for (const bson::Document& d : batch) {
      if (seconds_since(start) >= args.cap_seconds) break;
      bson_t native;
      check(bson_init_static(&native, d.view().data(), d.view().length()), "a document that is not BSON");
      raw.split_one(&native);
      ++written;
    }
    processed += written;
    if (written < static_cast<int64_t>(batch.size())) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // "avoid overwhelming the database"
  }
  return processed;
}

// ---- mongo_orm's side: (c), (e) ---------------------------------------------------------------

migrate::Registry split_migration() {
  migrate::Registry registry;
  registry.add({.version = version, .description = "split name into first_name and last_name",
                .steps = {migrate::ops::transform(collection_name, {}, testing::split_name_update, {.label = "split"})}});
  return registry;
}

migrate::Registry add_field_migration() {
  migrate::Registry registry;
  registry.add({.version = version, .description = "mark every user migrated",
                .steps = {migrate::ops::add_field(collection_name, "migrated", bson::make_value(true))}});
  return registry;
}

void run_migration(const Args& args, const migrate::Registry& registry) {
  Client client(args.uri);
  migrate::Runner(client.database(args.database), registry, {.batch = {.size = args.batch}}).up();
}

// ---- checks and loading -----------------------------------------------------------------------

int64_t count(const Args& args, const bson::Document& filter) {
  Client client(args.uri);
  return client.database(args.database).collection(collection_name).count_documents(filter);
}

bson::Document exists(const char* field, bool present) {
  return bson::Builder{}.append(field, [&](bson::Builder& f) { f.append("$exists", present); }).extract();
}

void check_split(const Args& args, int64_t done) {
  int64_t split = count(args, exists("first_name", true)), whole = count(args, exists("name", true));
  check(split == done && whole == args.documents - done,
        "after the split, " + std::to_string(split) + " documents have first_name and " + std::to_string(whole) +
            " still have name; expected " + std::to_string(done) + " and " + std::to_string(args.documents - done));
}

void check_marked(const Args& args) {
  int64_t marked = count(args, bson::Builder{}.append("migrated", true).extract());
  check(marked == args.documents, std::to_string(marked) + " documents have migrated: true, expected " +
                                      std::to_string(args.documents));
}

void load(const Args& args) {
  Client client(args.uri);
  Database database = client.database(args.database);
  database.drop();
  Collection users = database.collection(collection_name);
  std::vector<bson::Document> batch;
  auto created = bson::DateTime::now();
  for (int64_t i = 0; i < args.documents; ++i) {
    batch.push_back(bson::Builder{}
                        .append("_id", bson::ObjectId::generate())
                        .append("name", "First" + std::to_string(i) + " Last" + std::to_string(i % 977))
                        // the last `duplicates` documents share the email of one of the first ones
                        .append("email", "user" + std::to_string(i >= args.documents - args.duplicates
                                                                     ? i - (args.documents - args.duplicates)
                                                                     : i) + "@example.com")
                        .append("age", static_cast<int32_t>(18 + i % 70))
                        .append("created_at", created)
                        .extract());
    if (batch.size() == 10'000) {
      users.insert_many(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) users.insert_many(batch);
  check(users.count_documents({}) == args.documents, "the load did not insert every document");
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  mongoc_init();
  int code = 0;
  try {
    if (args.command == "load") {
      auto start = Clock::now();
      load(args);
      report(args, args.documents, seconds_since(start), true);
    } else if (args.command == "per_document" || args.command == "skip_limit") {
      int64_t done = 0;
      double seconds = 0;
      {
        RawCollection raw(args);
        auto start = Clock::now();
        done = args.command == "per_document" ? per_document(args, raw, start) : skip_limit(args, raw, start);
        seconds = seconds_since(start);
      }
      check_split(args, done);
      report(args, done, seconds, done == args.documents);
    } else if (args.command == "transform") {
      auto registry = split_migration();
      auto start = Clock::now();
      run_migration(args, registry);
      double seconds = seconds_since(start);
      check_split(args, args.documents);
      report(args, args.documents, seconds, true);
    } else if (args.command == "update_many") {
      double seconds = 0;
      {
        RawCollection raw(args);
        bson_t empty = BSON_INITIALIZER;
        bson_t* update = BCON_NEW("$set", "{", "migrated", BCON_BOOL(true), "}");
        bson_error_t error;
        auto start = Clock::now();
        bool ok = mongoc_collection_update_many(raw.collection, &empty, update, nullptr, nullptr, &error);
        seconds = seconds_since(start);
        bson_destroy(update);
        check(ok, std::string("update_many: ") + error.message);
      }
      check_marked(args);
      report(args, args.documents, seconds, true);
    } else if (args.command == "add_field") {
      auto registry = add_field_migration();
      auto start = Clock::now();
      run_migration(args, registry);
      double seconds = seconds_since(start);
      check_marked(args);
      report(args, args.documents, seconds, true);
    } else if (args.command == "dedupe") {
      migrate::Registry registry;
      registry.add({.version = version, .description = "one user per email",
                    .steps = {migrate::ops::dedupe_for_unique(collection_name, bson::Builder{}.append("email", 1).extract())}});
      auto start = Clock::now();
      run_migration(args, registry);
      double seconds = seconds_since(start);
      int64_t kept = count(args, {});
      check(kept == args.documents - args.duplicates,
            std::to_string(kept) + " documents kept, expected " + std::to_string(args.documents - args.duplicates));
      report(args, args.duplicates, seconds, true);
    } else if (args.command == "full_pass") {
      double seconds = 0;
      int64_t read = 0;
      {
        RawCollection raw(args);
        bson_t empty = BSON_INITIALIZER;
        auto start = Clock::now();
        mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(raw.collection, &empty, nullptr, nullptr);
        const bson_t* document = nullptr;
        while (mongoc_cursor_next(cursor, &document)) ++read;
        bson_error_t error;
        bool failed = mongoc_cursor_error(cursor, &error);
        mongoc_cursor_destroy(cursor);
        seconds = seconds_since(start);
        check(!failed, std::string("find: ") + error.message);
      }
      check(read == args.documents, "read " + std::to_string(read) + " documents");
      report(args, read, seconds, true);
    } else if (args.command == "analyze") {
      Client client(args.uri);
      auto start = Clock::now();
      autogen::CollectionAnalysis analysis =
          autogen::analyze(client.database(args.database).collection(collection_name), {.batch_size = args.batch});
      double seconds = seconds_since(start);
      check(analysis.documents == args.documents, "analyzed " + std::to_string(analysis.documents) + " documents");
      report(args, analysis.documents, seconds, true);
    } else if (args.command == "drop") {
      Client(args.uri).database(args.database).drop();
    } else if (args.command == "check_split") {
      if (args.done < 0) usage("check_split needs --done");
      check_split(args, args.done);
    } else {
      usage(("unknown case " + args.command).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "migration_scale %s: %s\n", args.command.c_str(), e.what());
    code = 1;
  }
  mongoc_cleanup();
  return code;
}
