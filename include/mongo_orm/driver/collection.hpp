// A collection handle: CRUD, aggregation, bulk writes, indexes. Cheap to copy; every call
// borrows a pooled connection for its duration (a cursor keeps it until destroyed).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/driver/bulk_write.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/driver/cursor.hpp"
#include "mongo_orm/driver/options.hpp"

namespace mongo_orm {

class DuplicateKeyError;

// The name MongoDB gives an index with these keys when none is chosen ("email_1_age_-1").
std::string default_index_name(bson::DocumentView keys);

class Collection {
 public:
  Collection(Client client, std::string database, std::string name,
             std::shared_ptr<detail::SessionBinding> session = nullptr);

  const std::string& name() const noexcept { return name_; }
  const std::string& database_name() const noexcept { return database_; }
  // "database.collection", as error messages name it.
  std::string namespace_name() const { return database_ + "." + name_; }
  const Client& client() const noexcept { return client_; }

  // Adds an _id (a new ObjectId) when the document has none and returns it.
  InsertOneResult insert_one(bson::DocumentView document) const;
  // Any range of documents or views. BulkWriteError on failure, with what was inserted.
  template <std::ranges::input_range Range>
    requires std::convertible_to<std::ranges::range_reference_t<Range>, bson::DocumentView>
  InsertManyResult insert_many(Range&& documents, const InsertManyOptions& options = {}) const {
    BulkWrite bulk = bulk_write(options.ordered);
    for (auto&& document : documents) bulk.insert_one(document);
    return insert_many_result(bulk.execute());
  }

  Cursor find(bson::DocumentView filter = {}, const FindOptions& options = {}) const;
  std::optional<bson::Document> find_one(bson::DocumentView filter = {},
                                         const FindOptions& options = {}) const;
  int64_t count_documents(bson::DocumentView filter = {}, const CountOptions& options = {}) const;
  // From collection metadata: fast, but may be off after an unclean shutdown.
  int64_t estimated_document_count() const;
  std::vector<bson::Value> distinct(std::string_view field, bson::DocumentView filter = {}) const;
  Cursor aggregate(const std::vector<bson::Document>& pipeline,
                   const AggregateOptions& options = {}) const;

  UpdateResult update_one(bson::DocumentView filter, bson::DocumentView update,
                          const UpdateOptions& options = {}) const;
  UpdateResult update_many(bson::DocumentView filter, bson::DocumentView update,
                           const UpdateOptions& options = {}) const;
  UpdateResult replace_one(bson::DocumentView filter, bson::DocumentView replacement,
                           const UpdateOptions& options = {}) const;
  DeleteResult delete_one(bson::DocumentView filter) const;
  DeleteResult delete_many(bson::DocumentView filter) const;

  std::optional<bson::Document> find_one_and_update(
      bson::DocumentView filter, bson::DocumentView update,
      const FindOneAndModifyOptions& options = {}) const;
  std::optional<bson::Document> find_one_and_replace(
      bson::DocumentView filter, bson::DocumentView replacement,
      const FindOneAndModifyOptions& options = {}) const;
  std::optional<bson::Document> find_one_and_delete(
      bson::DocumentView filter, const FindOneAndModifyOptions& options = {}) const;

  BulkWrite bulk_write(bool ordered = true) const;

  // Returns the index name (given in options.name, or derived from the keys: "email_1").
  std::string create_index(const IndexModel& index) const;
  std::vector<std::string> create_indexes(const std::vector<IndexModel>& indexes) const;
  std::vector<bson::Document> list_indexes() const;
  void drop_index(std::string_view name) const;
  // Dropping a collection that does not exist is not an error.
  void drop() const;
  // Renames within the same database and returns a handle to the renamed collection.
  Collection rename(std::string_view new_name, const RenameOptions& options = {}) const;
  // Another collection of the same database, in the same session when this handle is bound to one.
  Collection sibling(std::string_view name) const { return Collection(client_, database_, std::string(name), session_); }

 private:
  using UpdateFunction = bool (*)(mongoc_collection_t*, const bson_t*, const bson_t*, const bson_t*, bson_t*,
                                  bson_error_t*);
  using DeleteFunction = bool (*)(mongoc_collection_t*, const bson_t*, const bson_t*, bson_t*, bson_error_t*);

  static InsertManyResult insert_many_result(BulkWriteResult result);
  // Throws `error` again, naming the unique index (and key values) of this collection that
  // already holds `document`'s values, where the server's error named none.
  [[noreturn]] void name_unique_index(const DuplicateKeyError& error, bson::DocumentView document) const;
  // ReadOnlyError when this handle's client refuses writes (Client::read_only).
  void check_writable(std::string_view call) const;
  // InvalidRequestError when a document carries values the server cannot store.
  void check_payload(bson::DocumentView document) const;
  // A connection for `call`: the session's when this handle is bound to one.
  // TransactionDisciplineError when a transaction runs on this thread and this handle is not
  // bound to its session.
  Client::Lease lease(std::string_view call) const;
  // Adds the session to an operation's options when this handle is bound to one. Reads and
  // writes of documents take part in the session; administration (indexes, drop, rename, the
  // estimated count) is refused while a transaction runs on this thread.
  void bind_session(bson::Builder& opts) const;
  UpdateResult run_update(std::string_view call, UpdateFunction function, bson::DocumentView filter, bson::DocumentView change,
                          const UpdateOptions& options) const;
  DeleteResult run_delete(std::string_view call, DeleteFunction function, bson::DocumentView filter) const;
  std::optional<bson::Document> find_and_modify(bson::DocumentView filter, const bson::DocumentView* change,
                                                const FindOneAndModifyOptions& options) const;

  Client client_;
  std::string database_;
  std::string name_;
  std::shared_ptr<detail::SessionBinding> session_;
};

}  // namespace mongo_orm
