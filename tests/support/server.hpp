// Test support: the server under test, a fresh database per test, capability skips.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "mongo_orm/mongo_orm.hpp"

namespace mongo_orm::testing {

// $MONGODB_URI; fails the current test when unset.
std::string server_uri();
// One client shared by every test of the process.
const Client& shared_client();
// A database name unique to the running test ("t_<suite>_<test>_<pid>"), valid on FerretDB.
std::string unique_database_name();

// Runs a shell command; returns its exit code, its standard output and its standard error
// apart, as a user's shell keeps them: what a program prints for machines (tables, --json) must
// parse whatever the C driver or the program says on standard error.
struct ProcessRun {
  int exit_code;
  std::string output;
  std::string errors;
  // Both streams, for failure messages.
  std::string both() const { return output + errors; }
};
ProcessRun run_process(const std::string& command);

// A fixture with a fresh database, dropped after the test.
class ServerTest : public ::testing::Test {
 protected:
  ServerTest();
  ~ServerTest() override;

  const Client& client() const { return shared_client(); }
  const Capabilities& capabilities() const { return shared_client().capabilities(); }
  Database db;
};

}  // namespace mongo_orm::testing

// Skips the test, naming the capability, when the server lacks it.
#define MONGO_ORM_REQUIRE_CAPABILITY(flag)                                                      \
  do {                                                                                          \
    if (!::mongo_orm::testing::shared_client().capabilities().flag)                              \
      GTEST_SKIP() << "server lacks capability: " #flag " ("                                   \
                   << ::mongo_orm::to_string(::mongo_orm::testing::shared_client().capabilities().kind) \
                   << ")";                                                                      \
  } while (0)
