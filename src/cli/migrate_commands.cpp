// mongo-orm migrate: status, history, validate, plan, up, down, verify, round-trip, baseline
// (stamp), create, unlock --force.
#include "migrate_commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>

#include "mongo_orm/autogen/analyze.hpp"
#include "mongo_orm/autogen/diff.hpp"
#include "mongo_orm/autogen/generate.hpp"
#include "mongo_orm/autogen/snapshot.hpp"
#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/cli/cli.hpp"
#include "mongo_orm/cli/embedded_server.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/migration_files.hpp"
#include "mongo_orm/migrate/runner.hpp"
#include "mongo_orm/migrate/testing.hpp"
#include "../count_text.hpp"
#include "progress_printer.hpp"

namespace mongo_orm::cli {

namespace {

using mongo_orm::detail::count_of;
using migrate::MigrationStatus;

// Says on stderr that `command` needs models, which only an application's own program has.
void refuse_without_models(std::string_view command) {
  std::cerr << "mongo-orm: " << command << " needs the application's models: build a migrate program with "
               "mongo_orm::cli::run(argc, argv, registry, models)\n";
}

struct MigrateOptions {
  std::string uri;
  std::string database;
  std::string directory;
  bool json = false;
  int64_t lock_wait_ms = migrate::LockOptions{}.ttl.count();  // a holder that is gone on another host frees it by then
  int32_t batch_size = 1000;
  double max_per_second = 0;
  int64_t pause_ms = 0;
  int64_t sample = 1000;
  std::string name;
  std::string to;
  int steps = 0;
  bool all = false;
  std::string baseline_version;
  std::string failed_version;
  bool force = false;
  std::string snapshot_file;
  std::vector<std::string> collections;
  int64_t limit = 0;
  int64_t analyze_sample = 0;
  bool on_server = false;
  uint64_t seed = 0;  // 0: a random seed
  std::vector<std::string> renames;  // MODEL:OLD=NEW
  std::vector<std::string> class_maps;  // OLD=NEW[:FILTER]
  bool accept_destructive = false;
  double tolerance = 0.01;
  bool check_data = false;
  double max_refused = 0;
};

// A whole number no smaller than `low`, refused in one line naming what was given.
CLI::Validator at_least(int64_t low) {
  return CLI::Validator(
      [low](std::string& text) -> std::string {
        std::size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size()) return "expected a whole number, got '" + text + "'";
        if (value < low) return "must be at least " + std::to_string(low) + ", got " + text;
        return {};
      },
      ">= " + std::to_string(low));
}

// A number of zero or more (fractions allowed).
CLI::Validator not_negative() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::size_t used = 0;
        double value = 0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size()) return "expected a number, got '" + text + "'";
        if (!(value >= 0)) return "must not be negative, got " + text;
        return {};
      },
      ">= 0");
}

std::string_view status_name(MigrationStatus status) {
  switch (status) {
    case MigrationStatus::pending: return "pending";
    case MigrationStatus::applied: return "applied";
    case MigrationStatus::failed: return "failed";
    case MigrationStatus::running: return "running";
    case MigrationStatus::interrupted: return "interrupted";
  }
  return "unknown";
}

// The embedded server's database when neither --database nor the URI names one.
constexpr const char* embedded_database = "mongo_orm";

// The database the commands work on: --database, else the one the URI names, else, on the
// embedded server only, `mongo_orm` (a real server's URI without a database is an error: the
// tool never guesses where to migrate).
Database target_database(const Client& client, const MigrateOptions& options, bool embedded) {
  if (!options.database.empty()) return client.database(options.database);
  try {
    return client.default_database();
  } catch (const ConfigurationError&) {
    if (!embedded) throw ConfigurationError("the MongoDB URI names no database: pass --database NAME, or put it in the URI (mongodb://host/NAME)");
    return client.database(embedded_database);
  }
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
              .append("drifted", row.drifted).append("defined", row.defined);
          if (!row.progress.empty()) r.append("progress", row.progress);
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
    if (!row.defined) status += "!";
    std::cout << std::setw(16) << row.version << std::setw(std::max<int>(10, static_cast<int>(status.size()) + 1))
              << status << std::setw(12) << (row.reversible ? "yes" : "no") << row.description << "\n";
    if (!row.progress.empty() && row.last) {
      std::cout << std::setw(16) << "" << "its " << migrate::to_string(row.last->direction) << " run by "
                << row.last->host << ":" << row.last->pid << ": " << row.progress << "\n";
    }
  }
  if (rows.empty()) std::cout << "(no migrations registered)\n";
  if (std::any_of(rows.begin(), rows.end(), [](const auto& row) { return row.drifted && row.defined; })) {
    std::cout << "* changed since it was applied: run `migrate validate`\n";
  }
  if (std::any_of(rows.begin(), rows.end(), [](const auto& row) { return !row.defined; })) {
    std::cout << "! in the changelog but no longer defined (its file or registration was removed): "
                 "`migrate validate` reports it\n";
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
    if (run.in_transaction) std::cout << "  in one transaction";
    if (!run.error.empty()) std::cout << "  error: " << run.error;
    std::cout << "\n";
  }
  if (runs.empty()) std::cout << "(no runs recorded)\n";
  return exit_ok;
}

