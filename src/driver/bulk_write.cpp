// Bulk writes over mongoc_bulk_operation_t, with per-statement errors and partial results.
#include "mongo_orm/driver/bulk_write.hpp"

#include <algorithm>

#include "internal.hpp"

namespace mongo_orm {

// Statements go to one mongoc bulk operation, or to several in a row when the server limits
// the update and delete statements of one command (Capabilities::update_statements_per_command).
struct BulkWrite::Handles {
  struct Chunk {
    mongoc_bulk_operation_t* bulk;
    std::size_t first_statement;  // index in the whole bulk write of its first statement
    std::size_t limited = 0;      // its update and delete statements
  };

  Client::Lease lease;  // declared first: returned to the pool last
  mongoc_collection_t* collection;
  std::vector<Chunk> chunks;
  bson::Document opts;
  std::string namespace_name;
  std::string hosts;
  const Capabilities* capabilities;  // owned by the client state the lease keeps alive
  bool ordered;
  bool executed = false;

  Handles(Client::Lease l, mongoc_collection_t* c, bson::Document o, std::string ns, std::string h,
          const Capabilities* caps, bool ord)
      : lease(std::move(l)), collection(c), opts(std::move(o)), namespace_name(std::move(ns)),
        hosts(std::move(h)), capabilities(caps), ordered(ord) {
    start_chunk(0);
  }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
  ~Handles() {
    for (Chunk& chunk : chunks) mongoc_bulk_operation_destroy(chunk.bulk);
    mongoc_collection_destroy(collection);
  }

