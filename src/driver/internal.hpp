// Internals shared by the driver sources: the client state, C handle guards, error mapping.
#pragma once

#include <mongoc/mongoc.h>

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/driver/capabilities.hpp"
#include "mongo_orm/driver/options.hpp"

namespace mongo_orm::detail {

// A session that handles made inside Client::with_transaction run their operations in.
// `session` is null in a rehearsal (Client::rehearse_transaction): the same connection and the
// same discipline, without a server transaction.
struct SessionBinding {
  mongoc_client_t* client;
  mongoc_client_session_t* session;
};

// The transaction whose body runs on this thread, if any: while it is set, every operation
// must go through a handle bound to it (check_in_transaction).
const SessionBinding*& transaction_on_this_thread() noexcept;

// Sets the transaction of this thread for the life of the scope.
class TransactionScope {
 public:
  explicit TransactionScope(const SessionBinding* binding) noexcept : previous_(transaction_on_this_thread()) {
    transaction_on_this_thread() = binding;
  }
  TransactionScope(const TransactionScope&) = delete;
  TransactionScope& operator=(const TransactionScope&) = delete;
  ~TransactionScope() { transaction_on_this_thread() = previous_; }

 private:
  const SessionBinding* previous_;
};

// What a call does, as far as transactions care.
enum class CallKind {
  documents,       // reads and writes documents: allowed through the transaction's session
  catalog_read,    // reads the catalog (listIndexes, listCollections, the count command): refused in one
  catalog_change,  // changes indexes or collections (drop, rename, createIndexes): refused in one
};

// TransactionDisciplineError when a transaction body runs on this thread and `call` on
// `target` would leave it: `bound` is the session the handle is bound to (null: none).
void check_in_transaction(std::string_view call, std::string_view target, const SessionBinding* bound,
                          CallKind kind = CallKind::documents);

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

// Masks, in every "scheme://..." inside a text, the password of "user:password@host" (up to the
// last '@', so an unescaped '@' in it does not leak the rest) and the value of every option that
// holds a secret (tlsCertificateKeyFilePassword, authMechanismProperties, any "...password",
// "...secret" or "...token").
std::string redact_credentials(std::string_view text);
bool is_secret_option(std::string_view key);

// Where the parts of "scheme://user:password@hosts/database?options" lie in a URI's text, as
// offsets into it; what reads, checks or masks a URI's secrets reads them from here.
struct UriLayout {
  std::size_t authority = 0;      // just past "://"
  std::size_t authority_end = 0;  // the '/' or '?' that ends the hosts, or the end of the text
  // The '@' that ends the user information [authority, at): the last one before authority_end,
  // so an unescaped '@' in a password stays inside it. Unset without user information.
  std::optional<std::size_t> at;
  // The options after '?', separated by '&' or ';': key [key, equals), value (equals, end).
  struct Option {
    std::size_t key, equals, end;
  };
  std::vector<Option> options;
};
// nullopt when the text holds no "://".
std::optional<UriLayout> uri_layout(std::string_view uri);

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