void print_report(const char* verb, const migrate::RunReport& report, bool json) {
  if (json) {
    bson::Builder out;
    out.append(verb, [&](bson::ArrayBuilder& list) {
      for (const auto& run : report.runs) {
        list.append([&](bson::Builder& r) { model::schema_of<migrate::ChangelogEntry>().encode(r.native(), run); });
      }
    });
    std::cout << bson::to_relaxed_json(out.view()) << "\n";
    return;
  }
  if (report.runs.empty()) {
    std::cout << "nothing to do\n";
    return;
  }
  for (const auto& run : report.runs) {
    // An up first finishes a down that stopped part way: that run says so.
    std::cout << (run.direction == migrate::Direction::down ? "reverted" : verb) << " " << run.version << "\n";
    for (const auto& op : run.operations) {
      std::cout << "    " << op.operation << ": " << op.matched << " matched, " << op.modified << " modified";
      if (op.backed_up > 0) std::cout << ", " << op.backed_up << " backed up";
      if (op.quarantined > 0) std::cout << ", " << op.quarantined << " quarantined";
      if (op.skipped > 0) std::cout << ", " << op.skipped << " left as they were";
      std::cout << "\n";
    }
  }
}

int print_plan(const migrate::Plan& plan, bool json) {
  if (json) {
    bson::Builder out;
    out.append("exit_code", plan.exit_code());
    out.append("checks", [&](bson::ArrayBuilder& list) {
      for (const auto& c : plan.checks) {
        list.append([&](bson::Builder& b) { b.append("check", c.name).append("ok", c.ok).append("detail", c.detail); });
      }
    });
    out.append("migrations", [&](bson::ArrayBuilder& list) {
      for (const auto& m : plan.migrations) {
        list.append([&](bson::Builder& b) {
          b.append("version", m.version).append("description", m.description)
              .append("direction", migrate::to_string(m.direction)).append("runs_code", m.runs_code)
              .append("in_transaction", m.in_transaction);
          b.append("irreversible", [&](bson::ArrayBuilder& names) { for (const auto& n : m.irreversible) names.append(n); });
          b.append("operations", [&](bson::ArrayBuilder& ops) {
            for (const auto& e : m.operations) {
              ops.append([&](bson::Builder& o) {
                o.append("operation", e.operation).append("documents", e.documents).append("batches", e.batches)
                    .append("reversible", e.reversible);
                o.append("conflicts", [&](bson::ArrayBuilder& c) { for (const auto& x : e.conflicts) c.append(x); });
                o.append("notes", [&](bson::ArrayBuilder& c) { for (const auto& x : e.notes) c.append(x); });
              });
            }
          });
          b.append("notes", [&](bson::ArrayBuilder& notes) { for (const auto& n : m.notes) notes.append(n); });
          if (!m.error.empty()) b.append("error", m.error);
          if (!m.uncounted.empty()) b.append("uncounted", m.uncounted);
        });
      }
    });
    out.append("problems", [&](bson::ArrayBuilder& list) { for (const auto& p : plan.problems) list.append(p); });
    std::cout << bson::to_relaxed_json(out.view()) << "\n";
    return plan.exit_code();
  }
  std::cout << "preflight\n";
  for (const auto& c : plan.checks) std::cout << "  [" << (c.ok ? "ok" : "FAIL") << "] " << c.name << ": " << c.detail << "\n";
  if (plan.migrations.empty()) std::cout << "nothing pending\n";
  for (const auto& m : plan.migrations) {
    std::cout << (m.direction == migrate::Direction::up ? "would apply " : "would revert ") << m.version << "  "
              << m.description << (m.in_transaction ? "  (in one transaction)" : "") << "\n";
    if (m.runs_code) std::cout << "    (C++ code: only the operations it applies are counted)\n";
    for (const auto& note : m.notes) std::cout << "    note: " << note << "\n";
    for (const auto& e : m.operations) {
      std::cout << "    " << e.operation << ": " << count_of(e.documents, "document") << ", "
                << count_of(e.batches, "batch") << "\n";
      for (const auto& note : e.notes) std::cout << "        note: " << note << "\n";
      for (const auto& conflict : e.conflicts) std::cout << "        CONFLICT: " << conflict << "\n";
    }
    for (const auto& name : m.irreversible) std::cout << "    irreversible: " << name << "\n";
    if (!m.error.empty()) std::cout << "    dry run failed: " << m.error << "\n";
    if (!m.uncounted.empty()) {
      std::cout << "    not counted: its own code writes directly and was stopped there (" << m.uncounted << ")\n";
    }
  }
  if (!plan.problems.empty()) {
    std::cout << "problems (nothing can run until they are fixed):\n";
    for (const auto& p : plan.problems) std::cout << "  - " << p << "\n";
  }
  return plan.exit_code();
}

