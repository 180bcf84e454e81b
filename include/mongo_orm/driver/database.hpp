// A database on a client: collections, commands and administration.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/driver/client.hpp"

namespace mongo_orm {

class Collection;

class Database {
 public:
  Database(Client client, std::string name);
  // A handle whose collections' reads and writes run in a session (see Client::with_transaction).
  Database(Client client, std::string name, std::shared_ptr<detail::SessionBinding> session);

  const std::string& name() const noexcept { return name_; }
  const Client& client() const noexcept { return client_; }
  Collection collection(std::string_view name) const;

  bson::Document run_command(bson::DocumentView command) const;
  std::vector<std::string> list_collection_names(bson::DocumentView filter = {}) const;
  bool has_collection(std::string_view name) const;
  // Creates a collection explicitly (options as the create command takes them: capped, ...).
  Collection create_collection(std::string_view name, bson::DocumentView options = {}) const;
  void drop() const;

 private:
  Client client_;
  std::string name_;
  std::shared_ptr<detail::SessionBinding> session_;
};

}  // namespace mongo_orm
