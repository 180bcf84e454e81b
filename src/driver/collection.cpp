// Collection operations over libmongoc: each borrows a pooled connection for its duration.
#include "mongo_orm/driver/collection.hpp"

#include "internal.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm {

using bson::Builder;
using bson::Document;
using bson::DocumentView;

namespace {

int64_t integer(DocumentView doc, std::string_view key) {
  auto e = doc.find(key);
  if (!e) return 0;
  switch (e->type()) {
    case bson::Type::int32: return e->as_int32();
    case bson::Type::int64: return e->as_int64();
    case bson::Type::double_: return static_cast<int64_t>(e->as_double());
    default: return 0;
  }
}

UpdateResult update_result_from(const bson_t* reply) {
  DocumentView view(reply);
  UpdateResult result;
  result.matched_count = integer(view, "matchedCount");
  result.modified_count = integer(view, "modifiedCount");
  if (auto id = view.find("upsertedId"); id && !id->is_null()) result.upserted_id = id->to_value();
  return result;
}

bool starts_with_operator(DocumentView doc) {
  auto first = doc.begin();
  return first != doc.end() && (*first).key().starts_with('$');
}

}  // namespace

Collection::Collection(Client client, std::string database, std::string name,
                       std::shared_ptr<detail::SessionBinding> session)
    : client_(std::move(client)), database_(std::move(database)), name_(std::move(name)), session_(std::move(session)) {
  if (name_.empty()) throw ConfigurationError("a collection name must not be empty");
}

Client::Lease Collection::lease(std::string_view call) const {
  detail::check_in_transaction(call, namespace_name(), session_.get());
  return session_ ? Client::Lease::unowned(session_->client) : client_.acquire();
}

void Collection::bind_session(Builder& opts) const {
  if (!session_ || !session_->session) return;  // none: a rehearsal
  bson_error_t error;
  if (!mongoc_client_session_append(session_->session, opts.native(), &error)) {
    detail::throw_error(error, nullptr, {namespace_name(), client_.hosts()});
  }
}

void Collection::check_payload(DocumentView document) const {
  detail::check_payload(client_.capabilities(), document, namespace_name());
}

void Collection::check_writable(std::string_view call) const { client_.check_writable(call, namespace_name()); }

InsertOneResult Collection::insert_one(DocumentView document) const {
  check_writable("insert_one");
  check_payload(document);
  auto lease = this->lease("insert_one");
  detail::CollectionGuard coll(lease.get(), database_, name_);
  Builder opts;
  bind_session(opts);
  Builder with_id;
  DocumentView to_insert = document;
  if (!document.contains("_id")) {
    with_id.append("_id", bson::ObjectId::generate()).concat(document);
    to_insert = with_id.view();
  }
  bson_t doc = to_insert.as_bson();
  detail::Reply reply;
  bson_error_t error;
  if (!mongoc_collection_insert_one(coll.get(), &doc, opts.native(), reply.out(), &error)) {
    try {
      detail::throw_error(error, &reply.doc, {namespace_name(), client_.hosts()});
    } catch (const DuplicateKeyError& e) {
      if (e.index()) throw;
      name_unique_index(e, to_insert);
    }
  }
  return InsertOneResult{to_insert["_id"].to_value()};
}

void Collection::name_unique_index(const DuplicateKeyError& error, DocumentView document) const {
  for (const Document& spec : list_indexes()) {
    auto unique = spec.find("unique");
    auto keys = spec.find("key");
    auto name = spec.find("name");
    bool is_id = name && name->type() == bson::Type::string && name->as_string() == "_id_";
    if (!keys || keys->type() != bson::Type::document || (!is_id && !(unique && unique->type() == bson::Type::boolean && unique->as_bool()))) continue;
    Builder filter, key;
    for (bson::Element part : keys->as_document()) {
      auto value = document.find_path(part.key());
      if (value) {
        filter.append(part.key(), [&](Builder& eq) { eq.append("$eq", *value); });
        key.append(part.key(), *value);
      } else {
        filter.append(part.key(), bson::Null{});
        key.append(part.key(), bson::Null{});
      }
    }
    if (!find_one(filter.view(), {.projection = Builder{}.append("_id", 1).extract()})) continue;
    std::string index(name->as_string());
    Document key_values = key.extract();
    throw DuplicateKeyError(std::string(error.what()) + " (index " + index + ", key " +
                                bson::to_relaxed_json(key_values.view()) + ")",
                            error.code(), error.code_name(), error.labels(), error.reply(), error.collection(), index,
                            std::move(key_values));
  }
  throw error;
}

