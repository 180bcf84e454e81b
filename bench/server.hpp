// What the server benchmarks share: the server to use and how to skip without one.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>

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

}  // namespace bench
