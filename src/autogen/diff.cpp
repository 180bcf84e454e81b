// What changed in the models since their snapshot.
#include "mongo_orm/autogen/diff.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/model/indexes.hpp"

namespace mongo_orm::autogen {

std::string_view to_string(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::model_added: return "model added";
    case ChangeKind::model_removed: return "model removed";
    case ChangeKind::class_moved: return "class moved";
    case ChangeKind::class_remapped: return "class remapped";
    case ChangeKind::collection_changed: return "collection changed";
    case ChangeKind::unknown_fields_changed: return "unknown fields changed";
    case ChangeKind::schema_version_changed: return "schema version changed";
    case ChangeKind::field_added: return "field added";
    case ChangeKind::field_removed: return "field removed";
    case ChangeKind::field_renamed: return "field renamed";
    case ChangeKind::rename_suggested: return "rename suggested";
    case ChangeKind::field_retyped: return "field retyped";
    case ChangeKind::optional_changed: return "optional changed";
    case ChangeKind::default_changed: return "default changed";
    case ChangeKind::rules_changed: return "rules changed";
    case ChangeKind::choices_changed: return "choices changed";
    case ChangeKind::index_added: return "index added";
    case ChangeKind::index_removed: return "index removed";
    case ChangeKind::index_changed: return "index changed";
  }
  return "change";
}

namespace {

// Values are compared as the snapshot writes them (relaxed JSON), so that a value read back
// from the file equals the one the model declares (an int64 default of 18 reads back as int32).
std::string json(bson::DocumentView value) { return bson::to_relaxed_json(value); }

std::string rules_text(const std::vector<bson::Document>& rules) {
  std::string out = "[";
  for (const auto& rule : rules) out += (out.size() > 1 ? ", " : "") + json(rule);
  return out + "]";
}

std::string choices_text(const std::vector<std::string>& choices) {
  bson::Builder b;
  b.append("c", [&](bson::ArrayBuilder& list) { for (const auto& c : choices) list.append(c); });
  return bson::to_relaxed_json(b.view()["c"].as_array());
}

// "string", "string, optional, default {"value": "a"}": what a field added or removed holds.
std::string summary(const model::FieldDescription& f) {
  std::string out = f.type;
  if (f.optional) out += ", optional";
  if (f.default_value) out += ", default " + json(*f.default_value);
  return out;
}

// The path of the object (or array, or map) holding `path`: "address" for "address.zip",
// "items" for "items[].qty", "prices" for "prices.*.amount"; "" at the top.
std::string parent_of(const std::string& path) {
  std::size_t dot = path.rfind('.');
  if (dot == std::string::npos) return "";
  std::string parent = path.substr(0, dot);
  if (parent.ends_with("[]")) parent.resize(parent.size() - 2);
  if (parent.ends_with(".*")) parent.resize(parent.size() - 2);
  return parent;
}

// Whether `path` lies inside `outer` ("address.zip" in "address", "items[].qty" in "items").
bool inside(const std::string& path, const std::string& outer) {
  return path.size() > outer.size() && path.starts_with(outer) && (path[outer.size()] == '.' || path[outer.size()] == '[');
}

// The longest run of characters two names share ("name" and "full_name": 4), to put the most
// alike of several rename candidates first.
std::size_t common_run(const std::string& a, const std::string& b) {
  std::size_t best = 0;
  std::vector<std::size_t> previous(b.size() + 1, 0), current(b.size() + 1, 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : 0;
      best = std::max(best, current[j]);
    }
    std::swap(previous, current);
  }
  return best;
}

class ModelDiff {
 public:
  ModelDiff(const DescribedModel& before, const DescribedModel& after, std::vector<Change>& out)
      : before_(before.description), after_(after.description), name_(after.name), out_(out) {}

  void run(const DiffOptions& options) {
    model_changes();
    field_changes(options);
    index_changes();
  }

 private:
  void add(ChangeKind kind, std::string path, std::string from, std::string to, std::string note = "") {
    out_.push_back({kind, name_, after_.collection, std::move(path), std::move(from), std::move(to), std::move(note)});
  }

