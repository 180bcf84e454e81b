// References between models, stored as MongoEngine's ReferenceField stores them: the _id of
// the referenced document (an ObjectId by default), or a DBRef {$ref: collection, $id: id} when
// asked. `populate` fetches the referenced documents of many objects in one query per field.
//
//   struct Post { bson::ObjectId id; std::string title; Ref<User> author; std::vector<Ref<User>> readers; };
//   post.author = ada->id;                       // or = ada (a stored object)
//   auto posts = db_posts.query().populate(&Post::author).to_vector();
//   posts[0]->author->name                       // the referenced User, fetched by one $in query
#pragma once

#include <bson/bson.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mongo_orm/model/schema.hpp"

namespace mongo_orm::model {

// How a reference is stored.
enum class RefStorage {
  id,     // the referenced _id itself (MongoEngine's ReferenceField, dbref=False)
  dbref,  // {$ref: "<collection>", $id: <_id>} (dbref=True); read back either way
};

// A reference to a document of model Target, whose _id is an Id. Holds the id; after populate,
// also the referenced object (shared by every reference to it, read-only: load it through its
// own collection to change it). Compares by id. Target may be incomplete where Ref is declared,
// so a model can refer to its own kind.
template <class Target, class Id = bson::ObjectId, RefStorage Storage = RefStorage::id>
class Ref {
 public:
  using target_type = Target;
  using id_type = Id;
  static constexpr RefStorage storage = Storage;

  Ref() = default;
  Ref(Id id) : id_(std::move(id)) {}  // NOLINT: post.author = user->id
  // A reference to an object of Target: its id (the object must have one, i.e. be stored).
  Ref(const Target& object) : id_(id_of(object)) {}  // NOLINT: post.author = *user

  const Id& id() const noexcept { return id_; }
  // Whether it refers to anything: an id other than the empty one (a null ObjectId, "", 0).
  bool is_set() const { return !(id_ == Id{}); }
  // Whether populate found the referenced object.
  bool is_populated() const noexcept { return target_ != nullptr; }
  // The referenced object; InvalidRequestError when the reference was not populated.
  const Target& operator*() const { return *checked(); }
  const Target* operator->() const { return checked(); }
  // The referenced object, or nullptr when not populated.
  const Target* get() const noexcept { return target_.get(); }

  friend bool operator==(const Ref& a, const Ref& b) { return a.id_ == b.id_; }

  // Sets the referenced object (populate does); its id must be this reference's.
  void attach(std::shared_ptr<const Target> target) { target_ = std::move(target); }
  // The id of an object of Target; InvalidRequestError when its model declares none.
  static Id id_of(const Target& object) {
    const auto& schema = schema_of<Target>();
    if (!schema.has_id()) {
      throw InvalidRequestError("a reference to a model of '" + schema.collection() + "' needs the model to declare its _id");
    }
    std::optional<Id> found;
    schema.visit_id(object, [&](const auto& id) {
      if constexpr (std::is_same_v<std::decay_t<decltype(id)>, Id>) found = id;
    });
    if (!found) {
      throw InvalidRequestError("a reference to a model of '" + schema.collection() +
                                "' declares an id type other than the model's _id");
    }
    return *found;
  }

 private:
  const Target* checked() const {
    if (!target_) {
      throw InvalidRequestError("a reference to '" + schema_of<Target>().collection() +
                                "' was not populated: call populate on the query or the collection first");
    }
    return target_.get();
  }

