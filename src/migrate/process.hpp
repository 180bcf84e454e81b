// Who is running: the host name that lock and changelog records carry, and whether a process
// recorded there is provably gone.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace mongo_orm::migrate::detail {

inline std::string host_name() {
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("unknown-host");
}

// The machine and process namespace this process lives in: the host name, the kernel's boot
// id and the pid namespace. Two records with the same identity name pids of one process table,
// so a pid from one can be checked from the other. Empty where the kernel does not tell.
inline std::string process_table_identity() {
  std::string boot;
  std::ifstream("/proc/sys/kernel/random/boot_id") >> boot;
  char ns[128] = {};
  ssize_t length = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
  if (boot.empty() || length <= 0) return {};
  return host_name() + "/" + boot + "/" + std::string(ns, static_cast<std::size_t>(length));
}

// When a process started, in clock ticks since boot (field 22 of /proc/PID/stat); 0 when
// unknown. With the pid it names one process even after the pid is reused.
inline int64_t process_start_ticks(int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoll(field);
  }
  return 0;
}

// Whether the process `pid` that started at `start_ticks` (0: unknown) no longer runs in this
// process table. Only a definite answer counts: a process we may not signal is alive.
inline bool process_gone(int64_t pid, int64_t start_ticks) {
  if (pid <= 0) return false;
  if (kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  return start_ticks != 0 && process_start_ticks(pid) != 0 && process_start_ticks(pid) != start_ticks;
}

}  // namespace mongo_orm::migrate::detail
