// Chained queries on a typed collection: a filter, then sort keys, skip, limit, and what to do
// with the matches, read as the seed's User.filter(...) or MongoEngine's
// User.objects(...).order_by(...).first().
//
//   auto oldest = users.query(field(&User::age) > 30).sort(desc(&User::age), asc(&User::name)).limit(10).to_vector();
//   Tracked<User> ada = users.query(field(&User::email) == email).one();   // NotFoundError, MultipleFoundError
//   for (auto& user : users.query().filter(field(&User::plan) == "pro")) { ... }
//   users.query(field(&User::enabled) == false).delete_many();
//
// A query is a value: each call returns a new one and nothing is sent until a terminal call
// (to_vector, first, one, count, exists, distinct, only, iteration, update_many, delete_many).
// Reads through a class of a hierarchy behave as TypedCollection's: a document of no known
// class is reported, never skipped.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <ranges>
#include <string_view>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/model/populate.hpp"
#include "mongo_orm/model/typed_collection.hpp"

namespace mongo_orm::model {

namespace detail {
// The fields a filter names ("email", "address.zip"; those under $and, $or and $nor too), for
// messages that must not show the values.
std::string filter_fields(bson::DocumentView filter);
}  // namespace detail

template <Model T>
class TypedQuery {
 public:
  TypedQuery(TypedCollection<T> collection, Filter filter) : collection_(std::move(collection)), filter_(std::move(filter)) {}
  // A copy is the same query, not yet run (a cursor opened by iterating is not shared).
  TypedQuery(const TypedQuery& other)
      : collection_(other.collection_), filter_(other.filter_), sort_(other.sort_), skip_(other.skip_),
        limit_(other.limit_), batch_size_(other.batch_size_), populate_(other.populate_) {}
  TypedQuery& operator=(const TypedQuery& other) {
    if (this != &other) *this = TypedQuery(other);
    return *this;
  }
  TypedQuery(TypedQuery&&) noexcept = default;
  TypedQuery& operator=(TypedQuery&&) noexcept = default;

  // Another condition, joined to the query's with $and.
  TypedQuery filter(const Filter& more) const {
    TypedQuery next(*this);
    if (!more.document().empty()) next.filter_ = filter_.document().empty() ? more : filter_ && more;
    return next;
  }
  // Sort keys, after any given before: asc(&User::name), desc(&User::age),
  // desc(field(&User::address, &Address::zip)), or a raw BSON sort document.
  template <class... Keys>
    requires(sizeof...(Keys) > 0)
  TypedQuery sort(const Keys&... keys) const {
    TypedQuery next(*this);
    (next.sort_.push_back(sort_key(keys)), ...);
    return next;
  }
  TypedQuery sort(const bson::Document& raw) const {
    TypedQuery next(*this);
    for (bson::Element key : raw) {
      auto direction = key.type() == bson::Type::int32 ? key.as_int32() : key.type() == bson::Type::int64 ? key.as_int64() : 0;
      if (direction != 1 && direction != -1) {
        throw InvalidRequestError(collection_.raw().namespace_name() + ": sort key '" + std::string(key.key()) +
                                  "' must be 1 or -1 (an integer)");
      }
      next.sort_.push_back({std::string(key.key()), static_cast<int32_t>(direction)});
    }
    return next;
  }
  TypedQuery skip(int64_t n) const {
    if (n < 0) throw InvalidRequestError(collection_.raw().namespace_name() + ": skip must not be negative, not " + std::to_string(n));
    TypedQuery next(*this);
    next.skip_ = n;
    return next;
  }
  TypedQuery limit(int64_t n) const {
    if (n < 0) throw InvalidRequestError(collection_.raw().namespace_name() + ": limit must not be negative, not " + std::to_string(n));
    TypedQuery next(*this);
    next.limit_ = n;
    return next;
  }
  TypedQuery batch_size(int32_t n) const {
    TypedQuery next(*this);
    next.batch_size_ = n;
    return next;
  }
  // Fills a reference member of what to_vector, first and one return. Where the server has
  // $lookup (Capabilities::lookup_stage), a single reference stored by id (Ref, optional Ref) is
  // joined in the query's own round trip; a vector of references, a DBRef, and every reference on
  // a server without the stage take one {_id: {$in}} query per field for all the matches
  // (TypedCollection::populate). A streamed read (iteration, cursor) of a query with populate is
  // refused: populate needs the matches together; read batches with limit/skip or to_vector.
  template <class M, class Owner>
    requires RefMember<M>
  TypedQuery populate(M Owner::*member, PopulateOptions populate_options = {}) const {
    TypedQuery next(*this);
    const auto bound = static_cast<M T::*>(member);
    PopulateStep step;
    step.fill = [bound, populate_options](const TypedCollection<T>& collection, std::vector<Tracked<T>>& found,
                                          const std::vector<bson::Document>* joined) {
      detail::fill_member(collection.raw(), bound, found, populate_options, joined);
    };
    if constexpr (detail::joinable_ref<M>) {
      step.join = Join{std::string(schema_of<T>().name_of(bound)),
                       schema_of<typename detail::RefTraits<M>::ref::target_type>().collection()};
    }
    next.populate_.push_back(std::move(step));
    return next;
  }

