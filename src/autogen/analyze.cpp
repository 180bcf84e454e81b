// What a collection holds, path by path.
#include "mongo_orm/autogen/analyze.hpp"

#include <algorithm>
#include <cctype>
#include <iomanip>
#include <set>
#include <sstream>
#include <unordered_map>

#include <boost/math/distributions/binomial.hpp>
#include <cmath>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/driver/sample.hpp"
#include "mongo_orm/bson/types.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::autogen {

namespace {

// The counts of one pass. Paths are built in one reused buffer; a path is looked up once per
// value.
class Tally {
 public:
  Tally(std::size_t max_paths, std::set<std::string> maps) : max_paths_(max_paths), maps_(std::move(maps)) {}

  void document(bson::DocumentView document) {
    path_.clear();
    walk(document);
  }
  PathAnalysis* find(const std::string& path) {
    auto it = index_.find(path);
    return it == index_.end() ? nullptr : &paths_[it->second];
  }
  PathAnalysis* add(const std::string& path) {
    if (PathAnalysis* found = find(path)) return found;
    if (paths_.size() >= max_paths_) return nullptr;
    index_.emplace(path, paths_.size());
    paths_.push_back(PathAnalysis{path});
    return &paths_.back();
  }
  // `values` values of one type at a path, counted by someone else (the server).
  void values(const std::string& path, const std::string& type, int64_t values) {
    PathAnalysis* p = add(path);
    if (!p) {
      not_counted_ += values;
      return;
    }
    p->present += values;
    if (type == "null") p->null += values;
    p->types[type] += values;
  }
  std::vector<PathAnalysis>& paths() { return paths_; }
  int64_t not_counted() const { return not_counted_; }

 private:
  void walk(bson::DocumentView document) {
    std::size_t base = path_.size();
    for (const bson::Element& e : document) {
      if (base > 0) path_ += '.';
      path_ += e.key();
      count(e);
      path_.resize(base);
    }
  }
  void count(const bson::Element& e) {
    PathAnalysis* p = add(path_);
    if (!p) {
      ++not_counted_;
      return;
    }
    ++p->present;
    bson::Type type = e.type();
    if (type == bson::Type::null) ++p->null;
    ++p->types[std::string(bson::type_name(type))];
    std::size_t base = path_.size();
    if (type == bson::Type::document) {
      if (maps_.contains(path_)) {
        path_ += ".*";  // a map's keys are data: its values are counted under one path
        for (const bson::Element& item : e.as_document()) count(item);
      } else {
        walk(e.as_document());
      }
    } else if (type == bson::Type::array) {
      path_ += "[]";
      for (const bson::Element& item : e.as_array()) count(item);
    }
    path_.resize(base);
  }

  std::size_t max_paths_;
  std::set<std::string> maps_;
  std::string path_;
  std::vector<PathAnalysis> paths_;
  std::unordered_map<std::string, std::size_t> index_;
  int64_t not_counted_ = 0;
};

// analyze's pass on the server, opening server_depth levels. A document starts as one entry to
// open, x.e = {p: "", v: the document}, and x.a, the {p, t} of the values counted so far (the
// document itself, as path ""). Each level opens x.e's object or array, adds the path and type
// of every child to x.a, and unwinds x.e over the children that are non-empty objects or
// arrays; x.a goes on with the first of them only (i, the position $unwind gives, is 0 or
// absent), so each value is counted once. An entry still to open after the last level marks its
// document as deeper than the pass opens ("deep"). Every stage is the same for every collection.
constexpr std::string_view server_start = R"({"$replaceRoot": {"newRoot": {"x": {"a": [{"p": "", "t": "object"}],
  "e": {"p": "", "v": "$$ROOT"}}}}})";
constexpr std::string_view server_open = R"({"$project": {"x": {"$let": {
  "vars": {
    "children": {"$switch": {"branches": [
      {"case": {"$eq": [{"$type": "$x.e.v"}, "object"]}, "then": {"$map": {"input": {"$objectToArray": "$x.e.v"}, "as": "f",
        "in": {"p": {"$cond": [{"$eq": ["$x.e.p", ""]}, "$$f.k", {"$concat": ["$x.e.p", ".", "$$f.k"]}]}, "v": "$$f.v"}}}},
      {"case": {"$isArray": "$x.e.v"}, "then": {"$map": {"input": "$x.e.v", "as": "m",
        "in": {"p": {"$concat": ["$x.e.p", "[]"]}, "v": "$$m"}}}}],
      "default": []}},
    "counted": {"$cond": [{"$gt": ["$i", 0]}, [], "$x.a"]}},
  "in": {
    "a": {"$concatArrays": ["$$counted", {"$map": {"input": "$$children", "as": "c", "in": {"p": "$$c.p", "t": {"$type": "$$c.v"}}}}]},
    "e": {"$filter": {"input": "$$children", "as": "c", "cond": {"$and": [
      {"$in": [{"$type": "$$c.v"}, ["object", "array"]]}, {"$ne": ["$$c.v", {"$literal": {}}]}, {"$ne": ["$$c.v", {"$literal": []}]}]}}}}}}}})";