  void model_changes() {
    if (before_.collection != after_.collection) {
      add(ChangeKind::collection_changed, "", before_.collection, after_.collection,
          "the documents stay in " + before_.collection + " until a migration moves them");
    }
    auto policy = [](model::UnknownFields u) { return u == model::UnknownFields::strict ? "strict" : "preserve"; };
    if (before_.unknown_fields != after_.unknown_fields) {
      add(ChangeKind::unknown_fields_changed, "", policy(before_.unknown_fields), policy(after_.unknown_fields),
          after_.unknown_fields == model::UnknownFields::strict ? "documents holding fields the model does not declare will be refused"
                                                                : "");
    }
    auto version = [](const model::ModelDescription& d) {
      return d.schema_version == 0 ? std::string("not versioned") : std::to_string(d.schema_version) + " in " + d.version_field;
    };
    if (version(before_) != version(after_)) add(ChangeKind::schema_version_changed, "", version(before_), version(after_));
  }

  void field_changes(const DiffOptions& options) {
    std::map<std::string, const model::FieldDescription*> old_fields, new_fields;
    for (const auto& f : before_.fields) old_fields[f.path] = &f;
    for (const auto& f : after_.fields) new_fields[f.path] = &f;
    std::set<std::string> removed, added;
    for (const auto& [path, f] : old_fields) {
      if (!new_fields.contains(path)) removed.insert(path);
    }
    for (const auto& [path, f] : new_fields) {
      if (!old_fields.contains(path)) added.insert(path);
    }
    // Pairs of (old path, new path) that hold the same field: unchanged paths, renames and what
    // lies inside a renamed object.
    std::vector<std::pair<std::string, std::string>> same;
    for (const auto& [path, f] : new_fields) {
      if (old_fields.contains(path)) same.emplace_back(path, path);
    }
    auto rename = [&](const std::string& from, const std::string& to, const std::string& why) {
      add(ChangeKind::field_renamed, to, from, to, why);
      removed.erase(from);
      added.erase(to);
      same.emplace_back(from, to);
      for (auto it = removed.begin(); it != removed.end();) {
        if (inside(*it, from) && added.erase(to + it->substr(from.size()))) {
          same.emplace_back(*it, to + it->substr(from.size()));
          it = removed.erase(it);
        } else {
          ++it;
        }
      }
    };
    for (const auto& [path, f] : new_fields) {
      for (const std::string& old : f->renamed_from) {
        if (added.contains(path) && removed.contains(old)) rename(old, path, "declared by renamed_from");
      }
    }
    for (const ConfirmedRename& r : options.renames) {
      if (r.model != name_) continue;
      if (!removed.contains(r.from) || !added.contains(r.to)) {
        throw InvalidRequestError("the rename " + r.model + ":" + r.from + "=" + r.to + " names no field the snapshot has (" +
                                  r.from + ") that the model now has under another name (" + r.to +
                                  "): both must be fields of " + r.model + ", the first removed, the second added");
      }
      rename(r.from, r.to, "confirmed");
    }
    // Undeclared candidates: a removed and an added field of the same type in the same object,
    // the most alike names first.
    std::set<std::string> suggested;
    for (const std::string& from : removed) {
      std::vector<std::string> candidates;
      for (const std::string& to : added) {
        if (parent_of(from) == parent_of(to) && old_fields[from]->type == new_fields[to]->type) candidates.push_back(to);
      }
      std::stable_sort(candidates.begin(), candidates.end(), [&](const std::string& a, const std::string& b) {
        return common_run(from, a) > common_run(from, b);
      });
      for (const std::string& to : candidates) {
        std::string where = parent_of(to).empty() ? "the document" : parent_of(to);
        std::string among = candidates.size() > 1 ? "one of " + std::to_string(candidates.size()) + " candidates for " + from + "; " : "";
        add(ChangeKind::rename_suggested, to, from, to,
            among + "both " + new_fields[to]->type + " in " + where + "; confirm it (--rename " + name_ + ":" + from + "=" +
                to + ", or renamed_from(\"" + from.substr(from.rfind('.') + 1) + "\") on the field), or it is planned as " +
                to + " added and " + from + " removed, dropping the data stored at " + from);
        suggested.insert(from);
        suggested.insert(to);
      }
    }
    // Inside an added or removed object, its fields come and go with it.
    auto within = [](const std::set<std::string>& paths, const std::string& path) {
      return std::any_of(paths.begin(), paths.end(), [&](const std::string& outer) { return inside(path, outer); });
    };
    for (const std::string& path : added) {
      if (within(added, path)) continue;
      add(ChangeKind::field_added, path, "", summary(*new_fields[path]),
          suggested.contains(path) ? "or a rename: see the suggestion" : "");
    }
    for (const std::string& path : removed) {
      if (within(removed, path)) continue;
      add(ChangeKind::field_removed, path, summary(*old_fields[path]), "",
          suggested.contains(path) ? "or a rename: see the suggestion; removing it drops its data" : "removing it drops its data");
    }
    std::sort(same.begin(), same.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    for (const auto& [from, to] : same) compare(*old_fields[from], *new_fields[to]);
  }

  void compare(const model::FieldDescription& b, const model::FieldDescription& a) {
    if (b.type != a.type) add(ChangeKind::field_retyped, a.path, b.type, a.type);
    if (b.optional != a.optional) {
      add(ChangeKind::optional_changed, a.path, b.optional ? "optional" : "not optional", a.optional ? "optional" : "not optional");
    }
    std::string old_default = b.default_value ? json(*b.default_value) : "", new_default = a.default_value ? json(*a.default_value) : "";
    if (old_default != new_default) add(ChangeKind::default_changed, a.path, old_default, new_default);
    if (rules_text(b.rules) != rules_text(a.rules)) add(ChangeKind::rules_changed, a.path, rules_text(b.rules), rules_text(a.rules));
    if (b.choices != a.choices) add(ChangeKind::choices_changed, a.path, choices_text(b.choices), choices_text(a.choices));
  }

  void index_changes() {
    std::map<std::string, const model::IndexSpec*> old_indexes, new_indexes;
    for (const auto& i : before_.indexes) old_indexes[model::index_name(i)] = &i;
    for (const auto& i : after_.indexes) new_indexes[model::index_name(i)] = &i;
    for (const auto& [name, index] : new_indexes) {
      auto old = old_indexes.find(name);
      if (old == old_indexes.end()) {
        add(ChangeKind::index_added, name, "", model::index_summary(*index));
      } else if (model::index_summary(*old->second) != model::index_summary(*index)) {
        add(ChangeKind::index_changed, name, model::index_summary(*old->second), model::index_summary(*index),
            "an index cannot be changed in place: the old one is dropped once the new one is built");
      }
    }
    for (const auto& [name, index] : old_indexes) {
      if (!new_indexes.contains(name)) add(ChangeKind::index_removed, name, model::index_summary(*index), "");
    }
  }

  const model::ModelDescription& before_;
  const model::ModelDescription& after_;
  std::string name_;
  std::vector<Change>& out_;
};

std::string last_class(const std::string& chain) { return chain.substr(chain.rfind('.') + 1); }

}  // namespace

