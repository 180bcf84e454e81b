// The pooled client: URI parsing, connection leases, commands and capability detection.
#include "mongo_orm/driver/client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include "internal.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm {

namespace detail {
ClientState::~ClientState() {
  if (owns_pool && pool) mongoc_client_pool_destroy(pool);
  if (uri) mongoc_uri_destroy(uri);
}
}  // namespace detail

namespace {

// libmongoc's own log lines go through the same redaction as our messages; its debug and
// trace chatter is dropped.
void log_handler(mongoc_log_level_t level, const char* domain, const char* message, void*) {
  if (level > MONGOC_LOG_LEVEL_WARNING) return;
  // Servers without endSessions (FerretDB) make every pool teardown warn; the server expires
  // the sessions by itself, so the warning says nothing the user can act on.
  if (std::strstr(message, "\"endSessions\"") != nullptr) return;
  std::string text = detail::redact_credentials(message);
  std::fprintf(stderr, "%s: %s: %s\n", mongoc_log_level_str(level), domain, text.c_str());
}

void initialize_driver() {
  static std::once_flag once;
  std::call_once(once, [] {
    mongoc_init();
    mongoc_log_set_handler(log_handler, nullptr);
  });
}

// What of a URI must never be shown, however libmongoc quotes it (it may lowercase a part it
// took for a host): the user information of "scheme://user:password@" up to its last '@', each
// part of it of three characters or more (an unescaped '@' or ':' splits a password into parts
// a message may show apart), and the values of secret options.
std::vector<std::string> secrets_in(std::string_view uri) {
  std::vector<std::string> secrets;
  std::optional<detail::UriLayout> layout = detail::uri_layout(uri);
  if (!layout) return secrets;
  std::string_view user_info = layout->at ? uri.substr(layout->authority, *layout->at - layout->authority) : "";
  if (user_info.find_first_of(":@") != std::string_view::npos) {  // a user name alone is no secret
    secrets.emplace_back(user_info);
    std::size_t colon = user_info.find(':');
    if (colon != std::string_view::npos) secrets.emplace_back(user_info.substr(colon + 1));
    for (std::size_t piece = 0; piece <= user_info.size();) {
      std::size_t stop = std::min(user_info.find_first_of("@:", piece), user_info.size());
      if (stop - piece >= 3) secrets.emplace_back(user_info.substr(piece, stop - piece));
      piece = stop + 1;
    }
  }
  for (const detail::UriLayout::Option& option : layout->options) {
    if (detail::is_secret_option(uri.substr(option.key, option.equals - option.key)) && option.end > option.equals + 1) {
      secrets.emplace_back(uri.substr(option.equals + 1, option.end - option.equals - 1));
    }
  }
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

// `text` with every secret masked, whatever its case.
std::string without(std::string text, const std::vector<std::string>& secrets) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const std::string& secret : secrets) {
    if (secret.find_first_not_of('*') == std::string::npos) continue;  // nothing to hide, and "****" holds it
    std::string needle = lower(secret);
    for (std::size_t at; (at = lower(text).find(needle)) != std::string::npos;) text.replace(at, secret.size(), "****");
  }
  return text;
}

std::string describe_hosts(const mongoc_uri_t* uri) {
  if (const char* srv = mongoc_uri_get_srv_hostname(uri)) return std::string("srv:") + srv;
  std::string hosts;
  for (const mongoc_host_list_t* h = mongoc_uri_get_hosts(uri); h; h = h->next) {
    if (!hosts.empty()) hosts += ",";
    hosts += h->host_and_port;
  }
  return hosts;
}

}  // namespace

