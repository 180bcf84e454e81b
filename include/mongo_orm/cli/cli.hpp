// The mongo-orm command line, callable from an application's own main().
#pragma once

namespace mongo_orm::cli {

// Exit codes of every mongo-orm command.
enum ExitCode : int {
  exit_ok = 0,
  exit_failure = 1,  // the command ran and failed (cannot connect, server error)
  exit_usage = 2,    // bad arguments
};

// Runs the command line and returns the process exit code; never throws.
int run(int argc, char** argv);

}  // namespace mongo_orm::cli