std::vector<Change> diff(const std::vector<DescribedModel>& before, const std::vector<DescribedModel>& after,
                         const DiffOptions& options) {
  std::map<std::string, const DescribedModel*> old_models, new_models;
  for (const auto& m : before) old_models[m.name] = &m;
  for (const auto& m : after) new_models[m.name] = &m;
  // Declared class mappings: the old class's documents (some of them) become the new class.
  std::map<std::string, std::vector<const ClassMapping*>> mapped_to;  // new name -> its mappings
  std::set<std::string> moved;                                        // old names accounted for
  for (const ClassMapping& m : options.classes) {
    auto old = old_models.find(m.from);
    auto now = new_models.find(m.to);
    auto refuse = [&](const std::string& why) {
      throw InvalidRequestError("the class mapping " + m.from + " -> " + m.to + ": " + why);
    };
    if (old == old_models.end() || old->second->description.class_chain.empty()) {
      refuse(m.from + " is no class of a hierarchy in the snapshot");
    }
    if (now == new_models.end() || now->second->description.class_chain.empty()) {
      refuse(m.to + " is no class of a hierarchy among the models");
    }
    if (old->second->description.collection != now->second->description.collection) {
      refuse("they are stored in different collections (" + old->second->description.collection + ", " +
             now->second->description.collection + "); remap_class moves no document between collections");
    }
    if (m.from == m.to) refuse("a class mapped to itself changes nothing");
    mapped_to[m.to].push_back(&m);
    if (!new_models.contains(m.from)) moved.insert(m.from);
  }
  // A class that left one parent for another in the same collection: the same class, moved.
  std::map<std::string, const DescribedModel*> moved_from;  // new name -> old model
  for (const auto& [name, m] : new_models) {
    if (old_models.contains(name) || mapped_to.contains(name) || m->description.class_chain.empty()) continue;
    for (const auto& [old_name, old] : old_models) {
      if (new_models.contains(old_name) || moved.contains(old_name) || old->description.class_chain.empty()) continue;
      if (old->description.collection == m->description.collection &&
          last_class(old->description.class_chain) == last_class(m->description.class_chain)) {
        moved_from[name] = old;
        moved.insert(old_name);
        break;
      }
    }
  }
  std::set<std::string> names;
  for (const auto& [name, m] : old_models) names.insert(name);
  for (const auto& [name, m] : new_models) names.insert(name);
  std::vector<Change> changes;
  // The mappings first, in the order declared: each takes the documents the ones before left.
  for (const ClassMapping& m : options.classes) {
    std::string where = m.filter.empty() ? "all of them" : "those matching " + bson::to_relaxed_json(m.filter.view());
    changes.push_back({ChangeKind::class_remapped, m.to, new_models.at(m.to)->description.collection, "", m.from, m.to,
                       "declared: documents stored with _cls " + m.from + ", " + where, m.filter});
  }
  for (const std::string& name : names) {
    auto old = old_models.find(name);
    auto now = new_models.find(name);
    auto mappings = mapped_to.find(name);
    if (mappings != mapped_to.end() && old == old_models.end()) {
      // A new class's fields against those of the classes its documents were stored as.
      std::set<std::string> compared;
      for (const ClassMapping* m : mappings->second) {
        if (compared.insert(m->from).second) ModelDiff(*old_models.at(m->from), *now->second, changes).run(options);
      }
    }
    if (old != old_models.end() && now != new_models.end()) {
      ModelDiff(*old->second, *now->second, changes).run(options);
    } else if (now != new_models.end() && mappings == mapped_to.end()) {
      const model::ModelDescription& d = now->second->description;
      if (auto from = moved_from.find(name); from != moved_from.end()) {
        changes.push_back({ChangeKind::class_moved, name, d.collection, "", from->second->name, name,
                           "documents stored with _cls " + from->second->name + " read as no class until remapped"});
        ModelDiff(*from->second, *now->second, changes).run(options);
      } else {
        changes.push_back({ChangeKind::model_added, name, d.collection, "", "", d.collection, ""});
      }
    } else if (now == new_models.end() && !moved.contains(name)) {
      const model::ModelDescription& d = old->second->description;
      changes.push_back({ChangeKind::model_removed, name, d.collection, "", d.collection, "",
                         d.class_chain.empty() ? "its documents stay in " + d.collection
                                               : "documents stored with _cls " + name + " read as no class of the hierarchy"});
    }
  }
  return changes;
}

