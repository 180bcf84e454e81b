// A model object together with the document it was loaded from, so that saving sends only
// what changed and keeps the fields the model does not know.
#pragma once

#include <optional>
#include <utility>

#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/model/schema.hpp"

namespace mongo_orm::model {

template <Model T>
class TypedCollection;

template <Model T>
class Tracked {
 public:
  Tracked() = default;
  // A new object, not stored yet: saving it inserts it.
  explicit Tracked(T value) : value_(std::move(value)) {}

  T& operator*() noexcept { return value_; }
  const T& operator*() const noexcept { return value_; }
  T* operator->() noexcept { return &value_; }
  const T* operator->() const noexcept { return &value_; }
  T& get() noexcept { return value_; }
  const T& get() const noexcept { return value_; }

  bool is_stored() const noexcept { return stored_.has_value(); }
  // Loaded from a document of an older schema version: the next save stores it upgraded.
  bool needs_upgrade() const noexcept { return upgraded_.has_value(); }
  // The document as last loaded or saved; empty for a new object.
  const std::optional<bson::Document>& stored() const noexcept { return stored_; }
  // Stored fields the model does not declare (kept under the preserve policy).
  bson::Document unknown_fields() const {
    bson::Builder unknown;
    if (stored_) {
      for (bson::Element e : *stored_) {
        if (!schema_of<T>().declares(e.key()) && e.key() != "_id" &&
            (!upgraded_ || upgraded_->contains(e.key()))) {
          unknown.append(e.key(), e);
        }
      }
    }
    return unknown.extract();
  }

 private:
  friend class TypedCollection<T>;
  T value_{};
  std::optional<bson::Document> stored_;
  std::optional<bson::Document> upgraded_;  // the stored document after upgrade steps
};

}  // namespace mongo_orm::model
