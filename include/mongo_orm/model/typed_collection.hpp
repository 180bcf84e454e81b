// The typed face of a collection: models in, models out. Obtained from a database handle; the
// raw collection stays reachable beside it for interop.
#pragma once

#include <algorithm>
#include <iterator>
#include <variant>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/model/indexes.hpp"
#include "mongo_orm/model/query.hpp"
#include "mongo_orm/model/reference.hpp"
#include "mongo_orm/model/schema.hpp"
#include "mongo_orm/model/tracked.hpp"
#include "mongo_orm/model/update.hpp"

namespace mongo_orm::model {

namespace detail {
[[noreturn]] void throw_gone(const std::string& collection, const std::string& id);
// The next value of the collection's integer id sequence, kept atomically (findAndModify
// $inc) in the `_mongo_orm_counters` collection of the same database; starts at 1.
int64_t next_sequence_value(const Collection& collection);
// ensure_indexes, once per process for each server and namespace (Schema::auto_create_indexes).
void ensure_indexes_once(const Collection& collection, const std::vector<IndexSpec>& declared);
// {_cls: chain} for one class, {_cls: {$in: chains}} for a class with subclasses.
Filter class_filter(const std::vector<std::string>& chains);
// {_cls: {$nin: known}}: documents whose _cls names no class of the hierarchy (or is missing).
Filter unknown_class_filter(const std::vector<std::string>& known);
// What a read through a class of a hierarchy matches: its own and its subclasses' documents,
// and those of no known class (so that they are reported, never skipped). Empty for the root.
Filter read_scope(const std::vector<std::string>& mine, const std::vector<std::string>& known);
// The stored _cls of a document; DecodeError naming the known classes when it is missing or
// not one of `known`.
std::string_view checked_class(bson::DocumentView document, const std::vector<std::string>& known);
// checked_class against the whole hierarchy (`known`), then: DecodeError when the document is
// of another class than `mine` and its subclasses.
void check_class_of(bson::DocumentView document, const std::vector<std::string>& mine,
                    const std::vector<std::string>& known);
}  // namespace detail

// A lazy cursor that decodes each document as it is reached: `for (auto& user : users.find())`.
template <class Object>
class DecodingCursor {
 public:
  using Decode = Object (*)(bson::DocumentView document, const std::string& namespace_name);

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Object;
    using difference_type = std::ptrdiff_t;
    using reference = Object&;
    using pointer = Object*;

    Iterator() noexcept = default;
    reference operator*() const noexcept { return *cursor_->current_; }
    pointer operator->() const noexcept { return &*cursor_->current_; }
    Iterator& operator++() {
      if (!cursor_->advance()) cursor_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& a, const Iterator& b) noexcept { return a.cursor_ == b.cursor_; }

   private:
    friend class DecodingCursor;
    explicit Iterator(DecodingCursor* cursor) noexcept : cursor_(cursor) {}
    DecodingCursor* cursor_ = nullptr;
  };

  DecodingCursor(Cursor cursor, std::string namespace_name, Decode decode)
      : cursor_(std::move(cursor)), namespace_name_(std::move(namespace_name)), decode_(decode) {}

  Iterator begin() { return advance() ? Iterator(this) : Iterator(); }
  Iterator end() noexcept { return {}; }
  std::optional<Object> next() {
    if (!advance()) return std::nullopt;
    return std::move(*current_);
  }
  // Every remaining object, loaded into memory: for small results only.
  std::vector<Object> to_vector() {
    std::vector<Object> all;
    while (advance()) all.push_back(std::move(*current_));
    return all;
  }

 private:
  bool advance() {
    auto document = cursor_.next();
    if (!document) {
      current_.reset();
      return false;
    }
    current_ = decode_(*document, namespace_name_);
    return true;
  }

  Cursor cursor_;
  std::string namespace_name_;
  Decode decode_;
  std::optional<Object> current_;
};

template <Model T>
using TypedCursor = DecodingCursor<Tracked<T>>;

template <Model T>
class TypedQuery;

