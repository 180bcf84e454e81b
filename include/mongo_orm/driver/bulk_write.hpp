// A batch of writes sent together, ordered (stop at the first error) or unordered.
#pragma once

#include <memory>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/driver/capabilities.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/driver/options.hpp"
#include "mongo_orm/error.hpp"

typedef struct _mongoc_bulk_operation_t mongoc_bulk_operation_t;
typedef struct _mongoc_collection_t mongoc_collection_t;

namespace mongo_orm {

class Collection;
class BulkWrite;

namespace detail {
// What the model layer's encoder vouches for in the documents it wrote: `validated` when
// every key is a plain field name and every string valid UTF-8 (what libmongoc's insert
// validation checks), `storable` when no value needs a capability the server lacks (NaN,
// Decimal128, arrays in arrays). What is vouched for is not checked again. Not an API: only the
// encoder knows what it checked.
struct Vouched {
  bool validated = false;
  bool storable = false;
};
void insert_vouched(BulkWrite& bulk, bson::DocumentView document, Vouched vouched);
}  // namespace detail

class BulkWrite {
 public:
  BulkWrite(BulkWrite&&) noexcept;
  BulkWrite& operator=(BulkWrite&&) noexcept;
  ~BulkWrite();

  // Adds an _id (a new ObjectId) when the document has none; execute() reports it.
  BulkWrite& insert_one(bson::DocumentView document);
  BulkWrite& update_one(bson::DocumentView filter, bson::DocumentView update, bool upsert = false);
  BulkWrite& update_many(bson::DocumentView filter, bson::DocumentView update, bool upsert = false);
  BulkWrite& replace_one(bson::DocumentView filter, bson::DocumentView replacement,
                         bool upsert = false);
  BulkWrite& delete_one(bson::DocumentView filter);
  BulkWrite& delete_many(bson::DocumentView filter);

  std::size_t size() const noexcept { return statements_; }
  bool empty() const noexcept { return statements_ == 0; }

  // Sends every statement. Throws BulkWriteError carrying every write error and the partial
  // result when any statement failed. A bulk write runs once; an empty one returns zeros.
  BulkWriteResult execute();

 private:
  friend class Collection;
  friend void detail::insert_vouched(BulkWrite&, bson::DocumentView, detail::Vouched);
  BulkWrite(Client::Lease lease, mongoc_collection_t* collection, std::string namespace_name,
            std::string hosts, const Capabilities& capabilities, bool ordered,
            bson::DocumentView session_opts);
  void check_payload(bson::DocumentView document) const;

  struct Handles;
  std::unique_ptr<Handles> handles_;
  std::size_t statements_ = 0;
  std::vector<std::pair<std::size_t, bson::Value>> inserted_ids_;
};

}  // namespace mongo_orm
