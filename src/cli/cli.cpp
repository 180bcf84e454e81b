// mongo-orm commands: doctor (server report) and ping.
#include "mongo_orm/cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/cli/embedded_server.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/registry.hpp"
#include "migrate_commands.hpp"
#include "../driver/internal.hpp"

namespace mongo_orm::cli {

namespace {

constexpr int32_t default_selection_timeout_ms = 5000;

struct Flag {
  std::string_view name;
  bool Capabilities::*member;
};
constexpr Flag capability_flags[] = {
    {"transactions", &Capabilities::transactions},
    {"$sample", &Capabilities::sample_stage},
    {"$lookup", &Capabilities::lookup_stage},
    {"$type / $objectToArray", &Capabilities::type_expressions},
    {"collations", &Capabilities::collations},
    {"update pipelines", &Capabilities::update_pipelines},
    {"collMod / validators", &Capabilities::collection_validators},
    {"partial indexes", &Capabilities::partial_indexes},
    {"TTL indexes", &Capabilities::ttl_indexes},
    {"sparse indexes", &Capabilities::sparse_indexes},
    {"findAndModify projection", &Capabilities::find_and_modify_projection},
    {"batch upsert indexes", &Capabilities::upsert_indexes_per_batch},
    {"Decimal128 values", &Capabilities::decimal128_values},
    {"NaN values", &Capabilities::nan_values},
    {"nested arrays", &Capabilities::nested_arrays},
    {"DBRef values", &Capabilities::dbref_values},
    {"writes beside open cursors", &Capabilities::writes_beside_open_cursors},
    {"updates by _id use its index", &Capabilities::indexed_id_updates},
};

std::string server_line(const Capabilities& caps) {
  if (caps.kind == ServerKind::ferretdb) {
    return "FerretDB " + caps.ferretdb_version + " (answers as MongoDB " + caps.version + ")";
  }
  return "MongoDB " + caps.version;
}

// How a flag that was not asked follows from the server.
std::string assumed_from(const Capabilities& caps) {
  if (caps.kind == ServerKind::ferretdb) return "known for FerretDB " + caps.ferretdb_version;
  return "assumed from MongoDB " + caps.version + ", " + std::string(to_string(caps.topology));
}

void print_report(const std::string& uri, const Capabilities& caps, std::ostream& out) {
  out << "mongo-orm doctor\n";
  out << "  uri             " << detail::redact_credentials(uri) << "\n";
  out << "  server          " << server_line(caps) << "\n";
  out << "  topology        " << to_string(caps.topology) << "\n";
  out << "  wire version    " << caps.max_wire_version << "\n";
  out << "  max document    " << caps.max_bson_object_size << " bytes\n";
  out << "  update statements per command  "
      << (caps.update_statements_per_command > 0 ? std::to_string(caps.update_statements_per_command) : "no limit") << "\n";
  out << "  capabilities\n";
  std::size_t width = 0;
  for (const Flag& flag : capability_flags) width = std::max(width, flag.name.size());
  for (const Flag& flag : capability_flags) {
    std::string name(flag.name);
    name.resize(width + 2, ' ');  // at least two spaces between a label and its value
    out << "    " << name << (caps.*flag.member ? "yes" : "no ")
        << (caps.was_asked(flag.member) ? "  (asked the server)" : "  (" + assumed_from(caps) + ")") << "\n";
  }
}

void print_json(const std::string& uri, const Capabilities& caps, std::ostream& out) {
  bson::Builder report;
  report.append("uri", detail::redact_credentials(uri))
      .append("kind", to_string(caps.kind))
      .append("version", caps.version)
      .append("ferretdb_version", caps.ferretdb_version)
      .append("topology", to_string(caps.topology))
      .append("max_wire_version", caps.max_wire_version)
      .append("max_bson_object_size", caps.max_bson_object_size)
      .append("update_statements_per_command", caps.update_statements_per_command)
      .append("capabilities", [&](bson::Builder& flags) {
        for (const Flag& flag : capability_flags) flags.append(flag.name, caps.*flag.member);
      })
      .append("learned", [&](bson::Builder& how) {
        for (const Flag& flag : capability_flags) {
          how.append(flag.name, caps.was_asked(flag.member) ? "asked the server" : assumed_from(caps));
        }
      });
  out << bson::to_relaxed_json(report.view()) << "\n";
}

int doctor(const std::string& explicit_uri, bool json) {
  std::string uri = resolve_uri(explicit_uri);
  Client client(uri, {.server_selection_timeout_ms = default_selection_timeout_ms});
  const Capabilities& caps = client.capabilities();
  if (json) {
    print_json(uri, caps, std::cout);
  } else {
    print_report(uri, caps, std::cout);
  }
  return exit_ok;
}

int ping(const std::string& explicit_uri, int32_t timeout_ms) {
  Client client(resolve_uri(explicit_uri), {.server_selection_timeout_ms = timeout_ms});
  client.ping();
  std::cout << "ok\n";
  return exit_ok;
}

}  // namespace

int run(int argc, char** argv) {
  static const migrate::Registry no_migrations;
  return run(argc, argv, no_migrations);
}

int run(int argc, char** argv, const migrate::Registry& registry) {
  static const migrate::ModelSet no_models;
  return run(argc, argv, registry, no_models);
}

int run(int argc, char** argv, const migrate::Registry& registry, const migrate::ModelSet& models) {
  CLI::App app{"mongo-orm: MongoDB object-document mapper and migration toolkit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("mongo-orm ") + MONGO_ORM_VERSION);

  std::string uri;
  bool json = false;
  auto* doctor_cmd = app.add_subcommand(
      "doctor", "Connect and report the server kind, version, topology and capabilities");
  doctor_cmd->add_option("--uri", uri,
                         "MongoDB URI (default: $MONGODB_URI, else the embedded local server, "
                         "started if needed)")
      ->check(non_empty_uri());
  doctor_cmd->add_flag("--json", json, "Print the report as JSON");

  std::string ping_uri;
  int32_t timeout_ms = default_selection_timeout_ms;
  auto* ping_cmd = app.add_subcommand("ping", "Exit 0 when the server answers a ping");
  ping_cmd->add_option("--uri", ping_uri, "MongoDB URI (default: $MONGODB_URI, else the embedded local server)")
      ->check(non_empty_uri());
  ping_cmd->add_option("--timeout-ms", timeout_ms, "Server selection timeout in milliseconds");

  std::function<int()> migrate_action = add_migrate_commands(app, registry, models);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }

  try {
    if (*doctor_cmd) return doctor(uri, json);
    if (*ping_cmd) return ping(ping_uri, timeout_ms);
    if (int code = migrate_action(); code >= 0) return code;
  } catch (const ConnectionError& e) {
    std::cerr << "mongo-orm: cannot connect: " << e.what() << "\n";
    return exit_failure;
  } catch (const std::exception& e) {
    std::cerr << "mongo-orm: " << e.what() << "\n";
    return exit_failure;
  }
  return exit_usage;
}

}  // namespace mongo_orm::cli
