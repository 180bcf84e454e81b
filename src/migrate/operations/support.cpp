// The batched loop, backups and quarantine under the built-in operations.
#include "support.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/driver/capabilities.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/migrate/checkpoint.hpp"
#include "mongo_orm/model/typed_collection.hpp"

namespace mongo_orm::migrate {

double Progress::rate() const noexcept {
  double seconds = std::chrono::duration<double>(elapsed).count();
  return seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
}

std::optional<std::chrono::seconds> Progress::eta() const noexcept {
  double per_second = rate();
  if (total < 0 || per_second <= 0) return std::nullopt;
  return std::chrono::seconds(static_cast<int64_t>(static_cast<double>(std::max<int64_t>(total - done, 0)) / per_second));
}

bool is_transient(const std::exception& error) noexcept {
  if (dynamic_cast<const ConnectionError*>(&error)) return true;
  const auto* command = dynamic_cast<const CommandError*>(&error);
  if (!command) return false;
  for (const std::string& label : command->labels()) {
    if (label == "RetryableWriteError" || label == "TransientTransactionError") return true;
  }
  static constexpr int32_t transient_codes[] = {6,     7,     89,    91,    189,   262,  9001,
                                                10107, 11600, 11602, 13435, 13436, 50};
  if (std::find(std::begin(transient_codes), std::end(transient_codes), command->code()) != std::end(transient_codes)) {
    return true;
  }
  // FerretDB stopping answers a command it was running with code 1 and "context canceled" where
  // MongoDB answers InterruptedAtShutdown (11600): the command was cut short, not refused.
  constexpr int32_t internal_error = 1;
  return command->code() == internal_error && std::string_view(command->what()).find("context canceled") != std::string_view::npos;
}

std::string StepContext::backup_collection(const Operation& operation) const {
  return backup_collection_name(migration, operation.name());
}

std::string backup_collection_name(std::string_view version, std::string_view operation) {
  auto plain = [](std::string text) {
    for (char& c : text) {
      bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      if (!keep) c = '_';
    }
    return text;
  };
  // No dots: FerretDB cannot rename a collection whose name has one.
  return "_mongo_orm_backup__" + plain(std::string(version)) + "__" + plain(std::string(operation));
}

namespace detail {

void check_path(std::string_view path, std::string_view where) {
  auto refuse = [&](const std::string& why) {
    throw InvalidRequestError(std::string(where) + ": field path '" + printable(path) + "' " + why);
  };
  if (path.empty()) refuse("is empty");
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    std::string_view segment = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (segment.empty()) refuse("has an empty segment");
    if (segment.front() == '$') refuse("has a segment starting with '$' (an operator, not a field)");
    if (segment.find('\0') != std::string_view::npos) refuse("contains a NUL byte");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
}

void check_collection_name(std::string_view name, std::string_view where) {
  if (name.empty()) throw InvalidRequestError(std::string(where) + ": the collection name is empty");
  if (name.find('$') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    throw InvalidRequestError(std::string(where) + ": collection name '" + printable(name) +
                              "' contains '$' or a NUL byte");
  }
  // The changelog, the lock, the backups (all "_mongo_orm_...") and the quarantines hold what
  // the runner and the undos rely on: a migration changing them would change history.
  if (name.starts_with("_mongo_orm_") || name.ends_with("_quarantine")) {
    throw InvalidRequestError(std::string(where) + ": collection '" + std::string(name) +
                              "' belongs to mongo_orm (its changelog, lock, a backup or a quarantine): "
                              "migrations may not change it");
  }
}

void check_quarantine_name(std::string_view name, std::string_view collection, std::string_view where) {
  std::string at = std::string(where) + " " + std::string(collection);
  if (name.empty() || name.find('$') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    throw InvalidRequestError(at + ": quarantine collection name '" + printable(name) + "' is empty or contains '$' or a NUL byte");
  }
  if (name == collection) {
    throw InvalidRequestError(at + ": the quarantine collection must not be the collection itself");
  }
  if (name.starts_with("_mongo_orm_")) {
    throw InvalidRequestError(at + ": quarantine collection '" + std::string(name) +
                              "' belongs to mongo_orm (its changelog, lock or a backup)");
  }
}

void check_literal(bson::DocumentView value, std::string_view where, const std::string& path, bool is_array) {
  for (bson::Element e : value) {
    std::string here = path + (is_array ? "[" + std::string(e.key()) + "]" : "." + std::string(e.key()));
    if (!is_array && e.key().starts_with("$")) {
      throw InvalidRequestError(std::string(where) + ": the value at '" + here + "' has the key '" + printable(e.key()) +
                                "', which the server would read as an operator; values are stored as given, "
                                "so a key may not start with '$'");
    }
    if (e.type() == bson::Type::document) check_literal(e.as_document(), where, here, false);
    if (e.type() == bson::Type::array) check_literal(e.as_array(), where, here, true);
  }
}

std::size_t max_value_bytes() {
  constexpr std::size_t room = 1024;  // the command, the filter, the _id around the value
  return static_cast<std::size_t>(Capabilities{}.max_bson_object_size) - room;
}

void check_value_size(std::size_t size, std::string_view where, std::string_view what) {
  if (size <= max_value_bytes()) return;
  throw InvalidRequestError(std::string(where) + ": " + std::string(what) + " is " + std::to_string(size) +
                            " bytes of BSON; MongoDB documents hold at most 16 MiB, so a value may take at most " +
                            std::to_string(max_value_bytes()));
}

void check_literal(const bson::Value& value, std::string_view where, const std::string& path) {
  bson::Element e = value.get();
  check_value_size(e.value_bytes().size(), where, "the value at '" + path + "'");
  if (e.type() == bson::Type::document) check_literal(e.as_document(), where, path, false);
  if (e.type() == bson::Type::array) check_literal(e.as_array(), where, path, true);
}

bson::Document both(bson::DocumentView a, bson::DocumentView b) {
  if (a.empty()) return bson::Document(b);
  if (b.empty()) return bson::Document(a);
  return bson::Builder{}.append("$and", [&](bson::ArrayBuilder& list) { list.append(a).append(b); }).extract();
}

bson::Document exists(std::string_view path, bool exists) {
  return bson::Builder{}.append(path, [&](bson::Builder& f) { f.append("$exists", exists); }).extract();
}

bson::Document by_id(const bson::Element& id) { return bson::Builder{}.append("_id", id).extract(); }

bson::Document id_of(bson::DocumentView document) {
  auto id = document.find("_id");
  if (!id) throw InvalidRequestError("a document without an _id cannot be migrated: " + bson::to_relaxed_json(document));
  return by_id(*id);
}

namespace {
// Runs `attempt`, trying again after transient errors as the batch options allow.
template <class F>
auto with_retries(const StepContext& context, const std::string& label, F&& attempt) {
  auto delay = context.batch.retry_delay;
  for (int32_t tried = 0;; ++tried) {
    try {
      return attempt();
    } catch (const std::exception& e) {
      if (!is_transient(e) || tried >= context.batch.retries) {
        if (tried == 0 || !is_transient(e)) throw;
        throw MigrationError(label + ": gave up after " + std::to_string(tried + 1) + " attempts: " + e.what());
      }
    }
    std::this_thread::sleep_for(delay);
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(5));
  }
}

// How many batches a keyset page holds, where pages are used (fewer, larger reads: each one
// may scan the collection on servers that cannot use the _id index for a range).
constexpr int64_t pages_per_read = 10;

void throttle(const StepContext& context, int64_t done, std::chrono::steady_clock::time_point started) {
  if (context.batch.max_per_second > 0) {
    auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(done) / context.batch.max_per_second));
    std::this_thread::sleep_until(due);
  }
  if (context.batch.pause.count() > 0) std::this_thread::sleep_for(context.batch.pause);
}
}  // namespace

