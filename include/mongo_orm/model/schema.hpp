// Declaring a model: a plain struct plus a schema that binds member pointers to stored names.
//
//   struct User { bson::ObjectId id; std::string name; int32_t age = 0; };
//   auto define_schema(mongo_orm::model::SchemaTag<User>) {   // found by argument lookup
//     using namespace mongo_orm::model;
//     return schema<User>("users")
//         .id(&User::id)
//         .field(&User::name, "name", required(), max_length(100))
//         .field(&User::age, "age", min(0));
//   }
#pragma once

#include <typeinfo>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "mongo_orm/model/codec.hpp"
#include "mongo_orm/model/rules.hpp"

namespace mongo_orm::model {

// What a model does with stored fields it does not declare.
enum class UnknownFields {
  preserve,  // keep them and write them back untouched (old and new app versions can coexist)
  strict,    // raise DecodeError naming the field
};

template <class T>
struct SchemaTag {};

// A type with a schema: `define_schema(SchemaTag<T>)` is declared for it.
template <class T>
concept Model = requires { define_schema(SchemaTag<T>{}); };

// The closed set of classes stored in one collection under MongoEngine's `_cls` convention,
// the root first: Hierarchy<Human, Jedi, GoodJedi, BadSith>.
template <class Root, class... Derived>
struct Hierarchy {
  using root = Root;
};

namespace detail {
template <class H>
struct HierarchyChains;
}  // namespace detail

// How a class of a hierarchy is stored: its dot-joined class chain ("Human.Jedi") and every
// chain of its hierarchy (computed on first use).
struct ClassInfo {
  std::string chain;
  const std::vector<std::string>& (*hierarchy_chains)() = nullptr;
};

// Fields the library maintains on writes: a version counter for optimistic concurrency and
// creation / modification times.
template <class T>
struct WriteTracking {
  using time_point = std::chrono::system_clock::time_point;
  int64_t T::*version = nullptr;
  std::string version_name;
  time_point T::*created = nullptr;
  std::string created_name;
  time_point T::*updated = nullptr;
  std::string updated_name;

  template <class Derived>
  WriteTracking<Derived> rebased() const {
    return {version, version_name, created, created_name, updated, updated_name};
  }
};

// An index declared on a model: keys by stored name, and the createIndexes options.
struct IndexOptions {
  std::string name{};  // derived from the keys when empty ("email_1")
  bool unique = false;
  bool sparse = false;
  std::optional<bson::Document> partial_filter{};
  std::optional<int32_t> expire_after_seconds{};  // TTL
  // The collation the index orders and matches strings by ({"locale": "en", "strength": 2}:
  // case-insensitive); a query uses the index only when it asks for the same collation.
  std::optional<bson::Document> collation{};
};
struct IndexSpec {
  bson::Document keys;  // {"email": 1, "age": -1}
  IndexOptions options;
};

// Index keys from members: asc(&User::email), desc(&User::age).
template <class M, class Owner>
struct IndexKey {
  M Owner::*member;
  int32_t direction;
};
template <class M, class Owner>
IndexKey<M, Owner> asc(M Owner::*member) {
  return {member, 1};
}
template <class M, class Owner>
IndexKey<M, Owner> desc(M Owner::*member) {
  return {member, -1};
}

// Upgrades a stored document from one schema version to the next, on raw BSON (the old shape
// no longer fits the struct).
using UpgradeStep = std::function<bson::Document(bson::DocumentView)>;

// Documents written by older versions of a model: the current version, where it is stored,
// and the steps from each older version to the next.
struct SchemaEvolution {
  int32_t current = 0;  // 0: the model is not versioned
  std::string field = "_schema_version";
  std::map<int32_t, UpgradeStep> steps;  // from version N to N + 1
};

// What a save of a stored object is about to write (or wrote): the stored paths it sets or
// unsets, nested ones dotted ("address.city"), dynamic fields included; the version counter and
// modification time the library adds are not among them.
class Changes {
 public:
  Changes() = default;
  explicit Changes(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  const std::vector<std::string>& paths() const noexcept { return paths_; }
  // Whether the field at `path`, or anything inside it, changes: touches("address") holds when
  // "address.city" does.
  bool touches(std::string_view path) const {
    return std::any_of(paths_.begin(), paths_.end(), [&](const std::string& changed) {
      return changed == path || (changed.size() > path.size() && changed.starts_with(path) && changed[path.size()] == '.') ||
             (path.size() > changed.size() && path.starts_with(changed) && path[changed.size()] == '.');
    });
  }
  // touches(field(&User::email)), for any typed field path.
  template <class Path>
    requires requires(const Path& p) { p.path(); }
  bool touches(const Path& field) const {
    return touches(std::string_view(field.path()));
  }

 private:
  std::vector<std::string> paths_;
};

// Code the typed collection runs around one object's writes and after each load, declared with
// the schema (Schema::before_insert and the rest). A `before` hook may change the object (what it
// changes is written, and validated first); one that throws stops the write and nothing is
// written. An `after` hook runs once the server acknowledged the write; what it throws reaches
// the caller, the write stays done.
template <class T>
struct LifecycleHooks {
  std::vector<std::function<void(T&)>> before_insert;
  std::vector<std::function<void(const T&)>> after_insert;
  std::vector<std::function<void(T&, const Changes&)>> before_save;
  std::vector<std::function<void(const T&, const Changes&)>> after_save;
  std::vector<std::function<void(const T&)>> before_delete;
  std::vector<std::function<void(const T&)>> after_delete;
  std::vector<std::function<void(T&)>> after_load;

