// Reading and creating migration files.
#include "mongo_orm/migrate/migration_files.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <set>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/operations.hpp"
#include "operations/support.hpp"

namespace mongo_orm::migrate {

namespace {

// The keys of one JSON object, read with their expected types; complains about the rest.
class Fields {
 public:
  Fields(bson::DocumentView document, std::string where) : document_(document), where_(std::move(where)) {}

  bool has(std::string_view key) const { return document_.contains(key); }
  bson::Element element(std::string_view key) {
    used_.insert(std::string(key));
    auto e = document_.find(key);
    if (!e) fail("is missing \"" + std::string(key) + "\"");
    return *e;
  }
  std::string text(std::string_view key) {
    bson::Element e = element(key);
    if (e.type() != bson::Type::string) fail("\"" + std::string(key) + "\" must be a string");
    return std::string(e.as_string());
  }
  std::string text(std::string_view key, std::string fallback) { return has(key) ? text(key) : fallback; }
  bool flag(std::string_view key, bool fallback) {
    if (!has(key)) return fallback;
    bson::Element e = element(key);
    if (e.type() != bson::Type::boolean) fail("\"" + std::string(key) + "\" must be true or false");
    return e.as_bool();
  }
  bson::Document object(std::string_view key) {
    bson::Element e = element(key);
    if (e.type() != bson::Type::document) fail("\"" + std::string(key) + "\" must be an object");
    return bson::Document(e.as_document());
  }
  bson::Document object(std::string_view key, bson::Document fallback) { return has(key) ? object(key) : std::move(fallback); }
  bson::Value value(std::string_view key) { return bson::Value(element(key)); }
  std::vector<std::string> texts(std::string_view key) {
    std::vector<std::string> out;
    if (!has(key)) return out;
    bson::Element e = element(key);
    if (e.type() != bson::Type::array) fail("\"" + std::string(key) + "\" must be an array of strings");
    for (const auto& item : e.as_array()) {
      if (item.type() != bson::Type::string) fail("\"" + std::string(key) + "\" must be an array of strings");
      out.emplace_back(item.as_string());
    }
    return out;
  }
  std::pair<std::string, std::string> pair(std::string_view key) {
    auto items = texts(key);
    if (items.size() != 2) fail("\"" + std::string(key) + "\" must name two fields");
    return {items[0], items[1]};
  }
  // Refuses keys nobody read (a misspelt option must not be ignored).
  void done() const {
    for (const auto& field : document_) {
      if (!used_.contains(std::string(field.key()))) fail("has an unknown key \"" + std::string(field.key()) + "\"");
    }
  }
  [[noreturn]] void fail(const std::string& what) const { throw MigrationError(where_ + " " + what); }

