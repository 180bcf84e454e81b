// A migration written from the model changes and the data.
#include "mongo_orm/autogen/generate.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/operations.hpp"
#include "mongo_orm/model/indexes.hpp"
#include "../count_text.hpp"

namespace mongo_orm::autogen {

std::string_view to_string(Safety safety) noexcept {
  switch (safety) {
    case Safety::safe: return "safe";
    case Safety::needs_data_migration: return "needs data migration";
    case Safety::destructive: return "destructive";
    case Safety::needs_review: return "needs review";
  }
  return "needs review";
}

bool GeneratedMigration::destructive() const noexcept {
  return std::any_of(steps.begin(), steps.end(), [](const PlannedStep& s) { return s.safety == Safety::destructive; });
}

namespace {

using mongo_orm::detail::count_of;

// The order steps run in; creates come before drops, so an index is never missing in between
// (but for a changed one, which keeps its name).
enum Order { collections, classes, renames, additions, conversions, removals, index_creates, index_drops, orders };

// Whether a built-in operation can reach `path`: not inside an array's items or a map's values.
bool reachable(const std::string& path) { return path.find("[]") == std::string::npos && path.find(".*") == std::string::npos; }

bson::Document exists(const std::string& path, bool present) {
  return bson::Builder{}.append(path, [&](bson::Builder& f) { f.append("$exists", present); }).extract();
}

bson::Document both(const bson::Document& a, const bson::Document& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return bson::Builder{}.append("$and", [&](bson::ArrayBuilder& all) { all.append(a.view()).append(b.view()); }).extract();
}

std::optional<bson::Type> convertible_type(const std::string& alias) {
  static const std::map<std::string, bson::Type> types{{"int", bson::Type::int32}, {"long", bson::Type::int64},
                                                       {"double", bson::Type::double_}, {"string", bson::Type::string},
                                                       {"bool", bson::Type::boolean}, {"date", bson::Type::date_time}};
  auto it = types.find(alias);
  if (it == types.end()) return std::nullopt;
  return it->second;
}

class Generator {
 public:
  Generator(const Database& database, const std::vector<DescribedModel>& after, const GenerateOptions& options)
      : database_(database), capabilities_(database.client().capabilities()) {
    for (const auto& m : after) models_[m.name] = &m.description;
    out_.evidence.tolerance = options.tolerance;
    out_.evidence.recorded = bson::DateTime::now().to_iso8601() + ", " +
                             (capabilities_.kind == ServerKind::ferretdb ? "FerretDB " + capabilities_.ferretdb_version
                                                                         : "MongoDB " + capabilities_.version);
  }

  void add(const Change& c) {
    switch (c.kind) {
      case ChangeKind::collection_changed: rename_collection(c); break;
      case ChangeKind::class_moved:
      case ChangeKind::class_remapped: remap_class(c); break;
      case ChangeKind::field_renamed: rename_field(c); break;
      case ChangeKind::field_added: add_field(c); break;
      case ChangeKind::field_retyped: convert(c); break;
      case ChangeKind::field_removed: remove_field(c); break;
      case ChangeKind::model_added: create_indexes(c); break;
      case ChangeKind::index_added:
      case ChangeKind::index_changed: create_index(c); break;
      case ChangeKind::index_removed: drop_index(c.collection, c.path, "no model declares it now", index_drops); break;
      case ChangeKind::model_removed: class_left(c); break;
      case ChangeKind::rename_suggested: warn(to_text(c)); break;
      case ChangeKind::unknown_fields_changed:
      case ChangeKind::schema_version_changed:
      case ChangeKind::optional_changed:
      case ChangeKind::default_changed:
      case ChangeKind::rules_changed:
      case ChangeKind::choices_changed:
        warn(to_text(c) + ": no step changes stored values for it; `migrate analyze` shows what the stored data holds");
        break;
    }
  }

  GeneratedMigration finish() {
    for (auto& bucket : planned_) {
      for (auto& step : bucket) out_.steps.push_back(std::move(step));
    }
    return std::move(out_);
  }