template <Model T>
class TypedCollection {
 public:
  // The collection named in the model's schema.
  explicit TypedCollection(const Database& database)
      : TypedCollection(database, schema_of<T>().collection()) {}
  TypedCollection(const Database& database, const std::string& collection_name)
      : raw_(checked(database, collection_name)) {
    if (schema_of<T>().creates_indexes_on_first_use()) detail::ensure_indexes_once(raw_, schema_of<T>().indexes());
  }

  // The underlying collection, for raw driver calls beside the models.
  const Collection& raw() const noexcept { return raw_; }

  // Fills the factory defaults never set (below), runs the before_insert hooks, validates
  // (ValidationError, nothing written), fills an empty id, inserts, runs the after_insert hooks.
  void insert(Tracked<T>& object) const {
    fill_factory_defaults(*object);
    run(hooks().before_insert, *object);
    check_valid(object);
    fill_id(*object);
    stamp_new(*object);
    bson::Document document = encode_for_insert(object);
    raw_.insert_one(document);
    object.stored_ = std::move(document);
    object.namespace_ = detail::interned_namespace(raw_.namespace_name());
    object.dynamic_changes_.clear();
    run(hooks().after_insert, *object);
  }
  Tracked<T> insert(T object) const {
    Tracked<T> tracked(std::move(object));
    insert(tracked);
    return tracked;
  }
  // Runs the before_insert hooks of every object and validates every object first; nothing is
  // written when a hook throws or any object is invalid. Ids are filled in. One bulk write, then
  // the after_insert hooks of each object.
  std::vector<Tracked<T>> insert_many(std::vector<T> objects, const InsertManyOptions& options = {}) const {
    std::vector<ValidationFailure> failures;
    for (std::size_t i = 0; i < objects.size(); ++i) {
      fill_factory_defaults(objects[i]);
      run(hooks().before_insert, objects[i]);
      schema_of<T>().validate(objects[i], std::to_string(i), failures);
    }
    if (!failures.empty()) throw ValidationError(std::move(failures), raw_.namespace_name() + " (insert_many)");
    std::vector<Tracked<T>> tracked;
    tracked.reserve(objects.size());
    std::vector<bson::Document> documents;
    documents.reserve(objects.size());
    detail::EncodeAudit& audit = detail::encode_audit();
    audit = {};
    for (T& object : objects) {
      fill_id(object);
      stamp_new(object);
      tracked.emplace_back(std::move(object));
      documents.push_back(encode_for_insert(tracked.back()));
    }
    // What the encoder checked is not checked again (libmongoc's validation, the payload walk).
    mongo_orm::detail::Vouched vouched{.validated = !audit.unchecked, .storable = !audit.unusual};
    BulkWrite bulk = raw_.bulk_write(options.ordered);
    for (const bson::Document& document : documents) mongo_orm::detail::insert_vouched(bulk, document, vouched);
    bulk.execute();
    const std::string* stored_in = detail::interned_namespace(raw_.namespace_name());
    for (std::size_t i = 0; i < tracked.size(); ++i) {
      tracked[i].stored_ = std::move(documents[i]);
      tracked[i].namespace_ = stored_in;
    }
    for (const Tracked<T>& object : tracked) run(hooks().after_insert, *object);
    return tracked;
  }

  // Inserts a new object; for a stored one sends $set/$unset of the changed paths only (never a
  // replace, never touching fields the model does not know). With a version field, a write
  // made since the object was loaded raises ConflictError; so does a document that is gone.
  // When something changed, the before_save hooks see the Changes first (what they change is
  // validated and written in the same update), the after_save hooks once it is written.
  void save(Tracked<T>& object) const {
    if (!object.is_stored()) {
      insert(object);
      return;
    }
    check_valid(object);
    std::optional<UpdateDiff> diff(changes_of(object));
    if (!diff->empty() && !hooks().before_save.empty()) {
      const Changes asked(diff->paths());
      run(hooks().before_save, *object, asked);
      check_valid(object);
      diff.emplace(changes_of(object));  // what the hooks changed goes out in the same update
    }
    if (diff->empty()) {
      object.dynamic_changes_.clear();
      return;
    }
    write_changes(object, *diff);
  }