  void start_chunk(std::size_t first_statement) {
    chunks.push_back({mongoc_collection_create_bulk_operation_with_opts(collection, opts.bson()), first_statement});
  }
  // The bulk operation the next statement goes to.
  mongoc_bulk_operation_t* bulk_for(std::size_t statement, bool limited) {
    int32_t limit = capabilities->update_statements_per_command;
    if (limited && limit > 0 && chunks.back().limited >= static_cast<std::size_t>(limit)) start_chunk(statement);
    if (limited) ++chunks.back().limited;
    return chunks.back().bulk;
  }
};

namespace {

int64_t count(bson::DocumentView reply, std::string_view key) {
  auto e = reply.find(key);
  if (!e) return 0;
  if (e->type() == bson::Type::int32) return e->as_int32();
  if (e->type() == bson::Type::int64) return e->as_int64();
  return 0;
}

WriteError write_error_from(bson::DocumentView doc) {
  WriteError error;
  if (auto i = doc.find("index"); i && i->type() == bson::Type::int32) {
    error.index = static_cast<std::size_t>(i->as_int32());
  }
  if (auto c = doc.find("code"); c && c->type() == bson::Type::int32) error.code = c->as_int32();
  if (auto m = doc.find("errmsg"); m && m->type() == bson::Type::string) {
    error.message = std::string(m->as_string());
  }
  error.details = bson::Document(doc);
  return error;
}

std::vector<WriteError> write_errors_in(bson::DocumentView reply, std::string_view key) {
  std::vector<WriteError> errors;
  auto array = reply.find(key);
  if (!array || array->type() != bson::Type::array) return errors;
  for (bson::Element e : array->as_array()) {
    if (e.type() == bson::Type::document) errors.push_back(write_error_from(e.as_document()));
  }
  return errors;
}

}  // namespace

BulkWrite::BulkWrite(Client::Lease lease, mongoc_collection_t* collection,
                     std::string namespace_name, std::string hosts,
                     const Capabilities& capabilities, bool ordered, bson::DocumentView session_opts) {
  bson::Document opts = bson::Builder{}.append("ordered", ordered).concat(session_opts).extract();
  handles_ = std::make_unique<Handles>(std::move(lease), collection, std::move(opts),
                                       std::move(namespace_name), std::move(hosts), &capabilities,
                                       ordered);
}

BulkWrite::BulkWrite(BulkWrite&&) noexcept = default;
BulkWrite& BulkWrite::operator=(BulkWrite&&) noexcept = default;
BulkWrite::~BulkWrite() = default;

namespace {
void check_added(bool added, const bson_error_t& error, std::size_t index,
                 const std::string& ns) {
  if (!added) {
    throw InvalidRequestError(ns + ": bulk write statement " + std::to_string(index) +
                              " refused: " + error.message);
  }
}
}  // namespace

void BulkWrite::check_payload(bson::DocumentView document) const {
  detail::check_payload(*handles_->capabilities, document, handles_->namespace_name);
}

BulkWrite& BulkWrite::insert_one(bson::DocumentView document) {
  check_payload(document);
  bson_error_t error;
  bool added = false;
  if (auto id = document.find("_id")) {
    bson_t doc = document.as_bson();
    added = mongoc_bulk_operation_insert_with_opts(handles_->bulk_for(statements_, false), &doc, nullptr, &error);
    if (added) inserted_ids_.emplace_back(statements_, id->to_value());
  } else {
    bson::ObjectId new_id = bson::ObjectId::generate();
    bson::Builder with_id;
    with_id.append("_id", new_id).concat(document);
    added = mongoc_bulk_operation_insert_with_opts(handles_->bulk_for(statements_, false), with_id.native(), nullptr,
                                                   &error);
    if (added) inserted_ids_.emplace_back(statements_, with_id.view()["_id"].to_value());
  }
  check_added(added, error, statements_, handles_->namespace_name);
  ++statements_;
  return *this;
}

namespace detail {
// Inserts without keeping the _id for execute()'s result (the encoder knows it), and without
// checking again what the encoder vouched for.
void insert_vouched(BulkWrite& bulk, bson::DocumentView document, Vouched vouched) {
  if (!document.contains("_id")) {
    bulk.insert_one(document);
    return;
  }
  if (!vouched.storable) bulk.check_payload(document);
  static const bson::Document unvalidated = bson::Builder{}.append("validate", false).extract();
  bson_t doc = document.as_bson();
  bson_error_t error;
  bool added = mongoc_bulk_operation_insert_with_opts(bulk.handles_->bulk_for(bulk.statements_, false), &doc,
                                                      vouched.validated ? unvalidated.bson() : nullptr, &error);
  check_added(added, error, bulk.statements_, bulk.handles_->namespace_name);
  ++bulk.statements_;
}
}  // namespace detail

namespace {
bson::Document upsert_opts(bool upsert) {
  return bson::Builder{}.append("upsert", upsert).extract();
}
}  // namespace

BulkWrite& BulkWrite::update_one(bson::DocumentView filter, bson::DocumentView update,
                                 bool upsert) {
  check_payload(filter);
  check_payload(update);
  bson_t f = filter.as_bson(), u = update.as_bson();
  bson_error_t error;
  check_added(mongoc_bulk_operation_update_one_with_opts(handles_->bulk_for(statements_, true), &f, &u,
                                                         upsert_opts(upsert).bson(), &error),
              error, statements_, handles_->namespace_name);
  ++statements_;
  return *this;
}

BulkWrite& BulkWrite::update_many(bson::DocumentView filter, bson::DocumentView update,
                                  bool upsert) {
  check_payload(filter);
  check_payload(update);
  bson_t f = filter.as_bson(), u = update.as_bson();
  bson_error_t error;
  check_added(mongoc_bulk_operation_update_many_with_opts(handles_->bulk_for(statements_, true), &f, &u,
                                                          upsert_opts(upsert).bson(), &error),
              error, statements_, handles_->namespace_name);
  ++statements_;
  return *this;
}

BulkWrite& BulkWrite::replace_one(bson::DocumentView filter, bson::DocumentView replacement,
                                  bool upsert) {
  check_payload(filter);
  check_payload(replacement);
  bson_t f = filter.as_bson(), r = replacement.as_bson();
  bson_error_t error;
  check_added(mongoc_bulk_operation_replace_one_with_opts(handles_->bulk_for(statements_, true), &f, &r,
                                                          upsert_opts(upsert).bson(), &error),
              error, statements_, handles_->namespace_name);
  ++statements_;
  return *this;
}

BulkWrite& BulkWrite::delete_one(bson::DocumentView filter) {
  check_payload(filter);
  bson_t f = filter.as_bson();
  bson_error_t error;
  check_added(mongoc_bulk_operation_remove_one_with_opts(handles_->bulk_for(statements_, true), &f, nullptr, &error),
              error, statements_, handles_->namespace_name);
  ++statements_;
  return *this;
}

BulkWrite& BulkWrite::delete_many(bson::DocumentView filter) {
  check_payload(filter);
  bson_t f = filter.as_bson();
  bson_error_t error;
  check_added(mongoc_bulk_operation_remove_many_with_opts(handles_->bulk_for(statements_, true), &f, nullptr, &error),
              error, statements_, handles_->namespace_name);
  ++statements_;
  return *this;
}

BulkWriteResult BulkWrite::execute() {
  if (handles_->executed) {
    throw InvalidRequestError(handles_->namespace_name + ": a bulk write runs only once");
  }
  handles_->executed = true;
  if (statements_ == 0) return {};

  BulkWriteResult result;
  std::vector<WriteError> errors;
  std::vector<WriteError> concern_errors;
  for (Handles::Chunk& chunk : handles_->chunks) {
    if (handles_->ordered && !errors.empty()) break;  // an ordered bulk stops at its first failure
    if (chunk.first_statement >= statements_) break;  // a chunk that received nothing
    detail::Reply reply;
    bson_error_t error;
    bool ok = mongoc_bulk_operation_execute(chunk.bulk, reply.out(), &error) != 0;
    bson::DocumentView view(&reply.doc);
    result.inserted_count += count(view, "nInserted");
    result.matched_count += count(view, "nMatched");
    result.modified_count += count(view, "nModified");
    result.deleted_count += count(view, "nRemoved");
    result.upserted_count += count(view, "nUpserted");
    if (auto upserted = view.find("upserted"); upserted && upserted->type() == bson::Type::array) {
      for (bson::Element e : upserted->as_array()) {
        bson::DocumentView u = e.as_document();
        result.upserted_ids.emplace_back(chunk.first_statement + static_cast<std::size_t>(count(u, "index")),
                                         u["_id"].to_value());
      }
    }
    std::vector<WriteError> chunk_errors = write_errors_in(view, "writeErrors");
    for (WriteError& e : chunk_errors) {
      e.index += chunk.first_statement;
      errors.push_back(std::move(e));
    }
    for (WriteError& e : write_errors_in(view, "writeConcernErrors")) concern_errors.push_back(std::move(e));
    if (!ok && chunk_errors.empty() && concern_errors.empty()) {
      detail::throw_error(error, &reply.doc, {handles_->namespace_name, handles_->hosts});
    }
  }

  // Inserts that ran: not failed, and in an ordered bulk not after the first failure.
  std::size_t stop = statements_;
  if (handles_->ordered && !errors.empty()) stop = errors.front().index;
  result.inserted_ids.reserve(inserted_ids_.size());
  for (auto& [index, id] : inserted_ids_) {
    bool failed = std::any_of(errors.begin(), errors.end(),
                              [&](const WriteError& e) { return e.index == index; });
    if (index < stop && !failed) result.inserted_ids.emplace_back(index, std::move(id));
  }
  inserted_ids_.clear();

  if (!errors.empty() || !concern_errors.empty()) {
    std::optional<WriteError> concern;
    if (!concern_errors.empty()) concern = std::move(concern_errors.front());
    throw BulkWriteError(handles_->namespace_name, std::move(errors), std::move(concern),
                         std::move(result));
  }
  return result;
}

}  // namespace mongo_orm