  const Filter& conditions() const noexcept { return filter_; }
  // The find options the query sends (sort, skip, limit, batch size).
  FindOptions options() const {
    FindOptions options;
    if (!sort_.empty()) {
      bson::Builder sort;
      for (const SortKey& key : sort_) sort.append(key.path, key.direction);
      options.sort = sort.extract();
    }
    if (skip_ > 0) options.skip = skip_;
    if (limit_ > 0) options.limit = limit_;
    if (batch_size_ > 0) options.batch_size = batch_size_;
    return options;
  }

  // The matches, streamed: a cursor, or the query itself in a range for.
  TypedCursor<T> cursor() const {
    if (!populate_.empty()) {
      throw InvalidRequestError(collection_.raw().namespace_name() +
                                ": a query with populate is read by to_vector, first or one, not streamed: populate needs the "
                                "matches together");
    }
    return unpopulated();
  }
  auto begin() {
    cursor_.emplace(cursor());
    return cursor_->begin();
  }
  auto end() noexcept { return typename TypedCursor<T>::Iterator{}; }
  // Every match, loaded into memory: for results known to be small.
  std::vector<Tracked<T>> to_vector() const {
    Matches found = matches(options());
    fill_references(found);
    return std::move(found.objects);
  }
  // The first match in the query's order (after its skip), or nullopt.
  std::optional<Tracked<T>> first() const {
    FindOptions o = options();
    o.limit = 1;
    Matches found = matches(o);
    if (found.objects.empty()) return std::nullopt;
    fill_references(found);
    return std::move(found.objects.front());
  }
  // The one match: NotFoundError when none matches, MultipleFoundError when more than one does.
  Tracked<T> one() const {
    FindOptions o = options();
    o.limit = limit_ == 1 ? 1 : 2;
    Matches found = matches(o);
    if (found.objects.empty()) {
      throw NotFoundError(collection_.raw().namespace_name() + ": no document matches the query" + fields_named() +
                          "; one() expects exactly one");
    }
    if (found.objects.size() > 1) {
      throw MultipleFoundError(collection_.raw().namespace_name() + ": more than one document matches the query" +
                               fields_named() + " (_id " + detail::describe_id(found.objects[0].stored()->view()) +
                               " and _id " + detail::describe_id(found.objects[1].stored()->view()) +
                               "); one() expects exactly one");
    }
    fill_references(found);
    return std::move(found.objects.front());
  }
  // The aggregation pipeline to_vector sends when the server joins references
  // (Capabilities::lookup_stage) and populate asked for a single reference stored by id: the
  // query's $match, $sort, $skip and $limit, then one $lookup per such reference, into a field
  // named "__mongo_orm_populate_<n>" (n: the populate call's position) that reading removes
  // before decoding. Empty when the query joins nothing.
  std::vector<bson::Document> joining_pipeline() const { return joining_pipeline(options()); }
  // The matches as joining_pipeline's documents, decoded and populated: the joined fields feed
  // their references, the other populate calls query as on a server without $lookup.
  template <std::ranges::input_range Documents>
  std::vector<Tracked<T>> from_joined(Documents&& documents) const {
    Matches found;
    found.joined.resize(populate_.size());
    for (auto&& document : documents) add_joined(bson::DocumentView(document), found);
    fill_references(found);
    return std::move(found.objects);
  }
  // How many the query reads: the matches after its skip, at most its limit.
  int64_t count() const { return counted(limit_); }
  // Whether the query reads anything (a match after its skip).
  bool exists() const { return counted(1) > 0; }
  // The distinct values of a field among the matches (every match: sort, skip and limit refused).
  template <class M>
  std::vector<detail::query_value_t<M>> distinct(const FieldPath<M>& field) const {
    refuse_window("distinct");
    return collection_.distinct(field, filter_);
  }
  template <class M, class Owner>
  std::vector<detail::query_value_t<M>> distinct(M Owner::*member) const {
    return distinct(model::field<T>(static_cast<M T::*>(member)));
  }
  // Only the fields another, smaller model declares (see TypedCollection::find_as).
  template <Model Partial>
  DecodingCursor<Partial> only() const {
    return collection_.template find_as<Partial>(filter_, options());
  }
  // Writes to every match, as TypedCollection's do; a query with sort, skip or limit is refused,
  // as the server would write to every match whatever they say.
  UpdateResult update_many(const Update& update, const UpdateOptions& update_options = {}) const {
    refuse_window("update_many");
    return collection_.update_many(filter_, update, update_options);
  }
  DeleteResult delete_many() const {
    refuse_window("delete_many");
    return collection_.delete_many(filter_);
  }

