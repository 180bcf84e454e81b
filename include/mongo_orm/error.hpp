// The one exception hierarchy of mongo_orm, rooted at mongo_orm::Error.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/bson/document.hpp"

namespace mongo_orm {

// `text` as a message shows it: control characters (a NUL byte, a newline) written as \xNN, so
// that nothing after them is cut off or breaks the line.
std::string printable(std::string_view text);

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An invalid URI or option, found before anything was sent.
class ConfigurationError : public Error {
 public:
  using Error::Error;
};

// No server could be selected or the connection broke. The message names the hosts, never
// credentials.
class ConnectionError : public Error {
 public:
  using Error::Error;
};

// The driver refused a request before sending it (for example a document over the server's
// maximum size).
class InvalidRequestError : public Error {
 public:
  using Error::Error;
};

// A write through a handle that refuses writes (Client::read_only: what a dry run hands to a
// migration's own code). Nothing was sent. Names the call, where it was aimed, and why.
class ReadOnlyError : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

// The server lacks a capability the call needs (transactions, ...). Names the capability.
class CapabilityError : public Error {
 public:
  CapabilityError(std::string capability, std::string message)
      : Error(std::move(message)), capability_(std::move(capability)) {}
  const std::string& capability() const noexcept { return capability_; }

 private:
  std::string capability_;
};

// Work inside a transaction asked for something that would leave its session: an operation on
// a handle not bound to it (sent on another pooled connection, outside the transaction, where
// it can wait on the transaction's own locks), or an index or collection change, which MongoDB
// does not allow inside a transaction. A bug in the calling code, raised in every build before
// anything is sent; names the call and the namespace.
class TransactionDisciplineError : public Error {
 public:
  using Error::Error;
};

// The server answered with an error.
class CommandError : public Error {
 public:
  CommandError(std::string message, int32_t code, std::string code_name,
               std::vector<std::string> labels, bson::Document reply);

  int32_t code() const noexcept { return code_; }
  const std::string& code_name() const noexcept { return code_name_; }
  const std::vector<std::string>& labels() const noexcept { return labels_; }
  bool has_label(std::string_view label) const noexcept;
  // The server's whole reply, empty when the driver reported the error without one.
  const bson::Document& reply() const noexcept { return reply_; }

 private:
  int32_t code_;
  std::string code_name_;
  std::vector<std::string> labels_;
  bson::Document reply_;
};

// A unique index refused a write. MongoDB reports code 11000; FerretDB reports a unique
// violation caused by an update as code 1 with SQLite's "UNIQUE constraint failed" text.
class DuplicateKeyError : public CommandError {
 public:
  DuplicateKeyError(std::string message, int32_t code, std::string code_name,
                    std::vector<std::string> labels, bson::Document reply,
                    std::string collection, std::optional<std::string> index,
                    std::optional<bson::Document> key);

  // The collection's name (without the database).
  const std::string& collection() const noexcept { return collection_; }
  // The unique index and the key values it refused: from the server's reply (keyPattern,
  // keyValue, the message) or, where the server names neither (FerretDB), from looking up which
  // unique index of the collection already holds the inserted document's values.
  const std::optional<std::string>& index() const noexcept { return index_; }
  const std::optional<bson::Document>& key() const noexcept { return key_; }

 private:
  std::string collection_;
  std::optional<std::string> index_;
  std::optional<bson::Document> key_;
};

// One failed statement of a bulk write.
struct WriteError {
  std::size_t index = 0;  // position of the statement in the bulk
  int32_t code = 0;
  std::string message;
  bson::Document details;  // the server's whole write error (keyValue, errInfo, ...)

  bool is_duplicate_key() const noexcept;
};

struct BulkWriteResult {
  int64_t inserted_count = 0;
  int64_t matched_count = 0;
  int64_t modified_count = 0;
  int64_t deleted_count = 0;
  int64_t upserted_count = 0;
  // (statement index, _id) for every upserted document, in statement order.
  std::vector<std::pair<std::size_t, bson::Value>> upserted_ids;
  // (statement index, _id) for every insert statement sent.
  std::vector<std::pair<std::size_t, bson::Value>> inserted_ids;
};

// Some statements of a bulk write failed: every write error, and what did succeed.
class BulkWriteError : public Error {
 public:
  BulkWriteError(std::string collection, std::vector<WriteError> write_errors,
                 std::optional<WriteError> write_concern_error, BulkWriteResult partial_result);

  const std::string& collection() const noexcept { return collection_; }
  const std::vector<WriteError>& write_errors() const noexcept { return write_errors_; }
  const std::optional<WriteError>& write_concern_error() const noexcept {
    return write_concern_error_;
  }
  // Counts of what the server did apply before or besides the failures.
  const BulkWriteResult& partial_result() const noexcept { return partial_result_; }

 private:
  std::string collection_;
  std::vector<WriteError> write_errors_;
  std::optional<WriteError> write_concern_error_;
  BulkWriteResult partial_result_;
};

// Bytes or a value could not be read as what was expected. Names the field path and, where
// known, the collection and the document's _id.
class DecodeError : public Error {
 public:
  explicit DecodeError(std::string message, std::string path = {});

  // A failure of the value at `path` (relative to what is being decoded): "field 'path': reason".
  static DecodeError at(std::string path, std::string reason);
  // The same failure one level further out: the path gains `segment` in front.
  DecodeError nested_in(std::string_view segment) const;
  // The same failure, located in a stored document: "db.users _id=...: field 'a.b': reason".
  DecodeError located(std::string_view collection, std::string_view document_id) const;

  const std::string& path() const noexcept { return path_; }
  const std::string& reason() const noexcept { return reason_; }
  const std::string& document_id() const noexcept { return document_id_; }

 private:
  DecodeError(std::string reason, std::string path, std::string collection,
              std::string document_id);
  std::string path_;
  std::string reason_;
  std::string collection_;
  std::string document_id_;
};

// A query asked for exactly one object (TypedQuery::one, MongoEngine's get()) found none, or
// more than one. Names the collection and the fields queried (never their values), and for
// MultipleFoundError the _ids of the first two.
class NotFoundError : public Error {
 public:
  using Error::Error;
};
class MultipleFoundError : public Error {
 public:
  using Error::Error;
};

// populate found no document for a reference: names the referring document's collection and
// _id, the field, and the collection and _id referred to.
class DanglingReferenceError : public NotFoundError {
 public:
  using NotFoundError::NotFoundError;
};

// A write would overwrite a change made since the object was loaded (or the stored document
// is gone): nothing was written.
class ConflictError : public Error {
 public:
  using Error::Error;
};

// A migration set or run was refused or failed: duplicate or missing versions, dependency
// cycles, checksum drift, an irreversible step in a requested down, a lost lock.
class MigrationError : public Error {
 public:
  using Error::Error;
};

struct ValidationFailure {
  std::string path;
  std::string message;
};

// A value broke a declared rule; lists every failure with its path.
// An object failed its schema's rules; nothing was written. The message names where, as a
// DecodeError does ("db.users _id=ObjectId('…'): ", "db.users (new object): "), then every
// failing field path with its reason.
class ValidationError : public Error {
 public:
  explicit ValidationError(std::vector<ValidationFailure> failures, std::string where = {});
  const std::vector<ValidationFailure>& failures() const noexcept { return failures_; }
  // The collection and the object ("db.users _id=ObjectId('…')"); empty when not known.
  const std::string& where() const noexcept { return where_; }

 private:
  std::vector<ValidationFailure> failures_;
  std::string where_;
};

}  // namespace mongo_orm
