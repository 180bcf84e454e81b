// mongo-orm migrate: status, history, validate, up, down, baseline, unlock --force.
#include "migrate_commands.hpp"

#include <iomanip>
#include <iostream>
#include <memory>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/cli/cli.hpp"
#include "mongo_orm/cli/embedded_server.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/migrate/runner.hpp"

namespace mongo_orm::cli {

namespace {

using migrate::MigrationStatus;

struct MigrateOptions {
  std::string uri;
  std::string database;
  bool json = false;
  int64_t lock_wait_ms = 0;
  std::string to;
  int steps = 0;
  bool all = false;
  std::string baseline_version;
  bool force = false;
};

std::string_view status_name(MigrationStatus status) {
  switch (status) {
    case MigrationStatus::pending: return "pending";
    case MigrationStatus::applied: return "applied";
    case MigrationStatus::failed: return "failed";
  }
  return "unknown";
}

// The database the commands work on: --database, else the one the URI names.
Database target_database(const Client& client, const MigrateOptions& options) {
  if (!options.database.empty()) return client.database(options.database);
  return client.default_database();
}

int print_status(migrate::Runner& runner, bool json) {
  auto rows = runner.status();
  if (json) {
    bson::Builder out;
    out.append("migrations", [&](bson::ArrayBuilder& list) {
      for (const auto& row : rows) {
        list.append([&](bson::Builder& r) {
          r.append("version", row.version).append("description", row.description)
              .append("status", status_name(row.status)).append("reversible", row.reversible)
              .append("drifted", row.drifted);
        });
      }
    });
    std::cout << bson::to_relaxed_json(out.view()) << "\n";
    return exit_ok;
  }
  std::cout << std::left << std::setw(16) << "VERSION" << std::setw(10) << "STATUS" << std::setw(12) << "REVERSIBLE"
            << "DESCRIPTION\n";
  for (const auto& row : rows) {
    std::string status(status_name(row.status));
    if (row.drifted) status += "*";
    std::cout << std::setw(16) << row.version << std::setw(10) << status << std::setw(12)
              << (row.reversible ? "yes" : "no") << row.description << "\n";
  }
  if (rows.empty()) std::cout << "(no migrations registered)\n";
  for (const auto& row : rows) {
    if (row.drifted) {
      std::cout << "* changed since it was applied: run `migrate validate`\n";
      break;
    }
  }
  return exit_ok;
}

int print_history(migrate::Runner& runner, bool json) {
  auto runs = runner.history();
  if (json) {
    bson::Builder out;
    out.append("runs", [&](bson::ArrayBuilder& list) {
      for (const auto& run : runs) {
        list.append([&](bson::Builder& r) {
          model::schema_of<migrate::ChangelogEntry>().encode(r.native(), run);
        });
      }
    });
    std::cout << bson::to_relaxed_json(out.view()) << "\n";
    return exit_ok;
  }
  for (const auto& run : runs) {
    std::cout << bson::DateTime::from_time_point(run.started_at).to_iso8601() << "  " << std::left << std::setw(16) << run.version << std::setw(6)
              << migrate::to_string(run.direction) << std::setw(13) << migrate::to_string(run.status)
              << run.duration_ms << " ms  " << run.host << ":" << run.pid;
    if (!run.error.empty()) std::cout << "  error: " << run.error;
    std::cout << "\n";
  }
  if (runs.empty()) std::cout << "(no runs recorded)\n";
  return exit_ok;
}

void print_report(const char* verb, const migrate::RunReport& report) {
  if (report.versions.empty()) {
    std::cout << "nothing to do\n";
    return;
  }
  for (const auto& version : report.versions) std::cout << verb << " " << version << "\n";
}

}  // namespace

std::function<int()> add_migrate_commands(CLI::App& app, const migrate::Registry& registry) {
  auto options = std::make_shared<MigrateOptions>();
  auto* migrate_cmd = app.add_subcommand("migrate", "Versioned schema and data migrations");
  migrate_cmd->require_subcommand(1);
  migrate_cmd->add_option("--uri", options->uri,
                          "MongoDB URI (default: $MONGODB_URI, else the embedded local server)");
  migrate_cmd->add_option("--database", options->database, "Database to migrate (default: the one the URI names)");
  migrate_cmd->add_option("--lock-wait-ms", options->lock_wait_ms,
                          "How long to wait for another runner's lock before giving up");

  auto* status_cmd = migrate_cmd->add_subcommand("status", "Every migration with its state");
  status_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* history_cmd = migrate_cmd->add_subcommand("history", "Every recorded run, oldest first");
  history_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* validate_cmd = migrate_cmd->add_subcommand(
      "validate", "Report applied migrations whose definition changed (exit 1 when there is drift)");
  auto* up_cmd = migrate_cmd->add_subcommand("up", "Apply pending migrations");
  up_cmd->add_option("--to", options->to, "Stop after this version");
  auto* down_cmd = migrate_cmd->add_subcommand("down", "Revert applied migrations, newest first");
  auto* down_to = down_cmd->add_option("--to", options->to, "Revert everything applied after this version");
  auto* down_steps = down_cmd->add_option("--steps", options->steps, "Revert this many")->check(CLI::PositiveNumber);
  auto* down_all = down_cmd->add_flag("--all", options->all, "Revert everything");
  down_to->excludes(down_steps)->excludes(down_all);
  down_steps->excludes(down_all);
  auto* baseline_cmd = migrate_cmd->add_subcommand(
      "baseline", "Record migrations up to VERSION as applied without running them");
  baseline_cmd->add_option("version", options->baseline_version, "The last version the database already has")->required();
  auto* unlock_cmd = migrate_cmd->add_subcommand("unlock", "Free the migration lock of a runner that is gone");
  unlock_cmd->add_flag("--force", options->force, "Required: confirms the holder is gone")->required();

  return [=, &registry]() -> int {
    if (!*migrate_cmd) return -1;
    std::string uri = resolve_uri(options->uri);
    Client client(uri, {.server_selection_timeout_ms = 5000});
    Database database = target_database(client, *options);
    migrate::RunnerOptions runner_options;
    runner_options.lock.wait = std::chrono::milliseconds(options->lock_wait_ms);
    migrate::Runner runner(database, registry, runner_options);

    if (*status_cmd) return print_status(runner, options->json);
    if (*history_cmd) return print_history(runner, options->json);
    if (*validate_cmd) {
      auto drifts = runner.validate();
      for (const auto& d : drifts) {
        std::cout << d.version << ": applied with checksum " << d.applied_checksum << ", "
                  << (d.current_checksum.empty() ? "no longer defined" : "now " + d.current_checksum) << "\n";
      }
      if (drifts.empty()) std::cout << "no drift: every applied migration matches its definition\n";
      return drifts.empty() ? exit_ok : exit_failure;
    }
    if (*up_cmd) {
      print_report("applied", runner.up(options->to.empty() ? std::nullopt : std::optional(options->to)));
      return exit_ok;
    }
    if (*down_cmd) {
      migrate::DownTarget target;
      if (!options->to.empty()) target.to = options->to;
      if (options->steps > 0) target.steps = options->steps;
      target.all = options->all;
      print_report("reverted", runner.down(target));
      return exit_ok;
    }
    if (*baseline_cmd) {
      print_report("recorded as applied", runner.baseline(options->baseline_version));
      return exit_ok;
    }
    if (*unlock_cmd) {
      bool freed = migrate::LeaseLock::force_unlock(database);
      std::cout << (freed ? "the migration lock was freed\n" : "the migration lock was not held\n");
      return exit_ok;
    }
    return exit_usage;
  };
}

}  // namespace mongo_orm::cli