std::string id_bytes(const bson::Element& id) {
  bson::Document holder = bson::Builder{}.append("", id).extract();
  return std::string(reinterpret_cast<const char*>(holder.view().data()), holder.view().length());
}

namespace {

bson::Document after_id(bson::DocumentView filter, const bson::Value& last) {
  return both(filter, bson::Builder{}.append("_id", [&](bson::Builder& f) { f.append("$gt", last); }).extract());
}
}  // namespace

BatchTotals for_each_batch(const StepContext& context, const Collection& collection, bson::DocumentView filter,
                           const std::string& label, const BatchFill& fill, const BatchLoop& loop) {
  if (context.batch.size <= 0) throw InvalidRequestError(label + ": the batch size must be positive");
  const FindOptions& read = loop.read;
  const Collection* write_to = loop.write_to;
  bool journaled = !loop.leaves_source_alone && !write_to;
  BatchTotals totals;

  // Where an interrupted run left this loop.
  std::string key;
  Checkpoint checkpoint{label};
  if (context.checkpoints) {
    key = context.checkpoints->next_loop_key();
    if (auto resumed = context.checkpoints->resumed(key, label)) checkpoint = std::move(*resumed);
  }
  if (checkpoint.done) {
    totals.matched = checkpoint.processed;
    return totals;
  }
  auto save = [&] {
    if (context.checkpoints) with_retries(context, label, [&] { context.checkpoints->save(key, checkpoint); });
  };
  // Of documents read as `batch` (in _id order) and possibly written since, those still as they
  // were read: a write the server applied before a failure or a kill is not applied again.
  auto still_as_read = [&](const std::vector<bson::Value>& ids, const std::vector<int64_t>& hashes) {
    std::map<std::string, int64_t> expected;
    for (std::size_t i = 0; i < ids.size(); ++i) expected.emplace(id_bytes(ids[i].get()), hashes[i]);
    bson::Document in = bson::Builder{}.append("_id", [&](bson::Builder& f) {
      f.append("$in", [&](bson::ArrayBuilder& list) {
        for (const bson::Value& id : ids) list.append(id);
      });
    }).extract();
    FindOptions options = read;
    options.sort = bson::Builder{}.append("_id", 1).extract();
    options.limit = 0;
    std::vector<bson::Document> unchanged;
    for (bson::DocumentView document : collection.find(both(filter, in), options)) {
      auto it = expected.find(id_bytes(document["_id"]));
      if (it != expected.end() && it->second == content_hash(document)) unchanged.emplace_back(document);
    }
    return unchanged;
  };

  auto started = std::chrono::steady_clock::now();
  Progress progress{label, checkpoint.processed, -1, {}};
  bool report = static_cast<bool>(context.progress);
  if (report) {
    progress.total = checkpoint.processed +
                     collection.count_documents(checkpoint.last_id ? after_id(filter, *checkpoint.last_id)
                                                                   : bson::Document(filter));
    report = progress.total > 0;  // nothing to do: nothing to show
    if (report) context.progress(progress);
  }
  std::vector<bson::Document> batch;
  batch.reserve(static_cast<std::size_t>(context.batch.size));
  int64_t read_now = 0;  // documents read by this run (for the rate limit)

  auto write = [&](const std::vector<bson::Document>& documents) -> std::optional<BulkWriteResult> {
    BulkWrite writes = (write_to ? *write_to : collection).bulk_write(false);
    fill(documents, writes);
    if (writes.empty()) return std::nullopt;
    return writes.execute();
  };
  auto flush = [&] {
    if (batch.empty()) return;
    // A journaled loop saves the pre-images to the checkpoint before anything is written.
    if (journaled) {
      checkpoint.pending_ids.clear();
      checkpoint.pending_hashes.clear();
      for (const bson::Document& document : batch) {
        checkpoint.pending_ids.emplace_back(document["_id"]);
        checkpoint.pending_hashes.push_back(content_hash(document));
      }
      save();
    }
    // A bulk write runs once, so every attempt fills a new one; an attempt after a failure
    // writes only the documents the failed one did not change (all of them again when the
    // loop leaves its source alone).
    int attempts = 0;
    std::optional<BulkWriteResult> sent = with_retries(context, label, [&]() -> std::optional<BulkWriteResult> {
      if (attempts++ == 0 || !journaled) return write(batch);
      return write(still_as_read(checkpoint.pending_ids, checkpoint.pending_hashes));
    });
    if (journaled && attempts > 1) {
      // The failed attempts may have changed documents before they failed, and the last one
      // counts only what it changed: what the batch changed is every document no longer as read.
      int64_t unchanged = static_cast<int64_t>(
          with_retries(context, label, [&] { return still_as_read(checkpoint.pending_ids, checkpoint.pending_hashes); }).size());
      totals.modified += static_cast<int64_t>(batch.size()) - unchanged;
      ++totals.batches;
    } else if (sent) {
      const BulkWriteResult& result = *sent;
      totals.modified += result.modified_count + result.upserted_count;
      totals.inserted += result.inserted_count;
      totals.deleted += result.deleted_count;
      ++totals.batches;
    }
    totals.matched += static_cast<int64_t>(batch.size());
    read_now += static_cast<int64_t>(batch.size());
    checkpoint.processed += static_cast<int64_t>(batch.size());
    checkpoint.last_id = bson::Value(batch.back()["_id"]);
    batch.clear();
    if (!journaled) save();
    if (report) {
      progress.done = checkpoint.processed;
      progress.elapsed = std::chrono::steady_clock::now() - started;
      context.progress(progress);
    }
    throttle(context, read_now, started);
  };
  auto take = [&](bson::DocumentView document) {
    batch.emplace_back(document);
    if (static_cast<int32_t>(batch.size()) >= context.batch.size) flush();
  };

  // The batch an interrupted run was writing: only its documents still as they were read.
  if (!checkpoint.pending_ids.empty()) {
    std::vector<bson::Value> ids = std::move(checkpoint.pending_ids);
    std::vector<int64_t> hashes = std::move(checkpoint.pending_hashes);
    int64_t skipped = static_cast<int64_t>(ids.size());
    for (bson::Document& document : with_retries(context, label, [&] { return still_as_read(ids, hashes); })) {
      batch.push_back(std::move(document));
    }
    skipped -= static_cast<int64_t>(batch.size());
    flush();
    totals.matched += skipped;
    checkpoint.processed += skipped;
    checkpoint.last_id = ids.back();
  }

  FindOptions options = read;
  options.sort = bson::Builder{}.append("_id", 1).extract();
  std::optional<bson::Value> last = checkpoint.last_id;
  if (context.capabilities.writes_beside_open_cursors) {
    // One cursor in _id order for the whole collection.
    options.batch_size = context.batch.size;
    Cursor cursor = collection.find(last ? after_id(filter, *last) : bson::Document(filter), options);
    while (auto document = cursor.next()) take(*document);
  } else {
    // Keyset pages: every page is read to its end (its cursor closed) before anything is
    // written, and the next one starts after the last _id seen, so documents changed or added
    // meanwhile are neither skipped nor read twice.
    int64_t page = static_cast<int64_t>(context.batch.size) * pages_per_read;
    options.limit = page;
    options.batch_size = static_cast<int32_t>(std::min<int64_t>(page, INT32_MAX));
    while (true) {
      bson::Document page_filter = last ? after_id(filter, *last) : bson::Document(filter);
      std::vector<bson::Document> documents = with_retries(context, label, [&] {
        std::vector<bson::Document> page_documents;
        for (bson::DocumentView document : collection.find(page_filter, options)) page_documents.emplace_back(document);
        return page_documents;
      });
      if (documents.empty()) break;
      last = bson::Value(documents.back()["_id"]);
      for (const bson::Document& document : documents) take(document);
      if (static_cast<int64_t>(documents.size()) < page) break;
    }
  }
  flush();
  checkpoint.done = true;
  checkpoint.pending_ids.clear();
  checkpoint.pending_hashes.clear();
  save();
  return totals;
}

