// Test support: a private embedded server.
#include "support/private_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace mongo_orm::testing {

namespace {

// A port nothing listens on now, chosen by the kernel.
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("cannot open a socket to find a free port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  if (!ok) throw std::runtime_error("cannot find a free port on 127.0.0.1");
  return ntohs(address.sin_port);
}

}  // namespace

bool PrivateServer::available() {
  // The script runs the server program built beside it (not in builds without the server, such
  // as the sanitizer build).
  std::filesystem::path script(MONGO_ORM_SERVER_SCRIPT);
  return std::filesystem::exists(script) && std::filesystem::exists(script.parent_path() / "mongo-orm-ferretdb");
}

PrivateServer::PrivateServer(std::chrono::milliseconds socket_timeout) {
  std::string pattern = (std::filesystem::temp_directory_path() / "mongo_orm_server_XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a home for a private server");
  home_ = pattern;
  port_ = free_port();
  uri_ = "mongodb://127.0.0.1:" + std::to_string(port_) +
         "/?serverSelectionTimeoutMS=1500&connectTimeoutMS=1500&socketTimeoutMS=" +
         std::to_string(socket_timeout.count());
}

PrivateServer::~PrivateServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(home_, ignored);
}

ProcessRun PrivateServer::control(const std::string& command) const {
  return run_process("MONGO_ORM_HOME=" + home_ + " MONGO_ORM_SERVER_LISTEN=127.0.0.1:" + std::to_string(port_) + " " +
                     MONGO_ORM_SERVER_SCRIPT + " " + command);
}

}  // namespace mongo_orm::testing