  // By _id alone: a document of an unknown class is reported (DecodeError), never skipped; one
  // of another class of the hierarchy is not this model's and gives nullopt.
  template <class Id>
  std::optional<Tracked<T>> get_by_id(const Id& id) const {
    bson::Builder filter;
    Codec<Id>::encode(filter.native(), "_id", id);
    auto document = raw_.find_one(filter.extract());
    if (!document) return std::nullopt;
    if (schema_of<T>().is_inheritable()) {
      std::string_view stored;
      try {
        stored = detail::checked_class(*document, schema_of<T>().hierarchy_chains());
      } catch (const DecodeError& e) {
        throw e.located(raw_.namespace_name(), detail::describe_id(*document));
      }
      auto mine = schema_of<T>().matching_chains();
      if (std::find(mine.begin(), mine.end(), stored) == mine.end()) return std::nullopt;
    }
    return hydrate(*document);
  }
  // A chained query over the matches of `filter` (typed_query.hpp):
  // users.query(field(&User::age) > 30).sort(desc(&User::age)).first().
  TypedQuery<T> query(const Filter& filter = {}) const;

  // Queries of a class in a hierarchy match its own and its subclasses' documents. A document
  // whose _cls names no class of the hierarchy raises DecodeError when it is reached (it might
  // be one of this class's), naming the collection, its _id, the stored value and the known
  // classes: it is never skipped as if the collection were empty.
  std::optional<Tracked<T>> find_one(const Filter& filter = {}, const FindOptions& options = {}) const {
    auto document = raw_.find_one(scoped(filter), options);
    if (!document) return std::nullopt;
    return hydrate(*document);
  }
  TypedCursor<T> find(const Filter& filter = {}, const FindOptions& options = {}) const {
    return TypedCursor<T>(raw_.find(scoped(filter), options), raw_.namespace_name(), &decode_document);
  }
  // Reads only the fields another, smaller model declares (a projection), as plain values of
  // that model: they carry no stored snapshot, so they cannot be saved back by mistake.
  template <Model Partial>
  DecodingCursor<Partial> find_as(const Filter& filter = {}, FindOptions options = {}) const {
    bson::Builder projection;
    for (std::string_view name : schema_of<Partial>().stored_names()) projection.append(name, 1);
    if (!schema_of<Partial>().declares("_id")) projection.append("_id", 0);
    options.projection = projection.extract();
    return DecodingCursor<Partial>(raw_.find(scoped(filter), options), raw_.namespace_name(), &decode_partial<Partial>);
  }

  // In a hierarchy, DecodeError (as find raises it) when a document of no known class matches:
  // a count never leaves it out silently. Options skip and limit what is counted.
  int64_t count(const Filter& filter = {}, const CountOptions& options = {}) const {
    refuse_unknown_classes(filter);
    return raw_.count_documents(own(filter), options);
  }
  // This class's documents only, leaving out those of no known class without raising: for
  // reports that set it beside the stored total (verify's "loaded by the model").
  int64_t count_known(const Filter& filter = {}) const { return raw_.count_documents(own(filter)); }
  bool exists(const Filter& filter = {}) const { return count(filter, {.limit = 1}) > 0; }

  // Deletes a stored object by its _id; returns whether a document was deleted. With a version
  // field, a write made since the object was loaded raises ConflictError and deletes nothing.
  // The before_delete hooks run first (one that throws keeps the document); the after_delete
  // hooks run when a document was deleted.
  bool remove(Tracked<T>& object) const {
    if (!object.is_stored()) return false;
    run(hooks().before_delete, *object);
    bson::Builder filter;
    filter.append("_id", (*object.stored_)["_id"]);
    const auto& tracking = schema_of<T>().tracking();
    if (tracking.version) filter.append(tracking.version_name, (*object).*tracking.version);
    bool deleted = raw_.delete_one(filter.extract()).deleted_count == 1;
    if (!deleted && tracking.version && raw_.count_documents(id_filter(*object.stored_)) > 0) {
      throw_conflict(object);
    }
    object.stored_.reset();
    if (deleted) run(hooks().after_delete, *object);
    return deleted;
  }