  // A subclass runs its base class's hooks, on its base part.
  template <class Derived>
  LifecycleHooks<Derived> rebased() const {
    auto each = [](const auto& hooks) {
      using Hook = typename std::decay_t<decltype(hooks)>::value_type;
      std::vector<typename RebasedHook<Hook, Derived>::type> out;
      for (const Hook& hook : hooks) {
        out.push_back([hook](auto& object, const auto&... rest) { hook(object, rest...); });
      }
      return out;
    };
    return {each(before_insert), each(after_insert), each(before_save), each(after_save),
            each(before_delete), each(after_delete), each(after_load)};
  }

 private:
  template <class Hook, class Derived>
  struct RebasedHook;
  template <class R, class Object, class... Rest, class Derived>
  struct RebasedHook<std::function<R(Object&, Rest...)>, Derived> {
    using type = std::function<R(std::conditional_t<std::is_const_v<Object>, const Derived, Derived>&, Rest...)>;
  };
};

// What a schema carries besides its fields.
template <class T>
struct SchemaMetadata {
  ClassInfo class_info{};
  WriteTracking<T> tracking{};
  std::vector<IndexSpec> indexes{};
  SchemaEvolution evolution{};
  bool auto_create_indexes = false;  // ensure the declared indexes once per process, on first use
  LifecycleHooks<T> hooks{};

  template <class Derived>
  SchemaMetadata<Derived> rebased(std::string class_chain) const {
    return {ClassInfo{std::move(class_chain), class_info.hierarchy_chains}, tracking.template rebased<Derived>(),
            indexes, evolution, auto_create_indexes, hooks.template rebased<Derived>()};
  }
};

template <class T, class M>
struct Field {
  using model_type = T;
  using member_type = M;

