// Validation rules and defaults attached to schema fields:
//   .field(&User::age, "age", min(0), max(150), default_value(18))
#pragma once

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <type_traits>
#include <vector>

namespace mongo_orm::model {

// A rule bound to a field of type M: returns a message when the value breaks it.
template <class M>
using Rule = std::function<std::optional<std::string>(const M&)>;

struct Required {};
template <class V>
struct Min {
  V bound;
};
template <class V>
struct Max {
  V bound;
};
struct MinLength {
  std::size_t length;
};
struct MaxLength {
  std::size_t length;
};
struct Matches {
  std::string pattern;
};
template <class V>
struct OneOf {
  std::vector<V> choices;
};
template <class F>
struct Check {
  F predicate;
  std::string message;
};
template <class V>
struct DefaultValue {
  V value;
};
template <class F>
struct DefaultFactory {
  F factory;
};
// The stored name a field replaces: a hint for autogenerate, which then plans a rename (keeping
// the data) where it would otherwise see one field removed and another added.
struct RenamedFrom {
  std::string name;
};

// Fails on an empty optional, string, array or map.
inline Required required() { return {}; }
template <class V>
Min<V> min(V bound) {
  return {std::move(bound)};
}
template <class V>
Max<V> max(V bound) {
  return {std::move(bound)};
}
// Lengths count characters (UTF-8 code points) of strings and elements of arrays and maps.
inline MinLength min_length(std::size_t n) { return {n}; }
inline MaxLength max_length(std::size_t n) { return {n}; }
// The whole string must match (ECMAScript syntax).
inline Matches matches(std::string pattern) { return {std::move(pattern)}; }
template <class V>
OneOf<V> one_of(std::initializer_list<V> choices) {
  return {std::vector<V>(choices)};
}
inline OneOf<std::string> one_of(std::initializer_list<const char*> choices) {
  return {std::vector<std::string>(choices.begin(), choices.end())};
}
template <class F>
Check<F> check(F predicate, std::string message) {
  return {std::move(predicate), std::move(message)};
}
template <class V>
DefaultValue<V> default_value(V value) {
  return {std::move(value)};
}
template <class F>
DefaultFactory<F> default_factory(F factory) {
  return {std::move(factory)};
}
// .field(&User::email, "email", renamed_from("email_address")): the field was stored as
// "email_address" before (a name in the same document, not a path).
inline RenamedFrom renamed_from(std::string name) { return {std::move(name)}; }

namespace detail {
std::size_t utf8_length(const std::string& text);

template <class M>
struct Unwrapped {
  using type = M;
};
template <class M>
struct Unwrapped<std::optional<M>> {
  using type = M;
};

template <class M>
bool is_empty(const M& value) {
  if constexpr (requires { value.has_value(); }) {
    return !value.has_value() || is_empty(*value);
  } else if constexpr (requires { value.empty(); }) {
    return value.empty();
  } else {
    return false;
  }
}

// Applies `check` to the value, or to the contained value of a present optional.
template <class M, class F>
std::optional<std::string> on_value(const M& value, F check) {
  if constexpr (requires { value.has_value(); *value; }) {
    if (!value.has_value()) return std::nullopt;
    return check(*value);
  } else {
    return check(value);
  }
}

template <class V>
std::size_t length_of(const V& v) {
  if constexpr (std::is_same_v<V, std::string>) {
    return utf8_length(v);
  } else {
    return v.size();
  }
}

template <class M>
Rule<M> make_rule(Required) {
  return [](const M& v) -> std::optional<std::string> {
    if (is_empty(v)) return "is required";
    return std::nullopt;
  };
}
template <class M, class V>
Rule<M> make_rule(Min<V> rule) {
  return [rule](const M& v) {
    return on_value(v, [&](const auto& x) -> std::optional<std::string> {
      if (x < rule.bound) return "must be at least " + std::to_string(rule.bound);
      return std::nullopt;
    });
  };
}
template <class M, class V>
Rule<M> make_rule(Max<V> rule) {
  return [rule](const M& v) {
    return on_value(v, [&](const auto& x) -> std::optional<std::string> {
      if (rule.bound < x) return "must be at most " + std::to_string(rule.bound);
      return std::nullopt;
    });
  };
}
template <class M>
Rule<M> make_rule(MinLength rule) {
  return [rule](const M& v) {
    return on_value(v, [&](const auto& x) -> std::optional<std::string> {
      if (length_of(x) < rule.length) return "must have at least " + std::to_string(rule.length) + " characters or items";
      return std::nullopt;
    });
  };
}
template <class M>
Rule<M> make_rule(MaxLength rule) {
  return [rule](const M& v) {
    return on_value(v, [&](const auto& x) -> std::optional<std::string> {
      if (length_of(x) > rule.length) return "must have at most " + std::to_string(rule.length) + " characters or items";
      return std::nullopt;
    });
  };
}
template <class M>
Rule<M> make_rule(Matches rule) {
  auto compiled = std::make_shared<std::regex>(rule.pattern);
  return [compiled, pattern = rule.pattern](const M& v) {
    return on_value(v, [&](const std::string& x) -> std::optional<std::string> {
      if (!std::regex_match(x, *compiled)) return "must match /" + pattern + "/";
      return std::nullopt;
    });
  };
}
template <class M, class V>
Rule<M> make_rule(OneOf<V> rule) {
  return [rule](const M& v) {
    return on_value(v, [&](const auto& x) -> std::optional<std::string> {
      for (const auto& choice : rule.choices) {
        if (x == choice) return std::nullopt;
      }
      return "is not one of the allowed choices";
    });
  };
}
template <class M, class F>
Rule<M> make_rule(Check<F> rule) {
  return [rule](const M& v) -> std::optional<std::string> {
    if (!rule.predicate(v)) return rule.message;
    return std::nullopt;
  };
}
}  // namespace detail

}  // namespace mongo_orm::model