int print_verify(const migrate::VerifyReport& report, bool json) {
  if (json) {
    bson::Builder out;
    out.append("ok", report.ok());
    out.append("models", [&](bson::ArrayBuilder& list) {
      for (const auto& m : report.models) {
        list.append([&](bson::Builder& b) {
          b.append("model", m.model).append("collection", m.collection).append("documents", m.documents)
              .append("visible", m.visible).append("sampled", m.sampled).append("failed", m.failed)
              .append("sampling", m.sampling).append("ok", m.ok());
          b.append("fields", [&](bson::ArrayBuilder& fields) {
            for (const auto& f : m.fields) {
              fields.append([&](bson::Builder& x) {
                x.append("path", f.path).append("count", f.count).append("reason", f.example_reason);
                x.append("example_ids", [&](bson::ArrayBuilder& ids) { for (const auto& id : f.example_ids) ids.append(id); });
              });
            }
          });
        });
      }
    });
    std::cout << bson::to_relaxed_json(out.view()) << "\n";
    return report.ok() ? exit_ok : exit_failure;
  }
  if (report.models.empty()) std::cout << "no models registered: nothing to verify\n";
  for (const auto& m : report.models) {
    std::cout << m.model << " (" << m.collection << "): " << count_of(m.documents, "document") << ", " << m.visible
              << " loaded by the model; sampled " << m.sampled << " (" << m.sampling << "), " << m.failed << " failed"
              << (m.ok() ? "  OK" : "  FAILED") << "\n";
    if (m.documents != m.visible) {
      std::cout << "    counts differ: " << (m.documents - m.visible)
                << " documents are invisible to the model (their _cls names no class of it)\n";
    }
    for (const auto& f : m.fields) {
      std::cout << "    field '" << f.path << "': " << count_of(f.count, "document") << ", e.g. " << f.example_reason << " (_id";
      for (const auto& id : f.example_ids) std::cout << " " << id;
      std::cout << ")\n";
    }
  }
  return report.ok() ? exit_ok : exit_failure;
}

// Exit codes of `check`, each naming what is out of date.
constexpr int check_clean = 0;
constexpr int check_models_changed = 1;  // the models differ from the snapshot: a migration is missing
constexpr int check_migrations = 2;      // migrations are pending, drifted or stopped part way
constexpr int check_data_refused = 3;           // (--data) the models refuse more stored documents than allowed
constexpr int check_destructive = 4;     // the models differ, and the migration generate would write drops data
constexpr int check_could_not_run = 5;   // no models, or an error before the checks ended

std::filesystem::path snapshot_path(const MigrateOptions& options) {
  if (!options.snapshot_file.empty()) return options.snapshot_file;
  return std::filesystem::path(options.directory.empty() ? "migrations" : options.directory) / autogen::snapshot_file_name;
}

// The committed snapshot's models; ConfigurationError naming the file when it cannot be read.
std::vector<autogen::DescribedModel> read_snapshot_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return autogen::read_snapshot(committed);
  } catch (const ConfigurationError& e) {
    throw ConfigurationError(file.string() + ": " + e.what());
  }
}

