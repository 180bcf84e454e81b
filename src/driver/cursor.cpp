// Cursor iteration over mongoc_cursor_t, keeping its pooled connection until destroyed.
#include "mongo_orm/driver/cursor.hpp"

#include "internal.hpp"

namespace mongo_orm {

struct Cursor::Handles {
  Client::Lease lease;  // declared first: returned to the pool last
  mongoc_collection_t* collection;
  mongoc_cursor_t* cursor;
  std::string namespace_name;
  std::string hosts;

  Handles(Client::Lease l, mongoc_collection_t* c, mongoc_cursor_t* cur, std::string ns,
          std::string h)
      : lease(std::move(l)), collection(c), cursor(cur), namespace_name(std::move(ns)),
        hosts(std::move(h)) {}
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
  ~Handles() {
    mongoc_cursor_destroy(cursor);
    mongoc_collection_destroy(collection);
  }
};

Cursor::Cursor(Client::Lease lease, mongoc_collection_t* collection, mongoc_cursor_t* cursor,
               std::string namespace_name, std::string hosts) noexcept
    : handles_(std::make_unique<Handles>(std::move(lease), collection, cursor,
                                         std::move(namespace_name), std::move(hosts))) {}

Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;
Cursor::~Cursor() = default;

void Cursor::advance() {
  started_ = true;
  current_.reset();
  if (finished_ || !handles_) return;
  const bson_t* doc = nullptr;
  if (mongoc_cursor_next(handles_->cursor, &doc)) {
    current_ = bson::DocumentView(doc);
    return;
  }
  finished_ = true;
  bson_error_t error;
  const bson_t* reply = nullptr;
  if (mongoc_cursor_error_document(handles_->cursor, &error, &reply)) {
    detail::throw_error(error, reply, {handles_->namespace_name, handles_->hosts});
  }
}

Cursor::Iterator Cursor::begin() {
  if (!started_) advance();
  return current_ ? Iterator(this) : Iterator();
}

std::vector<bson::Document> Cursor::to_vector() {
  std::vector<bson::Document> all;
  while (auto document = next()) all.emplace_back(*document);
  return all;
}

std::optional<bson::DocumentView> Cursor::next() {
  advance();
  return current_;
}

}  // namespace mongo_orm