  M T::*member;
  std::string name;                         // the stored name
  std::function<void(M&)> apply_default;    // empty when the field has no default
  std::vector<Rule<M>> rules;
  // The rules and the default as data, for describing the schema (description.hpp): one
  // document per rule ({"min": 0}); {"value": v} as stored, or {"factory": true}.
  std::vector<bson::Document> rule_specs{};
  std::optional<bson::Document> default_spec{};
  std::vector<std::string> renamed_from{};  // stored names it replaces (RenamedFrom)
  // With a default_factory: whether a value is what a value-initialized model holds there, so
  // was never set (insert then applies the factory). Empty otherwise.
  std::function<bool(const M&)> never_set{};
};

namespace detail {
// {key: value}, the value as its codec stores it (as text when it has none).
template <class V>
bson::Document spec_of(std::string_view key, const V& value) {
  bson::Builder spec;
  if constexpr (Encodable<V>) {
    Codec<V>::encode(spec.native(), key, value);
  } else {
    spec.append(key, std::to_string(value));
  }
  return spec.extract();
}

template <class Option>
bson::Document describe_rule(const Option& option) {
  if constexpr (std::is_same_v<Option, Required>) {
    return spec_of("required", true);
  } else if constexpr (requires { option.bound; }) {
    return spec_of(std::is_same_v<Option, Min<decltype(option.bound)>> ? "min" : "max", option.bound);
  } else if constexpr (std::is_same_v<Option, MinLength>) {
    return spec_of("min_length", static_cast<int64_t>(option.length));
  } else if constexpr (std::is_same_v<Option, MaxLength>) {
    return spec_of("max_length", static_cast<int64_t>(option.length));
  } else if constexpr (std::is_same_v<Option, Matches>) {
    return spec_of("matches", option.pattern);
  } else if constexpr (requires { option.choices; }) {
    return spec_of("one_of", option.choices);
  } else {
    return spec_of("check", option.message);
  }
}

template <class T, class M, class Option>
void add_option(Field<T, M>& field, Option option) {
  if constexpr (std::is_same_v<Option, RenamedFrom>) {
    field.renamed_from.push_back(std::move(option.name));
  } else if constexpr (requires { option.value; } && !requires { option.bound; }) {
    field.apply_default = [value = std::move(option.value)](M& m) { m = value; };
    M sample{};
    field.apply_default(sample);
    field.default_spec = spec_of("value", sample);
  } else if constexpr (requires { option.factory(); }) {
    field.apply_default = [factory = std::move(option.factory)](M& m) { m = factory(); };
    field.default_spec = spec_of("factory", true);
    if constexpr (std::equality_comparable<M>) {
      field.never_set = [member = field.member](const M& m) {
        static const T pristine{};
        return m == pristine.*member;
      };
    }
  } else {
    field.rule_specs.push_back(describe_rule(option));
    field.rules.push_back(detail::make_rule<M>(std::move(option)));
  }
}

// `model` and `member_type` as typeid names them (demangled in the message).
[[noreturn]] void throw_unknown_member(const char* model, const char* member_type, std::string_view collection, const std::vector<std::string_view>& declared);
[[noreturn]] void throw_strict_unknown(std::string_view key);

// The path of the value being validated, as a chain on the stack: turned into text ("3.address.zip")
// only when a rule fails, so that validating costs no allocation.
struct ValidationPath {
  const ValidationPath* parent = nullptr;
  std::string_view key{};  // a field name or a map key; empty for a position
  std::size_t index = 0;   // a position in a list, when key is empty
  std::string text() const;
};

// Whether values of M can hold models (whose rules then apply): only those are walked.
template <class M>
constexpr bool holds_models() {
  if constexpr (Model<M>) {
    return true;
  } else if constexpr (requires(const M& v) { v.has_value(); *v; }) {
    return holds_models<std::remove_cvref_t<decltype(*std::declval<const M&>())>>();
  } else if constexpr (requires(const M& v) { v.begin()->second; }) {
    return holds_models<std::remove_cvref_t<decltype(std::declval<const M&>().begin()->second)>>();
  } else if constexpr (requires(const M& v) { v.size(); v[0]; } && !std::is_same_v<M, std::string>) {
    return holds_models<std::remove_cvref_t<decltype(std::declval<const M&>()[0])>>();
  } else {
    return false;
  }
}

template <class M>
void validate_value(const M& value, const ValidationPath& path, std::vector<ValidationFailure>& out);
}  // namespace detail

template <class T, class... Fields>
class Schema {
 public:
  static constexpr std::size_t size = sizeof...(Fields);
  static constexpr std::size_t no_id = static_cast<std::size_t>(-1);

  Schema(std::string collection, UnknownFields unknown, std::tuple<Fields...> fields,
         std::size_t id_index, SchemaMetadata<T> meta = {})
      : collection_(std::move(collection)), unknown_(unknown), fields_(std::move(fields)),
        id_index_(id_index), meta_(std::move(meta)) {
    std::apply([&](const auto&... f) { names_ = {std::string_view(f.name)...}; }, fields_);
    plain_names_ = std::all_of(names_.begin(), names_.end(), [](std::string_view n) { return detail::plain_field_name(n); });
  }
  // Copies re-point the name index at their own strings.
  Schema(const Schema& other)
      : Schema(other.collection_, other.unknown_, other.fields_, other.id_index_, other.meta_) {}
  Schema& operator=(const Schema&) = delete;

