// Model snapshots: what the application's models declare, written as a canonical, sorted,
// line-oriented JSON file that is committed beside the migrations. A change to a model shows as
// a change to the file, in review and in a merge conflict; `check` compares the models with it.
//
//   {"mongo_orm_model_snapshot": 1,
//    "models": [
//     {"model": "users", "collection": "users", "class": "", "hierarchy": [], ...,
//      "fields": [
//       {"path": "_id", "type": "objectId"},
//       {"path": "age", "type": "int", "rules": [{"min": 0}]}
//      ],
//      "indexes": [
//       {"name": "email_1", "keys": {"email": 1}, "unique": true}
//      ]}
//    ]}
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "mongo_orm/migrate/verify.hpp"

namespace mongo_orm::autogen {

// The default file name, in the migrations directory.
inline constexpr const char* snapshot_file_name = "model_snapshot.json";

// The snapshot of every model of `models`: models sorted by name, fields by path, indexes by
// name (the server's name for their keys when none is given), one field or index per line.
// The same models give the same text. Error when `models` is empty: a program that registers
// no model would otherwise report that nothing changed.
std::string snapshot_text(const migrate::ModelSet& models);

// Writes the snapshot (through a temporary file, so a reader never sees half of it).
void write_snapshot(const std::filesystem::path& file, const migrate::ModelSet& models);

// What differs between a committed snapshot and the models now, line by line: "- " a line only
// the file has, "+ " a line only the models have, in file order then model order; a field or
// index line is named by its model ("+ users: { "path" : "status", ... }"). Empty when the
// snapshot is current.
std::vector<std::string> snapshot_changes(const std::string& committed, const std::string& current);

}  // namespace mongo_orm::autogen
