// Progress of migration operations on the terminal: a bar with done/total, rate and ETA that
// redraws in place on a terminal; plain lines (every 10% or 5 seconds) otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "mongo_orm/migrate/operation.hpp"

namespace mongo_orm::cli {

class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool terminal) : out_(out), terminal_(terminal) {}
  void operator()(const migrate::Progress& progress);
  // Ends a bar left on the current line.
  void finish();

 private:
  std::FILE* out_;
  bool terminal_;
  std::string operation_;
  int last_tenth_ = -1;
  std::chrono::steady_clock::time_point last_line_{};
  bool bar_open_ = false;
};

}  // namespace mongo_orm::cli
