// A client pool whose commands are counted through libmongoc's command monitoring: every command
// sent, and per command name and collection ("find" on "authors"; a getMore counts under the
// collection it reads). For tests and benchmarks that count round trips.
#pragma once

#include <mongoc/mongoc.h>

#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "mongo_orm/driver/client.hpp"

namespace mongo_orm::testing {

class CommandCounter {
 public:
  explicit CommandCounter(const std::string& uri) {
    bson_error_t error;
    uri_ = mongoc_uri_new_with_error(uri.c_str(), &error);
    if (!uri_) throw std::invalid_argument(std::string("CommandCounter: ") + error.message);
    pool_ = mongoc_client_pool_new(uri_);
    mongoc_apm_callbacks_t* callbacks = mongoc_apm_callbacks_new();
    mongoc_apm_set_command_started_cb(callbacks, &CommandCounter::started);
    mongoc_client_pool_set_apm_callbacks(pool_, callbacks, this);
    mongoc_apm_callbacks_destroy(callbacks);
    client_.emplace(Client::wrap(pool_));
  }
  CommandCounter(const CommandCounter&) = delete;
  CommandCounter& operator=(const CommandCounter&) = delete;
  ~CommandCounter() {
    client_.reset();
    mongoc_client_pool_destroy(pool_);
    mongoc_uri_destroy(uri_);
  }

  // A client on the counted pool.
  const Client& client() const { return *client_; }
  mongoc_client_pool_t* pool() const noexcept { return pool_; }

  // Commands sent so far: all of them, or those of one name on one collection.
  int64_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }
  int64_t count(std::string_view command, std::string_view collection) const {
    std::lock_guard lock(mutex_);
    auto found = counts_.find({std::string(command), std::string(collection)});
    return found == counts_.end() ? 0 : found->second;
  }
  // Every command name and collection counted, for messages: "find ref_authors: 2, getMore ref_authors: 2".
  std::string summary() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [key, value] : counts_) {
      out += (out.empty() ? "" : ", ") + key.first + " " + key.second + ": " + std::to_string(value);
    }
    return out;
  }
  // Commands of any name on one collection.
  int64_t on(std::string_view collection) const {
    std::lock_guard lock(mutex_);
    int64_t n = 0;
    for (const auto& [key, value] : counts_) {
      if (key.second == collection) n += value;
    }
    return n;
  }

 private:
  static void started(const mongoc_apm_command_started_t* event) {
    auto* self = static_cast<CommandCounter*>(mongoc_apm_command_started_get_context(event));
    std::string name = mongoc_apm_command_started_get_command_name(event);
    const char* collection_key = name == "getMore" ? "collection" : name.c_str();
    std::string collection;
    bson_iter_t it;
    if (bson_iter_init_find(&it, mongoc_apm_command_started_get_command(event), collection_key) && BSON_ITER_HOLDS_UTF8(&it)) {
      collection = bson_iter_utf8(&it, nullptr);
    }
    std::lock_guard lock(self->mutex_);
    ++self->total_;
    ++self->counts_[{std::move(name), std::move(collection)}];
  }

  mongoc_uri_t* uri_ = nullptr;
  mongoc_client_pool_t* pool_ = nullptr;
  std::optional<Client> client_;
  mutable std::mutex mutex_;
  int64_t total_ = 0;
  std::map<std::pair<std::string, std::string>, int64_t> counts_;
};

}  // namespace mongo_orm::testing
