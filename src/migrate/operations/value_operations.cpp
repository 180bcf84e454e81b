// Operations that compute new values document by document, in batches: convert_type,
// normalize_string, split_field / merge_fields, transform, dedupe_for_unique.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/checkpoint.hpp"
#include "mongo_orm/migrate/operations.hpp"
#include "rewrite.hpp"
#include "support.hpp"

namespace mongo_orm::migrate::ops {

namespace {

using detail::both;
using detail::exists;

bson::Document type_is(std::string_view path, std::string_view alias) {
  return bson::Builder{}.append(path, [&](bson::Builder& f) { f.append("$type", alias); }).extract();
}

std::string_view type_alias(bson::Type type) {
  switch (type) {
    case bson::Type::int32: return "int";
    case bson::Type::int64: return "long";
    case bson::Type::double_: return "double";
    case bson::Type::string: return "string";
    case bson::Type::boolean: return "bool";
    case bson::Type::date_time: return "date";
    default: return {};
  }
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> whole_number(std::string_view text) {
  text = trimmed(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

std::optional<double> decimal_number(std::string_view text) {
  text = trimmed(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<int64_t> integral(double d) {
  if (!std::isfinite(d) || std::trunc(d) != d || d < -9.2e18 || d > 9.2e18) return std::nullopt;
  return static_cast<int64_t>(d);
}

// A value as relaxed Extended JSON: "abc", 42, {"$oid": "..."}.
std::string shown(const bson::Element& value) {
  std::string text = bson::to_relaxed_json(bson::Builder{}.append("v", value).view());
  std::size_t start = text.find(':') + 1, end = text.rfind('}');
  return std::string(trimmed(std::string_view(text).substr(start, end - start)));
}

// The value converted to `target`, or nothing when it does not convert (see convert_type).
std::optional<bson::Value> converted(const bson::Element& value, bson::Type target) {
  using bson::Type;
  std::optional<int64_t> as_integer;
  std::optional<double> as_double;
  switch (value.type()) {
    case Type::int32: as_integer = value.as_int32(); break;
    case Type::int64: as_integer = value.as_int64(); break;
    case Type::double_: as_double = value.as_double(); as_integer = integral(value.as_double()); break;
    case Type::boolean: as_integer = value.as_bool() ? 1 : 0; break;
    case Type::string: as_integer = whole_number(value.as_string()); as_double = decimal_number(value.as_string()); break;
    case Type::date_time: as_integer = value.as_date_time().millis(); break;
    default: break;
  }
  switch (target) {
    case Type::int32:
      if (as_integer && *as_integer >= INT32_MIN && *as_integer <= INT32_MAX && value.type() != Type::date_time) {
        return bson::make_value(static_cast<int32_t>(*as_integer));
      }
      return std::nullopt;
    case Type::int64:
      if (as_integer) return bson::make_value(*as_integer);
      return std::nullopt;
    case Type::double_:
      if (value.type() == Type::string) return as_double ? std::optional(bson::make_value(*as_double)) : std::nullopt;
      if (as_double) return bson::make_value(*as_double);
      if (as_integer && value.type() != Type::date_time) return bson::make_value(static_cast<double>(*as_integer));
      return std::nullopt;
    case Type::boolean:
      if (value.type() == Type::string) {
        std::string text(trimmed(value.as_string()));
        std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
        if (text == "true" || text == "1") return bson::make_value(true);
        if (text == "false" || text == "0") return bson::make_value(false);
        return std::nullopt;
      }
      if (as_integer && (*as_integer == 0 || *as_integer == 1) && value.type() != Type::date_time) {
        return bson::make_value(*as_integer == 1);
      }
      return std::nullopt;
    case Type::string:
      switch (value.type()) {
        case Type::int32: case Type::int64: return bson::make_value(std::to_string(*as_integer));
        case Type::double_: {
          char buffer[32];
          auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.as_double());
          if (ec != std::errc()) return std::nullopt;
          return bson::make_value(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
        }
        case Type::boolean: return bson::make_value(value.as_bool() ? "true" : "false");
        case Type::date_time: return bson::make_value(value.as_date_time().to_iso8601());
        case Type::object_id: return bson::make_value(value.as_object_id().to_hex());
        default: return std::nullopt;
      }
    case Type::date_time:
      if (value.type() == Type::string) {
        try {
          bson::Document text = bson::Builder{}.append("s", trimmed(value.as_string())).extract();
          bson::Document parsed = bson::from_json("{\"v\": {\"$date\": " + shown(text["s"]) + "}}");
          return bson::Value(parsed["v"]);
        } catch (const std::exception&) {
          return std::nullopt;
        }
      }
      if (value.type() == Type::int64 || value.type() == Type::int32) {
        return bson::make_value(bson::DateTime(*as_integer));
      }
      return std::nullopt;
    default: return std::nullopt;
  }
}


class ConvertType final : public Operation {
 public:
  ConvertType(std::string collection, std::string path, bson::Type target, ConvertOptions options)
      : collection_(std::move(collection)), path_(std::move(path)), target_(target), options_(std::move(options)) {
    detail::check_collection_name(collection_, "convert_type");
    detail::check_path(path_, "convert_type " + collection_);
    if (type_alias(target_).empty()) {
      throw InvalidRequestError("convert_type " + collection_ + "." + path_ +
                                ": the target type must be int32, int64, double, string, boolean or date_time");
    }
    if (options_.on_failure == OnConversionFailure::set_default && !options_.default_value) {
      throw InvalidRequestError("convert_type " + collection_ + "." + path_ + ": set_default needs a default_value");
    }
    if (options_.default_value) detail::check_literal(*options_.default_value, "convert_type " + collection_ + "." + path_, "default");
    if (options_.quarantine_collection.empty()) options_.quarantine_collection = collection_ + "_quarantine";
    detail::check_quarantine_name(options_.quarantine_collection, collection_, "convert_type");
  }
  std::string name() const override {
    return "convert_type " + collection_ + "." + path_ + " to " + std::string(type_alias(target_));
  }

  Estimate estimate(const StepContext& context) const override {
    Estimate e{name()};
    int64_t failures = 0;
    std::string example;
    FindOptions read{.projection = bson::Builder{}.append(path_, 1).extract()};
    for (bson::DocumentView document : context.database.collection(collection_).find(candidates(), read)) {
      ++e.documents;
      auto value = document.find_path(path_);
      if (value && !converted(*value, target_)) {
        if (++failures == 1) example = shown(*value) + " at _id " + shown(document["_id"]);
      }
    }
    e.batches = detail::batches_for(context, e.documents);
    e.failures = failures;
    if (detail::LeftAlone missing = detail::left_alone(context.database.collection(collection_),
                                                        both(options_.filter, exists(path_, false)));
        missing.count > 0) {
      e.notes.push_back(std::to_string(missing.count) + (missing.count == 1 ? " document has" : " documents have") +
                        " no '" + path_ + "' (e.g. " + missing.examples +
                        "): left as they are; add_field gives them one");
    }
    if (failures > 0) {
      std::string what = std::to_string(failures) + " values do not convert (for example " + example + "): ";
      switch (options_.on_failure) {
        case OnConversionFailure::leave: e.notes.push_back(what + "they would be left as they are"); break;
        case OnConversionFailure::set_default: e.notes.push_back(what + "they would be set to " + shown(options_.default_value->get())); break;
        case OnConversionFailure::quarantine: e.notes.push_back(what + "their documents would move to " + options_.quarantine_collection); break;
      }
    }
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    detail::Quarantine quarantine(context, *this, options_.quarantine_collection);
    OperationStats stats{name()};
    auto totals = detail::for_each_batch(context, target, candidates(), name(),
                                         [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
      std::vector<bson::Document> originals;
      std::vector<std::pair<bson::Document, std::string>> set_aside;
      for (const bson::Document& document : batch) {
        auto value = document.find_path(path_);
        if (!value) continue;
        std::optional<bson::Value> result = converted(*value, target_);
        if (!result) {
          if (options_.on_failure == OnConversionFailure::leave) {
            ++stats.skipped;
            continue;
          }
          if (options_.on_failure == OnConversionFailure::quarantine) {
            set_aside.emplace_back(document, shown(*value) + " does not convert to " + std::string(type_alias(target_)));
            continue;
          }
          result = options_.default_value;
        }
        originals.push_back(document);
        writes.update_one(detail::id_of(document),
                          bson::Builder{}.append("$set", [&](bson::Builder& s) { s.append(path_, *result); }).view());
      }
      stats.backed_up += backup.keep(originals);
      stats.quarantined += quarantine.move(target, set_aside);
    });
    stats.matched = totals.matched;
    stats.modified = totals.modified;
    return stats;
  }
  OperationStats revert(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    detail::Quarantine quarantine(context, *this, options_.quarantine_collection);
    auto restored = backup.restore_paths(context, target, {path_}, "undo " + name());
    auto returned = quarantine.restore(context, target, "undo " + name() + " (quarantine)");
    backup.drop();
    return {"undo " + name(), restored.matched + returned.matched, restored.modified + returned.deleted};
  }

  std::string collection() const override { return collection_; }
  std::vector<std::string> collections() const override { return {collection_, options_.quarantine_collection}; }
  bool copies_documents() const override { return true; }

 private:
  // Documents whose value is there, not null, and of another type.
  bson::Document candidates() const {
    bson::Document wrong_type = bson::Builder{}
                                    .append(path_, [&](bson::Builder& f) {
                                      f.append("$exists", true);
                                      f.append("$not", [&](bson::Builder& n) {
                                        n.append("$type", type_alias(target_));
                                      });
                                    })
                                    .extract();
    return both(options_.filter, wrong_type);
  }

  std::string collection_, path_;
  bson::Type target_;
  ConvertOptions options_;
};

class NormalizeString final : public Operation {
 public:
  NormalizeString(std::string collection, std::string path, NormalizeOptions options)
      : collection_(std::move(collection)), path_(std::move(path)), options_(options) {
    detail::check_collection_name(collection_, "normalize_string");
    detail::check_path(path_, "normalize_string " + collection_);
    if (!options_.lowercase && !options_.trim) throw InvalidRequestError(name() + ": neither lowercase nor trim asked for");
  }
  std::string name() const override {
    std::string how = options_.lowercase && options_.trim ? "lowercase, trim" : options_.lowercase ? "lowercase" : "trim";
    return "normalize_string " + collection_ + "." + path_ + " (" + how + ")";
  }
  bool reversible() const override { return options_.keep_backup; }

  Estimate estimate(const StepContext& context) const override {
    Estimate e{name()};
    e.reversible = reversible();
    FindOptions read{.projection = bson::Builder{}.append(path_, 1).extract()};
    for (bson::DocumentView document : context.database.collection(collection_).find(strings(), read)) {
      auto value = document.find_path(path_);
      if (value && normalized(value->as_string()) != value->as_string()) ++e.documents;
    }
    e.batches = server_side(context) ? 1 : detail::batches_for(context, e.documents);
    if (!reversible()) e.notes.push_back("irreversible: the original values are not kept (keep_backup keeps them)");
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    if (server_side(context)) {
      std::string field = "$" + path_;
      auto expression = [&](bson::Builder& out) {
        auto trim = [&](bson::Builder& t) { t.append("$trim", [&](bson::Builder& a) { a.append("input", field); }); };
        if (options_.lowercase && options_.trim) {
          out.append(path_, [&](bson::Builder& l) { l.append("$toLower", [&](bson::Builder& inner) { trim(inner); }); });
        } else if (options_.lowercase) {
          out.append(path_, [&](bson::Builder& l) { l.append("$toLower", field); });
        } else {
          out.append(path_, [&](bson::Builder& t) { trim(t); });
        }
      };
      bson::Document pipeline = bson::make_array(bson::Builder{}.append("$set", expression).extract());
      UpdateResult result = target.update_many(strings(), pipeline);
      return {name(), result.matched_count, result.modified_count};
    }
    detail::Backup backup(context, *this);
    OperationStats stats{name()};
    auto totals = detail::for_each_batch(context, target, strings(), name(),
                                         [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
      std::vector<bson::Document> originals;
      for (const bson::Document& document : batch) {
        auto value = document.find_path(path_);
        if (!value) continue;
        std::string after = normalized(value->as_string());
        if (after == value->as_string()) continue;
        if (options_.keep_backup) originals.push_back(document);
        writes.update_one(detail::id_of(document),
                          bson::Builder{}.append("$set", [&](bson::Builder& s) { s.append(path_, after); }).view());
      }
      stats.backed_up += backup.keep(originals);
    });
    stats.matched = totals.matched;
    stats.modified = totals.modified;
    return stats;
  }
  OperationStats revert(const StepContext& context) const override {
    detail::Backup backup(context, *this);
    auto totals = backup.restore_paths(context, context.database.collection(collection_), {path_}, "undo " + name());
    backup.drop();
    return {"undo " + name(), totals.matched, totals.modified};
  }

  std::string collection() const override { return collection_; }
  bool copies_documents() const override { return options_.keep_backup; }

 private:
  bool server_side(const StepContext& context) const { return context.capabilities.update_pipelines && !options_.keep_backup; }
  bson::Document strings() const { return type_is(path_, "string"); }
  std::string normalized(std::string_view value) const {
    std::string out(options_.trim ? trimmed(value) : value);
    if (options_.lowercase) {
      std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    }
    return out;
  }

  std::string collection_, path_;
  NormalizeOptions options_;
};

// split_field and merge_fields: each is the other's undo. Values the undo would not give back
// exactly are backed up by whichever ran first.
class SplitMerge final : public Operation {
 public:
  SplitMerge(bool split, std::string collection, std::string whole, std::string first, std::string second,
             std::string separator)
      : split_(split),
        collection_(std::move(collection)),
        whole_(std::move(whole)),
        first_(std::move(first)),
        second_(std::move(second)),
        separator_(std::move(separator)) {
    std::string where = (split_ ? "split_field " : "merge_fields ") + collection_;
    detail::check_collection_name(collection_, where);
    for (const std::string* path : {&whole_, &first_, &second_}) detail::check_path(*path, where);
    if (separator_.empty()) throw InvalidRequestError(where + ": the separator is empty");
    if (whole_ == first_ || whole_ == second_ || first_ == second_) throw InvalidRequestError(where + ": the fields must differ");
  }
  std::string name() const override {
    return split_ ? "split_field " + collection_ + "." + whole_ + "->" + first_ + "," + second_
                  : "merge_fields " + collection_ + "." + first_ + "," + second_ + "->" + whole_;
  }

  Estimate estimate(const StepContext& context) const override {
    Collection target = context.database.collection(collection_);
    int64_t n = target.count_documents(sources(split_));
    Estimate e{name(), n, detail::batches_for(context, n)};
    if (int64_t clash = target.count_documents(clashes(split_)); clash > 0) e.conflicts.push_back(clash_text(clash, split_));
    if (detail::LeftAlone skipped = detail::left_alone(target, left_alone(split_)); skipped.count > 0) {
      e.notes.push_back(std::to_string(skipped.count) + (skipped.count == 1 ? " document holds " : " documents hold ") +
                        left_alone_text(split_) + " (e.g. " +
                        skipped.examples + "): left as they are and counted as skipped");
    }
    return e;
  }
  OperationStats apply(const StepContext& context) const override { return run(context, split_, true, name()); }
  OperationStats revert(const StepContext& context) const override {
    OperationStats stats = run(context, !split_, false, "undo " + name());
    detail::Backup backup(context, *this);
    auto restored = backup.restore_paths(context, context.database.collection(collection_),
                                         split_ ? std::vector{whole_} : std::vector{first_, second_}, "undo " + name() + " (exact values)");
    backup.drop();
    stats.modified += restored.modified;
    return stats;
  }

  std::string collection() const override { return collection_; }

 private:
  std::pair<std::string, std::string> split(std::string_view value) const {
    std::size_t at = value.find(separator_);
    if (at == std::string_view::npos) return {std::string(value), ""};
    return {std::string(value.substr(0, at)), std::string(value.substr(at + separator_.size()))};
  }
  std::string merge(std::string_view first, std::string_view second) const {
    return second.empty() ? std::string(first) : std::string(first) + separator_ + std::string(second);
  }
  bson::Document sources(bool splitting) const {
    return splitting ? type_is(whole_, "string") : both(type_is(first_, "string"), type_is(second_, "string"));
  }
  // The documents that hold the source fields but not as strings: neither split nor merged.
  bson::Document left_alone(bool splitting) const {
    bson::Document present = splitting ? exists(whole_, true) : bson::Builder{}.append("$or", [&](bson::ArrayBuilder& any) {
      any.append(exists(first_, true)).append(exists(second_, true));
    }).extract();
    return both(present, bson::Builder{}.append("$nor", [&](bson::ArrayBuilder& none) { none.append(sources(splitting)); }).extract());
  }
  std::string left_alone_text(bool splitting) const {
    return splitting ? "a '" + whole_ + "' that is not a string" : "'" + first_ + "' or '" + second_ + "' without both being strings";
  }
  bson::Document clashes(bool splitting) const {
    if (!splitting) return both(sources(false), exists(whole_, true));
    return both(sources(true), bson::Builder{}.append("$or", [&](bson::ArrayBuilder& any) {
      any.append(exists(first_, true)).append(exists(second_, true));
    }).extract());
  }
  std::string clash_text(int64_t n, bool splitting) const {
    return std::to_string(n) + " documents of " + collection_ + " already hold " +
           (splitting ? "'" + first_ + "' or '" + second_ + "'" : "'" + whole_ + "'") + ", which would be overwritten";
  }
  OperationStats run(const StepContext& context, bool splitting, bool keep_lossy, const std::string& label) const {
    Collection target = context.database.collection(collection_);
    if (int64_t clash = target.count_documents(clashes(splitting)); clash > 0) {
      throw OperationRefused(label + ": " + clash_text(clash, splitting) + "; nothing changed");
    }
    detail::Backup backup(context, *this);
    OperationStats stats{label};
    auto totals = detail::for_each_batch(context, target, sources(splitting), label,
                                         [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
      std::vector<bson::Document> lossy;
      for (const bson::Document& document : batch) {
        bson::Builder update;
        if (splitting) {
          std::string_view value = document.find_path(whole_)->as_string();
          auto [a, b] = split(value);
          if (keep_lossy && merge(a, b) != value) lossy.push_back(document);
          update.append("$set", [&](bson::Builder& s) { s.append(first_, a).append(second_, b); });
          update.append("$unset", [&](bson::Builder& u) { u.append(whole_, ""); });
        } else {
          std::string_view a = document.find_path(first_)->as_string(), b = document.find_path(second_)->as_string();
          std::string value = merge(a, b);
          if (keep_lossy && split(value) != std::pair{std::string(a), std::string(b)}) lossy.push_back(document);
          update.append("$set", [&](bson::Builder& s) { s.append(whole_, value); });
          update.append("$unset", [&](bson::Builder& u) { u.append(first_, "").append(second_, ""); });
        }
        writes.update_one(detail::id_of(document), update.view());
      }
      stats.backed_up += backup.keep(lossy);
    });
    stats.matched = totals.matched;
    stats.modified = totals.modified;
    stats.skipped = detail::left_alone(target, left_alone(splitting)).count;
    return stats;
  }

  bool split_;
  std::string collection_, whole_, first_, second_, separator_;
};

class Transform final : public Operation {
 public:
  Transform(std::string collection, bson::Document filter, UpdateTransform change, TransformOptions options)
      : collection_(std::move(collection)), filter_(std::move(filter)), change_(std::move(change)), options_(std::move(options)) {
    detail::check_collection_name(collection_, "transform");
    if (!change_) throw InvalidRequestError("transform " + collection_ + ": no function given");
  }
  std::string name() const override {
    return "transform " + collection_ + (options_.label.empty() ? "" : " (" + options_.label + ")");
  }
  bool reversible() const override { return keeps_originals(); }

  Estimate estimate(const StepContext& context) const override {
    int64_t n = context.database.collection(collection_).count_documents(filter_);
    Estimate e{name(), n, detail::batches_for(context, n)};
    e.reversible = reversible();
    if (rewrites(context)) {
      e.notes.push_back("rewrites the collection into " + detail::CollectionRewrite(context, *this, collection_).new_name() +
                        " and swaps it in; the original is kept as " + context.backup_collection(*this) +
                        "; the application must not write to " + collection_ + " meanwhile");
    } else if (!e.reversible) {
      e.notes.push_back("irreversible: give an inverse or keep a backup");
    }
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    if (rewrites(context)) return rewrite(context);
    Collection target = context.database.collection(collection_);
    detail::Backup backup(context, *this);
    OperationStats stats{name()};
    auto totals = detail::for_each_batch(context, target, filter_, name(),
                                         [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
      std::vector<bson::Document> originals;
      for (const bson::Document& document : batch) {
        std::optional<bson::Document> update = changed(document);
        if (!update) continue;
        if (keeps_originals()) originals.push_back(document);
        writes.update_one(unchanged_since_read(document, *update), *update);
      }
      stats.backed_up += backup.keep(originals);
    });
    stats.matched = totals.matched;
    stats.modified = totals.modified;
    return stats;
  }
  OperationStats revert(const StepContext& context) const override {
    if (rewrites(context)) return unrewrite(context);
    detail::Backup backup(context, *this);
    auto totals = backup.restore_documents(context, context.database.collection(collection_), "undo " + name());
    backup.drop();
    return {"undo " + name(), totals.matched, totals.modified};
  }

  std::string collection() const override { return collection_; }
  bool copies_documents() const override { return keeps_originals(); }
  bool transactional() const override { return options_.strategy == TransformStrategy::in_place; }

 private:
  // In place, the original documents are backed up when asked and under the automatic
  // strategy; a rewrite keeps the original collection.
  bool keeps_originals() const { return options_.backup || options_.strategy != TransformStrategy::in_place; }
  bool rewrites(const StepContext& context) const {
    switch (options_.strategy) {
      case TransformStrategy::in_place: return false;
      case TransformStrategy::rewrite: return true;
      case TransformStrategy::automatic: return !context.capabilities.indexed_id_updates && filter_.empty();
    }
    return false;
  }
  // The update for one document, checked; none when the function leaves it.
  std::optional<bson::Document> changed(bson::DocumentView document) const {
    std::optional<bson::Document> update = change_(document);
    if (!update || update->empty()) return std::nullopt;
    if (auto first = update->begin(); (*first).key().empty() || (*first).key().front() != '$') {
      throw MigrationError(name() + ": the function returned a document without update operators for _id " +
                           shown(document["_id"]) + "; return {\"$set\": {...}} and the like");
    }
    return update;
  }

  // {_id, and every top-level field the update touches as it was read}: the update applies
  // to the document only while those fields are unchanged. A second application of an update
  // that changed something therefore matches nothing, even when it comes from a killed
  // runner's command that the server was still carrying out after its lease had expired.
  bson::Document unchanged_since_read(bson::DocumentView document, bson::DocumentView update) const {
    std::set<std::string> fields;
    for (const auto& op : update) {
      if (op.type() != bson::Type::document) continue;
      for (const auto& field : op.as_document()) {
        fields.insert(std::string(field.key().substr(0, field.key().find('.'))));
        if (op.key() == "$rename" && field.type() == bson::Type::string) {
          std::string_view target = field.as_string();
          fields.insert(std::string(target.substr(0, target.find('.'))));
        }
      }
    }
    bson::Builder filter;
    filter.append("_id", document["_id"]);
    for (const std::string& field : fields) {
      if (field == "_id") continue;
      if (auto value = document.find(field)) {
        filter.append(field, [&](bson::Builder& f) { f.append("$eq", *value); });
      } else {
        filter.append(field, [](bson::Builder& f) { f.append("$exists", false); });
      }
    }
    return filter.extract();
  }

  // The rewrite (see CollectionRewrite): copy, transformed, into the new collection, in batches
  // resumed from their checkpoints, then swap it in.
  OperationStats rewrite(const StepContext& context) const {
    detail::CollectionRewrite rewriting(context, *this, collection_);
    OperationStats stats{name()};
    if (rewriting.finish_interrupted_swap()) return stats;
    Collection shadow = rewriting.begin();
    Collection source = context.database.collection(collection_);
    const std::string operation = name();
    auto copy = [&](bool transform) {
      return [&, transform](const std::vector<bson::Document>& batch, BulkWrite&) {
        std::vector<bson::Document> documents;
        documents.reserve(batch.size());
        for (const bson::Document& document : batch) {
          std::optional<bson::Document> update = transform ? changed(document) : std::nullopt;
          if (update) {
            try {
              documents.push_back(detail::apply_update(document, *update, operation));
            } catch (const InvalidRequestError& e) {
              // The _id is rendered only for the error, not for every document copied.
              throw InvalidRequestError(operation + ", _id " + shown(document["_id"]) + std::string(e.what()).substr(operation.size()));
            }
            ++stats.modified;
          } else {
            documents.push_back(document);
          }
        }
        detail::insert_keeping_existing(shadow, documents);
      };
    };
    detail::BatchLoop copying{.leaves_source_alone = true};
    auto totals = detail::for_each_batch(context, source, filter_, name() + " (rewrite)", copy(true), copying);
    stats.matched = totals.matched;
    if (!filter_.empty()) {
      bson::Document rest = bson::Builder{}.append("$nor", [&](bson::ArrayBuilder& list) { list.append(filter_.view()); }).extract();
      detail::for_each_batch(context, source, rest, name() + " (rewrite, unchanged)", copy(false), copying);
    }
    stats.backed_up = rewriting.swap_in(0);
    return stats;
  }

  // Puts the original collection back; documents added since the rewrite are carried over.
  OperationStats unrewrite(const StepContext& context) const {
    auto totals = detail::CollectionRewrite(context, *this, collection_).undo("undo " + name());
    return {"undo " + name(), totals.matched, totals.inserted};
  }

  std::string collection_;
  bson::Document filter_;
  UpdateTransform change_;
  TransformOptions options_;
};

class DedupeForUnique final : public Operation {
 public:
  DedupeForUnique(std::string collection, bson::Document keys, DedupeOptions options)
      : collection_(std::move(collection)), keys_(std::move(keys)), options_(std::move(options)) {
    detail::check_collection_name(collection_, "dedupe_for_unique");
    if (keys_.empty()) throw InvalidRequestError("dedupe_for_unique " + collection_ + ": no keys");
    for (const auto& key : keys_) detail::check_path(key.key(), "dedupe_for_unique " + collection_);
    bool by_field = options_.keep == Keep::highest || options_.keep == Keep::lowest;
    if (by_field) detail::check_path(options_.by, "dedupe_for_unique " + collection_ + " (by)");
    if (options_.quarantine_collection.empty()) options_.quarantine_collection = collection_ + "_quarantine";
    detail::check_quarantine_name(options_.quarantine_collection, collection_, "dedupe_for_unique");
    if (options_.index_name.empty()) options_.index_name = default_index_name(keys_);
    index_ = create_index(collection_, bson::Document(keys_),
                          bson::Builder{}.append("unique", true).append("name", options_.index_name).extract());
  }
  std::string name() const override { return "dedupe_for_unique " + collection_ + "." + options_.index_name; }

  Estimate estimate(const StepContext& context) const override {
    Estimate e{name()};
    int64_t groups = 0;
    for_each_group(context, false, [&](std::vector<bson::Document>& group) {
      ++groups;
      e.documents += static_cast<int64_t>(group.size()) - 1;
    });
    e.batches = detail::batches_for(context, e.documents) + 1;
    if (e.documents > 0) {
      e.notes.push_back(std::to_string(e.documents) + " duplicates in " + std::to_string(groups) + " groups would move to " +
                        options_.quarantine_collection + ", then the unique index is created");
    }
    if (rewrites(context)) {
      detail::CollectionRewrite rewriting(context, *this, collection_);
      e.batches = detail::batches_for(context, context.database.collection(collection_).estimated_document_count()) + 1;
      e.notes.push_back("rewrites the collection without the duplicates into " + rewriting.new_name() +
                        " and swaps it in with the unique index; the original is kept as " + rewriting.backup_name() +
                        "; the application must not write to " + collection_ + " meanwhile");
    }
    return e;
  }
  OperationStats apply(const StepContext& context) const override {
    if (rewrites(context)) return rewrite(context);
    Collection target = context.database.collection(collection_);
    detail::Quarantine quarantine(context, *this, options_.quarantine_collection);
    OperationStats stats{name()};
    std::vector<std::pair<bson::Document, std::string>> pending;  // (_id filter, reason)
    auto flush = [&] {
      if (pending.empty()) return;
      bson::Document in = bson::Builder{}.append("_id", [&](bson::Builder& f) {
        f.append("$in", [&](bson::ArrayBuilder& ids) {
          for (const auto& entry : pending) ids.append(entry.first["_id"]);
        });
      }).extract();
      std::map<std::string, std::string> reasons;
      for (const auto& [id, reason] : pending) reasons[shown(id["_id"])] = reason;
      std::vector<std::pair<bson::Document, std::string>> documents;
      for (bson::DocumentView document : target.find(in)) {
        documents.emplace_back(bson::Document(document), reasons[shown(document["_id"])]);
      }
      stats.quarantined += quarantine.move(target, documents);
      pending.clear();
    };
    for_each_group(context, false, [&](std::vector<bson::Document>& group) {
      stats.matched += static_cast<int64_t>(group.size());
      std::string reason = "duplicate of _id " + shown(group.front()["_id"]) + " under the unique index " + options_.index_name;
      for (std::size_t i = 1; i < group.size(); ++i) {
        pending.emplace_back(detail::id_of(group[i]), reason);
        if (static_cast<int32_t>(pending.size()) >= context.batch.size) flush();
      }
    });
    flush();
    OperationStats created = index_->apply(context);
    stats.modified = stats.quarantined + created.modified;
    return stats;
  }
  OperationStats revert(const StepContext& context) const override {
    // Undone the way it was applied: a rewrite leaves its new collection or the original kept
    // as the backup (a dedupe applied in place, say by an earlier version whose default
    // differed, is undone in place whatever the strategy now).
    detail::CollectionRewrite rewriting(context, *this, collection_);
    if (rewrites(context) && rewriting.begun()) {
      // A rewrite deletes nothing, so the quarantine holds copies: its records go first, then
      // the original comes back whole (without the unique index). An interrupted undo is
      // finished: each part does nothing when done already.
      int64_t forgotten = detail::Quarantine(context, *this, options_.quarantine_collection).discard();
      auto totals = rewriting.undo("undo " + name());
      return {"undo " + name(), forgotten, forgotten + totals.inserted};
    }
    Collection target = context.database.collection(collection_);
    OperationStats dropped = index_->revert(context);
    detail::Quarantine quarantine(context, *this, options_.quarantine_collection);
    auto returned = quarantine.restore(context, target, "undo " + name());
    return {"undo " + name(), returned.matched, returned.deleted + dropped.modified};
  }

  std::string collection() const override { return collection_; }
  std::vector<std::string> collections() const override { return {collection_, options_.quarantine_collection}; }
  bool copies_documents() const override { return true; }

  bool transactional() const override { return false; }

 private:
  bool rewrites(const StepContext& context) const {
    switch (options_.strategy) {
      case TransformStrategy::in_place: return false;
      case TransformStrategy::rewrite: return true;
      case TransformStrategy::automatic: return !context.capabilities.indexed_id_updates;
    }
    return false;
  }

  // The rewrite (see CollectionRewrite): one pass over the whole documents sorted by the keys;
  // the one to keep of each group goes to the new collection, the others to the quarantine
  // (recorded, left in the original); then the new collection is swapped in with the index.
  // Nothing is deleted, so a server that scans for every delete by _id is never asked to.
  OperationStats rewrite(const StepContext& context) const {
    detail::CollectionRewrite rewriting(context, *this, collection_);
    OperationStats stats{name()};
    if (rewriting.finish_interrupted_swap()) return stats;
    Collection copy = rewriting.begin();
    detail::Quarantine quarantine(context, *this, options_.quarantine_collection);
    std::vector<bson::Document> kept;
    std::vector<std::pair<bson::Document, std::string>> duplicates;
    auto flush = [&] {
      detail::insert_keeping_existing(copy, kept);
      quarantine.keep(duplicates);
      kept.clear();
      duplicates.clear();
    };
    for_each_group(context, true, [&](std::vector<bson::Document>& group) {
      if (group.size() > 1) {
        stats.matched += static_cast<int64_t>(group.size());
        std::string reason = "duplicate of _id " + shown(group.front()["_id"]) + " under the unique index " + options_.index_name;
        for (std::size_t i = 1; i < group.size(); ++i) duplicates.emplace_back(std::move(group[i]), reason);
      }
      kept.push_back(std::move(group.front()));
      if (static_cast<int32_t>(kept.size() + duplicates.size()) >= context.batch.size) flush();
    });
    flush();
    stats.quarantined = quarantine.count();
    IndexModel unique{bson::Document(keys_), bson::Builder{}.append("unique", true).append("name", options_.index_name).extract()};
    stats.backed_up = rewriting.swap_in(stats.quarantined, {unique});
    stats.modified = stats.quarantined + 1;
    return stats;
  }

  // Every group of documents sharing the keys, the one to keep first (see
  // detail::for_each_key_group), with progress told every batch: only the duplicates, read with
  // the keys, or with `whole` every group of whole documents.
  void for_each_group(const StepContext& context, bool whole, const std::function<void(std::vector<bson::Document>&)>& fn) const {
    Collection target = context.database.collection(collection_);
    Progress progress{name() + " (finding duplicates)", 0, -1, {}};
    auto started = std::chrono::steady_clock::now();
    std::function<void(int64_t)> told;
    if (context.progress) {
      progress.total = target.estimated_document_count();
      told = [&](int64_t read) {
        progress.done = read;
        progress.elapsed = std::chrono::steady_clock::now() - started;
        context.progress(progress);
      };
    }
    auto keeping_first = [&](std::vector<bson::Document>& group) {
      sort_for_keeping(group);
      fn(group);
    };
    if (whole) {
      detail::for_each_key_group(target, keys_, std::nullopt, context.batch.size, told, keeping_first);
      return;
    }
    std::vector<std::string> also;
    if (!options_.by.empty()) also.push_back(options_.by);
    detail::for_each_duplicate_group(target, keys_, also, context.batch.size, told, keeping_first);
  }

  void sort_for_keeping(std::vector<bson::Document>& members) const {
    auto id_less = [](const bson::Document& a, const bson::Document& b) { return detail::compare_values(a["_id"], b["_id"]) < 0; };
    auto by_less = [&](const bson::Document& a, const bson::Document& b) {
      auto x = a.find_path(options_.by), y = b.find_path(options_.by);
      if (!x || !y) return !x && y;
      return detail::compare_values(*x, *y) < 0;
    };
    std::sort(members.begin(), members.end(), id_less);
    switch (options_.keep) {
      case Keep::first: break;
      case Keep::last: std::reverse(members.begin(), members.end()); break;
      case Keep::highest: std::stable_sort(members.begin(), members.end(), [&](auto& a, auto& b) { return by_less(b, a); }); break;
      case Keep::lowest: std::stable_sort(members.begin(), members.end(), by_less); break;
    }
  }
  std::string collection_;
  bson::Document keys_;
  DedupeOptions options_;
  Step index_;
};

}  // namespace

Step convert_type(std::string collection, std::string path, bson::Type target, ConvertOptions options) {
  return std::make_shared<ConvertType>(std::move(collection), std::move(path), target, std::move(options));
}

Step normalize_string(std::string collection, std::string path, NormalizeOptions options) {
  return std::make_shared<NormalizeString>(std::move(collection), std::move(path), options);
}

Step split_field(std::string collection, std::string from, std::string first, std::string second, std::string separator) {
  return std::make_shared<SplitMerge>(true, std::move(collection), std::move(from), std::move(first), std::move(second),
                                      std::move(separator));
}

Step merge_fields(std::string collection, std::string first, std::string second, std::string into, std::string separator) {
  return std::make_shared<SplitMerge>(false, std::move(collection), std::move(into), std::move(first), std::move(second),
                                      std::move(separator));
}

Step transform(std::string collection, bson::Document filter, UpdateTransform change, TransformOptions options) {
  return std::make_shared<Transform>(std::move(collection), std::move(filter), std::move(change), std::move(options));
}

Step dedupe_for_unique(std::string collection, bson::Document keys, DedupeOptions options) {
  return std::make_shared<DedupeForUnique>(std::move(collection), std::move(keys), std::move(options));
}

}  // namespace mongo_orm::migrate::ops