 private:
  const model::ModelDescription* model(const Change& c) const {
    auto it = models_.find(c.model);
    return it == models_.end() ? nullptr : it->second;
  }
  // The documents of the change's class (and its subclasses) in a hierarchy; {} otherwise.
  bson::Document class_filter(const Change& c) const {
    const model::ModelDescription* d = model(c);
    if (!d || d->class_chain.empty()) return {};
    return bson::Builder{}.append("_cls", [&](bson::Builder& f) {
      f.append("$in", [&](bson::ArrayBuilder& in) {
        for (const std::string& chain : d->hierarchy) {
          if (chain == d->class_chain || chain.starts_with(d->class_chain + ".")) in.append(chain);
        }
      });
    }).extract();
  }
  // The documents of `c`'s class before the migration runs: as class_filter, and those the
  // migration's class mappings bring into it. What is counted for a step that runs after them.
  bson::Document class_filter_before(const Change& c) const {
    bson::Document filter = class_filter(c);
    const model::ModelDescription* d = model(c);
    auto remaps = remaps_.find(c.collection);
    if (filter.empty() || remaps == remaps_.end()) return filter;
    std::vector<const bson::Document*> alternatives{&filter};
    for (const Remap& r : remaps->second) {
      if (r.to == d->class_chain || r.to.starts_with(d->class_chain + ".")) alternatives.push_back(&r.taken);
    }
    if (alternatives.size() == 1) return filter;
    return bson::Builder{}.append("$or", [&](bson::ArrayBuilder& any) {
      for (const bson::Document* a : alternatives) any.append(a->view());
    }).extract();
  }
  // Whether a class above `c`'s in its hierarchy planned the same change (its documents include these).
  bool covered(const Change& c) {
    const model::ModelDescription* d = model(c);
    std::string chain = d ? d->class_chain : "";
    std::string key = c.collection + "\n" + std::string(to_string(c.kind)) + "\n" + c.from + "\n" + c.path;
    auto [it, inserted] = planned_chains_.try_emplace(key, std::vector<std::string>{});
    bool above = std::any_of(it->second.begin(), it->second.end(), [&](const std::string& planned) {
      return planned.empty() || chain == planned || chain.starts_with(planned + ".");
    });
    if (!above) it->second.push_back(chain);
    return above;
  }

  int64_t count(const std::string& collection, const bson::Document& filter, const std::string& what) {
    int64_t n = database_.collection(collection).count_documents(filter);
    out_.evidence.checks.push_back({collection, filter, n, what});
    return n;
  }
  void warn(std::string text) { out_.warnings.push_back(std::move(text)); }
  void plan(Order order, bson::Builder operation, const std::string& why, Safety safety) {
    operation.append("why", why).append("safety", to_string(safety));
    planned_[order].push_back({operation.extract(), safety});
  }
  migrate::StepContext context() const { return migrate::StepContext{database_, capabilities_, "generate"}; }

  void rename_collection(const Change& c) {
    int64_t n = count(c.from, {}, "documents in " + c.from);
    bson::Builder op;
    op.append("op", "rename_collection").append("from", c.from).append("to", c.to);
    plan(collections, std::move(op), c.model + " is stored in " + c.to + " now; " + count_of(n, "document") + " in " + c.from,
         Safety::needs_data_migration);
  }

  void remap_class(const Change& c) {
    bson::Document filter = both(bson::Builder{}.append("_cls", c.from).extract(), c.filter);
    // The documents it takes: those earlier mappings of the same class left.
    std::vector<Remap>& earlier = remaps_[c.collection];
    bson::Document taken = both(filter, none_of_mappings(earlier, c.from));
    int64_t n = count(c.collection, taken, "documents of class " + c.from + (c.filter.empty() ? "" : " matching the mapping's filter"));
    earlier.push_back({c.from, c.to, filter, taken});
    bson::Builder op;
    op.append("op", "remap_class").append("collection", c.collection).append("filter", filter.view()).append("class", c.to);
    std::string what = c.kind == ChangeKind::class_moved ? "class " + c.from + " moved to " + c.to
                                                         : "class " + c.from + " mapped to " + c.to + " (declared" +
                                                               (c.filter.empty() ? "" : ", where " + bson::to_relaxed_json(c.filter.view())) + ")";
    plan(classes, std::move(op), what + "; " + count_of(n, "document") + " stored as " + c.from, Safety::needs_data_migration);
  }

  bool unreachable(const Change& c, const std::string& path) {
    if (reachable(path)) return false;
    warn(to_text(c) + ": " + path + " lies inside an array or a map, which no built-in operation reaches; write that step by hand");
    return true;
  }