InsertManyResult Collection::insert_many_result(BulkWriteResult result) {
  InsertManyResult out;
  out.inserted_count = result.inserted_count;
  out.inserted_ids.reserve(result.inserted_ids.size());
  for (auto& [index, id] : result.inserted_ids) out.inserted_ids.push_back(std::move(id));
  return out;
}

Cursor Collection::find(DocumentView filter, const FindOptions& options) const {
  Builder opts;
  if (options.sort) opts.append("sort", options.sort->view());
  if (options.projection) opts.append("projection", options.projection->view());
  if (options.skip) opts.append("skip", *options.skip);
  if (options.limit) opts.append("limit", *options.limit);
  if (options.batch_size) opts.append("batchSize", *options.batch_size);
  detail::append_hint(opts, options.hint);
  if (options.max_time_ms) opts.append("maxTimeMS", *options.max_time_ms);
  if (options.allow_disk_use) opts.append("allowDiskUse", true);
  check_payload(filter);
  bind_session(opts);

  auto lease = this->lease("find");
  detail::CollectionGuard coll(lease.get(), database_, name_);
  bson_t f = filter.as_bson();
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll.get(), &f, opts.native(), nullptr);
  return Cursor(std::move(lease), coll.release(), cursor, namespace_name(), client_.hosts());
}

std::optional<Document> Collection::find_one(DocumentView filter, const FindOptions& options) const {
  FindOptions one = options;
  one.limit = 1;
  Cursor cursor = find(filter, one);
  if (auto doc = cursor.next()) return Document(*doc);
  return std::nullopt;
}

int64_t Collection::count_documents(DocumentView filter, const CountOptions& options) const {
  Builder opts;
  if (options.skip) opts.append("skip", *options.skip);
  if (options.limit) opts.append("limit", *options.limit);
  detail::append_hint(opts, options.hint);
  if (options.max_time_ms) opts.append("maxTimeMS", *options.max_time_ms);
  check_payload(filter);
  bind_session(opts);

  auto lease = this->lease("count_documents");
  detail::CollectionGuard coll(lease.get(), database_, name_);
  bson_t f = filter.as_bson();
  detail::Reply reply;
  bson_error_t error;
  int64_t n = mongoc_collection_count_documents(coll.get(), &f, opts.native(), nullptr,
                                                reply.out(), &error);
  if (n < 0) detail::throw_error(error, &reply.doc, {namespace_name(), client_.hosts()});
  return n;
}

int64_t Collection::estimated_document_count() const {
  detail::check_in_transaction("estimated_document_count", namespace_name(), session_.get(), detail::CallKind::catalog_read);
  auto lease = client_.acquire();
  detail::CollectionGuard coll(lease.get(), database_, name_);
  detail::Reply reply;
  bson_error_t error;
  int64_t n =
      mongoc_collection_estimated_document_count(coll.get(), nullptr, nullptr, reply.out(), &error);
  if (n < 0) detail::throw_error(error, &reply.doc, {namespace_name(), client_.hosts()});
  return n;
}

std::vector<bson::Value> Collection::distinct(std::string_view field, DocumentView filter) const {
  check_payload(filter);
  Document command =
      Builder{}.append("distinct", name_).append("key", field).append("query", filter).extract();
  Builder opts;
  bind_session(opts);
  auto lease = this->lease("distinct");
  detail::CollectionGuard coll(lease.get(), database_, name_);
  detail::Reply reply;
  bson_error_t error;
  if (!mongoc_collection_read_command_with_opts(coll.get(), command.bson(), nullptr, opts.native(),
                                                reply.out(), &error)) {
    detail::throw_error(error, &reply.doc, {namespace_name(), client_.hosts()});
  }
  std::vector<bson::Value> values;
  for (bson::Element e : DocumentView(&reply.doc)["values"].as_array()) values.emplace_back(e);
  return values;
}

