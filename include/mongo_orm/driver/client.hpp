// A thread-safe handle on a pool of connections (mongoc_client_pool_t); every operation
// borrows one connection for its duration.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/driver/capabilities.hpp"

typedef struct _mongoc_client_pool_t mongoc_client_pool_t;
typedef struct _mongoc_client_t mongoc_client_t;

namespace mongo_orm {

class Database;
class Session;
namespace detail {
struct ClientState;
struct SessionBinding;
}

struct ClientOptions {
  std::string app_name = "mongo_orm";
  // Applied only when the URI does not set serverSelectionTimeoutMS itself.
  std::optional<int32_t> server_selection_timeout_ms{};
  // Applied only when the URI does not set maxPoolSize itself.
  std::optional<int32_t> max_pool_size{};
};

class Client {
 public:
  // Connects lazily: the URI is parsed now (ConfigurationError when invalid, without echoing
  // credentials); servers are contacted by the first operation. All URI options are honoured:
  // timeouts, read and write concern, replicaSet, tls, authentication.
  explicit Client(std::string_view uri, const ClientOptions& options = {});
  // Shares a pool the application already uses, without taking ownership: the pool must
  // outlive this client and every handle made from it.
  static Client wrap(mongoc_client_pool_t* pool);

  Database database(std::string_view name) const;

  // The same pool through a handle that refuses every write, as does every handle made from
  // it (databases, collections, sessions, bulk writes, commands other than reads): each
  // refusal is a ReadOnlyError naming the call, the namespace and `reason`, before anything is
  // sent. Reads work as usual. A raw connection taken with acquire() is outside its reach.
  Client read_only(std::string reason) const;
  bool refuses_writes() const noexcept { return read_only_reason_ != nullptr; }
  // ReadOnlyError when this handle refuses writes: `call` aimed at `target`.
  void check_writable(std::string_view call, std::string_view target) const;
  // The database named in the URI path; ConfigurationError when the URI names none.
  Database default_database() const;
  std::vector<std::string> list_database_names() const;

  // Runs a command against a database and returns the reply; CommandError on ok: 0.
  bson::Document run_command(std::string_view database, bson::DocumentView command) const;
  // Round trip to the server; ConnectionError when none can be selected.
  void ping() const;
  // Detected on first use, then cached for the life of the client: from hello and buildInfo,
  // then, on a server that is not FerretDB, corrected by ask_capabilities.
  const Capabilities& capabilities() const;
  // `assumed` corrected by what the server answers to questions that write nothing and create
  // nothing: $sample on a missing collection, an update pipeline that matches nothing, collMod
  // of a missing collection with a validator, and (where transactions are assumed) a read-only
  // transaction. A flag whose question could not be asked (no right to, no connection) keeps
  // its assumed value; the others are listed in Capabilities::asked.
  Capabilities ask_capabilities(Capabilities assumed) const;
  // The hosts this client connects to, for messages ("127.0.0.1:27017,db2:27017").
  const std::string& hosts() const noexcept;

  // Runs `body` in a multi-document transaction and commits it. Operations join the
  // transaction through the handles `body` gets from its Session (session.database(...)).
  // Retries as the driver specifications say, through libmongoc's own loop: the whole
  // transaction on TransientTransactionError, the commit on UnknownTransactionCommitResult,
  // within 120 seconds. An exception from `body` aborts the transaction and propagates.
  // CapabilityError naming "transactions" on a server without them (standalone, FerretDB).
  //
  // While `body` runs, every operation on this thread must go through the handles of its
  // Session, and none may change indexes or collections: anything else raises
  // TransactionDisciplineError before it is sent (it would run outside the transaction, on
  // another connection, where it can wait on the transaction's own locks until both time out).
  void with_transaction(const std::function<void(const Session&)>& body) const;
  // Runs `body` as with_transaction does (handles from its Session, on one connection of its
  // own, the same discipline enforced) but without a server transaction: nothing is atomic and
  // nothing is retried. For testing code written for transactions on a server without them.
  void rehearse_transaction(const std::function<void(const Session&)>& body) const;

  // A connection borrowed from the pool, returned on destruction. For interop with code that
  // speaks the C driver directly.
  class Lease {
   public:
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    mongoc_client_t* get() const noexcept { return client_; }

    // A connection owned elsewhere (a session's), not returned to the pool by this lease.
    static Lease unowned(mongoc_client_t* client) noexcept { return Lease(nullptr, client); }

   private:
    friend class Client;
    Lease(std::shared_ptr<detail::ClientState> state, mongoc_client_t* client) noexcept
        : state_(std::move(state)), client_(client) {}
    std::shared_ptr<detail::ClientState> state_;
    mongoc_client_t* client_;
  };
  Lease acquire() const;
  mongoc_client_pool_t* native_pool() const noexcept;

 private:
  explicit Client(std::shared_ptr<detail::ClientState> state) noexcept : state_(std::move(state)) {}
  std::shared_ptr<detail::ClientState> state_;
  std::shared_ptr<const std::string> read_only_reason_;  // set: every write is refused
};

}  // namespace mongo_orm
