// Who is running: the host name that lock and changelog records carry.
#pragma once

#include <unistd.h>

#include <string>

namespace mongo_orm::migrate::detail {

inline std::string host_name() {
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("unknown-host");
}

}  // namespace mongo_orm::migrate::detail