Cursor Collection::aggregate(const std::vector<Document>& pipeline,
                             const AggregateOptions& options) const {
  for (const Document& stage : pipeline) {
    if (stage.view().find("$out") || stage.view().find("$merge")) check_writable("aggregate with $out or $merge");
    check_payload(stage);
  }
  Builder command;
  command.append("pipeline", [&](bson::ArrayBuilder& stages) {
    for (const Document& stage : pipeline) stages.append(stage.view());
  });
  Builder opts;
  if (options.batch_size) opts.append("batchSize", *options.batch_size);
  if (options.allow_disk_use) opts.append("allowDiskUse", true);
  detail::append_hint(opts, options.hint);
  if (options.max_time_ms) opts.append("maxTimeMS", *options.max_time_ms);
  bind_session(opts);

  auto lease = this->lease("aggregate");
  detail::CollectionGuard coll(lease.get(), database_, name_);
  mongoc_cursor_t* cursor = mongoc_collection_aggregate(coll.get(), MONGOC_QUERY_NONE,
                                                        command.native(), opts.native(), nullptr);
  return Cursor(std::move(lease), coll.release(), cursor, namespace_name(), client_.hosts());
}

UpdateResult Collection::run_update(std::string_view call, UpdateFunction function, DocumentView filter,
                                    DocumentView change, const UpdateOptions& options) const {
  check_writable(call);
  const Capabilities& caps = client_.capabilities();
  detail::check_payload(caps, filter, namespace_name());
  detail::check_payload(caps, change, namespace_name());
  Builder opts;
  if (options.upsert) opts.append("upsert", true);
  detail::append_hint(opts, options.hint);
  bind_session(opts);
  auto lease = this->lease(call);
  detail::CollectionGuard coll(lease.get(), database_, name_);
  bson_t f = filter.as_bson(), c = change.as_bson();
  detail::Reply reply;
  bson_error_t error;
  if (!function(coll.get(), &f, &c, opts.native(), reply.out(), &error)) {
    detail::throw_error(error, &reply.doc, {namespace_name(), client_.hosts()});
  }
  return update_result_from(&reply.doc);
}

DeleteResult Collection::run_delete(std::string_view call, DeleteFunction function, DocumentView filter) const {
  check_writable(call);
  detail::check_payload(client_.capabilities(), filter, namespace_name());
  Builder opts;
  bind_session(opts);
  auto lease = this->lease(call);
  detail::CollectionGuard coll(lease.get(), database_, name_);
  bson_t f = filter.as_bson();
  detail::Reply reply;
  bson_error_t error;
  if (!function(coll.get(), &f, opts.native(), reply.out(), &error)) {
    detail::throw_error(error, &reply.doc, {namespace_name(), client_.hosts()});
  }
  return DeleteResult{integer(DocumentView(&reply.doc), "deletedCount")};
}

UpdateResult Collection::update_one(DocumentView filter, DocumentView update,
                                    const UpdateOptions& options) const {
  return run_update("update_one", mongoc_collection_update_one, filter, update, options);
}

UpdateResult Collection::update_many(DocumentView filter, DocumentView update,
                                     const UpdateOptions& options) const {
  return run_update("update_many", mongoc_collection_update_many, filter, update, options);
}

UpdateResult Collection::replace_one(DocumentView filter, DocumentView replacement,
                                     const UpdateOptions& options) const {
  return run_update("replace_one", mongoc_collection_replace_one, filter, replacement, options);
}

DeleteResult Collection::delete_one(DocumentView filter) const {
  return run_delete("delete_one", mongoc_collection_delete_one, filter);
}

DeleteResult Collection::delete_many(DocumentView filter) const {
  return run_delete("delete_many", mongoc_collection_delete_many, filter);
}

namespace {
struct FindAndModifyGuard {
  mongoc_find_and_modify_opts_t* opts = mongoc_find_and_modify_opts_new();
  FindAndModifyGuard() = default;
  FindAndModifyGuard(const FindAndModifyGuard&) = delete;
  FindAndModifyGuard& operator=(const FindAndModifyGuard&) = delete;
  ~FindAndModifyGuard() { mongoc_find_and_modify_opts_destroy(opts); }
};
}  // namespace

