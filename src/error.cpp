// Constructors and helpers of the exception hierarchy.
#include "mongo_orm/error.hpp"

#include <algorithm>
#include <cstdio>

namespace mongo_orm {

std::string printable(std::string_view text) {
  std::string shown;
  shown.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      shown += c;
      continue;
    }
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(byte));
    shown += escaped;
  }
  return shown;
}

namespace {
std::string join_failures(const std::vector<ValidationFailure>& failures) {
  std::string text = "validation failed:";
  for (const auto& f : failures) text += " " + f.path + ": " + f.message + ";";
  if (!failures.empty()) text.pop_back();
  return text;
}

std::string describe_bulk_failure(const std::string& collection,
                                  const std::vector<WriteError>& errors,
                                  const std::optional<WriteError>& concern) {
  std::string text = "bulk write to " + collection + " failed: ";
  text += std::to_string(errors.size()) + " write error(s)";
  if (!errors.empty()) {
    text += ", first at statement " + std::to_string(errors.front().index) + " (code " +
            std::to_string(errors.front().code) + "): " + errors.front().message;
  }
  if (concern) text += "; write concern error: " + concern->message;
  return text;
}
}  // namespace

CommandError::CommandError(std::string message, int32_t code, std::string code_name,
                           std::vector<std::string> labels, bson::Document reply)
    : Error(std::move(message)),
      code_(code),
      code_name_(std::move(code_name)),
      labels_(std::move(labels)),
      reply_(std::move(reply)) {}

bool CommandError::has_label(std::string_view label) const noexcept {
  return std::find(labels_.begin(), labels_.end(), label) != labels_.end();
}

DuplicateKeyError::DuplicateKeyError(std::string message, int32_t code, std::string code_name,
                                     std::vector<std::string> labels, bson::Document reply,
                                     std::string collection, std::optional<std::string> index,
                                     std::optional<bson::Document> key)
    : CommandError(std::move(message), code, std::move(code_name), std::move(labels),
                   std::move(reply)),
      collection_(std::move(collection)),
      index_(std::move(index)),
      key_(std::move(key)) {}

bool WriteError::is_duplicate_key() const noexcept {
  return code == 11000 || code == 11001 || code == 12582 ||
         (code == 1 && message.find("UNIQUE constraint failed") != std::string::npos);
}

BulkWriteError::BulkWriteError(std::string collection, std::vector<WriteError> write_errors,
                               std::optional<WriteError> write_concern_error,
                               BulkWriteResult partial_result)
    : Error(describe_bulk_failure(collection, write_errors, write_concern_error)),
      collection_(std::move(collection)),
      write_errors_(std::move(write_errors)),
      write_concern_error_(std::move(write_concern_error)),
      partial_result_(std::move(partial_result)) {}

DecodeError::DecodeError(std::string message, std::string path)
    : Error(message), path_(std::move(path)), reason_(std::move(message)) {}

namespace {
std::string describe_decode(const std::string& reason, const std::string& path,
                            const std::string& collection, const std::string& document_id) {
  std::string text;
  if (!collection.empty()) text += collection + " ";
  if (!document_id.empty()) text += "_id=" + document_id + " ";
  if (!text.empty()) text.back() = ':', text += " ";
  if (!path.empty()) text += "field '" + path + "': ";
  return text + reason;
}
}  // namespace

DecodeError::DecodeError(std::string reason, std::string path, std::string collection,
                         std::string document_id)
    : Error(describe_decode(reason, path, collection, document_id)),
      path_(std::move(path)),
      reason_(std::move(reason)),
      collection_(std::move(collection)),
      document_id_(std::move(document_id)) {}

DecodeError DecodeError::at(std::string path, std::string reason) {
  return DecodeError(std::move(reason), std::move(path), {}, {});
}

DecodeError DecodeError::nested_in(std::string_view segment) const {
  std::string path = path_.empty() ? std::string(segment) : std::string(segment) + "." + path_;
  return DecodeError(reason_, std::move(path), collection_, document_id_);
}

DecodeError DecodeError::located(std::string_view collection, std::string_view document_id) const {
  return DecodeError(reason_, path_, std::string(collection), std::string(document_id));
}

ValidationError::ValidationError(std::vector<ValidationFailure> failures, std::string where)
    : Error((where.empty() ? "" : where + ": ") + join_failures(failures)),
      failures_(std::move(failures)),
      where_(std::move(where)) {}

}  // namespace mongo_orm
