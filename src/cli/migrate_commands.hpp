// The `mongo-orm migrate ...` commands, added to the command line by cli::run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "mongo_orm/migrate/registry.hpp"
#include "mongo_orm/migrate/verify.hpp"

namespace mongo_orm::cli {

// Adds `migrate` and its subcommands to the app; returns the action to run when `migrate` was
// the command given (it returns the exit code and may throw).
std::function<int()> add_migrate_commands(CLI::App& app, const migrate::Registry& registry,
                                          const migrate::ModelSet& models);

// Refuses an empty --uri (a usage error): only a URI left out falls back to $MONGODB_URI, then
// to the embedded server.
CLI::Validator non_empty_uri();

}  // namespace mongo_orm::cli