namespace {
// One level of an update: for each field name at this level, either the whole new value
// ($set), its removal ($unset), or the changes below it.
struct Changes {
  std::optional<bson::Value> set;
  bool unset = false;
  std::map<std::string, Changes> below;
  std::vector<std::string> order;  // names in the order first seen, for fields $set adds
};

void add_change(Changes& level, std::string_view path, const bson::Element* value, const std::string& where,
                std::string_view whole) {
  std::size_t dot = path.find('.');
  std::string name(path.substr(0, dot));
  if (name.empty()) throw InvalidRequestError(where + ": empty segment in field path '" + std::string(whole) + "'");
  auto [it, added] = level.below.try_emplace(name);
  if (added) level.order.push_back(name);
  Changes& child = it->second;
  if (dot == std::string_view::npos) {
    if (child.set || child.unset || !child.below.empty()) {
      throw InvalidRequestError(where + ": field path '" + std::string(whole) + "' is changed twice in one update");
    }
    if (value) child.set = bson::Value(*value);
    else child.unset = true;
    return;
  }
  if (child.set || child.unset) {
    throw InvalidRequestError(where + ": field path '" + std::string(whole) + "' is changed twice in one update");
  }
  add_change(child, path.substr(dot + 1), value, where, whole);
}

// Whether any change below this level sets a value (an $unset alone creates nothing).
bool sets_below(const Changes& changes) {
  for (const auto& [_, below] : changes.below) {
    if (below.set || sets_below(below)) return true;
  }
  return false;
}

void build_level(bson::Builder& out, bson::DocumentView original, const Changes& changes, const std::string& where,
                 const std::string& prefix) {
  std::set<std::string> seen;
  for (const auto& element : original) {
    std::string key(element.key());
    auto it = changes.below.find(key);
    if (it == changes.below.end()) {
      out.append(key, element);
      continue;
    }
    seen.insert(key);
    const Changes& change = it->second;
    if (change.unset) continue;
    if (change.set) {
      out.append(key, *change.set);
      continue;
    }
    if (element.type() == bson::Type::array) {
      throw InvalidRequestError(where + ": field path '" + prefix + key + ".…' goes through an array, which the rewrite strategy does not follow; use the in_place strategy");
    }
    if (element.type() != bson::Type::document) {
      if (sets_below(change)) {
        throw InvalidRequestError(where + ": cannot set a field below '" + prefix + key + "', which holds a value that is not a document");
      }
      out.append(key, element);
      continue;
    }
    out.append(key, [&](bson::Builder& nested) { build_level(nested, element.as_document(), change, where, prefix + key + "."); });
  }
  for (const std::string& key : changes.order) {
    if (seen.count(key)) continue;
    const Changes& change = changes.below.at(key);
    if (change.unset) continue;
    if (change.set) {
      out.append(key, *change.set);
      continue;
    }
    if (sets_below(change)) out.append(key, [&](bson::Builder& nested) { build_level(nested, bson::DocumentView(), change, where, prefix + key + "."); });
  }
}
// {"": current + by}, as $inc computes it: int32 grows to int64 on overflow, a double makes a
// double, a missing field takes `by`.
bson::Document incremented(const std::optional<bson::Element>& current, const bson::Element& by, const std::string& where) {
  if (!by.number()) {
    throw InvalidRequestError(where + ": $inc of '" + std::string(by.key()) + "' by a value that is not a number");
  }
  bson::Builder out;
  if (!current) {
    out.append("", by);
    return out.extract();
  }
  if (!current->number()) {
    throw InvalidRequestError(where + ": $inc of '" + std::string(by.key()) + "', which holds a value that is not a number");
  }
  auto as_int64 = [](const bson::Element& e) { return e.type() == bson::Type::int32 ? e.as_int32() : e.as_int64(); };
  if (current->type() == bson::Type::double_ || by.type() == bson::Type::double_) {
    out.append("", *current->number() + *by.number());
  } else {
    int64_t sum = 0;
    if (__builtin_add_overflow(as_int64(*current), as_int64(by), &sum)) {
      throw InvalidRequestError(where + ": $inc of '" + std::string(by.key()) + "' overflows a 64-bit integer");
    }
    bool small = current->type() == bson::Type::int32 && by.type() == bson::Type::int32 && sum >= INT32_MIN && sum <= INT32_MAX;
    if (small) out.append("", static_cast<int32_t>(sum));
    else out.append("", sum);
  }
  return out.extract();
}
}  // namespace

