// A count with its noun, for messages and reports: "1 document", "2 documents", "3 batches".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mongo_orm::detail {

inline std::string count_of(int64_t n, std::string_view noun) {
  std::string text = std::to_string(n) + " " + std::string(noun);
  if (n != 1) text += noun.ends_with("ch") || noun.ends_with("s") ? "es" : "s";
  return text;
}

}  // namespace mongo_orm::detail