// The models against their committed snapshot, then the changelog against the migrations.
int run_check(const Database& database, migrate::Runner& runner, const migrate::ModelSet& models,
              const MigrateOptions& options) {
  std::filesystem::path file = snapshot_path(options);
  std::vector<autogen::DescribedModel> current = autogen::describe_models(models);
  std::vector<autogen::Change> changes;
  bool found = std::filesystem::exists(file);
  if (found) changes = autogen::diff(read_snapshot_file(file), current);
  // What generate would write for them: a step that drops data needs a person's acknowledgement.
  std::vector<std::string> destructive;
  if (!changes.empty()) {
    for (const auto& step : autogen::generate(database, changes, current).steps) {
      if (step.safety == autogen::Safety::destructive) destructive.emplace_back(step.operation["why"].as_string());
    }
  }
  std::vector<std::string> pending, drifted, stopped;
  for (const auto& row : runner.status()) {
    if (row.drifted) drifted.push_back(row.version);
    if (row.status == MigrationStatus::pending) pending.push_back(row.version);
    if (row.status == MigrationStatus::failed || row.status == MigrationStatus::interrupted) stopped.push_back(row.version);
  }
  bool migrations_current = pending.empty() && drifted.empty() && stopped.empty();
  // With --data, and only once the models and migrations are current: what the models refuse.
  std::vector<std::string> refusals;
  bool data_checked = options.check_data && found && changes.empty() && migrations_current;
  if (data_checked) {
    for (const auto& entry : models.entries()) {
      autogen::CollectionAnalysis a = autogen::analyze(database, entry);
      if (a.documents == 0) continue;
      double share = static_cast<double>(a.refused) / static_cast<double>(a.documents);
      if (a.refused > 0 && share > options.max_refused) {
        std::string where;
        for (const auto& p : a.paths) {
          if (p.refused > 0) where += (where.empty() ? "" : ", ") + p.path + " " + std::to_string(p.refused) + " (e.g. " + p.refused_example + ")";
        }
        refusals.push_back(a.collection + " (model " + entry.name + "): " + std::to_string(a.refused) + " of " +
                           std::to_string(a.documents) + " documents refused" + (where.empty() ? "" : ": " + where));
      }
    }
  }
  int code = !found ? check_models_changed
             : !changes.empty() ? (destructive.empty() ? check_models_changed : check_destructive)
             : !migrations_current ? check_migrations
             : !refusals.empty() ? check_data_refused
                                 : check_clean;
  auto list = [](const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
    return text;
  };
  if (options.json) {
    bson::Builder out;
    out.append("exit_code", code);
    out.append("snapshot", [&](bson::Builder& b) {
      b.append("file", file.string()).append("found", found).append("current", found && changes.empty());
      b.append("changes", autogen::to_document(changes)["changes"].as_array());
    });
    out.append("destructive", [&](bson::ArrayBuilder& c) { for (const auto& x : destructive) c.append(x); });
    out.append("migrations", [&](bson::Builder& b) {
      b.append("pending", [&](bson::ArrayBuilder& c) { for (const auto& x : pending) c.append(x); });
      b.append("drifted", [&](bson::ArrayBuilder& c) { for (const auto& x : drifted) c.append(x); });
      b.append("stopped", [&](bson::ArrayBuilder& c) { for (const auto& x : stopped) c.append(x); });
    });
    if (data_checked) out.append("data", [&](bson::ArrayBuilder& c) { for (const auto& x : refusals) c.append(x); });
    std::cout << bson::to_relaxed_json(out.view()) << "\n";
    return code;
  }
  if (!found) {
    std::cout << "models: no snapshot at " << file.string() << ": run `migrate snapshot` and commit it\n";
  } else if (changes.empty()) {
    std::cout << "models: the same as " << file.string() << "\n";
  } else {
    std::cout << "models: " << count_of(static_cast<int64_t>(changes.size()), "change") << " since " << file.string()
              << " (write the migration, then run `migrate snapshot`):\n";
    for (const auto& change : changes) std::cout << "  " << autogen::to_text(change) << "\n";
    for (const auto& why : destructive) {
      std::cout << "models: the migration for them drops data (generate needs --accept-destructive): " << why << "\n";
    }
  }
  if (pending.empty() && drifted.empty() && stopped.empty()) std::cout << "migrations: every one applied, none drifted\n";
  if (!pending.empty()) std::cout << "migrations: pending: " << list(pending) << "\n";
  if (!drifted.empty()) std::cout << "migrations: changed since applied: " << list(drifted) << "\n";
  if (!stopped.empty()) std::cout << "migrations: stopped part way: " << list(stopped) << "\n";
  if (data_checked && refusals.empty()) std::cout << "data: the models load every stored document (within --max-refused)\n";
  for (const auto& refusal : refusals) std::cout << "data: " << refusal << "\n";
  return code;
}

// Exit codes of `generate` besides 0 and the usual 2.
constexpr int generate_no_snapshot = 1;  // nothing to compare the models with
constexpr int generate_destructive = 4;  // a step drops data and --accept-destructive was not given