std::string to_text(const Change& c) {
  std::string out = c.model + ": " + std::string(to_string(c.kind));
  switch (c.kind) {
    case ChangeKind::model_added: out += " (in " + c.collection + ")"; break;
    case ChangeKind::model_removed: out += " (was in " + c.collection + ")"; break;
    case ChangeKind::field_added:
    case ChangeKind::index_added: out += ": " + c.path + " (" + c.to + ")"; break;
    case ChangeKind::field_removed:
    case ChangeKind::index_removed: out += ": " + c.path + " (" + c.from + ")"; break;
    case ChangeKind::field_renamed:
    case ChangeKind::rename_suggested:
    case ChangeKind::class_moved:
    case ChangeKind::class_remapped: out += ": " + c.from + " -> " + c.to; break;
    default:
      if (!c.path.empty()) out += ": " + c.path;
      out += ": " + (c.from.empty() ? std::string("(none)") : c.from) + " -> " + (c.to.empty() ? std::string("(none)") : c.to);
  }
  if (!c.note.empty()) out += "; " + c.note;
  return out;
}

bson::Document to_document(const std::vector<Change>& changes) {
  bson::Builder b;
  b.append("changes", [&](bson::ArrayBuilder& list) {
    for (const Change& c : changes) {
      list.append([&](bson::Builder& d) {
        d.append("kind", to_string(c.kind)).append("model", c.model).append("collection", c.collection);
        d.append("path", c.path).append("from", c.from).append("to", c.to).append("note", c.note);
        if (c.kind == ChangeKind::class_remapped) d.append("filter", c.filter.view());
      });
    }
  });
  return b.extract();
}

}  // namespace mongo_orm::autogen