 private:
  bson::DocumentView document_;
  std::string where_;
  std::set<std::string> used_;
};

bson::Type type_named(const std::string& name, Fields& f) {
  static const std::pair<const char*, bson::Type> names[] = {
      {"int", bson::Type::int32}, {"long", bson::Type::int64}, {"double", bson::Type::double_},
      {"string", bson::Type::string}, {"bool", bson::Type::boolean}, {"date", bson::Type::date_time}};
  for (const auto& [n, t] : names) {
    if (name == n) return t;
  }
  f.fail("\"to\" must be one of int, long, double, string, bool, date (not \"" + name + "\")");
}

}  // namespace

const std::map<std::string, std::vector<std::string>>& migration_file_keys() {
  static const std::map<std::string, std::vector<std::string>> keys{
      {"add_field", {"collection", "field", "value", "filter"}},
      {"remove_field", {"collection", "field", "filter"}},
      {"rename_field", {"collection", "from", "to"}},
      {"set_fields", {"collection", "filter", "values"}},
      {"create_index", {"collection", "keys", "options"}},
      {"drop_index", {"collection", "name"}},
      {"rename_collection", {"from", "to"}},
      {"copy_collection", {"from", "to", "on_collision"}},
      {"remap_class", {"collection", "filter", "class", "remove_fields"}},
      {"convert_type", {"collection", "field", "to", "on_failure", "default", "quarantine_collection", "filter"}},
      {"normalize_string", {"collection", "field", "lowercase", "trim", "keep_backup"}},
      {"split_field", {"collection", "from", "into", "separator"}},
      {"merge_fields", {"collection", "from", "into", "separator"}},
      {"dedupe_for_unique", {"collection", "keys", "keep", "by", "quarantine_collection", "index_name", "strategy"}},
  };
  return keys;
}

namespace {

const std::vector<std::string> safety_labels{"safe", "needs data migration", "destructive", "needs review"};

Step operation_from(bson::DocumentView document, const std::string& where) {
  Fields f(document, where);
  std::string op = f.text("op");
  Fields g(document, where + " (" + op + ")");
  g.text("op");
  // What a person reads beside the operation (autogenerate writes both); the runner ignores them.
  g.text("why", "");
  if (std::string safety = g.text("safety", "safe"); std::find(safety_labels.begin(), safety_labels.end(), safety) == safety_labels.end()) {
    g.fail("\"safety\" must be safe, needs data migration, destructive or needs review (not \"" + safety + "\")");
  }
  if (auto known = migration_file_keys().find(op); known != migration_file_keys().end()) {
    for (const auto& field : document) {
      bool allowed = field.key() == "op" || field.key() == "why" || field.key() == "safety" ||
                     std::find(known->second.begin(), known->second.end(), field.key()) != known->second.end();
      if (!allowed) {
        std::string list;
        for (const auto& k : known->second) list += (list.empty() ? "" : ", ") + k;
        g.fail("has an unknown key \"" + std::string(field.key()) + "\" (it takes: " + list + ")");
      }
    }
  }
  Step step;
  if (op == "add_field") {
    step = ops::add_field(g.text("collection"), g.text("field"), g.value("value"), g.object("filter", {}));
  } else if (op == "remove_field") {
    step = ops::remove_field(g.text("collection"), g.text("field"), g.object("filter", {}));
  } else if (op == "rename_field") {
    step = ops::rename_field(g.text("collection"), g.text("from"), g.text("to"));
  } else if (op == "set_fields") {
    step = ops::set_fields(g.text("collection"), g.object("filter", {}), g.object("values"));
  } else if (op == "create_index") {
    step = ops::create_index(g.text("collection"), g.object("keys"), g.object("options", {}));
  } else if (op == "drop_index") {
    step = ops::drop_index(g.text("collection"), g.text("name"));
  } else if (op == "rename_collection") {
    step = ops::rename_collection(g.text("from"), g.text("to"));
  } else if (op == "copy_collection") {
    std::string from = g.text("from"), to = g.text("to");
    std::string collision = g.text("on_collision", "refuse");
    static const std::map<std::string, ops::OnCollision, std::less<>> policies{
        {"refuse", ops::OnCollision::refuse}, {"skip", ops::OnCollision::skip}, {"overwrite", ops::OnCollision::overwrite}};
    auto policy = policies.find(collision);
    if (policy == policies.end()) {
      g.fail("\"on_collision\" must be refuse, skip or overwrite (not \"" + collision + "\")");
    }
    step = ops::copy_collection(from, to, {}, {}, policy->second);
  } else if (op == "remap_class") {
    step = ops::remap_class(g.text("collection"), g.object("filter", {}), g.text("class"), g.texts("remove_fields"));
  } else if (op == "convert_type") {
    ops::ConvertOptions options;
    std::string failure = g.text("on_failure", "leave");
    if (failure == "leave") {
      options.on_failure = ops::OnConversionFailure::leave;
    } else if (failure == "set_default") {
      options.on_failure = ops::OnConversionFailure::set_default;
      options.default_value = g.value("default");
    } else if (failure == "quarantine") {
      options.on_failure = ops::OnConversionFailure::quarantine;
    } else {
      g.fail("\"on_failure\" must be leave, set_default or quarantine (not \"" + failure + "\")");
    }
    options.quarantine_collection = g.text("quarantine_collection", "");
    options.filter = g.object("filter", {});
    std::string collection = g.text("collection"), field = g.text("field");
    step = ops::convert_type(collection, field, type_named(g.text("to"), g), std::move(options));
  } else if (op == "normalize_string") {
    ops::NormalizeOptions options{g.flag("lowercase", true), g.flag("trim", true), g.flag("keep_backup", false)};
    step = ops::normalize_string(g.text("collection"), g.text("field"), options);
  } else if (op == "split_field") {
    std::string collection = g.text("collection"), from = g.text("from");
    auto [first, second] = g.pair("into");
    step = ops::split_field(collection, from, first, second, g.text("separator", " "));
  } else if (op == "merge_fields") {
    std::string collection = g.text("collection");
    auto [first, second] = g.pair("from");
    step = ops::merge_fields(collection, first, second, g.text("into"), g.text("separator", " "));
  } else if (op == "dedupe_for_unique") {
    ops::DedupeOptions options;
    std::string keep = g.text("keep", "first");
    if (keep == "first") options.keep = ops::Keep::first;
    else if (keep == "last") options.keep = ops::Keep::last;
    else if (keep == "highest") options.keep = ops::Keep::highest;
    else if (keep == "lowest") options.keep = ops::Keep::lowest;
    else g.fail("\"keep\" must be first, last, highest or lowest (not \"" + keep + "\")");
    options.by = g.text("by", "");
    options.quarantine_collection = g.text("quarantine_collection", "");
    options.index_name = g.text("index_name", "");
    std::string strategy = g.text("strategy", "automatic");
    if (strategy == "automatic") options.strategy = ops::TransformStrategy::automatic;
    else if (strategy == "in_place") options.strategy = ops::TransformStrategy::in_place;
    else if (strategy == "rewrite") options.strategy = ops::TransformStrategy::rewrite;
    else g.fail("\"strategy\" must be automatic, in_place or rewrite (not \"" + strategy + "\")");
    step = ops::dedupe_for_unique(g.text("collection"), g.object("keys"), std::move(options));
  } else {
    f.fail("has an unknown operation \"" + op +
           "\" (add_field, remove_field, rename_field, set_fields, create_index, drop_index, rename_collection, "
           "copy_collection, remap_class, convert_type, normalize_string, split_field, merge_fields, dedupe_for_unique)");
  }
  g.done();
  return step;
}

// Refuses, before anything is sent, a value of an operation that no document can hold (the
// server would reset the connection mid-command): MongoDB's documents hold at most 16 MiB.
void refuse_oversized_values(bson::DocumentView operation, const std::string& where) {
  auto op = operation.find("op");
  std::string named = op && op->type() == bson::Type::string ? " (" + std::string(op->as_string()) + ")" : "";
  for (const auto& field : operation) {
    try {
      detail::check_value_size(field.value_bytes().size(), where + named, "\"" + std::string(field.key()) + "\"");
    } catch (const InvalidRequestError& e) {
      throw MigrationError(e.what());
    }
  }
}

std::vector<Step> operations_from(Fields& file, std::string_view key, const std::string& where) {
  std::vector<Step> steps;
  bson::Element list = file.element(key);
  if (list.type() != bson::Type::array) file.fail("\"" + std::string(key) + "\" must be an array of operations");
  std::size_t index = 0;
  for (const auto& item : list.as_array()) {
    std::string at = where + ": " + std::string(key) + "[" + std::to_string(index++) + "]";
    if (item.type() != bson::Type::document) throw MigrationError(at + " must be an object");
    refuse_oversized_values(item.as_document(), at);
    try {
      steps.push_back(operation_from(item.as_document(), at));
    } catch (const InvalidRequestError& e) {
      throw MigrationError(at + ": " + e.what());
    }
  }
  return steps;
}

// The whole file, read once into a string of its size.
std::string contents_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::error_code error;
  auto size = std::filesystem::file_size(file, error);
  if (!in || error) throw MigrationError("cannot read migration file " + file.string());
  if (size > max_migration_file_bytes) {
    throw MigrationError(file.string() + " is " + std::to_string(size) + " bytes; a migration file may be at most " +
                         std::to_string(max_migration_file_bytes) +
                         " (16 MiB, MongoDB's largest document): keep data in a collection and let the migration copy it");
  }
  std::string contents(static_cast<std::size_t>(size), '\0');
  in.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  contents.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw MigrationError("cannot read migration file " + file.string());
  return contents;
}

}  // namespace

