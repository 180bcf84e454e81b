// What the server benchmarks share: the server to use and how to skip without one.
#pragma once

#include <benchmark/benchmark.h>
#include <mongoc/mongoc.h>

#include <cstdlib>

#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/driver/database.hpp"

namespace bench {

// $MONGODB_URI, or null when it is not set.
inline const char* server_uri() {
  const char* uri = std::getenv("MONGODB_URI");
  return uri && *uri ? uri : nullptr;
}

// Marks the benchmark skipped, naming why, when no server is configured.
inline bool skip_without_server(benchmark::State& state) {
  if (server_uri()) return false;
  state.SkipWithError("MONGODB_URI is not set (scripts/bench.sh starts a local server)");
  return true;
}

// Runs the registered benchmarks, then drops the database they worked in.
inline int run_benchmarks(int argc, char** argv, const char* database) {
  mongoc_init();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (server_uri()) mongo_orm::Client(server_uri()).database(database).drop();
  return 0;
}

}  // namespace bench
