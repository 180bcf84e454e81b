// The session a transaction body runs in: database handles made from it take part in it.
#pragma once

#include <memory>
#include <string_view>

#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/driver/database.hpp"

namespace mongo_orm {

class Session {
 public:
  // A database whose collections' reads and writes of documents run in this session. Valid
  // only while the transaction body runs.
  Database database(std::string_view name) const { return Database(client_, std::string(name), binding_); }

 private:
  friend class Client;
  Session(Client client, std::shared_ptr<detail::SessionBinding> binding)
      : client_(std::move(client)), binding_(std::move(binding)) {}
  Client client_;
  std::shared_ptr<detail::SessionBinding> binding_;
};

}  // namespace mongo_orm