Migration read_migration_file(const std::filesystem::path& file) {
  std::string contents = contents_of(file);
  bson::Document document;
  try {
    document = bson::from_json_strict(contents);
  } catch (const DecodeError& e) {
    throw MigrationError(file.string() + " is not valid JSON: " + e.what());
  }
  std::string where = file.filename().string();
  Fields f(document, where);
  Migration m;
  m.version = f.text("version");
  m.description = f.text("description", "");
  m.depends_on = f.texts("depends_on");
  m.steps = operations_from(f, "up", where);
  if (f.has("down")) {
    std::vector<Step> down = operations_from(f, "down", where);
    m.down = [down](MigrationContext& context) {
      for (const Step& step : down) context.apply(*step);
    };
  }
  if (m.steps.empty()) m.up = [](MigrationContext&) {};  // an empty migration records its version
  m.irreversible = f.flag("irreversible", false);
  if (f.has("evidence")) m.evidence = evidence_from(f.object("evidence"), where);
  f.done();
  m.fingerprint = std::move(contents);
  return m;
}

bool is_migration_file(const std::filesystem::path& file) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  return extension == ".json" && file.filename() != model_snapshot_file_name;
}

std::size_t add_migration_files(Registry& registry, const std::filesystem::path& directory) {
  if (!std::filesystem::is_directory(directory)) {
    throw MigrationError("migration directory " + directory.string() + " does not exist");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.is_regular_file() && is_migration_file(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  // Versions that compare equal ("1.0" and "1.00") are one version: refused naming both files.
  std::vector<std::pair<std::string, std::filesystem::path>> read;
  for (const auto& file : files) {
    Migration migration = read_migration_file(file);
    for (const auto& [version, other] : read) {
      if (compare_versions(version, migration.version) == 0) {
        throw MigrationError("duplicate migration version: " + other.string() + " has version \"" + version + "\" and " +
                             file.string() + " has \"" + migration.version + "\", which compare equal");
      }
    }
    read.emplace_back(migration.version, file);
    try {
      registry.add(std::move(migration));
    } catch (const MigrationError& e) {
      throw MigrationError(file.string() + ": " + e.what());
    }
  }
  return files.size();
}

NewMigrationFile new_migration_file(const std::filesystem::path& directory, const std::string& name, std::string version) {
  if (name.empty()) throw MigrationError("a new migration needs a name");
  if (version.empty()) {
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y.%m.%d.%H%M%S", &utc);
    version = buffer;
    std::vector<std::string> taken;
    if (std::filesystem::is_directory(directory)) {
      for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        std::string stem = entry.path().filename().string();
        if (is_migration_file(entry.path())) taken.push_back(stem.substr(0, stem.find('_')));
      }
    }
    auto in_use = [&](const std::string& candidate) {
      return std::any_of(taken.begin(), taken.end(), [&](const std::string& t) { return compare_versions(t, candidate) == 0; });
    };
    std::string base = version;
    for (int n = 1; in_use(version); ++n) version = base + "." + std::to_string(n);
  }
  std::string slug;
  for (char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    slug += plain ? c : '_';
  }
  std::filesystem::create_directories(directory);
  std::filesystem::path file = directory / (version + "_" + slug + ".json");
  if (std::filesystem::exists(file)) throw MigrationError(file.string() + " exists already");
  return {file, version};
}

std::filesystem::path create_migration_file(const std::filesystem::path& directory, const std::string& name,
                                            std::string version) {
  if (name.empty()) throw MigrationError("create needs a name");
  auto [file, chosen] = new_migration_file(directory, name, std::move(version));
  version = chosen;
  std::string description = bson::to_json_string(name);
  std::ofstream out(file);
  out << "{\n"
      << "  \"version\": \"" << version << "\",\n"
      << "  \"description\": " << description << ",\n"
      << "  \"depends_on\": [],\n"
      << "  \"up\": [\n"
      << "  ]\n"
      << "}\n";
  if (!out) throw MigrationError("cannot write " + file.string());
  return file;
}

}  // namespace mongo_orm::migrate
