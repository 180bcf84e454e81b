// Populate: the referenced documents of many objects, decoded as their model (after_load hooks
// included) and shared by every reference to the same document. Loaded objects are filled with
// one {_id: {$in: [...]}} query per reference field (never one query per object); a query with
// populate joins its single references with $lookup in its own round trip where the server has
// the stage (Capabilities::lookup_stage), and uses the $in queries otherwise.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mongo_orm/model/reference.hpp"
#include "mongo_orm/model/typed_collection.hpp"

namespace mongo_orm::model {

namespace detail {
// {_id: {$in: ids[begin, end)}}, each id as its codec stores it.
template <class Id>
bson::Document ids_in(const std::vector<Id>& ids, std::size_t begin, std::size_t end) {
  bson::Builder filter;
  bson_t by_id;
  bson_t in;
  bson_append_document_begin(filter.native(), "_id", 3, &by_id);
  bson_append_array_begin(&by_id, "$in", 3, &in);
  char buffer[16];
  for (std::size_t i = begin; i < end; ++i) {
    const char* key = nullptr;
    std::size_t length = bson_uint32_to_string(static_cast<uint32_t>(i - begin), &key, buffer, sizeof buffer);
    Codec<Id>::encode(&in, std::string_view(key, length), ids[i]);
  }
  bson_append_array_end(&by_id, &in);
  bson_append_document_end(filter.native(), &by_id);
  return filter.extract();
}
// "ObjectId('…')" (as describe_id names a stored _id) for an id not in a document.
template <class Id>
std::string describe_id_value(const Id& id) {
  bson::Builder holder;
  Codec<Id>::encode(holder.native(), "_id", id);
  return describe_id(holder.extract());
}
// Ids per query: far under the 16 MB command limit for any usual id.
inline constexpr std::size_t populate_chunk = 50'000;

// Runs fn on a list holding only `object`, which gets back what the list holds, even when fn
// throws.
template <class T, class F>
void as_list(Tracked<T>& object, F&& fn) {
  std::vector<Tracked<T>> one;
  one.push_back(std::move(object));
  try {
    fn(one);
  } catch (...) {
    object = std::move(one.front());
    throw;
  }
  object = std::move(one.front());
}

// A member a query can join with $lookup: one reference stored by id (a DBRef's $id is not a
// path $lookup can follow; a vector of references is filled by $in, so that one document with
// many references cannot outgrow the 16 MB a joined document may hold).
template <class M>
inline constexpr bool joinable_ref = false;
template <class Target, class Id>
inline constexpr bool joinable_ref<Ref<Target, Id, RefStorage::id>> = true;
template <class Target, class Id>
inline constexpr bool joinable_ref<std::optional<Ref<Target, Id, RefStorage::id>>> = true;

// The referenced documents of one reference member of T's objects: which ids the objects refer
// to, the documents found for them (fetched, or joined by the server), and attaching them.
template <Model T, class M>
class ReferenceFill {
  using R = typename RefTraits<M>::ref;
  using Target = typename R::target_type;
  using Id = typename R::id_type;

 public:
  ReferenceFill(const Collection& owner, M T::*member)
      : owner_(owner), member_(member), targets_(owner.sibling(schema_of<Target>().collection())) {}