// One findAndModify: `change` is the update or replacement, or absent for a delete.
std::optional<Document> Collection::find_and_modify(DocumentView filter, const DocumentView* change,
                                                    const FindOneAndModifyOptions& options) const {
  check_writable(!change ? "find_one_and_delete" : starts_with_operator(*change) ? "find_one_and_update"
                                                                                  : "find_one_and_replace");
  const Collection& self = *this;
  const Capabilities& caps = self.client().capabilities();
  detail::check_payload(caps, filter, self.namespace_name());
  if (change) detail::check_payload(caps, *change, self.namespace_name());
  FindAndModifyGuard fam;
  int flags = MONGOC_FIND_AND_MODIFY_NONE;
  if (!change) flags |= MONGOC_FIND_AND_MODIFY_REMOVE;
  if (change && options.upsert) flags |= MONGOC_FIND_AND_MODIFY_UPSERT;
  if (change && options.return_document == ReturnDocument::after) {
    flags |= MONGOC_FIND_AND_MODIFY_RETURN_NEW;
  }
  mongoc_find_and_modify_opts_set_flags(fam.opts, static_cast<mongoc_find_and_modify_flags_t>(flags));
  if (options.sort) mongoc_find_and_modify_opts_set_sort(fam.opts, options.sort->bson());
  bool project_here = options.projection && !caps.find_and_modify_projection;
  if (options.projection && !project_here) {
    mongoc_find_and_modify_opts_set_fields(fam.opts, options.projection->bson());
  }
  bson_t change_bson;
  if (change) {
    change_bson = change->as_bson();
    mongoc_find_and_modify_opts_set_update(fam.opts, &change_bson);
  }

  Builder extra;
  bind_session(extra);
  if (!extra.view().empty()) mongoc_find_and_modify_opts_append(fam.opts, extra.native());
  auto lease = this->lease("find_and_modify");
  detail::CollectionGuard coll(lease.get(), self.database_name(), self.name());
  bson_t f = filter.as_bson();
  detail::Reply reply;
  bson_error_t error;
  if (!mongoc_collection_find_and_modify_with_opts(coll.get(), &f, fam.opts, reply.out(), &error)) {
    detail::throw_error(error, &reply.doc, {self.namespace_name(), self.client().hosts()});
  }
  auto value = DocumentView(&reply.doc).find("value");
  if (!value || value->type() != bson::Type::document) return std::nullopt;
  if (project_here) {
    return detail::project_top_level(value->as_document(), *options.projection,
                                     self.namespace_name());
  }
  return Document(value->as_document());
}

std::optional<Document> Collection::find_one_and_update(DocumentView filter, DocumentView update,
                                                        const FindOneAndModifyOptions& options) const {
  if (!starts_with_operator(update)) {
    throw InvalidRequestError(namespace_name() +
                              ": find_one_and_update needs update operators ($set, ...); use "
                              "find_one_and_replace to replace a whole document");
  }
  return find_and_modify(filter, &update, options);
}

std::optional<Document> Collection::find_one_and_replace(DocumentView filter,
                                                         DocumentView replacement,
                                                         const FindOneAndModifyOptions& options) const {
  if (starts_with_operator(replacement)) {
    throw InvalidRequestError(namespace_name() +
                              ": find_one_and_replace takes a whole document, not update operators");
  }
  return find_and_modify(filter, &replacement, options);
}

std::optional<Document> Collection::find_one_and_delete(DocumentView filter,
                                                        const FindOneAndModifyOptions& options) const {
  return find_and_modify(filter, nullptr, options);
}

BulkWrite Collection::bulk_write(bool ordered) const {
  check_writable("bulk_write");
  auto lease = this->lease("bulk_write");
  detail::CollectionGuard coll(lease.get(), database_, name_);
  mongoc_collection_t* handle = coll.release();
  Builder session_opts;
  bind_session(session_opts);
  return BulkWrite(std::move(lease), handle, namespace_name(), client_.hosts(),
                   client_.capabilities(), ordered, session_opts.view());
}

std::string default_index_name(DocumentView keys) {
  bson_t k = keys.as_bson();
  char* generated = mongoc_collection_keys_to_index_string(&k);
  if (!generated) throw InvalidRequestError("index keys must map field names to 1, -1 or a string");
  std::string name(generated);
  bson_free(generated);
  return name;
}