  void rename_field(const Change& c) {
    if (unreachable(c, c.from) || covered(c)) return;
    bson::Document filter = class_filter(c);
    bson::Document before = class_filter_before(c);
    int64_t n = count(c.collection, both(before, exists(c.from, true)), "documents holding " + c.from);
    int64_t clash = count(c.collection, both(before, both(exists(c.from, true), exists(c.to, true))),
                          "documents holding both " + c.from + " and " + c.to);
    bson::Builder op;
    op.append("op", "rename_field").append("collection", c.collection).append("from", c.from).append("to", c.to);
    std::string why = c.model + ": " + c.from + " renamed to " + c.to + " (" + c.note + "); " + count_of(n, "document") +
                      " hold " + c.from;
    if (clash > 0) why += "; " + count_of(clash, "document") + " hold both names, and the rename refuses to overwrite " + c.to;
    plan(renames, std::move(op), why, clash > 0 ? Safety::needs_review : Safety::needs_data_migration);
    renamed_[c.collection][c.to] = c.from;
  }
  // Index keys as the data holds them before the migration's renames run.
  bson::Document keys_before_renames(const std::string& collection, const bson::Document& keys) const {
    auto renamed = renamed_.find(collection);
    if (renamed == renamed_.end()) return keys;
    bson::Builder out;
    for (bson::Element key : keys) {
      auto from = renamed->second.find(std::string(key.key()));
      out.append(from == renamed->second.end() ? std::string(key.key()) : from->second, key);
    }
    return out.extract();
  }

  void add_field(const Change& c) {
    const model::ModelDescription* d = model(c);
    auto field = d ? std::find_if(d->fields.begin(), d->fields.end(), [&](const auto& f) { return f.path == c.path; })
                   : std::vector<model::FieldDescription>::const_iterator{};
    if (!d || field == d->fields.end()) return;
    auto value = field->default_value ? field->default_value->find("value") : std::nullopt;
    bool required = std::any_of(field->rules.begin(), field->rules.end(), [](const bson::Document& r) { return r.contains("required"); });
    if (!value) {
      if (field->default_value) {
        warn(to_text(c) + ": its default is a factory, whose value a migration file cannot hold; documents without it "
                          "get one as they are read, or write the step by hand");
      } else if (required && reachable(c.path)) {
        int64_t n = count(c.collection, both(class_filter_before(c), exists(c.path, false)), "documents missing " + c.path);
        if (n > 0) warn(to_text(c) + ": required, with no default, and " + count_of(n, "document") + " lack it: give them a value");
      }
      return;
    }
    if (unreachable(c, c.path) || covered(c)) return;
    bson::Document filter = class_filter(c);
    int64_t n = count(c.collection, both(class_filter_before(c), exists(c.path, false)), "documents missing " + c.path);
    bson::Builder op;
    op.append("op", "add_field").append("collection", c.collection).append("field", c.path).append("value", *value);
    if (!filter.empty()) op.append("filter", filter.view());
    plan(additions, std::move(op),
         c.model + ": " + c.path + " added with a default; " + count_of(n, "document") + " lack it and get the default, "
             "so that queries on it match them",
         Safety::safe);
  }

  void convert(const Change& c) {
    auto target = convertible_type(c.to);
    if (!target) {
      warn(to_text(c) + ": no built-in operation converts values to " + c.to + "; write that step by hand");
      return;
    }
    if (unreachable(c, c.path) || covered(c)) return;
    bson::Document filter = class_filter(c);
    bson::Document other_type = bson::Builder{}.append(c.path, [&](bson::Builder& f) {
      f.append("$exists", true).append("$not", [&](bson::Builder& n) { n.append("$type", bson::type_name(*target)); });
    }).extract();
    bson::Document before = class_filter_before(c);
    int64_t n = count(c.collection, both(before, other_type), "documents whose " + c.path + " is not " + c.to);
    migrate::ops::ConvertOptions options;
    options.filter = std::move(before);
    migrate::Estimate e = migrate::ops::convert_type(c.collection, c.path, *target, options)->estimate(context());
    bson::Builder op;
    op.append("op", "convert_type").append("collection", c.collection).append("field", c.path).append("to", c.to);
    op.append("on_failure", "leave");
    if (!filter.empty()) op.append("filter", filter.view());
    std::string why = c.model + ": " + c.path + " is " + c.to + " now (was " + c.from + "); " + count_of(n, "document") +
                      " hold another type";
    if (e.failures > 0) {
      why += "; of these, " + count_of(e.failures, "value") + (e.failures == 1 ? " does" : " do") +
             " not convert and stay as stored (on_failure: leave; set_default or quarantine are the others)";
    }
    plan(conversions, std::move(op), why, e.failures > 0 ? Safety::needs_review : Safety::needs_data_migration);
  }