bson::Document apply_update(bson::DocumentView document, bson::DocumentView update, const std::string& where) {
  Changes root;
  std::vector<bson::Document> sums;  // the values $inc computes, alive until the changes are applied
  for (const auto& op : update) {
    std::string_view kind = op.key();
    if (kind != "$set" && kind != "$unset" && kind != "$inc") {
      throw InvalidRequestError(where + ": the rewrite strategy applies $set, $unset and $inc, not " + std::string(kind) +
                                "; use the in_place strategy");
    }
    if (op.type() != bson::Type::document) throw InvalidRequestError(where + ": " + std::string(kind) + " takes a document");
    for (const auto& field : op.as_document()) {
      check_path(field.key(), where);
      if (field.key() == "_id" || field.key().starts_with("_id.")) {
        throw InvalidRequestError(where + ": the _id cannot be changed");
      }
      if (kind == "$unset") {
        add_change(root, field.key(), nullptr, where, field.key());
      } else if (kind == "$set") {
        add_change(root, field.key(), &field, where, field.key());
      } else {
        sums.push_back(incremented(document.find_path(field.key()), field, where));
        bson::Element sum = *sums.back().view().find("");
        add_change(root, field.key(), &sum, where, field.key());
      }
    }
  }
  bson::Builder out;
  build_level(out, document, root, where, "");
  return out.extract();
}

