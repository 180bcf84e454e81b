// Memory stays flat: the peak resident memory of a runner process transforming a large
// collection is within 64 MB of the same transform over 10k documents. The transform is seed
// 000's split of `name`, through the automatic strategy (a rewrite on FerretDB). The large
// size is MONGO_ORM_MEMORY_DOCUMENTS: 100k here, 1M in the long variant.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "mongo_orm/mongo_orm.hpp"
#include "migrate/runner_process.hpp"
#include "support/server.hpp"

namespace mongo_orm::migrate {
namespace {

Registry split_names() {
  Registry registry;
  registry.add({.version = "1", .description = "split name",
                .steps = {ops::transform("people", {}, [](bson::DocumentView person) -> std::optional<bson::Document> {
                  std::string whole(person["name"].as_string());
                  std::size_t space = whole.find(' ');
                  return bson::Builder{}
                      .append("$set", [&](bson::Builder& set) {
                        set.append("first_name", whole.substr(0, space)).append("last_name", whole.substr(space + 1));
                      })
                      .append("$unset", [](bson::Builder& unset) { unset.append("name", ""); })
                      .extract();
                }, {.label = "split"})}});
  return registry;
}

class MemoryTest : public testing::ServerTest {
 protected:
  // Loads `documents` people into a fresh collection, runs the split in a child process and
  // returns its peak resident memory in kilobytes.
  long peak_kb_for(int64_t documents) {
    db.drop();
    Collection people = db.collection("people");
    std::vector<bson::Document> batch;
    for (int64_t i = 0; i < documents; ++i) {
      batch.push_back(bson::Builder{}
                          .append("_id", i)
                          .append("name", "First" + std::to_string(i) + " Last" + std::to_string(i))
                          .append("bio", std::string(200, 'x'))
                          .extract());
      if (batch.size() == 10000 || i + 1 == documents) {
        people.insert_many(batch);
        batch.clear();
      }
    }
    Registry registry = split_names();
    pid_t child = testing::fork_up(testing::server_uri(), db.name(), registry, {}, std::chrono::hours(3));
    int status = 0;
    rusage usage{};
    EXPECT_EQ(wait4(child, &status, 0, &usage), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the runner failed";
    EXPECT_EQ(people.count_documents(bson::from_json(R"({"first_name": {"$exists": true}})")), documents);
    return usage.ru_maxrss;
  }
};

TEST_F(MemoryTest, PeakMemoryOfALargeTransformIsWithin64MbOfA10kOne) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine, so resident memory says nothing here";
#endif
  int64_t large = 100'000;
  if (const char* text = std::getenv("MONGO_ORM_MEMORY_DOCUMENTS")) large = std::atoll(text);
  long small_kb = peak_kb_for(10'000);
  long large_kb = peak_kb_for(large);
  std::printf("peak resident memory: %ld kB for 10000 documents, %ld kB for %lld (difference %ld kB)\n", small_kb,
              large_kb, static_cast<long long>(large), large_kb - small_kb);
  EXPECT_LE(large_kb - small_kb, 64 * 1024);
}

}  // namespace
}  // namespace mongo_orm::migrate
