// The mongo-orm command line, callable from an application's own main().
#pragma once

namespace mongo_orm::migrate {
class Registry;
class ModelSet;
}

namespace mongo_orm::cli {

// Exit codes of every mongo-orm command.
enum ExitCode : int {
  exit_ok = 0,
  exit_failure = 1,  // the command ran and failed (cannot connect, server error)
  exit_usage = 2,    // bad arguments
};

// Runs the command line and returns the process exit code; never throws. This is the
// standalone mongo-orm program: it knows no C++ migrations.
int run(int argc, char** argv);

// The same command line for an application's own migrate program: `migrate ...` works on the
// application's migrations. A complete program:
//
//   int main(int argc, char** argv) {
//     mongo_orm::migrate::Registry registry;
//     registry.add(add_user_status()).add(normalize_emails());
//     return mongo_orm::cli::run(argc, argv, registry);
//   }
int run(int argc, char** argv, const migrate::Registry& registry);

// The same with the application's models, which `migrate verify` samples and decodes:
//
//   int main(int argc, char** argv) {
//     mongo_orm::migrate::Registry registry;
//     registry.add(add_user_status()).add(split_names());
//     mongo_orm::migrate::ModelSet models;
//     models.add<User>().add_hierarchy<Hierarchy<Human, GoodJedi, BadSith>>();
//     return mongo_orm::cli::run(argc, argv, registry, models);
//   }
int run(int argc, char** argv, const migrate::Registry& registry, const migrate::ModelSet& models);

}  // namespace mongo_orm::cli