  // Notes the ids the objects refer to.
  void gather(std::vector<Tracked<T>>& objects) {
    for (Tracked<T>& object : objects) {
      for_each_ref((*object).*member_, [&](R& ref) {
        if (ref.is_set()) found_.try_emplace(ref.id());
      });
    }
  }
  // Fetches the referenced documents: one {_id: {$in}} find per populate_chunk ids.
  void fetch() {
    std::vector<Id> ids;
    ids.reserve(found_.size());
    for (const auto& entry : found_) ids.push_back(entry.first);
    for (std::size_t begin = 0; begin < ids.size(); begin += populate_chunk) {
      std::size_t end = std::min(ids.size(), begin + populate_chunk);
      // At most one document per id, all in the first reply, and the cursor closed with it: a
      // batch just as large as the matches leaves it open on servers that only then find it
      // exhausted (FerretDB), and the empty getMore is a round trip; MongoDB closes it at the limit.
      FindOptions find_options;
      find_options.limit = static_cast<int64_t>(end - begin);
      find_options.batch_size = static_cast<int32_t>(end - begin + 1);
      Cursor cursor = targets_.find(ids_in(ids, begin, end), find_options);
      while (auto document = cursor.next()) take(*document);
    }
  }
  // Takes the documents $lookup joined to one object: an array of target documents.
  void take_joined(bson::DocumentView joined) {
    for (bson::Element e : joined) {
      if (e.type() == bson::Type::document) take(e.as_document());
    }
  }
  // Attaches the found documents to the references; DanglingReferenceError (nothing attached)
  // for a reference to a document that does not exist, unless options leave it unpopulated.
  void attach(std::vector<Tracked<T>>& objects, const PopulateOptions& options) {
    if (options.dangling == Dangling::raise) {
      for (Tracked<T>& object : objects) {
        for_each_ref((*object).*member_, [&](R& ref) {
          if (ref.is_set() && !found_[ref.id()]) throw_dangling(object, ref.id());
        });
      }
    }
    for (Tracked<T>& object : objects) {
      for_each_ref((*object).*member_, [&](R& ref) {
        if (ref.is_set()) ref.attach(found_[ref.id()]);
      });
    }
  }

 private:
  // One target document: decoded as its model once, for an id some reference names.
  void take(bson::DocumentView document) {
    auto stored_id = document.find("_id");
    if (!stored_id || stored_id->is_null()) return;  // what $lookup joins to a missing reference
    Id id{};
    Codec<Id>::decode(*stored_id, id);
    auto slot = found_.find(id);
    if (slot == found_.end() || slot->second) return;
    Tracked<Target> target = TypedCollection<Target>::hydrate(document, targets_.namespace_name());
    slot->second = std::make_shared<const Target>(std::move(target.get()));
  }
  [[noreturn]] void throw_dangling(const Tracked<T>& object, const Id& id) const {
    std::string where = object.is_stored() ? " _id=" + describe_id(object.stored()->view()) : " (new object)";
    throw DanglingReferenceError(owner_.namespace_name() + where + ": field '" + std::string(schema_of<T>().name_of(member_)) +
                                 "' refers to " + targets_.namespace_name() + " _id=" + describe_id_value(id) +
                                 ", which does not exist; populate with {.dangling = Dangling::leave_unpopulated} to "
                                 "leave such references unpopulated");
  }

  const Collection& owner_;
  M T::*member_;
  Collection targets_;
  std::map<Id, std::shared_ptr<const Target>> found_;
};

// Fills one reference member of the objects: from the documents $lookup joined to them (a list
// of arrays of target documents), or, given none, with the $in queries.
template <Model T, class M>
void fill_member(const Collection& owner, M T::*member, std::vector<Tracked<T>>& objects, const PopulateOptions& options,
                 const std::vector<bson::Document>* joined = nullptr) {
  ReferenceFill<T, M> fill(owner, member);
  fill.gather(objects);
  if (joined) {
    for (const bson::Document& documents : *joined) fill.take_joined(documents);
  } else {
    fill.fetch();
  }
  fill.attach(objects, options);
}
}  // namespace detail

template <Model T>
template <class M, class Owner>
  requires RefMember<M>
void TypedCollection<T>::populate(std::vector<Tracked<T>>& objects, M Owner::*member, const PopulateOptions& options) const {
  detail::fill_member(raw_, static_cast<M T::*>(member), objects, options);
}

template <Model T>
template <class M, class Owner>
  requires RefMember<M>
void TypedCollection<T>::populate(Tracked<T>& object, M Owner::*member, const PopulateOptions& options) const {
  detail::as_list(object, [&](std::vector<Tracked<T>>& one) { populate(one, member, options); });
}

}  // namespace mongo_orm::model
