// Reconciling declared indexes with the server's.
#include "mongo_orm/model/indexes.hpp"

#include "mongo_orm/bson/json.hpp"

namespace mongo_orm::model {

namespace {

std::optional<double> number(const bson::Element& e) {
  switch (e.type()) {
    case bson::Type::int32: return e.as_int32();
    case bson::Type::int64: return static_cast<double>(e.as_int64());
    case bson::Type::double_: return e.as_double();
    default: return std::nullopt;
  }
}

bool same_document(bson::DocumentView a, bson::DocumentView b);

// Equal values, numbers by value whatever their width (1, 1.0 and NumberLong(1) are one), as
// the server reads a key direction or a filter's operand; documents by their keys in order.
bool same_value(const bson::Element& a, const bson::Element& b) {
  auto na = number(a), nb = number(b);
  if (na && nb) return *na == *nb;
  if (a.type() != b.type()) return false;
  if (a.type() == bson::Type::document || a.type() == bson::Type::array) {
    auto view = [](const bson::Element& e) {
      return e.type() == bson::Type::document ? bson::DocumentView(e.as_document()) : bson::DocumentView(e.as_array());
    };
    return same_document(view(a), view(b));
  }
  return a.to_value() == b.to_value();
}

bool same_document(bson::DocumentView a, bson::DocumentView b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
    if ((*ia).key() != (*ib).key() || !same_value(*ia, *ib)) return false;
  }
  return ia == a.end() && ib == b.end();
}

// The simple collation (binary comparison) is what no collation means.
bool is_simple(std::optional<bson::DocumentView> collation) {
  if (!collation) return true;
  auto locale = collation->find("locale");
  return locale && locale->type() == bson::Type::string && locale->as_string() == "simple";
}

std::string collation_differences(const std::optional<bson::Document>& declared, bson::DocumentView existing) {
  std::optional<bson::DocumentView> server;
  if (auto c = existing.find("collation"); c && c->type() == bson::Type::document) server = c->as_document();
  std::optional<bson::DocumentView> wanted;
  if (declared) wanted = declared->view();
  if (is_simple(wanted) || is_simple(server)) {
    if (is_simple(wanted) == is_simple(server)) return "";
    return "collation " + (server ? bson::to_relaxed_json(*server) : std::string("simple")) + " on the server, " +
           (wanted ? bson::to_relaxed_json(*wanted) : std::string("none")) + " declared";
  }
  std::string differing;
  for (bson::Element option : *wanted) {
    auto held = server->find(option.key());
    if (!held || !same_value(option, *held)) differing += (differing.empty() ? "" : ", ") + std::string(option.key());
  }
  if (differing.empty()) return "";
  return "collation " + bson::to_relaxed_json(*server) + " on the server, " + bson::to_relaxed_json(*wanted) +
         " declared (" + differing + " differ" + (differing.find(',') == std::string::npos ? "s" : "") + ")";
}

bool flag(bson::DocumentView index, std::string_view key) {
  auto e = index.find(key);
  return e && e->type() == bson::Type::boolean && e->as_bool();
}

std::string differences(const IndexSpec& spec, bson::DocumentView existing) {
  std::string out;
  auto note = [&](const std::string& what) { out += (out.empty() ? "" : "; ") + what; };
  if (!same_document(spec.keys, existing["key"].as_document())) {
    note("keys " + bson::to_relaxed_json(existing["key"].as_document()) + " on the server, " +
         bson::to_relaxed_json(spec.keys) + " declared");
  }
  if (flag(existing, "unique") != spec.options.unique) note(std::string("unique is ") + (spec.options.unique ? "declared" : "not declared"));
  if (flag(existing, "sparse") != spec.options.sparse) note(std::string("sparse is ") + (spec.options.sparse ? "declared" : "not declared"));
  auto ttl = existing.find("expireAfterSeconds");
  std::optional<double> server_ttl = ttl ? number(*ttl) : std::nullopt;
  std::optional<double> declared_ttl;
  if (spec.options.expire_after_seconds) declared_ttl = *spec.options.expire_after_seconds;
  if (server_ttl != declared_ttl) note("expireAfterSeconds differs");
  auto partial = existing.find("partialFilterExpression");
  bool same_partial = partial ? spec.options.partial_filter && partial->type() == bson::Type::document &&
                                    same_document(partial->as_document(), spec.options.partial_filter->view())
                              : !spec.options.partial_filter;
  if (!same_partial) note("partialFilterExpression differs");
  if (std::string why = collation_differences(spec.options.collation, existing); !why.empty()) note(why);
  return out;
}

}  // namespace