  // Fetches the documents a reference member (Ref, optional Ref, vector of Ref) of every object
  // refers to, with one {_id: {$in: [...]}} query for all of them (one per 50,000 distinct
  // ids), and attaches each as its model to the references; objects sharing a target share one
  // copy. A reference whose document does not exist raises DanglingReferenceError (nothing is
  // attached) unless options say to leave it unpopulated. See populate.hpp.
  template <class M, class Owner>
    requires RefMember<M>
  void populate(std::vector<Tracked<T>>& objects, M Owner::*member, const PopulateOptions& options = {}) const;
  template <class M, class Owner>
    requires RefMember<M>
  void populate(Tracked<T>& object, M Owner::*member, const PopulateOptions& options = {}) const;

  // Typed updates; the version counter and modification time are maintained as on save.
  UpdateResult update_one(const Filter& filter, const Update& update, const UpdateOptions& options = {}) const {
    return raw_.update_one(own(filter), tracked_update(update), options);
  }
  UpdateResult update_many(const Filter& filter, const Update& update, const UpdateOptions& options = {}) const {
    return raw_.update_many(own(filter), tracked_update(update), options);
  }
  // Updates the first match (inserting one built from the filter's equalities when none
  // matches, if options.upsert) and returns it as a model, before or after the change.
  std::optional<Tracked<T>> find_one_and_update(const Filter& filter, const Update& update,
                                                const FindOneAndModifyOptions& options = {}) const {
    auto document = raw_.find_one_and_update(own(filter), tracked_update(update), options);
    if (!document) return std::nullopt;
    return hydrate(*document);
  }
  // The distinct values of a field, decoded as the field's type.
  template <class M>
  std::vector<detail::query_value_t<M>> distinct(const FieldPath<M>& field, const Filter& filter = {}) const {
    using V = detail::query_value_t<M>;
    std::vector<V> values;
    refuse_unknown_classes(filter);
    for (const bson::Value& value : raw_.distinct(field.path(), own(filter))) {
      V decoded{};
      try {
        Codec<V>::decode(value.get(), decoded);
      } catch (const DecodeError& e) {
        throw e.nested_in(field.path()).located(raw_.namespace_name(), "(distinct)");
      }
      values.push_back(std::move(decoded));
    }
    return values;
  }
  // Writes touch this class's documents only, never those of an unknown class.
  DeleteResult delete_many(const Filter& filter) const { return raw_.delete_many(own(filter)); }

  // The indexes declared on the model against the server's.
  IndexDiff index_diff() const { return diff_indexes(raw_, schema_of<T>().indexes()); }
  // Creates the declared indexes that are missing (idempotent); see model/indexes.hpp.
  std::vector<std::string> ensure_indexes() const { return model::ensure_indexes(raw_, schema_of<T>().indexes()); }

  // Reads one stored document as a model, then runs the after_load hooks; DecodeError names the
  // collection, _id and field.
  Tracked<T> hydrate(bson::DocumentView document) const { return hydrate(document, raw_.namespace_name()); }
  static Tracked<T> hydrate(bson::DocumentView document, const std::string& namespace_name) {
    Tracked<T> tracked;
    try {
      if (schema_of<T>().is_inheritable()) {
        detail::check_class_of(document, schema_of<T>().matching_chains(), schema_of<T>().hierarchy_chains());
      }
      tracked.upgraded_ = upgraded<T>(document);
      schema_of<T>().decode(tracked.upgraded_ ? tracked.upgraded_->view() : document, tracked.value_);
    } catch (const DecodeError& e) {
      throw e.located(namespace_name, detail::describe_id(document));
    }
    tracked.stored_ = bson::Document(document);
    tracked.namespace_ = detail::interned_namespace(namespace_name);
    run(hooks().after_load, tracked.value_);
    return tracked;
  }