constexpr std::string_view server_unwind =
    R"({"$unwind": {"path": "$x.e", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}})";
constexpr std::string_view server_count[] = {
    R"({"$project": {"a": {"$concatArrays": [{"$cond": [{"$gt": ["$i", 0]}, [], "$x.a"]},
      {"$cond": [{"$eq": [{"$type": "$x.e"}, "missing"]}, [], [{"p": null, "t": "deep"}]]}]}}})",
    R"({"$unwind": "$a"})",
    R"({"$group": {"_id": {"p": "$a.p", "t": "$a.t"}, "n": {"$sum": 1}}})",
    R"({"$sort": {"_id.p": 1, "_id.t": 1}})",  // "deep" (p null) first, then the documents (p "")
};

std::vector<bson::Document> server_pipeline(int64_t limit) {
  std::vector<bson::Document> pipeline;
  if (limit > 0) pipeline.push_back(bson::Builder{}.append("$limit", limit).extract());
  pipeline.push_back(bson::from_json(server_start));
  bson::Document open = bson::from_json(server_open), unwind = bson::from_json(server_unwind);
  for (int level = 0; level < server_depth; ++level) {
    pipeline.push_back(open);
    pipeline.push_back(unwind);
  }
  for (std::string_view stage : server_count) pipeline.push_back(bson::from_json(stage));
  return pipeline;
}

// The server's counts into `tally`, and the documents into `documents`; false, with `tally`
// to be started again, when a document is deeper than the pass opens.
bool count_on_server(const Collection& collection, const AnalyzeOptions& options, Tally& tally, int64_t& documents) {
  AggregateOptions aggregate{.allow_disk_use = true};
  aggregate.batch_size = std::max(options.batch_size, 1);
  int64_t documents_counted = 0;
  for (bson::DocumentView group : collection.aggregate(server_pipeline(options.limit), aggregate)) {
    // {_id: {p: path, t: type}, n: values}; a row of another shape is no count of this pass, and
    // is not passed over in silence.
    auto id = group.find("_id");
    auto n = group.find("n");
    std::optional<bson::Element> path, type;
    if (id && id->type() == bson::Type::document) {
      path = id->as_document().find("p");
      type = id->as_document().find("t");
    }
    bool shaped = n && n->number() && path && (path->type() == bson::Type::string || path->type() == bson::Type::null) &&
                  type && type->type() == bson::Type::string;
    if (!shaped) {
      throw Error(collection.namespace_name() + ": the server answered analyze's pass with a row it does not make: " +
                  bson::to_relaxed_json(group));
    }
    auto values = static_cast<int64_t>(*n->number());
    if (path->type() == bson::Type::null) return false;  // {p: null, t: "deep"}
    if (path->as_string().empty()) {
      documents_counted = values;
    } else {
      tally.values(std::string(path->as_string()), std::string(type->as_string()), values);
    }
  }
  documents = documents_counted;
  return true;
}

void refuse_on_server(const Collection& collection, const AnalyzeOptions& options, bool model) {
  std::string ns = collection.namespace_name();
  if (model) {
    throw InvalidRequestError(ns + ": analyze on the server counts a collection alone; a model's checks decode each document in "
                                   "the client (analyze without on_server / --on-server)");
  }
  if (options.sample > 0) {
    throw InvalidRequestError(ns + ": analyze on the server counts every document (or the first, with a limit), not a sample");
  }
  if (!collection.client().capabilities().type_expressions) {
    throw InvalidRequestError(ns + ": analyze on the server needs the $type and $objectToArray aggregation expressions (server "
                                   "lacks capability type_expressions); analyze in the client (without on_server / --on-server) reads the documents instead");
  }
}

