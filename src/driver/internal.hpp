// Internals shared by the driver sources: the client state, C handle guards, error mapping.
#pragma once

#include <mongoc/mongoc.h>

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/driver/capabilities.hpp"
#include "mongo_orm/driver/options.hpp"

namespace mongo_orm::detail {

// A session that handles made inside Client::with_transaction run their operations in.
struct SessionBinding {
  mongoc_client_t* client;
  mongoc_client_session_t* session;
};

struct ClientState {
  mongoc_client_pool_t* pool = nullptr;
  mongoc_uri_t* uri = nullptr;  // null for a wrapped pool
  bool owns_pool = false;
  std::string hosts;
  std::mutex capabilities_mutex;
  std::optional<Capabilities> capabilities;

  ClientState() = default;
  ClientState(const ClientState&) = delete;
  ClientState& operator=(const ClientState&) = delete;
  ~ClientState();
};

// Where an error happened, for its message: the namespace ("db.coll") or database, and the
// hosts the client talks to.
struct ErrorContext {
  std::string_view target;
  std::string_view hosts;
};

// Turns a libmongoc error (and the server reply, when there is one) into the matching
// exception of the mongo_orm hierarchy.
[[noreturn]] void throw_error(const bson_error_t& error, const bson_t* reply,
                              const ErrorContext& context);

// Masks passwords in any "scheme://user:password@host" inside a text.
std::string redact_credentials(std::string_view text);

class CollectionGuard {
 public:
  CollectionGuard(mongoc_client_t* client, const std::string& database, const std::string& name)
      : collection_(mongoc_client_get_collection(client, database.c_str(), name.c_str())) {}
  CollectionGuard(const CollectionGuard&) = delete;
  CollectionGuard& operator=(const CollectionGuard&) = delete;
  ~CollectionGuard() {
    if (collection_) mongoc_collection_destroy(collection_);
  }
  mongoc_collection_t* get() const noexcept { return collection_; }
  mongoc_collection_t* release() noexcept {
    mongoc_collection_t* c = collection_;
    collection_ = nullptr;
    return c;
  }

 private:
  mongoc_collection_t* collection_;
};

// A reply document that libmongoc fills in and we always destroy.
struct Reply {
  bson_t doc;
  Reply() { bson_init(&doc); }
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;
  ~Reply() { bson_destroy(&doc); }
  // For a libmongoc out-parameter: libmongoc initializes it again itself, which is harmless
  // over an empty inline document.
  bson_t* out() noexcept {
    bson_destroy(&doc);
    bson_init(&doc);
    return &doc;
  }
};

void append_hint(bson::Builder& opts, const std::optional<Hint>& hint);

// Refuses, before anything is sent, a document carrying values the server cannot take
// (Decimal128, NaN, arrays nested in arrays on FerretDB), naming the capability and the field
// path. Does nothing on a server that has them all.
void check_payload(const Capabilities& caps, bson::DocumentView document, std::string_view target);

// Applies a projection of top-level fields ({a: 1, b: 1} or {a: 0}) to a document, for servers
// without projection in findAndModify; anything richer raises InvalidRequestError naming the
// missing capability.
bson::Document project_top_level(bson::DocumentView doc, bson::DocumentView projection,
                                 std::string_view target);

}  // namespace mongo_orm::detail