  // How many stored documents (of this class) lack the field: the documents a query on a
  // field with a default misses until they are migrated (seed 002, example 1).
  template <class M>
  int64_t missing_count(const FieldPath<M>& field) const {
    return count(field.exists(false));
  }
  // missing_count for every field with a default, by stored name.
  std::vector<std::pair<std::string, int64_t>> missing_defaults() const {
    std::vector<std::pair<std::string, int64_t>> out;
    for (const std::string& name : schema_of<T>().fields_with_defaults()) {
      out.emplace_back(name, count(detail::exists_filter(name, false)));
    }
    return out;
  }

 private:
  friend class TypedQuery<T>;
  template <Model>
  friend class TypedCollection;
  template <Model Partial>
  static Partial decode_partial(bson::DocumentView document, const std::string& namespace_name) {
    Partial partial{};
    try {
      schema_of<Partial>().decode(document, partial);
    } catch (const DecodeError& e) {
      throw e.located(namespace_name, detail::describe_id(document));
    }
    TypedCollection<Partial>::run(schema_of<Partial>().hooks().after_load, partial);
    return partial;
  }

  static const LifecycleHooks<T>& hooks() { return schema_of<T>().hooks(); }
  template <class Hooks, class... Args>
  static void run(const Hooks& hooks, Args&... args) {
    for (const auto& hook : hooks) hook(args...);
  }

  // What a save of a stored object sends: the declared fields that differ from the stored
  // document, what upgrade steps removed, and the dynamic changes.
  static UpdateDiff changes_of(const Tracked<T>& object) {
    UpdateDiff diff;
    schema_of<T>().diff(*object.stored_, *object, "", diff);
    if (object.upgraded_) add_upgrade(object, diff);
    for (const auto& [name, value] : object.dynamic_changes_) {
      if (value) {
        diff.set_element(name, value->get());
      } else if (object.stored_->contains(name)) {
        diff.unset(name);
      }
    }
    return diff;
  }
  // Sends a non-empty diff of a stored object with the version counter and modification time,
  // then runs the after_save hooks.
  void write_changes(Tracked<T>& object, UpdateDiff& diff) const {
    std::optional<Changes> changes;
    if (!hooks().after_save.empty()) changes.emplace(diff.paths());
    const auto& tracking = schema_of<T>().tracking();
    if (tracking.updated) {
      (*object).*tracking.updated = now();
      Codec<std::chrono::system_clock::time_point>::encode(diff.set_builder().native(), tracking.updated_name,
                                                           (*object).*tracking.updated);
    }
    bson::Builder filter;
    filter.append("_id", (*object.stored_)["_id"]);
    if (tracking.version) {
      int64_t current = (*object).*tracking.version;
      filter.append(tracking.version_name, current);
      diff.set_builder().append(tracking.version_name, current + 1);
    }
    UpdateResult result = raw_.update_one(filter.extract(), diff.to_update());
    if (result.matched_count == 0) throw_conflict(object);
    if (tracking.version) ++((*object).*tracking.version);
    object.stored_ = encode_for_insert(object);
    object.upgraded_.reset();
    object.dynamic_changes_.clear();
    if (changes) run(hooks().after_save, *object, *changes);
  }

  // A save of an upgraded document also removes what the upgrade steps removed and records
  // the new schema version.
  static void add_upgrade(const Tracked<T>& object, UpdateDiff& diff) {
    const SchemaEvolution& evolution = schema_of<T>().evolution();
    for (bson::Element e : *object.stored_) {
      if (!object.upgraded_->contains(e.key()) && !schema_of<T>().declares(e.key())) diff.unset(std::string(e.key()));
    }
    diff.set(evolution.field, evolution.current);
  }

  static std::chrono::system_clock::time_point now() {
    return bson::DateTime::now().to_time_point();  // stored precision, so reloads compare equal
  }

