// Seed 000's SplitNameField as the update a transform returns: name.split(" ", 1) into
// first_name / last_name, name removed. Shared by the crash test and the migration benchmark.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/document.hpp"

namespace mongo_orm::testing {

// name.split(" ", 1): everything before the first space, and the rest ("" without a space).
inline std::pair<std::string, std::string> split_name(std::string_view name) {
  std::size_t space = name.find(' ');
  if (space == std::string_view::npos) return {std::string(name), ""};
  return {std::string(name.substr(0, space)), std::string(name.substr(space + 1))};
}

// The update for one person; nothing when `name` is missing or not a string.
inline std::optional<bson::Document> split_name_update(bson::DocumentView person) {
  auto name = person.find("name");
  if (!name || name->type() != bson::Type::string) return std::nullopt;
  auto [first, last] = split_name(name->as_string());
  return bson::Builder{}
      .append("$set", [&](bson::Builder& set) { set.append("first_name", first).append("last_name", last); })
      .append("$unset", [](bson::Builder& unset) { unset.append("name", ""); })
      .extract();
}

}  // namespace mongo_orm::testing
