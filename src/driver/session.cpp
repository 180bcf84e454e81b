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
  std::exception_ptr failure;  // from the last attempt of the body
};

// Runs the body once. A server error keeps its reply (with errorLabels) so libmongoc can decide
// whether to retry; any other exception ends the transaction and is rethrown afterwards.
bool run_body(mongoc_client_session_t*, void* context, bson_t** reply, bson_error_t* error) {
  auto* run = static_cast<TransactionRun*>(context);
  run->failure = nullptr;
  try {
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

  Session session(*this, std::make_shared<detail::SessionBinding>(detail::SessionBinding{lease.get(), raw_session}));
  TransactionRun run{&body, &session, nullptr};
  detail::Reply reply;
  if (mongoc_client_session_with_transaction(raw_session, run_body, nullptr, &run, reply.out(), &error)) return;
  if (run.failure) std::rethrow_exception(run.failure);
  detail::throw_error(error, &reply.doc, {"transaction", hosts()});
}

}  // namespace mongo_orm
