// A lazy cursor over query or aggregation results, usable in range-for. Each document is a
// view that stays valid until the cursor advances; server errors are thrown while iterating.
#pragma once

#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/driver/client.hpp"

typedef struct _mongoc_cursor_t mongoc_cursor_t;
typedef struct _mongoc_collection_t mongoc_collection_t;

namespace mongo_orm {

class Cursor {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = bson::DocumentView;
    using difference_type = std::ptrdiff_t;
    using reference = bson::DocumentView;
    using pointer = void;

    Iterator() noexcept = default;
    reference operator*() const noexcept { return *cursor_->current_; }
    Iterator& operator++() {
      cursor_->advance();
      if (!cursor_->current_) cursor_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& a, const Iterator& b) noexcept {
      return a.cursor_ == b.cursor_;
    }

   private:
    friend class Cursor;
    explicit Iterator(Cursor* cursor) noexcept : cursor_(cursor) {}
    Cursor* cursor_ = nullptr;
  };

  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  // Starts (or continues) iteration. A cursor is single-pass.
  Iterator begin();
  Iterator end() noexcept { return {}; }
  // The next document, or nullopt at the end. The view is valid until the cursor moves on.
  std::optional<bson::DocumentView> next();
  // Every remaining document, as owning copies: for results known to be small.
  std::vector<bson::Document> to_vector();

 private:
  friend class Collection;
  Cursor(Client::Lease lease, mongoc_collection_t* collection, mongoc_cursor_t* cursor,
         std::string namespace_name, std::string hosts) noexcept;
  void advance();

  struct Handles;
  std::unique_ptr<Handles> handles_;
  std::optional<bson::DocumentView> current_;
  bool started_ = false;
  bool finished_ = false;  // libmongoc refuses to advance a finished cursor
};

}  // namespace mongo_orm