int64_t batches_for(const StepContext& context, int64_t documents) {
  int64_t size = std::max<int64_t>(context.batch.size, 1);
  return (documents + size - 1) / size;
}

std::vector<bool> insert_reporting(const Collection& target, const std::vector<bson::Document>& documents) {
  std::vector<bool> inserted(documents.size(), true);
  if (documents.empty()) return inserted;
  BulkWrite writes = target.bulk_write(false);
  for (const bson::Document& document : documents) writes.insert_one(document);
  try {
    writes.execute();
  } catch (const BulkWriteError& e) {
    bool only_duplicates = !e.write_concern_error() &&
                           std::all_of(e.write_errors().begin(), e.write_errors().end(),
                                       [](const WriteError& w) { return w.is_duplicate_key(); });
    if (!only_duplicates) throw;
    for (const WriteError& w : e.write_errors()) inserted.at(w.index) = false;
  }
  return inserted;
}

LeftAlone left_alone(const Collection& collection, bson::DocumentView filter) {
  LeftAlone found{collection.count_documents(filter), {}};
  if (found.count == 0) return found;
  FindOptions read{.projection = bson::Builder{}.append("_id", 1).extract(), .limit = 5};
  for (bson::DocumentView document : collection.find(filter, read)) {
    found.examples += (found.examples.empty() ? "_id " : ", _id ") + model::detail::describe_id(document);
  }
  return found;
}