Client::Client(std::string_view uri_text, const ClientOptions& options) {
  initialize_driver();
  auto state = std::make_shared<detail::ClientState>();
  std::string text(uri_text);
  std::vector<std::string> secret = secrets_in(text);
  bson_error_t error;
  // An '@' or a second ':' in the user information must be percent-encoded; libmongoc would
  // take what follows an unescaped '@' of a password for a host and quote it in every error.
  if (std::optional<detail::UriLayout> layout = detail::uri_layout(text); layout && layout->at) {
    std::string_view user_info = std::string_view(text).substr(layout->authority, *layout->at - layout->authority);
    std::size_t colon = user_info.find(':');
    if (user_info.find('@') != std::string_view::npos ||
        (colon != std::string_view::npos && user_info.find(':', colon + 1) != std::string_view::npos)) {
      throw ConfigurationError("invalid MongoDB URI " + without(detail::redact_credentials(text), secret) +
                               ": the user name or password holds an '@' or ':' that is not percent-encoded "
                               "(write '@' as %40 and ':' as %3A)");
    }
  }
  state->uri = mongoc_uri_new_with_error(text.c_str(), &error);
  if (!state->uri) {
    throw ConfigurationError("invalid MongoDB URI: " +
                             without(detail::redact_credentials(error.message), secret));
  }
  if (options.server_selection_timeout_ms &&
      !mongoc_uri_has_option(state->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS)) {
    mongoc_uri_set_option_as_int32(state->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                   *options.server_selection_timeout_ms);
  }
  // A server that accepts connections but never answers holds the first handshake for
  // connectTimeoutMS (10 s by default), whatever serverSelectionTimeoutMS says: unless the URI
  // sets it, the connect timeout is no longer than the selection timeout.
  if (!mongoc_uri_has_option(state->uri, MONGOC_URI_CONNECTTIMEOUTMS) &&
      mongoc_uri_has_option(state->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS)) {
    int32_t selection = mongoc_uri_get_option_as_int32(state->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 0);
    if (selection > 0 && selection < 10000) {
      mongoc_uri_set_option_as_int32(state->uri, MONGOC_URI_CONNECTTIMEOUTMS, selection);
    }
  }
  if (options.max_pool_size && !mongoc_uri_has_option(state->uri, MONGOC_URI_MAXPOOLSIZE)) {
    mongoc_uri_set_option_as_int32(state->uri, MONGOC_URI_MAXPOOLSIZE, *options.max_pool_size);
  }
  if (!options.app_name.empty() && !mongoc_uri_get_appname(state->uri)) {
    mongoc_uri_set_appname(state->uri, options.app_name.c_str());
  }
  state->hosts = describe_hosts(state->uri);
  state->pool = mongoc_client_pool_new_with_error(state->uri, &error);
  if (!state->pool) {
    throw ConfigurationError("cannot create a connection pool for " + state->hosts + ": " +
                             without(detail::redact_credentials(error.message), secret));
  }
  state->owns_pool = true;
  mongoc_client_pool_set_error_api(state->pool, MONGOC_ERROR_API_VERSION_2);
  state_ = std::move(state);
}

Client Client::wrap(mongoc_client_pool_t* pool) {
  initialize_driver();
  if (!pool) throw ConfigurationError("Client::wrap: the pool is null");
  auto state = std::make_shared<detail::ClientState>();
  state->pool = pool;
  state->owns_pool = false;
  state->hosts = "the application's connection pool";
  return Client(std::move(state));
}

Client::Lease::Lease(Lease&& other) noexcept
    : state_(std::move(other.state_)), client_(other.client_) {
  other.client_ = nullptr;
}

Client::Lease::~Lease() {
  if (client_ && state_) mongoc_client_pool_push(state_->pool, client_);
}

Client::Lease Client::acquire() const {
  detail::check_in_transaction("a pooled connection (Client::acquire)", state_->hosts, nullptr);
  return Lease(state_, mongoc_client_pool_pop(state_->pool));
}

mongoc_client_pool_t* Client::native_pool() const noexcept { return state_->pool; }

const std::string& Client::hosts() const noexcept { return state_->hosts; }

Database Client::database(std::string_view name) const { return Database(*this, std::string(name)); }