  void remove_field(const Change& c) {
    if (unreachable(c, c.path) || covered(c)) return;
    bson::Document filter = class_filter(c);
    int64_t n = count(c.collection, both(class_filter_before(c), exists(c.path, true)), "documents holding " + c.path);
    bson::Builder op;
    op.append("op", "remove_field").append("collection", c.collection).append("field", c.path);
    if (!filter.empty()) op.append("filter", filter.view());
    plan(removals, std::move(op),
         c.model + ": " + c.path + " is no longer declared; " + count_of(n, "document") + " hold a value" +
             (n > 0 ? ", which is dropped (kept in the backup, for the undo)" : ""),
         n > 0 ? Safety::destructive : Safety::safe);
  }

  void create_indexes(const Change& c) {
    const model::ModelDescription* d = model(c);
    if (!d) return;
    for (const model::IndexSpec& index : d->indexes) {
      create(c, index, c.model + " is new, and declares the index " + model::index_name(index));
    }
  }

  void create_index(const Change& c) {
    const model::ModelDescription* d = model(c);
    if (!d) return;
    for (const model::IndexSpec& index : d->indexes) {
      if (model::index_name(index) != c.path) continue;
      if (c.kind == ChangeKind::index_changed) {
        drop_index(c.collection, c.path, "it changed (" + c.from + " -> " + c.to + ") and keeps its name: dropped, then built again",
                   index_creates);
      }
      create(c, index, c.model + " declares the index " + c.path + " (" + c.to + ")");
    }
  }

  void create(const Change& c, const model::IndexSpec& index, const std::string& why) {
    std::string name = model::index_name(index);
    std::string key = c.collection + "\n" + name;
    if (!indexes_.insert(key).second) return;  // declared by each class of a hierarchy
    if (auto lacking = model::unsupported_option(index, capabilities_)) {
      warn(c.model + ": index " + name + " (" + model::index_summary(index) + ") is declared with " + lacking->option +
           ", but the server lacks capability " + lacking->capability +
           ": no step planned, as it would build another index than declared");
      return;
    }
    if (index.options.unique) {
      migrate::Estimate e =
          migrate::ops::dedupe_for_unique(c.collection, keys_before_renames(c.collection, index.keys), {.index_name = name})
              ->estimate(context());
      if (e.documents > 0) {
        bson::Builder op;
        op.append("op", "dedupe_for_unique").append("collection", c.collection).append("keys", index.keys.view());
        op.append("index_name", name);
        plan(index_creates, std::move(op),
             why + "; " + count_of(e.documents, "document") + " duplicate others on its keys and are set aside in the "
                   "quarantine (the first of each kept) before the unique index is built",
             Safety::destructive);
        return;
      }
    }
    bson::Builder op;
    op.append("op", "create_index").append("collection", c.collection).append("keys", index.keys.view());
    op.append("options", model::index_options(index));
    plan(index_creates, std::move(op), why, Safety::safe);
  }


 public:
  // The declared indexes of every model against the server's (keys in order, directions as
  // numbers, options with their defaults): one missing is created, one that differs is reported;
  // indexes no model declares are never touched.
  void server_indexes(const std::vector<DescribedModel>& after) {
    for (const DescribedModel& m : after) {
      const model::ModelDescription& d = m.description;
      if (d.indexes.empty() || !database_.has_collection(d.collection)) continue;
      model::IndexDiff drift = model::diff_indexes(database_.collection(d.collection), d.indexes);
      for (const model::IndexSpec& index : drift.missing) {
        Change c{ChangeKind::index_added, m.name, d.collection, model::index_name(index), "", model::index_summary(index), ""};
        create(c, index, m.name + " declares the index " + c.path + " (" + c.to + "), which the server does not have");
      }
      for (const auto& changed : drift.changed) {
        std::string name = model::index_name(changed.declared);
        if (!differing_.insert(d.collection + "\n" + name).second || indexes_.contains(d.collection + "\n" + name)) continue;
        warn(m.name + ": index " + name + " on the server differs from its declaration (" + changed.difference +
             "): no step planned; if the declaration is right, drop the server's (drop_index) and generate again");
      }
    }
  }