// "previous_addresses.0.zip" (a validation path) as the analysis names it:
// "previous_addresses[].zip"; the key under a map as "*".
std::string as_analysis_path(const std::string& path, const std::set<std::string>& maps) {
  std::string out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t dot = path.find('.', start);
    std::string segment = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool position = !segment.empty() && std::all_of(segment.begin(), segment.end(), [](unsigned char c) { return std::isdigit(c); });
    if (position && !out.empty()) {
      out += "[]";
    } else if (maps.contains(out)) {
      out += ".*";
    } else {
      if (!out.empty()) out += '.';
      out += segment;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// Documents, or the objects above the path, that could hold it; 0 for the items of an array or
// a map, which are counted, not missed.
int64_t places_for(const std::string& path, int64_t documents, Tally& tally) {
  if (path.ends_with("[]") || path.ends_with(".*")) return 0;
  std::size_t dot = path.rfind('.');
  if (dot == std::string::npos) return documents;
  PathAnalysis* parent = tally.find(path.substr(0, dot));
  if (!parent) return 0;
  auto objects = parent->types.find("object");
  return objects == parent->types.end() ? 0 : objects->second;
}

struct Declared {
  std::map<std::string, std::string> types;  // path -> type ("a|b" where classes differ)
  std::set<std::string> maps;
  std::set<std::string> chains;
  std::string version_field;
};

Declared declared_by(const migrate::ModelSet::Entry& model) {
  Declared d;
  auto declare = [&](const std::string& path, const std::string& type) {
    std::string& known = d.types[path];
    if (known.empty()) {
      known = type;
    } else if (("|" + known + "|").find("|" + type + "|") == std::string::npos) {
      known += "|" + type;
    }
  };
  for (const model::ModelDescription& c : model.describe()) {
    for (const model::FieldDescription& f : c.fields) {
      declare(f.path, f.type);
      if (f.map) {
        d.maps.insert(f.path);
        declare(f.path + ".*", f.item_type);
      } else if (!f.item_type.empty()) {
        declare(f.path + "[]", f.item_type);
      }
    }
    for (const std::string& chain : c.hierarchy) d.chains.insert(chain);
    if (!c.class_chain.empty()) declare("_cls", "string");
    if (c.schema_version > 0) {
      d.version_field = c.version_field;
      declare(c.version_field, "int");
    }
  }
  return d;
}

CollectionAnalysis run(const Collection& collection, const AnalyzeOptions& options, const migrate::ModelSet::Entry* model,
                       const Declared& declared) {
  CollectionAnalysis out{collection.name()};
  if (model) out.model = model->name;
  Tally tally(options.max_paths, declared.maps);
  FindOptions find{.batch_size = std::max(options.batch_size, 1)};
  if (options.limit > 0) find.limit = options.limit;
  std::string ns = collection.namespace_name();
  auto refuse = [&](const std::string& path, const std::string& reason) {
    PathAnalysis* p = tally.add(path.empty() ? "(document)" : as_analysis_path(path, declared.maps));
    if (p && p->refused++ == 0) p->refused_example = reason;
  };
  auto take = [&](bson::DocumentView document) {
    ++out.documents;
    tally.document(document);
    if (model) {
      try {
        model->check(document, ns);
      } catch (const DecodeError& e) {
        ++out.refused;
        refuse(e.path(), e.reason());
      } catch (const ValidationError& e) {
        ++out.refused;
        for (const ValidationFailure& failure : e.failures()) refuse(failure.path, failure.message);
      }
      if (!declared.chains.empty()) {
        auto cls = document.find("_cls");
        ++out.classes[cls && cls->type() == bson::Type::string ? std::string(cls->as_string()) : std::string()];
      }
      if (!declared.version_field.empty()) {
        auto version = document.find(declared.version_field);
        auto number = version ? version->number() : std::optional<double>(1);
        ++out.versions[number ? std::to_string(static_cast<long long>(*number)) : std::string(bson::type_name(version->type()))];
      }
    }
    if (options.progress && out.documents % std::max(options.batch_size, 1) == 0) options.progress(out.documents);
  };
  bool counted = false;
  if (options.on_server) {
    refuse_on_server(collection, options, model != nullptr);
    counted = count_on_server(collection, options, tally, out.documents);
    if (counted) {
      out.counted_by = "server";
      if (options.progress) options.progress(out.documents);
    } else {
      tally = Tally(options.max_paths, declared.maps);
      out.counted_by = "client: a document is nested deeper than the " + std::to_string(server_depth) +
                       " levels the server's pass opens";
    }
  }
  if (!counted && options.sample > 0) {
    if (options.limit > 0) {
      throw InvalidRequestError(ns + ": analyze takes a sample or a limit, not both (a limit reads the first documents, "
                                     "which are no sample)");
    }
    int64_t held = collection.estimated_document_count();
    if (held > options.sample) {
      out.sampled_from = held;
      out.sampling = sample_documents(collection, {options.sample, options.seed}, take);
    }
  }
  if (!counted && out.sampling.empty()) {
    for (bson::DocumentView document : collection.find({}, find)) take(document);
  }
  out.limited = options.limit > 0 && out.documents >= options.limit;
  for (const auto& [path, type] : declared.types) {
    if (PathAnalysis* p = tally.add(path)) p->declared = type;
  }
  for (const auto& [cls, count] : out.classes) {
    if (!cls.empty() && !declared.chains.contains(cls)) out.unknown_classes.push_back(cls);
  }
  for (PathAnalysis& p : tally.paths()) {
    if (p.path != "(document)") p.missing = std::max<int64_t>(0, places_for(p.path, out.documents, tally) - p.present);
  }
  out.paths = std::move(tally.paths());
  std::sort(out.paths.begin(), out.paths.end(), [](const PathAnalysis& a, const PathAnalysis& b) { return a.path < b.path; });
  out.paths_not_counted = tally.not_counted();
  return out;
}

}  // namespace

CollectionAnalysis analyze(const Collection& collection, const AnalyzeOptions& options) {
  return run(collection, options, nullptr, {});
}

CollectionAnalysis analyze(const Database& database, const migrate::ModelSet::Entry& model, const AnalyzeOptions& options) {
  return run(database.collection(model.collection), options, &model, declared_by(model));
}

ShareBounds share_bounds(int64_t hits, int64_t sampled) {
  if (sampled <= 0 || hits < 0 || hits > sampled) {
    throw InvalidRequestError("share_bounds: " + std::to_string(hits) + " of " + std::to_string(sampled) +
                              " is not a count within a sample");
  }
  using boost::math::binomial_distribution;
  constexpr double confidence = 0.05;
  auto n = static_cast<double>(sampled), k = static_cast<double>(hits);
  if (hits == 0) return {0, binomial_distribution<>::find_upper_bound_on_p(n, k, confidence)};
  if (hits == sampled) return {binomial_distribution<>::find_lower_bound_on_p(n, k, confidence), 1};
  return {binomial_distribution<>::find_lower_bound_on_p(n, k, confidence / 2),
          binomial_distribution<>::find_upper_bound_on_p(n, k, confidence / 2)};
}

namespace {
// A field of the document itself, not inside another: its missing share is a share of documents.
bool is_top_level(const std::string& path) {
  return path.find_first_of("[*.") == std::string::npos && path != "(document)";
}

// A share as a percentage, rounded outwards (an upper bound up, a lower bound down) to two
// significant digits at most: "0.3%", "2.1%", "99.7%".
std::string percent(double share, bool upper) {
  double value = share * 100;
  int decimals = value >= 10 ? 1 : value >= 1 ? 1 : value >= 0.1 ? 2 : value >= 0.01 ? 3 : 4;
  double scale = std::pow(10.0, decimals);
  double rounded = upper ? std::ceil(value * scale - 1e-9) / scale : std::floor(value * scale + 1e-9) / scale;
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << rounded;
  std::string text = out.str();
  while (text.find('.') != std::string::npos && (text.back() == '0' || text.back() == '.')) text.pop_back();
  return text + "%";
}
}  // namespace

std::string describe_share(int64_t hits, int64_t sampled) {
  ShareBounds b = share_bounds(hits, sampled);
  std::string text = std::to_string(hits) + " of " + std::to_string(sampled) + " sampled: ";
  if (hits == 0) return text + "at most " + percent(b.high, true);
  if (hits == sampled) return text + "at least " + percent(b.low, false);
  return text + percent(b.low, false) + " to " + percent(b.high, true);
}

std::string to_text(const CollectionAnalysis& a) {
  std::ostringstream out;
  out << a.collection;
  if (!a.model.empty()) out << " (model " << a.model << ")";
  if (!a.sampling.empty()) {
    out << ": a uniform sample of " << a.documents << " of about " << a.sampled_from << " documents (" << a.sampling
        << "): counts are of the sample, shares with their 95% bounds\n";
  } else {
    bool server = a.counted_by == "server";
    out << ": " << a.documents << (a.documents == 1 ? " document" : " documents")
        << (a.limited ? (server ? ", the first only (--limit), counted by the server: counts are of those"
                                : ", the first read only (--limit): counts are of those")
                      : (server ? ", every one counted by the server" : ", every one read"))
        << "\n";
    if (a.counted_by.starts_with("client: ")) out << "  (counted in the " << a.counted_by << ")\n";
  }
  std::size_t width = 4;
  for (const auto& p : a.paths) width = std::max(width, p.path.size());
  out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << "PATH" << std::right << std::setw(10) << "PRESENT"
      << std::setw(10) << "MISSING" << std::setw(8) << "NULL" << "  TYPES";
  if (!a.model.empty()) out << "  |  MODEL";
  out << "\n";
  for (const auto& p : a.paths) {
    std::string types;
    for (const auto& [type, count] : p.types) types += (types.empty() ? "" : ", ") + type + " " + std::to_string(count);
    out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << p.path << std::right << std::setw(10) << p.present
        << std::setw(10) << p.missing << std::setw(8) << p.null << "  " << types;
    if (!a.model.empty()) {
      out << "  |  " << (p.declared.empty() ? "not declared" : p.declared);
      if (p.refused > 0) out << ", refused in " << p.refused << " (e.g. " << p.refused_example << ")";
    }
    out << "\n";
    if (!a.sampling.empty() && is_top_level(p.path)) {
      out << "  " << std::string(width + 2, ' ') << "missing in " << describe_share(p.missing, a.documents);
      if (!a.model.empty() && !p.declared.empty()) out << "; refused in " << describe_share(p.refused, a.documents);
      out << "\n";
    }
  }
  if (a.paths_not_counted > 0) out << "  (" << a.paths_not_counted << " values at further paths not counted)\n";
  if (!a.model.empty()) {
    out << "  refused by the model: " << (a.sampling.empty() || a.documents == 0 ? std::to_string(a.refused) + " of " + std::to_string(a.documents)
                                                                               : describe_share(a.refused, a.documents))
        << "\n";
    if (!a.classes.empty()) {
      out << "  by _cls:";
      for (const auto& [cls, count] : a.classes) out << " " << (cls.empty() ? "(none)" : cls) << " " << count;
      out << "\n";
    }
    for (const auto& cls : a.unknown_classes) out << "  _cls \"" << cls << "\" matches no class of the model\n";
    if (!a.versions.empty()) {
      out << "  by schema version:";
      for (const auto& [version, count] : a.versions) out << " " << version << ": " << count;
      out << "\n";
    }
  }
  return out.str();
}

bson::Document to_document(const CollectionAnalysis& a) {
  bson::Builder out;
  out.append("collection", a.collection).append("model", a.model).append("documents", a.documents)
      .append("limited", a.limited).append("counted_by", a.counted_by).append("paths_not_counted", a.paths_not_counted);
  if (!a.sampling.empty()) out.append("sampling", a.sampling).append("sampled_from", a.sampled_from);
  auto bounds = [&](bson::Builder& b, std::string_view key, int64_t hits) {
    if (a.sampling.empty() || a.documents == 0 || hits > a.documents) return;
    ShareBounds s = share_bounds(hits, a.documents);
    b.append(key, [&](bson::ArrayBuilder& pair) { pair.append(s.low).append(s.high); });
  };
  out.append("paths", [&](bson::ArrayBuilder& list) {
    for (const auto& p : a.paths) {
      list.append([&](bson::Builder& b) {
        b.append("path", p.path).append("present", p.present).append("missing", p.missing).append("null", p.null);
        if (is_top_level(p.path)) bounds(b, "missing_share_95", p.missing);
        b.append("types", [&](bson::Builder& t) { for (const auto& [type, count] : p.types) t.append(type, count); });
        if (!a.model.empty()) {
          b.append("declared", p.declared).append("refused", p.refused);
          if (p.refused > 0) b.append("refused_example", p.refused_example);
        }
      });
    }
  });
  if (!a.model.empty()) {
    out.append("refused", a.refused);
    bounds(out, "refused_share_95", a.refused);
    out.append("classes", [&](bson::Builder& c) { for (const auto& [cls, count] : a.classes) c.append(cls, count); });
    out.append("unknown_classes", [&](bson::ArrayBuilder& c) { for (const auto& cls : a.unknown_classes) c.append(cls); });
    out.append("versions", [&](bson::Builder& v) { for (const auto& [version, count] : a.versions) v.append(version, count); });
  }
  return out.extract();
}

}  // namespace mongo_orm::autogen