int64_t insert_keeping_existing(const Collection& target, const std::vector<bson::Document>& documents) {
  auto inserted = insert_reporting(target, documents);
  return std::count(inserted.begin(), inserted.end(), true);
}

Backup::Backup(const StepContext& context, const Operation& operation)
    : database_(context.database),
      backup_(context.database.collection(context.backup_collection(operation))),
      after_commit_(context.after_commit) {}

void Backup::drop() const {
  if (!after_commit_) {
    backup_.drop();
    return;
  }
  // A handle outside the session: by the time it runs, the transaction is over.
  after_commit_->push_back([backup = database_.client().database(database_.name()).collection(backup_.name())] {
    backup.drop();
  });
}

BatchTotals Backup::restore_paths(const StepContext& context, const Collection& target,
                                  const std::vector<std::string>& paths, const std::string& label) const {
  auto fill = [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
    for (const bson::Document& original : batch) {
      bson::Builder set, unset;
      bool any_set = false, any_unset = false;
      std::vector<std::string> removed;  // the outermost parts of paths the original did not have
      for (const std::string& path : paths) {
        if (auto value = original.find_path(path)) {
          set.append(path, *value);
          any_set = true;
          continue;
        }
        std::string absent = path;
        for (std::size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1)) {
          if (!original.find_path(path.substr(0, dot))) {
            absent = path.substr(0, dot);
            break;
          }
        }
        bool covered = std::any_of(removed.begin(), removed.end(), [&](const std::string& r) {
          return absent == r || absent.starts_with(r + ".");
        });
        if (!covered) {
          removed.push_back(absent);
          unset.append(absent, "");
          any_unset = true;
        }
      }
      bson::Builder update;
      if (any_set) update.append("$set", set.view());
      if (any_unset) update.append("$unset", unset.view());
      writes.update_one(id_of(original), update.view());
    }
  };
  return for_each_batch(context, backup_, {}, label, fill, {.write_to = &target});
}

