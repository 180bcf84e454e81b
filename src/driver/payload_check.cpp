// Refusing values the connected server cannot store, before they reach it.
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "internal.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::detail {

namespace {

// The dotted path of the keys walked so far, built only when a value is refused.
std::string dotted(const std::vector<std::string_view>& keys) {
  std::string path;
  for (std::string_view key : keys) {
    if (!path.empty()) path += '.';
    path += key;
  }
  return path;
}

[[noreturn]] void refuse(std::string_view target, const std::vector<std::string_view>& keys, std::string_view what,
                         std::string_view capability) {
  throw InvalidRequestError(std::string(target) + ": field '" + dotted(keys) + "' holds " + std::string(what) +
                            ", which the server cannot store (server lacks capability " +
                            std::string(capability) + "); nothing was sent");
}

// libbson's iterator directly: this runs on every document written to a server that lacks
// one of the capabilities, so it allocates nothing and builds no path unless it refuses.
void walk(const Capabilities& caps, bson_iter_t& it, bool inside_array, std::vector<std::string_view>& keys,
          std::string_view target) {
  while (bson_iter_next(&it)) {
    switch (bson_iter_type(&it)) {
      case BSON_TYPE_DECIMAL128:
        if (!caps.decimal128_values) {
          keys.emplace_back(bson_iter_key(&it));
          refuse(target, keys, "a Decimal128", "decimal128_values");
        }
        break;
      case BSON_TYPE_DOUBLE:
        if (!caps.nan_values && std::isnan(bson_iter_double(&it))) {
          keys.emplace_back(bson_iter_key(&it));
          refuse(target, keys, "NaN", "nan_values");
        }
        break;
      case BSON_TYPE_DOCUMENT:
      case BSON_TYPE_ARRAY: {
        bool array = bson_iter_type(&it) == BSON_TYPE_ARRAY;
        keys.emplace_back(bson_iter_key(&it));
        if (array && inside_array && !caps.nested_arrays) refuse(target, keys, "an array inside an array", "nested_arrays");
        bson_iter_t child;
        if (bson_iter_recurse(&it, &child)) {
          if (!array && !caps.dbref_values) {
            bson_iter_t first = child;
            if (bson_iter_next(&first) && std::string_view(bson_iter_key(&first)) == "$ref") {
              refuse(target, keys, "a DBRef ({$ref, $id})", "dbref_values");
            }
          }
          walk(caps, child, array, keys, target);
        }
        keys.pop_back();
        break;
      }
      default:
        break;
    }
  }
}
}  // namespace

void check_payload(const Capabilities& caps, bson::DocumentView document, std::string_view target) {
  if (caps.decimal128_values && caps.nan_values && caps.nested_arrays && caps.dbref_values) return;
  std::vector<std::string_view> keys;
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, document.data(), document.length())) return;
  walk(caps, it, false, keys, target);
}

}  // namespace mongo_orm::detail
