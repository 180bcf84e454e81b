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

#include "mongo_orm/migrate/migration_files.hpp"
#include "mongo_orm/migrate/verify.hpp"

namespace mongo_orm::autogen {

// The default file name, in the migrations directory (which reads it as no migration).
inline constexpr const char* snapshot_file_name = migrate::model_snapshot_file_name;

// A model as a snapshot holds it: its name (the model's, or a class chain of a hierarchy:
// "Human.Jedi") and what it declares.
struct DescribedModel {
  std::string name;
  model::ModelDescription description;
};

// Every model of `models`, each class of a hierarchy apart, sorted by name. ConfigurationError
// when `models` is empty (a program that registers no model would otherwise report that nothing
// changed) or two models share a name.
std::vector<DescribedModel> describe_models(const migrate::ModelSet& models);

// The models a snapshot's text holds, as snapshot_text wrote them. ConfigurationError naming the
// model and what is wrong when the text is not a snapshot (a merge left conflict markers in it,
// a field lost its path).
std::vector<DescribedModel> read_snapshot(const std::string& text);

// The snapshot of every model of `models`: models sorted by name, fields by path, indexes by
// name (the server's name for their keys when none is given), one field or index per line.
// The same models give the same text. Error when `models` is empty: a program that registers
// no model would otherwise report that nothing changed.
std::string snapshot_text(const migrate::ModelSet& models);

// Writes the snapshot (through a temporary file, so a reader never sees half of it).
void write_snapshot(const std::filesystem::path& file, const migrate::ModelSet& models);

}  // namespace mongo_orm::autogen
