// Refusing values the connected server cannot store, before they reach it.
#include <cmath>
#include <string>

#include "internal.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::detail {

namespace {
[[noreturn]] void refuse(std::string_view target, const std::string& path, std::string_view what,
                         std::string_view capability) {
  throw InvalidRequestError(std::string(target) + ": field '" + path + "' holds " + std::string(what) +
                            ", which the server cannot store (server lacks capability " +
                            std::string(capability) + "); nothing was sent");
}

void walk(const Capabilities& caps, bson::DocumentView doc, bool inside_array, const std::string& prefix,
          std::string_view target) {
  for (bson::Element e : doc) {
    std::string path = prefix.empty() ? std::string(e.key()) : prefix + "." + std::string(e.key());
    switch (e.type()) {
      case bson::Type::decimal128:
        if (!caps.decimal128_values) refuse(target, path, "a Decimal128", "decimal128_values");
        break;
      case bson::Type::double_:
        if (!caps.nan_values && std::isnan(e.as_double())) refuse(target, path, "NaN", "nan_values");
        break;
      case bson::Type::document:
        walk(caps, e.as_document(), false, path, target);
        break;
      case bson::Type::array:
        if (inside_array && !caps.nested_arrays) refuse(target, path, "an array inside an array", "nested_arrays");
        walk(caps, e.as_array(), true, path, target);
        break;
      default:
        break;
    }
  }
}
}  // namespace

void check_payload(const Capabilities& caps, bson::DocumentView document, std::string_view target) {
  if (caps.decimal128_values && caps.nan_values && caps.nested_arrays) return;
  walk(caps, document, false, "", target);
}

}  // namespace mongo_orm::detail