Client Client::read_only(std::string reason) const {
  Client copy = *this;
  copy.read_only_reason_ = std::make_shared<const std::string>(std::move(reason));
  return copy;
}

void Client::check_writable(std::string_view call, std::string_view target) const {
  if (!read_only_reason_) return;
  throw ReadOnlyError(std::string(call) + " on " + std::string(target) + " refused: " + *read_only_reason_ +
                      " (nothing was sent)");
}

namespace {

// Commands that only read: the ones a read-only handle lets through run_command.
bool reads_only(bson::DocumentView command) {
  static const std::set<std::string, std::less<>> reads = {
      "aggregate", "buildInfo", "collStats", "connectionStatus", "count", "dataSize", "dbStats", "distinct",
      "explain", "find", "getMore", "getParameter", "hello", "hostInfo", "isMaster", "ismaster", "killCursors",
      "listCollections", "listDatabases", "listIndexes", "ping", "serverStatus"};
  auto first = command.begin();
  if (first == command.end() || !reads.contains((*first).key())) return false;
  if ((*first).key() != "aggregate") return true;
  auto pipeline = command.find("pipeline");
  if (!pipeline || pipeline->type() != bson::Type::array) return true;
  for (auto stage : pipeline->as_array()) {
    if (stage.type() != bson::Type::document) continue;
    auto stage_doc = stage.as_document();
    if (stage_doc.find("$out") || stage_doc.find("$merge")) return false;
  }
  return true;
}

}  // namespace

Database Client::default_database() const {
  const char* name = state_->uri ? mongoc_uri_get_database(state_->uri) : nullptr;
  if (!name || !*name) {
    throw ConfigurationError("the MongoDB URI names no database (expected mongodb://host/dbname)");
  }
  return database(name);
}

std::vector<std::string> Client::list_database_names() const {
  Lease lease = acquire();
  bson_error_t error;
  char** names = mongoc_client_get_database_names_with_opts(lease.get(), nullptr, &error);
  if (!names) detail::throw_error(error, nullptr, {"listDatabases", state_->hosts});
  std::vector<std::string> result;
  for (char** n = names; *n; ++n) result.emplace_back(*n);
  bson_strfreev(names);
  return result;
}

bson::Document Client::run_command(std::string_view database, bson::DocumentView command) const {
  if (read_only_reason_ && !reads_only(command)) {
    auto first = command.begin();
    check_writable(first == command.end() ? std::string("an empty command") : "command " + std::string((*first).key()),
                   database);
  }
  auto first = command.begin();
  detail::check_in_transaction(first == command.end() ? std::string("an empty command")
                                                      : "command " + std::string((*first).key()),
                               database, nullptr);
  Lease lease = acquire();
  std::string db(database);
  bson_t cmd = command.as_bson();
  detail::Reply reply;
  bson_error_t error;
  if (!mongoc_client_command_simple(lease.get(), db.c_str(), &cmd, nullptr, reply.out(), &error)) {
    detail::throw_error(error, &reply.doc, {db, state_->hosts});
  }
  return bson::Document(bson::DocumentView(&reply.doc));
}

void Client::ping() const { run_command("admin", bson::Builder{}.append("ping", 1).extract()); }

const Capabilities& Client::capabilities() const {
  std::lock_guard lock(state_->capabilities_mutex);
  if (!state_->capabilities) {
    bson::Document hello;
    try {
      hello = run_command("admin", bson::Builder{}.append("hello", 1).extract());
    } catch (const CommandError&) {  // servers before hello existed
      hello = run_command("admin", bson::Builder{}.append("isMaster", 1).extract());
    }
    bson::Document build_info = run_command("admin", bson::Builder{}.append("buildInfo", 1).extract());
    Capabilities assumed = Capabilities::from_replies(hello, build_info);
    state_->capabilities = assumed.kind == ServerKind::ferretdb ? assumed : ask_capabilities(std::move(assumed));
  }
  return *state_->capabilities;
}

}  // namespace mongo_orm
