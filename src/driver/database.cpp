// Database handles: collections, commands, administration.
#include "mongo_orm/driver/database.hpp"

#include "internal.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm {

namespace {
class DatabaseGuard {
 public:
  DatabaseGuard(mongoc_client_t* client, const std::string& name)
      : db_(mongoc_client_get_database(client, name.c_str())) {}
  DatabaseGuard(const DatabaseGuard&) = delete;
  DatabaseGuard& operator=(const DatabaseGuard&) = delete;
  ~DatabaseGuard() { mongoc_database_destroy(db_); }
  mongoc_database_t* get() const noexcept { return db_; }

 private:
  mongoc_database_t* db_;
};
}  // namespace

Database::Database(Client client, std::string name) : client_(std::move(client)), name_(std::move(name)) {
  if (name_.empty()) throw ConfigurationError("a database name must not be empty");
}

Database::Database(Client client, std::string name, std::shared_ptr<detail::SessionBinding> session)
    : Database(std::move(client), std::move(name)) {
  session_ = std::move(session);
}

Collection Database::collection(std::string_view name) const {
  return Collection(client_, name_, std::string(name), session_);
}

bson::Document Database::run_command(bson::DocumentView command) const {
  return client_.run_command(name_, command);
}

std::vector<std::string> Database::list_collection_names(bson::DocumentView filter) const {
  detail::check_in_transaction("list_collection_names", name_, session_.get(), detail::CallKind::catalog_read);
  auto lease = client_.acquire();
  DatabaseGuard db(lease.get(), name_);
  bson::Document opts = bson::Builder{}.append("filter", filter).extract();
  bson_error_t error;
  char** names = mongoc_database_get_collection_names_with_opts(db.get(), opts.bson(), &error);
  if (!names) detail::throw_error(error, nullptr, {name_, client_.hosts()});
  std::vector<std::string> result;
  for (char** n = names; *n; ++n) result.emplace_back(*n);
  bson_strfreev(names);
  return result;
}

bool Database::has_collection(std::string_view name) const {
  auto names = list_collection_names(bson::Builder{}.append("name", name).extract());
  return !names.empty();
}

Collection Database::create_collection(std::string_view name, bson::DocumentView options) const {
  client_.check_writable("create_collection", name_ + "." + std::string(name));
  detail::check_in_transaction("create_collection", name_ + "." + std::string(name), session_.get(),
                               detail::CallKind::catalog_change);
  auto lease = client_.acquire();
  DatabaseGuard db(lease.get(), name_);
  std::string coll_name(name);
  bson_t opts = options.as_bson();
  bson_error_t error;
  mongoc_collection_t* created =
      mongoc_database_create_collection(db.get(), coll_name.c_str(), &opts, &error);
  if (!created) detail::throw_error(error, nullptr, {name_ + "." + coll_name, client_.hosts()});
  mongoc_collection_destroy(created);
  return collection(coll_name);
}

void Database::drop() const {
  client_.check_writable("drop", name_);
  detail::check_in_transaction("drop", name_, session_.get(), detail::CallKind::catalog_change);
  auto lease = client_.acquire();
  DatabaseGuard db(lease.get(), name_);
  bson_error_t error;
  if (!mongoc_database_drop_with_opts(db.get(), nullptr, &error)) {
    detail::throw_error(error, nullptr, {name_, client_.hosts()});
  }
}

}  // namespace mongo_orm