  // Binds a member (of the model or of a base class) to a stored name, with rules and a
  // default (see rules.hpp).
  template <class M, class Owner, class... Options>
    requires std::is_base_of_v<Owner, T>
  Schema<T, Fields..., Field<T, M>> field(M Owner::*member, std::string name, Options... options) const {
    Field<T, M> f{static_cast<M T::*>(member), std::move(name), {}, {}, {}, {}, {}, {}};
    (detail::add_option(f, std::move(options)), ...);
    return {collection_, unknown_, std::tuple_cat(fields_, std::make_tuple(std::move(f))), id_index_, meta_};
  }

  // A counter stored under `name`, set to 1 on insert and raised by every write the library
  // makes; saving or removing an object loaded before another write raises ConflictError.
  auto version_field(int64_t T::*member, std::string name = "_version") const {
    auto next = field(member, name);
    next.meta_.tracking.version = member;
    next.meta_.tracking.version_name = std::move(name);
    return next;
  }
  // Creation time set on insert; modification time set on insert and on every write that
  // changes something. Millisecond precision, as stored.
  auto timestamps(std::chrono::system_clock::time_point T::*created,
                  std::chrono::system_clock::time_point T::*updated,
                  std::string created_name = "created_at", std::string updated_name = "updated_at") const {
    auto next = field(created, created_name).field(updated, updated_name);
    next.meta_.tracking.created = created;
    next.meta_.tracking.created_name = std::move(created_name);
    next.meta_.tracking.updated = updated;
    next.meta_.tracking.updated_name = std::move(updated_name);
    return next;
  }
  const WriteTracking<T>& tracking() const noexcept { return meta_.tracking; }

  // Declares an index on members of this model: .index({.unique = true}, asc(&User::email)).
  template <class... Keys>
  Schema index(IndexOptions options, Keys... keys) const {
    bson::Builder key_doc;
    auto append_key = [&]<class M, class Owner>(const IndexKey<M, Owner>& key) {
      key_doc.append(name_of(static_cast<M T::*>(key.member)), key.direction);
    };
    (append_key(keys), ...);
    return index(IndexSpec{key_doc.extract(), std::move(options)});
  }
  // Declares an index by stored paths, for keys inside nested documents: {"address.zip": 1}.
  Schema index(IndexSpec spec) const {
    Schema next(*this);
    next.meta_.indexes.push_back(std::move(spec));
    return next;
  }
  const std::vector<IndexSpec>& indexes() const noexcept { return meta_.indexes; }

  // Versions the model's documents: they are stored with `field` = version. A document without
  // the field is version 1.
  Schema schema_version(int32_t version, std::string field = "_schema_version") const {
    Schema next(*this);
    next.meta_.evolution.current = version;
    next.meta_.evolution.field = std::move(field);
    return next;
  }
  // How to bring a version `from` document to version `from + 1`.
  Schema upgrade(int32_t from, UpgradeStep step) const {
    Schema next(*this);
    next.meta_.evolution.steps[from] = std::move(step);
    return next;
  }
  const SchemaEvolution& evolution() const noexcept { return meta_.evolution; }

  // Stored names of the fields with a default: the ones whose old documents a query can miss.
  std::vector<std::string> fields_with_defaults() const {
    std::vector<std::string> names;
    for_each_field([&](const auto& f) {
      if (f.apply_default) names.push_back(f.name);
    });
    return names;
  }

  // Makes this the root class of a hierarchy stored with `_cls` (see Hierarchy).
  template <class H>
  Schema inheritable(std::string class_name) const {
    SchemaMetadata<T> meta = meta_;
    meta.class_info = ClassInfo{std::move(class_name), &detail::HierarchyChains<H>::get};
    return {collection_, unknown_, fields_, id_index_, std::move(meta)};
  }
  // A subclass's schema: every field of this one, in the same collection, with the class
  // chain extended ("Human" -> "Human.Jedi"). Add the subclass's own fields after it.
  template <class Derived>
    requires std::is_base_of_v<T, Derived>
  auto derive(std::string class_name) const {
    return std::apply(
        [&](const auto&... f) {
          return Schema<Derived, Field<Derived, typename std::decay_t<decltype(f)>::member_type>...>(
              collection_, unknown_,
              std::make_tuple(Field<Derived, typename std::decay_t<decltype(f)>::member_type>{
                  f.member, f.name, f.apply_default, f.rules, f.rule_specs, f.default_spec, f.renamed_from,
                  f.never_set}...),
              id_index_, meta_.template rebased<Derived>(meta_.class_info.chain + "." + class_name));
        },
        fields_);
  }

