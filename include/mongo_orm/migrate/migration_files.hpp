// Migrations written as files, run by the standalone `mongo-orm migrate --dir DIR` with nothing
// to compile: one Extended JSON file per migration.
//
//   {
//     "version": "2023.01.001",
//     "description": "Add status field to users",
//     "depends_on": [],
//     "up": [
//       {"op": "add_field", "collection": "users", "field": "status", "value": "active"},
//       {"op": "create_index", "collection": "users", "keys": {"status": 1}}
//     ]
//   }
//
// "up" lists built-in operations (see docs/migrations.md for each one's keys); "down", when
// given, lists the operations that undo it, run in that order; otherwise the undo is derived
// from "up". The file's contents are its checksum.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mongo_orm/migrate/registry.hpp"

namespace mongo_orm::migrate {

// The keys each operation of a migration file takes ("op" aside), by operation name.
const std::map<std::string, std::vector<std::string>>& migration_file_keys();

// The largest migration file read (16 MiB, MongoDB's largest document): a larger one is refused
// before it is read, so that memory stays proportional to what a migration can send.
constexpr std::uintmax_t max_migration_file_bytes = 16 * 1024 * 1024;

// Reads one migration file; MigrationError naming the file, the operation ("up[2]") and the
// key when something is missing, misspelt or of the wrong type, when the file is larger than
// max_migration_file_bytes, or when a value could not fit in a document.
Migration read_migration_file(const std::filesystem::path& file);

// The model snapshot autogenerate keeps beside the migrations by default: not a migration.
inline constexpr const char* model_snapshot_file_name = "model_snapshot.json";

// Whether `file` is read as a migration file: its extension is .json, in any case (".JSON"), and
// it is not the model snapshot.
bool is_migration_file(const std::filesystem::path& file);

// Adds every migration file of `directory` to the registry (in file-name order); returns how
// many. Two files whose versions compare equal ("1.0" and "1.00") are refused, naming both.
std::size_t add_migration_files(Registry& registry, const std::filesystem::path& directory);

// Where a new migration named `name` goes: "<directory>/<version>_<name>.json" (characters of the
// name outside [A-Za-z0-9] as _), with the version as create_migration_file chooses it. Refuses
// a file that exists.
struct NewMigrationFile {
  std::filesystem::path file;
  std::string version;
};
NewMigrationFile new_migration_file(const std::filesystem::path& directory, const std::string& name, std::string version = {});

// Writes a new migration file "<version>_<name>.json" with an empty "up" to fill in; the version
// is the current UTC time (YYYY.MM.DD.HHMMSS) unless given, with ".1", ".2", ... added when a file
// of the directory has that version already (two files created in the same second). Refuses to
// overwrite a file.
std::filesystem::path create_migration_file(const std::filesystem::path& directory, const std::string& name,
                                            std::string version = {});

}  // namespace mongo_orm::migrate