  Id id_{};
  std::shared_ptr<const Target> target_;
};

namespace detail {
template <class M>
struct RefTraits {
  static constexpr bool is_ref = false;
};
template <class Target, class Id, RefStorage Storage>
struct RefTraits<Ref<Target, Id, Storage>> {
  static constexpr bool is_ref = true;
  using ref = Ref<Target, Id, Storage>;
};
template <class M>
struct RefTraits<std::optional<M>> : RefTraits<M> {};
template <class M>
struct RefTraits<std::vector<M>> : RefTraits<M> {};

// Calls fn on every reference a member holds: a Ref, an optional one, a vector of them.
template <class M, class F>
void for_each_ref(M& value, F&& fn) {
  if constexpr (requires { value.has_value(); *value; }) {
    if (value.has_value()) for_each_ref(*value, fn);
  } else if constexpr (requires { value.begin(); value.size(); }) {
    for (auto& item : value) for_each_ref(item, fn);
  } else {
    fn(value);
  }
}
[[noreturn]] void throw_wrong_dbref_collection(std::string_view stored, std::string_view expected);
// The stored type of a reference by id, as description.hpp names types.
template <class Id>
constexpr const char* stored_id_type() {
  if constexpr (std::is_same_v<Id, bson::ObjectId>) {
    return "objectId";
  } else if constexpr (std::is_same_v<Id, std::string>) {
    return "string";
  } else if constexpr (std::is_same_v<Id, int32_t>) {
    return "int";
  } else if constexpr (std::is_same_v<Id, int64_t>) {
    return "long";
  } else if constexpr (requires { Codec<Id>::stored_type; }) {
    return Codec<Id>::stored_type;
  } else {
    return "custom";
  }
}
}  // namespace detail

// A member that holds references: Ref, std::optional<Ref>, std::vector<Ref>.
template <class M>
concept RefMember = detail::RefTraits<M>::is_ref;

template <class Target, class Id, RefStorage Storage>
struct Codec<Ref<Target, Id, Storage>> {
  static constexpr const char* stored_type = Storage == RefStorage::dbref ? "object" : detail::stored_id_type<Id>();
  // By id, what the id's codec vouches for; a DBRef's keys are checked by the driver.
  static constexpr bool audited = Storage == RefStorage::id && audited_codec<Id>();
  // A reference to nothing (is_set() false) is stored as null, never as an empty id.
  static void encode(bson_t* doc, std::string_view key, const Ref<Target, Id, Storage>& ref) {
    if (!ref.is_set()) {
      if (!bson_append_null(doc, key.data(), static_cast<int>(key.size()))) bson::detail::throw_append_failed(key);
      return;
    }
    if constexpr (Storage == RefStorage::id) {
      Codec<Id>::encode(doc, key, ref.id());
    } else {
      bson_t child;
      if (!bson_append_document_begin(doc, key.data(), static_cast<int>(key.size()), &child)) {
        bson::detail::throw_append_failed(key);
      }
      bson::detail::append(&child, "$ref", std::string_view(schema_of<Target>().collection()));
      Codec<Id>::encode(&child, "$id", ref.id());
      bson_append_document_end(doc, &child);
    }
  }
  // Either form is read, whatever this reference writes: the id, or a DBRef of Target's
  // collection; null is a reference to nothing.
  static void decode(const bson::Element& e, Ref<Target, Id, Storage>& out) {
    Id id{};
    if (e.type() == bson::Type::null) {
      out = Ref<Target, Id, Storage>();
      return;
    }
    if (e.type() == bson::Type::document) {
      bson::DocumentView dbref = e.as_document();
      auto collection = dbref.find("$ref");
      auto stored_id = dbref.find("$id");
      if (!collection || !stored_id || collection->type() != bson::Type::string) {
        throw DecodeError::at("", "a document that is not a DBRef ({$ref, $id}) where a reference to '" +
                                      schema_of<Target>().collection() + "' is stored");
      }
      if (collection->as_string() != schema_of<Target>().collection()) {
        detail::throw_wrong_dbref_collection(collection->as_string(), schema_of<Target>().collection());
      }
      decode_nested(*stored_id, id, "$id");
    } else {
      Codec<Id>::decode(e, id);
    }
    out = Ref<Target, Id, Storage>(std::move(id));
  }
};

// What populate does with a reference whose document does not exist.
enum class Dangling {
  raise,              // DanglingReferenceError naming the document, the field and the missing id
  leave_unpopulated,  // the reference keeps its id; is_populated() is false
};
struct PopulateOptions {
  Dangling dangling = Dangling::raise;
};

}  // namespace mongo_orm::model