  bool is_inheritable() const noexcept { return !meta_.class_info.chain.empty(); }
  const std::string& class_chain() const noexcept { return meta_.class_info.chain; }
  // The chains a query for this class matches: its own and every subclass's.
  std::vector<std::string> matching_chains() const {
    std::vector<std::string> out;
    if (!meta_.class_info.hierarchy_chains) return out;
    for (const std::string& chain : meta_.class_info.hierarchy_chains()) {
      if (chain == meta_.class_info.chain || chain.starts_with(meta_.class_info.chain + ".")) out.push_back(chain);
    }
    return out;
  }
  const std::vector<std::string>& hierarchy_chains() const {
    static const std::vector<std::string> none;
    return meta_.class_info.hierarchy_chains ? meta_.class_info.hierarchy_chains() : none;
  }
  // The member stored as _id, filled on insert when left empty: ObjectId ids get a new
  // ObjectId, string ids a new ObjectId's hex digits, integer ids the next value of a
  // per-collection sequence (1, 2, ...) kept in `_mongo_orm_counters`.
  template <class M, class Owner, class... Options>
    requires std::is_base_of_v<Owner, T>
  Schema<T, Fields..., Field<T, M>> id(M Owner::*member, Options... options) const {
    auto next = field(member, "_id", std::move(options)...);
    next.id_index_ = size;
    return next;
  }
  Schema strict() const { return {collection_, UnknownFields::strict, fields_, id_index_, meta_}; }
  // The seed's Meta.auto_create_indexes: the first TypedCollection of this model on a server's
  // collection, in this process, creates the declared indexes that are missing (as
  // ensure_indexes does, raising when one exists with other keys or options).
  Schema auto_create_indexes(bool on = true) const {
    Schema next(*this);
    next.meta_.auto_create_indexes = on;
    return next;
  }
  bool creates_indexes_on_first_use() const noexcept { return meta_.auto_create_indexes; }

  // Lifecycle hooks (LifecycleHooks above), run by TypedCollection in the order declared; a
  // subclass runs its base class's first.
  //   before_insert / after_insert: a new object, by insert, save or insert_many. Before hooks
  //     run after the factory defaults are filled and before validation and the id.
  //   before_save / after_save: the save of a stored object that changes something, with the
  //     Changes; what a before_save hook changes is written in the same update.
  //   before_delete / after_delete: remove(object); after_delete only when a document went.
  //   after_load: every object read as this model (find, find_one, get_by_id, query, the
  //     result of find_one_and_update); what it changes counts as a change for the next save.
  // Server-side bulk writes (update_one, update_many, delete_many) have no objects and run none.
  Schema before_insert(std::function<void(T&)> hook) const { return with_hook(&LifecycleHooks<T>::before_insert, std::move(hook)); }
  Schema after_insert(std::function<void(const T&)> hook) const { return with_hook(&LifecycleHooks<T>::after_insert, std::move(hook)); }
  Schema before_save(std::function<void(T&, const Changes&)> hook) const { return with_hook(&LifecycleHooks<T>::before_save, std::move(hook)); }
  Schema after_save(std::function<void(const T&, const Changes&)> hook) const { return with_hook(&LifecycleHooks<T>::after_save, std::move(hook)); }
  Schema before_delete(std::function<void(const T&)> hook) const { return with_hook(&LifecycleHooks<T>::before_delete, std::move(hook)); }
  Schema after_delete(std::function<void(const T&)> hook) const { return with_hook(&LifecycleHooks<T>::after_delete, std::move(hook)); }
  Schema after_load(std::function<void(T&)> hook) const { return with_hook(&LifecycleHooks<T>::after_load, std::move(hook)); }
  const LifecycleHooks<T>& hooks() const noexcept { return meta_.hooks; }
  Schema unknown_fields(UnknownFields policy) const { return {collection_, policy, fields_, id_index_, meta_}; }