namespace {
std::string index_name(const IndexModel& index) {
  if (auto name = index.options.find("name"); name && name->type() == bson::Type::string) {
    return std::string(name->as_string());
  }
  return default_index_name(index.keys);
}
}  // namespace

std::string Collection::create_index(const IndexModel& index) const {
  return create_indexes({index}).front();
}

std::vector<std::string> Collection::create_indexes(const std::vector<IndexModel>& indexes) const {
  check_writable("create_indexes");
  std::vector<std::string> names;
  Builder command;
  command.append("createIndexes", name_);
  command.append("indexes", [&](bson::ArrayBuilder& list) {
    for (const IndexModel& index : indexes) {
      std::string name = index_name(index);
      names.push_back(name);
      list.append([&](Builder& spec) {
        spec.append("key", index.keys.view()).append("name", name);
        for (bson::Element option : index.options) {
          if (option.key() != "name") spec.append(option.key(), option);
        }
      });
    }
  });
  detail::check_in_transaction("create_indexes", namespace_name(), session_.get(), detail::CallKind::catalog_change);
  auto lease = client_.acquire();
  detail::Reply reply;
  bson_error_t error;
  if (!mongoc_client_write_command_with_opts(lease.get(), database_.c_str(), command.native(),
                                             nullptr, reply.out(), &error)) {
    detail::throw_error(error, &reply.doc, {namespace_name(), client_.hosts()});
  }
  return names;
}

std::vector<Document> Collection::list_indexes() const {
  detail::check_in_transaction("list_indexes", namespace_name(), session_.get(), detail::CallKind::catalog_read);
  auto lease = client_.acquire();
  detail::CollectionGuard coll(lease.get(), database_, name_);
  mongoc_cursor_t* cursor = mongoc_collection_find_indexes_with_opts(coll.get(), nullptr);
  std::vector<Document> indexes;
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor, &doc)) indexes.emplace_back(DocumentView(doc));
  bson_error_t error;
  const bson_t* reply = nullptr;
  bool failed = mongoc_cursor_error_document(cursor, &error, &reply);
  if (failed) {
    Document reply_copy = reply ? Document(DocumentView(reply)) : Document();
    mongoc_cursor_destroy(cursor);
    detail::throw_error(error, reply_copy.bson(), {namespace_name(), client_.hosts()});
  }
  mongoc_cursor_destroy(cursor);
  return indexes;
}

void Collection::drop_index(std::string_view name) const {
  check_writable("drop_index");
  detail::check_in_transaction("drop_index", namespace_name(), session_.get(), detail::CallKind::catalog_change);
  auto lease = client_.acquire();
  detail::CollectionGuard coll(lease.get(), database_, name_);
  std::string index(name);
  bson_error_t error;
  if (!mongoc_collection_drop_index_with_opts(coll.get(), index.c_str(), nullptr, &error)) {
    detail::throw_error(error, nullptr, {namespace_name(), client_.hosts()});
  }
}

void Collection::drop() const {
  check_writable("drop");
  detail::check_in_transaction("drop", namespace_name(), session_.get(), detail::CallKind::catalog_change);
  auto lease = client_.acquire();
  detail::CollectionGuard coll(lease.get(), database_, name_);
  bson_error_t error;
  if (!mongoc_collection_drop_with_opts(coll.get(), nullptr, &error)) {
    constexpr uint32_t namespace_not_found = 26;
    if (error.code == namespace_not_found || std::string_view(error.message) == "ns not found") return;
    detail::throw_error(error, nullptr, {namespace_name(), client_.hosts()});
  }
}

Collection Collection::rename(std::string_view new_name, const RenameOptions& options) const {
  check_writable("rename");
  detail::check_in_transaction("rename", namespace_name(), session_.get(), detail::CallKind::catalog_change);
  auto lease = client_.acquire();
  detail::CollectionGuard coll(lease.get(), database_, name_);
  std::string target(new_name);
  bson_error_t error;
  if (!mongoc_collection_rename_with_opts(coll.get(), nullptr, target.c_str(),
                                          options.drop_target, nullptr, &error)) {
    detail::throw_error(error, nullptr, {namespace_name(), client_.hosts()});
  }
  return Collection(client_, database_, target);
}

}  // namespace mongo_orm