 private:
  // A $lookup populate asks for: the reference's stored path and the target's collection.
  struct Join {
    std::string local_path;
    std::string from;
  };
  struct PopulateStep {
    // Fills the references of the matches, from the documents $lookup joined to them (a list of
    // arrays of target documents) or, given none, with $in queries.
    std::function<void(const TypedCollection<T>&, std::vector<Tracked<T>>&, const std::vector<bson::Document>*)> fill;
    std::optional<Join> join;  // set for a reference the server can join
  };
  // The matches of one read, and per populate call the arrays $lookup joined to them (empty
  // when the read did not join).
  struct Matches {
    std::vector<Tracked<T>> objects;
    std::vector<std::vector<bson::Document>> joined;
  };
  static constexpr std::string_view joined_prefix = "__mongo_orm_populate_";

  TypedCursor<T> unpopulated() const { return collection_.find(filter_, options()); }
  bool joins() const {
    if (!collection_.raw().client().capabilities().lookup_stage) return false;
    return std::any_of(populate_.begin(), populate_.end(), [](const PopulateStep& step) { return step.join.has_value(); });
  }
  std::vector<bson::Document> joining_pipeline(const FindOptions& window) const {
    if (!joins()) return {};
    std::vector<bson::Document> pipeline;
    pipeline.push_back(bson::Builder{}.append("$match", TypedCollection<T>::scoped(filter_).document()).extract());
    if (window.sort) pipeline.push_back(bson::Builder{}.append("$sort", *window.sort).extract());
    if (window.skip) pipeline.push_back(bson::Builder{}.append("$skip", *window.skip).extract());
    if (window.limit) pipeline.push_back(bson::Builder{}.append("$limit", *window.limit).extract());
    for (std::size_t i = 0; i < populate_.size(); ++i) {
      if (!populate_[i].join) continue;
      bson::Builder lookup;
      lookup.append("from", populate_[i].join->from)
          .append("localField", populate_[i].join->local_path)
          .append("foreignField", "_id")
          .append("as", std::string(joined_prefix) + std::to_string(i));
      pipeline.push_back(bson::Builder{}.append("$lookup", lookup.extract()).extract());
    }
    return pipeline;
  }
  Matches matches(const FindOptions& window) const {
    Matches found;
    if (!joins()) {
      found.objects = collection_.find(filter_, window).to_vector();
      return found;
    }
    found.joined.resize(populate_.size());
    AggregateOptions aggregate_options;
    aggregate_options.batch_size = window.batch_size;
    Cursor cursor = collection_.raw().aggregate(joining_pipeline(window), aggregate_options);
    while (auto document = cursor.next()) add_joined(*document, found);
    return found;
  }
  // One document of the joining pipeline: its joined arrays go to their populate calls, the rest
  // is decoded as the model.
  void add_joined(bson::DocumentView document, Matches& found) const {
    bson::Builder stored;
    for (bson::Element e : document) {
      std::string_view key = e.key();
      if (key.starts_with(joined_prefix) && e.type() == bson::Type::array) {
        std::string_view digits = key.substr(joined_prefix.size());
        std::size_t step = 0;
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
        if (error == std::errc() && end == digits.data() + digits.size() && step < found.joined.size()) {
          found.joined[step].emplace_back(e.as_array());
          continue;
        }
      }
      stored.append(key, e);
    }
    found.objects.push_back(collection_.hydrate(stored.extract()));
  }
  void fill_references(Matches& found) const {
    for (std::size_t i = 0; i < populate_.size(); ++i) {
      bool joined = !found.joined.empty() && populate_[i].join;
      populate_[i].fill(collection_, found.objects, joined ? &found.joined[i] : nullptr);
    }
  }

  template <class M, class Owner>
  static SortKey sort_key(const IndexKey<M, Owner>& key) {
    return {std::string(schema_of<T>().name_of(static_cast<M T::*>(key.member))), key.direction};
  }
  static SortKey sort_key(const SortKey& key) { return key; }

  // The matches after the skip, at most `limit` (0: all).
  int64_t counted(int64_t limit) const {
    CountOptions o;
    if (skip_ > 0) o.skip = skip_;
    if (limit > 0) o.limit = limit;
    return collection_.count(filter_, o);
  }
  std::string fields_named() const {
    std::string fields = detail::filter_fields(filter_.document().view());
    return fields.empty() ? "" : " on " + fields;
  }
  void refuse_window(const char* call) const {
    if (sort_.empty() && skip_ == 0 && limit_ == 0) return;
    throw InvalidRequestError(collection_.raw().namespace_name() + ": " + call +
                              " applies to every match: a query with sort, skip or limit would read as if it did not; "
                              "drop them, or select the _ids first");
  }

  TypedCollection<T> collection_;
  Filter filter_;
  std::vector<SortKey> sort_;
  int64_t skip_ = 0;
  int64_t limit_ = 0;
  int32_t batch_size_ = 0;
  std::optional<TypedCursor<T>> cursor_;
  // What populate asked for, in order.
  std::vector<PopulateStep> populate_;
};

template <Model T>
TypedQuery<T> TypedCollection<T>::query(const Filter& filter) const {
  return TypedQuery<T>(*this, filter);
}

}  // namespace mongo_orm::model