  const std::string& collection() const noexcept { return collection_; }
  UnknownFields unknown_field_policy() const noexcept { return unknown_; }
  bool has_id() const noexcept { return id_index_ != no_id; }
  const std::array<std::string_view, size>& stored_names() const noexcept { return names_; }
  bool declares(std::string_view stored_name) const noexcept {
    return lookup(stored_name, 0) < size || (is_inheritable() && stored_name == "_cls") ||
           (meta_.evolution.current > 0 && stored_name == meta_.evolution.field);
  }

  // The stored name of a member; Error when the member is not in the schema.
  template <class M>
  std::string_view name_of(M T::*member) const {
    std::string_view found;
    for_each_field([&](const auto& f) {
      if constexpr (std::is_same_v<typename std::decay_t<decltype(f)>::member_type, M>) {
        if (found.empty() && f.member == member) found = f.name;
      }
    });
    if (found.empty()) {
      detail::throw_unknown_member(typeid(T).name(), typeid(M).name(), collection_,
                                   std::vector<std::string_view>(names_.begin(), names_.end()));
    }
    return found;
  }

  // Writes `_cls` for a class of a hierarchy, the schema version of a versioned model, then
  // every field in declaration order.
  // Records in the encode audit (codec.hpp) what it cannot vouch for: stored names that are not
  // plain field names, and every field whose codec keeps no audit.
  void encode(bson_t* doc, const T& object) const {
    detail::EncodeAudit& audit = detail::encode_audit();
    if (!plain_names_) audit.unchecked = true;
    if (is_inheritable()) {
      detail::check_text(meta_.class_info.chain, "_cls");
      bson::detail::append(doc, "_cls", std::string_view(meta_.class_info.chain));
    }
    if (meta_.evolution.current > 0) {
      if (!detail::plain_field_name(meta_.evolution.field)) audit.unchecked = true;
      bson::detail::append(doc, meta_.evolution.field, meta_.evolution.current);
    }
    for_each_field([&](const auto& f) {
      using M = typename std::decay_t<decltype(f)>::member_type;
      if constexpr (!audited_codec<M>()) audit.unchecked = audit.unusual = true;
      Codec<M>::encode(doc, f.name, object.*(f.member));
    });
  }

  // Reads a stored document into `out`: fields missing from the document keep their value or
  // get their declared default; unknown fields are skipped (preserve) or refused (strict).
  void decode(bson::DocumentView doc, T& out) const {
    std::array<bool, size> seen{};
    std::size_t guess = 0;
    for (bson::Element element : doc) {
      std::string_view key = element.key();
      std::size_t index = lookup(key, guess);
      if (index < size) {
        decode_at(index, element, out, std::make_index_sequence<size>{});
        seen[index] = true;
        guess = index + 1;
      } else if ((key == "_cls" && is_inheritable()) ||
                 (meta_.evolution.current > 0 && key == meta_.evolution.field)) {
        continue;  // checked by the collection (class) or by upgrade() (version)
      } else if (unknown_ == UnknownFields::strict) {
        detail::throw_strict_unknown(key);
      }
    }
    std::size_t i = 0;
    for_each_field([&](const auto& f) {
      if (!seen[i++] && f.apply_default) f.apply_default(out.*(f.member));
    });
  }

  // Records $set/$unset for every field whose value differs from the stored document.
  void diff(bson::DocumentView stored, const T& object, const std::string& prefix, UpdateDiff& out) const {
    for_each_field([&](const auto& f) {
      if (prefix.empty() && f.name == "_id") return;  // the _id of a stored document never changes
      diff_value(stored.find(f.name), object.*(f.member), detail::join_path(prefix, f.name), out);
    });
  }

  // Appends a failure, with its path, for every rule broken anywhere in the object.
  void validate(const T& object, const std::string& prefix, std::vector<ValidationFailure>& out) const {
    validate(object, detail::ValidationPath{nullptr, prefix}, out);
  }
  void validate(const T& object, const detail::ValidationPath& at, std::vector<ValidationFailure>& out) const {
    for_each_field([&](const auto& f) {
      const auto& value = object.*(f.member);
      detail::ValidationPath path{&at, f.name};
      for (const auto& rule : f.rules) {
        if (auto message = rule(value)) out.push_back({path.text(), *message});
      }
      using Value = std::remove_cvref_t<decltype(value)>;
      if constexpr (detail::holds_models<Value>()) detail::validate_value(value, path, out);
    });
  }