  // A field with a default_factory that was never set gets the factory's value, at any depth
  // (detail::fill_factory_defaults), so a struct built directly never stores the 1970 `created_at`.
  static void fill_factory_defaults(T& object) { detail::fill_factory_defaults(object); }
  static void stamp_new(T& object) {
    const auto& tracking = schema_of<T>().tracking();
    if (tracking.version && object.*tracking.version == 0) object.*tracking.version = 1;
    if (tracking.created) object.*tracking.created = now();
    if (tracking.updated) object.*tracking.updated = object.*tracking.created;
    if (tracking.updated && !tracking.created) object.*tracking.updated = now();
  }

  bson::Document tracked_update(const Update& update) const {
    const auto& tracking = schema_of<T>().tracking();
    if (!tracking.version && !tracking.updated) return update.document();
    Update with_tracking = update;
    if (tracking.version) with_tracking.operator_builder("$inc").append(tracking.version_name, int64_t{1});
    if (tracking.updated) {
      Codec<std::chrono::system_clock::time_point>::encode(with_tracking.operator_builder("$set").native(),
                                                           tracking.updated_name, now());
    }
    return with_tracking.document();
  }

  [[noreturn]] void throw_conflict(const Tracked<T>& object) const {
    std::string id = detail::describe_id(*object.stored_);
    const auto& tracking = schema_of<T>().tracking();
    if (tracking.version && raw_.count_documents(id_filter(*object.stored_)) > 0) {
      throw ConflictError(raw_.namespace_name() + " _id=" + id + ": the document was changed since it was loaded (" +
                          tracking.version_name + " is no longer " + std::to_string((*object).*tracking.version) +
                          "); reload it and apply the change again. Nothing was written");
    }
    detail::throw_gone(raw_.namespace_name(), id);
  }

  static Tracked<T> decode_document(bson::DocumentView document, const std::string& namespace_name) {
    return hydrate(document, namespace_name);
  }

  // What reads match: see find.
  static Filter scoped(const Filter& filter) {
    if (!schema_of<T>().is_inheritable()) return filter;
    Filter by_class = detail::read_scope(schema_of<T>().matching_chains(), schema_of<T>().hierarchy_chains());
    if (by_class.document().empty()) return filter;
    return filter.document().empty() ? by_class : by_class && filter;
  }
  // This class's and its subclasses' documents only: what writes and counts match.
  static Filter own(const Filter& filter) {
    if (!schema_of<T>().is_inheritable()) return filter;
    Filter by_class = detail::class_filter(schema_of<T>().matching_chains());
    return filter.document().empty() ? by_class : by_class && filter;
  }
  void refuse_unknown_classes(const Filter& filter) const {
    if (!schema_of<T>().is_inheritable()) return;
    const auto& known = schema_of<T>().hierarchy_chains();
    Filter unknown = detail::unknown_class_filter(known);
    auto document = raw_.find_one(filter.document().empty() ? unknown : unknown && filter,
                                  {.projection = bson::Builder{}.append("_cls", 1).extract()});
    if (!document) return;
    try {
      detail::checked_class(*document, known);
    } catch (const DecodeError& e) {
      throw e.located(raw_.namespace_name(), detail::describe_id(*document));
    }
  }

  static Collection checked(const Database& database, const std::string& name) {
    if (name.empty()) {
      throw ConfigurationError("this model's schema names no collection; pass one to TypedCollection");
    }
    return database.collection(name);
  }

  // ValidationError naming the collection and the object: its stored _id, else "(new object)".
  void check_valid(const Tracked<T>& object) const {
    auto failures = validate(*object);
    if (failures.empty()) return;
    throw ValidationError(std::move(failures), raw_.namespace_name() + (object.stored_ ? " _id=" + detail::describe_id(object.stored_->view())
                                                                                        : std::string(" (new object)")));
  }