std::string index_differences(const IndexSpec& spec, bson::DocumentView server_index) {
  return differences(spec, server_index);
}

namespace {

void check_declared(const Collection& collection, const IndexSpec& spec) {
  if (spec.options.collation) {
    auto locale = spec.options.collation->view().find("locale");
    if (!locale || locale->type() != bson::Type::string) {
      throw InvalidRequestError(collection.namespace_name() + ": index '" + index_name(spec) + "' declares the collation " +
                                bson::to_relaxed_json(*spec.options.collation) +
                                " without a locale (a string, \"simple\" for binary comparison); nothing was created");
    }
  }
  if (auto lacking = unsupported_option(spec, collection.client().capabilities())) {
    throw InvalidRequestError(collection.namespace_name() + ": index '" + index_name(spec) + "' is declared with " +
                              lacking->option + ", but the server lacks capability " + lacking->capability +
                              "; it would build a different index, so nothing was created");
  }
}

}  // namespace

bson::Document index_options(const IndexSpec& spec) {
  bson::Builder options;
  options.append("name", index_name(spec));
  if (spec.options.unique) options.append("unique", true);
  if (spec.options.sparse) options.append("sparse", true);
  if (spec.options.partial_filter) options.append("partialFilterExpression", spec.options.partial_filter->view());
  if (spec.options.expire_after_seconds) options.append("expireAfterSeconds", *spec.options.expire_after_seconds);
  if (spec.options.collation) options.append("collation", spec.options.collation->view());
  return options.extract();
}

std::optional<UnsupportedIndexOption> unsupported_option(const IndexSpec& spec, const Capabilities& caps) {
  if (spec.options.partial_filter && !caps.partial_indexes) return UnsupportedIndexOption{"a partial filter", "partial_indexes"};
  if (spec.options.expire_after_seconds && !caps.ttl_indexes) return UnsupportedIndexOption{"a TTL", "ttl_indexes"};
  if (spec.options.sparse && !caps.sparse_indexes) return UnsupportedIndexOption{"sparse", "sparse_indexes"};
  if (spec.options.collation && !caps.collations && !is_simple(spec.options.collation->view())) {
    return UnsupportedIndexOption{"a collation", "collations"};
  }
  return std::nullopt;
}

std::string index_name(const IndexSpec& spec) {
  return spec.options.name.empty() ? default_index_name(spec.keys) : spec.options.name;
}

std::string index_summary(const IndexSpec& spec) {
  std::string out = bson::to_relaxed_json(spec.keys);
  if (spec.options.unique) out += " unique";
  if (spec.options.sparse) out += " sparse";
  if (spec.options.partial_filter) out += " partial " + bson::to_relaxed_json(*spec.options.partial_filter);
  if (spec.options.expire_after_seconds) out += " expireAfterSeconds " + std::to_string(*spec.options.expire_after_seconds);
  if (spec.options.collation) out += " collation " + bson::to_relaxed_json(*spec.options.collation);
  return out;
}

IndexDiff diff_indexes(const Collection& collection, const std::vector<IndexSpec>& declared) {
  std::vector<bson::Document> existing = collection.list_indexes();
  IndexDiff diff;
  std::vector<bool> matched(existing.size(), false);
  for (const IndexSpec& spec : declared) {
    std::string name = index_name(spec);
    bool found = false;
    for (std::size_t i = 0; i < existing.size(); ++i) {
      if (existing[i]["name"].as_string() != name) continue;
      found = true;
      matched[i] = true;
      if (std::string why = differences(spec, existing[i]); !why.empty()) {
        diff.changed.push_back({spec, existing[i], why});
      }
    }
    if (!found) diff.missing.push_back(spec);
  }
  for (std::size_t i = 0; i < existing.size(); ++i) {
    if (!matched[i] && existing[i]["name"].as_string() != "_id_") diff.extra.push_back(existing[i]);
  }
  return diff;
}

std::vector<std::string> ensure_indexes(const Collection& collection, const std::vector<IndexSpec>& declared) {
  IndexDiff diff = diff_indexes(collection, declared);
  if (!diff.changed.empty()) {
    std::string text = collection.namespace_name() + ": declared indexes differ from the server's; nothing was created:";
    for (const auto& c : diff.changed) text += " '" + index_name(c.declared) + "': " + c.difference + ";";
    text.pop_back();
    throw InvalidRequestError(text);
  }
  for (const IndexSpec& spec : diff.missing) check_declared(collection, spec);
  std::vector<IndexModel> models;
  for (const IndexSpec& spec : diff.missing) models.push_back({spec.keys, index_options(spec)});
  if (models.empty()) return {};
  return collection.create_indexes(models);
}

}  // namespace mongo_orm::model