// A migration written from the model changes since the snapshot and the data, then the snapshot
// brought up to the models.
int run_generate(const Database& database, const migrate::ModelSet& models, const MigrateOptions& options) {
  std::filesystem::path file = snapshot_path(options);
  if (!std::filesystem::exists(file)) {
    std::cerr << "mongo-orm: generate: no snapshot at " << file.string()
              << ": write one with `migrate snapshot` from the models the database holds now, then change the models\n";
    return generate_no_snapshot;
  }
  autogen::DiffOptions diff_options;
  for (const std::string& rename : options.renames) {
    std::size_t colon = rename.rfind(':'), equals = rename.find('=', colon == std::string::npos ? 0 : colon);
    if (colon == std::string::npos || equals == std::string::npos || colon == 0 || equals == colon + 1 || equals + 1 == rename.size()) {
      std::cerr << "mongo-orm: generate: --rename takes MODEL:OLD=NEW (people:name=full_name), not '" << printable(rename) << "'\n";
      return exit_usage;
    }
    diff_options.renames.push_back({rename.substr(0, colon), rename.substr(colon + 1, equals - colon - 1), rename.substr(equals + 1)});
  }
  for (const std::string& mapping : options.class_maps) {
    std::size_t equals = mapping.find('='), colon = mapping.find(':', equals == std::string::npos ? 0 : equals);
    std::string to = mapping.substr(equals + 1, colon == std::string::npos ? std::string::npos : colon - equals - 1);
    if (equals == std::string::npos || equals == 0 || to.empty()) {
      std::cerr << "mongo-orm: generate: --map-class takes OLD=NEW or OLD=NEW:FILTER (Human.Jedi=Human.GoodJedi:{\"dark_side\": false}), "
                   "not '" << printable(mapping) << "'\n";
      return exit_usage;
    }
    bson::Document filter;
    if (colon != std::string::npos) {
      try {
        filter = bson::from_json(mapping.substr(colon + 1));
      } catch (const std::exception& e) {
        std::cerr << "mongo-orm: generate: --map-class " << printable(mapping.substr(0, colon)) << ": the filter is not a JSON object: "
                  << e.what() << "\n";
        return exit_usage;
      }
    }
    diff_options.classes.push_back({mapping.substr(0, equals), to, std::move(filter)});
  }
  std::vector<autogen::DescribedModel> current = autogen::describe_models(models);
  std::vector<autogen::Change> changes = autogen::diff(read_snapshot_file(file), current, diff_options);
  // Even with the models as the snapshot says, the server may lack an index they declare.
  autogen::GeneratedMigration generated = autogen::generate(database, changes, current, {.tolerance = options.tolerance});
  if (generated.steps.empty()) {
    if (!changes.empty()) autogen::write_snapshot(file, models);
    if (options.json) {
      bson::Builder out;
      out.append("written", bson::Null{}).append("snapshot", changes.empty() ? "" : file.string());
      out.append("warnings", [&](bson::ArrayBuilder& list) { for (const auto& w : generated.warnings) list.append(w); });
      std::cout << bson::to_relaxed_json(out.view()) << "\n";
    } else if (changes.empty()) {
      std::cout << "nothing changed since " << file.string() << ", and the server has every declared index: no migration written\n";
    } else {
      std::cout << "no change since " << file.string() << " needs a step: no migration written; brought the snapshot up "
                << "to the models\n";
    }
    for (const auto& warning : generated.warnings) {
      if (!options.json) std::cout << "  warning: " << warning << "\n";
    }
    return exit_ok;
  }
  auto print_steps = [&](std::ostream& out) {
    for (const auto& step : generated.steps) {
      out << "  [" << autogen::to_string(step.safety) << "] " << step.operation["op"].as_string() << ": "
          << step.operation["why"].as_string() << "\n";
    }
    for (const auto& warning : generated.warnings) out << "  warning: " << warning << "\n";
  };
  if (generated.destructive() && !options.accept_destructive) {
    std::cerr << "mongo-orm: generate: refusing to write a migration that drops data without --accept-destructive; "
                 "nothing was written. The plan:\n";
    print_steps(std::cerr);
    return generate_destructive;
  }
  std::filesystem::path directory = options.directory.empty() ? "migrations" : options.directory;
  auto [migration_file, version] = migrate::new_migration_file(directory, options.name);
  {
    std::ofstream out(migration_file, std::ios::binary);
    out << autogen::migration_file_text(generated, version, options.name);
    if (!out) throw Error("cannot write " + migration_file.string());
  }
  autogen::write_snapshot(file, models);
  if (options.json) {
    bson::Builder out;
    out.append("written", migration_file.string()).append("version", version).append("snapshot", file.string());
    out.append("steps", [&](bson::ArrayBuilder& list) { for (const auto& s : generated.steps) list.append(s.operation.view()); });
    out.append("warnings", [&](bson::ArrayBuilder& list) { for (const auto& w : generated.warnings) list.append(w); });
    std::cout << bson::to_relaxed_json(out.view()) << "\n";
    return exit_ok;
  }
  std::cout << "wrote " << migration_file.string() << " (" << count_of(static_cast<int64_t>(generated.steps.size()), "step")
            << ") and brought " << file.string() << " up to the models; review it, then run it with `migrate up`:\n";
  print_steps(std::cout);
  return exit_ok;
}

// Each named collection (with the model that reads it, if one does), else every model's.
int run_analyze(const Database& database, const migrate::ModelSet& models, const MigrateOptions& options,
                ProgressPrinter& printer) {
  autogen::AnalyzeOptions analyze_options{.limit = options.limit, .sample = options.analyze_sample, .on_server = options.on_server};
  if (options.seed != 0) analyze_options.seed = options.seed;
  auto started = std::chrono::steady_clock::now();
  analyze_options.progress = [&](int64_t read) {
    if (!options.json) printer(migrate::Progress{"analyze", read, -1, std::chrono::steady_clock::now() - started});
  };
  // On the server, a collection is counted alone: a model's checks decode each document here.
  auto analyze = [&](const std::string& name, const migrate::ModelSet::Entry* entry) {
    return entry && !options.on_server ? autogen::analyze(database, *entry, analyze_options)
                                       : autogen::analyze(database.collection(name), analyze_options);
  };
  std::vector<autogen::CollectionAnalysis> results;
  if (options.collections.empty()) {
    for (const auto& entry : models.entries()) results.push_back(analyze(entry.collection, &entry));
  }
  for (const std::string& name : options.collections) {
    auto entry = std::find_if(models.entries().begin(), models.entries().end(),
                              [&](const migrate::ModelSet::Entry& e) { return e.collection == name; });
    results.push_back(analyze(name, entry != models.entries().end() ? &*entry : nullptr));
  }
  printer.finish();
  if (options.json) {
    bson::Builder out;
    out.append("collections", [&](bson::ArrayBuilder& list) { for (const auto& r : results) list.append(autogen::to_document(r).view()); });
    std::cout << bson::to_relaxed_json(out.view()) << "\n";
    return exit_ok;
  }
  for (const auto& r : results) std::cout << autogen::to_text(r);
  return exit_ok;
}

}  // namespace

CLI::Validator non_empty_uri() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (!text.empty()) return {};
        return "is empty: give a MongoDB URI, or leave --uri out to use $MONGODB_URI or the embedded server";
      },
      "URI");
}

