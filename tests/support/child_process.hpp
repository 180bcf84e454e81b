// Test support: forked children that can neither hang the test nor fall back into its code.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <thread>

namespace mongo_orm::testing {

// Forks a child that runs `body` and exits with what it returns. An exception ends it with exit
// code 125 after printing it; SIGALRM ends it after `bound` whatever it is doing. Returns the
// child's pid to the parent.
inline pid_t fork_bounded(const std::function<int()>& body, std::chrono::seconds bound = std::chrono::seconds(120)) {
  std::fflush(nullptr);
  pid_t child = fork();
  if (child != 0) return child;
  alarm(static_cast<unsigned>(bound.count()));
  int code = 125;
  try {
    code = body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: %s\n", static_cast<int>(getpid()), e.what());
  } catch (...) {
    std::fprintf(stderr, "child %d: an exception that is not a std::exception\n", static_cast<int>(getpid()));
  }
  std::fflush(nullptr);
  _exit(code);
}

// Waits up to `bound` for `child` to end and returns its wait status; past the bound the child is
// killed and the test fails, naming `what`.
inline int wait_bounded(pid_t child, const std::string& what, std::chrono::seconds bound = std::chrono::seconds(120)) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  int status = 0;
  while (waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      ADD_FAILURE() << what << " (pid " << child << ") did not end within " << bound.count() << " s and was killed";
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status;
}

}  // namespace mongo_orm::testing
