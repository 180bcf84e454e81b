// What a schema declares, as data: every stored path with its type, rules and default, the
// indexes, the class chain and the schema version. Autogenerate compares these (model
// snapshots), and tools print them.
//
//   model::ModelDescription users = model::describe<User>();
//   for (const auto& field : users.fields) std::cout << field.path << ": " << field.type << "\n";
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/model/schema.hpp"

namespace mongo_orm::model {

struct FieldDescription {
  // The stored path: "address.zip" inside a nested model, "items[].qty" inside the models of an
  // array, "prices.*.amount" inside the models of a map.
  std::string path;
  // The BSON type alias it is stored as: "string", "int", "long", "double", "bool", "date",
  // "objectId", "decimal", "binData", "regex", "timestamp", "object" (a nested model or any
  // document), "any" (a bson::Value), what a codec of one's own declares (else "custom").
  // Arrays and maps name their items: "array<string>", "map<int>".
  std::string type;
  std::string item_type{};  // an array's or a map's items: "string" for "array<string>"; else empty
  bool map = false;         // a map: its keys are names of the application's choosing
  bool optional = false;  // a std::optional: may be missing or null
  std::vector<bson::Document> rules{};  // {"required": true}, {"min": 0}, ... in declaration order
  std::vector<std::string> choices{};   // the stored names of an enum
  std::optional<bson::Document> default_value{};  // {"value": v} as stored, or {"factory": true}
  // The paths it replaces (renamed_from hints), for planning a rename; not part of a snapshot.
  std::vector<std::string> renamed_from{};
};

struct ModelDescription {
  std::string collection;
  std::string class_chain{};              // "Human.Jedi" in a hierarchy; empty otherwise
  std::vector<std::string> hierarchy{};   // every class chain stored in the collection
  UnknownFields unknown_fields = UnknownFields::preserve;
  int32_t schema_version = 0;             // 0: not versioned
  std::string version_field{};
  std::vector<FieldDescription> fields{};  // in declaration order, nested paths after their parent
  std::vector<IndexSpec> indexes{};
};

namespace detail {

// A codec of one's own says what it stores with `static constexpr const char* stored_type =
// "object";`; without it the type is "custom".
template <class M>
struct TypeName {
  static std::string name() {
    if constexpr (requires { Codec<M>::stored_type; }) {
      return Codec<M>::stored_type;
    } else {
      return "custom";
    }
  }
};

// The item type of an optional, a vector or a map, void for anything else.
template <class M>
struct Inner {
  using optional = void;
  using array = void;
  using map = void;
};
template <class M>
struct Inner<std::optional<M>> : Inner<void> {
  using optional = M;
};
template <class M>
struct Inner<std::vector<M>> : Inner<void> {
  using array = M;
};
template <class M>
struct Inner<std::map<std::string, M>> : Inner<void> {
  using map = M;
};

template <class M>
std::string type_name() {
  if constexpr (Model<M>) {
    return "object";
  } else if constexpr (MappedEnum<M>) {
    return "string";
  } else if constexpr (!std::is_void_v<typename Inner<M>::optional>) {
    return type_name<typename Inner<M>::optional>();
  } else if constexpr (!std::is_void_v<typename Inner<M>::array>) {
    return "array<" + type_name<typename Inner<M>::array>() + ">";
  } else if constexpr (!std::is_void_v<typename Inner<M>::map>) {
    return "map<" + type_name<typename Inner<M>::map>() + ">";
  } else {
    return TypeName<M>::name();
  }
}

#define MONGO_ORM_TYPE_NAME(Type, Name) \
  template <>                           \
  struct TypeName<Type> {               \
    static std::string name() { return Name; } \
  };
MONGO_ORM_TYPE_NAME(bool, "bool")
MONGO_ORM_TYPE_NAME(int32_t, "int")
MONGO_ORM_TYPE_NAME(int64_t, "long")
MONGO_ORM_TYPE_NAME(double, "double")
MONGO_ORM_TYPE_NAME(std::string, "string")
MONGO_ORM_TYPE_NAME(bson::ObjectId, "objectId")
MONGO_ORM_TYPE_NAME(bson::DateTime, "date")
MONGO_ORM_TYPE_NAME(std::chrono::system_clock::time_point, "date")
MONGO_ORM_TYPE_NAME(bson::Decimal128, "decimal")
MONGO_ORM_TYPE_NAME(bson::Regex, "regex")
MONGO_ORM_TYPE_NAME(bson::Timestamp, "timestamp")
MONGO_ORM_TYPE_NAME(bson::Binary, "binData")
MONGO_ORM_TYPE_NAME(bson::Uuid, "binData")
MONGO_ORM_TYPE_NAME(bson::Document, "object")
MONGO_ORM_TYPE_NAME(bson::Value, "any")
#undef MONGO_ORM_TYPE_NAME

template <Model T>
void describe_fields(const std::string& prefix, std::vector<FieldDescription>& out);

// The entries for a value of type M stored at `path` (nested models add their own fields).
template <class M>
void describe_value(const std::string& path, FieldDescription entry, std::vector<FieldDescription>& out) {
  if constexpr (!std::is_void_v<typename Inner<M>::optional>) {
    entry.optional = true;
    describe_value<typename Inner<M>::optional>(path, std::move(entry), out);
  } else {
    entry.path = path;
    entry.type = type_name<M>();
    if constexpr (!std::is_void_v<typename Inner<M>::array>) {
      entry.item_type = type_name<typename Inner<M>::array>();
    } else if constexpr (!std::is_void_v<typename Inner<M>::map>) {
      entry.item_type = type_name<typename Inner<M>::map>();
      entry.map = true;
    }
    if constexpr (MappedEnum<M>) {
      for (const auto& [value, name] : enum_values(EnumTag<M>{})) entry.choices.emplace_back(name);
    }
    out.push_back(std::move(entry));
    if constexpr (Model<M>) {
      describe_fields<M>(path + ".", out);
    } else if constexpr (Model<typename Inner<M>::array>) {
      describe_fields<typename Inner<M>::array>(path + "[].", out);
    } else if constexpr (Model<typename Inner<M>::map>) {
      describe_fields<typename Inner<M>::map>(path + ".*.", out);
    }
  }
}

template <Model T>
void describe_fields(const std::string& prefix, std::vector<FieldDescription>& out) {
  schema_of<T>().for_each_field([&](const auto& f) {
    using M = typename std::decay_t<decltype(f)>::member_type;
    FieldDescription entry;
    entry.rules = f.rule_specs;
    entry.default_value = f.default_spec;
    for (const std::string& old : f.renamed_from) entry.renamed_from.push_back(prefix + old);
    describe_value<M>(prefix + f.name, std::move(entry), out);
  });
}

}  // namespace detail

template <Model T>
ModelDescription describe() {
  const auto& schema = schema_of<T>();
  ModelDescription d;
  d.collection = schema.collection();
  d.class_chain = schema.class_chain();
  d.hierarchy = schema.hierarchy_chains();
  d.unknown_fields = schema.unknown_field_policy();
  d.schema_version = schema.evolution().current;
  if (d.schema_version > 0) d.version_field = schema.evolution().field;
  detail::describe_fields<T>("", d.fields);
  d.indexes = schema.indexes();
  return d;
}

}  // namespace mongo_orm::model
