// Transactions through libmongoc's with_transaction loop, which retries as the driver
// specifications say.
#include "mongo_orm/driver/session.hpp"

#include <exception>

#include "internal.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm {

namespace {

struct TransactionRun {
  const std::function<void(const Session&)>* body;
  const Session* session;
  const detail::SessionBinding* binding;
  std::exception_ptr failure;  // from the last attempt of the body
};

// Runs the body once. A server error keeps its reply (with errorLabels) so libmongoc can decide
// whether to retry; any other exception ends the transaction and is rethrown afterwards.
bool run_body(mongoc_client_session_t*, void* context, bson_t** reply, bson_error_t* error) {
  auto* run = static_cast<TransactionRun*>(context);
  run->failure = nullptr;
  try {
    detail::TransactionScope scope(run->binding);
    (*run->body)(*run->session);
    return true;
  } catch (const CommandError& e) {
    run->failure = std::current_exception();
    *reply = bson_copy(e.reply().bson());
    bson_set_error(error, MONGOC_ERROR_SERVER, static_cast<uint32_t>(e.code()), "%s", e.what());
  } catch (const std::exception& e) {
    run->failure = std::current_exception();
    bson_set_error(error, MONGOC_ERROR_TRANSACTION, MONGOC_ERROR_TRANSACTION_INVALID_STATE, "%s", e.what());
  } catch (...) {
    run->failure = std::current_exception();
    bson_set_error(error, MONGOC_ERROR_TRANSACTION, MONGOC_ERROR_TRANSACTION_INVALID_STATE,
                   "the transaction body threw");
  }
  return false;
}

struct SessionGuard {
  mongoc_client_session_t* session;
  explicit SessionGuard(mongoc_client_session_t* s) : session(s) {}
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;
  ~SessionGuard() { mongoc_client_session_destroy(session); }
};

}  // namespace

namespace detail {

const SessionBinding*& transaction_on_this_thread() noexcept {
  thread_local const SessionBinding* binding = nullptr;
  return binding;
}

void check_in_transaction(std::string_view call, std::string_view target, const SessionBinding* bound,
                          CallKind kind) {
  const SessionBinding* running = transaction_on_this_thread();
  if (!running) return;
  std::string where = std::string(call) + " on " + std::string(target) + " inside a transaction";
  if (kind == CallKind::catalog_change) {
    throw TransactionDisciplineError(where + ": index and collection changes cannot be part of a transaction "
                                     "(MongoDB refuses them there, and sent beside it they wait on its locks); "
                                     "run them before it begins or after it commits");
  }
  if (kind == CallKind::catalog_read) {
    throw TransactionDisciplineError(where + ": MongoDB does not run catalog reads (listIndexes, "
                                     "listCollections, the count command) inside a transaction; read them "
                                     "before it begins, or count with count_documents");
  }
  if (bound != running) {
    throw TransactionDisciplineError(where + " would leave the transaction's session: made from a handle " +
                                     (bound ? "bound to another session" : "not bound to it") +
                                     ", it would run on another pooled connection, outside the transaction, and "
                                     "can wait on the transaction's own locks; use the handles the transaction "
                                     "body receives (session.database(...))");
  }
}

}  // namespace detail

void Client::rehearse_transaction(const std::function<void(const Session&)>& body) const {
  Lease lease = acquire();
  auto binding = std::make_shared<detail::SessionBinding>(detail::SessionBinding{lease.get(), nullptr});
  Session session(*this, binding);
  detail::TransactionScope scope(binding.get());
  body(session);
}

void Client::with_transaction(const std::function<void(const Session&)>& body) const {
  if (!capabilities().transactions) {
    throw CapabilityError("transactions",
                          "this server does not support multi-document transactions (server lacks capability "
                          "transactions: they need a MongoDB replica set or sharded cluster)");
  }
  Lease lease = acquire();
  bson_error_t error;
  mongoc_client_session_t* raw_session = mongoc_client_start_session(lease.get(), nullptr, &error);
  if (!raw_session) detail::throw_error(error, nullptr, {"startSession", hosts()});
  SessionGuard guard{raw_session};

  auto binding = std::make_shared<detail::SessionBinding>(detail::SessionBinding{lease.get(), raw_session});
  Session session(*this, binding);
  TransactionRun run{&body, &session, binding.get(), nullptr};
  detail::Reply reply;
  if (mongoc_client_session_with_transaction(raw_session, run_body, nullptr, &run, reply.out(), &error)) return;
  if (run.failure) std::rethrow_exception(run.failure);
  detail::throw_error(error, &reply.doc, {"transaction", hosts()});
}

}  // namespace mongo_orm
