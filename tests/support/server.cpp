// Test support implementation.
#include "support/server.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace mongo_orm::testing {

std::string server_uri() {
  const char* uri = std::getenv("MONGODB_URI");
  if (!uri || !*uri) {
    ADD_FAILURE() << "MONGODB_URI is not set: run scripts/test.sh, which starts a local server";
    return "mongodb://127.0.0.1:27017/";
  }
  return uri;
}

const Client& shared_client() {
  static const Client client(server_uri(), {.server_selection_timeout_ms = 5000});
  return client;
}

std::string unique_database_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string base = info ? std::string(info->test_suite_name()) + "_" + info->name() : "test";
  std::string name = "t_";
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    name += ok ? c : '_';
  }
  std::string suffix = "_" + std::to_string(getpid());
  if (name.size() + suffix.size() > 63) name.resize(63 - suffix.size());
  return name + suffix;
}

namespace {
std::string read_all(FILE* stream) {
  std::string text;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), stream)) text.append(buffer.data(), n);
  return text;
}
}  // namespace

ProcessRun run_process(const std::string& command) {
  // Standard error goes to a file while standard output is read from the pipe, so that neither
  // can block the other.
  std::string errors_path = (std::filesystem::temp_directory_path() / "mongo_orm_stderr_XXXXXX").string();
  int errors_fd = mkstemp(errors_path.data());
  if (errors_fd < 0) return {-1, "", "cannot create a file for standard error of: " + command};
  close(errors_fd);
  std::string line = "{ " + command + "\n} 2>'" + errors_path + "'";
  FILE* pipe = popen(line.c_str(), "r");
  if (!pipe) {
    std::filesystem::remove(errors_path);
    return {-1, "", "cannot start: " + command};
  }
  std::string output = read_all(pipe);
  int status = pclose(pipe);
  std::string errors;
  if (FILE* file = std::fopen(errors_path.c_str(), "r")) {
    errors = read_all(file);
    std::fclose(file);
  }
  std::filesystem::remove(errors_path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output, errors};
}

ServerTest::ServerTest() : db(shared_client().database(unique_database_name())) { db.drop(); }

ServerTest::~ServerTest() {
  try {
    db.drop();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "could not drop test database " << db.name() << ": " << e.what();
  }
}

}  // namespace mongo_orm::testing