BatchTotals Backup::restore_documents(const StepContext& context, const Collection& target,
                                      const std::string& label) const {
  auto fill = [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
    for (const bson::Document& original : batch) writes.replace_one(id_of(original), original);
  };
  return for_each_batch(context, backup_, {}, label, fill, {.write_to = &target});
}

Quarantine::Quarantine(const StepContext& context, const Operation& operation, std::string collection)
    : context_(context),
      operation_(operation.name()),
      name_(std::move(collection)),
      quarantine_(context.database.collection(name_)) {}

int64_t Quarantine::move(const Collection& source,
                         const std::vector<std::pair<bson::Document, std::string>>& documents) const {
  if (documents.empty()) return 0;
  keep(documents);
  // One statement for the batch: FerretDB 1.x scans the collection once per delete statement.
  bson::Document in = bson::Builder{}.append("_id", [&](bson::Builder& f) {
    f.append("$in", [&](bson::ArrayBuilder& ids) {
      for (const auto& entry : documents) ids.append(entry.first["_id"]);
    });
  }).extract();
  return source.delete_many(in).deleted_count;
}

int64_t Quarantine::keep(const std::vector<std::pair<bson::Document, std::string>>& documents) const {
  if (documents.empty()) return 0;
  std::vector<bson::Document> entries;
  entries.reserve(documents.size());
  auto now = bson::DateTime::now();
  for (const auto& [document, reason] : documents) {
    entries.push_back(bson::Builder{}
                          .append("_id", document["_id"])
                          .append("migration", context_.migration)
                          .append("operation", operation_)
                          .append("reason", reason)
                          .append("quarantined_at", now)
                          .append("document", document.view())
                          .extract());
  }
  return insert_keeping_existing(quarantine_, entries);
}

bson::Document Quarantine::mine() const {
  return bson::Builder{}.append("migration", context_.migration).append("operation", operation_).extract();
}

int64_t Quarantine::count() const { return quarantine_.count_documents(mine()); }

int64_t Quarantine::discard() const {
  int64_t forgotten = quarantine_.delete_many(mine()).deleted_count;
  drop_if_empty();
  return forgotten;
}

void Quarantine::drop_if_empty() const {
  // Emptied, it goes, so that an up and its down leave no collection behind; a handle outside
  // any transaction's session, which by the time it runs is over.
  auto drop = [quarantine = context_.database.client().database(context_.database.name()).collection(name_)] {
    if (quarantine.count_documents({}) == 0) quarantine.drop();
  };
  if (context_.after_commit) {
    context_.after_commit->push_back(drop);
  } else {
    drop();
  }
}

BatchTotals Quarantine::restore(const StepContext& context, const Collection& source, const std::string& label) const {
  BatchTotals totals =
      for_each_batch(context, quarantine_, mine(), label, [&](const std::vector<bson::Document>& batch, BulkWrite& writes) {
        std::vector<bson::Document> originals;
        originals.reserve(batch.size());
        for (const bson::Document& entry : batch) originals.emplace_back(entry["document"].as_document());
        insert_keeping_existing(source, originals);
        // One statement for the batch: FerretDB 1.x scans the collection once per delete statement.
        writes.delete_many(bson::Builder{}.append("_id", [&](bson::Builder& f) {
          f.append("$in", [&](bson::ArrayBuilder& ids) { for (const bson::Document& entry : batch) ids.append(entry["_id"]); });
        }).extract());
      });
  drop_if_empty();
  return totals;
}

