// libmongoc errors and server replies mapped onto the mongo_orm exception hierarchy.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "internal.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::detail {

namespace {

bool is_connection_failure(const bson_error_t& error) {
  switch (error.domain) {
    case MONGOC_ERROR_SERVER_SELECTION:
    case MONGOC_ERROR_STREAM:
    case MONGOC_ERROR_PROTOCOL:
      return true;
    case MONGOC_ERROR_CLIENT:
      return error.code == MONGOC_ERROR_CLIENT_AUTHENTICATE ||
             error.code == MONGOC_ERROR_CLIENT_NO_ACCEPTABLE_PEER;
    default:
      return false;
  }
}

std::optional<bson::Element> find(const bson_t* reply, std::string_view key) {
  if (!reply || reply->len <= 5) return std::nullopt;
  return bson::DocumentView(reply).find(key);
}

std::string string_field(bson::DocumentView doc, std::string_view key) {
  auto e = doc.find(key);
  return e && e->type() == bson::Type::string ? std::string(e->as_string()) : std::string();
}

// The first write error of a reply, where the server put the details of a failed write.
std::optional<bson::DocumentView> first_write_error(const bson_t* reply) {
  auto errors = find(reply, "writeErrors");
  if (!errors || errors->type() != bson::Type::array) return std::nullopt;
  for (bson::Element e : errors->as_array()) {
    if (e.type() == bson::Type::document) return e.as_document();
  }
  return std::nullopt;
}

std::vector<std::string> labels_of(const bson_t* reply) {
  std::vector<std::string> labels;
  auto array = find(reply, "errorLabels");
  if (!array || array->type() != bson::Type::array) return labels;
  for (bson::Element e : array->as_array()) {
    if (e.type() == bson::Type::string) labels.emplace_back(e.as_string());
  }
  return labels;
}

bool is_duplicate_key(int32_t code, std::string_view message) {
  WriteError probe{0, code, std::string(message), {}};
  return probe.is_duplicate_key();
}

// MongoDB: "E11000 duplicate key error collection: db.c index: email_1 dup key: {...}";
// other compatible servers: "... Index 'email_1' ...".
std::optional<std::string> index_from_message(std::string_view message) {
  constexpr std::string_view marker = "index: ";
  if (std::size_t at = message.find(marker); at != std::string_view::npos) {
    std::string_view rest = message.substr(at + marker.size());
    std::string_view name = rest.substr(0, rest.find(' '));
    if (!name.empty()) return std::string(name);
  }
  constexpr std::string_view quoted = "Index '";
  if (std::size_t at = message.find(quoted); at != std::string_view::npos) {
    std::string_view rest = message.substr(at + quoted.size());
    std::string_view name = rest.substr(0, rest.find('\''));
    if (!name.empty() && name.size() < rest.size()) return std::string(name);
  }
  return std::nullopt;
}

}  // namespace

bool is_secret_option(std::string_view key) {
  std::string lower(key);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("token") != std::string::npos || lower == "authmechanismproperties";
}

std::optional<UriLayout> uri_layout(std::string_view uri) {
  std::size_t scheme = uri.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  UriLayout layout;
  layout.authority = scheme + 3;
  layout.authority_end = std::min(uri.find_first_of("/?", layout.authority), uri.size());
  if (std::size_t at = uri.rfind('@', layout.authority_end); at != std::string_view::npos && at >= layout.authority) {
    layout.at = at;
  }
  if (std::size_t query = uri.find('?', layout.authority_end); query != std::string_view::npos) {
    for (std::size_t key = query + 1; key < uri.size();) {
      std::size_t next = std::min(uri.find_first_of("&;", key), uri.size());
      std::size_t equals = uri.find('=', key);
      if (equals < next) layout.options.push_back({key, equals, next});
      key = next + 1;
    }
  }
  return layout;
}

