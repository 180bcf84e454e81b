// Model snapshots.
#include "mongo_orm/autogen/snapshot.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

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
  if (index.options.unique) b.append("unique", true);
  if (index.options.sparse) b.append("sparse", true);
  if (index.options.partial_filter) b.append("partialFilterExpression", index.options.partial_filter->view());
  if (index.options.expire_after_seconds) b.append("expireAfterSeconds", *index.options.expire_after_seconds);
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

std::string snapshot_text(const migrate::ModelSet& models) {
  if (models.empty()) {
    throw ConfigurationError("no models are registered: a snapshot of nothing would report that nothing changed; "
                             "add the application's models to the ModelSet given to cli::run");
  }
  std::vector<std::pair<std::string, model::ModelDescription>> described;
  for (const auto& entry : models.entries()) {
    std::vector<model::ModelDescription> classes = entry.describe();
    for (auto& d : classes) {
      std::string name = d.class_chain.empty() ? entry.name : d.class_chain;
      described.emplace_back(std::move(name), std::move(d));
    }
  }
  std::sort(described.begin(), described.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < described.size(); ++i) {
    if (described[i].first == described[i - 1].first) {
      throw ConfigurationError("two models are named \"" + described[i].first + "\": give one another name when adding it");
    }
  }
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

std::vector<std::string> snapshot_changes(const std::string& committed, const std::string& current) {
  // Each field or index line, named by its model ("users: { "path" : ... }"); a model's own line
  // as it is. Brackets and commas are layout, not content.
  auto entries_of = [](const std::string& text) {
    std::vector<std::string> entries;
    std::istringstream in(text);
    std::string model;
    for (std::string l; std::getline(in, l);) {
      while (!l.empty() && (l.back() == ',' || l.back() == ' ' || l.back() == '\r')) l.pop_back();
      l.erase(0, l.find_first_not_of(' '));
      if (!l.starts_with("{ ")) continue;
      if (l.starts_with("{ \"model\" : ")) {
        try {
          model = std::string(bson::from_json(l + " }")["model"].as_string());
        } catch (const Error&) {
          model = l;
        }
        entries.push_back(l);
      } else {
        entries.push_back(model + ": " + l);
      }
    }
    return entries;
  };
  std::vector<std::string> before = entries_of(committed), after = entries_of(current);
  std::multiset<std::string> in_before(before.begin(), before.end()), in_after(after.begin(), after.end());
  std::vector<std::string> changes;
  for (const auto& l : before) {
    if (auto it = in_after.find(l); it != in_after.end()) in_after.erase(it); else changes.push_back("- " + l);
  }
  for (const auto& l : after) {
    if (auto it = in_before.find(l); it != in_before.end()) in_before.erase(it); else changes.push_back("+ " + l);
  }
  return changes;
}

}  // namespace mongo_orm::autogen
