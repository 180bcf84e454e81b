// Typed filters: expressions on fields named by member pointers.
//
//   field(&User::age) > 30 && field(&User::name).matches("^jo", "i")
//   field(&User::address, &Address::zip) == "10115"
//   field(&User::company).icontains(text_from_a_user)   // the text matches only itself
//
// Comparing a field with a value of another type (or a narrowing one) does not compile. Values
// are always encoded as values: a string from a user never becomes an operator.
#pragma once

#include <concepts>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/model/schema.hpp"

namespace mongo_orm::model {

// A filter document; raw documents convert implicitly, so typed and raw filters compose.
class Filter {
 public:
  Filter() = default;  // matches every document
  Filter(bson::Document document) : document_(std::move(document)) {}  // NOLINT: raw filters compose

  const bson::Document& document() const noexcept { return document_; }
  operator bson::DocumentView() const noexcept { return document_.view(); }  // NOLINT

  friend Filter operator&&(const Filter& a, const Filter& b);
  friend Filter operator||(const Filter& a, const Filter& b);
  friend Filter operator!(const Filter& a);

 private:
  bson::Document document_;
};

// `text` as a regular expression that matches exactly it: every ASCII character other than a
// letter, a digit or `_` is escaped, and a NUL is written \x00 (a pattern cannot hold one), so
// "a+b (c)" matches "a+b (c)" and nothing else, on MongoDB's PCRE and on Go's RE2 alike.
std::string regex_escape(std::string_view text);

Filter all_of(const std::vector<Filter>& filters);   // $and
Filter any_of(const std::vector<Filter>& filters);   // $or
Filter none_of(const std::vector<Filter>& filters);  // $nor

namespace detail {
template <class M>
struct QueryValue {
  using type = M;
};
template <class M>
struct QueryValue<std::optional<M>> {
  using type = typename QueryValue<M>::type;
};
template <class M>
struct QueryValue<std::vector<M>> {
  using type = M;  // a value compared with an array field matches any element
};
template <class M>
using query_value_t = typename QueryValue<M>::type;

template <class M>
struct NestedModel {
  using type = M;
};
template <class M>
struct NestedModel<std::optional<M>> {
  using type = typename NestedModel<M>::type;
};
template <class M>
struct NestedModel<std::vector<M>> {
  using type = typename NestedModel<M>::type;
};

// Converts without narrowing: int to int64 is fine, double to int32 and int64 to int32 are not.
template <class V, class Q>
concept StorableAs = requires(const V& v) { Q{v}; } ||
                     (std::same_as<Q, std::string> && std::convertible_to<const V&, std::string_view>);

template <class Q>
Filter operator_filter(const std::string& path, std::string_view op, const Q& value) {
  bson::Builder filter;
  filter.append(path, [&](bson::Builder& condition) { Codec<Q>::encode(condition.native(), op, value); });
  return filter.extract();
}

template <class Q>
Filter list_filter(const std::string& path, std::string_view op, const std::vector<Q>& values) {
  bson::Builder filter;
  filter.append(path, [&](bson::Builder& condition) { Codec<std::vector<Q>>::encode(condition.native(), op, values); });
  return filter.extract();
}

Filter exists_filter(const std::string& path, bool exists);
Filter type_filter(const std::string& path, bson::Type type);
Filter size_filter(const std::string& path, int64_t size);
Filter regex_filter(const std::string& path, const std::string& pattern, const std::string& options);
// Text matched as written (regex_escape) at `anchor`; ends anchor with \z, since PCRE's $ also
// matches before a final newline.
enum class TextAnchor { anywhere, start, end, whole };
Filter literal_filter(const std::string& path, std::string_view text, TextAnchor anchor, bool ignore_case);
Filter elem_match_filter(const std::string& path, const Filter& condition);
}  // namespace detail

// A stored field path of type M, reached from a model.
template <class M>
class FieldPath {
 public:
  using member_type = M;
  using value_type = detail::query_value_t<M>;

  explicit FieldPath(std::string path) : path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

