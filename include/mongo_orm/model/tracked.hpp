// A model object together with the document it was loaded from, so that saving sends only
// what changed and keeps the fields the model does not know.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/model/schema.hpp"

namespace mongo_orm::model {

namespace detail {
// "ObjectId('…')", a quoted string or the Extended JSON of any other _id, for messages.
std::string describe_id(bson::DocumentView document);
// One copy per distinct namespace name ("db.users") for the life of the process, so that an
// object can name where it was loaded or stored in later messages for the cost of a pointer.
const std::string* interned_namespace(const std::string& name);
}  // namespace detail

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
  // Dynamic fields: a top-level field the model does not declare, read, set or removed by name
  // (MongoEngine's DynamicDocument, Mongoose's strict: false, the seed's setattr(user, key,
  // value)). The next save (or insert) sends $set/$unset for them beside the declared fields'
  // changes. Refused, with InvalidRequestError naming the name: an empty name, one starting with
  // '$', holding a '.' or a NUL, _id, _cls, a name the model declares, and any name on a strict
  // model.
  //
  //   user.set_dynamic("referrer", std::string("newsletter"));
  //   users.save(user);                            // {$set: {referrer: "newsletter"}}
  //   user.dynamic("referrer")->get().as_string()  // "newsletter"
  //   user.remove_dynamic("referrer");             // the next save sends {$unset: {referrer: ""}}
  //
  // The value as it will be stored: the change not yet saved, else the stored one; nullopt when
  // there is none (or it was removed).
  std::optional<bson::Value> dynamic(std::string_view name) const {
    check_dynamic_name(name);
    if (auto pending = dynamic_changes_.find(std::string(name)); pending != dynamic_changes_.end()) return pending->second;
    if (stored_) {
      if (auto e = stored_->view().find(name)) return bson::Value(*e);
    }
    return std::nullopt;
  }
  // Sets it to `value`, encoded as a field of that type would be (Codec<V>).
  template <Encodable V>
  void set_dynamic(std::string_view name, const V& value) {
    check_dynamic_name(name);
    bson::Builder holder;
    Codec<V>::encode(holder.native(), "v", value);
    bson::Document encoded = holder.extract();
    dynamic_changes_[std::string(name)] = bson::Value(encoded["v"]);
  }
  void set_dynamic(std::string_view name, const char* text) { set_dynamic(name, std::string(text)); }
  void remove_dynamic(std::string_view name) {
    check_dynamic_name(name);
    dynamic_changes_[std::string(name)] = std::nullopt;
  }
  // The dynamic changes the next save sends: name -> value, nullopt for a removal.
  const std::map<std::string, std::optional<bson::Value>>& dynamic_changes() const noexcept { return dynamic_changes_; }

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

  void check_dynamic_name(std::string_view name) const {
    const auto& schema = schema_of<T>();
    auto refuse = [&](const std::string& why) {
      std::string object = stored_ ? " _id=" + detail::describe_id(stored_->view()) : std::string(" (new object)");
      const std::string& where = namespace_ ? *namespace_ : schema.collection();
      throw InvalidRequestError(where + object + ": dynamic field '" + printable(name) + "' " + why);
    };
    if (name.empty()) refuse("has no name");
    if (name.front() == '$') refuse("starts with '$': it would be read as an operator");
    if (name.find('.') != std::string_view::npos) refuse("holds a '.': a dynamic field is a top-level name, not a path");
    if (name.find('\0') != std::string_view::npos) refuse("holds a NUL byte");
    if (name == "_id" || name == "_cls") refuse("is the model's own");
    if (schema.declares(name)) refuse("is a field the model declares: set the member instead");
    if (schema.unknown_field_policy() == UnknownFields::strict) refuse("cannot be set: the model is strict (it refuses fields it does not declare)");
  }
  // The stored fields the model does not declare, with the dynamic changes applied: what a save
  // leaves stored beside the declared fields.
  bson::Document unknown_fields_after_changes() const {
    bson::Builder out;
    for (bson::Element e : unknown_fields()) {
      if (!dynamic_changes_.contains(std::string(e.key()))) out.append(e.key(), e);
    }
    for (const auto& [name, value] : dynamic_changes_) {
      if (value) out.append(name, value->get());
    }
    return out.extract();
  }

  T value_{};
  const std::string* namespace_ = nullptr;  // interned: where it was loaded or stored ("db.users")
  std::optional<bson::Document> stored_;
  std::optional<bson::Document> upgraded_;  // the stored document after upgrade steps
  std::map<std::string, std::optional<bson::Value>> dynamic_changes_;  // not saved yet
};

}  // namespace mongo_orm::model