  void fill_id(T& object) const {
    if (!schema_of<T>().has_id()) return;
    schema_of<T>().visit_id(object, [&](auto& id) {
      using Id = std::decay_t<decltype(id)>;
      if constexpr (std::is_same_v<Id, bson::ObjectId>) {
        if (id == bson::ObjectId{}) id = bson::ObjectId::generate();
      } else if constexpr (std::is_same_v<Id, std::string>) {
        if (id.empty()) id = bson::ObjectId::generate().to_hex();
      } else if constexpr (std::is_same_v<Id, int32_t> || std::is_same_v<Id, int64_t>) {
        if (id == 0) id = static_cast<Id>(detail::next_sequence_value(raw_));
      }
    });
  }

  // The known fields, an _id when the model declares none, and the unknown fields the object
  // was loaded with.
  static bson::Document encode_for_insert(const Tracked<T>& object) {
    bson::Builder document;
    if (!schema_of<T>().has_id()) {
      if (object.stored_ && object.stored_->contains("_id")) {
        document.append("_id", (*object.stored_)["_id"]);
      } else {
        document.append("_id", bson::ObjectId::generate());
      }
    }
    schema_of<T>().encode(document.native(), *object);
    if (object.stored_ || !object.dynamic_changes_.empty()) {
      document.concat(object.unknown_fields_after_changes());
      detail::encode_audit() = {.unchecked = true, .unusual = true};  // what it was loaded or set with
    }
    return document.extract();
  }

  static bson::Document id_filter(const bson::Document& stored) {
    return bson::Builder{}.append("_id", stored["_id"]).extract();
  }

  Collection raw_;
};

template <class H>
class PolymorphicCollection;

// Loading through the root of a hierarchy: every document of the collection comes back as the
// class its `_cls` names, in a std::variant. A `_cls` outside the hierarchy (or none) raises
// DecodeError naming the value and the known classes; such documents are never skipped.
template <Model Root, Model... Derived>
class PolymorphicCollection<Hierarchy<Root, Derived...>> {
 public:
  using Object = std::variant<Tracked<Root>, Tracked<Derived>...>;

  explicit PolymorphicCollection(const Database& database)
      : database_(database), raw_(database.collection(schema_of<Root>().collection())) {}

  const Collection& raw() const noexcept { return raw_; }

  // Documents of every class, unknown ones included (so that they are reported).
  DecodingCursor<Object> find(const Filter& filter = {}, const FindOptions& options = {}) const {
    return DecodingCursor<Object>(raw_.find(filter, options), raw_.namespace_name(), &hydrate);
  }
  std::optional<Object> find_one(const Filter& filter = {}, const FindOptions& options = {}) const {
    auto document = raw_.find_one(filter, options);
    if (!document) return std::nullopt;
    return hydrate(*document, raw_.namespace_name());
  }
  int64_t count(const Filter& filter = {}) const { return raw_.count_documents(filter); }

  // Saves whichever class the object holds, through that class's typed collection.
  void save(Object& object) const {
    std::visit([&](auto& tracked) { collection_for(tracked).save(tracked); }, object);
  }

  static Object hydrate(bson::DocumentView document, const std::string& namespace_name) {
    std::string_view stored;
    try {
      stored = detail::checked_class(document, schema_of<Root>().hierarchy_chains());
    } catch (const DecodeError& e) {
      throw e.located(namespace_name, detail::describe_id(document));
    }
    std::optional<Object> result;
    auto try_class = [&]<class C>(std::type_identity<C>) {
      if (!result && schema_of<C>().class_chain() == stored) {
        result.emplace(std::in_place_type<Tracked<C>>, TypedCollection<C>::hydrate(document, namespace_name));
      }
    };
    try_class(std::type_identity<Root>{});
    (try_class(std::type_identity<Derived>{}), ...);
    return std::move(*result);
  }

 private:
  template <class C>
  TypedCollection<C> collection_for(const Tracked<C>&) const {
    return TypedCollection<C>(database_, raw_.name());
  }

  Database database_;
  Collection raw_;
};

}  // namespace mongo_orm::model

#include "mongo_orm/model/populate.hpp"     // TypedCollection::populate
#include "mongo_orm/model/typed_query.hpp"  // TypedCollection::query