  template <detail::StorableAs<value_type> V>
  Filter operator==(const V& v) const { return detail::operator_filter(path_, "$eq", value_type(v)); }
  template <detail::StorableAs<value_type> V>
  Filter operator!=(const V& v) const { return detail::operator_filter(path_, "$ne", value_type(v)); }
  template <detail::StorableAs<value_type> V>
  Filter operator<(const V& v) const { return detail::operator_filter(path_, "$lt", value_type(v)); }
  template <detail::StorableAs<value_type> V>
  Filter operator<=(const V& v) const { return detail::operator_filter(path_, "$lte", value_type(v)); }
  template <detail::StorableAs<value_type> V>
  Filter operator>(const V& v) const { return detail::operator_filter(path_, "$gt", value_type(v)); }
  template <detail::StorableAs<value_type> V>
  Filter operator>=(const V& v) const { return detail::operator_filter(path_, "$gte", value_type(v)); }

  Filter in(const std::vector<value_type>& values) const { return detail::list_filter(path_, "$in", values); }
  Filter not_in(const std::vector<value_type>& values) const { return detail::list_filter(path_, "$nin", values); }
  Filter exists(bool present = true) const { return detail::exists_filter(path_, present); }
  Filter has_type(bson::Type type) const { return detail::type_filter(path_, type); }

  // A regular expression (server syntax; options such as "i"). For text from a user, use the
  // literal matches below: here "a+b" is a pattern, which finds "aab" and not "a+b".
  Filter matches(const std::string& pattern, const std::string& options = "") const
    requires std::same_as<value_type, std::string>
  {
    return detail::regex_filter(path_, pattern, options);
  }
  // Literal text, matched as written (regex_escape), anywhere, at the start, at the very end or
  // as the whole value; the `i` forms ignore case. MongoEngine's name__contains,
  // name__icontains, __startswith, __endswith, __iexact. A case-sensitive starts_with can use an
  // index on MongoDB.
  Filter contains(std::string_view text) const
    requires std::same_as<value_type, std::string>
  {
    return detail::literal_filter(path_, text, detail::TextAnchor::anywhere, false);
  }
  Filter icontains(std::string_view text) const
    requires std::same_as<value_type, std::string>
  {
    return detail::literal_filter(path_, text, detail::TextAnchor::anywhere, true);
  }
  Filter starts_with(std::string_view text) const
    requires std::same_as<value_type, std::string>
  {
    return detail::literal_filter(path_, text, detail::TextAnchor::start, false);
  }
  Filter istarts_with(std::string_view text) const
    requires std::same_as<value_type, std::string>
  {
    return detail::literal_filter(path_, text, detail::TextAnchor::start, true);
  }
  Filter ends_with(std::string_view text) const
    requires std::same_as<value_type, std::string>
  {
    return detail::literal_filter(path_, text, detail::TextAnchor::end, false);
  }
  Filter iends_with(std::string_view text) const
    requires std::same_as<value_type, std::string>
  {
    return detail::literal_filter(path_, text, detail::TextAnchor::end, true);
  }
  Filter iexact(std::string_view text) const
    requires std::same_as<value_type, std::string>
  {
    return detail::literal_filter(path_, text, detail::TextAnchor::whole, true);
  }

  // Array fields.
  Filter size(int64_t n) const
    requires(!std::same_as<M, value_type>)
  {
    return detail::size_filter(path_, n);
  }
  Filter contains_all(const std::vector<value_type>& values) const
    requires(!std::same_as<M, value_type>)
  {
    return detail::list_filter(path_, "$all", values);
  }
  Filter elem_match(const Filter& condition) const
    requires(!std::same_as<M, value_type>)
  {
    return detail::elem_match_filter(path_, condition);
  }

 private:
  std::string path_;
};

// A sort key from a field path, nested ones included: desc(field(&User::address, &Address::zip)).
// Member pointers give one directly: asc(&User::name) (schema.hpp).
struct SortKey {
  std::string path;
  int32_t direction;
};
template <class M>
SortKey asc(const FieldPath<M>& field) {
  return {field.path(), 1};
}
template <class M>
SortKey desc(const FieldPath<M>& field) {
  return {field.path(), -1};
}

// The path of a member, or of a member of a nested model: field(&User::address, &Address::zip).
template <Model T, class M>
FieldPath<M> field(M T::*member) {
  return FieldPath<M>(std::string(schema_of<T>().name_of(member)));
}
template <Model T, class M, class Next, class... Rest>
auto field(M T::*member, Next next, Rest... rest) {
  using Nested = typename detail::NestedModel<M>::type;
  static_assert(Model<Nested>, "only a nested model's members can follow in a field path");
  auto tail = field<Nested>(next, rest...);
  using Tail = typename decltype(tail)::member_type;
  return FieldPath<Tail>(std::string(schema_of<T>().name_of(member)) + "." + tail.path());
}

}  // namespace mongo_orm::model
