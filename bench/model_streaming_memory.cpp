// Streams N documents (default 1,000,000) through a typed cursor and reports how much the
// process's peak resident memory grew while doing it: memory must stay flat however large the
// collection. Uses $MONGODB_URI; prints one JSON line.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"

namespace stream {
using namespace mongo_orm;

struct Event {
  bson::ObjectId id;
  std::string kind;
  int64_t sequence = 0;
  std::vector<std::string> labels;
  std::string payload;
};
auto define_schema(model::SchemaTag<Event>) {
  return model::schema<Event>("events")
      .id(&Event::id)
      .field(&Event::kind, "kind")
      .field(&Event::sequence, "sequence")
      .field(&Event::labels, "labels")
      .field(&Event::payload, "payload");
}

// A line of /proc/self/status in kB ("VmRSS", "VmHWM").
long status_kb(const char* key) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long value = -1;
  std::size_t len = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, key, len) == 0 && line[len] == ':') value = std::atol(line + len + 1);
  }
  std::fclose(f);
  return value;
}

// Resets the peak resident size (VmHWM) to the current one, so the peak measured next
// belongs to the streaming alone.
void reset_peak() {
  if (std::FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}
}  // namespace stream

int main(int argc, char** argv) {
  using namespace stream;
  const char* uri = std::getenv("MONGODB_URI");
  if (!uri) {
    std::fprintf(stderr, "MONGODB_URI is not set\n");
    return 2;
  }
  int64_t total = argc > 1 ? std::stoll(argv[1]) : 1'000'000;
  Client client(uri);
  Database db = client.database("mongo_orm_bench_stream");
  model::TypedCollection<Event> events(db);
  events.raw().drop();
  for (int64_t start = 0; start < total; start += 10'000) {
    std::vector<bson::Document> batch;
    for (int64_t i = start; i < std::min(total, start + 10'000); ++i) {
      batch.push_back(bson::Builder{}
                          .append("_id", bson::ObjectId::generate())
                          .append("kind", "click")
                          .append("sequence", i)
                          .append("labels", [](bson::ArrayBuilder& l) { l.append("a").append("b"); })
                          .append("payload", std::string(200, 'x'))
                          .extract());
    }
    events.raw().insert_many(batch, {.ordered = false});
  }

  reset_peak();
  long before = status_kb("VmRSS");
  int64_t seen = 0, checksum = 0;
  for (auto& event : events.find({}, {.batch_size = 1000})) {
    checksum += event->sequence;
    ++seen;
  }
  long after = status_kb("VmHWM");
  events.raw().drop();
  std::printf("{\"documents\": %lld, \"rss_before_mb\": %.1f, \"peak_rss_while_streaming_mb\": %.1f, \"growth_mb\": %.1f, \"checksum_ok\": %s}\n",
              static_cast<long long>(seen), before / 1024.0, after / 1024.0, (after - before) / 1024.0,
              checksum == total * (total - 1) / 2 ? "true" : "false");
  return seen == total ? 0 : 1;
}
