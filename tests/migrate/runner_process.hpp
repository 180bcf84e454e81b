// Test support: `up` in a forked process, with its own client, as a separate runner would.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "mongo_orm/mongo_orm.hpp"
#include "support/child_process.hpp"

namespace mongo_orm::testing {

// Forks a process that runs `up` (or, with `down`, `down --all`) on database `name` at `uri` and
// exits 0, or 1 after printing the error to standard error, within `bound` (then SIGALRM ends
// it). Returns the child's pid to the parent.
inline pid_t fork_up(const std::string& uri, const std::string& name, const migrate::Registry& registry,
                     const migrate::RunnerOptions& options, std::chrono::seconds bound = std::chrono::seconds(600),
                     bool down = false) {
  return fork_bounded([&] {
    try {
      Client own(uri);
      migrate::Runner runner(own.database(name), registry, options);
      if (down) {
        runner.down({.all = true});
      } else {
        runner.up();
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "runner %d: %s\n", static_cast<int>(getpid()), e.what());
      return 1;
    }
    return 0;
  }, bound);
}

}  // namespace mongo_orm::testing
