// Typed updates on fields named by member pointers:
//   Update().set(field(&User::name), "Ada").inc(field(&User::logins), 1).push(field(&User::tags), "x")
// Values are encoded by the field's codec and must be storable as the field's type.
#pragma once

#include <chrono>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mongo_orm/model/query.hpp"

namespace mongo_orm::model {

class Update {
 public:
  Update() = default;
  Update(const Update& other);
  Update& operator=(const Update& other);
  Update(Update&&) noexcept = default;
  Update& operator=(Update&&) noexcept = default;
  ~Update() = default;

  template <class M, class V>
    requires detail::StorableAs<V, M>
  Update& set(const FieldPath<M>& field, const V& value) {
    Codec<M>::encode(operator_builder("$set").native(), field.path(), M(value));
    return *this;
  }
  template <class M>
  Update& unset(const FieldPath<M>& field) {
    operator_builder("$unset").append(field.path(), "");
    return *this;
  }
  template <class M, class V>
    requires(std::is_arithmetic_v<M> && !std::is_same_v<M, bool> && detail::StorableAs<V, M>)
  Update& inc(const FieldPath<M>& field, const V& amount) {
    Codec<M>::encode(operator_builder("$inc").native(), field.path(), M(amount));
    return *this;
  }
  template <class U, class V>
    requires detail::StorableAs<V, U>
  Update& push(const FieldPath<std::vector<U>>& field, const V& value) {
    Codec<U>::encode(operator_builder("$push").native(), field.path(), U(value));
    return *this;
  }
  // Removes every element equal to the value.
  template <class U, class V>
    requires detail::StorableAs<V, U>
  Update& pull(const FieldPath<std::vector<U>>& field, const V& value) {
    Codec<U>::encode(operator_builder("$pull").native(), field.path(), U(value));
    return *this;
  }
  // Renames the stored field (a raw stored name: the model usually no longer declares it).
  template <class M>
  Update& rename(const FieldPath<M>& field, const std::string& new_stored_name) {
    operator_builder("$rename").append(field.path(), new_stored_name);
    return *this;
  }
  // Sets a date field to the server's current time.
  template <class M>
    requires(std::is_same_v<M, std::chrono::system_clock::time_point> || std::is_same_v<M, bson::DateTime>)
  Update& current_date(const FieldPath<M>& field) {
    operator_builder("$currentDate").append(field.path(), true);
    return *this;
  }

  bool empty() const noexcept { return parts_.empty(); }
  // The update document: {"$set": {...}, "$inc": {...}, ...}.
  bson::Document document() const;
  // Lets the library add its own entries (timestamps, version counters).
  bson::Builder& operator_builder(std::string_view op);

 private:
  std::vector<std::pair<std::string, bson::Builder>> parts_;
};

}  // namespace mongo_orm::model
