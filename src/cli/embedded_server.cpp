// Starting and locating the embedded default server through the mongo-orm-server script.
#include "mongo_orm/cli/embedded_server.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "mongo_orm/error.hpp"

namespace mongo_orm::cli {

namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

fs::path find_server_script() {
  if (const char* explicit_path = std::getenv("MONGO_ORM_SERVER_SCRIPT")) return explicit_path;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path beside = self.parent_path() / "mongo-orm-server";
    if (fs::exists(beside)) return beside;
  }
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      std::size_t colon = rest.find(':');
      fs::path candidate = fs::path(rest.substr(0, colon)) / "mongo-orm-server";
      if (fs::exists(candidate)) return candidate;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  throw Error(
      "cannot find the mongo-orm-server script (looked at $MONGO_ORM_SERVER_SCRIPT, next to this "
      "program and on PATH); pass --uri or set MONGODB_URI to use another server");
}

// Runs a command through the shell; returns its exit status and standard output. Its
// standard error goes to ours, so the script's messages reach the user.
std::pair<int, std::string> run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw Error("cannot run: " + command);
  std::string output;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  int status = pclose(pipe);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return {code, output};
}

}  // namespace

std::string ensure_embedded_server() {
  std::string script = shell_quote(find_server_script().string());
  auto [start_code, start_output] = run_command(script + " start 1>&2");
  if (start_code != 0) {
    throw Error("could not start the embedded FerretDB server (" + script +
                " start exited with " + std::to_string(start_code) + ")");
  }
  auto [uri_code, uri] = run_command(script + " uri");
  while (!uri.empty() && (uri.back() == '\n' || uri.back() == ' ')) uri.pop_back();
  if (uri_code != 0 || uri.empty()) throw Error("the embedded server started but reported no URI");
  return uri;
}

std::string resolve_uri(const std::string& explicit_uri) {
  if (!explicit_uri.empty()) return explicit_uri;
  if (const char* env = std::getenv("MONGODB_URI"); env && *env) return env;
  std::string uri = ensure_embedded_server();
  std::cerr << "mongo-orm: no --uri and no $MONGODB_URI: using the embedded server at " << uri << "\n";
  return uri;
}

}  // namespace mongo_orm::cli