  // The documents of a class no model reads now that none of its mappings takes.
  void mapped_classes_left() {
    for (const auto& [collection, remaps] : remaps_) {
      std::set<std::string> done;
      for (const Remap& r : remaps) {
        if (models_.contains(r.from) || !done.insert(r.from).second) continue;
        bson::Document left = both(bson::Builder{}.append("_cls", r.from).extract(), none_of_mappings(remaps, r.from));
        int64_t n = count(collection, left, "documents of class " + r.from + " no mapping takes");
        if (n > 0) {
          warn(r.from + ": no model reads this class now, and " + count_of(n, "document") + " in " + collection +
               " match none of its mappings: map them too, or remove them, by hand");
        }
      }
    }
  }

 private:
  void drop_index(const std::string& collection, const std::string& name, const std::string& why, Order order) {
    bson::Builder op;
    op.append("op", "drop_index").append("collection", collection).append("name", name);
    plan(order, std::move(op), "index " + name + ": " + why, order == index_drops ? Safety::safe : Safety::needs_review);
  }

  void class_left(const Change& c) {
    if (c.model.find('.') == std::string::npos && !model(c)) {
      warn(to_text(c));
      return;
    }
    int64_t n = count(c.collection, bson::Builder{}.append("_cls", c.model).extract(), "documents of class " + c.model);
    if (n > 0) {
      warn(c.model + ": no model reads this class now, and " + count_of(n, "document") + " in " + c.collection +
           " are stored as it: remap them to a class (remap_class) or remove them, by hand");
    }
  }

  const Database& database_;
  const Capabilities& capabilities_;
  std::map<std::string, const model::ModelDescription*> models_;
  std::map<std::string, std::vector<std::string>> planned_chains_;
  struct Remap {
    std::string from, to;
    bson::Document filter;  // as the step runs: {_cls: from, ...}
    bson::Document taken;   // what it takes, counted before the migration runs
  };
  std::map<std::string, std::vector<Remap>> remaps_;  // collection -> class mappings, in order
  // {$nor: [the filters of the mappings of class `from`]}: the documents none of them takes;
  // empty when there are none.
  static bson::Document none_of_mappings(const std::vector<Remap>& remaps, const std::string& from) {
    if (std::none_of(remaps.begin(), remaps.end(), [&](const Remap& r) { return r.from == from; })) return {};
    return bson::Builder{}.append("$nor", [&](bson::ArrayBuilder& nor) {
      for (const Remap& r : remaps) {
        if (r.from == from) nor.append(r.filter.view());
      }
    }).extract();
  }
  std::set<std::string> indexes_;    // collection + name of the indexes a step creates
  std::set<std::string> differing_;  // collection + name of the indexes reported as differing
  std::map<std::string, std::map<std::string, std::string>> renamed_;  // collection -> new name -> old
  std::vector<PlannedStep> planned_[orders];
  GeneratedMigration out_;
};

}  // namespace

GeneratedMigration generate(const Database& database, const std::vector<Change>& changes,
                            const std::vector<DescribedModel>& after, const GenerateOptions& options) {
  Generator generator(database, after, options);
  for (const Change& c : changes) generator.add(c);
  generator.mapped_classes_left();
  generator.server_indexes(after);
  return generator.finish();
}

std::string migration_file_text(const GeneratedMigration& migration, const std::string& version,
                                const std::string& description) {
  std::string out = "{\n  \"version\": " + bson::to_json_string(version) + ",\n  \"description\": " + bson::to_json_string(description) + ",\n";
  out += "  \"up\": [\n";
  for (std::size_t i = 0; i < migration.steps.size(); ++i) {
    out += "    " + bson::to_relaxed_json(migration.steps[i].operation.view()) + (i + 1 < migration.steps.size() ? ",\n" : "\n");
  }
  out += "  ],\n";
  const migrate::Evidence& e = migration.evidence;
  out += "  \"evidence\": {\n    \"recorded\": " + bson::to_json_string(e.recorded) + ",\n";
  char tolerance[32];
  std::snprintf(tolerance, sizeof tolerance, "%g", e.tolerance);
  out += "    \"tolerance\": " + std::string(tolerance) + ",\n";
  out += "    \"checks\": [\n";
  bson::Document checks = migrate::to_document(e);
  auto list = checks["checks"].as_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    out += "      " + bson::to_relaxed_json(list[i].as_document()) + (i + 1 < list.size() ? ",\n" : "\n");
  }
  out += "    ]\n  }\n}\n";
  return out;
}

}  // namespace mongo_orm::autogen