  // Calls fn with the id member of an object (only when has_id()).
  template <class F>
  void visit_id(T& object, F fn) const {
    std::size_t i = 0;
    for_each_field([&](const auto& f) {
      if (i++ == id_index_) fn(object.*(f.member));
    });
  }
  template <class F>
  void visit_id(const T& object, F fn) const {
    std::size_t i = 0;
    for_each_field([&](const auto& f) {
      if (i++ == id_index_) fn(object.*(f.member));
    });
  }

  template <class F>
  void for_each_field(F&& fn) const {
    std::apply([&](const auto&... f) { (fn(f), ...); }, fields_);
  }

 private:
  template <class, class...>
  friend class Schema;

  template <class Hook>
  Schema with_hook(std::vector<Hook> LifecycleHooks<T>::*list, Hook hook) const {
    if (!hook) throw ConfigurationError("an empty lifecycle hook was declared on the schema of '" + collection_ + "'");
    Schema next(*this);
    (next.meta_.hooks.*list).push_back(std::move(hook));
    return next;
  }

  std::size_t lookup(std::string_view key, std::size_t guess) const noexcept {
    // Stored documents usually keep declaration order, so the next field is tried first.
    if (guess < size && names_[guess] == key) return guess;
    for (std::size_t i = 0; i < size; ++i) {
      if (names_[i] == key) return i;
    }
    return size;
  }

  template <std::size_t... I>
  void decode_at(std::size_t index, const bson::Element& element, T& out, std::index_sequence<I...>) const {
    (void)((index == I ? (decode_field(std::get<I>(fields_), element, out), true) : false) || ...);
  }

  template <class M>
  static void decode_field(const Field<T, M>& f, const bson::Element& element, T& out) {
    decode_nested(element, out.*(f.member), f.name);
  }

