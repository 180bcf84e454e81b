// Test support: an embedded FerretDB of the test's own (scripts' mongo-orm-server with a private
// MONGO_ORM_HOME and a fixed port), so that a test can stop and restart its server without
// touching the suite's.
#pragma once

#include <chrono>
#include <string>

#include "support/server.hpp"

namespace mongo_orm::testing {

class PrivateServer {
 public:
  // Whether the server program was built beside the script (MONGO_ORM_BUILD_SERVER); a test
  // skips without it.
  static bool available();
  // Picks a free port and a fresh home; `start` starts it. A command that has not been answered
  // within `socket_timeout` fails: short, so that a stopped server is noticed in seconds; a test
  // that loads the server on purpose gives its slowest answers longer.
  explicit PrivateServer(std::chrono::milliseconds socket_timeout = std::chrono::seconds(5));
  // Stops it and removes its home.
  ~PrivateServer();
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  ProcessRun start() const { return control("start"); }
  ProcessRun stop() const { return control("stop"); }
  // Its URI, with short timeouts (see the constructor).
  const std::string& uri() const noexcept { return uri_; }
  const std::string& home() const noexcept { return home_; }

 private:
  ProcessRun control(const std::string& command) const;

  std::string home_;
  int port_ = 0;
  std::string uri_;
};

}  // namespace mongo_orm::testing
