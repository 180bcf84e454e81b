// Model snapshots.
#include "mongo_orm/autogen/snapshot.hpp"

#include <algorithm>
#include <fstream>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/model/indexes.hpp"

namespace mongo_orm::autogen {

namespace {

// One JSON value on one line, keys in the order given.
std::string line(bson::Builder& builder) { return bson::to_relaxed_json(builder.view()); }

std::string field_line(const model::FieldDescription& field) {
  bson::Builder b;
  b.append("path", field.path).append("type", field.type);
  if (field.optional) b.append("optional", true);
  if (!field.rules.empty()) {
    b.append("rules", [&](bson::ArrayBuilder& rules) { for (const auto& rule : field.rules) rules.append(rule.view()); });
  }
  if (!field.choices.empty()) {
    b.append("choices", [&](bson::ArrayBuilder& choices) { for (const auto& c : field.choices) choices.append(c); });
  }
  if (field.default_value) b.append("default", field.default_value->view());
  return line(b);
}

std::string index_line(const model::IndexSpec& index) {
  bson::Builder b;
  b.append("name", model::index_name(index)).append("keys", index.keys.view());
  for (bson::Element option : model::index_options(index)) {
    if (option.key() != "name") b.append(option.key(), option);
  }
  return line(b);
}

std::string header_line(const std::string& name, const model::ModelDescription& d) {
  bson::Builder b;
  b.append("model", name).append("collection", d.collection).append("class", d.class_chain);
  std::vector<std::string> hierarchy = d.hierarchy;
  std::sort(hierarchy.begin(), hierarchy.end());
  b.append("hierarchy", [&](bson::ArrayBuilder& chains) { for (const auto& c : hierarchy) chains.append(c); });
  b.append("unknown_fields", d.unknown_fields == model::UnknownFields::strict ? "strict" : "preserve");
  b.append("schema_version", d.schema_version).append("version_field", d.version_field);
  std::string text = line(b);
  text.erase(text.size() - 2);  // " }": the fields and indexes follow
  return text;
}

template <class T, class Line>
void append_list(std::string& out, const char* key, std::vector<T> items, Line to_line, bool last) {
  std::vector<std::string> lines;
  for (const T& item : items) lines.push_back(to_line(item));
  std::sort(lines.begin(), lines.end());
  out += "   \"" + std::string(key) + "\": [\n";
  for (std::size_t i = 0; i < lines.size(); ++i) out += "    " + lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
  out += std::string("   ]") + (last ? "" : ",") + "\n";
}

}  // namespace

std::vector<DescribedModel> describe_models(const migrate::ModelSet& models) {
  if (models.empty()) {
    throw ConfigurationError("no models are registered: a snapshot of nothing would report that nothing changed; "
                             "add the application's models to the ModelSet given to cli::run");
  }
  std::vector<DescribedModel> described;
  for (const auto& entry : models.entries()) {
    for (auto& d : entry.describe()) {
      std::string name = d.class_chain.empty() ? entry.name : d.class_chain;
      described.push_back({std::move(name), std::move(d)});
    }
  }
  std::sort(described.begin(), described.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (std::size_t i = 1; i < described.size(); ++i) {
    if (described[i].name == described[i - 1].name) {
      throw ConfigurationError("two models are named \"" + described[i].name + "\": give one another name when adding it");
    }
  }
  return described;
}

std::string snapshot_text(const migrate::ModelSet& models) {
  std::vector<DescribedModel> described = describe_models(models);
  std::string out = "{\"mongo_orm_model_snapshot\": 1,\n \"models\": [\n";
  for (std::size_t i = 0; i < described.size(); ++i) {
    const auto& [name, d] = described[i];
    out += "  " + header_line(name, d) + ",\n";
    append_list(out, "fields", d.fields, field_line, false);
    append_list(out, "indexes", d.indexes, index_line, true);
    out += std::string("  }") + (i + 1 < described.size() ? "," : "") + "\n";
  }
  out += " ]}\n";
  return out;
}

namespace {

// Reads one model's entries, naming the model and the key in what it refuses.
class SnapshotReader {
 public:
  explicit SnapshotReader(std::string where) : where_(std::move(where)) {}

  bson::Element get(bson::DocumentView from, std::string_view key, bson::Type type, const char* type_name) const {
    auto found = from.find(key);
    if (!found || found->type() != type) {
      throw ConfigurationError(where_ + ": \"" + std::string(key) + "\" must be " + type_name);
    }
    return *found;
  }
  std::string text(bson::DocumentView from, std::string_view key) const {
    return std::string(get(from, key, bson::Type::string, "a string").as_string());
  }
  bson::ArrayView array(bson::DocumentView from, std::string_view key) const {
    return get(from, key, bson::Type::array, "an array").as_array();
  }
  bson::DocumentView document(bson::DocumentView from, std::string_view key) const {
    return get(from, key, bson::Type::document, "an object").as_document();
  }
  bson::DocumentView item(bson::Element e, std::string_view list) const {
    if (e.type() != bson::Type::document) throw ConfigurationError(where_ + ": each of \"" + std::string(list) + "\" must be an object");
    return e.as_document();
  }
  bool flag(bson::DocumentView from, std::string_view key) const {
    return from.find(key) && get(from, key, bson::Type::boolean, "true or false").as_bool();
  }

 private:
  std::string where_;
};

model::FieldDescription read_field(const SnapshotReader& read, bson::DocumentView f) {
  model::FieldDescription field;
  field.path = read.text(f, "path");
  field.type = read.text(f, "type");
  field.optional = read.flag(f, "optional");
  if (f.find("rules")) {
    for (bson::Element rule : read.array(f, "rules")) field.rules.emplace_back(read.item(rule, "rules"));
  }
  if (f.find("choices")) {
    for (bson::Element choice : read.array(f, "choices")) {
      if (choice.type() != bson::Type::string) throw ConfigurationError("field " + field.path + ": each choice must be a string");
      field.choices.emplace_back(choice.as_string());
    }
  }
  if (f.find("default")) field.default_value = bson::Document(read.document(f, "default"));
  return field;
}

model::IndexSpec read_index(const SnapshotReader& read, bson::DocumentView i) {
  model::IndexSpec index;
  index.options.name = read.text(i, "name");
  index.keys = bson::Document(read.document(i, "keys"));
  index.options.unique = read.flag(i, "unique");
  index.options.sparse = read.flag(i, "sparse");
  if (i.find("partialFilterExpression")) index.options.partial_filter = bson::Document(read.document(i, "partialFilterExpression"));
  if (auto ttl = i.find("expireAfterSeconds")) {
    if (ttl->type() != bson::Type::int32) throw ConfigurationError("index " + index.options.name + ": \"expireAfterSeconds\" must be a number of seconds");
    index.options.expire_after_seconds = ttl->as_int32();
  }
  if (i.find("collation")) index.options.collation = bson::Document(read.document(i, "collation"));
  return index;
}

}  // namespace

std::vector<DescribedModel> read_snapshot(const std::string& text) {
  if (text.find("\n<<<<<<< ") != std::string::npos || text.starts_with("<<<<<<< ")) {
    throw ConfigurationError("the snapshot holds merge conflict markers: resolve the conflict, then run snapshot again");
  }
  bson::Document parsed;
  try {
    parsed = bson::from_json_strict(text);
  } catch (const DecodeError& e) {
    throw ConfigurationError(std::string("the snapshot is not valid JSON: ") + e.what());
  }
  SnapshotReader top("the snapshot");
  auto format = parsed.find("mongo_orm_model_snapshot");
  if (!format || format->type() != bson::Type::int32 || format->as_int32() != 1) {
    throw ConfigurationError("the snapshot does not say \"mongo_orm_model_snapshot\": 1 (written by another program, or "
                             "a later version of this one)");
  }
  std::vector<DescribedModel> models;
  for (bson::Element e : top.array(parsed, "models")) {
    bson::DocumentView m = top.item(e, "models");
    std::string name = top.text(m, "model");
    SnapshotReader read("the snapshot's model " + name);
    DescribedModel described{name, {}};
    model::ModelDescription& d = described.description;
    d.collection = read.text(m, "collection");
    d.class_chain = read.text(m, "class");
    for (bson::Element chain : read.array(m, "hierarchy")) {
      if (chain.type() != bson::Type::string) throw ConfigurationError("the snapshot's model " + name + ": each chain of \"hierarchy\" must be a string");
      d.hierarchy.emplace_back(chain.as_string());
    }
    std::string unknown = read.text(m, "unknown_fields");
    if (unknown != "strict" && unknown != "preserve") {
      throw ConfigurationError("the snapshot's model " + name + ": \"unknown_fields\" must be \"strict\" or \"preserve\"");
    }
    d.unknown_fields = unknown == "strict" ? model::UnknownFields::strict : model::UnknownFields::preserve;
    d.schema_version = read.get(m, "schema_version", bson::Type::int32, "a number").as_int32();
    d.version_field = read.text(m, "version_field");
    for (bson::Element f : read.array(m, "fields")) d.fields.push_back(read_field(read, read.item(f, "fields")));
    for (bson::Element i : read.array(m, "indexes")) d.indexes.push_back(read_index(read, read.item(i, "indexes")));
    models.push_back(std::move(described));
  }
  return models;
}

void write_snapshot(const std::filesystem::path& file, const migrate::ModelSet& models) {
  std::string text = snapshot_text(models);
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw Error("cannot write " + temporary.string());
  }
  std::filesystem::rename(temporary, file);
}

}  // namespace mongo_orm::autogen