int compare_values(const bson::Element& a, const bson::Element& b) {
  if (auto x = a.number(), y = b.number(); x && y) return *x < *y ? -1 : *x > *y ? 1 : 0;
  if (a.type() != b.type()) return static_cast<int>(a.type()) < static_cast<int>(b.type()) ? -1 : 1;
  switch (a.type()) {
    case bson::Type::string: return a.as_string().compare(b.as_string());
    case bson::Type::date_time: {
      int64_t x = a.as_date_time().millis(), y = b.as_date_time().millis();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case bson::Type::object_id: return a.as_object_id().to_hex().compare(b.as_object_id().to_hex());
    default: {
      auto x = a.value_bytes(), y = b.value_bytes();
      if (std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end())) return -1;
      return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin()) ? 0 : 1;
    }
  }
}

namespace {

// Whether two documents hold the same values under `keys`, as a unique index compares them: a
// missing key as null, numbers by value whatever their type (1, 1.0 and 1L are one).
bool same_keys(bson::DocumentView keys, bson::DocumentView a, bson::DocumentView b) {
  for (const auto& k : keys) {
    auto x = a.find_path(k.key()), y = b.find_path(k.key());
    bool x_null = !x || x->type() == bson::Type::null || x->type() == bson::Type::undefined;
    bool y_null = !y || y->type() == bson::Type::null || y->type() == bson::Type::undefined;
    if (x_null || y_null) {
      if (x_null != y_null) return false;
      continue;
    }
    if (compare_values(*x, *y) != 0) return false;
  }
  return true;
}

}  // namespace

void for_each_key_group(const Collection& collection, bson::DocumentView keys, const std::optional<bson::Document>& projection,
                        int32_t batch, const std::function<void(int64_t)>& progress,
                        const std::function<void(std::vector<bson::Document>&)>& fn) {
  bson::Builder order;
  for (const auto& key : keys) order.append(key.key(), 1);
  order.append("_id", 1);
  std::vector<bson::Document> group;
  auto close = [&] {
    if (!group.empty()) fn(group);
    group.clear();
  };
  FindOptions find{.sort = order.extract(), .batch_size = std::max(batch, 1), .allow_disk_use = true};
  if (projection) find.projection = *projection;
  int64_t read = 0;
  for (bson::DocumentView member : collection.find({}, find)) {
    if (!group.empty() && !same_keys(keys, group.front(), member)) close();
    group.emplace_back(member);
    if (progress && ++read % std::max(batch, 1) == 0) progress(read);
  }
  close();
}

void for_each_duplicate_group(const Collection& collection, bson::DocumentView keys, const std::vector<std::string>& fields,
                              int32_t batch, const std::function<void(int64_t)>& progress,
                              const std::function<void(std::vector<bson::Document>&)>& fn) {
  bson::Builder projection;
  projection.append("_id", 1);
  for (const auto& key : keys) projection.append(key.key(), 1);
  for (const std::string& field : fields) {
    if (!keys.contains(field) && field != "_id") projection.append(field, 1);
  }
  for_each_key_group(collection, keys, projection.extract(), batch, progress, [&](std::vector<bson::Document>& group) {
    if (group.size() >= 2) fn(group);
  });
}

IndexModel index_model_from_spec(bson::DocumentView spec) {
  bson::Builder options;
  for (const auto& field : spec) {
    if (field.key() != "key" && field.key() != "v" && field.key() != "ns") options.append(field.key(), field);
  }
  return {bson::Document(spec["key"].as_document()), options.extract()};
}

std::optional<bson::Document> index_with_keys(const Collection& collection, bson::DocumentView keys) {
  for (bson::Document& index : collection.list_indexes()) {
    if (auto key = index.find("key"); key && key->as_document() == keys) return std::move(index);
  }
  return std::nullopt;
}

}  // namespace detail
}  // namespace mongo_orm::migrate