std::string redact_credentials(std::string_view text) {
  std::string out(text);
  std::size_t from = 0;
  while ((from = out.find("://", from)) != std::string::npos) {
    std::size_t uri_end = std::min(out.find_first_of(" \t\n'\"", from + 3), out.size());
    UriLayout layout = *uri_layout(std::string_view(out).substr(from, uri_end - from));
    auto mask = [&](std::size_t begin, std::size_t end) {  // offsets in the URI; back to front
      if (end <= begin) return;
      out.replace(from + begin, end - begin, "****");
      uri_end = uri_end - (end - begin) + 4;
    };
    // the values of secret options: ?tlsCertificateKeyFilePassword=...&authMechanismProperties=...
    for (auto option = layout.options.rbegin(); option != layout.options.rend(); ++option) {
      std::string_view key = std::string_view(out).substr(from + option->key, option->equals - option->key);
      if (is_secret_option(key)) mask(option->equals + 1, option->end);
    }
    // the password of user:password@
    if (layout.at) {
      std::size_t colon = out.find(':', from + layout.authority);
      if (colon != std::string::npos && colon - from < *layout.at) mask(colon - from + 1, *layout.at);
    }
    from = uri_end;
  }
  return out;
}

void throw_error(const bson_error_t& error, const bson_t* reply, const ErrorContext& context) {
  std::string message = redact_credentials(error.message);
  std::string where = context.target.empty() ? std::string() : std::string(context.target) + ": ";

  if (is_connection_failure(error)) {
    std::string text = where + message;
    if (!context.hosts.empty()) text += " (hosts: " + std::string(context.hosts) + ")";
    throw ConnectionError(text);
  }

  auto write_error = first_write_error(reply);
  bool from_server = error.domain == MONGOC_ERROR_SERVER ||
                     error.domain == MONGOC_ERROR_WRITE_CONCERN || write_error.has_value() ||
                     find(reply, "code").has_value() ||
                     (error.domain == MONGOC_ERROR_QUERY && error.code != 0);
  if (!from_server) throw InvalidRequestError(where + message);

  int32_t code = static_cast<int32_t>(error.code);
  std::string code_name = reply ? string_field(reply, "codeName") : std::string();
  if (write_error) {
    if (auto c = write_error->find("code"); c && c->type() == bson::Type::int32) code = c->as_int32();
    std::string write_message = string_field(*write_error, "errmsg");
    if (!write_message.empty()) message = redact_credentials(write_message);
    if (auto name = string_field(*write_error, "codeName"); !name.empty()) code_name = name;
  }
  bson::Document reply_copy = reply ? bson::Document(bson::DocumentView(reply)) : bson::Document();
  std::vector<std::string> labels = labels_of(reply);

  if (is_duplicate_key(code, message)) {
    std::optional<bson::Document> key;
    for (auto source : {write_error, std::optional<bson::DocumentView>(reply_copy.view())}) {
      if (!source || key) continue;
      if (auto kv = source->find("keyValue"); kv && kv->type() == bson::Type::document) {
        key = bson::Document(kv->as_document());
      }
    }
    std::optional<std::string> index = index_from_message(message);
    for (auto source : {write_error, std::optional<bson::DocumentView>(reply_copy.view())}) {
      if (!source || index) continue;
      if (auto pattern = source->find("keyPattern"); pattern && pattern->type() == bson::Type::document) {
        bson_t keys = pattern->as_document().as_bson();
        if (char* name = mongoc_collection_keys_to_index_string(&keys)) {
          index = name;
          bson_free(name);
        }
      }
    }
    std::string_view target = context.target;
    std::string collection(target.substr(target.find('.') == std::string_view::npos ? 0 : target.find('.') + 1));
    throw DuplicateKeyError(where + "duplicate key: " + message, code, std::move(code_name),
                            std::move(labels), std::move(reply_copy), std::move(collection), std::move(index),
                            std::move(key));
  }
  std::string text = where + message + " (code " + std::to_string(code);
  if (!code_name.empty()) text += ", " + code_name;
  text += ")";
  throw CommandError(std::move(text), code, std::move(code_name), std::move(labels),
                     std::move(reply_copy));
}

void append_hint(bson::Builder& opts, const std::optional<Hint>& hint) {
  if (!hint) return;
  if (const auto* name = std::get_if<std::string>(&*hint)) {
    opts.append("hint", *name);
  } else {
    opts.append("hint", std::get<bson::Document>(*hint).view());
  }
}

}  // namespace mongo_orm::detail