  std::string collection_;
  UnknownFields unknown_;
  std::tuple<Fields...> fields_;
  std::size_t id_index_;
  SchemaMetadata<T> meta_;
  std::array<std::string_view, size> names_{};
  bool plain_names_ = true;  // every stored name passes detail::plain_field_name
};

// Starts a schema; `collection` is empty for models only ever embedded in others.
template <class T>
Schema<T> schema(std::string collection = {}) {
  return {std::move(collection), UnknownFields::preserve, {}, Schema<T>::no_id};
}

// The schema of a model, built once from its define_schema.
template <Model T>
const auto& schema_of() {
  static const auto instance = define_schema(SchemaTag<T>{});
  return instance;
}

namespace detail {
template <class... Classes>
struct HierarchyChains<Hierarchy<Classes...>> {
  static const std::vector<std::string>& get() {
    static const std::vector<std::string> chains{std::string(schema_of<Classes>().class_chain())...};
    return chains;
  }
};
}  // namespace detail

namespace detail {
[[noreturn]] void throw_newer_version(int32_t stored, int32_t current);
[[noreturn]] void throw_missing_upgrade(int32_t from);
int32_t stored_version(bson::DocumentView document, const std::string& field);
}  // namespace detail

// The document brought to the model's current schema version (nullopt when it already is).
template <Model T>
std::optional<bson::Document> upgraded(bson::DocumentView document) {
  const SchemaEvolution& evolution = schema_of<T>().evolution();
  if (evolution.current == 0) return std::nullopt;
  int32_t version = detail::stored_version(document, evolution.field);
  if (version == evolution.current) return std::nullopt;
  if (version > evolution.current) detail::throw_newer_version(version, evolution.current);
  bson::Document current(document);
  for (; version < evolution.current; ++version) {
    auto step = evolution.steps.find(version);
    if (step == evolution.steps.end()) detail::throw_missing_upgrade(version);
    current = step->second(current);
  }
  return current;
}

namespace detail {
// Applies every declared default of a model, and those of the nested models it holds directly
// (a member that is a model and has no default of its own).
template <Model T>
void apply_defaults(T& object) {
  schema_of<T>().for_each_field([&](const auto& f) {
    using M = typename std::decay_t<decltype(f)>::member_type;
    if (f.apply_default) {
      f.apply_default(object.*(f.member));
    } else if constexpr (Model<M>) {
      apply_defaults(object.*(f.member));
    }
  });
}
}  // namespace detail

// A new object with every declared default applied, nested models' included.
template <Model T>
T make() {
  T object{};
  detail::apply_defaults(object);
  return object;
}

namespace detail {
// Whether a member type holds a model: a model, or an optional, vector or map of one.
template <class M>
constexpr bool holds_model() {
  if constexpr (Model<M>) {
    return true;
  } else if constexpr (requires { typename M::mapped_type; }) {
    return holds_model<typename M::mapped_type>();
  } else if constexpr (requires { typename M::value_type; } && !std::is_same_v<M, std::string>) {
    return holds_model<typename M::value_type>();
  } else {
    return false;
  }
}
// Gives every default_factory field that still holds what a value-initialized model holds there
// (a time_point of 1970, an empty string) its factory's value, as make<T>() would have: at any
// depth, in nested models and in the optionals, vectors and maps that hold them. A value set on
// purpose is kept; types without == are left as they are.
template <class M>
void fill_factory_defaults(M& value) {
  if constexpr (Model<M>) {
    schema_of<M>().for_each_field([&](const auto& f) {
      auto& member = value.*(f.member);
      if (f.never_set && f.never_set(member)) {
        f.apply_default(member);
      } else if constexpr (holds_model<std::decay_t<decltype(member)>>()) {
        fill_factory_defaults(member);
      }
    });
  } else if constexpr (requires { typename M::mapped_type; }) {
    for (auto& entry : value) fill_factory_defaults(entry.second);
  } else if constexpr (requires { value.has_value(); *value; }) {
    if (value.has_value()) fill_factory_defaults(*value);
  } else if constexpr (requires { value.begin(); value.end(); }) {
    for (auto& item : value) fill_factory_defaults(item);
  }
}
}  // namespace detail

// Validates an object; an empty result means it is valid.
template <Model T>
std::vector<ValidationFailure> validate(const T& object) {
  std::vector<ValidationFailure> failures;
  schema_of<T>().validate(object, "", failures);
  return failures;
}

// Models nest as sub-documents, at any depth.
template <Model T>
struct Codec<T> {
  static constexpr bool audited = true;  // Schema::encode audits its own fields
  static void encode(bson_t* doc, std::string_view key, const T& v) {
    bson_t child;
    if (!bson_append_document_begin(doc, key.data(), static_cast<int>(key.size()), &child)) {
      bson::detail::throw_append_failed(key);
    }
    schema_of<T>().encode(&child, v);
    bson_append_document_end(doc, &child);
  }
  static void decode(const bson::Element& e, T& out) {
    detail::expect_type(e, bson::Type::document);
    out = T{};
    schema_of<T>().decode(e.as_document(), out);
  }
  static void diff(const std::optional<bson::Element>& stored, const T& value,
                   const std::string& path, UpdateDiff& out) {
    if (stored && stored->type() == bson::Type::document) {
      schema_of<T>().diff(stored->as_document(), value, path, out);
    } else {
      out.set(path, value);
    }
  }
};

namespace detail {
// Descends into nested models and containers of them, so rules of embedded models apply.
template <class M>
void validate_value(const M& value, const ValidationPath& path, std::vector<ValidationFailure>& out) {
  if constexpr (Model<M>) {
    schema_of<M>().validate(value, path, out);
  } else if constexpr (requires { value.has_value(); *value; }) {
    if (value.has_value()) validate_value(*value, path, out);
  } else if constexpr (requires { value.begin()->second; }) {
    for (const auto& [key, item] : value) validate_value(item, ValidationPath{&path, key}, out);
  } else if constexpr (requires { value.size(); value[0]; } && !std::is_same_v<M, std::string>) {
    for (std::size_t i = 0; i < value.size(); ++i) validate_value(value[i], ValidationPath{&path, {}, i}, out);
  }
}
}  // namespace detail

}  // namespace mongo_orm::model