std::function<int()> add_migrate_commands(CLI::App& app, const migrate::Registry& registry,
                                          const migrate::ModelSet& models) {
  auto options = std::make_shared<MigrateOptions>();
  auto* migrate_cmd = app.add_subcommand("migrate", "Versioned schema and data migrations");
  migrate_cmd->require_subcommand(1);
  migrate_cmd->add_option("--uri", options->uri,
                          "MongoDB URI (default: $MONGODB_URI, else the embedded local server)")
      ->check(non_empty_uri());
  migrate_cmd->add_option("--database", options->database, "Database to migrate (default: the one the URI names)");
  migrate_cmd->add_option("--lock-wait-ms", options->lock_wait_ms,
                          "How long to wait for another runner's lock before giving up (default: one lease, 30000)")
      ->check(at_least(0));
  migrate_cmd->add_option("--dir", options->directory,
                          "Directory of JSON migration files to run beside the built-in ones");
  migrate_cmd->add_option("--batch-size", options->batch_size, "Documents per bulk write of client-side operations")
      ->check(at_least(1));
  migrate_cmd->add_option("--max-per-second", options->max_per_second, "Most documents a second (0: no limit)")
      ->check(not_negative());
  migrate_cmd->add_option("--pause-ms", options->pause_ms, "Pause after every batch")->check(at_least(0));

  auto* status_cmd = migrate_cmd->add_subcommand("status", "Every migration with its state");
  status_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* history_cmd = migrate_cmd->add_subcommand("history", "Every recorded run, oldest first");
  history_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* validate_cmd = migrate_cmd->add_subcommand(
      "validate", "Report applied migrations whose definition changed (exit 1 when there is drift)");
  validate_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* plan_cmd = migrate_cmd->add_subcommand(
      "plan", "Dry run: what up would touch, conflicts, irreversible steps, batches (exit 0 nothing pending, 1 pending, 2 problem)");
  plan_cmd->add_option("--to", options->to, "Stop after this version");
  plan_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* up_cmd = migrate_cmd->add_subcommand("up", "Apply pending migrations");
  up_cmd->add_option("--to", options->to, "Stop after this version");
  up_cmd->add_flag("--json", options->json, "Print what ran as JSON");
  auto* down_cmd = migrate_cmd->add_subcommand("down", "Revert applied migrations, newest first");
  auto* down_to = down_cmd->add_option("--to", options->to, "Revert everything applied after this version");
  auto* down_steps = down_cmd->add_option("--steps", options->steps, "Revert this many")->check(at_least(1));
  auto* down_all = down_cmd->add_flag("--all", options->all, "Revert everything");
  down_to->excludes(down_steps)->excludes(down_all);
  down_steps->excludes(down_all);
  down_cmd->add_flag("--json", options->json, "Print what ran as JSON");
  auto* verify_cmd = migrate_cmd->add_subcommand(
      "verify", "Sample documents, decode them through the models, compare counts (exit 1 on failures)");
  verify_cmd->add_option("--sample", options->sample, "Documents to sample per model")->check(at_least(1));
  verify_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* round_trip_cmd = migrate_cmd->add_subcommand(
      "round-trip", "On a temporary copy of the database: up, down, up, and compare the documents");
  round_trip_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* create_cmd = migrate_cmd->add_subcommand("create", "Write a new JSON migration file into --dir (default migrations/)");
  create_cmd->add_option("name", options->name, "What the migration does")->required();
  create_cmd->add_flag("--json", options->json, "Print the file written as JSON");
  auto* baseline_cmd = migrate_cmd->add_subcommand(
      "baseline", "Record migrations up to VERSION as applied without running them");
  baseline_cmd->alias("stamp");
  baseline_cmd->add_option("version", options->baseline_version, "The last version the database already has")->required();
  baseline_cmd->add_flag("--json", options->json, "Print what was recorded as JSON");
  auto* undo_failed_cmd = migrate_cmd->add_subcommand(
      "undo-failed", "Undo what the failed or interrupted up of VERSION changed before it stopped, from its backups");
  undo_failed_cmd->add_option("version", options->failed_version, "The version whose last up failed")->required();
  undo_failed_cmd->add_flag("--json", options->json, "Print what ran as JSON");
  auto* snapshot_cmd = migrate_cmd->add_subcommand(
      "snapshot", "Write the model snapshot (default: model_snapshot.json in --dir, else migrations/) to commit");
  snapshot_cmd->add_option("--file", options->snapshot_file, "Where the snapshot is");
  snapshot_cmd->add_flag("--json", options->json, "Print the file written as JSON");
  auto* check_cmd = migrate_cmd->add_subcommand(
      "check", "For CI: 0 clean, 1 the models differ from the snapshot, 2 migrations pending, drifted or stopped, "
               "3 (--data) the models refuse stored documents, 4 the models differ and their migration drops data, "
               "5 the check could not run");
  check_cmd->add_option("--file", options->snapshot_file, "Where the snapshot is");
  check_cmd->add_flag("--data", options->check_data,
                      "Also read every model's collection: exit 3 when the models refuse more documents than allowed");
  check_cmd->add_option("--max-refused", options->max_refused,
                        "With --data: the share of a collection's documents the models may refuse (default 0)")
      ->check(CLI::Range(0.0, 1.0));
  check_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* analyze_cmd = migrate_cmd->add_subcommand(
      "analyze", "What collections hold, path by path: types, missing, null; against the models that read them");
  analyze_cmd->add_option("collection", options->collections, "Collections to analyze (default: every model's)");
  auto* analyze_limit = analyze_cmd->add_option("--limit", options->limit, "Read at most this many documents of each (default: all)")
                            ->check(at_least(1));
  analyze_cmd
      ->add_option("--sample", options->analyze_sample,
                   "Read a uniform random sample of this many documents of each; shares come with their 95% bounds")
      ->check(at_least(1))
      ->excludes(analyze_limit);
  analyze_cmd
      ->add_flag("--on-server", options->on_server,
                 "Count on the server ($type, $objectToArray; MongoDB): only the counts come back. Each collection alone, "
                 "without its model's checks")
      ->excludes("--sample");
  analyze_cmd->add_option("--seed", options->seed, "Seed of the sample where the server has no $sample (repeatable samples)");
  analyze_cmd->add_flag("--json", options->json, "Print as JSON");
  auto* generate_cmd = migrate_cmd->add_subcommand(
      "generate", "Write the migration for what changed in the models since the snapshot, from the data, into --dir; "
                  "then bring the snapshot up to the models");
  generate_cmd->add_option("name", options->name, "What the migration does")->required();
  generate_cmd->add_option("--file", options->snapshot_file, "Where the snapshot is");
  generate_cmd->add_option("--rename", options->renames, "Confirms a suggested rename: MODEL:OLD=NEW (repeatable)");
  generate_cmd->add_option("--map-class", options->class_maps,
                           "Declares that the documents of class OLD (those matching FILTER, a JSON query) are class NEW now: "
                           "OLD=NEW[:FILTER] with full class names (repeatable, applied in order)");
  generate_cmd->add_flag("--accept-destructive", options->accept_destructive, "Write steps that drop data (exit 4 without)");
  generate_cmd->add_option("--tolerance", options->tolerance,
                           "How far the counts may move before up refuses, as a fraction (default 0.01)")
      ->check(CLI::Range(0.0, 1.0));
  generate_cmd->add_flag("--json", options->json, "Print what was written as JSON");
  auto* unlock_cmd = migrate_cmd->add_subcommand("unlock", "Free the migration lock of a runner that is gone");
  unlock_cmd->add_flag("--force", options->force, "Required: confirms the holder is gone")->required();
  unlock_cmd->add_flag("--json", options->json, "Print as JSON");

  // Options of `migrate` may also follow the subcommand: `migrate up --batch-size 500`.
  for (CLI::App* sub : migrate_cmd->get_subcommands({})) sub->fallthrough();

  auto run = [=, &registry, &models]() -> int {
    if (!*migrate_cmd) return -1;
    if (*create_cmd) {
      auto file = migrate::create_migration_file(options->directory.empty() ? "migrations" : options->directory, options->name);
      if (options->json) {
        std::cout << bson::to_relaxed_json(bson::Builder{}.append("created", file.string()).view()) << "\n";
      } else {
        std::cout << "created " << file.string() << "\n";
      }
      return exit_ok;
    }
    if ((*snapshot_cmd || *check_cmd || *generate_cmd) && models.empty()) {
      refuse_without_models(*snapshot_cmd ? "snapshot" : *check_cmd ? "check" : "generate");
      return *check_cmd ? check_could_not_run : exit_usage;
    }
    if (*snapshot_cmd) {
      std::filesystem::path file = snapshot_path(*options);
      if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
      autogen::write_snapshot(file, models);
      if (options->json) {
        std::cout << bson::to_relaxed_json(bson::Builder{}.append("written", file.string()).view()) << "\n";
      } else {
        std::cout << "wrote " << file.string() << "\n";
      }
      return exit_ok;
    }
    if (*analyze_cmd && options->collections.empty() && models.empty()) {
      std::cerr << "mongo-orm: analyze needs a collection name, or the application's models\n";
      return exit_usage;
    }
    if (*down_cmd && options->to.empty() && options->steps == 0 && !options->all) {
      std::cerr << "mongo-orm: down needs a target: --to VERSION, --steps N or --all\n";
      return exit_usage;
    }
    migrate::Registry combined = registry;
    if (!options->directory.empty()) migrate::add_migration_files(combined, options->directory);
    // A version argument that names no migration is a usage error, found before connecting.
    auto unknown = [&](const std::string& what, const std::string& version) {
      if (version.empty() || combined.find(version)) return false;
      std::cerr << "mongo-orm: " << what << ": no migration has version '" << printable(version) << "'\n";
      return true;
    };
    if ((*plan_cmd || *up_cmd || *down_cmd) && unknown("--to", options->to)) return exit_usage;
    if (*baseline_cmd && unknown("baseline", options->baseline_version)) return exit_usage;
    if (*undo_failed_cmd && unknown("undo-failed", options->failed_version)) return exit_usage;
    const char* environment_uri = std::getenv("MONGODB_URI");
    bool embedded = options->uri.empty() && !(environment_uri && *environment_uri);
    std::string uri = resolve_uri(options->uri);
    Client client(uri, {.server_selection_timeout_ms = 5000});
    Database database = target_database(client, *options, embedded);
    auto printer = std::make_shared<ProgressPrinter>(stderr, isatty(fileno(stderr)) != 0);
    migrate::RunnerOptions runner_options;
    runner_options.lock.wait = std::chrono::milliseconds(options->lock_wait_ms);
    runner_options.lock.notice = [](const std::string& text) { std::cerr << "mongo-orm: " << text << "\n"; };
    runner_options.batch = {options->batch_size, options->max_per_second, std::chrono::milliseconds(options->pause_ms)};
    if (!options->json) runner_options.progress = [printer](const migrate::Progress& p) { (*printer)(p); };
    migrate::Runner runner(database, combined, runner_options);
    struct FinishBar {
      std::shared_ptr<ProgressPrinter> printer;
      ~FinishBar() { printer->finish(); }
    } finish_bar{printer};

    if (*status_cmd) return print_status(runner, options->json);
    if (*check_cmd) return run_check(database, runner, models, *options);
    if (*analyze_cmd) return run_analyze(database, models, *options, *printer);
    if (*generate_cmd) return run_generate(database, models, *options);
    if (*history_cmd) return print_history(runner, options->json);
    if (*validate_cmd) {
      auto drifts = runner.validate();
      if (options->json) {
        bson::Builder out;
        out.append("ok", drifts.empty());
        out.append("drift", [&](bson::ArrayBuilder& list) {
          for (const auto& d : drifts) {
            list.append([&](bson::Builder& b) {
              b.append("version", d.version).append("applied_checksum", d.applied_checksum)
                  .append("defined", !d.current_checksum.empty());
              if (!d.current_checksum.empty()) b.append("current_checksum", d.current_checksum);
            });
          }
        });
        std::cout << bson::to_relaxed_json(out.view()) << "\n";
        return drifts.empty() ? exit_ok : exit_failure;
      }
      for (const auto& d : drifts) {
        std::cout << d.version << ": applied with checksum " << d.applied_checksum << ", "
                  << (d.current_checksum.empty() ? "no longer defined" : "now " + d.current_checksum) << "\n";
      }
      if (drifts.empty()) std::cout << "no drift: every applied migration matches its definition\n";
      return drifts.empty() ? exit_ok : exit_failure;
    }
    if (*plan_cmd) return print_plan(runner.plan(options->to.empty() ? std::nullopt : std::optional(options->to)), options->json);
    if (*up_cmd) {
      auto report = runner.up(options->to.empty() ? std::nullopt : std::optional(options->to));
      printer->finish();
      print_report("applied", report, options->json);
      return exit_ok;
    }
    if (*verify_cmd) {
      if (models.empty()) {
        refuse_without_models("verify");
        return exit_usage;
      }
      return print_verify(migrate::verify(database, models, {.sample_size = options->sample}), options->json);
    }
    if (*round_trip_cmd) {
      auto result = migrate::round_trip_on_copy(database, combined, runner_options);
      printer->finish();
      if (options->json) {
        bson::Builder out;
        out.append("ok", result.ok()).append("exercised", result.exercised());
        out.append("applied", [&](bson::ArrayBuilder& list) { for (const auto& v : result.applied) list.append(v); });
        out.append("after_down", result.after_down).append("after_second_up", result.after_second_up);
        std::cout << bson::to_relaxed_json(out.view()) << "\n";
      } else {
        std::cout << result.describe() << "\n";
      }
      return result.ok() ? exit_ok : exit_failure;  // nothing exercised is no pass
    }
    if (*down_cmd) {
      migrate::DownTarget target;
      if (!options->to.empty()) target.to = options->to;
      if (options->steps > 0) target.steps = options->steps;
      target.all = options->all;
      auto report = runner.down(target);
      printer->finish();
      print_report("reverted", report, options->json);
      return exit_ok;
    }
    if (*baseline_cmd) {
      print_report("recorded as applied", runner.baseline(options->baseline_version), options->json);
      return exit_ok;
    }
    if (*undo_failed_cmd) {
      auto report = runner.undo_failed(options->failed_version);
      printer->finish();
      print_report("reverted", report, options->json);
      return exit_ok;
    }
    if (*unlock_cmd) {
      bool freed = migrate::LeaseLock::force_unlock(database);
      if (options->json) {
        std::cout << bson::to_relaxed_json(bson::Builder{}.append("freed", freed).view()) << "\n";
      } else {
        std::cout << (freed ? "the migration lock was freed\n" : "the migration lock was not held\n");
      }
      return exit_ok;
    }
    return exit_usage;
  };
  // A plan is a CI gate: whatever stops it (a malformed file, a server error) is a problem, 2,
  // never 1, which says that work is pending.
  // A check is a CI gate too: whatever stops it is 5, never a code that names a finding.
  return [=]() -> int {
    try {
      return run();
    } catch (const std::exception& e) {
      if (*check_cmd) {
        std::cerr << "mongo-orm: check: " << e.what() << "\n";
        return check_could_not_run;
      }
      if (!*plan_cmd) throw;
      std::cerr << "mongo-orm: plan: " << e.what() << "\n";
      return exit_usage;
    }
  };
}

}  // namespace mongo_orm::cli
