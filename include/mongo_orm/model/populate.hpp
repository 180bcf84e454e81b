// TypedCollection::populate: the referenced documents of many objects, fetched with one
// {_id: {$in: [...]}} query per reference field (never one query per object), decoded as their
// model (after_load hooks included) and shared by every reference to the same document.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
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
}  // namespace detail

template <Model T>
template <class M, class Owner>
  requires RefMember<M>
void TypedCollection<T>::populate(std::vector<Tracked<T>>& objects, M Owner::*member, const PopulateOptions& options) const {
  using R = typename detail::RefTraits<M>::ref;
  using Target = typename R::target_type;
  using Id = typename R::id_type;
  const auto bound = static_cast<M T::*>(member);
  std::map<Id, std::shared_ptr<const Target>> found;
  for (Tracked<T>& object : objects) {
    detail::for_each_ref((*object).*bound, [&](R& ref) {
      if (ref.is_set()) found.try_emplace(ref.id());
    });
  }
  if (found.empty()) return;
  std::vector<Id> ids;
  ids.reserve(found.size());
  for (const auto& entry : found) ids.push_back(entry.first);

  const Collection targets = raw_.sibling(schema_of<Target>().collection());
  for (std::size_t begin = 0; begin < ids.size(); begin += detail::populate_chunk) {
    std::size_t end = std::min(ids.size(), begin + detail::populate_chunk);
    FindOptions find_options;
    find_options.batch_size = static_cast<int32_t>(end - begin);  // every match in the first reply
    Cursor cursor = targets.find(detail::ids_in(ids, begin, end), find_options);
    while (auto document = cursor.next()) {
      Tracked<Target> target = TypedCollection<Target>::hydrate(*document, targets.namespace_name());
      Id id = R::id_of(*target);
      found[id] = std::make_shared<const Target>(std::move(target.get()));
    }
  }

  if (options.dangling == Dangling::raise) {
    for (Tracked<T>& object : objects) {
      detail::for_each_ref((*object).*bound, [&](R& ref) {
        if (!ref.is_set() || found[ref.id()]) return;
        std::string where = object.is_stored() ? " _id=" + detail::describe_id(object.stored()->view()) : " (new object)";
        throw DanglingReferenceError(raw_.namespace_name() + where + ": field '" + std::string(schema_of<T>().name_of(bound)) +
                                     "' refers to " + targets.namespace_name() + " _id=" + detail::describe_id_value(ref.id()) +
                                     ", which does not exist; populate with {.dangling = Dangling::leave_unpopulated} to "
                                     "leave such references unpopulated");
      });
    }
  }
  for (Tracked<T>& object : objects) {
    detail::for_each_ref((*object).*bound, [&](R& ref) {
      if (ref.is_set()) ref.attach(found[ref.id()]);
    });
  }
}

template <Model T>
template <class M, class Owner>
  requires RefMember<M>
void TypedCollection<T>::populate(Tracked<T>& object, M Owner::*member, const PopulateOptions& options) const {
  std::vector<Tracked<T>> one;
  one.push_back(std::move(object));
  try {
    populate(one, member, options);
  } catch (...) {
    object = std::move(one.front());
    throw;
  }
  object = std::move(one.front());
}

}  // namespace mongo_orm::model
