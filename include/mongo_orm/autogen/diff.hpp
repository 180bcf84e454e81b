// What changed in the models since their snapshot, as changes a migration answers: fields added,
// removed, renamed, retyped; defaults, rules and choices changed; classes moved in a hierarchy;
// indexes added, removed or changed. A rename is never guessed: a field declares the stored name
// it replaces (renamed_from), or a person confirms a suggested one; otherwise the two fields show
// as one removed and one added, with the suggestion and a warning beside them.
//
//   auto changes = autogen::diff(autogen::read_snapshot(committed), autogen::describe_models(models));
//   for (const auto& change : changes) std::cout << autogen::to_text(change) << "\n";
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/autogen/snapshot.hpp"
#include "mongo_orm/bson/document.hpp"

namespace mongo_orm::autogen {

enum class ChangeKind {
  model_added,             // a model (or a class of a hierarchy) the snapshot does not have
  model_removed,
  class_moved,             // the same class under another parent: "Human.Jedi" -> "Human.Knight.Jedi"
  class_remapped,          // the documents of a class (those matching a filter) become another class: declared
  collection_changed,      // the model is stored in another collection now
  unknown_fields_changed,  // strict <-> preserve
  schema_version_changed,  // the version documents are written with (or where it is stored)
  field_added,
  field_removed,
  field_renamed,           // declared (renamed_from) or confirmed
  rename_suggested,        // a removed and an added field that may be one renamed: not applied
  field_retyped,
  optional_changed,
  default_changed,
  rules_changed,
  choices_changed,
  index_added,
  index_removed,
  index_changed,           // the same name, other keys or options
};

std::string_view to_string(ChangeKind kind) noexcept;

struct Change {
  ChangeKind kind;
  std::string model;       // as the snapshot names it: "users", "Human.Jedi"
  std::string collection;  // where the model is stored now (before, for a removed model)
  std::string path;        // the field's path (the new one of a rename), the index's name
  std::string from;        // what it was: the old path of a rename, the old type, the old default as JSON
  std::string to;          // what it is now
  std::string note;        // why it is shown so, the evidence, what to do
  bson::Document filter{};  // class_remapped: which documents of `from` (empty: all)
};

// A rename a person confirmed: in `model`, the stored path `from` is now `to`.
struct ConfirmedRename {
  std::string model;
  std::string from;
  std::string to;
};

// A class change a person declared (seed 002's Jedi that become GoodJedi or BadSith): the
// documents stored as class `from` that match `filter` (all, when empty) are now class `to`.
// Both are full class chains ("Human.Jedi"), `from` a class of the snapshot and `to` one of the
// models, in the same collection. Several may share a `from`; they apply in order, each to the
// documents the ones before left. The fields of `to` are compared with those of `from`, so a
// field `to` no longer declares shows as removed from it.
struct ClassMapping {
  std::string from;
  std::string to;
  bson::Document filter{};
};

struct DiffOptions {
  std::vector<ConfirmedRename> renames{};
  std::vector<ClassMapping> classes{};
};

// What differs from `before` (a snapshot) to `after` (the models now), model by model in name
// order: the model's own changes, then its fields', then its indexes'. Empty when nothing
// changed. InvalidRequestError when a confirmed rename names a path that is not one removed
// and one added in that model, or a class mapping names classes the snapshot and the models do
// not have, or classes of different collections.
std::vector<Change> diff(const std::vector<DescribedModel>& before, const std::vector<DescribedModel>& after,
                         const DiffOptions& options = {});

// One line: "users: field renamed: email_address -> email (declared: renamed_from)".
std::string to_text(const Change& change);
// {"changes": [{"kind", "model", "collection", "path", "from", "to", "note"}, ...]}
bson::Document to_document(const std::vector<Change>& changes);

}  // namespace mongo_orm::autogen
